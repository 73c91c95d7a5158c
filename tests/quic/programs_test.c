/*
 * scone-server and scone-client as programs, through an on-path forwarder
 * that lowers the rate signal both ways: the client prints the downlink
 * advice and its stats line, the server (--uplink-log) the uplink advice.
 * usage: programs_test SCONE_SERVER SCONE_CLIENT
 */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *server_bin, *client_bin;

static pid_t spawn(char *const argv[], const char *out, const char *err) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  pid_t pid;
  int rv = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  assert_int_equal(rv, 0);
  return pid;
}

static uint16_t wait_for_port(const char *err_file) {
  for (int i = 0; i < 200; i++) {
    char *log = h_read_file(err_file, NULL);
    const char *p = log != NULL ? strstr(log, "listening on port ") : NULL;
    unsigned port = 0;
    if (p != NULL)
      sscanf(p, "listening on port %u", &port);
    free(log);
    if (port != 0)
      return (uint16_t)port;
    usleep(50000);
  }
  fail_msg("scone-server did not report its port");
  return 0;
}

static int lower_hook(h_fwd *f, h_dir dir, uint8_t *buf, size_t *len,
                      size_t cap, void *arg) {
  (void)f;
  (void)cap;
  (void)arg;
  scone_packet_rewrite(buf, *len, dir == H_S2C ? 40 : 60, NULL);
  return 0;
}

static void test_programs_report_advice(void **state) {
  (void)state;
  h_env e;
  h_env_init(&e);
  char srv_out[400], srv_err[400], cli_out[400], cli_err[400];
  snprintf(srv_out, sizeof(srv_out), "%s/srv.out", e.dir);
  snprintf(srv_err, sizeof(srv_err), "%s/srv.err", e.dir);
  snprintf(cli_out, sizeof(cli_out), "%s/cli.out", e.dir);
  snprintf(cli_err, sizeof(cli_err), "%s/cli.err", e.dir);

  char *sargv[] = {(char *)server_bin,
                   "--listen",
                   "127.0.0.1:0",
                   "--cert",
                   e.cert,
                   "--key",
                   e.key,
                   "--uplink-log",
                   NULL};
  pid_t spid = spawn(sargv, srv_out, srv_err);
  uint16_t sport = wait_for_port(srv_err);
  h_fwd f;
  h_fwd_start(&f, sport, lower_hook, NULL);

  char url[64];
  snprintf(url, sizeof(url), "https://127.0.0.1:%u/bytes/100K", h_fwd_port(&f));
  char *cargv[] = {
      (char *)client_bin, "--insecure", "--repeat", "2", "--interval", "300ms",
      "--flow-type",      "video",      url,        NULL};
  pid_t cpid = spawn(cargv, cli_out, cli_err);
  int status;
  assert_int_equal(waitpid(cpid, &status, 0), cpid);
  kill(spid, SIGTERM);
  int sstatus;
  assert_int_equal(waitpid(spid, &sstatus, 0), spid);
  h_fwd_stop(&f);

  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  assert_true(WIFEXITED(sstatus));
  assert_int_equal(WEXITSTATUS(sstatus), 0);
  char *out = h_read_file(cli_out, NULL);
  char *err = h_read_file(cli_err, NULL);
  char *sout = h_read_file(srv_out, NULL);
  assert_non_null(out);
  assert_non_null(err);
  assert_non_null(sout);
  /* One advice line (it did not change again), then the stats line. */
  assert_non_null(strstr(out, "] advice path=0 dir=downlink signal=40 "
                              "rate=10000000 bit/s (10.000 Mbit/s)\n"));
  assert_null(strstr(strstr(out, "advice") + 1, "advice path"));
  const char *json = strrchr(out, '{');
  assert_non_null(json);
  assert_non_null(strstr(json, "\"throughputAdvice\":10000000"));
  assert_non_null(strstr(json, "\"sconeNegotiated\":true"));
  assert_non_null(strstr(err, "GET /bytes/100K #1: status 200, 100000 bytes"));
  assert_non_null(strstr(sout, "] uplink advice path=0 signal=60 "
                               "rate=100000000 bit/s (100.000 Mbit/s)\n"));
  free(out);
  free(err);
  free(sout);
  h_env_cleanup(&e);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: programs_test SCONE_SERVER SCONE_CLIENT\n");
    return 2;
  }
  server_bin = argv[1];
  client_bin = argv[2];
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_programs_report_advice),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
