/*
 * Monitoring of one flow from byte counts a datapath keeps elsewhere (the
 * XDP program counts a flow's payload bytes in the kernel; user space
 * reads them a few times a period). The rules are monitor.h's, as the
 * engine applies them per flow: bytes per half-period, the highest advice
 * applied per period, judged once advice was applied in both preceding
 * periods, forgiven after a whole period within the allowance while
 * marked. What differs is the input: counts arrive as deltas at each read
 * instead of per packet. A delta is charged to the half-period of the
 * read before it, so the judged interval (cur + prev after moving to the
 * read's half) runs from the previous half's start to now: less than a
 * period, never stricter than the engine. The price: a mark comes at the
 * first read after the engine's, up to half a period later when the
 * engine's falls just before a half ends; and forgiveness judges a
 * period's bytes plus up to one read interval after it (a mark may last
 * a little longer than the engine's).
 */
#ifndef SCONED_BYTEMON_H
#define SCONED_BYTEMON_H

#include "monitor.h"

#include <stdint.h>

typedef struct sconed_bytemon {
  uint64_t h;        /* half-period of cur (monitor.h) */
  uint32_t cur[2];   /* bytes/16 per scone_dir in half h */
  uint32_t prev[2];  /* the half before */
  uint8_t ms[2][3];  /* highest advice applied: this period, -1, -2 */
  uint8_t nc;        /* MON_NC / MON_NCFULL bits */
  uint8_t marked[2]; /* out: direction became non-conforming in this step */
} sconed_bytemon;

/* A flow first seen in half-period h. */
void sconed_bytemon_init(sconed_bytemon *m, uint64_t h);

/*
 * One read in half-period h (never before m->h): charges add16[d]
 * (bytes/16 counted since the previous read) to the previous read's half,
 * moves the history to h,
 * records sig[d] as advice applied in h's period (SCONE_SIGNAL_UNKNOWN:
 * none), and judges with allow16 (bytes/16 a period allowed per signal,
 * sconed_engine_allowance). Returns the non-conformance bits: MON_NC(d)
 * while direction d is non-conforming.
 */
unsigned sconed_bytemon_step(sconed_bytemon *m, const uint64_t *allow16,
                             uint64_t h, const uint32_t add16[2],
                             const uint8_t sig[2]);

#endif
