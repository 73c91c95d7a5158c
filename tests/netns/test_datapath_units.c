/*
 * The datapath's pure parts: the shaper's delay queue, address strings
 * and tuples, and the command-line options.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include "addr.h"
#include "datapath.h"
#include "delayq.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static void delayq_orders_by_time_then_arrival(void **state) {
  (void)state;
  sconed_delayq q;
  assert_int_equal(sconed_delayq_init(&q, 8), 0);
  const scone_tstamp at[] = {50, 10, 30, 10, 20, 50};
  for (int i = 0; i < 6; i++)
    assert_int_equal(sconed_delayq_push(&q, at[i], (uint64_t)i, NULL, NULL, 0),
                     0);
  assert_int_equal(sconed_delayq_next(&q), 10);
  sconed_delayed d;
  assert_int_equal(sconed_delayq_pop_due(&q, 9, &d), 0);
  const uint64_t want[] = {1, 3, 4, 2, 0, 5};
  for (int i = 0; i < 6; i++) {
    assert_int_equal(sconed_delayq_pop_due(&q, 100, &d), 1);
    assert_int_equal(d.key, want[i]);
  }
  assert_int_equal(sconed_delayq_pop_due(&q, 100, &d), 0);
  assert_true(sconed_delayq_next(&q) == UINT64_MAX);
  sconed_delayq_free(&q);
}

static void delayq_is_bounded_and_copies(void **state) {
  (void)state;
  sconed_delayq q;
  assert_int_equal(sconed_delayq_init(&q, 2), 0);
  uint8_t pkt[3] = {1, 2, 3};
  assert_int_equal(sconed_delayq_push(&q, 5, 7, &q, pkt, 3), 0);
  pkt[0] = 9; /* the queue holds its own copy */
  assert_int_equal(sconed_delayq_push(&q, 6, 8, NULL, NULL, 0), 0);
  assert_int_equal(sconed_delayq_push(&q, 1, 9, NULL, NULL, 0), -1);
  sconed_delayed d;
  assert_int_equal(sconed_delayq_pop_due(&q, 5, &d), 1);
  assert_ptr_equal(d.owner, &q);
  assert_int_equal(d.len, 3);
  assert_int_equal(d.data[0], 1);
  free(d.data);
  /* One left: freeing the queue frees it (ASan would see a leak). */
  sconed_delayq_free(&q);
}

static void delayq_many_random(void **state) {
  (void)state;
  sconed_delayq q;
  assert_int_equal(sconed_delayq_init(&q, 1000), 0);
  uint64_t s = 88172645463325252ULL;
  for (int i = 0; i < 1000; i++) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    assert_int_equal(sconed_delayq_push(&q, s % 97, (uint64_t)i, NULL, NULL, 0),
                     0);
  }
  sconed_delayed d, prev = {0};
  int n = 0;
  while (sconed_delayq_pop_due(&q, UINT64_MAX, &d)) {
    if (n)
      assert_true(prev.at < d.at || (prev.at == d.at && prev.key < d.key));
    prev = d;
    n++;
  }
  assert_int_equal(n, 1000);
  sconed_delayq_free(&q);
}

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

static void options_parse_and_validate(void **state) {
  (void)state;
  sconed_dp_options o;
  sconed_dp_options_default(&o);
  assert_false(sconed_dp_wanted(&o));
  assert_int_equal(sconed_dp_getopt(&o, 'x', "1"), 0);
  assert_int_equal(sconed_dp_getopt(&o, SCONED_DP_OPT_NFQUEUE, "3:5"), 1);
  assert_int_equal(o.queue_lo, 3);
  assert_int_equal(o.queue_hi, 5);
  assert_true(sconed_dp_wanted(&o));
  assert_int_equal(sconed_dp_validate(&o), 0);
  assert_int_equal(sconed_dp_getopt(&o, SCONED_DP_OPT_NFQUEUE, "7"), 1);
  assert_int_equal(o.queue_lo, 7);
  assert_int_equal(o.queue_hi, 7);
  const char *bad[] = {"5:3", "x", "", "70000", "1:", ":2", "-1"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
    assert_int_equal(sconed_dp_getopt(&o, SCONED_DP_OPT_NFQUEUE, bad[i]), -1);
  assert_int_equal(sconed_dp_getopt(&o, SCONED_DP_OPT_NFQ_BATCH, "1"), 1);
  assert_int_equal(o.batch, 1);
  assert_false(o.batch_verdicts);
  assert_int_equal(sconed_dp_getopt(&o, SCONED_DP_OPT_NFQ_BATCH, "0"), -1);
  /* Relay and NFQUEUE are separate modes; relay needs its upstream. */
  assert_int_equal(sconed_dp_getopt(&o, SCONED_DP_OPT_RELAY, "127.0.0.1:1"), 1);
  assert_int_equal(sconed_dp_validate(&o), -1);
  sconed_dp_options_default(&o);
  sconed_dp_getopt(&o, SCONED_DP_OPT_RELAY, "127.0.0.1:1");
  assert_int_equal(sconed_dp_validate(&o), -1);
  sconed_dp_getopt(&o, SCONED_DP_OPT_UPSTREAM, "127.0.0.1:2");
  assert_int_equal(sconed_dp_validate(&o), 0);
  sconed_dp_options_default(&o);
  sconed_dp_getopt(&o, SCONED_DP_OPT_CONTROL, "127.0.0.1:9100");
  assert_true(sconed_dp_wanted(&o));
  assert_int_equal(sconed_dp_validate(&o), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(delayq_orders_by_time_then_arrival),
      cmocka_unit_test(delayq_is_bounded_and_copies),
      cmocka_unit_test(delayq_many_random),
      cmocka_unit_test(addr_parses_both_families),
      cmocka_unit_test(addr_rejects_junk),
      cmocka_unit_test(addr_tuple_maps_mixed_families),
      cmocka_unit_test(options_parse_and_validate),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
