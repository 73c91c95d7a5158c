/*
 * --no-scone on either side: the transfer works and no SCONE packet is sent
 * by anyone, since each side sends only to a peer that offered the
 * parameter and a non-capable endpoint sends none at all.
 */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#define T_GET (10 * SCONE_SECONDS)

static void run(int client_capable, int server_capable) {
  h_env e;
  h_env_init(&e);
  scone_quic_settings cs, ss;
  h_settings(&cs);
  h_settings(&ss);
  cs.scone_capable = client_capable;
  ss.scone_capable = server_capable;
  h_server s;
  h_server_start(&s, &e, &ss);
  h_fwd f;
  h_fwd_start(&f, h_server_port(&s), NULL, NULL);
  h_client c;
  h_client_start(&c, h_fwd_port(&f), &cs, NULL);

  assert_int_equal(h_client_get(&c, "/bytes/300000", T_GET), 0);
  assert_int_equal(c.last_status, 200);
  assert_true(c.body_ok);
  scone_quic_conn *conn = scone_quic_client_conn(c.cl);
  assert_int_equal(scone_quic_conn_peer_scone(conn), 0);
  scone_quic_counters cc;
  h_client_counters(&c, &cc);
  assert_int_equal(cc.scone_sent, 0);
  assert_int_equal(cc.scone_received, 0);
  /* The indication says the client can do SCONE, whatever the server. */
  if (client_capable)
    assert_true(cc.indications_sent >= 1);
  else
    assert_int_equal(cc.indications_sent, 0);
  scone_app_stats st;
  scone_quic_conn_get_stats(conn, scone_quic_now(), &st);
  assert_int_equal(st.scone_negotiated, 0);

  h_client_free(&c);
  scone_quic_server_stats sst;
  h_server_stop(&s, &sst);
  h_fwd_stop(&f);
  assert_int_equal(sst.scone.scone_sent, 0);
  assert_int_equal(sst.scone.scone_received, 0);
  assert_int_equal(sst.requests_served, 1);
  /* What the wire carried agrees with the counters. */
  assert_int_equal(f.scone[H_C2S], 0);
  assert_int_equal(f.scone[H_S2C], 0);
  assert_true(f.count[H_S2C] > 100);
  h_server_free(&s);
  h_env_cleanup(&e);
}

static void test_client_no_scone(void **state) {
  (void)state;
  run(0, 1);
}

static void test_server_no_scone(void **state) {
  (void)state;
  run(1, 0);
}

static void test_neither(void **state) {
  (void)state;
  run(0, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_client_no_scone),
      cmocka_unit_test(test_server_no_scone),
      cmocka_unit_test(test_neither),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
