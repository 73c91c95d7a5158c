/*
 * Real handshakes on loopback: SCONE negotiated both ways, SCONE packets in
 * the first datagrams and then periodically, datagrams within the configured
 * maximum UDP payload.
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

static void test_negotiated_both_ways(void **state) {
  (void)state;
  h_env e;
  h_env_init(&e);
  h_server s;
  h_server_start(&s, &e, NULL);
  h_client c;
  h_client_start(&c, h_server_port(&s), NULL, e.qlog);

  assert_int_equal(h_client_get(&c, "/bytes/200000", T_GET), 0);
  assert_int_equal(c.last_status, 200);
  assert_int_equal(c.last_body, 200000);
  assert_true(c.body_ok);

  scone_quic_conn *conn = scone_quic_client_conn(c.cl);
  assert_true(scone_quic_conn_peer_scone(conn));
  scone_quic_counters cc;
  h_client_counters(&c, &cc);
  /* The first few datagrams after learning the parameter, both ways. */
  assert_true(cc.scone_sent >= SCONE_QUIC_DEFAULT_INITIAL_DATAGRAMS);
  assert_true(cc.scone_received >= SCONE_QUIC_DEFAULT_INITIAL_DATAGRAMS);
  assert_true(cc.indications_sent >= 1);
  /* Nothing on the path rewrote them: every signal was 127. */
  assert_int_equal(cc.rejected[SCONE_APP_REJECT_UNKNOWN_SIGNAL],
                   cc.scone_received);
  assert_int_equal(cc.advice_accepted, 0);
  assert_int_equal(c.advice_events, 0);

  scone_app_stats st;
  char json[2048];
  scone_quic_conn_get_stats(conn, scone_quic_now(), &st);
  assert_true(scone_app_stats_to_json(&st, json, sizeof(json)) > 0);
  assert_non_null(strstr(json, "\"sconeNegotiated\":true"));
  assert_non_null(strstr(json, "\"throughputAdvice\":null"));

  h_client_free(&c);
  scone_quic_server_stats ss;
  h_server_stop(&s, &ss);
  assert_int_equal(ss.connections_accepted, 1);
  assert_int_equal(ss.requests_served, 1);
  assert_int_equal(ss.datagrams_with_indication, 1);
  assert_true(ss.scone.scone_sent >= SCONE_QUIC_DEFAULT_INITIAL_DATAGRAMS);
  assert_int_equal(ss.scone.scone_received, cc.scone_sent);
  assert_int_equal(ss.scone.scone_sent, cc.scone_received);
  assert_int_equal(ss.transport_parameter_errors, 0);
  /* The client's qlog carries the SCONE events next to ngtcp2's. */
  assert_true(h_count_in_file(e.qlog, "\"name\":\"scone:packet_sent\"") ==
              cc.scone_sent);
  assert_true(h_count_in_file(e.qlog, "\"name\":\"transport:packet_sent\"") >
              0);
  h_server_free(&s);
  h_env_cleanup(&e);
}

static void test_datagrams_fit_max_udp_payload(void **state) {
  (void)state;
  h_env e;
  h_env_init(&e);
  scone_quic_settings st;
  h_settings(&st);
  st.max_udp_payload = 1300;
  h_server s;
  h_server_start(&s, &e, &st);
  h_fwd f;
  h_fwd_start(&f, h_server_port(&s), NULL, NULL);
  h_client c;
  h_client_start(&c, h_fwd_port(&f), &st, NULL);

  assert_int_equal(h_client_get(&c, "/bytes/1000000", T_GET), 0);
  assert_int_equal(c.last_status, 200);
  assert_true(c.body_ok);
  h_client_free(&c);
  h_server_stop(&s, NULL);
  h_fwd_stop(&f);
  assert_true(f.scone[H_C2S] >= SCONE_QUIC_DEFAULT_INITIAL_DATAGRAMS);
  assert_true(f.scone[H_S2C] >= SCONE_QUIC_DEFAULT_INITIAL_DATAGRAMS);
  assert_true(f.max_len[H_C2S] <= 1300);
  assert_true(f.max_len[H_S2C] <= 1300);
  /* Full-size packets were in use, so the limit was what held them. */
  assert_true(f.max_len[H_S2C] >= 1200);
  h_server_free(&s);
  h_env_cleanup(&e);
}

