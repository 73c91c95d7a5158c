/*
 * Per-subscriber state: a fixed number of slots allocated up front, each
 * one cache line, found by a 64-bit keyed hash of the subscriber's address
 * (an IPv4 address, or an IPv6 prefix). No address is stored, and the hash
 * key is random in live mode, so the table holds no identifier.
 *
 * Flows point at their subscriber's slot by index, so slots never move:
 * a subscriber lives in one of two buckets of 8 and stays in its slot
 * until it has no flow in the flow table and its history is spent (see
 * sconed_ssub_reusable). When both buckets are full of live subscribers,
 * a new one is not tracked.
 */
#ifndef SCONED_SUB_TABLE_H
#define SCONED_SUB_TABLE_H

#include "keyed_hash.h"

#include <stddef.h>
#include <stdint.h>

#define SCONED_SSUB_BUCKET 8
/* Slots are indexed by 24 bits in a flow, one value meaning none. */
#define SCONED_MAX_SSUB 0xfffff0U

typedef struct sconed_ssub {
  uint64_t tag;      /* keyed hash; 0 = free slot */
  uint32_t cur[2];   /* per scone_dir: bytes/16 in half pidx, all flows */
  uint32_t prev[2];  /* the half before */
  int32_t tokens[2]; /* aggregate token buckets, bytes */
  uint32_t pidx;     /* monitoring half-period of cur[] (monitor.h) */
  uint32_t nflows;   /* flows in the flow table pointing here */
  uint32_t tok_time; /* last token refill, 2^20 ns units */
  uint16_t stat;     /* plan slot its nonconforming gauge counts in */
  uint8_t max_sig[2][3];
  uint8_t nc; /* monitor.h bits */
  uint8_t pad[11];
} sconed_ssub;

_Static_assert(sizeof(sconed_ssub) == 64, "one cache line per subscriber");

typedef struct sconed_ssub_table {
  sconed_ssub *s;
  size_t nbuckets; /* 0: per-subscriber monitoring off */
  size_t nslots;
  size_t count;
  size_t sweep; /* next bucket the idle sweep looks at */
  uint64_t key[4];
} sconed_ssub_table;

/* max 0 makes an empty table (no tracking). Returns 0 or -1. */
int sconed_ssub_init(sconed_ssub_table *t, size_t max, const uint64_t key[4]);
void sconed_ssub_free(sconed_ssub_table *t);

/* The keyed hash of a subscriber: family (4 or 6) and address, of which
 * the first plen bits count. Never 0. */
uint64_t sconed_ssub_hash(const sconed_ssub_table *t, int family,
                          const uint8_t *addr, unsigned plen);

/* A subscriber's tag made distinct per salt (a tunnel's TEID when the
 * config keys subscribers on it); salt 0 leaves it as it is. Never 0. */
static inline uint64_t sconed_ssub_salted(const sconed_ssub_table *t,
                                          uint64_t tag, uint64_t salt) {
  return salt ? sconed_mix(tag ^ salt, t->key[3]) | 1 : tag;
}

/* The slot of tag, or -1. */
long sconed_ssub_find(const sconed_ssub_table *t, uint64_t tag);

/* A free (or reusable, per the callback) slot in tag's buckets, or -1.
 * The slot is not claimed: the caller fills it. */
long sconed_ssub_place(const sconed_ssub_table *t, uint64_t tag,
                       int (*reusable)(const sconed_ssub *, void *), void *arg);

#endif
