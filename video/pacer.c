/*
 * The advice budget on the receiving side: libscone's sender budget
 * (lib/budget.c), fed the bytes as they arrive, decides when the next
 * request may start. Bursts are fine: a request waits only until the bytes
 * of the last period leave room for the whole segment it asks for.
 */
#include "internal.h"

#include <string.h>

void scone_video_pacer_init(scone_video_pacer *p, int reset_on_decrease) {
  memset(p, 0, sizeof *p);
  scone_budget_init(&p->budget, SCONE_PERIOD, 0);
  p->period = SCONE_PERIOD;
  p->reset_on_decrease = reset_on_decrease;
}

void scone_video_pacer_set_cap(scone_video_pacer *p, uint64_t cap_bps) {
  if (p->reset_on_decrease && cap_bps != 0 &&
      (p->cap_bps == 0 || cap_bps < p->cap_bps))
    scone_budget_init(&p->budget, p->period ? p->period : SCONE_PERIOD, 0);
  p->cap_bps = cap_bps;
  scone_budget_set_rate(&p->budget, cap_bps);
}

void scone_video_pacer_consume(scone_video_pacer *p, uint64_t bytes,
                               scone_tstamp now) {
  scone_budget_consume(&p->budget, now, bytes);
}

uint64_t scone_video_pacer_available(scone_video_pacer *p, scone_tstamp now) {
  return scone_budget_available(&p->budget, now);
}

scone_tstamp scone_video_pacer_when(const scone_video_pacer *p, uint64_t need,
                                    scone_tstamp now) {
  if (p->cap_bps == 0)
    return now;
  /* Probe copies bucket by bucket: looking ahead on the budget itself
   * would age its window past now for good. The window spans nbuckets
   * buckets, so the last probe sees it empty. */
  const scone_window *w = &p->budget.win;
  scone_budget probe;
  scone_tstamp t = now;
  for (uint32_t i = 0; i <= w->nbuckets; i++) {
    probe = p->budget;
    uint64_t avail = scone_budget_available(&probe, t);
    probe = p->budget;
    if (avail >= need || scone_window_sum(&probe.win, t) == 0)
      return t;
    /* The start of the next bucket. */
    t = (t / w->bucket_ns + 1) * w->bucket_ns;
  }
  return t;
}
