/*
 * A non-empty scone_supported transport parameter must close the connection
 * with TRANSPORT_PARAMETER_ERROR (0x08), whichever side sends it.
 */
#include "harness.h"
#include "test_hooks.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#define TRANSPORT_PARAMETER_ERROR 0x08

static void test_client_sends_nonempty(void **state) {
  (void)state;
  h_env e;
  h_env_init(&e);
  h_server s;
  h_server_start(&s, &e, NULL);
  struct scone_quic_test_hooks hooks = {.tp_nonempty = 1};
  sq_test_hooks_set(0, &hooks);
  h_client c;
  h_client_start(&c, h_server_port(&s), NULL, NULL);
  sq_test_hooks_set(0, NULL);

  assert_int_equal(h_client_get(&c, "/bytes/1000", 5 * SCONE_SECONDS),
                   SCONE_QUIC_ERR_CLOSED);
  assert_int_equal(c.responses, 0);
  int remote, app;
  uint64_t code;
  assert_int_equal(scone_quic_conn_get_close_error(scone_quic_client_conn(c.cl),
                                                   &remote, &app, &code),
                   0);
  assert_true(remote); /* the server closed it */
  assert_false(app);
  assert_int_equal(code, TRANSPORT_PARAMETER_ERROR);

  h_client_free(&c);
  scone_quic_server_stats ss;
  h_server_stop(&s, &ss);
  assert_int_equal(ss.transport_parameter_errors, 1);
  assert_int_equal(ss.requests_served, 0);
  h_server_free(&s);
  h_env_cleanup(&e);
}

static void test_server_sends_nonempty(void **state) {
  (void)state;
  h_env e;
  h_env_init(&e);
  struct scone_quic_test_hooks hooks = {.tp_nonempty = 1};
  sq_test_hooks_set(1, &hooks);
  h_server s;
  h_server_start(&s, &e, NULL);
  h_client c;
  h_client_start(&c, h_server_port(&s), NULL, NULL);

  assert_int_equal(h_client_get(&c, "/bytes/1000", 5 * SCONE_SECONDS),
                   SCONE_QUIC_ERR_CLOSED);
  assert_int_equal(c.responses, 0);
  int remote, app;
  uint64_t code;
  scone_quic_conn *conn = scone_quic_client_conn(c.cl);
  assert_int_equal(scone_quic_conn_get_close_error(conn, &remote, &app, &code),
                   0);
  assert_false(remote); /* the client closed it */
  assert_false(app);
  assert_int_equal(code, TRANSPORT_PARAMETER_ERROR);
  assert_int_equal(scone_quic_conn_peer_scone(conn), 0);

  h_client_free(&c);
  scone_quic_server_stats sst;
  h_server_stop(&s, &sst);
  assert_int_equal(sst.requests_served, 0);
  assert_int_equal(sst.connections_closed_with_error, 1);
  h_server_free(&s);
  sq_test_hooks_set(1, NULL);
  h_env_cleanup(&e);
}

/* A client without SCONE does not judge the parameter: it is just unknown. */
static void test_non_scone_client_ignores_it(void **state) {
  (void)state;
  h_env e;
  h_env_init(&e);
  struct scone_quic_test_hooks hooks = {.tp_nonempty = 1};
  sq_test_hooks_set(1, &hooks);
  scone_quic_settings cs;
  h_settings(&cs);
  cs.scone_capable = 0;
  h_server s;
  h_server_start(&s, &e, NULL);
  h_client c;
  h_client_start(&c, h_server_port(&s), &cs, NULL);
  assert_int_equal(h_client_get(&c, "/bytes/1000", 5 * SCONE_SECONDS), 0);
  assert_int_equal(c.last_status, 200);
  h_client_free(&c);
  h_server_stop(&s, NULL);
  h_server_free(&s);
  sq_test_hooks_set(1, NULL);
  h_env_cleanup(&e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_client_sends_nonempty),
      cmocka_unit_test(test_server_sends_nonempty),
      cmocka_unit_test(test_non_scone_client_ignores_it),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
