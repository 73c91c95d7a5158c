/*
 * Review findings, one test each: flapping advice, mid-flow pick-up with
 * the server first, announce_grace at its ceiling, rates past the token
 * refill's range, and admission under a two-way spoofed flood.
 */
#include "harness.h"

#include "config.h"

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

/* sconed started mid-flow and the server's datagram came first: downlink
 * advice must still go toward the client (built-in catch-all, a tie). */
static void mid_flow_server_first(void **state) {
  (void)state;
  sconed_engine *e = h_engine(NULL, 0);
  unsigned t = sig_of(SCONED_DEFAULT_ADVICE_BPS);
  pg_flow f;
  pg_flow_make(&f, 0, 3, 50003);
  h_pkt k;
  for (int i = 0; i < 4; i++)
    h_short(e, &f, i & 1, 300, T0 + (scone_tstamp)i, &k);
  h_scone(e, &f, 0, SCONE_SIGNAL_UNKNOWN, 300, T0 + 10, &k);
  assert_true(k.v.modified);
  assert_int_equal(pg_signal(k.b, k.len), (int)t);
  /* The built-in plan has no uplink advice. */
  h_scone(e, &f, 1, SCONE_SIGNAL_UNKNOWN, 300, T0 + 11, &k);
  assert_false(k.v.modified);

  /* A SCONE packet first is no handshake: the port decides too. */
  pg_flow g;
  pg_flow_make(&g, 0, 4, 50004);
  h_scone(e, &g, 0, SCONE_SIGNAL_UNKNOWN, 300, T0 + 20, &k);
  assert_true(k.v.modified);
  h_scone(e, &g, 1, SCONE_SIGNAL_UNKNOWN, 300, T0 + 21, &k);
  assert_false(k.v.modified);

  /* No well-known port on either end and no handshake seen: which end is
   * the client is unknown, so nothing is written either way. */
  pg_flow u;
  pg_flow_make(&u, 0, 5, 50005);
  u.sport = 50006;
  for (int i = 0; i < 4; i++)
    h_short(e, &u, i & 1, 300, T0 + 30 + (scone_tstamp)i, &k);
  for (int i = 0; i < 4; i++) {
    h_scone(e, &u, i & 1, SCONE_SIGNAL_UNKNOWN, 300, T0 + 40 + (scone_tstamp)i,
            &k);
    assert_false(k.v.modified);
  }

  /* Same ports but the client's Initial seen first: it is the client. */
  pg_flow h;
  pg_flow_make(&h, 0, 6, 50007);
  h.sport = 50008;
  h_hello(e, &h, 0, T0 + 50);
  h_scone(e, &h, 0, SCONE_SIGNAL_UNKNOWN, 300, T0 + 51, &k);
  assert_true(k.v.modified);
  h_scone(e, &h, 1, SCONE_SIGNAL_UNKNOWN, 300, T0 + 52, &k);
  assert_false(k.v.modified);
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
  sconed_engine *e = h_engine("[global]\n"
                              "announce_grace = 254\n"
                              "[plan p]\n"
                              "downlink = 1M\n"
                              "action = police\n"
                              "burst = 1500\n"
                              "[subscribers]\n"
                              "subscriber = 0.0.0.0/0 p opt-in\n",
                              0);
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

/* Rates above 1 Tbit/s would overflow the token refill. */
static void rates_above_1t_refused(void **state) {
  (void)state;
  char err[256] = "";
  sconed_config *c = sconed_config_parse("[plan a]\ndownlink = 1001G\n",
                                         "bad.ini", err, sizeof(err));
  assert_null(c);
  assert_non_null(strstr(err, "bad.ini:2: downlink '1001G'"));
  c = sconed_config_parse("[capacity c]\nrate = 5000G\n", "bad.ini", err,
                          sizeof(err));
  assert_null(c);
  assert_non_null(strstr(err, "bad.ini:2: rate '5000G'"));
  c = sconed_config_parse("[plan a]\ndownlink = 1000G\n", "ok.ini", err,
                          sizeof(err));
  assert_non_null(c);
  sconed_config_free(c);

  sconed_engine *e = h_engine("[plan p]\n"
                              "downlink = 50M\n"
                              "action = police\n"
                              "[capacity c]\n"
                              "rate = 20M\n"
                              "[subscribers]\n"
                              "subscriber = 10.0.0.0/24 p opt-in capacity=c\n",
                              0);
  assert_int_equal(
      sconed_engine_set_capacity(e, "c", SCONED_MAX_RATE_BPS + 1, T0), -2);
  assert_int_equal(sconed_engine_set_capacity(e, "c", 3000000000000ULL, T0),
                   -2);
  /* Below the lowest signal no packet could carry the ceiling. */
  assert_int_equal(
      sconed_engine_set_capacity(e, "c", SCONED_MIN_RATE_BPS - 1, T0), -2);
  assert_int_equal(sconed_engine_set_capacity(e, "nope", 1000000, T0), -1);
  /* Refused: the advice stays at 20M. */
  pg_flow f;
  pg_flow_make(&f, 0, 8, 40008);
  h_hello(e, &f, 0, T0);
  h_pkt k;
  h_scone(e, &f, 0, SCONE_SIGNAL_UNKNOWN, 200, T0 + 1, &k);
  assert_int_equal(pg_signal(k.b, k.len), (int)sig_of(20000000));
  /* The ceiling itself is taken. */
  assert_int_equal(
      sconed_engine_set_capacity(e, "c", SCONED_MAX_RATE_BPS, T0 + 2), 0);
  sconed_engine_free(e);
}

/* Non-QUIC datagrams both ways (4 packets, so "established"). */
static void fake_flow(sconed_engine *e, uint32_t id, scone_tstamp t) {
  pg_flow f;
  pg_flow_make(&f, 0, 1000 + id, (uint16_t)(20000 + id));
  uint8_t p[64];
  memset(p, 0, sizeof(p));
  h_pkt k;
  for (int i = 0; i < 4; i++)
    h_send(e, &f, i & 1, p, sizeof(p), t, &k);
}

/* An established SCONE flow: handshake, SCONE packets, both ends. */
static void scone_flow(sconed_engine *e, const pg_flow *f, scone_tstamp t) {
  h_pkt k;
  h_hello(e, f, 0, t);
  h_short(e, f, 0, 300, t, &k);
  h_scone(e, f, 0, SCONE_SIGNAL_UNKNOWN, 300, t, &k);
  h_short(e, f, 1, 100, t, &k);
}

static sconed_engine_stats stats(const sconed_engine *e) {
  sconed_engine_stats st;
  sconed_engine_stats_get(e, &st);
  return st;
}

static void two_way_flood_admission(void **state) {
  (void)state;
  sconed_engine_settings s;
  h_settings(&s);
  s.max_flows = 16; /* two buckets: every flow may use both */
  s.admit_per_second = 5;
  sconed_engine *e = h_engine_with(&s, NULL);

  pg_flow real[2];
  for (int i = 0; i < 2; i++) {
    pg_flow_make(&real[i], 0, 1 + (uint32_t)i, (uint16_t)(40100 + i));
    scone_flow(e, &real[i], T0);
  }
  for (uint32_t i = 0; i < 64; i++)
    fake_flow(e, i, T0 + SEC(0.5));
  assert_int_equal(stats(e).flows, 16);

  /* The real flows stay active; the fakes fall quiet for 2 s. */
  scone_tstamp t = T0 + SEC(3);
  uint64_t total = h_plan(e, "default").flows_total;
  for (int i = 0; i < 2; i++) {
    h_pkt k;
    h_short(e, &real[i], 0, 300, t, &k);
  }
  assert_int_equal(h_plan(e, "default").flows_total, total);

  /* New real flows get in, at the bounded rate. */
  uint64_t before = stats(e).evicted_young;
  for (int i = 0; i < 20; i++) {
    pg_flow n;
    pg_flow_make(&n, 0, 100 + (uint32_t)i, (uint16_t)(41000 + i));
    h_hello(e, &n, 0, t + 1);
  }
  assert_int_equal(stats(e).evicted_young - before, s.admit_per_second);
  pg_flow later;
  pg_flow_make(&later, 0, 200, 42000);
  h_hello(e, &later, 0, t + SEC(1) + 2);
  assert_int_equal(stats(e).evicted_young - before, s.admit_per_second + 1);

  /* The SCONE flows kept their slots (and state). */
  total = h_plan(e, "default").flows_total;
  uint64_t unadmitted = stats(e).unadmitted;
  for (int i = 0; i < 2; i++) {
    h_pkt k;
    h_scone(e, &real[i], 0, SCONE_SIGNAL_UNKNOWN, 300, t + SEC(2), &k);
  }
  assert_int_equal(h_plan(e, "default").flows_total, total);
  assert_int_equal(stats(e).unadmitted, unadmitted);
  sconed_engine_free(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(flapping_capacity_bounded),
      cmocka_unit_test(single_change_immediate_burst),
      cmocka_unit_test(mid_flow_server_first),
      cmocka_unit_test(announce_grace_capped),
      cmocka_unit_test(rates_above_1t_refused),
      cmocka_unit_test(two_way_flood_admission),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