/* Time of every S2C SCONE packet after the handshake. */
typedef struct period_probe {
  scone_tstamp at[256];
  size_t n;
} period_probe;

static int period_hook(h_fwd *f, h_dir dir, uint8_t *buf, size_t *len,
                       size_t cap, void *arg) {
  (void)f;
  (void)cap;
  period_probe *p = arg;
  if (dir == H_S2C && scone_packet_is_scone(buf, *len) &&
      p->n < sizeof(p->at) / sizeof(p->at[0]))
    p->at[p->n++] = scone_quic_now();
  return 0;
}

static void test_periodic_scone_on_idle_connection(void **state) {
  (void)state;
  h_env e;
  h_env_init(&e);
  scone_quic_settings st;
  h_settings(&st);
  st.send_interval = 200 * SCONE_MILLISECONDS;
  h_server s;
  h_server_start(&s, &e, &st);
  period_probe p;
  memset(&p, 0, sizeof(p));
  h_fwd f;
  h_fwd_start(&f, h_server_port(&s), period_hook, &p);
  h_client c;
  h_client_start(&c, h_fwd_port(&f), &st, NULL);
  assert_int_equal(h_client_get(&c, "/bytes/1000", T_GET), 0);

  scone_quic_counters before, after;
  h_client_counters(&c, &before);
  scone_tstamp t0 = scone_quic_now();
  assert_int_equal(h_client_idle(&c, 2 * SCONE_SECONDS), 0);
  h_client_counters(&c, &after);
  h_client_free(&c);
  h_server_stop(&s, NULL);
  h_fwd_stop(&f);

  /* 2 s at 200 ms +-20%: about 10 each way; keep-alive PINGs carry them. */
  assert_true(after.scone_sent - before.scone_sent >= 6);
  size_t idle = 0;
  scone_duration max_gap = 0;
  for (size_t i = 0; i < p.n; i++) {
    if (p.at[i] < t0)
      continue;
    idle++;
    if (i > 0 && p.at[i] - p.at[i - 1] > max_gap)
      max_gap = p.at[i] - p.at[i - 1];
  }
  assert_true(idle >= 6);
  /* Never a whole interval plus its jitter without one. */
  assert_true(max_gap <= 2 * st.send_interval);
  h_server_free(&s);
  h_env_cleanup(&e);
}

/* A path whose MTU passes ngtcp2's 1342-byte PMTUD probe (a 1390-byte
 * tunnel under IPv6) and nothing bigger. */
#define T_PATH_PAYLOAD 1342
/* The UDP payload an IPv6 minimum-MTU (1280) path carries. */
#define T_MIN_PATH_PAYLOAD 1232
/* ngtcp2 0.12's largest PMTUD probe that fits the default max_udp_payload. */
#define T_FULL_PROBE 1444

typedef struct mtu_path {
  size_t limit; /* bigger datagrams are dropped */
  uint64_t scone_dropped[2];
  size_t scone_max_len[2]; /* biggest forwarded datagram with SCONE */
} mtu_path;

static int mtu_hook(h_fwd *f, h_dir dir, uint8_t *buf, size_t *len, size_t cap,
                    void *arg) {
  (void)f;
  (void)cap;
  mtu_path *m = arg;
  int scone = scone_packet_is_scone(buf, *len);
  if (*len > m->limit) {
    if (scone)
      m->scone_dropped[dir]++;
    return 1;
  }
  if (scone && *len > m->scone_max_len[dir])
    m->scone_max_len[dir] = *len;
  return 0;
}

/* A 20 MB GET through a path of m->limit bytes with a SCONE packet due
 * every 20 ms, so that many are due while PMTUD is at work. */
