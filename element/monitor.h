/*
 * The monitoring window, shared by flows and subscribers: bytes over the
 * last period against the highest advice this element applied in the
 * current and two preceding periods, plus the tolerance.
 *
 * State per direction: cur (bytes/16 this period), prev (the period
 * before), max_sig[3] (highest advice applied in this period, -1, -2;
 * SCONE_SIGNAL_UNKNOWN when none). Non-conformance is four bits,
 * MON_NC(d) and MON_NCFULL(d), the same for flows (shifted into their
 * flags) and subscribers.
 *
 * The window is the two-counter sliding approximation: bytes of the
 * current period plus the previous period's weighted by the share of it
 * still inside the window. Exact for a steady rate, never counting bytes
 * older than one period. Time is in 2^20 ns units here so the weight needs
 * no division.
 */
#ifndef SCONED_MONITOR_H
#define SCONED_MONITOR_H

#include <scone/scone.h>

#include <stdint.h>

#define MON_NC(d) (1U << (d))
#define MON_NCFULL(d) (4U << (d))
#define MON_NC_ANY (MON_NC(0) | MON_NC(1))

/* Advice applied somewhere in the lookback: the endpoint holds advice. */
static inline int mon_advised(const uint8_t ms[3]) {
  /* 127 is the only 7-bit value whose AND with others stays 127 for all. */
  return (ms[0] & ms[1] & ms[2]) != SCONE_SIGNAL_UNKNOWN;
}

/* The advice to judge against, or -1 while judging is not yet due: advice
 * must have been applied in both preceding periods, so the endpoint has
 * had a whole period to learn it and adapt. */
__attribute__((always_inline)) static inline int
mon_limit(const uint8_t ms[3]) {
  if (ms[1] == SCONE_SIGNAL_UNKNOWN || ms[2] == SCONE_SIGNAL_UNKNOWN)
    return -1;
  unsigned hi = ms[1] > ms[2] ? ms[1] : ms[2];
  if (ms[0] != SCONE_SIGNAL_UNKNOWN && ms[0] > hi)
    hi = ms[0];
  return (int)hi;
}

static inline void mon_add(uint32_t *cur, uint32_t add16) {
  if (__builtin_add_overflow(*cur, add16, cur))
    *cur = UINT32_MAX;
}

/* Over the allowance allow16 (bytes/16 per period)? period_u and off_u
 * (time since the period began) are in 2^20 ns units. */
static inline int mon_over(uint32_t cur, uint32_t prev, uint64_t allow16,
                           uint64_t period_u, uint64_t off_u) {
  /* Both periods at full weight bound the window from above: most packets
   * stop here. */
  if ((uint64_t)cur + prev <= allow16)
    return 0;
  if (off_u > period_u)
    off_u = period_u;
  uint64_t lhs = (uint64_t)cur * period_u + (uint64_t)prev * (period_u - off_u);
  return lhs > allow16 * period_u;
}

/*
 * Moves one direction's history gap periods forward (gap >= 1; 3 or more
 * clears it) and settles its non-conformance: a marked direction is
 * forgiven when a whole period passed, while it was marked, within its
 * allowance (or when there is no history left to judge). Returns the new
 * bits of direction d.
 */
static inline unsigned mon_roll_dir(const uint64_t *allow16, uint32_t *cur,
                                    uint32_t *prev, uint8_t ms[3], unsigned nc,
                                    int d, uint32_t gap) {
  if (gap > 3)
    gap = 3;
  if (nc & MON_NC(d)) {
    unsigned hi = 0, any = 0;
    for (int i = 0; i < 3; i++)
      if (ms[i] != SCONE_SIGNAL_UNKNOWN) {
        any = 1;
        hi = ms[i] > hi ? ms[i] : hi;
      }
    int clean =
        gap >= 2 || !any || ((nc & MON_NCFULL(d)) && *cur <= allow16[hi]);
    nc = clean ? nc & ~(MON_NC(d) | MON_NCFULL(d)) : nc | MON_NCFULL(d);
  }
  for (int i = 2; i >= 0; i--)
    ms[i] = (uint32_t)i >= gap ? ms[i - (int)gap] : SCONE_SIGNAL_UNKNOWN;
  *prev = gap == 1 ? *cur : 0;
  *cur = 0;
  return nc;
}

#endif
