/*
 * The flow table: a fixed number of flow slots allocated up front, found by
 * a 64-bit keyed fingerprint of the address tuple. Slots are grouped in
 * buckets of 8 (one cache line of fingerprints); a flow lives in one of two
 * buckets chosen by its fingerprint, which keeps probes bounded whatever an
 * attacker sends and lets the table fill to ~95% before a bucket overflows.
 *
 * No addresses are stored: two tuples with the same fingerprint (odds
 * about n / 2^64 per new flow) would share state, which costs at most a
 * mistaken rewrite budget, never memory safety.
 */
#ifndef SCONED_FLOW_TABLE_H
#define SCONED_FLOW_TABLE_H

#include "keyed_hash.h"

#include <scone/scone.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define SCONED_BUCKET_SLOTS 8

/* Flow flags. A and B are the tuple's endpoints in canonical order. */
enum {
  FL_INIT_A = 1U << 0,   /* the subscriber side (initiator) is A */
  FL_QUIC = 1U << 1,     /* classified: looks like QUIC */
  FL_NOT_QUIC = 1U << 2, /* classified: not QUIC, never modified */
  FL_ANNOUNCED = 1U << 3,
  FL_SCONE = 1U << 4, /* a SCONE packet was seen: SCONE-active */
  FL_SEEN_A = 1U << 5,
  FL_SEEN_B = 1U << 6,
  /* Bits 7..10 use the monitor's layout (monitor.h), shifted by 7, so
   * flows and subscribers share one window implementation. */
  FL_NC_UP = 1U << 7, /* non-conforming, per direction (scone_dir) */
  FL_NC_DOWN = 1U << 8,
  FL_NCFULL_UP = 1U << 9, /* non-conforming since a period start */
  FL_NCFULL_DOWN = 1U << 10,
  FL_NO_SUB = 1U << 11, /* neither side is a subscriber */
  /* Bits 12..13: of the first few datagrams, how many looked like QUIC;
   * only meaningful until the flow is classified (the count kept before
   * the deciding datagram is at most SCONED_CLASSIFY_PACKETS - 1 = 3). */
  FL_QUICISH_SHIFT = 12,
  FL_QUICISH_MASK = 3U << 12,
  /* Once classified, bits 12..13 say, per scone_dir, that an advice
   * change already reopened the early rewrites this period: advice that
   * keeps changing must not make every SCONE packet a rewrite. */
  FL_REBURST_UP = 1U << 12,
  FL_REBURST_DOWN = 1U << 13,
  /* Both ends match subscriber prefixes equally and nothing told which
   * one is the client: no advice is written (it could go the wrong way). */
  FL_DIR_UNKNOWN = 1U << 14,
  /* The subscriber table had no room this period: do not look again
   * before the next one. */
  FL_SSUB_FULL = 1U << 15,
};
#define FL_MON_SHIFT 7

/* No subscriber-state slot (flow_table's ssub field is 24 bits). */
#define SCONED_NO_SSUB 0xffffffU

/* 56 bytes; with its 8-byte fingerprint a flow costs 64 bytes. Counters
 * are in 16-byte units (floor), which monitors slightly loosely, as the
 * draft allows, and reach 64 GiB per period (8 Gbit/s sustained). */
typedef struct sconed_flow {
  uint32_t last_seen; /* now >> 20 (~1.05 ms units), wraps every 52 days */
  /* Subscriber entry of config generation gen (below
   * SCONED_MAX_SUBSCRIBERS, 22 bits). */
  unsigned sub : 22;
  /* The owner the flow's slot is charged to (sconed_flow_owner), split
   * over spare bits of sub and stat. */
  unsigned owner_lo : 10;
  unsigned npkts : 8; /* packets seen, saturating at 255 */
  unsigned ssub : 24; /* subscriber-state slot (sub_table.h) or NO_SSUB */
  /* Monitoring half-period of cur[] (monitor.h), low 16 bits: a flow
   * idle for 2^16 of them (25 days; 9 hours at a 1 s lab period) is long
   * gone from the table. */
  uint16_t pidx;
  uint16_t gen;
  /* Per-plan metrics slot, up to SCONED_NO_STAT (1024). */
  uint16_t stat : 11;
  uint16_t owner_hi : 5;
  uint16_t flags;
  uint32_t cur[2];       /* per scone_dir: bytes/16 in half-period pidx */
  uint32_t prev[2];      /* the half before */
  int32_t tokens[2];     /* enforcement token buckets, bytes */
  uint8_t max_sig[2][3]; /* highest advice applied in period pidx/2, -1, -2 */
  uint8_t target[2];     /* advice last applied (127: none yet) */
  uint8_t initial[2];    /* rewrites since start or last advice change */
  uint8_t slot[2];       /* rewrite slot of the last rewrite, mod 256 */
} sconed_flow;

