#include "relay_clients.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static size_t hash(const sconed_relay_clients *t, const sconed_addr *a) {
  const uint8_t *p;
  size_t n;
  if (a->ss.ss_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)&a->ss;
    p = (const uint8_t *)&in->sin_addr;
    n = 4;
  } else {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->ss;
    p = (const uint8_t *)&in6->sin6_addr;
    n = 16;
  }
  uint64_t h = 1469598103934665603ULL ^ sconed_addr_port(a);
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 1099511628211ULL;
  return (size_t)(h % t->nbuckets);
}

int sconed_relay_clients_init(sconed_relay_clients *t, size_t max) {
  memset(t, 0, sizeof(*t));
  t->max = max;
  t->nbuckets = max < 64 ? 64 : max;
  t->bucket = calloc(t->nbuckets, sizeof(*t->bucket));
  return t->bucket ? 0 : -1;
}

void sconed_relay_clients_free(sconed_relay_clients *t) {
  for (size_t i = 0; t->bucket && i < t->nbuckets; i++) {
    sconed_relay_client *c = t->bucket[i];
    while (c) {
      sconed_relay_client *n = c->next;
      close(c->fd);
      free(c);
      c = n;
    }
  }
  free(t->bucket);
  memset(t, 0, sizeof(*t));
}

sconed_relay_client *sconed_relay_clients_find(sconed_relay_clients *t,
                                               const sconed_addr *a) {
  for (sconed_relay_client *c = t->bucket[hash(t, a)]; c; c = c->next)
    if (sconed_addr_equal(&c->addr, a))
      return c;
  return NULL;
}

sconed_relay_client *sconed_relay_clients_add(sconed_relay_clients *t,
                                              const sconed_addr *a, int fd) {
  if (t->count >= t->max)
    return NULL;
  sconed_relay_client *c = calloc(1, sizeof(*c));
  if (!c)
    return NULL;
  c->fd = fd;
  c->addr = *a;
  size_t h = hash(t, a);
  c->next = t->bucket[h];
  t->bucket[h] = c;
  t->count++;
  return c;
}

void sconed_relay_clients_sweep(sconed_relay_clients *t, scone_tstamp cutoff) {
  for (size_t i = 0; i < t->nbuckets; i++) {
    sconed_relay_client **pp = &t->bucket[i];
    while (*pp) {
      sconed_relay_client *c = *pp;
      if (c->last < cutoff && c->held == 0) {
        *pp = c->next;
        close(c->fd);
        free(c);
        t->count--;
      } else {
        pp = &c->next;
      }
    }
  }
}
