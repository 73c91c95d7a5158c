#include "xdp_agg.h"

#include <stdlib.h>
#include <string.h>

void sconed_xdp_agg_init(sconed_xdp_agg *a) {
  memset(a, 0, sizeof(*a));
}

void sconed_xdp_agg_free(sconed_xdp_agg *a) {
  free(a->s);
  free(a->idx);
  memset(a, 0, sizeof(*a));
}

static size_t slot_of(uint32_t key, size_t icap) {
  /* Keys are already keyed hashes: spread, not secret. */
  return (size_t)(key * 0x9e3779b1U) & (icap - 1);
}

static int reindex(sconed_xdp_agg *a, size_t want) {
  size_t icap = a->icap ? a->icap : 64;
  while (icap < 2 * want)
    icap *= 2;
  if (icap != a->icap) {
    uint32_t *ni = malloc(icap * sizeof(*ni));
    if (!ni)
      return -1;
    free(a->idx);
    a->idx = ni;
    a->icap = icap;
  }
  memset(a->idx, 0, a->icap * sizeof(*a->idx));
  for (size_t i = 0; i < a->n; i++) {
    size_t j = slot_of(a->s[i].key, a->icap);
    while (a->idx[j])
      j = (j + 1) & (a->icap - 1);
    a->idx[j] = (uint32_t)(i + 1);
  }
  return 0;
}

sconed_xdp_agg_sub *sconed_xdp_agg_find(const sconed_xdp_agg *a, uint32_t key) {
  if (!a->icap)
    return NULL;
  for (size_t j = slot_of(key, a->icap);; j = (j + 1) & (a->icap - 1)) {
    uint32_t v = a->idx[j];
    if (!v)
      return NULL;
    if (a->s[v - 1].key == key)
      return &a->s[v - 1];
  }
}

/* Nothing a read could still judge or forgive: no advice in the lookback
 * and no bytes in the window. */
static int spent(const sconed_xdp_agg_sub *s) {
  if (s->flows || s->nc || s->armed)
    return 0;
  for (int d = 0; d < 2; d++)
    if (mon_advised(s->bm.ms[d]) || s->bm.cur[d] || s->bm.prev[d])
      return 0;
  return 1;
}

int sconed_xdp_agg_begin(sconed_xdp_agg *a, uint64_t h) {
  size_t k = 0;
  for (size_t i = 0; i < a->n; i++) {
    if (spent(&a->s[i]))
      continue;
    a->s[k] = a->s[i];
    sconed_xdp_agg_sub *s = &a->s[k++];
    s->flows = 0;
    s->add[0] = s->add[1] = 0;
    s->sig[0] = s->sig[1] = SCONE_SIGNAL_UNKNOWN;
  }
  int changed = k != a->n;
  a->n = k;
  a->h = h;
  return changed || !a->icap ? reindex(a, a->n) : 0;
}

int sconed_xdp_agg_add(sconed_xdp_agg *a, uint32_t key, const uint32_t add16[2],
                       const uint8_t sig[2]) {
  sconed_xdp_agg_sub *s = sconed_xdp_agg_find(a, key);
  if (!s) {
    if (a->n == a->cap) {
      size_t cap = a->cap ? a->cap * 2 : 64;
      sconed_xdp_agg_sub *ns = realloc(a->s, cap * sizeof(*ns));
      if (!ns)
        return -1;
      a->s = ns;
      a->cap = cap;
    }
    if (2 * (a->n + 1) > a->icap && reindex(a, a->n + 1))
      return -1;
    s = &a->s[a->n++];
    memset(s, 0, sizeof(*s));
    s->key = key;
    s->sig[0] = s->sig[1] = SCONE_SIGNAL_UNKNOWN;
    sconed_bytemon_init(&s->bm, a->h);
    size_t j = slot_of(key, a->icap);
    while (a->idx[j])
      j = (j + 1) & (a->icap - 1);
    a->idx[j] = (uint32_t)a->n;
  }
  s->flows++;
  for (int d = 0; d < 2; d++) {
    mon_add(&s->add[d], add16[d]);
    /* engine.c apply_advice: the subscriber's advice is the highest
     * applied to any of its flows. */
    if (sig[d] != SCONE_SIGNAL_UNKNOWN &&
        (s->sig[d] == SCONE_SIGNAL_UNKNOWN || sig[d] > s->sig[d]))
      s->sig[d] = sig[d];
  }
  return 0;
}

void sconed_xdp_agg_end(sconed_xdp_agg *a, const uint64_t *allow16) {
  for (size_t i = 0; i < a->n; i++) {
    sconed_xdp_agg_sub *s = &a->s[i];
    if (a->h < s->bm.h) /* a shorter period after a reload */
      sconed_bytemon_init(&s->bm, a->h);
    s->nc =
        (uint8_t)(sconed_bytemon_step(&s->bm, allow16, a->h, s->add, s->sig) &
                  MON_NC_ANY);
  }
}
