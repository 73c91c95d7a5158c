/*
 * A content server that stalls mid-response, for scone-player's tests
 * (tests/apps): the server library with the test hooks' stall (a response
 * stops at byte N of its object, the connection alive, as an origin that
 * hangs).
 *
 *   quic_stall_server ROOT BYTES once|always DIR
 *
 * (a self-signed certificate is made in DIR)
 * Prints "listening on port P" on stderr, serves 127.0.0.1 until SIGTERM.
 */
#include "test_hooks.h"

#include <scone/quic.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static scone_quic_server *g_srv;

static void on_signal(int sig) {
  (void)sig;
  if (g_srv != NULL)
    scone_quic_server_stop(g_srv);
}

int main(int argc, char **argv) {
  if (argc != 5 || (strcmp(argv[3], "once") && strcmp(argv[3], "always"))) {
    fprintf(stderr, "usage: quic_stall_server ROOT BYTES once|always DIR\n");
    return 2;
  }
  char cert[4096], key[4096];
  snprintf(cert, sizeof(cert), "%s/cert.pem", argv[4]);
  snprintf(key, sizeof(key), "%s/key.pem", argv[4]);
  if (scone_quic_make_self_signed(cert, key, NULL) != 0) {
    fprintf(stderr, "quic_stall_server: no certificate in %s\n", argv[4]);
    return 1;
  }
  static struct scone_quic_test_hooks hooks;
  hooks.stall_after_bytes = strtoull(argv[2], NULL, 10);
  hooks.stall_once = strcmp(argv[3], "once") == 0;
  sq_test_hooks_set(1, &hooks);
  scone_quic_server_config cfg;
  scone_quic_server_config_default(&cfg);
  cfg.listen = "127.0.0.1:0";
  cfg.root = argv[1];
  cfg.cert_file = cert;
  cfg.key_file = key;
  int rv = scone_quic_server_new(&g_srv, &cfg, NULL, NULL, NULL);
  if (rv != 0) {
    fprintf(stderr, "quic_stall_server: %s\n", scone_quic_strerror(rv));
    return 1;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  fprintf(stderr, "quic_stall_server: listening on port %u\n",
          scone_quic_server_port(g_srv));
  rv = scone_quic_server_run(g_srv);
  scone_quic_server_del(g_srv);
  return rv == 0 ? 0 : 1;
}
