/* Monitoring over 67 s periods, conformance, policing and shaping. */
#include "harness.h"

#include <stdio.h>

typedef struct run_res {
  uint64_t sent, dropped, delayed, modified;
  uint64_t passed_payload;    /* payload bytes passed or delayed */
  uint64_t passed_since_drop; /* of them, from the first drop on */
  scone_duration max_wait;
  scone_tstamp first_drop, last_release;
  int release_order_ok;
} run_res;

/* Downlink traffic of 1200-byte datagrams at bps (payload) from..to; every
 * scone_every-th second starts with a SCONE packet carrying sig. */
static void run(sconed_engine *e, const pg_flow *f, scone_tstamp from,
                scone_tstamp to, uint64_t bps, int scone_every, unsigned sig,
                run_res *r) {
  scone_duration gap = (scone_duration)(1200ULL * 8 * SCONE_SECONDS / bps);
  scone_tstamp next_scone = from;
  for (scone_tstamp t = from; t < to; t += gap) {
    h_pkt k;
    if (scone_every && t >= next_scone) {
      h_scone(e, f, 0, sig, 1200, t, &k);
      next_scone += (scone_tstamp)scone_every * SCONE_SECONDS;
    } else {
      h_short(e, f, 0, 1200, t, &k);
    }
    r->sent++;
    r->modified += (uint64_t)k.v.modified;
    if (k.v.action == SCONED_DROP) {
      if (!r->dropped)
        r->first_drop = t;
      r->dropped++;
      continue;
    }
    r->passed_payload += 1200;
    if (r->dropped)
      r->passed_since_drop += 1200;
    if (k.v.action == SCONED_DELAY) {
      r->delayed++;
      assert_true(k.v.release_at > t);
      if (k.v.release_at - t > r->max_wait)
        r->max_wait = k.v.release_at - t;
      if (k.v.release_at < r->last_release)
        r->release_order_ok = 0;
      r->last_release = k.v.release_at;
    }
  }
}

static const char *cfg_police = "[plan p]\n"
                                "downlink = 5M\n"
                                "action = police\n"
                                "burst = 125k\n"
                                "[subscribers]\n"
                                "subscriber = 10.0.0.0/8 p opt-in\n"
                                "subscriber = 10.9.0.0/16 p opt-out\n";

#define P SCONE_PERIOD

static void conforming_flow_left_alone(void **state) {
  (void)state;
  sconed_engine *e = h_engine(cfg_police, 0);
  pg_flow f;
  pg_flow_make(&f, 0, 1, 40000);
  h_hello(e, &f, 1, T0);
  run_res r = {0};
  run(e, &f, T0 + 1, T0 + 5 * P, 4000000, 10, SCONE_SIGNAL_UNKNOWN, &r);
  assert_int_equal(r.dropped, 0);
  assert_true(r.modified >= 4 + 2 * 4);
  sconed_plan_metrics m = h_plan(e, "p");
  assert_int_equal(m.scone_flows, 1);
  assert_int_equal(m.conforming, 1);
  assert_int_equal(m.nonconforming, 0);
  assert_int_equal(m.transitions, 0);
  sconed_engine_free(e);
}

/* Another element signalled far less than we did: the endpoint may well
 * ignore ours, but we judge it against our own advice only. */
static void judged_on_own_advice_only(void **state) {
  (void)state;
  sconed_engine *e = h_engine(cfg_police, 0);
  pg_flow f;
  pg_flow_make(&f, 1, 2, 40001); /* IPv6: no subscriber prefix */
  h_hello(e, &f, 1, T0);
  run_res r = {0};
  run(e, &f, T0 + 1, T0 + 2 * P, 4000000, 10, 10, &r);
  sconed_engine_stats st;
  sconed_engine_stats_get(e, &st);
  assert_true(st.no_subscriber > 0);
  sconed_engine_free(e);

  e = h_engine(cfg_police, 0);
  pg_flow_make(&f, 0, 2, 40001);
  h_hello(e, &f, 1, T0);
  memset(&r, 0, sizeof(r));
  run(e, &f, T0 + 1, T0 + 5 * P, 4000000, 10, 10, &r);
  assert_int_equal(r.modified, 0); /* 10 is already lower than ours */
  assert_int_equal(r.dropped, 0);
  sconed_plan_metrics m = h_plan(e, "p");
  assert_int_equal(m.nonconforming, 0);
  assert_true(m.confirms > 0);
  sconed_engine_free(e);
}

