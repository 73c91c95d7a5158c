/*
 * The settings structs carry a layout version, checked the way ngtcp2
 * checks its own: the version this library knows is taken, any other (or a
 * struct that never went through its _default function) is refused with
 * SCONE_ERR_INVALID_ARGUMENT before anything is opened.
 */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <string.h>

static int client_new(const scone_quic_client_config *cfg) {
  scone_quic_client *cl = NULL;
  int rv = scone_quic_client_new(&cl, cfg, NULL, NULL, NULL);
  if (rv == 0)
    scone_quic_client_del(cl);
  else
    assert_null(cl);
  return rv;
}

static void client_config(scone_quic_client_config *cfg) {
  scone_quic_client_config_default(cfg);
  cfg->host = "127.0.0.1";
  cfg->port = "9";
  cfg->insecure = 1;
}

static void test_client_versions(void **state) {
  (void)state;
  scone_quic_client_config cfg;
  client_config(&cfg);
  assert_int_equal(cfg.version, SCONE_QUIC_CLIENT_CONFIG_V1);
  assert_int_equal(cfg.quic.version, SCONE_QUIC_SETTINGS_V1);
  assert_int_equal(client_new(&cfg), 0);

  cfg.version = SCONE_QUIC_CLIENT_CONFIG_V1 + 1;
  assert_int_equal(client_new(&cfg), SCONE_ERR_INVALID_ARGUMENT);
  client_config(&cfg);
  cfg.quic.version = SCONE_QUIC_SETTINGS_V1 + 1;
  assert_int_equal(client_new(&cfg), SCONE_ERR_INVALID_ARGUMENT);

  /* Filled by hand without the defaults. */
  memset(&cfg, 0, sizeof(cfg));
  cfg.host = "127.0.0.1";
  cfg.port = "9";
  assert_int_equal(client_new(&cfg), SCONE_ERR_INVALID_ARGUMENT);
  cfg.version = SCONE_QUIC_CLIENT_CONFIG_V1;
  assert_int_equal(client_new(&cfg), SCONE_ERR_INVALID_ARGUMENT);
}

static int server_new(const scone_quic_server_config *cfg) {
  scone_quic_server *srv = NULL;
  int rv = scone_quic_server_new(&srv, cfg, NULL, NULL);
  if (rv == 0)
    scone_quic_server_del(srv);
  else
    assert_null(srv);
  return rv;
}

static void test_server_versions(void **state) {
  (void)state;
  h_env e;
  h_env_init(&e);
  scone_quic_server_config cfg;
  scone_quic_server_config_default(&cfg);
  cfg.listen = "127.0.0.1:0";
  cfg.cert_file = e.cert;
  cfg.key_file = e.key;
  assert_int_equal(cfg.version, SCONE_QUIC_SERVER_CONFIG_V1);
  assert_int_equal(server_new(&cfg), 0);

  cfg.version = 0;
  assert_int_equal(server_new(&cfg), SCONE_ERR_INVALID_ARGUMENT);
  cfg.version = SCONE_QUIC_SERVER_CONFIG_V1;
  cfg.quic.version = 0;
  assert_int_equal(server_new(&cfg), SCONE_ERR_INVALID_ARGUMENT);
  cfg.quic.version = SCONE_QUIC_SETTINGS_V1 + 1;
  assert_int_equal(server_new(&cfg), SCONE_ERR_INVALID_ARGUMENT);
  h_env_cleanup(&e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_client_versions),
      cmocka_unit_test(test_server_versions),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
