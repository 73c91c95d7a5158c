/* Per-subscriber monitoring: the aggregate of a subscriber's SCONE flows
 * against its advice, the bounded subscriber table, and privacy. */
#include "harness.h"

#include <stdio.h>

#define P SCONE_PERIOD

static const char *cfg_police = "[plan p]\n"
                                "downlink = 5M\n"
                                "action = police\n"
                                "burst = 125k\n"
                                "[subscribers]\n"
                                "subscriber = 10.0.0.0/8 p opt-in\n"
                                "subscriber = 2001:db8::/32 p opt-in\n";

typedef struct agg {
  uint64_t sent, dropped, passed_payload, modified;
  uint64_t passed_since_drop; /* payload passed from the first drop on */
  scone_tstamp first_drop;
} agg;

/* Downlink traffic of 1200-byte datagrams on n flows taking turns, bps in
 * all (payload), from..to. Each flow starts a datagram with a SCONE packet
 * once a second, so advice is applied in every period. */
static void run_flows(sconed_engine *e, const pg_flow *f, int n,
                      scone_tstamp from, scone_tstamp to, uint64_t bps,
                      agg *r) {
  scone_duration gap = (scone_duration)(1200ULL * 8 * SCONE_SECONDS / bps);
  scone_tstamp next_scone[8];
  for (int i = 0; i < n; i++)
    next_scone[i] = from;
  int turn = 0;
  for (scone_tstamp t = from; t < to; t += gap, turn = (turn + 1) % n) {
    h_pkt k;
    if (t >= next_scone[turn]) {
      h_scone(e, &f[turn], 0, SCONE_SIGNAL_UNKNOWN, 1200, t, &k);
      next_scone[turn] += SCONE_SECONDS;
    } else {
      h_short(e, &f[turn], 0, 1200, t, &k);
    }
    r->sent++;
    r->modified += (uint64_t)k.v.modified;
    if (k.v.action == SCONED_DROP) {
      if (!r->dropped++)
        r->first_drop = t;
    } else {
      r->passed_payload += 1200;
      r->passed_since_drop += r->dropped ? 1200 : 0;
    }
  }
}

static sconed_engine *engine_with(const char *cfg, uint32_t max_subs,
                                  uint8_t prefix6) {
  sconed_engine_settings s;
  h_settings(&s);
  s.max_flows = 256;
  s.max_subscribers = max_subs;
  if (prefix6)
    s.subscriber_prefix_v6 = prefix6;
  return h_engine_with(&s, cfg);
}

