/*
 * What the emulator reads from outside: trace files (refused with their
 * line and reason) and its command-line values.
 */
#include <link.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static void trace_ok(void **state) {
  (void)state;
  lab_trace t;
  lab_error err;
  const char *text = "0\n0\n7\r\n7\n12"; /* CRLF, no final newline */
  assert_int_equal(lab_trace_parse(&t, text, strlen(text), &err), 0);
  assert_int_equal(t.n, 5);
  assert_int_equal(t.period_ms, 12);
  assert_int_equal(t.ms[2], 7);
  lab_trace_free(&t);
  assert_int_equal(lab_trace_parse(&t, "1\n", 2, &err), 0);
  assert_int_equal(t.n, 1);
  /* One opportunity per ms: 12 Mbit/s, as the trace README says. */
  assert_true(lab_trace_mean_bps(&t) == 12e6);
  lab_trace_free(&t);
}

static void expect_bad(const char *text, size_t len, unsigned line,
                       const char *needle) {
  lab_trace t;
  lab_error err;
  assert_int_equal(lab_trace_parse(&t, text, len, &err), -1);
  assert_null(t.ms);
  assert_int_equal(t.n, 0);
  if (err.line != line || !strstr(err.msg, needle))
    fail_msg("expected line %u '%s', got line %u '%s'", line, needle, err.line,
             err.msg);
}

static void trace_bad(void **state) {
  (void)state;
  expect_bad("", 0, 0, "empty trace");
  expect_bad("1\n2\n\n3\n", 7, 3, "empty line");
  expect_bad("1\n2\n3 \n", 7, 3, "' ' where a digit");
  expect_bad("1\n-2\n", 5, 2, "'-' where");
  expect_bad("1\nx\n", 4, 2, "'x' where");
  expect_bad("5\n4\n", 4, 2, "before the previous line's 5 ms");
  expect_bad("0\n0\n", 4, 2, "nonzero time");
  expect_bad("1\n4294967296\n", 13, 2, "offset above 4294967295");
  expect_bad("1\n2\0\n", 5, 2, "byte 0x00");
  expect_bad("1\r\r\n", 4, 1, "byte 0x0d");
  expect_bad("\n", 1, 1, "empty line");
}

static void trace_load(void **state) {
  (void)state;
  char path[] = "/tmp/test_lab_traceXXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  /* Bigger than the loader's first buffer, so it grows. */
  FILE *f = fdopen(fd, "w");
  for (int i = 1; i <= 30000; i++)
    fprintf(f, "%d\n", i / 3 + 1);
  fclose(f);
  lab_trace t;
  lab_error err;
  assert_int_equal(lab_trace_load(&t, path, &err), 0);
  assert_int_equal(t.n, 30000);
  assert_int_equal(t.period_ms, 10001);
  lab_trace_free(&t);
  unlink(path);
  assert_int_equal(lab_trace_load(&t, path, &err), -1);
  assert_int_equal(err.line, 0);
  assert_non_null(strstr(err.msg, "No such file"));
}

static void rates(void **state) {
  (void)state;
  uint64_t v;
  assert_int_equal(lab_parse_rate("5M", &v), 0);
  assert_int_equal(v, 5000000);
  assert_int_equal(lab_parse_rate("1.5Mbit/s", &v), 0);
  assert_int_equal(v, 1500000);
  assert_int_equal(lab_parse_rate("800k", &v), 0);
  assert_int_equal(v, 800000);
  assert_int_equal(lab_parse_rate("12000000", &v), 0);
  assert_int_equal(v, 12000000);
  assert_int_equal(lab_parse_rate("2.5G", &v), 0);
  assert_int_equal(v, 2500000000ULL);
  const char *bad[] = {"",
                       "M",
                       "5 M",
                       "5X",
                       "1.2345678bit",
                       "-5M",
                       "5.",
                       "99999999999999999999",
                       "1..5M"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    if (lab_parse_rate(bad[i], &v) == 0)
      fail_msg("rate '%s' accepted", bad[i]);
}

static void durations(void **state) {
  (void)state;
  uint64_t v;
  assert_int_equal(lab_parse_duration("20ms", &v), 0);
  assert_int_equal(v, 20000000);
  assert_int_equal(lab_parse_duration("2.5ms", &v), 0);
  assert_int_equal(v, 2500000);
  assert_int_equal(lab_parse_duration("500us", &v), 0);
  assert_int_equal(v, 500000);
  assert_int_equal(lab_parse_duration("1s", &v), 0);
  assert_int_equal(v, 1000000000);
  assert_int_equal(lab_parse_duration("0ms", &v), 0);
  assert_int_equal(v, 0);
  const char *bad[] = {"20", "ms", "1.5ns", "20 ms", "1m", "-1s"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    if (lab_parse_duration(bad[i], &v) == 0)
      fail_msg("duration '%s' accepted", bad[i]);
}

static void losses(void **state) {
  (void)state;
  double p;
  assert_int_equal(lab_parse_loss("0.01", &p), 0);
  assert_true(p == 0.01);
  assert_int_equal(lab_parse_loss("2.5%", &p), 0);
  assert_true(p == 0.025);
  assert_int_equal(lab_parse_loss("0", &p), 0);
  assert_true(p == 0);
  assert_int_equal(lab_parse_loss("100%", &p), 0);
  assert_true(p == 1);
  const char *bad[] = {"",     "%",   "1.5", "101%", "-0.1",
                       "0.1x", "nan", "inf", " 0.1"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    if (lab_parse_loss(bad[i], &p) == 0)
      fail_msg("loss '%s' accepted", bad[i]);
}

static void queues(void **state) {
  (void)state;
  uint64_t b;
  uint32_t p;
  assert_int_equal(lab_parse_queue("100p", &b, &p), 0);
  assert_int_equal(p, 100);
  assert_int_equal(b, 0);
  assert_int_equal(lab_parse_queue("150kB", &b, &p), 0);
  assert_int_equal(b, 150000);
  assert_int_equal(p, 0);
  assert_int_equal(lab_parse_queue("150000B", &b, &p), 0);
  assert_int_equal(b, 150000);
  assert_int_equal(lab_parse_queue("1.5M", &b, &p), 0);
  assert_int_equal(b, 1500000);
  const char *bad[] = {"100", "0p", "0B", "1.5p", "p", "10 p", "5000000000p"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    if (lab_parse_queue(bad[i], &b, &p) == 0)
      fail_msg("queue '%s' accepted", bad[i]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(trace_ok),   cmocka_unit_test(trace_bad),
      cmocka_unit_test(trace_load), cmocka_unit_test(rates),
      cmocka_unit_test(durations),  cmocka_unit_test(losses),
      cmocka_unit_test(queues),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
