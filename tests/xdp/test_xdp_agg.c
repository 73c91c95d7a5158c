/*
 * The XDP path's per-subscriber judge (xdp_agg.h), fed counters as the
 * monitoring loop reads them: two flows of one subscriber, each within
 * the advice alone and over it together, mark the subscriber (and neither
 * flow alone); another subscriber's flow under the advice is never
 * marked; the advice judged is the highest any of the subscriber's flows
 * holds; a marked subscriber that slows down is forgiven after a clean
 * period; one that goes quiet is forgotten; and many subscribers keep
 * their own sums.
 */
#include "harness.h"

#include "xdp_agg.h"

#define PERIOD_S 2
static const char *cfg_text = "[global]\n"
                              "period = 2s\n"
                              "lab_short_period = yes\n"
                              "[plan p]\n"
                              "downlink = 2M\n"
                              "[subscribers]\n"
                              "subscriber = 10.0.0.0/8 p opt-in\n";

enum { KEY_A = 0x1234567, KEY_B = 0x7654321 };

typedef struct rig {
  uint64_t allow16[SCONE_SIGNAL_MAX + 1];
  uint64_t half; /* ns */
  uint8_t sig;
  sconed_xdp_agg a;
  sconed_bytemon fa, fb; /* the two flows of A judged one by one */
  scone_tstamp now;
} rig;

static void rig_init(rig *r) {
  sconed_engine *e = h_engine(cfg_text, 0);
  sconed_engine_allowance(e, r->allow16);
  sconed_engine_timing t;
  sconed_engine_timing_get(e, &t);
  r->half = t.period / 2;
  sconed_engine_free(e);
  r->sig = (uint8_t)scone_rate_to_signal(2000000);
  sconed_xdp_agg_init(&r->a);
  r->now = T0;
  sconed_bytemon_init(&r->fa, T0 / r->half);
  sconed_bytemon_init(&r->fb, T0 / r->half);
}

/* bytes/16 a flow at bps sends in ms milliseconds */
static uint32_t units(double bps, int ms) {
  return (uint32_t)(bps / 8 * ms / 1000 / 16);
}

/* One 100 ms read: subscriber A's two flows at bps_a each (flow 2 holds
 * advice only when both_advised), B's one at bps_b. Returns A's verdict;
 * *flow_nc gets whether either flow alone was judged non-conforming. */
static unsigned read_once(rig *r, double bps_a, double bps_b, int both_advised,
                          unsigned *flow_nc, unsigned *b_nc) {
  r->now += SEC(0.1);
  uint64_t h = r->now / r->half;
  assert_int_equal(sconed_xdp_agg_begin(&r->a, h), 0);
  uint8_t adv[2] = {SCONE_SIGNAL_UNKNOWN, r->sig};
  uint8_t none[2] = {SCONE_SIGNAL_UNKNOWN, SCONE_SIGNAL_UNKNOWN};
  uint32_t ua[2] = {0, units(bps_a, 100)}, ub[2] = {0, units(bps_b, 100)};
  if (bps_a > 0) {
    assert_int_equal(sconed_xdp_agg_add(&r->a, KEY_A, ua, adv), 0);
    assert_int_equal(
        sconed_xdp_agg_add(&r->a, KEY_A, ua, both_advised ? adv : none), 0);
    *flow_nc |= sconed_bytemon_step(&r->fa, r->allow16, h, ua, adv);
    *flow_nc |= sconed_bytemon_step(&r->fb, r->allow16, h, ua,
                                    both_advised ? adv : none);
  }
  if (bps_b > 0)
    assert_int_equal(sconed_xdp_agg_add(&r->a, KEY_B, ub, adv), 0);
  sconed_xdp_agg_end(&r->a, r->allow16);
  sconed_xdp_agg_sub *b = sconed_xdp_agg_find(&r->a, KEY_B);
  if (b)
    *b_nc |= b->nc;
  sconed_xdp_agg_sub *a = sconed_xdp_agg_find(&r->a, KEY_A);
  return a ? a->nc : 0;
}