/* Two flows, each well under the advice, together over it. */
static void aggregate_over_then_clean(void **state) {
  (void)state;
  sconed_engine *e = h_engine(cfg_police, 0);
  pg_flow f[2];
  pg_flow_make(&f[0], 0, 7, 40000);
  pg_flow_make(&f[1], 0, 7, 40001); /* same subscriber, 10.0.0.7 */
  h_hello(e, &f[0], 1, T0);
  h_hello(e, &f[1], 1, T0);
  agg r = {0};
  /* 3 Mbit/s each, 6 in all (over 5 Mbit/s + 10%). Two periods to learn
   * and adapt: nothing is judged, nothing dropped. */
  run_flows(e, f, 2, T0 + 1, T0 + 2 * P, 6000000, &r);
  assert_int_equal(r.dropped, 0);
  assert_true(r.modified > 0);
  sconed_plan_metrics m = h_plan(e, "p");
  assert_int_equal(m.nonconforming_subscribers, 0);
  sconed_engine_stats st;
  sconed_engine_stats_get(e, &st);
  assert_int_equal(st.subscribers, 1);

  /* Then the subscriber is over (its bytes since the previous half-period
   * began pass the allowance, 41.2 MB, 21.4 s into the period): its flows
   * lose their exemption and share one bucket at the plan's rate. Neither
   * flow is over on its own. */
  memset(&r, 0, sizeof(r));
  run_flows(e, f, 2, T0 + 2 * P, T0 + 3 * P, 6000000, &r);
  m = h_plan(e, "p");
  assert_int_equal(m.nonconforming_subscribers, 1);
  assert_int_equal(m.subscriber_transitions, 1);
  assert_int_equal(m.nonconforming, 0);
  assert_int_equal(m.transitions, 0);
  assert_true(r.dropped > 0);
  assert_true(r.first_drop > T0 + 2 * P + SEC(20));
  assert_true(r.first_drop < T0 + 2 * P + SEC(23));
  /* From then on policed to 5 Mbit/s of IP bytes in all. */
  double got = (double)r.passed_since_drop * 1228 / 1200 * 8 /
               ((double)(T0 + 3 * P - r.first_drop) / SCONE_SECONDS);
  assert_true(got > 4.9e6 && got < 5.1e6);

  /* 2 Mbit/s each: one clean period while marked, then it is conforming
   * again and left alone. */
  memset(&r, 0, sizeof(r));
  /* 10 ms after the last policed datagram, so the bucket it emptied holds
   * a datagram's tokens again. */
  run_flows(e, f, 2, T0 + 3 * P + SEC(0.01), T0 + 4 * P, 4000000, &r);
  assert_int_equal(h_plan(e, "p").nonconforming_subscribers, 1);
  assert_int_equal(r.dropped, 0); /* under the aggregate bucket's rate */
  memset(&r, 0, sizeof(r));
  run_flows(e, f, 2, T0 + 4 * P, T0 + 5 * P, 4000000, &r);
  m = h_plan(e, "p");
  assert_int_equal(m.nonconforming_subscribers, 0);
  assert_int_equal(m.subscriber_transitions, 1);
  assert_int_equal(r.dropped, 0);
  sconed_engine_free(e);
}

/* The same two flows from two subscribers are each within advice. */
static void separate_subscribers_conform(void **state) {
  (void)state;
  sconed_engine *e = h_engine(cfg_police, 0);
  pg_flow f[2];
  pg_flow_make(&f[0], 0, 8, 40000);
  pg_flow_make(&f[1], 0, 9, 40000);
  h_hello(e, &f[0], 1, T0);
  h_hello(e, &f[1], 1, T0);
  agg r = {0};
  run_flows(e, f, 2, T0 + 1, T0 + 4 * P, 6000000, &r);
  assert_int_equal(r.dropped, 0);
  sconed_plan_metrics m = h_plan(e, "p");
  assert_int_equal(m.nonconforming_subscribers, 0);
  assert_int_equal(m.subscriber_transitions, 0);
  sconed_engine_stats st;
  sconed_engine_stats_get(e, &st);
  assert_int_equal(st.subscribers, 2);
  sconed_engine_free(e);
}

static void shaped_on_the_aggregate(void **state) {
  (void)state;
  sconed_engine *e = h_engine("[plan s]\n"
                              "downlink = 5M\n"
                              "action = shape\n"
                              "max_delay = 200ms\n"
                              "[subscribers]\n"
                              "subscriber = 10.0.0.0/8 s opt-in\n",
                              0);
  pg_flow f[3];
  for (int i = 0; i < 3; i++) {
    pg_flow_make(&f[i], 0, 11, (uint16_t)(41000 + i));
    h_hello(e, &f[i], 1, T0);
  }
  agg r = {0};
  run_flows(e, f, 3, T0 + 1, T0 + 2 * P, 6000000, &r);
  assert_int_equal(r.dropped, 0);
  sconed_plan_metrics before = h_plan(e, "s");
  memset(&r, 0, sizeof(r));
  /* Marked 21.4 s into the judged period (see aggregate_over_then_clean),
   * then shaped. */
  run_flows(e, f, 3, T0 + 2 * P, T0 + 2 * P + SEC(40), 6000000, &r);
  sconed_plan_metrics m = h_plan(e, "s");
  assert_int_equal(m.nonconforming_subscribers, 1);
  assert_true(m.delays > before.delays);
  assert_true(r.dropped > 0); /* 6 into 5: the queue bound is reached */
  sconed_engine_free(e);
}

