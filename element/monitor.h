/*
 * The monitoring window, shared by flows and subscribers: bytes over the
 * last period against the highest advice this element applied in the
 * current and two preceding periods, plus the tolerance.
 *
 * Bytes are counted per half-period: cur (bytes/16 in the current half)
 * and prev (the half before it). What is judged is cur + prev, the bytes
 * from the start of the previous half until now: an interval no longer
 * than one period, ending now, so it is a part of the period-long window
 * that ends now and never holds more than that window does. A sender
 * whose every period-long window is within the allowance is therefore
 * never judged over it, however it bunches its bytes (the draft: stricter
 * than its method risks misclassifying, looser is safe). It still sees
 * any excess within an interval of up to half a period (such an interval
 * always fits in the previous half plus the current one) and any steady
 * excess: at the end of each half the judged interval is a whole period.
 *
 * The advice lookback and conformance stay per period: max_sig[3] (the
 * highest advice applied in this period, -1, -2; SCONE_SIGNAL_UNKNOWN when
 * none) and the non-conformance bits, MON_NC(d) and MON_NCFULL(d), the
 * same for flows (shifted into their flags) and subscribers. A state's
 * half-period index (h, h >> 1 its period) says where its counters stand.
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

/* Over the allowance allow16 (bytes/16 per period)? Counters are bytes/16
 * rounded down per packet, so a sender is judged over only when its bytes
 * in the interval exceed the allowance. */
static inline int mon_over(uint32_t cur, uint32_t prev, uint64_t allow16) {
  return (uint64_t)cur + prev > allow16;
}

/* Period boundaries passed going from gap half-periods before half h to
 * h; a gap beyond h (the period changed by a reload) reads as long gone. */
static inline uint64_t mon_periods_back(uint64_t h, uint64_t gap) {
  return gap > h ? 3 : (h >> 1) - ((h - gap) >> 1);
}

/*
 * Moves one direction's history hgap half-periods (>= 1) and pgap periods
 * (mon_periods_back) forward from a half that was a period's second when
 * second is 1: counters by halves (more than one clears prev), advice by
 * periods (3 or more clear it). At a period boundary it settles
 * non-conformance: a marked direction is forgiven when a whole period
 * passed, while it was marked, within its allowance (or when there is no
 * history left to judge). Returns the new bits of direction d.
 */
static inline unsigned mon_roll_dir(const uint64_t *allow16, uint32_t *cur,
                                    uint32_t *prev, uint8_t ms[3], unsigned nc,
                                    int d, uint64_t hgap, uint64_t gap,
                                    unsigned second) {
  if (gap) {
    if (gap > 3)
      gap = 3;
    if (nc & MON_NC(d)) {
      unsigned hi = 0, any = 0;
      for (int i = 0; i < 3; i++)
        if (ms[i] != SCONE_SIGNAL_UNKNOWN) {
          any = 1;
          hi = ms[i] > hi ? ms[i] : hi;
        }
      /* The bytes of the period left: cur is its last half seen, and
       * prev the half before, its first, when that was its second. */
      uint64_t last = (uint64_t)*cur + (second ? *prev : 0);
      int clean =
          gap >= 2 || !any || ((nc & MON_NCFULL(d)) && last <= allow16[hi]);
      nc = clean ? nc & ~(MON_NC(d) | MON_NCFULL(d)) : nc | MON_NCFULL(d);
    }
    for (int i = 2; i >= 0; i--)
      ms[i] = (uint64_t)i >= gap ? ms[i - (int)gap] : SCONE_SIGNAL_UNKNOWN;
  }
  *prev = hgap == 1 ? *cur : 0;
  *cur = 0;
  return nc;
}

#endif
