/*
 * WebTransport-like stats: every key, exact values, nulls for unknowns, and
 * the buffer-size contract.
 */
#include "app_test.h"

#include <stdlib.h>
#include <string.h>

static const char *const keys[] = {
    "bytesSent",           "packetsSent",         "bytesLost",
    "packetsLost",         "bytesReceived",       "packetsReceived",
    "smoothedRtt",         "rttVariation",        "minRtt",
    "estimatedSendRate",   "throughputAdvice",    "sendThroughputAdvice",
    "sconeNegotiated",     "sconePacketsSent",    "sconePacketsReceived",
    "sconeAdviceAccepted", "sconeAdviceRejected",
};

static scone_app_stats full(void) {
  scone_app_stats st = {0};
  st.bytes_sent = 123456789;
  st.packets_sent = 1001;
  st.bytes_lost = 2400;
  st.packets_lost = 2;
  st.bytes_received = 987654321;
  st.packets_received = 700001;
  st.smoothed_rtt = 42 * SCONE_MILLISECONDS + 500000; /* 42.5 ms */
  st.rtt_variation = 3 * SCONE_MILLISECONDS + 250;    /* sub-µs dropped */
  st.min_rtt = 38123 * 1000;                          /* 38.123 ms */
  st.estimated_send_rate = 25000000;
  scone_advice a = advice_of(33);
  scone_app_stats_set_advice(&st, &a);
  st.has_send_throughput_advice = 1;
  st.send_throughput_advice_bps = 2000000;
  st.scone_negotiated = 1;
  st.scone_packets_sent = 7;
  st.scone_packets_received = 9;
  st.scone_advice_accepted = 8;
  st.scone_advice_rejected = 1;
  return st;
}

static void test_all_keys_and_values(void **state) {
  (void)state;
  scone_app_stats st = full();
  char buf[1024];
  int n = scone_app_stats_to_json(&st, buf, sizeof buf);
  assert_true(n > 0);
  assert_int_equal((size_t)n, strlen(buf));
  assert_null(strchr(buf, '\n'));

  json_t *o = parse_object(buf);
  assert_int_equal(json_object_size(o), sizeof keys / sizeof keys[0]);
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    if (!json_object_get(o, keys[i]))
      fail_msg("missing key %s", keys[i]);

  assert_int_equal(get_int(o, "bytesSent"), 123456789);
  assert_int_equal(get_int(o, "packetsSent"), 1001);
  assert_int_equal(get_int(o, "bytesLost"), 2400);
  assert_int_equal(get_int(o, "packetsLost"), 2);
  assert_int_equal(get_int(o, "bytesReceived"), 987654321);
  assert_int_equal(get_int(o, "packetsReceived"), 700001);
  assert_true(get_number(o, "smoothedRtt") == 42.5);
  assert_true(get_number(o, "rttVariation") == 3.0);
  assert_true(get_number(o, "minRtt") == 38.123);
  assert_int_equal(get_int(o, "estimatedSendRate"), 25000000);
  assert_int_equal(get_int(o, "throughputAdvice"), 4466836);
  assert_int_equal(get_int(o, "sendThroughputAdvice"), 2000000);
  assert_true(json_is_true(json_object_get(o, "sconeNegotiated")));
  assert_int_equal(get_int(o, "sconePacketsSent"), 7);
  assert_int_equal(get_int(o, "sconePacketsReceived"), 9);
  assert_int_equal(get_int(o, "sconeAdviceAccepted"), 8);
  assert_int_equal(get_int(o, "sconeAdviceRejected"), 1);
  json_decref(o);
}

static void test_unknowns_are_null(void **state) {
  (void)state;
  scone_app_stats st = {0};
  char buf[1024];
  assert_true(scone_app_stats_to_json(&st, buf, sizeof buf) > 0);
  json_t *o = parse_object(buf);
  assert_null_key(o, "estimatedSendRate");
  assert_null_key(o, "throughputAdvice");
  assert_null_key(o, "sendThroughputAdvice");
  assert_true(json_is_false(json_object_get(o, "sconeNegotiated")));
  assert_int_equal(get_int(o, "bytesSent"), 0);
  assert_true(get_number(o, "smoothedRtt") == 0.0);
  json_decref(o);
}

static void test_set_advice(void **state) {
  (void)state;
  scone_app_stats st = {0};
  scone_advice a = advice_of(40);
  scone_app_stats_set_advice(&st, &a);
  assert_int_equal(st.has_throughput_advice, 1);
  assert_int_equal(st.throughput_advice_bps, 10000000);

  scone_advice none = advice_of(SCONE_SIGNAL_UNKNOWN);
  scone_app_stats_set_advice(&st, &none);
  assert_int_equal(st.has_throughput_advice, 0);
  assert_int_equal(st.throughput_advice_bps, 0);

  scone_app_stats_set_advice(&st, &a);
  scone_app_stats_set_advice(&st, NULL);
  assert_int_equal(st.has_throughput_advice, 0);
}

static void test_counter_clamps_to_int64(void **state) {
  (void)state;
  scone_app_stats st = {0};
  st.bytes_received = UINT64_MAX;
  char buf[1024];
  assert_true(scone_app_stats_to_json(&st, buf, sizeof buf) > 0);
  json_t *o = parse_object(buf);
  assert_true(get_int(o, "bytesReceived") == INT64_MAX);
  json_decref(o);
}

static void test_buffer_contract(void **state) {
  (void)state;
  scone_app_stats st = full();
  char ref[1024];
  int n = scone_app_stats_to_json(&st, ref, sizeof ref);
  assert_true(n > 0);
  char buf[1024];
  /* Text plus NUL must fit: every shorter buffer fails, with no overrun
   * (ASan watches the heap copy). */
  for (size_t len = 0; len <= (size_t)n; len++) {
    char *b = malloc(len ? len : 1);
    assert_int_equal(scone_app_stats_to_json(&st, b, len), SCONE_ERR_NOBUF);
    free(b);
  }
  assert_int_equal(scone_app_stats_to_json(&st, buf, (size_t)n + 1), n);
  assert_string_equal(buf, ref);
  assert_int_equal(scone_app_stats_to_json(NULL, buf, sizeof buf),
                   SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(scone_app_stats_to_json(&st, NULL, 10),
                   SCONE_ERR_INVALID_ARGUMENT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_all_keys_and_values),
      cmocka_unit_test(test_unknowns_are_null),
      cmocka_unit_test(test_set_advice),
      cmocka_unit_test(test_counter_clamps_to_int64),
      cmocka_unit_test(test_buffer_contract),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
