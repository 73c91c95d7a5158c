/* scone_advice_tracker: lowest advice within a period, exact period edges,
 * change reports, and a randomised check against a brute-force minimum. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <scone/scone.h>

#define S SCONE_SECONDS
#define P SCONE_PERIOD

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t rng(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static unsigned signal_at(const scone_advice_tracker *t, scone_tstamp now) {
  scone_advice a;
  scone_advice_tracker_get(t, now, &a);
  return a.signal;
}

static void test_advice_unknown_initially(void **state) {
  (void)state;
  scone_advice_tracker t;
  scone_advice_tracker_init(&t, 0);
  assert_true(t.period == SCONE_PERIOD);
  scone_advice a;
  scone_advice_tracker_get(&t, 5 * S, &a);
  assert_int_equal(a.signal, SCONE_SIGNAL_UNKNOWN);
  assert_int_equal(a.bps, 0);
  assert_int_equal(a.expires_at, 0);
  assert_int_equal(a.received_at, 0);
  assert_true(scone_advice_tracker_next_expiry(&t) == UINT64_MAX);
  assert_int_equal(scone_advice_tracker_expire(&t, 100 * S), 0);
}

static void test_advice_lowest_wins(void **state) {
  (void)state;
  scone_advice_tracker t;
  scone_advice_tracker_init(&t, 0);
  assert_int_equal(scone_advice_tracker_on_signal(&t, 50, 0), 1);
  assert_int_equal(scone_advice_tracker_on_signal(&t, 80, 10 * S), 0);
  assert_int_equal(signal_at(&t, 10 * S), 50);
  assert_int_equal(scone_advice_tracker_on_signal(&t, 30, 20 * S), 1);
  scone_advice a;
  scone_advice_tracker_get(&t, 20 * S, &a);
  assert_int_equal(a.signal, 30);
  assert_true(a.bps == scone_rate_from_signal(30));
  assert_true(a.received_at == 20 * S);
  assert_true(a.expires_at == 20 * S + P);
  /* A higher signal later in the period does not lift it. */
  assert_int_equal(scone_advice_tracker_on_signal(&t, 126, 30 * S), 0);
  scone_advice_tracker_get(&t, 30 * S, &a);
  assert_int_equal(a.signal, 30);
  assert_true(a.received_at == 30 * S);
}

static void test_advice_higher_only_after_lower_ages_out(void **state) {
  (void)state;
  scone_advice_tracker t;
  scone_advice_tracker_init(&t, 0);
  const scone_tstamp t0 = 1000 * S;
  scone_advice_tracker_on_signal(&t, 30, t0);
  scone_advice_tracker_on_signal(&t, 50, t0 + 10 * S);
  assert_int_equal(scone_advice_tracker_expire(&t, t0 + P - 1), 0);
  assert_int_equal(signal_at(&t, t0 + P - 1), 30);
  /* 30 lapses; 50, received within the last period, takes over. */
  assert_int_equal(scone_advice_tracker_expire(&t, t0 + P), 1);
  scone_advice a;
  scone_advice_tracker_get(&t, t0 + P, &a);
  assert_int_equal(a.signal, 50);
  assert_true(a.expires_at == t0 + 10 * S + P);
  assert_true(a.received_at == t0 + 10 * S);
  assert_int_equal(scone_advice_tracker_expire(&t, t0 + 10 * S + P - 1), 0);
  assert_int_equal(scone_advice_tracker_expire(&t, t0 + 10 * S + P), 1);
  scone_advice_tracker_get(&t, t0 + 10 * S + P, &a);
  assert_int_equal(a.signal, SCONE_SIGNAL_UNKNOWN);
  assert_int_equal(a.bps, 0);
  assert_int_equal(a.expires_at, 0);
  /* The last receipt time is still reported after expiry. */
  assert_true(a.received_at == t0 + 10 * S);
  assert_int_equal(scone_advice_tracker_expire(&t, t0 + 10 * P), 0);
}

static void test_advice_exact_period_edges(void **state) {
  (void)state;
  scone_advice_tracker t;
  const scone_duration period = 5 * S;
  scone_advice_tracker_init(&t, period);
  const scone_tstamp at = 777;
  scone_advice_tracker_on_signal(&t, 42, at);
  /* In force for at <= now < at + period; get() needs no _expire call. */
  assert_int_equal(signal_at(&t, at), 42);
  assert_int_equal(signal_at(&t, at + period - 1), 42);
  assert_int_equal(signal_at(&t, at + period), SCONE_SIGNAL_UNKNOWN);
  assert_true(scone_advice_tracker_next_expiry(&t) == at + period);
  assert_int_equal(scone_advice_tracker_expire(&t, at + period - 1), 0);
  assert_int_equal(scone_advice_tracker_expire(&t, at + period), 1);
  assert_true(scone_advice_tracker_next_expiry(&t) == UINT64_MAX);
}