/* An IPv6 subscriber is a /64 by default: two addresses of one /64 are
 * one subscriber; with 128-bit subscribers they are two. */
static void ipv6_prefix(void **state) {
  (void)state;
  for (int bits = 64; bits <= 128; bits += 64) {
    sconed_engine *e = engine_with(cfg_police, 1024, (uint8_t)bits);
    pg_flow f[2];
    pg_flow_make(&f[0], 1, 1, 40000);
    pg_flow_make(&f[1], 1, 2, 40000); /* 2001:db8::1 and ::2 */
    h_hello(e, &f[0], 1, T0);
    h_hello(e, &f[1], 1, T0);
    agg r = {0};
    run_flows(e, f, 2, T0 + 1, T0 + SEC(3), 1000000, &r);
    sconed_engine_stats st;
    sconed_engine_stats_get(e, &st);
    assert_int_equal(st.subscribers, bits == 64 ? 1 : 2);
    sconed_engine_free(e);
  }
}

/* A full table: new subscribers are not tracked, their traffic is still
 * signalled and passes, and memory does not grow. Slots come back once
 * their subscribers are gone. */
static void table_full_passes_untracked(void **state) {
  (void)state;
  sconed_engine *e = engine_with(cfg_police, 8, 0);
  sconed_engine_stats st;
  sconed_engine_stats_get(e, &st);
  assert_int_equal(st.max_subscribers, 8);
  assert_int_equal(st.subscriber_bytes, 64);
  uint64_t mem = st.memory_bytes;
  pg_flow f[20];
  for (uint32_t i = 0; i < 20; i++) {
    pg_flow_make(&f[i], 0, 100 + i, 40000);
    h_hello(e, &f[i], 1, T0);
  }
  uint64_t modified = 0, dropped = 0;
  for (int s = 0; s < 10; s++)
    for (int i = 0; i < 20; i++) {
      h_pkt k;
      h_scone(e, &f[i], 0, SCONE_SIGNAL_UNKNOWN, 1200, T0 + SEC(s) + i, &k);
      modified += (uint64_t)k.v.modified;
      dropped += k.v.action == SCONED_DROP;
    }
  sconed_engine_stats_get(e, &st);
  assert_int_equal(st.subscribers, 8);
  assert_true(st.untracked_subscriber_flows >= 12);
  assert_int_equal(st.memory_bytes, mem);
  assert_int_equal(dropped, 0);
  assert_true(modified >= 20 * 4); /* every flow got its advice */
  /* Much later, once the idle sweep has taken their flows and their
   * history is spent, slots come back. Traffic of a non-SCONE flow keeps
   * the sweep going. */
  pg_flow x;
  pg_flow_make(&x, 0, 600, 40000);
  h_hello(e, &x, 0, T0 + 5 * P);
  for (int i = 0; i < 64; i++) {
    h_pkt k;
    h_short(e, &x, 0, 100, T0 + 5 * P + 1 + (scone_tstamp)i, &k);
  }
  sconed_engine_stats_get(e, &st);
  assert_int_equal(st.flows, 1);
  assert_int_equal(st.subscribers, 0);
  pg_flow g;
  pg_flow_make(&g, 0, 500, 40000);
  h_hello(e, &g, 1, T0 + 5 * P + 100);
  h_pkt k;
  h_scone(e, &g, 0, SCONE_SIGNAL_UNKNOWN, 1200, T0 + 5 * P + 101, &k);
  assert_true(k.v.modified);
  sconed_engine_stats before = st;
  sconed_engine_stats_get(e, &st);
  assert_int_equal(st.untracked_subscriber_flows,
                   before.untracked_subscriber_flows);
  assert_int_equal(st.subscribers, 1);
  assert_int_equal(st.memory_bytes, mem);
  sconed_engine_free(e);
}

