/*
 * ADDR:PORT strings of the command line: both families, junk refused, and
 * the engine tuples made from socket addresses (mixed families mapped).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include "addr.h"

#include <arpa/inet.h>
#include <string.h>

static void addr_parses_both_families(void **state) {
  (void)state;
  sconed_addr a;
  char err[128], out[80];
  assert_int_equal(sconed_addr_parse("127.0.0.1:4433", &a, err, sizeof(err)),
                   0);
  assert_int_equal(a.ss.ss_family, AF_INET);
  assert_int_equal(sconed_addr_port(&a), 4433);
  assert_true(sconed_addr_is_loopback(&a));
  sconed_addr_format(&a, out, sizeof(out));
  assert_string_equal(out, "127.0.0.1:4433");
  assert_int_equal(sconed_addr_parse("[::1]:9", &a, err, sizeof(err)), 0);
  assert_int_equal(a.ss.ss_family, AF_INET6);
  assert_true(sconed_addr_is_loopback(&a));
  sconed_addr_format(&a, out, sizeof(out));
  assert_string_equal(out, "[::1]:9");
  assert_int_equal(sconed_addr_parse("10.77.0.1:80", &a, err, sizeof(err)), 0);
  assert_false(sconed_addr_is_loopback(&a));
  assert_int_equal(sconed_addr_parse("[fd77::1]:80", &a, err, sizeof(err)), 0);
  assert_false(sconed_addr_is_loopback(&a));
}

static void addr_rejects_junk(void **state) {
  (void)state;
  sconed_addr a;
  char err[128];
  const char *bad[] = {"127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "[::1]9",
                       "[::1",      ":80",        "1.2.3.4:8x"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
    assert_int_equal(sconed_addr_parse(bad[i], &a, err, sizeof(err)), -1);
}

static void addr_tuple_maps_mixed_families(void **state) {
  (void)state;
  sconed_addr c, s;
  char err[128];
  sconed_tuple t;
  assert_int_equal(sconed_addr_parse("[::1]:5000", &c, err, sizeof(err)), 0);
  assert_int_equal(sconed_addr_parse("127.0.0.2:443", &s, err, sizeof(err)), 0);
  sconed_addr_tuple(&c, &s, &t);
  assert_int_equal(t.ip_version, 6);
  assert_int_equal(t.sport, 5000);
  assert_int_equal(t.dport, 443);
  const uint8_t mapped[16] = {0, 0, 0,    0,    0,   0, 0, 0,
                              0, 0, 0xff, 0xff, 127, 0, 0, 2};
  assert_memory_equal(t.dst, mapped, 16);
  assert_int_equal(t.src[15], 1);
  assert_int_equal(sconed_addr_parse("127.0.0.1:5000", &c, err, sizeof(err)),
                   0);
  sconed_addr_tuple(&s, &c, &t);
  assert_int_equal(t.ip_version, 4);
  const uint8_t v4[4] = {127, 0, 0, 2};
  assert_memory_equal(t.src, v4, 4);
  assert_int_equal(t.sport, 443);
  /* An IPv4 client of a dual-stack listener, in front of an IPv4 server:
   * plain IPv4, so that IPv4 subscriber entries match it. */
  assert_int_equal(
      sconed_addr_parse("[::ffff:10.0.0.7]:5000", &c, err, sizeof(err)), 0);
  sconed_addr_tuple(&c, &s, &t);
  assert_int_equal(t.ip_version, 4);
  const uint8_t client[4] = {10, 0, 0, 7};
  assert_memory_equal(t.src, client, 4);
  assert_memory_equal(t.dst, v4, 4);
  assert_int_equal(t.sport, 5000);
  sconed_addr_tuple(&s, &c, &t);
  assert_int_equal(t.ip_version, 4);
  assert_memory_equal(t.dst, client, 4);
  assert_int_equal(t.dport, 5000);
  /* Against a real IPv6 server it has to stay mapped. */
  assert_int_equal(sconed_addr_parse("[fd77::1]:443", &s, err, sizeof(err)), 0);
  sconed_addr_tuple(&c, &s, &t);
  assert_int_equal(t.ip_version, 6);
  const uint8_t mapped_client[16] = {0, 0, 0,    0,    0,  0, 0, 0,
                                     0, 0, 0xff, 0xff, 10, 0, 0, 7};
  assert_memory_equal(t.src, mapped_client, 16);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(addr_parses_both_families),
      cmocka_unit_test(addr_rejects_junk),
      cmocka_unit_test(addr_tuple_maps_mixed_families),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
