/*
 * ABR rules on a recorded throughput sequence, and their parameters: the
 * EWMA estimate, the throughput rule's safety factor, BOLA's buffer
 * mapping, DYNAMIC's hysteresis, the SCONE cap.
 */
#include "video_test.h"

/* Throughput in kbit/s, 2 s at a time, of the AT&T LTE downlink trace
 * recorded while driving (Mahimahi's ATT-LTE-driving-2016.down, from
 * Winstein et al., NSDI 2013): the first 120 s. */
static const uint32_t att_kbps[] = {
    22380, 11106, 8310, 3036, 1458, 3660,  8526, 5754, 2802, 1626, 1158, 498,
    528,   1776,  3402, 3372, 3096, 2766,  3822, 2646, 3024, 3702, 3648, 3852,
    4530,  3618,  3564, 4422, 5526, 3498,  4020, 4050, 3726, 3756, 1332, 7218,
    10350, 10968, 8148, 6606, 4398, 12372, 3126, 1986, 468,  1068, 1530, 1080,
    1338,  6540,  6876, 4890, 6396, 1470,  5202, 7698, 1518, 3276, 4488, 6612};
#define NTRACE (sizeof att_kbps / sizeof att_kbps[0])

static uint64_t ladder[SCONE_VIDEO_LADDER_RUNGS];

static int setup(void **state) {
  (void)state;
  for (size_t i = 0; i < SCONE_VIDEO_LADDER_RUNGS; i++)
    ladder[i] = scone_video_ladder[i].bps;
  return 0;
}

static void feed(scone_video_throughput *t, uint32_t kbps) {
  /* A 2 s download at that rate. */
  scone_video_throughput_sample(t, (uint64_t)kbps * 1000 / 8 * 2, 2 * S);
}

static void test_ewma(void **state) {
  (void)state;
  scone_video_abr_settings s;
  scone_video_abr_settings_default(&s);
  scone_video_throughput t;
  scone_video_throughput_init(&t, &s);
  assert_int_equal(scone_video_throughput_estimate(&t), 0);
  /* A constant rate is estimated exactly from the first sample on: the
   * zero-start bias is corrected. */
  feed(&t, 4000);
  uint64_t e = scone_video_throughput_estimate(&t);
  assert_true(e > 3999000 && e < 4001000);
  for (int i = 0; i < 10; i++)
    feed(&t, 4000);
  e = scone_video_throughput_estimate(&t);
  assert_true(e > 3999000 && e < 4001000);
  /* A drop pulls the fast average, and so the estimate, down within one
   * sample (2 s of a 3 s half-life: 0.63 * 4 + 0.37 * 1 = 2.89 Mbit/s);
   * a rise moves it only as the slow one follows. */
  feed(&t, 1000);
  e = scone_video_throughput_estimate(&t);
  assert_true(e > 2850000 && e < 2950000);
  scone_video_throughput_init(&t, &s);
  for (int i = 0; i < 10; i++)
    feed(&t, 1000);
  feed(&t, 8000);
  e = scone_video_throughput_estimate(&t);
  assert_true(e > 1000000 && e < 4000000);
  /* Transfers too small to time are no sample. */
  assert_int_equal(scone_video_throughput_sample(&t, 5000, S), 0);
  assert_int_equal(scone_video_throughput_sample(&t, 50000, 0), 0);
}

static void test_throughput_rule(void **state) {
  (void)state;
  size_t n = SCONE_VIDEO_LADDER_RUNGS;
  /* 0.9 * 1.2 Mbit/s = 1.08: 1050k fits, 1750k does not. */
  assert_int_equal(scone_video_abr_throughput_rule(ladder, n, 1200000, 90), 4);
  /* Exactly at the safety line fits. */
  assert_int_equal(scone_video_abr_throughput_rule(ladder, n, 1000000, 75), 3);
  assert_int_equal(scone_video_abr_throughput_rule(ladder, n, 100000, 90), 0);
  assert_int_equal(scone_video_abr_throughput_rule(ladder, n, UINT64_MAX, 90),
                   9);
}

