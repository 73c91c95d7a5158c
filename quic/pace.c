/* Pacing a connection's responses to a rate (see pace.h). */
#include "pace.h"

void sq_pace_init(sq_pace *p) {
  scone_budget_init(&p->budget, SQ_PACE_WINDOW, SQ_PACE_BUCKETS);
  p->bps = 0;
}

void sq_pace_set_rate(sq_pace *p, uint64_t bps) {
  p->bps = bps;
  /* The budget's window holds one bucket more than the period (the partial
   * current one), so bytes leave it a bucket late and the sustained rate
   * is n/(n+1) of the rate set: asked for this much more, it comes out at
   * the rate. */
  scone_budget_set_rate(&p->budget,
                        bps / SQ_PACE_BUCKETS * (SQ_PACE_BUCKETS + 1) +
                            bps % SQ_PACE_BUCKETS);
}

uint64_t sq_pace_available(sq_pace *p, scone_tstamp now) {
  return p->bps == 0 ? UINT64_MAX : scone_budget_available(&p->budget, now);
}

void sq_pace_consume(sq_pace *p, uint64_t bytes, scone_tstamp now) {
  scone_budget_consume(&p->budget, now, bytes);
}

scone_tstamp sq_pace_next(const sq_pace *p, scone_tstamp now) {
  /* Waking for a few bytes would cost a wakeup per bucket: wait for a
   * chunk worth sending, or for the whole window when it holds less. */
  scone_budget probe = p->budget;
  uint64_t cap = scone_budget_available(&probe, UINT64_MAX - 1);
  uint64_t need = cap < SQ_PACE_MIN_CHUNK ? cap : SQ_PACE_MIN_CHUNK;
  if (need == 0)
    need = 1;
  /* Probed on copies: looking ahead on the budget itself would age its
   * window past now for good. The window spans nbuckets, so the last probe
   * sees it empty. */
  scone_duration w = p->budget.win.bucket_ns;
  scone_tstamp t = now;
  for (uint32_t i = 0; i <= p->budget.win.nbuckets; i++) {
    t = (t / w + 1) * w;
    probe = p->budget;
    if (scone_budget_available(&probe, t) >= need)
      break;
  }
  return t;
}