static void test_advice_repeat_renews_without_report(void **state) {
  (void)state;
  scone_advice_tracker t;
  scone_advice_tracker_init(&t, 0);
  assert_int_equal(scone_advice_tracker_on_signal(&t, 40, 0), 1);
  assert_int_equal(scone_advice_tracker_on_signal(&t, 40, 5 * S), 0);
  assert_true(scone_advice_tracker_next_expiry(&t) == 5 * S + P);
  /* Past the first receipt's edge, the renewal holds it in force. */
  assert_int_equal(scone_advice_tracker_expire(&t, P), 0);
  assert_int_equal(signal_at(&t, P), 40);
  assert_int_equal(scone_advice_tracker_expire(&t, 5 * S + P), 1);
}

static void test_advice_unknown_signal_ignored(void **state) {
  (void)state;
  scone_advice_tracker t;
  scone_advice_tracker_init(&t, 0);
  assert_int_equal(
      scone_advice_tracker_on_signal(&t, SCONE_SIGNAL_UNKNOWN, 3 * S), 0);
  assert_int_equal(scone_advice_tracker_on_signal(&t, 200, 3 * S), 0);
  scone_advice a;
  scone_advice_tracker_get(&t, 3 * S, &a);
  assert_int_equal(a.signal, SCONE_SIGNAL_UNKNOWN);
  assert_int_equal(a.received_at, 0);
  assert_true(scone_advice_tracker_next_expiry(&t) == UINT64_MAX);

  scone_advice_tracker_on_signal(&t, 60, 4 * S);
  /* 127 neither replaces nor renews advice. */
  assert_int_equal(
      scone_advice_tracker_on_signal(&t, SCONE_SIGNAL_UNKNOWN, 10 * S), 0);
  scone_advice_tracker_get(&t, 10 * S, &a);
  assert_int_equal(a.signal, 60);
  assert_true(a.received_at == 4 * S);
  assert_true(a.expires_at == 4 * S + P);
}

static void test_advice_next_expiry(void **state) {
  (void)state;
  scone_advice_tracker t;
  scone_advice_tracker_init(&t, 0);
  scone_advice_tracker_on_signal(&t, 30, 0);
  scone_advice_tracker_on_signal(&t, 50, 10 * S);
  scone_advice_tracker_on_signal(&t, 70, 20 * S);
  scone_tstamp next = scone_advice_tracker_next_expiry(&t);
  assert_true(next == P);
  /* A timer driven by next_expiry sees every step up, then unknown. */
  const unsigned steps[] = {50, 70, SCONE_SIGNAL_UNKNOWN};
  for (unsigned i = 0; i < 3; i++) {
    assert_int_equal(scone_advice_tracker_expire(&t, next - 1), 0);
    assert_int_equal(scone_advice_tracker_expire(&t, next), 1);
    assert_int_equal(signal_at(&t, next), steps[i]);
    next = scone_advice_tracker_next_expiry(&t);
  }
  assert_true(next == UINT64_MAX);
}

static void test_advice_lapse_during_on_signal(void **state) {
  (void)state;
  scone_advice_tracker t;
  scone_advice_tracker_init(&t, 0);
  scone_advice_tracker_on_signal(&t, 20, 0);
  /* 20 has lapsed by the time 90 arrives: the change is reported here. */
  assert_int_equal(scone_advice_tracker_on_signal(&t, 90, P), 1);
  assert_int_equal(signal_at(&t, P), 90);
  /* Lapse and arrival that net out are no change. */
  assert_int_equal(scone_advice_tracker_on_signal(&t, 90, 2 * P), 0);
}

static void test_advice_backwards_clock(void **state) {
  (void)state;
  scone_advice_tracker t;
  scone_advice_tracker_init(&t, 0);
  scone_advice_tracker_on_signal(&t, 50, 100 * S);
  /* Received "earlier" than the last advice: read as received at 100 s. */
  assert_int_equal(scone_advice_tracker_on_signal(&t, 40, 90 * S), 1);
  scone_advice a;
  scone_advice_tracker_get(&t, 100 * S, &a);
  assert_int_equal(a.signal, 40);
  assert_true(a.received_at == 100 * S);
  assert_true(a.expires_at == 100 * S + P);
  /* An expire call with an old time removes nothing. */
  assert_int_equal(scone_advice_tracker_expire(&t, 0), 0);
  assert_int_equal(signal_at(&t, 100 * S + P - 1), 40);
}

