#include "lpm.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

void sconed_lpm_init(sconed_lpm *l) {
  memset(l, 0, sizeof(*l));
}

void sconed_lpm_free(sconed_lpm *l) {
  free(l->e);
  sconed_lpm_init(l);
}

static void mask(uint8_t *a, unsigned plen, size_t alen) {
  for (size_t i = 0; i < alen; i++) {
    unsigned bits = plen >= (i + 1) * 8 ? 8 : plen > i * 8 ? plen - i * 8 : 0;
    a[i] &= (uint8_t)(0xff00U >> bits);
  }
  for (size_t i = alen; i < 16; i++)
    a[i] = 0;
}

int sconed_lpm_add(sconed_lpm *l, int family, const uint8_t *addr,
                   unsigned plen, uint32_t value) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    sconed_lpm_entry *e = realloc(l->e, cap * sizeof(*e));
    if (!e)
      return -1;
    l->e = e;
    l->cap = cap;
  }
  sconed_lpm_entry *e = &l->e[l->n++];
  memset(e, 0, sizeof(*e));
  size_t alen = family == 4 ? 4 : 16;
  memcpy(e->addr, addr, alen);
  mask(e->addr, plen, alen);
  e->plen = (uint8_t)plen;
  e->family = (uint8_t)family;
  e->value = value;
  return 0;
}

static int cmp_entry(const void *pa, const void *pb) {
  const sconed_lpm_entry *a = pa, *b = pb;
  if (a->family != b->family)
    return a->family < b->family ? -1 : 1;
  if (a->plen != b->plen)
    return a->plen > b->plen ? -1 : 1;
  int c = memcmp(a->addr, b->addr, 16);
  if (c)
    return c;
  return a->value < b->value ? -1 : a->value > b->value;
}

size_t sconed_lpm_build(sconed_lpm *l) {
  if (l->n)
    qsort(l->e, l->n, sizeof(*l->e), cmp_entry);
  l->nlen[0] = l->nlen[1] = 0;
  for (size_t i = 0; i < l->n; i++) {
    const sconed_lpm_entry *e = &l->e[i];
    if (i > 0 && e->family == l->e[i - 1].family &&
        e->plen == l->e[i - 1].plen && !memcmp(e->addr, l->e[i - 1].addr, 16))
      return (size_t)e->value + 1;
    unsigned f = e->family == 4 ? 0 : 1;
    unsigned k = l->nlen[f];
    if (k == 0 || l->len[f][k - 1].plen != e->plen) {
      l->len[f][k].plen = e->plen;
      l->len[f][k].lo = (uint32_t)i;
      l->nlen[f] = ++k;
    }
    l->len[f][k - 1].hi = (uint32_t)i + 1;
  }
  return 0;
}

int sconed_lpm_lookup(const sconed_lpm *l, int family, const uint8_t *addr,
                      uint32_t *value, unsigned *plen) {
  unsigned f = family == 4 ? 0 : 1;
  size_t alen = family == 4 ? 4 : 16;
  for (unsigned k = 0; k < l->nlen[f]; k++) {
    const struct sconed_lpm_len *r = &l->len[f][k];
    uint8_t key[16];
    memcpy(key, addr, alen);
    mask(key, r->plen, alen);
    size_t lo = r->lo, hi = r->hi;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      int c = memcmp(l->e[mid].addr, key, 16);
      if (c == 0) {
        *value = l->e[mid].value;
        if (plen)
          *plen = r->plen;
        return 0;
      }
      if (c < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  }
  return -1;
}

int sconed_prefix_parse(const char *s, int *family, uint8_t addr[16],
                        unsigned *plen) {
  char buf[INET6_ADDRSTRLEN + 8];
  size_t n = strlen(s);
  if (n == 0 || n >= sizeof(buf))
    return -1;
  memcpy(buf, s, n + 1);
  char *slash = strchr(buf, '/');
  if (slash)
    *slash = '\0';
  memset(addr, 0, 16);
  unsigned max;
  if (inet_pton(AF_INET, buf, addr) == 1) {
    *family = 4;
    max = 32;
  } else if (inet_pton(AF_INET6, buf, addr) == 1) {
    *family = 6;
    max = 128;
  } else {
    return -1;
  }
  unsigned len = max;
  if (slash) {
    const char *p = slash + 1;
    if (*p < '0' || *p > '9')
      return -1;
    len = 0;
    for (; *p; p++) {
      if (*p < '0' || *p > '9' || len > max)
        return -1;
      len = len * 10 + (unsigned)(*p - '0');
    }
    if (len > max)
      return -1;
  }
  uint8_t m[16];
  memcpy(m, addr, 16);
  mask(m, len, max / 8);
  if (memcmp(m, addr, 16))
    return -1; /* host bits set: almost always a typo */
  *plen = len;
  return 0;
}