_Static_assert(sizeof(sconed_flow) == 56, "flow state must stay compact");

/* Slot owners (engine.c, admission): a flow's slot is charged to its
 * subscriber, by a keyed hash into SCONED_OWNERS counters, or to the one
 * pool of flows with no subscriber side. 15 bits in the flow. */
#define SCONED_OWNER_BITS 15
#define SCONED_OWNER_POOL ((1U << SCONED_OWNER_BITS) - 1)
#define SCONED_OWNERS (1U << SCONED_OWNER_BITS)

static inline unsigned sconed_flow_owner(const sconed_flow *f) {
  return f->owner_lo | (unsigned)f->owner_hi << 10;
}

static inline void sconed_flow_set_owner(sconed_flow *f, unsigned o) {
  f->owner_lo = o & 0x3ffU;
  f->owner_hi = (uint16_t)(o >> 10) & 0x1fU;
}

/* Period and config generation in one word: a flow whose epoch is the
 * engine's needs neither a roll-over nor a re-resolve. */
static inline uint32_t sconed_flow_epoch(const sconed_flow *f) {
  return (uint32_t)f->gen << 16 | f->pidx;
}

typedef struct sconed_table {
  uint64_t *tags; /* fingerprint per slot; 0 = empty */
  sconed_flow *flows;
  size_t nbuckets;
  size_t nslots;
  size_t count;
  size_t sweep; /* next slot the idle sweep looks at */
  uint64_t key[8];
} sconed_table;

int sconed_table_init(sconed_table *t, size_t max_flows, const uint64_t key[8]);
void sconed_table_free(sconed_table *t);

/*
 * Keyed fingerprint of a tuple, the same for both directions so both find
 * one entry. The ends are ordered (A is the lower: by address and port for
 * IPv4, by the ends' own keyed hashes for IPv6) and *src_is_a tells which
 * end sent this packet. Ports are as on the wire (network byte order):
 * they are only hashed and compared, so the packet path does not swap
 * them. The mixing is multiply-xor with a random 512-bit key (wyhash's
 * construction): fast enough for the per-packet path and, without the
 * key, an attacker cannot aim tuples at one bucket.
 */
static inline uint64_t sconed_fingerprint(const uint64_t key[8], int ipv6,
                                          const uint8_t *src,
                                          const uint8_t *dst, uint16_t sport_n,
                                          uint16_t dport_n, int *src_is_a) {
  uint64_t h;
  int a_is_src;
  if (!ipv6) {
    uint64_t s = ((uint64_t)sconed_load32(src) << 16) | sport_n;
    uint64_t d = ((uint64_t)sconed_load32(dst) << 16) | dport_n;
    a_is_src = s <= d;
    uint64_t lo = a_is_src ? s : d, hi = a_is_src ? d : s;
    h = sconed_mix(lo ^ key[0], hi ^ key[1]);
  } else {
    /* Each end (address and port) hashed on its own, then combined in
     * an order-free way: no 128-bit compare (a branch on random
     * addresses) and no selects. The port is folded into the address's
     * first two bytes: two ends alias only if their addresses differ
     * there alone, by exactly their ports' difference. Equal end hashes
     * (one end talking to itself) make both directions say "A". */
    uint64_t es = sconed_mix(sconed_load64(src) ^ sport_n ^ key[0],
                             sconed_load64(src + 8) ^ key[1]);
    uint64_t ed = sconed_mix(sconed_load64(dst) ^ dport_n ^ key[0],
                             sconed_load64(dst + 8) ^ key[1]);
    a_is_src = es <= ed;
    h = sconed_mix((es + ed) ^ key[2], (es ^ ed) ^ key[3]);
    *src_is_a = a_is_src;
    return h | 1;
  }
  *src_is_a = a_is_src;
  h = sconed_mix(h ^ key[6], key[7]);
  return h | 1; /* 0 marks an empty slot */
}

