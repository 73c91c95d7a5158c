/*
 * The XDP path's per-subscriber monitoring, pure: each read of the flow
 * table hands it every SCONE flow's bytes since the last read and the
 * advice the flow holds this period, under its subscriber's key (a keyed
 * hash the program notes per flow; no address). A subscriber's sum and
 * the highest advice applied to any of its flows go through the same
 * rules one flow's bytes go through (bytemon.h over monitor.h), as the
 * engine's subscriber table sums its flows (engine_subs.c): a subscriber
 * whose flows together exceed the allowance of its advice is
 * non-conforming until a clean period. What the caller does with a
 * verdict (arm the program's shared bucket) is not here.
 */
#ifndef SCONED_XDP_AGG_H
#define SCONED_XDP_AGG_H

#include "bytemon.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sconed_xdp_agg_sub {
  uint32_t key;   /* never 0 */
  uint32_t flows; /* flows summed in the last read */
  uint32_t add[2];
  uint8_t sig[2]; /* the highest advice of its flows this read */
  uint8_t nc;     /* MON_NC bits after the last read: the verdict */
  uint8_t armed;  /* the caller's: directions it enforces now */
  sconed_bytemon bm;
} sconed_xdp_agg_sub;

typedef struct sconed_xdp_agg {
  sconed_xdp_agg_sub *s;
  size_t n, cap;
  uint32_t *idx; /* open addressing: index + 1 into s, 0 empty */
  size_t icap;   /* a power of two, at least twice n */
  uint64_t h;    /* half-period of the read being summed */
} sconed_xdp_agg;

void sconed_xdp_agg_init(sconed_xdp_agg *a);
void sconed_xdp_agg_free(sconed_xdp_agg *a);

/* Starts a read in half-period h: forgets subscribers with nothing left
 * to judge or enforce (no flow in the last read, no verdict, nothing
 * armed, no advice in the lookback). Returns 0 or -1 (out of memory). */
int sconed_xdp_agg_begin(sconed_xdp_agg *a, uint64_t h);

/* Adds one flow of subscriber key (not 0): add16[d] bytes/16 since the
 * last read, sig[d] the advice it holds from this period
 * (SCONE_SIGNAL_UNKNOWN: none). Returns 0 or -1 (out of memory: the flow
 * is not summed). */
int sconed_xdp_agg_add(sconed_xdp_agg *a, uint32_t key, const uint32_t add16[2],
                       const uint8_t sig[2]);

/* Judges every subscriber known (those without a flow this read too, so
 * their history moves on and a mark can be forgiven) with allow16
 * (sconed_engine_allowance). Afterwards a->s[i].nc is subscriber i's
 * verdict and a->s[i].bm.marked[d] says it became non-conforming in
 * direction d at this read. */
void sconed_xdp_agg_end(sconed_xdp_agg *a, const uint64_t *allow16);

/* Subscriber key's state, or NULL. */
sconed_xdp_agg_sub *sconed_xdp_agg_find(const sconed_xdp_agg *a, uint32_t key);

#endif