static void run_mtu_path(mtu_path *m, size_t max_len[2],
                         scone_quic_counters *cc) {
  h_env e;
  h_env_init(&e);
  scone_quic_settings st;
  h_settings(&st);
  /* Many SCONE packets during the transfer, with room between them for
   * PMTUD probes that carry none. */
  st.send_interval = SCONE_SECONDS / 50;
  h_server s;
  h_server_start(&s, &e, &st);
  h_fwd f;
  h_fwd_start(&f, h_server_port(&s), mtu_hook, m);
  h_client c;
  h_client_start(&c, h_fwd_port(&f), &st, NULL);

  /* Asserted only once the forwarder has stopped: a failed assertion
   * leaves this frame, and a forwarder still running would go on using
   * f on a stack that the next test reuses. */
  int rc = h_client_get(&c, "/bytes/20000000", T_GET);
  int status = c.last_status, body_ok = c.body_ok;
  h_client_counters(&c, cc);
  h_client_free(&c);
  h_server_stop(&s, NULL);
  h_fwd_stop(&f);
  max_len[H_C2S] = f.max_len[H_C2S];
  max_len[H_S2C] = f.max_len[H_S2C];
  h_server_free(&s);
  h_env_cleanup(&e);
  assert_int_equal(rc, 0);
  assert_int_equal(status, 200);
  assert_true(body_ok);
}

/* Once PMTUD has raised the path's datagram size, a SCONE packet must not
 * push a full datagram past it: such datagrams would all be lost, and with
 * them the SCONE packets of a busy connection. */
static void test_scone_datagrams_fit_probed_path(void **state) {
  (void)state;
  mtu_path m = {.limit = T_PATH_PAYLOAD};
  size_t max_len[2];
  scone_quic_counters cc;
  run_mtu_path(&m, max_len, &cc);
  /* PMTUD took the path past 1200 + a SCONE packet, so datagrams were full
   * beyond what the 1200-byte floor allows for. */
  assert_true(max_len[H_S2C] > 1300);
  assert_true(cc.scone_received > SCONE_QUIC_DEFAULT_INITIAL_DATAGRAMS + 2);
  assert_int_equal(m.scone_dropped[H_S2C], 0);
  assert_int_equal(m.scone_dropped[H_C2S], 0);
}

/* Until PMTUD confirms more than 1200 bytes, datagrams with a SCONE packet
 * stay within 1200 bytes too (handshake included), so none is lost on a
 * path that carries no more than the IPv6 minimum. */
static void test_scone_datagrams_fit_min_mtu_path(void **state) {
  (void)state;
  mtu_path m = {.limit = T_MIN_PATH_PAYLOAD};
  size_t max_len[2];
  scone_quic_counters cc;
  run_mtu_path(&m, max_len, &cc);
  assert_true(cc.scone_received > SCONE_QUIC_DEFAULT_INITIAL_DATAGRAMS + 2);
  assert_int_equal(m.scone_dropped[H_S2C], 0);
  assert_int_equal(m.scone_dropped[H_C2S], 0);
  /* Full datagrams were in use: 1200 bytes, or 1232 once PMTUD got past
   * its failed bigger probes (the transfer may end first). */
  assert_true(max_len[H_S2C] >= 1200);
}

/* The SCONE headroom is not taken from ngtcp2's budget: PMTUD reaches its
 * largest probe that fits max_udp_payload, as without SCONE, while the
 * datagrams with a SCONE packet keep within the confirmed size. */
static void test_scone_pmtud_reaches_full_size(void **state) {
  (void)state;
  mtu_path m = {.limit = SCONE_QUIC_DEFAULT_MAX_UDP_PAYLOAD};
  size_t max_len[2];
  scone_quic_counters cc;
  run_mtu_path(&m, max_len, &cc);
  assert_int_equal(max_len[H_S2C], T_FULL_PROBE);
  assert_true(cc.scone_received > SCONE_QUIC_DEFAULT_INITIAL_DATAGRAMS + 2);
  assert_true(m.scone_max_len[H_S2C] <= T_FULL_PROBE);
  assert_true(m.scone_max_len[H_C2S] <= T_FULL_PROBE);
  assert_int_equal(m.scone_dropped[H_S2C], 0);
  assert_int_equal(m.scone_dropped[H_C2S], 0);
}

