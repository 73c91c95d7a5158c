/*
 * Monitoring from byte counts read at intervals (bytemon.h, the XDP
 * path's judge): a sender over its advice is marked once judging is due
 * (advice applied in both preceding periods) and within one read of it;
 * one within the allowance is never marked, however the reads fall; a
 * marked one that slows down is forgiven after a clean period, as the
 * engine forgives; and on the same traffic the engine and bytemon mark a
 * flow within one read of each other.
 */
#include "harness.h"

#include "bytemon.h"

#define PERIOD_S 2
static const char *cfg_text = "[global]\n"
                              "period = 2s\n"
                              "lab_short_period = yes\n"
                              "[plan p]\n"
                              "downlink = 2M\n"
                              "[subscribers]\n"
                              "subscriber = 10.0.0.0/8 p opt-in\n";

typedef struct run {
  uint64_t allow16[SCONE_SIGNAL_MAX + 1];
  uint64_t half; /* ns */
  uint8_t sig;
  sconed_bytemon m;
  double carry; /* bytes/16 not yet charged (fractions) */
} run;

static void run_init(run *r) {
  sconed_engine *e = h_engine(cfg_text, 0);
  sconed_engine_allowance(e, r->allow16);
  sconed_engine_timing t;
  sconed_engine_timing_get(e, &t);
  r->half = t.period / 2;
  sconed_engine_free(e);
  r->sig = (uint8_t)scone_rate_to_signal(2000000);
  sconed_bytemon_init(&r->m, T0 / r->half);
  r->carry = 0;
}

/* Reads every step_ms from t0 for secs seconds of a downlink sender at
 * bps. Returns the time (s after t0) of the first mark, or -1. */
static double feed(run *r, scone_tstamp t0, double secs, double bps,
                   int step_ms, int *ever_nc, unsigned *last_nc) {
  double first = -1;
  for (int ms = step_ms; ms <= (int)(secs * 1000); ms += step_ms) {
    scone_tstamp now = t0 + (scone_tstamp)ms * 1000000;
    r->carry += bps / 8 * step_ms / 1000 / 16;
    uint32_t add[2] = {0, (uint32_t)r->carry};
    r->carry -= (uint32_t)r->carry;
    uint8_t sig[2] = {SCONE_SIGNAL_UNKNOWN, r->sig};
    unsigned nc =
        sconed_bytemon_step(&r->m, r->allow16, now / r->half, add, sig);
    assert_true(!(nc & MON_NC(SCONE_DIR_UPLINK)));
    if (r->m.marked[SCONE_DIR_DOWNLINK] && first < 0)
      first = ms / 1000.0;
    if (ever_nc && (nc & MON_NC(SCONE_DIR_DOWNLINK)))
      *ever_nc = 1;
    if (last_nc)
      *last_nc = nc;
  }
  return first;
}

static void greedy_marked_when_due(void **st) {
  (void)st;
  run r;
  run_init(&r);
  /* Four times the advice: judging is due at the third period. */
  double t = feed(&r, T0, 4 * PERIOD_S, 8e6, 100, NULL, NULL);
  assert_true(t >= 2 * PERIOD_S);
  assert_true(t <= 2 * PERIOD_S + 0.1 + 1e-9);
}

static void within_allowance_never_marked(void **st) {
  (void)st;
  for (int step = 50; step <= 500; step += 150) {
    run r;
    run_init(&r);
    int ever = 0;
    /* At the advice itself (the tolerance is the margin). */
    double rate = (double)scone_rate_from_signal(r.sig);
    feed(&r, T0, 10 * PERIOD_S, rate, step, &ever, NULL);
    assert_int_equal(ever, 0);
  }
}

static void slowed_down_forgiven(void **st) {
  (void)st;
  run r;
  run_init(&r);
  double t = feed(&r, T0, 3 * PERIOD_S, 8e6, 100, NULL, NULL);
  assert_true(t > 0);
  unsigned nc = 0;
  /* One period may still hold the excess; after a clean one it is
   * forgiven. */
  feed(&r, T0 + SEC(3 * PERIOD_S), 3 * PERIOD_S, 1e6, 100, NULL, &nc);
  assert_int_equal(nc & MON_NC_ANY, 0);
  /* Never forgiven while it keeps sending too much. */
  run g;
  run_init(&g);
  feed(&g, T0, 3 * PERIOD_S, 8e6, 100, NULL, NULL);
  feed(&g, T0 + SEC(3 * PERIOD_S), 3 * PERIOD_S, 8e6, 100, NULL, &nc);
  assert_true(nc & MON_NC(SCONE_DIR_DOWNLINK));
}

/* Engine log lines of flow marks, with the time of the packet. */
typedef struct emark {
  scone_tstamp now, first;
} emark;

static void on_log(void *arg, int level, const char *msg) {
  (void)level;
  emark *m = arg;
  if (!strncmp(msg, "flow non-conforming", 19) && !m->first)
    m->first = m->now;
}

static void agrees_with_engine(void **st) {
  (void)st;
  for (double bps = 3e6; bps <= 12e6; bps += 3e6) {
    emark em = {0, 0};
    sconed_engine_settings s;
    h_settings(&s);
    s.log = on_log;
    s.log_arg = &em;
    sconed_engine *e = h_engine_with(&s, cfg_text);
    pg_flow f;
    pg_flow_make(&f, 0, 1, 40000);
    h_hello(e, &f, 1, T0);
    run r;
    run_init(&r);
    /* 1200-byte datagrams of 1150 payload bytes; a SCONE packet leads
     * one every 200 ms (the engine records the advice then). */
    double gap = 1150 * 8 / bps;
    uint32_t pend = 0;
    double first_b = -1;
    scone_tstamp next_read = T0 + SEC(0.1), next_scone = T0;
    for (double t = 0; t < 4 * PERIOD_S; t += gap) {
      scone_tstamp now = T0 + SEC(t);
      while (next_read <= now) {
        uint32_t add[2] = {0, pend};
        uint8_t sig[2] = {SCONE_SIGNAL_UNKNOWN, r.sig};
        sconed_bytemon_step(&r.m, r.allow16, next_read / r.half, add, sig);
        if (r.m.marked[1] && first_b < 0)
          first_b = (double)(next_read - T0) / SCONE_SECONDS;
        pend = 0;
        next_read += SEC(0.1);
      }
      em.now = now;
      int scone = now >= next_scone;
      if (scone)
        next_scone = now + SEC(0.2);
      h_pkt k;
      if (scone)
        h_scone(e, &f, 0, SCONE_SIGNAL_UNKNOWN, 1150, now, &k);
      else
        h_short(e, &f, 0, 1150, now, &k);
      pend += 1150 >> 4;
    }
    assert_true(em.first > 0);
    assert_true(first_b > 0);
    double first_e = (double)(em.first - T0) / SCONE_SECONDS;
    /* The read after the engine's packet that marked it (or at the same
     * time, before the packet the engine marked at). */
    assert_true(first_b >= first_e - gap - 1e-9);
    assert_true(first_b <= first_e + 0.1 + 1e-9);
    sconed_engine_free(e);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(greedy_marked_when_due),
      cmocka_unit_test(within_allowance_never_marked),
      cmocka_unit_test(slowed_down_forgiven),
      cmocka_unit_test(agrees_with_engine),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