static void exceeding_flow_enforced_then_forgiven(void **state) {
  (void)state;
  sconed_engine *e = h_engine(cfg_police, 0);
  pg_flow f;
  pg_flow_make(&f, 0, 3, 40002);
  h_hello(e, &f, 1, T0);
  run_res r = {0};
  /* Two periods to learn and adapt: no judgement, no enforcement. */
  run(e, &f, T0 + 1, T0 + 2 * P, 8000000, 10, SCONE_SIGNAL_UNKNOWN, &r);
  assert_int_equal(r.dropped, 0);
  assert_int_equal(h_plan(e, "p").nonconforming, 0);
  /* Then it is judged: the bytes since the previous half-period began
   * (33.5 MB at 1 MB/s when the period starts) pass the allowance, the
   * advice signal's 4.47 Mbit/s + 10% over 67 s (41.2 MB), 7.6 s into
   * the period. (The old sliding approximation counted the whole previous
   * period at the period start and marked the flow at once.) */
  memset(&r, 0, sizeof(r));
  run(e, &f, T0 + 2 * P, T0 + 3 * P, 8000000, 10, SCONE_SIGNAL_UNKNOWN, &r);
  sconed_plan_metrics m = h_plan(e, "p");
  assert_int_equal(m.nonconforming, 1);
  assert_int_equal(m.conforming, 0);
  assert_int_equal(m.transitions, 1);
  assert_true(r.dropped > 0);
  assert_true(r.first_drop > T0 + 2 * P + SEC(7));
  assert_true(r.first_drop < T0 + 2 * P + SEC(8.5));
  /* From then on policed to 5 Mbit/s of IP bytes plus the burst. */
  double got = (double)r.passed_since_drop * 1228 / 1200 * 8 /
               ((double)(T0 + 3 * P - r.first_drop) / SCONE_SECONDS);
  assert_true(got > 4.9e6 && got < 5.1e6);
  /* The application backs off: one clean period while marked, then it is
   * conforming again and left alone. */
  memset(&r, 0, sizeof(r));
  run(e, &f, T0 + 3 * P, T0 + 4 * P, 3000000, 10, SCONE_SIGNAL_UNKNOWN, &r);
  assert_int_equal(h_plan(e, "p").nonconforming, 1);
  memset(&r, 0, sizeof(r));
  run(e, &f, T0 + 4 * P, T0 + 5 * P, 3000000, 10, SCONE_SIGNAL_UNKNOWN, &r);
  m = h_plan(e, "p");
  assert_int_equal(m.nonconforming, 0);
  assert_int_equal(m.conforming, 1);
  assert_int_equal(r.dropped, 0);
  sconed_engine_free(e);
}

static void non_scone_and_opt_out_policed(void **state) {
  (void)state;
  sconed_engine *e = h_engine(cfg_police, 0);
  pg_flow f;
  pg_flow_make(&f, 0, 4, 40003);
  h_hello(e, &f, 0, T0);
  run_res r = {0};
  run(e, &f, T0 + 1, T0 + SEC(20) + 1, 8000000, 0, 0, &r);
  double got = (double)(r.passed_payload * 1228 / 1200 - 125000) * 8 / 20.0;
  assert_true(got > 4.9e6 && got < 5.1e6);
  /* Opted out: its SCONE packets are not touched, so it has no advice to
   * follow and is policed like any other flow. */
  pg_flow g;
  pg_flow_make(&g, 0, 0x090001, 40004); /* 10.9.0.1 */
  h_hello(e, &g, 1, T0 + SEC(20) + 1);
  memset(&r, 0, sizeof(r));
  run(e, &g, T0 + SEC(21), T0 + SEC(41), 8000000, 1, SCONE_SIGNAL_UNKNOWN, &r);
  assert_int_equal(r.modified, 0);
  assert_true(r.dropped > 0);
  sconed_engine_free(e);
}

/* Flows that do not speak SCONE share their subscriber's bucket, as a
 * plan is policed today: four flows of one subscriber get the plan's rate
 * between them, and another subscriber's flow is not held back by them. */
static void non_scone_flows_share_the_plan(void **state) {
  (void)state;
  sconed_engine *e = h_engine(cfg_police, 0);
  pg_flow f[5];
  for (int j = 0; j < 5; j++) {
    /* Flows 0-3: subscriber 10.0.0.8; flow 4: 10.0.0.9. */
    pg_flow_make(&f[j], 0, j < 4 ? 8 : 9, (uint16_t)(41000 + j));
    h_hello(e, &f[j], 0, T0);
  }
  /* Each flow at 4 Mbit/s for 20 s: 16 into a 5 Mbit/s plan. */
  scone_duration gap = (scone_duration)(1200ULL * 8 * SCONE_SECONDS / 4000000);
  uint64_t passed[5] = {0};
  unsigned tick = 0;
  for (scone_tstamp t = T0 + 1; t < T0 + SEC(20) + 1; t += gap, tick++)
    for (unsigned i = 0; i < 5; i++) {
      /* Each tick another flow goes first: a policer serves in order. */
      unsigned j = i < 4 ? (tick + i) % 4 : 4;
      h_pkt k;
      h_short(e, &f[j], 0, 1200, t + i, &k);
      passed[j] += k.v.action == SCONED_PASS ? 1200 : 0;
    }
  uint64_t sub = passed[0] + passed[1] + passed[2] + passed[3];
  double got = (double)(sub * 1228 / 1200 - 125000) * 8 / 20.0;
  assert_true(got > 4.9e6 && got < 5.1e6);
  for (int j = 0; j < 4; j++) /* shared among them */
    assert_true(passed[j] > sub / 8);
  double other = (double)passed[4] * 8 / 20.0;
  assert_true(other > 3.9e6);
  sconed_engine_stats st;
  sconed_engine_stats_get(e, &st);
  assert_int_equal(st.subscribers, 2);
  sconed_engine_free(e);
}