static void test_bola_rule(void **state) {
  (void)state;
  scone_video_abr_settings s;
  scone_video_abr_settings_default(&s);
  size_t n = SCONE_VIDEO_LADDER_RUNGS;
  /* Empty buffer: the lowest; the buffer target for the top rung is
   * max(12, 10 + 2 * 10) = 30 s. */
  assert_int_equal(scone_video_abr_bola_rule(ladder, n, 0, &s), 0);
  assert_int_equal(scone_video_abr_bola_rule(ladder, n, 30 * S, &s), 9);
  /* Monotone in the buffer level, and every rung is reachable. */
  size_t prev = 0, seen = 0;
  for (scone_duration q = 0; q <= 32 * S; q += 100 * MS) {
    size_t r = scone_video_abr_bola_rule(ladder, n, q, &s);
    assert_true(r >= prev);
    if (r != prev)
      seen++;
    prev = r;
  }
  assert_true(seen >= 6);
  /* One rung: nothing to choose. */
  assert_int_equal(scone_video_abr_bola_rule(ladder, 1, 20 * S, &s), 0);
}

/* The recorded sequence through the full decision, with and without the
 * SCONE cap, with the buffer held as a steady player would have it. */
static void test_recorded_sequence(void **state) {
  (void)state;
  scone_video_abr a, capped;
  assert_int_equal(scone_video_abr_init(&a, NULL), 0);
  assert_int_equal(scone_video_abr_init(&capped, NULL), 0);
  uint64_t cap = 1271000 - 128000; /* 1.5 Mbit/s plan: advice less margin,
                                      less audio */
  size_t n = SCONE_VIDEO_LADDER_RUNGS;
  int above_cap = 0, switches = 0, last = -1;
  for (size_t i = 0; i < NTRACE; i++) {
    scone_duration level = 8 * S; /* throughput rule territory */
    int r = scone_video_abr_choose(&a, ladder, n, level, 0, 0);
    int c = scone_video_abr_choose(&capped, ladder, n, level, cap, 0);
    assert_true(r >= 0 && c >= 0);
    uint64_t est = scone_video_throughput_estimate(&a.tput);
    if (est == 0)
      est = 1000000;
    /* The throughput rule: never above 0.9 of the estimate (unless the
     * lowest rung is). */
    assert_true(r == 0 || ladder[r] * 100 <= est * 90);
    /* The cap holds whatever the path measures... */
    assert_true(ladder[c] <= cap || c == 0);
    /* ... and under it the choices are the uncapped ones, clamped. */
    assert_int_equal(c, r < 4 ? r : 4);
    above_cap += ladder[r] > cap;
    switches += last >= 0 && r != last;
    last = r;
    feed(&a.tput, att_kbps[i]);
    feed(&capped.tput, att_kbps[i]);
  }
  /* The trace is fast enough to want more than the plan most of the time,
   * and varied enough to make the rule switch. */
  assert_true(above_cap > (int)NTRACE / 2);
  assert_true(switches > 10);
}

