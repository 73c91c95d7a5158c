/*
 * Advice end to end: an on-path forwarder lowers the rate signal of SCONE
 * packets (scone_packet_rewrite, as a network element would) and the
 * receiving endpoint reports it.
 */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <string.h>

#define T_GET (10 * SCONE_SECONDS)

typedef struct rewriter {
  unsigned target[2]; /* per direction; 127 leaves packets alone */
  unsigned seq[8];    /* S2C: successive targets, then target[H_S2C] */
  size_t nseq;
  uint64_t limit[2]; /* rewrite only this many (0: all) */
  uint64_t rewritten[2];
  uint64_t seen[2];
} rewriter;

static int rewrite_hook(h_fwd *f, h_dir dir, uint8_t *buf, size_t *len,
                        size_t cap, void *arg) {
  (void)f;
  (void)cap;
  rewriter *r = arg;
  if (!scone_packet_is_scone(buf, *len))
    return 0;
  uint64_t i = r->seen[dir]++;
  if (r->limit[dir] != 0 && i >= r->limit[dir])
    return 0;
  unsigned target = dir == H_S2C && i < r->nseq ? r->seq[i] : r->target[dir];
  if (scone_packet_rewrite(buf, *len, target, NULL) == 1)
    r->rewritten[dir]++;
  return 0;
}

static void rewriter_init(rewriter *r) {
  memset(r, 0, sizeof(*r));
  r->target[H_C2S] = r->target[H_S2C] = SCONE_SIGNAL_UNKNOWN;
}