static void shaper_delays_then_drops(void **state) {
  (void)state;
  sconed_engine *e = h_engine("[plan s]\n"
                              "downlink = 5M\n"
                              "action = shape\n"
                              "burst = 10k\n"
                              "max_delay = 200ms\n"
                              "[subscribers]\n"
                              "subscriber = 0.0.0.0/0 s opt-in\n",
                              0);
  pg_flow f;
  pg_flow_make(&f, 0, 5, 40005);
  h_hello(e, &f, 0, T0);
  run_res r = {0};
  r.release_order_ok = 1;
  run(e, &f, T0 + 1, T0 + SEC(10), 6000000, 0, 0, &r);
  assert_true(r.delayed > 0);
  assert_true(r.release_order_ok);
  assert_true(r.max_wait <= 200 * SCONE_MILLISECONDS);
  assert_true(r.max_wait > 150 * SCONE_MILLISECONDS);
  /* 6 Mbit/s into 5: the queue fills to its 200 ms bound, then drops. */
  assert_true(r.dropped > 0);
  double got = (double)r.passed_payload * 1228 / 1200 * 8 / 10.0;
  assert_true(got > 4.8e6 && got < 5.2e6);
  sconed_plan_metrics m = h_plan(e, "s");
  assert_int_equal(m.delays, r.delayed);
  assert_int_equal(m.drops, r.dropped);
  sconed_engine_free(e);
}

/* Policing at 1 Mbit/s with a one-datagram burst, everyone subscribed,
 * and announced flows spared for their first grace packets. */
static sconed_engine *grace_engine(unsigned grace) {
  char cfg[256];
  snprintf(cfg, sizeof(cfg),
           "[global]\nannounce_grace = %u\n[plan p]\ndownlink = 1M\n"
           "action = police\nburst = 1500\n[subscribers]\n"
           "subscriber = 0.0.0.0/0 p opt-in\n",
           grace);
  return h_engine(cfg, 0);
}

static void announced_flow_grace(void **state) {
  (void)state;
  sconed_engine *e = grace_engine(20);
  pg_flow f, g;
  pg_flow_make(&f, 0, 6, 40006);
  pg_flow_make(&g, 0, 7, 40007);
  h_hello(e, &f, 1, T0); /* announced */
  h_hello(e, &g, 0, T0); /* not */
  int drops_f = 0, drops_g = 0, first_drop_f = -1;
  for (int i = 0; i < 40; i++) {
    h_pkt k;
    h_short(e, &f, 0, 1200, T0 + (scone_tstamp)i * 1000, &k);
    if (k.v.action == SCONED_DROP && first_drop_f < 0)
      first_drop_f = i;
    drops_f += k.v.action == SCONED_DROP;
    h_short(e, &g, 0, 1200, T0 + (scone_tstamp)i * 1000, &k);
    drops_g += k.v.action == SCONED_DROP;
  }
  /* The hello was packet 1, so i = 0..18 are packets 2..20, spared. From
   * i = 19 on the policer applies; its burst lets one datagram through. */
  assert_int_equal(first_drop_f, 20);
  assert_int_equal(drops_f, 20);
  assert_int_equal(drops_g, 39);
  sconed_engine_free(e);
}

/* The packet count saturates at 255: a grace of 255 would never end. */
static void announce_grace_capped(void **state) {
  (void)state;
  char err[256] = "";
  sconed_config *c = sconed_config_parse("[global]\nannounce_grace = 255\n",
                                         "bad.ini", err, sizeof(err));
  assert_null(c);
  assert_non_null(strstr(err, "bad.ini:2: announce_grace '255'"));
  sconed_engine *e = grace_engine(254);
  pg_flow f;
  pg_flow_make(&f, 0, 7, 40007);
  h_hello(e, &f, 1, T0);
  int first_drop = -1;
  for (int i = 0; i < 400 && first_drop < 0; i++) {
    h_pkt k;
    h_short(e, &f, 0, 1200, T0 + (scone_tstamp)i * 1000, &k);
    if (k.v.action == SCONED_DROP)
      first_drop = i;
  }
  /* Packets 2..254 spared, then the policer's burst passes one. */
  assert_int_equal(first_drop, 254);
  sconed_engine_free(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(conforming_flow_left_alone),
      cmocka_unit_test(judged_on_own_advice_only),
      cmocka_unit_test(exceeding_flow_enforced_then_forgiven),
      cmocka_unit_test(non_scone_and_opt_out_policed),
      cmocka_unit_test(non_scone_flows_share_the_plan),
      cmocka_unit_test(shaper_delays_then_drops),
      cmocka_unit_test(announced_flow_grace),
      cmocka_unit_test(announce_grace_capped),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
