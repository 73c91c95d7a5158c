/* An open-addressing hash table keyed on the unordered endpoint pair, so
 * both directions of a flow land on the same entry. */
#include "flows.h"

#include <stdlib.h>
#include <string.h>

typedef struct endpoint {
  uint8_t addr[16]; /* IPv4 in the first 4 bytes, rest zero */
  uint16_t port;
} endpoint;

typedef struct flow {
  uint8_t used;
  uint8_t addrlen; /* 4 or 16: keeps IPv4 and IPv6 tuples apart */
  endpoint client, server;
} flow;

struct flow_table {
  flow *slots;
  size_t cap; /* a power of two */
  size_t count;
};

static int ep_equal(const endpoint *a, const endpoint *b) {
  return a->port == b->port && memcmp(a->addr, b->addr, 16) == 0;
}

static int ep_cmp(const endpoint *a, const endpoint *b) {
  int c = memcmp(a->addr, b->addr, 16);
  return c ? c : (int)a->port - (int)b->port;
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n) {
  const uint8_t *b = p;
  for (size_t i = 0; i < n; i++) {
    h ^= b[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

static uint64_t ep_hash(uint64_t h, const endpoint *e) {
  uint8_t port[2] = {(uint8_t)(e->port >> 8), (uint8_t)e->port};
  return fnv1a(fnv1a(h, e->addr, 16), port, 2);
}

static uint64_t flow_hash(size_t addrlen, const endpoint *x,
                          const endpoint *y) {
  uint8_t len = (uint8_t)addrlen;
  uint64_t h = fnv1a(0xcbf29ce484222325ULL, &len, 1);
  if (ep_cmp(x, y) > 0) {
    const endpoint *t = x;
    x = y;
    y = t;
  }
  return ep_hash(ep_hash(h, x), y);
}

flow_table *flow_table_new(void) {
  flow_table *t = calloc(1, sizeof *t);
  if (!t)
    return NULL;
  t->cap = 64;
  t->slots = calloc(t->cap, sizeof *t->slots);
  if (!t->slots) {
    free(t);
    return NULL;
  }
  return t;
}

void flow_table_free(flow_table *t) {
  if (t)
    free(t->slots);
  free(t);
}

static flow *probe(flow *slots, size_t cap, size_t addrlen, const endpoint *a,
                   const endpoint *b) {
  size_t i = (size_t)flow_hash(addrlen, a, b) & (cap - 1);
  for (;; i = (i + 1) & (cap - 1)) {
    flow *f = &slots[i];
    if (!f->used)
      return f;
    if (f->addrlen == addrlen &&
        ((ep_equal(&f->client, a) && ep_equal(&f->server, b)) ||
         (ep_equal(&f->client, b) && ep_equal(&f->server, a))))
      return f;
  }
}

static int grow(flow_table *t) {
  size_t cap = t->cap * 2;
  flow *slots = calloc(cap, sizeof *slots);
  if (!slots)
    return -1;
  for (size_t i = 0; i < t->cap; i++) {
    const flow *f = &t->slots[i];
    if (f->used)
      *probe(slots, cap, f->addrlen, &f->client, &f->server) = *f;
  }
  free(t->slots);
  t->slots = slots;
  t->cap = cap;
  return 0;
}

int flow_direction(flow_table *t, const uint8_t *src, uint16_t sport,
                   const uint8_t *dst, uint16_t dport, size_t addrlen) {
  endpoint s = {{0}, sport}, d = {{0}, dport};
  memcpy(s.addr, src, addrlen);
  memcpy(d.addr, dst, addrlen);
  flow *f = probe(t->slots, t->cap, addrlen, &s, &d);
  if (f->used)
    return ep_equal(&f->client, &s) ? FLOW_C2S : FLOW_S2C;
  /* Half full at most, so probes stay short and always find a free slot. */
  if ((t->count + 1) * 2 > t->cap) {
    if (grow(t))
      return -1;
    f = probe(t->slots, t->cap, addrlen, &s, &d);
  }
  f->used = 1;
  f->addrlen = (uint8_t)addrlen;
  f->client = s;
  f->server = d;
  t->count++;
  return FLOW_C2S;
}
