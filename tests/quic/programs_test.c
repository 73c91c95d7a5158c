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

#include <dirent.h>
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

/* The output files of one test's programs, in its directory. */
typedef struct outputs {
  char srv_out[400], srv_err[400], cli_out[400], cli_err[400];
} outputs;

static void outputs_init(outputs *o, const h_env *e) {
  snprintf(o->srv_out, sizeof(o->srv_out), "%s/srv.out", e->dir);
  snprintf(o->srv_err, sizeof(o->srv_err), "%s/srv.err", e->dir);
  snprintf(o->cli_out, sizeof(o->cli_out), "%s/cli.out", e->dir);
  snprintf(o->cli_err, sizeof(o->cli_err), "%s/cli.err", e->dir);
}

/* Starts scone-server on an ephemeral port with the test's certificate and
 * up to two more arguments (NULL: none); returns its pid, *port its port. */
static pid_t start_server(const h_env *e, const outputs *o, const char *arg1,
                          const char *arg2, uint16_t *port) {
  char *argv[] = {(char *)server_bin, "--listen", "127.0.0.1:0",  "--cert",
                  (char *)e->cert,    "--key",    (char *)e->key, (char *)arg1,
                  (char *)arg2,       NULL};
  pid_t pid = spawn(argv, o->srv_out, o->srv_err);
  *port = wait_for_port(o->srv_err);
  return pid;
}

