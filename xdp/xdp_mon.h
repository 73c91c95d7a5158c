/*
 * The live XDP path's monitoring loop, user space side: a few times a
 * period it reads every flow's byte counters and the advice the program
 * applied (the flow map, mapped read-only), judges each SCONE flow with
 * the engine's rules (element/bytemon.h over monitor.h) and arms the
 * program's policer for a flow found non-conforming, in the direction
 * found so, at its subscriber's enforcement rate; it disarms it when the
 * rules forgive the flow. The same read sums each subscriber's SCONE flows
 * (xdp_agg.h) and arms one bucket shared by all of a non-conforming
 * subscriber's flows. No address is read or kept: flows are known by the
 * program's keyed fingerprint, subscribers by a keyed hash.
 */
#ifndef SCONED_XDP_MON_H
#define SCONED_XDP_MON_H

#include "engine.h"
#include "xdp_path.h"

#include <stdint.h>

typedef struct sconed_xdp_mon sconed_xdp_mon;

typedef struct sconed_xdp_mon_stats {
  uint64_t scans;              /* reads of the flow table */
  uint64_t flows;              /* gauge: flows in the table at the last read */
  uint64_t judged;             /* gauge: SCONE flows holding advice */
  uint64_t nonconforming;      /* gauge: flows over their advice (policed) */
  uint64_t transitions;        /* times a flow became non-conforming */
  uint64_t forgiven;           /* times a policed flow was released */
  uint64_t police_errors;      /* map updates that failed (map full) */
  uint64_t subs;               /* gauge: subscribers with SCONE flows tracked */
  uint64_t subs_nonconforming; /* gauge: subscribers policed as a whole */
  uint64_t sub_transitions;    /* times a subscriber became non-conforming
                                  (per direction) */
  uint64_t sub_released;       /* times a policed subscriber was released */
  uint64_t scan_ns_last;       /* how long the last read took */
} sconed_xdp_mon_stats;

/* NULL with a reason in err. */
sconed_xdp_mon *sconed_xdp_mon_new(sconed_xdp *x, char *err, size_t errlen);
void sconed_xdp_mon_free(sconed_xdp_mon *m);

/* The interval between reads for a monitoring period (ns): an eighth of
 * it, from 50 ms to 250 ms. */
uint64_t sconed_xdp_mon_interval(uint64_t period);

/* One read at now (the program's clock: CLOCK_MONOTONIC_COARSE), judged
 * with e's allowance and period; flows marked or forgiven are logged
 * (no identifier). Returns 0 or -1. */
int sconed_xdp_mon_scan(sconed_xdp_mon *m, const sconed_engine *e,
                        uint64_t now);

void sconed_xdp_mon_stats_get(const sconed_xdp_mon *m, sconed_xdp_mon_stats *s);

#endif
