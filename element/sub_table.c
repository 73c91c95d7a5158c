#include "sub_table.h"

#include "keyed_hash.h"
#include "table_mem.h"

#include <stdlib.h>
#include <string.h>

int sconed_ssub_init(sconed_ssub_table *t, size_t max, const uint64_t key[4]) {
  memset(t, 0, sizeof(*t));
  memcpy(t->key, key, sizeof(t->key));
  if (max == 0)
    return 0;
  if (max > SCONED_MAX_SSUB)
    return -1;
  t->nbuckets = (max + SCONED_SSUB_BUCKET - 1) / SCONED_SSUB_BUCKET;
  t->nslots = t->nbuckets * SCONED_SSUB_BUCKET;
  t->s = sconed_table_mem(t->nslots * sizeof(*t->s));
  return t->s ? 0 : -1;
}

void sconed_ssub_free(sconed_ssub_table *t) {
  free(t->s);
  t->s = NULL;
}

uint64_t sconed_ssub_hash(const sconed_ssub_table *t, int family,
                          const uint8_t *addr, unsigned plen) {
  uint8_t a[16] = {0};
  unsigned bytes = family == 6 ? 16 : 4;
  if (plen > bytes * 8)
    plen = bytes * 8;
  memcpy(a, addr, plen / 8);
  if (plen % 8)
    a[plen / 8] = (uint8_t)(addr[plen / 8] & (0xff00U >> (plen % 8)));
  /* Family and length go into the hash so that 10.0.0.1 and ::a00:1, or a
   * /64 and a /128 with the same leading bits, never share a slot. */
  uint64_t meta = ((uint64_t)family << 8 | plen) << 48;
  uint64_t h = sconed_mix(sconed_load64(a) ^ t->key[0],
                          sconed_load64(a + 8) ^ meta ^ t->key[1]);
  h = sconed_mix(h ^ t->key[2], t->key[3]);
  return h | 1;
}

static size_t bucket(const sconed_ssub_table *t, uint64_t tag, int second) {
  uint64_t x = second ? (tag & 0xffffffffU) : tag >> 32;
  return (size_t)((x * (uint64_t)t->nbuckets) >> 32) * SCONED_SSUB_BUCKET;
}

long sconed_ssub_find(const sconed_ssub_table *t, uint64_t tag) {
  if (!t->nbuckets)
    return -1;
  for (int k = 0; k < 2; k++) {
    size_t b = bucket(t, tag, k);
    for (size_t i = b; i < b + SCONED_SSUB_BUCKET; i++)
      if (t->s[i].tag == tag)
        return (long)i;
  }
  return -1;
}

long sconed_ssub_place(const sconed_ssub_table *t, uint64_t tag,
                       int (*reusable)(const sconed_ssub *, void *),
                       void *arg) {
  if (!t->nbuckets)
    return -1;
  long reuse = -1;
  for (int k = 0; k < 2; k++) {
    size_t b = bucket(t, tag, k);
    for (size_t i = b; i < b + SCONED_SSUB_BUCKET; i++) {
      if (!t->s[i].tag)
        return (long)i;
      if (reuse < 0 && reusable(&t->s[i], arg))
        reuse = (long)i;
    }
  }
  return reuse;
}