static void test_programs_report_advice(void **state) {
  (void)state;
  h_env e;
  h_env_init(&e);
  outputs o;
  outputs_init(&o, &e);
  uint16_t sport;
  pid_t spid = start_server(&e, &o, "--uplink-log", NULL, &sport);
  h_fwd f;
  h_fwd_start(&f, sport, lower_hook, NULL);

  char url[64];
  snprintf(url, sizeof(url), "https://127.0.0.1:%u/bytes/100K", h_fwd_port(&f));
  char *cargv[] = {
      (char *)client_bin, "--insecure", "--repeat", "2", "--interval", "300ms",
      "--flow-type",      "video",      url,        NULL};
  pid_t cpid = spawn(cargv, o.cli_out, o.cli_err);
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
  char *out = h_read_file(o.cli_out, NULL);
  char *err = h_read_file(o.cli_err, NULL);
  char *sout = h_read_file(o.srv_out, NULL);
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

/* Runs a program to its end; its exit status (-1 if it did not exit). */
static int run_to_end(char *const argv[], const char *out, const char *err) {
  pid_t pid = spawn(argv, out, err);
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int file_has(const char *path, const char *needle) {
  char *text = h_read_file(path, NULL);
  int found = text != NULL && strstr(text, needle) != NULL;
  free(text);
  return found;
}

/* The .sqlog files in dir. */
static int count_qlogs(const char *dir) {
  DIR *d = opendir(dir);
  if (d == NULL)
    return -1;
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    size_t l = strlen(de->d_name);
    n += l > 6 && strcmp(de->d_name + l - 6, ".sqlog") == 0;
  }
  closedir(d);
  return n;
}

static void remove_tree(const char *dir) {
  char cmd[600];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

/* --qlog-dir naming a directory that does not exist yet: it is made, and
 * the connection gets its trace there. */
static void test_server_makes_missing_qlog_dir(void **state) {
  (void)state;
  h_env e;
  h_env_init(&e);
  char qdir[400];
  snprintf(qdir, sizeof(qdir), "%s/traces/new", e.dir);
  outputs o;
  outputs_init(&o, &e);
  uint16_t sport;
  pid_t spid = start_server(&e, &o, "--qlog-dir", qdir, &sport);
  char url[64];
  snprintf(url, sizeof(url), "https://127.0.0.1:%u/bytes/10K", sport);
  char *cargv[] = {(char *)client_bin, "--insecure", url, NULL};
  int rc = run_to_end(cargv, o.cli_out, o.cli_err);
  kill(spid, SIGTERM);
  int sstatus;
  assert_int_equal(waitpid(spid, &sstatus, 0), spid);
  assert_int_equal(rc, 0);
  assert_true(WIFEXITED(sstatus) && WEXITSTATUS(sstatus) == 0);
  assert_int_equal(count_qlogs(qdir), 1);
  assert_false(file_has(o.srv_err, "without a qlog"));
  remove_tree(qdir);
  h_env_cleanup(&e);
}

/* A --qlog-dir that cannot hold the traces stops the server at start-up,
 * with the reason, instead of dropping every connection later. */
static void expect_qlog_dir_refused(const h_env *e, const char *qdir,
                                    const char *reason) {
  outputs o;
  outputs_init(&o, e);
  char *argv[] = {(char *)server_bin, "--listen", "127.0.0.1:0",  "--cert",
                  (char *)e->cert,    "--key",    (char *)e->key, "--qlog-dir",
                  (char *)qdir,       NULL};
  assert_int_equal(run_to_end(argv, o.srv_out, o.srv_err), 1);
  char want[600];
  snprintf(want, sizeof(want), "scone-server: --qlog-dir %s: %s", qdir, reason);
  if (!file_has(o.srv_err, want)) {
    char *text = h_read_file(o.srv_err, NULL);
    fail_msg("wanted \"%s\", got: %s", want, text != NULL ? text : "");
  }
  assert_false(file_has(o.srv_err, "listening"));
}

static void test_server_refuses_unusable_qlog_dir(void **state) {
  (void)state;
  h_env e;
  h_env_init(&e);
  /* A regular file where the directory should be, and below one. */
  expect_qlog_dir_refused(&e, e.cert, "Not a directory");
  char below[400];
  snprintf(below, sizeof(below), "%s/sub", e.cert);
  expect_qlog_dir_refused(&e, below, "Not a directory");
  /* A directory that exists but takes no file (even for root). */
  expect_qlog_dir_refused(&e, "/proc", "cannot write the qlog there");
  h_env_cleanup(&e);
}

/* scone-client --qlog FILE that cannot be written: a clear error. */
static void test_client_refuses_unwritable_qlog(void **state) {
  (void)state;
  h_env e;
  h_env_init(&e);
  outputs o;
  outputs_init(&o, &e);
  char qlog[400];
  snprintf(qlog, sizeof(qlog), "%s/missing/c.sqlog", e.dir);
  char *argv[] = {(char *)client_bin,     "--insecure", "--qlog", qlog,
                  "https://127.0.0.1:9/", NULL};
  assert_int_equal(run_to_end(argv, o.cli_out, o.cli_err), 1);
  char want[600];
  snprintf(want, sizeof(want), "scone-client: --qlog %s: cannot write", qlog);
  assert_true(file_has(o.cli_err, want));
  h_env_cleanup(&e);
}

/* --indication off: no first-flight datagram ends in 0xc8 0x13, and SCONE
 * is negotiated all the same; a bad mode or placement is a usage error. */
static void test_client_indication_option(void **state) {
  (void)state;
  h_env e;
  h_env_init(&e);
  outputs o;
  outputs_init(&o, &e);
  uint16_t sport;
  pid_t spid = start_server(&e, &o, NULL, NULL, &sport);
  h_fwd f;
  h_fwd_start(&f, sport, NULL, NULL);
  char url[64];
  snprintf(url, sizeof(url), "https://127.0.0.1:%u/bytes/10K", h_fwd_port(&f));
  char *off[] = {(char *)client_bin,
                 "--insecure",
                 "--indication",
                 "off",
                 "--scone-placement",
                 "handshake",
                 url,
                 NULL};
  int rc = run_to_end(off, o.cli_out, o.cli_err);
  char *bad_mode[] = {(char *)client_bin, "--indication", "sometimes", url,
                      NULL};
  int rc_mode = run_to_end(bad_mode, o.cli_out, o.cli_err);
  char *bad_place[] = {(char *)client_bin, "--scone-placement", "early", url,
                       NULL};
  int rc_place = run_to_end(bad_place, o.cli_out, o.cli_err);
  kill(spid, SIGTERM);
  int sstatus;
  assert_int_equal(waitpid(spid, &sstatus, 0), spid);
  h_fwd_stop(&f);
  assert_int_equal(rc, 0);
  assert_true(f.c2s_before_s2c >= 1);
  assert_int_equal(f.c2s_before_s2c_ind, 0);
  assert_int_equal(rc_mode, 2);
  assert_int_equal(rc_place, 2);
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
      cmocka_unit_test(test_server_makes_missing_qlog_dir),
      cmocka_unit_test(test_server_refuses_unusable_qlog_dir),
      cmocka_unit_test(test_client_refuses_unwritable_qlog),
      cmocka_unit_test(test_client_indication_option),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