static void settings_checked(void **state) {
  (void)state;
  sconed_engine_settings s;
  sconed_engine_settings_default(&s);
  assert_int_equal(s.max_subscribers, 65536);
  assert_int_equal(s.subscriber_prefix_v6, 64);
  s.seed_source = SCONED_SEED_FIXED;
  s.max_subscribers = 0x1000000;
  assert_null(sconed_engine_new(&s));
  sconed_engine_settings_default(&s);
  s.seed_source = SCONED_SEED_FIXED;
  s.subscriber_prefix_v6 = 0;
  assert_null(sconed_engine_new(&s));
  s.subscriber_prefix_v6 = 129;
  assert_null(sconed_engine_new(&s));
  /* Only the settings versions the engine knows. */
  sconed_engine_settings_default(&s);
  s.seed_source = SCONED_SEED_FIXED;
  assert_int_equal(s.version, SCONED_ENGINE_SETTINGS_V1);
  s.version = 0;
  assert_null(sconed_engine_new(&s));
  s.version = SCONED_ENGINE_SETTINGS_V1 + 1;
  assert_null(sconed_engine_new(&s));
  s.version = SCONED_ENGINE_SETTINGS_V1;
  sconed_engine *known = sconed_engine_new(&s);
  assert_non_null(known);
  sconed_engine_free(known);
  /* 0: per-subscriber monitoring off; flows still work one by one. */
  sconed_engine *e = engine_with(cfg_police, 0, 0);
  pg_flow f[2];
  pg_flow_make(&f[0], 0, 7, 40000);
  pg_flow_make(&f[1], 0, 7, 40001);
  h_hello(e, &f[0], 1, T0);
  h_hello(e, &f[1], 1, T0);
  agg r = {0};
  run_flows(e, f, 2, T0 + 1, T0 + 3 * P, 6000000, &r);
  assert_int_equal(r.dropped, 0);
  sconed_engine_stats st;
  sconed_engine_stats_get(e, &st);
  assert_int_equal(st.subscribers, 0);
  assert_int_equal(st.max_subscribers, 0);
  assert_int_equal(h_plan(e, "p").nonconforming_subscribers, 0);
  sconed_engine_free(e);
}

typedef struct log_cap {
  int subscriber_lines, with_address;
} log_cap;

static void capture(void *arg, int level, const char *msg) {
  (void)level;
  log_cap *c = arg;
  if (strncmp(msg, "subscriber ", 11) == 0) {
    c->subscriber_lines++;
    if (strstr(msg, "10.0.0.7") || strstr(msg, "10.0.0.") ||
        strstr(msg, "src="))
      c->with_address++;
  }
}

/* Even with addresses allowed in flow logs, a subscriber's line names its
 * plan and direction only. */
static void no_identifier_in_logs(void **state) {
  (void)state;
  sconed_engine_settings s;
  h_settings(&s);
  s.log_addresses = 1;
  log_cap cap = {0, 0};
  s.log = capture;
  s.log_arg = &cap;
  sconed_engine *e = h_engine_with(&s, cfg_police);
  pg_flow f[2];
  pg_flow_make(&f[0], 0, 7, 40000);
  pg_flow_make(&f[1], 0, 7, 40001);
  h_hello(e, &f[0], 1, T0);
  h_hello(e, &f[1], 1, T0);
  agg r = {0};
  run_flows(e, f, 2, T0 + 1, T0 + 2 * P + SEC(30), 6000000, &r);
  assert_int_equal(cap.subscriber_lines, 1);
  assert_int_equal(cap.with_address, 0);
  sconed_engine_free(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(aggregate_over_then_clean),
      cmocka_unit_test(separate_subscribers_conform),
      cmocka_unit_test(shaped_on_the_aggregate),
      cmocka_unit_test(ipv6_prefix),
      cmocka_unit_test(table_full_passes_untracked),
      cmocka_unit_test(settings_checked),
      cmocka_unit_test(no_identifier_in_logs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
