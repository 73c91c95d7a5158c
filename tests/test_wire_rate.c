/* The rate table and the bps <-> signal mapping. */
#include <scone/scone.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <math.h>

#include "test_wire_util.h"

/* Every row of the spec's "Examples of SCONE signals" table, with the
 * precision the table prints (the rates are rounded for display). */
static const struct {
  double bps;
  double resolution;
  unsigned signal;
} spec_rows[] = {
    {100e3, 1e3, 0},   {112e3, 1e3, 1},     {126e3, 1e3, 2},
    {141e3, 1e3, 3},   {1e6, 1e6, 20},      {1.12e6, 1e4, 21},
    {10e6, 1e6, 40},   {11.2e6, 1e5, 41},   {100e6, 1e6, 60},
    {112e6, 1e6, 61},  {1e9, 1e9, 80},      {1.12e9, 1e7, 81},
    {10e9, 1e9, 100},  {11.2e9, 1e8, 101},  {100e9, 1e9, 120},
    {112e9, 1e9, 121}, {199.5e9, 1e8, 126},
};

static void spec_example_table(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof spec_rows / sizeof spec_rows[0]; i++) {
    uint64_t r = scone_rate_from_signal(spec_rows[i].signal);
    double diff = fabs((double)r - spec_rows[i].bps);
    if (diff > spec_rows[i].resolution / 2)
      fail_msg("signal %u: %llu bit/s is not the table's %g",
               spec_rows[i].signal, (unsigned long long)r, spec_rows[i].bps);
    assert_int_equal(scone_rate_to_signal(r), spec_rows[i].signal);
  }
  /* The table's last row: 127 is "Unknown", which has no rate. */
  assert_int_equal(scone_rate_from_signal(SCONE_SIGNAL_UNKNOWN), 0);
}

/* Recomputes round(100000 * 10^(n/20)) in long double; the table was made
 * with exact integer arithmetic, so the two must agree everywhere. */
static void table_matches_formula(void **state) {
  (void)state;
  for (unsigned n = 0; n <= SCONE_SIGNAL_MAX; n++) {
    long double x = 100000.0L * powl(10.0L, (long double)n / 20.0L);
    uint64_t want = (uint64_t)llroundl(x);
    assert_int_equal(scone_rate_from_signal(n), want);
  }
  /* Whole decades are exact powers of ten. */
  uint64_t decade = 100000;
  for (unsigned n = 0; n <= 120; n += 20, decade *= 10)
    assert_int_equal(scone_rate_from_signal(n), decade);
  assert_int_equal(scone_rate_from_signal(126), UINT64_C(199526231497));
}

static void out_of_range_signals(void **state) {
  (void)state;
  assert_int_equal(scone_rate_from_signal(127), 0);
  assert_int_equal(scone_rate_from_signal(128), 0);
  assert_int_equal(scone_rate_from_signal(255), 0);
  assert_int_equal(scone_rate_from_signal(~0U), 0);
}

static void all_signals_round_trip(void **state) {
  (void)state;
  for (unsigned n = 0; n <= SCONE_SIGNAL_MAX; n++) {
    uint64_t r = scone_rate_from_signal(n);
    assert_true(r >= 100000);
    assert_int_equal(scone_rate_to_signal(r), n);
    /* Advice is a ceiling: one bit/s less than a step is the step below. */
    assert_int_equal(scone_rate_to_signal(r - 1), n == 0 ? 0 : n - 1);
    assert_int_equal(scone_rate_to_signal(r + 1), n);
    if (n < SCONE_SIGNAL_MAX) {
      uint64_t next = scone_rate_from_signal(n + 1);
      assert_true(next > r); /* strictly increasing */
      assert_int_equal(scone_rate_to_signal(next - 1), n);
      /* Each step is 10^(1/20) ~ 1.122 times the last. */
      assert_true(next * 1000 >= r * 1121 && next * 1000 <= r * 1123);
    }
  }
}

static void rate_to_signal_bounds(void **state) {
  (void)state;
  assert_int_equal(scone_rate_to_signal(0), 0);
  assert_int_equal(scone_rate_to_signal(1), 0);
  assert_int_equal(scone_rate_to_signal(99999), 0);
  assert_int_equal(scone_rate_to_signal(100000), 0);
  assert_int_equal(scone_rate_to_signal(UINT64_C(199526231496)), 125);
  assert_int_equal(scone_rate_to_signal(UINT64_C(199526231497)), 126);
  assert_int_equal(scone_rate_to_signal(UINT64_C(1000000000000)), 126);
  assert_int_equal(scone_rate_to_signal(UINT64_MAX), SCONE_SIGNAL_MAX);
}

/* For random rates over the whole range, the answer is the largest step
 * that does not exceed the rate. */
static void random_rates_pick_the_floor_step(void **state) {
  (void)state;
  uint64_t seed = 0x5c0e5c0e;
  unsigned prev_sig = 0;
  uint64_t prev_bps = 0;
  for (int i = 0; i < 20000; i++) {
    uint64_t bps = tw_rand(&seed) >> (tw_rand(&seed) % 64);
    unsigned n = scone_rate_to_signal(bps);
    assert_true(n <= SCONE_SIGNAL_MAX);
    if (bps >= scone_rate_from_signal(0))
      assert_true(scone_rate_from_signal(n) <= bps);
    if (n < SCONE_SIGNAL_MAX && bps >= scone_rate_from_signal(0))
      assert_true(scone_rate_from_signal(n + 1) > bps);
    /* monotone: a higher rate never gets a lower signal */
    if (bps > prev_bps)
      assert_true(n >= prev_sig);
    if (bps < prev_bps)
      assert_true(n <= prev_sig);
    prev_sig = n;
    prev_bps = bps;
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(spec_example_table),
      cmocka_unit_test(table_matches_formula),
      cmocka_unit_test(out_of_range_signals),
      cmocka_unit_test(all_signals_round_trip),
      cmocka_unit_test(rate_to_signal_bounds),
      cmocka_unit_test(random_rates_pick_the_floor_step),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
