/*
 * Advice in force = the minimum signal over a sliding window of one period.
 *
 * The queue holds (signal, time) in arrival order with signals strictly
 * increasing from front to back. A new signal evicts every queued entry that
 * is not lower than it: those arrived earlier and would lapse earlier, so
 * they can never be the minimum again. The front is therefore the minimum,
 * and the next entry is exactly what takes over when the front lapses.
 * Strictly increasing signals bound the queue at one entry per value.
 *
 * Edges: advice received at t is in force for t <= now < t + period.
 */
#include <scone/scone.h>

#define QCAP ((uint32_t)(SCONE_SIGNAL_MAX + 1))

static uint32_t slot(const scone_advice_tracker *t, uint32_t i) {
  return (t->head + i) % QCAP;
}

/* Written as a difference so that times near UINT64_MAX cannot wrap. A time
 * before the entry (a clock that stepped back) keeps it in force. */
static int lapsed(const scone_advice_tracker *t, scone_tstamp at,
                  scone_tstamp now) {
  return now >= at && now - at >= t->period;
}

static scone_tstamp lapse_time(const scone_advice_tracker *t, scone_tstamp at) {
  return at > UINT64_MAX - t->period ? UINT64_MAX : at + t->period;
}

static void drop_lapsed(scone_advice_tracker *t, scone_tstamp now) {
  while (t->count && lapsed(t, t->q[t->head].at, now)) {
    t->head = slot(t, 1);
    t->count--;
  }
}

static unsigned front_signal(const scone_advice_tracker *t) {
  return t->count ? t->q[t->head].signal : SCONE_SIGNAL_UNKNOWN;
}

/* Compares against what was last reported, so a renewal of the same value
 * (or a detour that nets out) is not reported as a change. */
static int report(scone_advice_tracker *t) {
  unsigned now_sig = front_signal(t);
  if (now_sig == t->current)
    return 0;
  t->current = now_sig;
  return 1;
}

void scone_advice_tracker_init(scone_advice_tracker *t, scone_duration period) {
  t->period = period ? period : SCONE_PERIOD;
  t->head = 0;
  t->count = 0;
  t->current = SCONE_SIGNAL_UNKNOWN;
  t->last_rx = 0;
}

int scone_advice_tracker_on_signal(scone_advice_tracker *t, unsigned signal,
                                   scone_tstamp now) {
  if (signal >= SCONE_SIGNAL_UNKNOWN)
    return 0;
  /* Queue times must not decrease or the front would stop being the first
   * to lapse; a clock that stepped back is read as "no time has passed". */
  if (now < t->last_rx)
    now = t->last_rx;
  drop_lapsed(t, now);
  while (t->count && t->q[slot(t, t->count - 1)].signal >= signal)
    t->count--;
  uint32_t tail = slot(t, t->count);
  t->q[tail].signal = (uint8_t)signal;
  t->q[tail].at = now;
  t->count++;
  t->last_rx = now;
  return report(t);
}

int scone_advice_tracker_expire(scone_advice_tracker *t, scone_tstamp now) {
  drop_lapsed(t, now);
  return report(t);
}

void scone_advice_tracker_get(const scone_advice_tracker *t, scone_tstamp now,
                              scone_advice *out) {
  /* Skips lapsed entries without removing them, so the answer is exact at
   * now whether or not the caller has run _expire. */
  uint32_t i = 0;
  while (i < t->count && lapsed(t, t->q[slot(t, i)].at, now))
    i++;
  out->received_at = t->last_rx;
  if (i == t->count) {
    out->signal = SCONE_SIGNAL_UNKNOWN;
    out->bps = 0;
    out->expires_at = 0;
    return;
  }
  uint32_t s = slot(t, i);
  out->signal = t->q[s].signal;
  out->bps = scone_rate_from_signal(out->signal);
  out->expires_at = lapse_time(t, t->q[s].at);
}

scone_tstamp scone_advice_tracker_next_expiry(const scone_advice_tracker *t) {
  return t->count ? lapse_time(t, t->q[t->head].at) : UINT64_MAX;
}
