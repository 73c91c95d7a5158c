/* scone_monitor: the three-period lookback, tolerance edges, and a budgeted
 * sender that must never be judged EXCEEDING. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <scone/scone.h>

#define S SCONE_SECONDS
#define MS SCONE_MILLISECONDS
#define P SCONE_PERIOD

/* Not a period boundary of any absolute clock, so the test sees periods
 * numbered from init. */
#define T0 (12345 * S + 678)

static uint64_t rng_state = 0x5851f42d4c957f2dULL;

static uint64_t rng(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static void init_with(scone_monitor *m, scone_duration period,
                      uint32_t tolerance) {
  scone_monitor_settings s;
  scone_monitor_settings_default(&s);
  s.period = period;
  s.tolerance_pct = tolerance;
  scone_monitor_init(m, &s, T0);
}

static void test_monitor_defaults(void **state) {
  (void)state;
  scone_monitor_settings s;
  scone_monitor_settings_default(&s);
  assert_int_equal(s.version, SCONE_MONITOR_SETTINGS_V1);
  assert_true(s.period == SCONE_PERIOD);
  assert_int_equal(s.nbuckets, 67);
  assert_int_equal(s.tolerance_pct, 10);
  scone_monitor m;
  scone_monitor_init(&m, NULL, T0);
  assert_true(m.s.period == SCONE_PERIOD);
  assert_int_equal(m.s.tolerance_pct, 10);
  assert_int_equal(m.d[SCONE_DIR_UPLINK].win.nbuckets, 67);
  assert_true(m.d[SCONE_DIR_UPLINK].win.bucket_ns == S);
  /* A direction outside the enum is refused rather than indexed. */
  const scone_dir bogus = (scone_dir)7;
  scone_monitor_on_advice(&m, bogus, 40, T0);
  scone_monitor_on_bytes(&m, bogus, 1000, T0);
  assert_int_equal(scone_monitor_limit(&m, bogus, T0), 0);
  assert_int_equal(scone_monitor_check(&m, bogus, T0),
                   SCONE_CONFORMANCE_UNKNOWN);
}

static void test_monitor_unknown_before_advice(void **state) {
  (void)state;
  scone_monitor m;
  scone_monitor_init(&m, NULL, T0);
  for (scone_tstamp t = T0; t < T0 + 3 * P; t += S) {
    scone_monitor_on_bytes(&m, SCONE_DIR_DOWNLINK, 1000000, t);
    assert_int_equal(scone_monitor_limit(&m, SCONE_DIR_DOWNLINK, t), 0);
    assert_int_equal(scone_monitor_check(&m, SCONE_DIR_DOWNLINK, t),
                     SCONE_CONFORMANCE_UNKNOWN);
  }
  /* Advice from period 3 on: still unknown through period 4. */
  for (scone_tstamp t = T0 + 3 * P; t < T0 + 5 * P; t += S) {
    scone_monitor_on_advice(&m, SCONE_DIR_DOWNLINK, 0, t);
    scone_monitor_on_bytes(&m, SCONE_DIR_DOWNLINK, 1000000, t);
    assert_int_equal(scone_monitor_check(&m, SCONE_DIR_DOWNLINK, t),
                     SCONE_CONFORMANCE_UNKNOWN);
  }
  scone_monitor_on_advice(&m, SCONE_DIR_DOWNLINK, 0, T0 + 5 * P);
  assert_int_equal(scone_monitor_check(&m, SCONE_DIR_DOWNLINK, T0 + 5 * P),
                   SCONE_CONFORMANCE_EXCEEDING);
  /* The other direction saw none of it. */
  assert_int_equal(scone_monitor_check(&m, SCONE_DIR_UPLINK, T0 + 5 * P),
                   SCONE_CONFORMANCE_UNKNOWN);
}

/* Applies signal and sends at rate bps every 100 ms over [from, to), checking
 * each step: UNKNOWN before judge_from, expect from then on. */
static void steady(scone_monitor *m, unsigned signal, uint64_t bps,
                   scone_tstamp from, scone_tstamp to, scone_tstamp judge_from,
                   scone_conformance expect) {
  for (scone_tstamp t = from; t < to; t += 100 * MS) {
    scone_monitor_on_advice(m, SCONE_DIR_UPLINK, signal, t);
    scone_monitor_on_bytes(m, SCONE_DIR_UPLINK, bps / 80, t);
    assert_int_equal(scone_monitor_check(m, SCONE_DIR_UPLINK, t),
                     t < judge_from ? SCONE_CONFORMANCE_UNKNOWN : expect);
  }
}

static void test_monitor_conforming_flow_stays_conforming(void **state) {
  (void)state;
  const uint32_t tolerances[] = {10, 0};
  for (size_t i = 0; i < 2; i++) {
    scone_monitor m;
    init_with(&m, P, tolerances[i]);
    /* Exactly at advice: fine even with no tolerance, as the window never
     * spans more than one period. */
    steady(&m, 40, 10000000, T0, T0 + 8 * P, T0 + 2 * P,
           SCONE_CONFORMANCE_CONFORMING);
  }
}

static void test_monitor_double_rate_needs_three_periods(void **state) {
  (void)state;
  scone_monitor m;
  scone_monitor_init(&m, NULL, T0);
  steady(&m, 40, 20000000, T0, T0 + 2 * P, UINT64_MAX,
         SCONE_CONFORMANCE_UNKNOWN);
  assert_int_equal(scone_monitor_check(&m, SCONE_DIR_UPLINK, T0 + 2 * P - 1),
                   SCONE_CONFORMANCE_UNKNOWN);
  /* Period 2 has begun: the configured advice carries into it even before
   * the element rewrites another packet. */
  assert_int_equal(scone_monitor_limit(&m, SCONE_DIR_UPLINK, T0 + 2 * P),
                   10000000);
  assert_int_equal(scone_monitor_check(&m, SCONE_DIR_UPLINK, T0 + 2 * P),
                   SCONE_CONFORMANCE_EXCEEDING);
  steady(&m, 40, 20000000, T0 + 2 * P, T0 + 3 * P, T0,
         SCONE_CONFORMANCE_EXCEEDING);
  /* The element stops giving advice: the limit is lifted, and advice given
   * again from a period boundary is judged two periods later. */
  scone_monitor_on_advice(&m, SCONE_DIR_UPLINK, SCONE_SIGNAL_UNKNOWN,
                          T0 + 3 * P - 1);
  for (scone_tstamp t = T0 + 3 * P; t < T0 + 4 * P; t += 100 * MS) {
    scone_monitor_on_bytes(&m, SCONE_DIR_UPLINK, 20000000 / 80, t);
    assert_int_equal(scone_monitor_check(&m, SCONE_DIR_UPLINK, t),
                     SCONE_CONFORMANCE_UNKNOWN);
  }
  steady(&m, 40, 20000000, T0 + 4 * P, T0 + 8 * P, T0 + 6 * P,
         SCONE_CONFORMANCE_EXCEEDING);
}

static void test_monitor_silent_period_resets(void **state) {
  (void)state;
  /* Periods 0 and 1 carry advice, then it is withdrawn for 1..3 periods. */
  for (unsigned skip = 1; skip <= 3; skip++) {
    scone_monitor m;
    scone_monitor_init(&m, NULL, T0);
    scone_monitor_on_advice(&m, SCONE_DIR_UPLINK, 40, T0);
    scone_monitor_on_advice(&m, SCONE_DIR_UPLINK, 40, T0 + P);
    scone_monitor_on_advice(&m, SCONE_DIR_UPLINK, SCONE_SIGNAL_UNKNOWN,
                            T0 + P + 1);
    scone_tstamp back = T0 + (2 + skip) * P;
    scone_monitor_on_advice(&m, SCONE_DIR_UPLINK, 40, back);
    assert_int_equal(scone_monitor_limit(&m, SCONE_DIR_UPLINK, back), 0);
    assert_int_equal(scone_monitor_limit(&m, SCONE_DIR_UPLINK, back + P), 0);
    assert_int_equal(scone_monitor_limit(&m, SCONE_DIR_UPLINK, back + 2 * P),
                     10000000);
  }
}

static void test_monitor_advice_persists_between_rewrites(void **state) {
  (void)state;
  /* One rewrite, then silence: the advice stays configured, so the flow is
   * judged from period 2 on without another call. */
  scone_monitor m;
  scone_monitor_init(&m, NULL, T0);
  scone_monitor_on_advice(&m, SCONE_DIR_DOWNLINK, 40, T0);
  for (scone_tstamp t = T0; t < T0 + 4 * P; t += S) {
    scone_monitor_on_bytes(&m, SCONE_DIR_DOWNLINK, 20000000 / 8, t);
    assert_int_equal(scone_monitor_check(&m, SCONE_DIR_DOWNLINK, t),
                     t < T0 + 2 * P ? SCONE_CONFORMANCE_UNKNOWN
                                    : SCONE_CONFORMANCE_EXCEEDING);
  }
}

/* Puts bytes in the window once three periods carry advice and returns the
 * verdict. */
static scone_conformance judge(scone_duration period, uint32_t tolerance,
                               unsigned signal, uint64_t bytes) {
  scone_monitor m;
  init_with(&m, period, tolerance);
  for (unsigned k = 0; k < 3; k++)
    scone_monitor_on_advice(&m, SCONE_DIR_DOWNLINK, signal, T0 + k * period);
  scone_tstamp t = T0 + 2 * period + period / 2;
  scone_monitor_on_bytes(&m, SCONE_DIR_DOWNLINK, bytes, t);
  return scone_monitor_check(&m, SCONE_DIR_DOWNLINK, t);
}

static void test_monitor_tolerance_edges(void **state) {
  (void)state;
  const scone_conformance OK = SCONE_CONFORMANCE_CONFORMING;
  const scone_conformance OVER = SCONE_CONFORMANCE_EXCEEDING;
  /* 10 Mbit/s * 67 s * 1.10 / 8 = 92125000 bytes exactly. */
  assert_int_equal(judge(P, 10, 40, 92125000), OK);
  assert_int_equal(judge(P, 10, 40, 92125001), OVER);
  /* 112202 bit/s * 67 s / 8 = 939691.75 bytes. */
  assert_int_equal(judge(P, 0, 1, 939691), OK);
  assert_int_equal(judge(P, 0, 1, 939692), OVER);
  /* 141254 bit/s * 67 s * 1.25 / 8 = 1478752.8125 bytes. */
  assert_int_equal(judge(P, 25, 3, 1478752), OK);
  assert_int_equal(judge(P, 25, 3, 1478753), OVER);
  /* A period that is not whole seconds: 1 Mbit/s * 1.5 s / 8 = 187500. */
  assert_int_equal(judge(1500 * MS, 0, 20, 187500), OK);
  assert_int_equal(judge(1500 * MS, 0, 20, 187501), OVER);
  /* 199.5 Gbit/s over 67 s, where 64-bit products would overflow:
   * 199526231497 * 67 * 1.1 / 8 = 1838135407666.1125 bytes. */
  assert_int_equal(judge(P, 10, SCONE_SIGNAL_MAX, 1838135407666ULL), OK);
  assert_int_equal(judge(P, 10, SCONE_SIGNAL_MAX, 1838135407667ULL), OVER);
}

static void test_monitor_tiny_period(void **state) {
  (void)state;
  /* 199526231497 bit/s * 10 ns / 8 = 249.4 bytes. */
  assert_int_equal(judge(10, 0, SCONE_SIGNAL_MAX, 249),
                   SCONE_CONFORMANCE_CONFORMING);
  assert_int_equal(judge(10, 0, SCONE_SIGNAL_MAX, 250),
                   SCONE_CONFORMANCE_EXCEEDING);
  /* Fewer nanoseconds than buckets: the window still spans one period. */
  scone_monitor m;
  init_with(&m, 10, 0);
  assert_int_equal(m.s.nbuckets, 10);
  for (unsigned k = 0; k < 3; k++)
    scone_monitor_on_advice(&m, SCONE_DIR_UPLINK, 126, T0 + k * 10);
  scone_monitor_on_bytes(&m, SCONE_DIR_UPLINK, 250, T0 + 25);
  assert_int_equal(scone_monitor_check(&m, SCONE_DIR_UPLINK, T0 + 25),
                   SCONE_CONFORMANCE_EXCEEDING);
  scone_monitor_on_advice(&m, SCONE_DIR_UPLINK, 126, T0 + 30);
  assert_int_equal(scone_monitor_check(&m, SCONE_DIR_UPLINK, T0 + 34),
                   SCONE_CONFORMANCE_EXCEEDING);
  assert_int_equal(scone_monitor_check(&m, SCONE_DIR_UPLINK, T0 + 35),
                   SCONE_CONFORMANCE_CONFORMING);
}

static void test_monitor_excess_slides_out(void **state) {
  (void)state;
  scone_monitor m;
  init_with(&m, P, 10);
  for (unsigned k = 0; k < 3; k++)
    scone_monitor_on_advice(&m, SCONE_DIR_UPLINK, 40, T0 + k * P);
  scone_tstamp t = T0 + 2 * P;
  scone_monitor_on_bytes(&m, SCONE_DIR_UPLINK, 92125001, t);
  assert_int_equal(scone_monitor_check(&m, SCONE_DIR_UPLINK, t),
                   SCONE_CONFORMANCE_EXCEEDING);
  /* The burst stays in the window for under one period, never longer. */
  assert_int_equal(scone_monitor_check(&m, SCONE_DIR_UPLINK, t + 66 * S - 1),
                   SCONE_CONFORMANCE_EXCEEDING);
  scone_monitor_on_advice(&m, SCONE_DIR_UPLINK, 40, t + P);
  assert_int_equal(scone_monitor_check(&m, SCONE_DIR_UPLINK, t + P),
                   SCONE_CONFORMANCE_CONFORMING);
}

static void test_monitor_lowered_advice_judged_against_old(void **state) {
  (void)state;
  scone_monitor m;
  scone_monitor_init(&m, NULL, T0);
  /* 100 Mbit/s for three periods, then 10 Mbit/s; the flow sends 50. The
   * period in which the advice changed carried the old value at its start,
   * so the old value counts until three periods after the change. */
  steady(&m, 60, 50000000, T0, T0 + 3 * P, T0 + 2 * P,
         SCONE_CONFORMANCE_CONFORMING);
  steady(&m, 40, 50000000, T0 + 3 * P, T0 + 6 * P, T0,
         SCONE_CONFORMANCE_CONFORMING);
  assert_int_equal(scone_monitor_limit(&m, SCONE_DIR_UPLINK, T0 + 6 * P - 1),
                   100000000);
  steady(&m, 40, 50000000, T0 + 6 * P, T0 + 7 * P, T0,
         SCONE_CONFORMANCE_EXCEEDING);
  assert_int_equal(scone_monitor_limit(&m, SCONE_DIR_UPLINK, T0 + 6 * P),
                   10000000);
}

static void test_monitor_raised_advice_applies_at_once(void **state) {
  (void)state;
  scone_monitor m;
  scone_monitor_init(&m, NULL, T0);
  steady(&m, 40, 1000000, T0, T0 + 3 * P, T0 + 2 * P,
         SCONE_CONFORMANCE_CONFORMING);
  scone_monitor_on_advice(&m, SCONE_DIR_UPLINK, 60, T0 + 3 * P);
  assert_int_equal(scone_monitor_limit(&m, SCONE_DIR_UPLINK, T0 + 3 * P),
                   100000000);
  /* The highest applied within a period counts, whatever the order. */
  scone_monitor_on_advice(&m, SCONE_DIR_UPLINK, 20, T0 + 3 * P + S);
  assert_int_equal(m.d[SCONE_DIR_UPLINK].max_sig[0], 60);
}

/* Sends at bps on the uplink every 100 ms over [from, to), applying signal
 * from advised_from on: the verdict must be UNKNOWN until two periods after
 * advised_from (the spec's lookback; anything stricter can misjudge an
 * endpoint still learning the advice) and expect from judged_from, the
 * period boundary where the library's whole-period history starts judging. */
static void late_advice(scone_monitor *m, uint64_t bps, scone_tstamp from,
                        scone_tstamp to, scone_tstamp advised_from,
                        scone_tstamp judged_from, scone_conformance expect) {
  for (scone_tstamp t = from; t < to; t += 100 * MS) {
    if (t >= advised_from)
      scone_monitor_on_advice(m, SCONE_DIR_UPLINK, 40, t);
    scone_monitor_on_bytes(m, SCONE_DIR_UPLINK, bps / 80, t);
    scone_conformance c = scone_monitor_check(m, SCONE_DIR_UPLINK, t);
    if (t < advised_from + 2 * P)
      assert_int_equal(c, SCONE_CONFORMANCE_UNKNOWN);
    else if (t >= judged_from)
      assert_int_equal(c, expect);
  }
}

/* Advice first applied late in a period: the endpoint may learn it only a
 * period later and needs another to adapt, so the second period boundary
 * after it is too early to judge. */
static void test_monitor_advice_begun_mid_period(void **state) {
  (void)state;
  scone_monitor m;
  scone_monitor_init(&m, NULL, T0);
  late_advice(&m, 20000000, T0, T0 + 5 * P, T0 + P - S, T0 + 3 * P,
              SCONE_CONFORMANCE_EXCEEDING);
}

/* Withdrawn advice lifts the limit at once, and advice given again later in
 * the same period is new advice that the endpoint has yet to learn. */
static void test_monitor_withdrawn_then_regiven(void **state) {
  (void)state;
  scone_monitor m;
  scone_monitor_init(&m, NULL, T0);
  steady(&m, 40, 20000000, T0, T0 + 3 * P, T0 + 2 * P,
         SCONE_CONFORMANCE_EXCEEDING);
  scone_monitor_on_advice(&m, SCONE_DIR_UPLINK, SCONE_SIGNAL_UNKNOWN,
                          T0 + 3 * P + S);
  assert_int_equal(scone_monitor_limit(&m, SCONE_DIR_UPLINK, T0 + 3 * P + S),
                   0);
  late_advice(&m, 20000000, T0 + 3 * P + S, T0 + 8 * P, T0 + 3 * P + 60 * S,
              T0 + 6 * P, SCONE_CONFORMANCE_EXCEEDING);
}

static void test_monitor_idle_and_odd_clocks(void **state) {
  (void)state;
  scone_monitor m;
  scone_monitor_init(&m, NULL, T0);
  for (unsigned k = 0; k < 3; k++)
    scone_monitor_on_advice(&m, SCONE_DIR_UPLINK, 50, T0 + k * P);
  assert_int_equal(scone_monitor_limit(&m, SCONE_DIR_UPLINK, T0 + 2 * P),
                   scone_rate_from_signal(50));
  /* A time before init (a clock that stepped back) counts in the newest
   * period instead of rewriting older ones. */
  scone_monitor_on_advice(&m, SCONE_DIR_UPLINK, 70, 0);
  scone_monitor_on_bytes(&m, SCONE_DIR_UPLINK, 5, 0);
  assert_int_equal(scone_monitor_limit(&m, SCONE_DIR_UPLINK, T0 + 2 * P),
                   scone_rate_from_signal(70));
  /* Long idle: the configured advice persists. Withdrawn, it no longer
   * limits anything. */
  assert_int_equal(scone_monitor_limit(&m, SCONE_DIR_UPLINK, T0 + 100 * P),
                   scone_rate_from_signal(70));
  scone_monitor_on_advice(&m, SCONE_DIR_UPLINK, SCONE_SIGNAL_UNKNOWN,
                          T0 + 100 * P);
  assert_int_equal(scone_monitor_limit(&m, SCONE_DIR_UPLINK, T0 + 100 * P), 0);
  assert_int_equal(scone_monitor_limit(&m, SCONE_DIR_UPLINK, T0 + 101 * P), 0);
  assert_int_equal(scone_monitor_check(&m, SCONE_DIR_UPLINK, UINT64_MAX),
                   SCONE_CONFORMANCE_UNKNOWN);
}

static void test_monitor_huge_settings_do_not_overflow(void **state) {
  (void)state;
  scone_monitor m;
  scone_monitor_settings s;
  scone_monitor_settings_default(&s);
  const uint64_t bps = scone_rate_from_signal(SCONE_SIGNAL_MAX);
  /* rate * period is just over 2^96 and 100 + tolerance is 2^32, so the
   * allowance, scaled, is just over 2^128: a wrapped product would be tiny
   * and condemn an ordinary byte count. */
  s.period = (scone_duration)(((unsigned __int128)1 << 96) / bps + 1);
  s.tolerance_pct = UINT32_MAX - 99;
  scone_monitor_init(&m, &s, 0);
  for (unsigned k = 0; k < 3; k++)
    scone_monitor_on_advice(&m, SCONE_DIR_UPLINK, SCONE_SIGNAL_MAX,
                            k * s.period);
  scone_monitor_on_bytes(&m, SCONE_DIR_UPLINK, (uint64_t)1 << 40, 2 * s.period);
  assert_int_equal(scone_monitor_check(&m, SCONE_DIR_UPLINK, 2 * s.period),
                   SCONE_CONFORMANCE_CONFORMING);
  scone_monitor_on_bytes(&m, SCONE_DIR_UPLINK, UINT64_MAX, 2 * s.period);
  assert_int_equal(scone_monitor_check(&m, SCONE_DIR_UPLINK, 2 * s.period),
                   SCONE_CONFORMANCE_CONFORMING);
}

/* A sender that follows scone_budget (own clock phase, own bucket size) is
 * never judged EXCEEDING, even with no tolerance. */
static void test_monitor_budgeted_sender_never_exceeds(void **state) {
  (void)state;
  const uint32_t budget_buckets[] = {67, 10, 1};
  for (size_t i = 0; i < 3; i++) {
    scone_monitor m;
    init_with(&m, P, 0);
    scone_budget b;
    scone_budget_init(&b, P, budget_buckets[i]);
    const unsigned sig = 30;
    scone_budget_set_rate(&b, scone_rate_from_signal(sig));
    unsigned judged = 0;
    uint64_t total = 0;
    for (scone_tstamp t = T0 + 333 * MS; t < T0 + 10 * P;
         t += 1 + rng() % (400 * MS)) {
      scone_monitor_on_advice(&m, SCONE_DIR_DOWNLINK, sig, t);
      uint64_t pkt = 1 + rng() % 1400;
      while (scone_budget_available(&b, t) >= pkt) {
        scone_budget_consume(&b, t, pkt);
        scone_monitor_on_bytes(&m, SCONE_DIR_DOWNLINK, pkt, t);
        total += pkt;
      }
      scone_conformance c = scone_monitor_check(&m, SCONE_DIR_DOWNLINK, t);
      assert_int_not_equal(c, SCONE_CONFORMANCE_EXCEEDING);
      judged += c == SCONE_CONFORMANCE_CONFORMING;
    }
    assert_true(judged > 1000);
    /* Even the coarsest budget sent over four periods' worth, so the
     * check had something to judge. */
    assert_true(total > 4 * scone_rate_from_signal(sig) * 67 / 8);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_monitor_defaults),
      cmocka_unit_test(test_monitor_unknown_before_advice),
      cmocka_unit_test(test_monitor_conforming_flow_stays_conforming),
      cmocka_unit_test(test_monitor_double_rate_needs_three_periods),
      cmocka_unit_test(test_monitor_silent_period_resets),
      cmocka_unit_test(test_monitor_advice_persists_between_rewrites),
      cmocka_unit_test(test_monitor_tolerance_edges),
      cmocka_unit_test(test_monitor_tiny_period),
      cmocka_unit_test(test_monitor_excess_slides_out),
      cmocka_unit_test(test_monitor_lowered_advice_judged_against_old),
      cmocka_unit_test(test_monitor_raised_advice_applies_at_once),
      cmocka_unit_test(test_monitor_advice_begun_mid_period),
      cmocka_unit_test(test_monitor_withdrawn_then_regiven),
      cmocka_unit_test(test_monitor_idle_and_odd_clocks),
      cmocka_unit_test(test_monitor_huge_settings_do_not_overflow),
      cmocka_unit_test(test_monitor_budgeted_sender_never_exceeds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
