/* scone_budget: simulated senders that spend what they are given, checked
 * against an exact reference over every period-long interval. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <scone/scone.h>

#define S SCONE_SECONDS
#define P SCONE_PERIOD

static uint64_t rng_state = 0xd1b54a32d192ed03ULL;

static uint64_t rng(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

/* Reference cap: bps * period / 8, rounded down. */
static uint64_t cap_of(uint64_t bps, scone_duration period) {
  return (uint64_t)((unsigned __int128)bps * period / (8 * S));
}

static void test_budget_no_advice_is_unlimited(void **state) {
  (void)state;
  scone_budget b;
  scone_budget_init(&b, 0, 0);
  assert_true(b.period == SCONE_PERIOD);
  assert_true(scone_budget_available(&b, S) == UINT64_MAX);
  scone_budget_consume(&b, S, 1000);
  assert_true(scone_budget_available(&b, 2 * S) == UINT64_MAX);
  /* What went out before advice arrived still counts against it. */
  scone_budget_set_rate(&b, 1000000);
  assert_int_equal(scone_budget_available(&b, 2 * S),
                   cap_of(1000000, P) - 1000);
  scone_budget_set_rate(&b, 0);
  assert_true(scone_budget_available(&b, 2 * S) == UINT64_MAX);
}

static void test_budget_cap_at_highest_rate(void **state) {
  (void)state;
  scone_budget b;
  scone_budget_init(&b, 0, 0);
  uint64_t bps = scone_rate_from_signal(SCONE_SIGNAL_MAX);
  scone_budget_set_rate(&b, bps);
  /* bps * 67e9 ns overflows 64 bits; the cap must not. */
  assert_true(bps > UINT64_MAX / P);
  /* 199526231497 * 67 / 8 = 1671032188787.375 */
  assert_int_equal(scone_budget_available(&b, 0), 1671032188787ULL);
  /* An absurd rate saturates instead of wrapping. */
  scone_budget_set_rate(&b, UINT64_MAX);
  scone_budget_consume(&b, 0, 10);
  assert_true(scone_budget_available(&b, 0) == UINT64_MAX - 10);
}

static void test_budget_rounds_cap_down(void **state) {
  (void)state;
  scone_budget b;
  scone_budget_init(&b, 3 * S, 3);
  scone_budget_set_rate(&b, 101); /* 303 bits: 37.875 bytes */
  assert_int_equal(scone_budget_available(&b, 0), 37);
}

static void test_budget_returns_after_window_slides(void **state) {
  (void)state;
  scone_budget b;
  scone_budget_init(&b, 0, 0);
  const uint64_t bps = scone_rate_from_signal(60);
  const uint64_t cap = cap_of(bps, P);
  scone_budget_set_rate(&b, bps);
  const scone_tstamp t0 = 100 * S + S / 2;
  assert_int_equal(scone_budget_available(&b, t0), cap);
  scone_budget_consume(&b, t0, cap / 2);
  scone_budget_consume(&b, t0 + 30 * S, cap - cap / 2);
  /* Exactness requires nothing until t0 + P; buckets hold it one partial
   * bucket longer, until the start of the 68th bucket after t0's. */
  assert_int_equal(scone_budget_available(&b, t0 + 30 * S), 0);
  assert_int_equal(scone_budget_available(&b, t0 + P - 1), 0);
  assert_int_equal(scone_budget_available(&b, t0 + P), 0);
  assert_int_equal(scone_budget_available(&b, 168 * S - 1), 0);
  assert_int_equal(scone_budget_available(&b, 168 * S), cap / 2);
  assert_int_equal(scone_budget_available(&b, 198 * S - 1), cap / 2);
  assert_int_equal(scone_budget_available(&b, 198 * S), cap);
}

static void test_budget_lower_rate_gives_zero(void **state) {
  (void)state;
  scone_budget b;
  scone_budget_init(&b, 0, 0);
  scone_budget_set_rate(&b, scone_rate_from_signal(80));
  scone_budget_consume(&b, S, scone_budget_available(&b, S));
  scone_budget_set_rate(&b, scone_rate_from_signal(40));
  assert_int_equal(scone_budget_available(&b, 2 * S), 0);
}

enum { MAXSENDS = 400000 };
static scone_tstamp send_t[MAXSENDS];
static uint64_t prefix[MAXSENDS + 1]; /* prefix[i]: bytes of sends 0..i-1 */
static size_t nsends;

