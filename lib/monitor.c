/*
 * Network-side monitoring (draft-ietf-scone-protocol, "Monitoring Flows"):
 * bytes over the last period against the highest advice applied in this and
 * the two preceding periods.
 *
 * The window spans at most one period (n buckets of floor(period / n)), never
 * more: the spec warns that monitoring more strictly than this can misjudge
 * an application, and a sender that keeps every period-long interval under
 * advice (as scone_budget does) then can never be judged EXCEEDING.
 */
#include <scone/scone.h>

#define MONITOR_DEFAULT_BUCKETS 67U
#define MONITOR_DEFAULT_TOLERANCE 10U
#define LOOKBACK 3U

void scone_monitor_settings_default(scone_monitor_settings *s) {
  s->version = SCONE_MONITOR_SETTINGS_V1;
  s->period = SCONE_PERIOD;
  s->nbuckets = MONITOR_DEFAULT_BUCKETS;
  s->tolerance_pct = MONITOR_DEFAULT_TOLERANCE;
}

static void clear_history(uint8_t max_sig[LOOKBACK]) {
  for (unsigned i = 0; i < LOOKBACK; i++)
    max_sig[i] = SCONE_SIGNAL_UNKNOWN;
}

void scone_monitor_init(scone_monitor *m, const scone_monitor_settings *s,
                        scone_tstamp now) {
  scone_monitor_settings_default(&m->s);
  if (s) {
    /* Zero means "default" for the sizes; a zero tolerance is a real
     * choice and is kept. */
    if (s->period)
      m->s.period = s->period;
    if (s->nbuckets)
      m->s.nbuckets = s->nbuckets;
    m->s.tolerance_pct = s->tolerance_pct;
  }
  uint32_t n = m->s.nbuckets;
  if (n < 2)
    n = 2;
  if (n > SCONE_WINDOW_MAX_BUCKETS)
    n = SCONE_WINDOW_MAX_BUCKETS;
  /* Buckets narrower than 1 ns would stretch the window past the period. */
  if (n > m->s.period)
    n = m->s.period < 2 ? 2 : (uint32_t)m->s.period;
  m->s.nbuckets = n;
  scone_duration width = m->s.period / n;
  for (unsigned d = 0; d < 2; d++) {
    scone_window_init(&m->d[d].win, width, n);
    m->d[d].period_idx = 0;
    clear_history(m->d[d].max_sig);
    m->d[d].last_sig = SCONE_SIGNAL_UNKNOWN;
  }
  m->origin = now;
}

/* An out-of-range direction is a caller bug; it must not index memory. */
static int bad_dir(scone_dir dir) {
  return (unsigned)dir > SCONE_DIR_DOWNLINK;
}

/* Period numbers count from init; a time before it belongs to period 0. */
static uint64_t period_of(const scone_monitor *m, scone_tstamp now) {
  return now > m->origin ? (now - m->origin) / m->s.period : 0;
}

/* Shifts the per-period history so max_sig[0] is the period holding now. A
 * time in an earlier period than the newest seen is read as the newest. */
static void roll(scone_monitor *m, scone_dir dir, scone_tstamp now) {
  uint64_t idx = period_of(m, now);
  if (idx <= m->d[dir].period_idx)
    return;
  uint64_t gap = idx - m->d[dir].period_idx;
  uint8_t *h = m->d[dir].max_sig;
  for (unsigned i = LOOKBACK; i-- > 0;)
    h[i] = i >= gap ? h[i - gap] : m->d[dir].last_sig;
  m->d[dir].period_idx = idx;
}

/* Whether now is the first instant of the newest period, when no part of it
 * can yet have gone without advice. */
static int at_period_start(const scone_monitor *m, scone_dir dir,
                           scone_tstamp now) {
  return now >= m->origin && (now - m->origin) % m->s.period == 0 &&
         period_of(m, now) == m->d[dir].period_idx;
}

void scone_monitor_on_advice(scone_monitor *m, scone_dir dir, unsigned signal,
                             scone_tstamp now) {
  if (bad_dir(dir))
    return;
  roll(m, dir, now);
  /* Configured advice persists: an element rewrites only a few packets a
   * period, and the periods between rewrites must not read as "no advice".
   * "No advice" is the highest limit of all, so a period that spent any time
   * without it stays "no limit" for good: otherwise advice begun (or given
   * again) late in a period would be judged after little more than one
   * period, before an endpoint that learnt it late could have adapted. */
  uint8_t *cur = &m->d[dir].max_sig[0];
  if (signal >= SCONE_SIGNAL_UNKNOWN) {
    m->d[dir].last_sig = SCONE_SIGNAL_UNKNOWN;
    *cur = SCONE_SIGNAL_UNKNOWN;
    return;
  }
  m->d[dir].last_sig = (uint8_t)signal;
  if (*cur == SCONE_SIGNAL_UNKNOWN ? at_period_start(m, dir, now)
                                   : signal > *cur)
    *cur = (uint8_t)signal;
}

void scone_monitor_on_bytes(scone_monitor *m, scone_dir dir, uint64_t bytes,
                            scone_tstamp now) {
  if (bad_dir(dir))
    return;
  scone_window_add(&m->d[dir].win, now, bytes);
}

uint64_t scone_monitor_limit(scone_monitor *m, scone_dir dir,
                             scone_tstamp now) {
  if (bad_dir(dir))
    return 0;
  roll(m, dir, now);
  unsigned hi = 0;
  for (unsigned i = 0; i < LOOKBACK; i++) {
    unsigned sig = m->d[dir].max_sig[i];
    /* A period without advice means the endpoint may not have learnt the
     * limit yet: no judgement until it has had two full periods. */
    if (sig == SCONE_SIGNAL_UNKNOWN)
      return 0;
    if (sig > hi)
      hi = sig;
  }
  return scone_rate_from_signal(hi);
}

scone_conformance scone_monitor_check(scone_monitor *m, scone_dir dir,
                                      scone_tstamp now) {
  uint64_t limit = scone_monitor_limit(m, dir, now);
  if (limit == 0)
    return SCONE_CONFORMANCE_UNKNOWN;
  uint64_t bytes = scone_window_sum(&m->d[dir].win, now);
  /* bytes * 8 > limit * period_s * (100 + tol) / 100, scaled by 100e9 so
   * every term is an integer. The left side is below 2^105; the right side
   * can overflow 128 bits only with an absurd period and tolerance, and then
   * the allowance exceeds any byte count anyway. */
  unsigned __int128 sent = (unsigned __int128)bytes * 8 * 100 * SCONE_SECONDS;
  unsigned __int128 base = (unsigned __int128)limit * m->s.period;
  unsigned __int128 mult = 100 + (unsigned __int128)m->s.tolerance_pct;
  if (base > ~(unsigned __int128)0 / mult)
    return SCONE_CONFORMANCE_CONFORMING;
  return sent > base * mult ? SCONE_CONFORMANCE_EXCEEDING
                            : SCONE_CONFORMANCE_CONFORMING;
}