/* Two flows at 90% of a 2 Mbit/s advice each: together 180%. */
static void two_flows_mark_their_subscriber(void **st) {
  (void)st;
  for (int both = 0; both < 2; both++) {
    rig r;
    rig_init(&r);
    unsigned flow_nc = 0, b_nc = 0;
    double first = -1;
    for (int i = 1; i <= 70; i++) {
      unsigned nc = read_once(&r, 1.8e6, 1.0e6, both, &flow_nc, &b_nc);
      assert_false(nc & MON_NC(SCONE_DIR_UPLINK));
      if ((nc & MON_NC(SCONE_DIR_DOWNLINK)) && first < 0)
        first = i * 0.1;
    }
    /* Judging is due once advice was applied in both preceding periods:
     * from 4 s (two whole ones here); then the judged interval (the
     * previous half and the current one) holds over the allowance within
     * half a period. */
    assert_true(first > 2 * PERIOD_S - 1e-9);
    assert_true(first <= 2.5 * PERIOD_S + 1e-9);
    assert_int_equal(flow_nc & MON_NC_ANY, 0);
    assert_int_equal(b_nc, 0);
    sconed_xdp_agg_sub *a = sconed_xdp_agg_find(&r.a, KEY_A);
    assert_non_null(a);
    assert_int_equal(a->flows, 2);
    sconed_xdp_agg_free(&r.a);
  }
}

/* Within the advice together: never marked, however long. */
static void within_allowance_together_never_marked(void **st) {
  (void)st;
  rig r;
  rig_init(&r);
  unsigned flow_nc = 0, b_nc = 0, nc = 0;
  for (int i = 0; i < 100; i++)
    nc |= read_once(&r, 0.9e6, 1.9e6, 1, &flow_nc, &b_nc);
  assert_int_equal(nc, 0);
  assert_int_equal(b_nc, 0);
  sconed_xdp_agg_free(&r.a);
}

/* Marked, then both flows slow to 30% each: released after a clean period;
 * then silent: forgotten once nothing is left to judge. */
static void slowed_down_forgiven_then_forgotten(void **st) {
  (void)st;
  rig r;
  rig_init(&r);
  unsigned flow_nc = 0, b_nc = 0, nc = 0;
  for (int i = 0; i < 60; i++)
    nc = read_once(&r, 1.8e6, 0, 1, &flow_nc, &b_nc);
  assert_true(nc & MON_NC(SCONE_DIR_DOWNLINK));
  double released = -1;
  for (int i = 1; i <= 40; i++) {
    nc = read_once(&r, 0.6e6, 0, 1, &flow_nc, &b_nc);
    if (!nc && released < 0)
      released = i * 0.1;
    if (released >= 0)
      assert_int_equal(nc, 0);
  }
  /* The rest of the marking period, then a whole clean one. */
  assert_true(released > 0 && released <= 2 * PERIOD_S + 0.1 + 1e-9);
  assert_non_null(sconed_xdp_agg_find(&r.a, KEY_A));
  for (int i = 0; i < 10 * 4 * PERIOD_S; i++)
    read_once(&r, 0, 0, 1, &flow_nc, &b_nc);
  assert_null(sconed_xdp_agg_find(&r.a, KEY_A));
  assert_int_equal(r.a.n, 0);
  sconed_xdp_agg_free(&r.a);
}

/* 5000 subscribers, every third one over its advice with two flows:
 * exactly those are marked (the index grows and entries stay apart). */
static void many_subscribers_apart(void **st) {
  (void)st;
  rig r;
  rig_init(&r);
  uint8_t adv[2] = {SCONE_SIGNAL_UNKNOWN, r.sig};
  for (int i = 1; i <= 60; i++) {
    r.now += SEC(0.1);
    assert_int_equal(sconed_xdp_agg_begin(&r.a, r.now / r.half), 0);
    for (uint32_t k = 1; k <= 5000; k++) {
      uint32_t u[2] = {0, units(k % 3 ? 0.5e6 : 1.5e6, 100)};
      assert_int_equal(sconed_xdp_agg_add(&r.a, k * 2654435761U | 1, u, adv),
                       0);
      assert_int_equal(sconed_xdp_agg_add(&r.a, k * 2654435761U | 1, u, adv),
                       0);
    }
    sconed_xdp_agg_end(&r.a, r.allow16);
  }
  assert_int_equal(r.a.n, 5000);
  for (uint32_t k = 1; k <= 5000; k++) {
    sconed_xdp_agg_sub *s = sconed_xdp_agg_find(&r.a, k * 2654435761U | 1);
    assert_non_null(s);
    assert_int_equal(s->flows, 2);
    assert_int_equal(s->nc, k % 3 ? 0 : MON_NC(SCONE_DIR_DOWNLINK));
  }
  sconed_xdp_agg_free(&r.a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(two_flows_mark_their_subscriber),
      cmocka_unit_test(within_allowance_together_never_marked),
      cmocka_unit_test(slowed_down_forgiven_then_forgotten),
      cmocka_unit_test(many_subscribers_apart),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