static void test_advice_full_queue(void **state) {
  (void)state;
  scone_advice_tracker t;
  scone_advice_tracker_init(&t, 0);
  /* Rising signals are all kept: 127 entries, one per value. */
  for (unsigned round = 0; round < 3; round++) {
    scone_tstamp base = (scone_tstamp)round * 10 * P;
    for (unsigned s = 0; s <= SCONE_SIGNAL_MAX; s++)
      scone_advice_tracker_on_signal(&t, s, base + s * (S / 10));
    assert_int_equal(t.count, SCONE_SIGNAL_MAX + 1);
    for (unsigned s = 0; s <= SCONE_SIGNAL_MAX; s++) {
      scone_tstamp edge = base + s * (S / 10) + P;
      assert_int_equal(scone_advice_tracker_expire(&t, edge - 1), 0);
      assert_int_equal(signal_at(&t, edge - 1), s);
      assert_int_equal(scone_advice_tracker_expire(&t, edge), 1);
      assert_int_equal(signal_at(&t, edge),
                       s < SCONE_SIGNAL_MAX ? s + 1 : SCONE_SIGNAL_UNKNOWN);
    }
    /* A partial round leaves the ring's head somewhere in the middle. */
    scone_advice_tracker_on_signal(&t, 5, base + 5 * P);
    scone_advice_tracker_on_signal(&t, 6, base + 5 * P);
    scone_advice_tracker_expire(&t, base + 7 * P);
  }
}

struct rx {
  unsigned signal;
  scone_tstamp at;
};

/* Lowest signal received in (now - period, now], by brute force. */
static unsigned reference(const struct rx *h, size_t n, scone_duration period,
                          scone_tstamp now) {
  unsigned best = SCONE_SIGNAL_UNKNOWN;
  for (size_t i = 0; i < n; i++)
    if (h[i].at <= now && now - h[i].at < period && h[i].signal < best)
      best = h[i].signal;
  return best;
}

static void test_advice_random_against_reference(void **state) {
  (void)state;
  enum { NOPS = 6000 };
  static struct rx hist[NOPS];
  const scone_duration period = 1000;
  scone_advice_tracker t;
  scone_advice_tracker_init(&t, period);
  size_t n = 0;
  scone_tstamp now = 50;
  unsigned last = SCONE_SIGNAL_UNKNOWN;
  unsigned changes = 0;
  for (int op = 0; op < NOPS; op++) {
    now += rng() % 120;
    if (rng() % 50 == 0)
      now += period; /* sometimes let everything lapse */
    int changed;
    if (rng() % 3) {
      /* Few distinct values so that ties and repeats are common. */
      unsigned sig = (unsigned)(rng() % 8) * 16;
      if (sig > SCONE_SIGNAL_MAX)
        sig = SCONE_SIGNAL_UNKNOWN;
      changed = scone_advice_tracker_on_signal(&t, sig, now);
      if (sig != SCONE_SIGNAL_UNKNOWN) {
        hist[n].signal = sig;
        hist[n].at = now;
        n++;
      }
    } else {
      changed = scone_advice_tracker_expire(&t, now);
    }
    unsigned expect = reference(hist, n, period, now);
    assert_int_equal(signal_at(&t, now), expect);
    assert_int_equal(changed, expect != last);
    changes += (unsigned)changed;
    last = expect;
    /* The advised expiry is the first instant the minimum differs. */
    scone_advice a;
    scone_advice_tracker_get(&t, now, &a);
    if (expect != SCONE_SIGNAL_UNKNOWN) {
      assert_true(a.expires_at > now);
      assert_int_equal(reference(hist, n, period, a.expires_at - 1), expect);
      assert_int_not_equal(reference(hist, n, period, a.expires_at), expect);
    }
  }
  assert_true(changes > 100); /* the walk exercised both directions */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_advice_unknown_initially),
      cmocka_unit_test(test_advice_lowest_wins),
      cmocka_unit_test(test_advice_higher_only_after_lower_ages_out),
      cmocka_unit_test(test_advice_exact_period_edges),
      cmocka_unit_test(test_advice_repeat_renews_without_report),
      cmocka_unit_test(test_advice_unknown_signal_ignored),
      cmocka_unit_test(test_advice_next_expiry),
      cmocka_unit_test(test_advice_lapse_during_on_signal),
      cmocka_unit_test(test_advice_backwards_clock),
      cmocka_unit_test(test_advice_full_queue),
      cmocka_unit_test(test_advice_random_against_reference),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