static void test_rewritten_signal_is_reported(void **state) {
  (void)state;
  h_env e;
  h_env_init(&e);
  h_server s;
  h_server_start(&s, &e, NULL);
  rewriter r;
  rewriter_init(&r);
  r.target[H_S2C] = 40; /* 10 Mbit/s */
  r.target[H_C2S] = 60; /* 100 Mbit/s */
  h_fwd f;
  h_fwd_start(&f, h_server_port(&s), rewrite_hook, &r);
  h_client c;
  h_client_start(&c, h_fwd_port(&f), NULL, e.qlog);
  assert_int_equal(h_client_get(&c, "/bytes/300000", T_GET), 0);
  assert_int_equal(c.last_status, 200);
  assert_true(c.body_ok);

  /* The callback: path 0, downlink, 10 Mbit/s. */
  assert_int_equal(c.advice_events, 1);
  assert_int_equal(c.advice_signal, 40);
  assert_int_equal(c.advice_bps, 10000000);
  assert_int_equal(c.advice_path, 0);
  assert_int_equal(c.advice_dir, SCONE_DIR_DOWNLINK);
  /* The scone_event callback's times share a clock: the advice lasts one
   * period from the event. */
  assert_int_equal(c.changed_expires_at, c.changed_at + SCONE_PERIOD);

  /* The polled state agrees. */
  scone_quic_conn *conn = scone_quic_client_conn(c.cl);
  scone_quic_advice_state as;
  scone_tstamp now = scone_quic_now();
  assert_int_equal(
      scone_quic_conn_get_advice(conn, 0, SCONE_DIR_DOWNLINK, now, &as), 0);
  assert_int_equal(as.advice.signal, 40);
  assert_int_equal(as.advice.bps, 10000000);
  assert_int_equal(as.last_signal, 40);
  assert_true(as.accepted >= SCONE_QUIC_DEFAULT_INITIAL_DATAGRAMS);
  assert_true(as.advice.received_at <= now);
  assert_int_equal(as.advice.expires_at, as.advice.received_at + SCONE_PERIOD);
  assert_int_equal(
      scone_quic_conn_get_advice(conn, 0, SCONE_DIR_UPLINK, now, &as),
      SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(
      scone_quic_conn_get_advice(conn, 7, SCONE_DIR_DOWNLINK, now, &as),
      SCONE_ERR_INVALID_ARGUMENT);

  scone_quic_counters cc;
  h_client_counters(&c, &cc);
  assert_true(cc.advice_accepted >= SCONE_QUIC_DEFAULT_INITIAL_DATAGRAMS);
  assert_int_equal(cc.rejected[SCONE_APP_REJECT_NOT_PROCESSED], 0);
  assert_int_equal(cc.rejected[SCONE_APP_REJECT_DCID_MISMATCH], 0);

  /* The stats snapshot and the NetworkInformation view carry it. */
  scone_app_stats st;
  char json[2048];
  scone_quic_conn_get_stats(conn, now, &st);
  assert_true(scone_app_stats_to_json(&st, json, sizeof(json)) > 0);
  assert_non_null(strstr(json, "\"throughputAdvice\":10000000"));
  scone_app_netinfo ni;
  scone_quic_conn_get_netinfo(conn, &ni);
  assert_int_equal(ni.advice_signal, 40);
  assert_true(ni.downlink_max_mbps > 9.99 && ni.downlink_max_mbps < 10.01);

  h_client_free(&c);
  h_server_stop(&s, NULL);
  h_fwd_stop(&f);
  /* Uplink: the server learned 100 Mbit/s from the client's packets. */
  assert_true(r.rewritten[H_C2S] >= 1);
  assert_int_equal(s.advice_signal, 60);
  assert_int_equal(s.advice_bps, 100000000);
  assert_int_equal(s.advice_dir, SCONE_DIR_UPLINK);
  assert_true(h_count_in_file(e.qlog, "\"name\":\"scone:advice_accepted\"") >=
              1);
  assert_true(h_count_in_file(e.qlog, "\"name\":\"scone:advice_changed\"") ==
              1);
  h_server_free(&s);
  h_env_cleanup(&e);
}

static void test_lowest_signal_of_the_period_wins(void **state) {
  (void)state;
  h_env e;
  h_env_init(&e);
  h_server s;
  h_server_start(&s, &e, NULL);
  rewriter r;
  rewriter_init(&r);
  r.seq[0] = 60, r.seq[1] = 40, r.seq[2] = 50;
  r.nseq = 3;
  h_fwd f;
  h_fwd_start(&f, h_server_port(&s), rewrite_hook, &r);
  h_client c;
  h_client_start(&c, h_fwd_port(&f), NULL, NULL);
  assert_int_equal(h_client_get(&c, "/bytes/100000", T_GET), 0);
  /* 60 then 40: two changes; 50 is higher than 40 and changes nothing. */
  assert_int_equal(c.advice_events, 2);
  assert_int_equal(c.advice_signal, 40);
  h_client_free(&c);
  h_server_stop(&s, NULL);
  h_fwd_stop(&f);
  assert_int_equal(r.rewritten[H_S2C], 3);
  h_server_free(&s);
  h_env_cleanup(&e);
}

static void test_advice_expires(void **state) {
  (void)state;
  h_env e;
  h_env_init(&e);
  scone_quic_settings st;
  h_settings(&st);
  st.send_interval = 200 * SCONE_MILLISECONDS;
  st.advice_period = SCONE_SECONDS; /* instead of 67 s */
  h_server s;
  h_server_start(&s, &e, &st);
  rewriter r;
  rewriter_init(&r);
  r.target[H_S2C] = 40;
  r.limit[H_S2C] = 3; /* then the element goes quiet: signals stay 127 */
  h_fwd f;
  h_fwd_start(&f, h_server_port(&s), rewrite_hook, &r);
  h_client c;
  h_client_start(&c, h_fwd_port(&f), &st, NULL);
  assert_int_equal(h_client_get(&c, "/bytes/1000", T_GET), 0);
  assert_int_equal(c.advice_signal, 40);
  assert_int_equal(h_client_idle(&c, 2 * SCONE_SECONDS), 0);
  assert_int_equal(c.advice_events, 2);
  assert_int_equal(c.advice_signal, SCONE_SIGNAL_UNKNOWN);
  assert_int_equal(c.advice_bps, 0);
  scone_quic_advice_state as;
  assert_int_equal(scone_quic_conn_get_advice(scone_quic_client_conn(c.cl), 0,
                                              SCONE_DIR_DOWNLINK,
                                              scone_quic_now(), &as),
                   0);
  assert_int_equal(as.advice.signal, SCONE_SIGNAL_UNKNOWN);
  assert_int_equal(as.last_signal, 40);
  h_client_free(&c);
  h_server_stop(&s, NULL);
  h_fwd_stop(&f);
  /* SCONE packets kept coming; their 127 is not advice. */
  assert_true(r.seen[H_S2C] > 3 + 3);
  h_server_free(&s);
  h_env_cleanup(&e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rewritten_signal_is_reported),
      cmocka_unit_test(test_lowest_signal_of_the_period_wins),
      cmocka_unit_test(test_advice_expires),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