/* A 32-bit half of a fingerprint scaled to a bucket number. */
static inline size_t sconed_bucket_of(uint32_t half, size_t nbuckets) {
  return (size_t)(((uint64_t)half * nbuckets) >> 32);
}

static inline size_t sconed_bucket1(const sconed_table *t, uint64_t fp) {
  return sconed_bucket_of((uint32_t)(fp >> 32), t->nbuckets);
}

static inline size_t sconed_bucket2(const sconed_table *t, uint64_t fp) {
  return sconed_bucket_of((uint32_t)fp, t->nbuckets);
}

/* Only the first bucket: it holds most flows (see admit in engine.c), and
 * fetching the second for all would cost more bandwidth than the few
 * misses it saves. Returns that bucket's start, for sconed_table_find_at. */
static inline size_t sconed_tags_prefetch(const uint64_t *tags, size_t nbuckets,
                                          uint64_t fp) {
  size_t b =
      sconed_bucket_of((uint32_t)(fp >> 32), nbuckets) * SCONED_BUCKET_SLOTS;
  __builtin_prefetch(tags + b);
  return b;
}

/* The slot holding fp in the bucket starting at b, or -1. */
static inline long sconed_bucket_match(const uint64_t *tags, size_t b,
                                       uint64_t fp) {
  const uint64_t *tg = tags + b;
#ifdef __SSE2__
  /* All eight tags at once and no branch until the end: the position is
   * random, so an early exit would mostly buy a mispredicted branch. The
   * 32-bit halves are compared and packed down to one byte each; a slot
   * matches when both of its bytes do. */
  __m128i k = _mm_set1_epi64x((long long)fp);
  const __m128i *v = (const __m128i *)tg; /* buckets are 64-byte aligned */
  __m128i c0 = _mm_cmpeq_epi32(_mm_load_si128(v), k);
  __m128i c1 = _mm_cmpeq_epi32(_mm_load_si128(v + 1), k);
  __m128i c2 = _mm_cmpeq_epi32(_mm_load_si128(v + 2), k);
  __m128i c3 = _mm_cmpeq_epi32(_mm_load_si128(v + 3), k);
  __m128i p = _mm_packs_epi16(_mm_packs_epi32(c0, c1), _mm_packs_epi32(c2, c3));
  unsigned m = (unsigned)_mm_movemask_epi8(p);
  m &= (m >> 1) & 0x5555U;
  return m ? (long)(b + ((unsigned)__builtin_ctz(m) >> 1)) : -1;
#else
  for (unsigned i = 0; i < SCONED_BUCKET_SLOTS; i++)
    if (tg[i] == fp)
      return (long)(b + i);
  return -1;
#endif
}

/* The slot holding fp, or -1, when the caller already has the first
 * bucket's start b1 (sconed_bucket1 * SCONED_BUCKET_SLOTS). */
static inline long sconed_table_find_at(const uint64_t *tags, size_t nbuckets,
                                        size_t b1, uint64_t fp) {
  long s = sconed_bucket_match(tags, b1, fp);
  if (s >= 0)
    return s;
  return sconed_bucket_match(
      tags, sconed_bucket_of((uint32_t)fp, nbuckets) * SCONED_BUCKET_SLOTS, fp);
}

/* The slot holding fp, or -1. */
static inline long sconed_table_find(const sconed_table *t, uint64_t fp) {
  return sconed_table_find_at(t->tags, t->nbuckets,
                              sconed_bucket1(t, fp) * SCONED_BUCKET_SLOTS, fp);
}

#endif
