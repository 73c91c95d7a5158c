/*
 * Advice that changes: a new advice gets its immediate burst of rewrites
 * once per period and direction, so a capacity that keeps changing costs a
 * bounded number of rewrites per period rather than every SCONE packet.
 */
#include "harness.h"

static unsigned sig_of(uint64_t bps) {
  return scone_rate_to_signal(bps);
}

static const char *cfg_cell = "[plan p]\n"
                              "downlink = 50M\n"
                              "[capacity c]\n"
                              "rate = 20M\n"
                              "[subscribers]\n"
                              "subscriber = 10.0.0.0/24 p opt-in capacity=c\n";

/* Server-to-client SCONE packet at t; 1 if it was rewritten. */
static int down(sconed_engine *e, const pg_flow *f, scone_tstamp t) {
  h_pkt k;
  h_scone(e, f, 0, SCONE_SIGNAL_UNKNOWN, 200, t, &k);
  return k.v.modified;
}

/* A capacity that changes every 0.2 s while SCONE packets come every
 * 0.1 s: the draft allows only a few rewrites per period. */
static void flapping_capacity_bounded(void **state) {
  (void)state;
  sconed_engine *e = h_engine(cfg_cell, 0);
  pg_flow f;
  pg_flow_make(&f, 0, 1, 40001);
  h_hello(e, &f, 0, T0);
  int rewrites = 0;
  for (int i = 0; i < 670; i++) {
    scone_tstamp t = T0 + SEC(0.1 * i) + 1000;
    if (i % 2 == 0)
      assert_int_equal(sconed_engine_set_capacity(
                           e, "c", (i / 2) % 2 ? 10000000 : 20000000, t),
                       0);
    rewrites += down(e, &f, t);
  }
  /* A start burst, one burst after a change, one per rewrite slot. */
  assert_true(rewrites >= SCONED_DEFAULT_REWRITES_PER_PERIOD);
  assert_true(rewrites <= 2 * SCONED_DEFAULT_INITIAL_REWRITES +
                              SCONED_DEFAULT_REWRITES_PER_PERIOD);
  assert_int_equal(h_plan(e, "p").rewrites, (uint64_t)rewrites);
  sconed_engine_free(e);
}

/* One change still gets its immediate burst, and the next period's change
 * gets one again. */
static void single_change_immediate_burst(void **state) {
  (void)state;
  sconed_engine *e = h_engine(cfg_cell, 0);
  pg_flow f;
  pg_flow_make(&f, 0, 2, 40002);
  h_hello(e, &f, 0, T0);
  scone_tstamp t = T0 + SEC(1);
  for (int i = 0; i < 8; i++)
    assert_int_equal(down(e, &f, t + (scone_tstamp)i),
                     i < SCONED_DEFAULT_INITIAL_REWRITES);
  assert_int_equal(sconed_engine_set_capacity(e, "c", 10000000, t + SEC(1)), 0);
  for (int i = 0; i < 8; i++) {
    h_pkt k;
    h_scone(e, &f, 0, SCONE_SIGNAL_UNKNOWN, 200, t + SEC(1) + (scone_tstamp)i,
            &k);
    assert_int_equal(k.v.modified, i < SCONED_DEFAULT_INITIAL_REWRITES);
    if (k.v.modified)
      assert_int_equal(pg_signal(k.b, k.len), (int)sig_of(10000000));
  }
  /* A second change in the period waits for the next slot... */
  assert_int_equal(sconed_engine_set_capacity(e, "c", 20000000, t + SEC(2)), 0);
  assert_false(down(e, &f, t + SEC(2)));
  /* ...and in the next period it gets a burst again. */
  scone_tstamp n = T0 + SCONE_PERIOD + SEC(1);
  for (int i = 0; i < 8; i++)
    assert_int_equal(down(e, &f, n + (scone_tstamp)i),
                     i < SCONED_DEFAULT_INITIAL_REWRITES);
  sconed_engine_free(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(flapping_capacity_bounded),
      cmocka_unit_test(single_change_immediate_burst),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