static void test_dynamic(void **state) {
  (void)state;
  scone_video_abr a;
  assert_int_equal(scone_video_abr_init(&a, NULL), 0);
  size_t n = SCONE_VIDEO_LADDER_RUNGS;
  for (int i = 0; i < 5; i++)
    feed(&a.tput, 2000); /* rule: 0.9 * 2 M -> 1750k */
  assert_int_equal(scone_video_abr_choose(&a, ladder, n, 5 * S, 0, 0), 5);
  assert_false(a.using_bola);
  /* BOLA once the buffer passes 12 s; BOLA-O holds an up-switch to what
   * the throughput rule allows (or the current rung). */
  assert_int_equal(scone_video_abr_choose(&a, ladder, n, 29 * S, 0, 0), 5);
  assert_true(a.using_bola);
  /* Hysteresis: stays on BOLA down to 6 s. */
  scone_video_abr_choose(&a, ladder, n, 7 * S, 0, 0);
  assert_true(a.using_bola);
  assert_int_equal(scone_video_abr_choose(&a, ladder, n, 5 * S, 0, 0), 5);
  assert_false(a.using_bola);
  /* BOLA alone starts from the throughput rule's rung (1 Mbit/s before
   * any sample: 750k), through the placeholder, not from the empty
   * buffer's lowest rung... */
  scone_video_abr_settings s;
  scone_video_abr_settings_default(&s);
  s.rule = SCONE_VIDEO_ABR_BOLA;
  assert_int_equal(scone_video_abr_init(&a, &s), 0);
  int first = scone_video_abr_choose(&a, ladder, n, 0, 0, 0);
  assert_true(first >= 2 && first <= 3);
  assert_true(a.placeholder > 5);
  /* ... idle time adds to the placeholder (a paced wait must not look
   * like a draining buffer), and a full placeholder is trimmed to what
   * the rung chosen needs. */
  double before = a.placeholder;
  scone_video_abr_download_done(&a, 10 * S);
  scone_video_abr_choose(&a, ladder, n, 0, 0, 14 * S);
  assert_true(a.placeholder > before);
  scone_video_abr_download_done(&a, 14 * S);
  scone_video_abr_choose(&a, ladder, n, 0, 0, 1000 * S);
  assert_true(a.placeholder < 40);
  /* The cap applies under every rule: BOLA's full buffer picks the top of
   * what is allowed. */
  assert_int_equal(scone_video_abr_choose(&a, ladder, n, 30 * S, 800000, 0), 3);
  s.rule = SCONE_VIDEO_ABR_THROUGHPUT;
  assert_int_equal(scone_video_abr_init(&a, &s), 0);
  for (int i = 0; i < 5; i++)
    feed(&a.tput, 50000);
  assert_int_equal(scone_video_abr_choose(&a, ladder, n, 30 * S, 0, 0), 9);
  assert_int_equal(scone_video_abr_choose(&a, ladder, n, 30 * S, 3000000, 0),
                   7);
  assert_int_equal(scone_video_abr_choose(&a, ladder, n, 30 * S, 1, 0), 0);

  /* Bad input. */
  const uint64_t unsorted[] = {2, 1};
  assert_int_equal(scone_video_abr_choose(&a, unsorted, 2, 0, 0, 0),
                   SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(scone_video_abr_choose(&a, ladder, 0, 0, 0, 0),
                   SCONE_ERR_INVALID_ARGUMENT);
  s.safety_pct = 0;
  assert_int_equal(scone_video_abr_init(&a, &s), SCONE_ERR_INVALID_ARGUMENT);
  scone_video_abr_settings_default(&s);
  s.version = 0;
  assert_int_equal(scone_video_abr_init(&a, &s), SCONE_ERR_INVALID_ARGUMENT);
}

static void test_pacer(void **state) {
  (void)state;
  scone_video_pacer p;
  scone_video_pacer_init(&p, 1);
  /* No advice: no limit. */
  assert_true(scone_video_pacer_available(&p, 0) == UINT64_MAX);
  assert_true(scone_video_pacer_when(&p, 1 << 30, 5 * S) == 5 * S);

  /* 1.2 Mbit/s over 67 s: 10,050,000 bytes, bursts included. */
  scone_video_pacer_set_cap(&p, 1200000);
  assert_int_equal(scone_video_pacer_available(&p, 0), 10050000);
  scone_video_pacer_consume(&p, 9000000, 1 * S);
  assert_int_equal(scone_video_pacer_available(&p, 2 * S), 1050000);
  /* 2 MB fit only once the burst's bucket has left the window: 67 s of
   * one-second buckets after the one it was counted in. */
  scone_tstamp when = scone_video_pacer_when(&p, 2000000, 2 * S);
  assert_true(when == 69 * S);
  /* More than a whole period allows: when the window is empty. */
  assert_true(scone_video_pacer_when(&p, 20000000, 2 * S) == 69 * S);
  /* (Asking the budget itself moves its window on.) */
  assert_true(scone_video_pacer_available(&p, when - 1) < 2000000);
  assert_true(scone_video_pacer_available(&p, when) >= 2000000);
  scone_video_pacer_init(&p, 1);
  scone_video_pacer_set_cap(&p, 1200000);
  scone_video_pacer_consume(&p, 9000000, 1 * S);

  /* A higher cap keeps the window; a lower one starts a new one. */
  scone_video_pacer_set_cap(&p, 2400000);
  assert_int_equal(scone_video_pacer_available(&p, 3 * S), 20100000 - 9000000);
  scone_video_pacer_set_cap(&p, 600000);
  assert_int_equal(scone_video_pacer_available(&p, 3 * S), 5025000);
  /* Without the reset, it counts against the new cap. */
  scone_video_pacer_init(&p, 0);
  scone_video_pacer_set_cap(&p, 1200000);
  scone_video_pacer_consume(&p, 9000000, 1 * S);
  scone_video_pacer_set_cap(&p, 600000);
  assert_int_equal(scone_video_pacer_available(&p, 3 * S), 0);
  /* Expired advice lifts the limit. */
  scone_video_pacer_set_cap(&p, 0);
  assert_true(scone_video_pacer_available(&p, 3 * S) == UINT64_MAX);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ewma),
      cmocka_unit_test(test_throughput_rule),
      cmocka_unit_test(test_bola_rule),
      cmocka_unit_test(test_recorded_sequence),
      cmocka_unit_test(test_dynamic),
      cmocka_unit_test(test_pacer),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