/* What the packet after each SCONE packet is, per direction. */
typedef struct placement {
  uint64_t before_long[2], before_short[2];
} placement;

static int placement_hook(h_fwd *f, h_dir dir, uint8_t *buf, size_t *len,
                          size_t cap, void *arg) {
  (void)f;
  (void)cap;
  placement *p = arg;
  scone_packet sp;
  if (scone_packet_parse(&sp, buf, *len) > 0 && sp.len < *len) {
    if (buf[sp.len] & 0x80)
      p->before_long[dir]++;
    else
      p->before_short[dir]++;
  }
  return 0;
}

static void run_placement(scone_quic_placement where, placement *p) {
  h_env e;
  h_env_init(&e);
  scone_quic_settings st;
  h_settings(&st);
  st.scone_placement = where;
  h_server s;
  h_server_start(&s, &e, &st);
  memset(p, 0, sizeof(*p));
  h_fwd f;
  h_fwd_start(&f, h_server_port(&s), placement_hook, p);
  h_client c;
  h_client_start(&c, h_fwd_port(&f), &st, NULL);
  /* Asserted once the forwarder has stopped (run_mtu_path says why). */
  int rc = h_client_get(&c, "/bytes/200000", T_GET);
  int status = c.last_status, body_ok = c.body_ok;
  h_client_free(&c);
  h_server_stop(&s, NULL);
  h_fwd_stop(&f);
  h_server_free(&s);
  h_env_cleanup(&e);
  assert_int_equal(rc, 0);
  assert_int_equal(status, 200);
  assert_true(body_ok);
}

/* By default SCONE packets lead only 1-RTT packets, where picoquic accepts
 * them: none ahead of an Initial or Handshake packet either way. */
static void test_scone_only_before_short_headers(void **state) {
  (void)state;
  placement p;
  run_placement(SCONE_QUIC_PLACEMENT_CONFIRMED, &p);
  assert_int_equal(p.before_long[H_C2S], 0);
  assert_int_equal(p.before_long[H_S2C], 0);
  assert_true(p.before_short[H_C2S] >= SCONE_QUIC_DEFAULT_INITIAL_DATAGRAMS);
  assert_true(p.before_short[H_S2C] >= SCONE_QUIC_DEFAULT_INITIAL_DATAGRAMS);
}

/* The handshake placement, as the draft permits: the client's Handshake
 * flight (not padded to 1200 bytes, unlike the server's Initial one)
 * already carries SCONE packets. */
static void test_scone_in_handshake_when_asked(void **state) {
  (void)state;
  placement p;
  run_placement(SCONE_QUIC_PLACEMENT_HANDSHAKE, &p);
  assert_true(p.before_long[H_C2S] >= 1);
  assert_true(p.before_long[H_C2S] + p.before_short[H_C2S] >=
              SCONE_QUIC_DEFAULT_INITIAL_DATAGRAMS);
  assert_true(p.before_short[H_S2C] >= SCONE_QUIC_DEFAULT_INITIAL_DATAGRAMS);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_negotiated_both_ways),
      cmocka_unit_test(test_datagrams_fit_max_udp_payload),
      cmocka_unit_test(test_scone_datagrams_fit_probed_path),
      cmocka_unit_test(test_scone_datagrams_fit_min_mtu_path),
      cmocka_unit_test(test_scone_pmtud_reaches_full_size),
      cmocka_unit_test(test_periodic_scone_on_idle_connection),
      cmocka_unit_test(test_scone_only_before_short_headers),
      cmocka_unit_test(test_scone_in_handshake_when_asked),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