/* Index of the first send at a time > x. */
static size_t first_after(scone_tstamp x) {
  size_t lo = 0, hi = nsends;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (send_t[mid] > x)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

/* Bytes sent at times in (from, to], to being the latest send time or
 * later. */
static uint64_t sent_since(scone_tstamp from) {
  return prefix[nsends] - prefix[first_after(from)];
}

struct sim {
  scone_duration period;
  uint32_t nbuckets;  /* as passed to init */
  uint32_t effective; /* after the library's clamping */
  unsigned signal;    /* for run_sim; run_sim_rate takes a rate instead */
  scone_duration max_tick;
  uint32_t max_packet; /* 0: send everything available at once */
  unsigned periods;
};

static void record(scone_tstamp t, uint64_t bytes) {
  assert_true(nsends < MAXSENDS);
  send_t[nsends] = t;
  prefix[nsends + 1] = prefix[nsends] + bytes;
  nsends++;
}

/* Before every send, available() must leave every interval of one period
 * ending now within the cap, and must not hold back more than bucketing
 * explains: at least the cap minus what went out in the n + 1 buckets. */
static void check_available(const struct sim *c, uint64_t cap, scone_tstamp t,
                            uint64_t avail) {
  uint64_t n = c->effective;
  uint64_t width = c->period / n + (c->period % n != 0);
  uint64_t exact = sent_since(t - c->period);
  uint64_t coarse = sent_since(t - (n + 1) * width);
  assert_true(exact + avail <= cap);
  assert_true(avail >= (coarse < cap ? cap - coarse : 0));
}

static void run_sim_rate(const struct sim *c, uint64_t bps) {
  scone_budget b;
  scone_budget_init(&b, c->period, c->nbuckets);
  assert_int_equal(b.win.nbuckets, c->effective + 1);
  const uint64_t cap = cap_of(bps, c->period);
  scone_budget_set_rate(&b, bps);
  nsends = 0;
  prefix[0] = 0;
  /* Late enough that every lookback below stays after time zero. */
  scone_tstamp t = 12345 * S + 6789;
  const scone_tstamp end = t + c->periods * c->period;
  unsigned starved = 0;
  while (t < end) {
    uint64_t avail = scone_budget_available(&b, t);
    check_available(c, cap, t, avail);
    starved += avail < (c->max_packet ? c->max_packet : 1);
    if (c->max_packet == 0) {
      if (avail > 0) {
        scone_budget_consume(&b, t, avail);
        record(t, avail);
      }
    } else {
      for (;;) {
        uint64_t pkt = 1 + rng() % c->max_packet;
        if (pkt > avail)
          break;
        scone_budget_consume(&b, t, pkt);
        record(t, pkt);
        avail = scone_budget_available(&b, t);
        check_available(c, cap, t, avail);
      }
    }
    t += 1 + rng() % c->max_tick;
  }
  /* The sender both hit the limit and got budget back, many times. */
  assert_true(starved > 10);
  assert_true(prefix[nsends] >= (uint64_t)(c->periods / 3) * cap);

  /* Every interval [send_i, send_i + period) (the worst intervals start at a
   * send) carries at most the cap. */
  uint64_t worst = 0;
  size_t j = 0;
  for (size_t i = 0; i < nsends; i++) {
    while (j < nsends && send_t[j] - send_t[i] < c->period)
      j++;
    uint64_t in = prefix[j] - prefix[i];
    assert_true(in <= cap);
    if (in > worst)
      worst = in;
  }
  /* ...and the sender is not kept needlessly far below it. */
  assert_true(worst >= cap - cap / 10);
}

static void run_sim(const struct sim *c) {
  run_sim_rate(c, scone_rate_from_signal(c->signal));
}

static void test_budget_greedy_sender_never_exceeds(void **state) {
  (void)state;
  const struct sim sims[] = {
      {P, 0, 67, 60, S / 2, 0, 12},
      {P, 67, 67, 20, 3 * S, 0, 12},
      {10 * S, 3, 3, 40, S / 3, 0, 40},
      {P, 1, 1, 30, 5 * S, 0, 20},
      {P, 500, 67, 126, S / 7, 0, 12},
      {7 * S, 68, 67, 0, 10 * SCONE_MILLISECONDS, 0, 30},
  };
  for (size_t i = 0; i < sizeof sims / sizeof sims[0]; i++)
    run_sim(&sims[i]);
}

static void test_budget_packet_sender_never_exceeds(void **state) {
  (void)state;
  const struct sim sims[] = {
      {P, 0, 67, 20, 20 * SCONE_MILLISECONDS, 1500, 8},
      {10 * S, 7, 7, 10, 5 * SCONE_MILLISECONDS, 1200, 30},
  };
  for (size_t i = 0; i < sizeof sims / sizeof sims[0]; i++)
    run_sim(&sims[i]);
}

/* Nanosecond periods at 1 byte/ns make every bucket edge reachable: each
 * (period, nbuckets) pair, including uneven splits, is run tick by tick. */
static void test_budget_tiny_periods_every_split(void **state) {
  (void)state;
  for (scone_duration period = 2; period <= 40; period++) {
    for (uint32_t n = 1; n <= period + 2; n++) {
      struct sim c = {period, n, n, 0, 2, 0, 30};
      run_sim_rate(&c, 8 * S); /* one byte per ns: cap = period bytes */
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_budget_no_advice_is_unlimited),
      cmocka_unit_test(test_budget_cap_at_highest_rate),
      cmocka_unit_test(test_budget_rounds_cap_down),
      cmocka_unit_test(test_budget_returns_after_window_slides),
      cmocka_unit_test(test_budget_lower_rate_gives_zero),
      cmocka_unit_test(test_budget_greedy_sender_never_exceeds),
      cmocka_unit_test(test_budget_packet_sender_never_exceeds),
      cmocka_unit_test(test_budget_tiny_periods_every_split),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
