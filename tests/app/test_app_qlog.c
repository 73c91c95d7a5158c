/*
 * qlog events: each line is one JSON object with the documented fields, and
 * a stream of them reads back as JSON lines.
 */
#include "app_test.h"

#include <string.h>

static char line[2048];

/* Formats ev at t, checks the JSON-lines framing, returns the parsed data
 * object's parent (caller decrefs). */
static json_t *emit(scone_tstamp t, const scone_app_qlog_ev *ev,
                    const char *name) {
  int n = scone_app_qlog_event(line, sizeof line, t, ev);
  assert_true(n > 0);
  assert_int_equal((size_t)n, strlen(line));
  assert_int_equal(line[n - 1], '\n');
  assert_ptr_equal(strchr(line, '\n'), line + n - 1); /* exactly one line */
  json_t *o = parse_object(line);
  assert_string_equal(get_string(o, "name"), name);
  assert_true(json_is_object(json_object_get(o, "data")));
  return o;
}

static void test_packet_sent(void **state) {
  (void)state;
  const uint8_t dcid[] = {0x01, 0x23, 0xab, 0xff};
  const uint8_t scid[] = {0x00};
  scone_app_qlog_ev ev = {0};
  ev.type = SCONE_APP_QLOG_PACKET_SENT;
  ev.signal = SCONE_SIGNAL_UNKNOWN;
  ev.dcid = dcid;
  ev.dcidlen = sizeof dcid;
  ev.scid = scid;
  ev.scidlen = sizeof scid;
  ev.length = 12;
  json_t *o = emit(1234567890, &ev, "scone:packet_sent");
  assert_true(get_number(o, "time") == 1234.567);
  json_t *d = json_object_get(o, "data");
  json_t *h = json_object_get(d, "header");
  assert_string_equal(get_string(h, "packet_type"), "scone");
  /* 127 is odd: its low bit selects the odd version. */
  assert_string_equal(get_string(h, "version"), "ef7dc0fd");
  assert_string_equal(get_string(h, "dcid"), "0123abff");
  assert_string_equal(get_string(h, "scid"), "00");
  assert_int_equal(get_int(json_object_get(d, "raw"), "length"), 12);
  assert_int_equal(get_int(d, "rate_signal"), 127);
  json_decref(o);
}

static void test_packet_received_minimal(void **state) {
  (void)state;
  scone_app_qlog_ev ev = {0};
  ev.type = SCONE_APP_QLOG_PACKET_RECEIVED;
  ev.signal = 40;
  json_t *o = emit(0, &ev, "scone:packet_received");
  assert_true(get_number(o, "time") == 0.0);
  json_t *d = json_object_get(o, "data");
  json_t *h = json_object_get(d, "header");
  assert_string_equal(get_string(h, "version"), "6f7dc0fd");
  assert_null(json_object_get(h, "dcid"));
  assert_null(json_object_get(h, "scid"));
  assert_null(json_object_get(d, "raw"));
  assert_int_equal(get_int(d, "rate_signal"), 40);

  /* An explicit version is reported as given; a zero-length CID is "". */
  static const uint8_t none[1] = {0};
  ev.version = SCONE_VERSION_ODD;
  ev.dcid = none;
  ev.dcidlen = 0;
  json_decref(o);
  o = emit(0, &ev, "scone:packet_received");
  h = json_object_get(json_object_get(o, "data"), "header");
  assert_string_equal(get_string(h, "version"), "ef7dc0fd");
  assert_string_equal(get_string(h, "dcid"), "");
  json_decref(o);
}

static void test_longest_cid(void **state) {
  (void)state;
  uint8_t cid[SCONE_MAX_CIDLEN];
  memset(cid, 0x5a, sizeof cid);
  scone_app_qlog_ev ev = {0};
  ev.type = SCONE_APP_QLOG_PACKET_SENT;
  ev.signal = 127;
  ev.dcid = cid;
  ev.dcidlen = sizeof cid;
  json_t *o = emit(1, &ev, "scone:packet_sent");
  const char *hex =
      get_string(json_object_get(json_object_get(o, "data"), "header"), "dcid");
  assert_int_equal(strlen(hex), 2 * SCONE_MAX_CIDLEN);
  assert_int_equal(strspn(hex, "5a"), 2 * SCONE_MAX_CIDLEN);
  json_decref(o);

  ev.dcidlen = SCONE_MAX_CIDLEN + 1;
  assert_int_equal(scone_app_qlog_event(line, sizeof line, 1, &ev),
                   SCONE_ERR_INVALID_ARGUMENT);
}

static void test_advice_accepted(void **state) {
  (void)state;
  scone_app_qlog_ev ev = {0};
  ev.type = SCONE_APP_QLOG_ADVICE_ACCEPTED;
  ev.signal = 40;
  json_t *o = emit(5 * SCONE_SECONDS, &ev, "scone:advice_accepted");
  assert_true(get_number(o, "time") == 5000.0);
  json_t *d = json_object_get(o, "data");
  assert_int_equal(get_int(d, "rate_signal"), 40);
  assert_int_equal(get_int(d, "throughput_advice"), 10000000);
  json_decref(o);
}

static void test_advice_rejected_reasons(void **state) {
  (void)state;
  static const char *const want[] = {"dcid_mismatch", "unknown_signal",
                                     "not_processed", "duplicate_scone",
                                     "peer_not_capable"};
  for (unsigned r = 0; r < 5; r++) {
    scone_app_qlog_ev ev = {0};
    ev.type = SCONE_APP_QLOG_ADVICE_REJECTED;
    ev.signal = r == SCONE_APP_REJECT_UNKNOWN_SIGNAL ? 127 : 20;
    ev.reason = (scone_app_reject)r;
    assert_string_equal(scone_app_reject_name(ev.reason), want[r]);
    json_t *o = emit(7, &ev, "scone:advice_rejected");
    json_t *d = json_object_get(o, "data");
    assert_string_equal(get_string(d, "reason"), want[r]);
    assert_int_equal(get_int(d, "rate_signal"), ev.signal);
    json_decref(o);
  }
  scone_app_qlog_ev bad = {0};
  bad.type = SCONE_APP_QLOG_ADVICE_REJECTED;
  bad.reason = (scone_app_reject)5;
  assert_null(scone_app_reject_name(bad.reason));
  assert_int_equal(scone_app_qlog_event(line, sizeof line, 0, &bad),
                   SCONE_ERR_INVALID_ARGUMENT);
}

static void test_advice_changed(void **state) {
  (void)state;
  scone_app_qlog_ev ev = {0};
  ev.type = SCONE_APP_QLOG_ADVICE_CHANGED;
  ev.old_signal = SCONE_SIGNAL_UNKNOWN;
  ev.signal = 33;
  ev.trigger = SCONE_APP_TRIGGER_SIGNAL;
  ev.expires_at = 10 * SCONE_SECONDS + SCONE_PERIOD;
  json_t *o = emit(10 * SCONE_SECONDS, &ev, "scone:advice_changed");
  json_t *d = json_object_get(o, "data");
  json_t *old = json_object_get(d, "old");
  assert_int_equal(get_int(old, "rate_signal"), 127);
  assert_null_key(old, "throughput_advice");
  json_t *nw = json_object_get(d, "new");
  assert_int_equal(get_int(nw, "rate_signal"), 33);
  assert_int_equal(get_int(nw, "throughput_advice"), 4466836);
  assert_string_equal(get_string(d, "trigger"), "signal");
  assert_true(get_number(d, "expires_in") == 67000.0);
  json_decref(o);

  /* Expiry to "none": new is null advice; no expiry time to report. */
  ev.old_signal = 33;
  ev.signal = SCONE_SIGNAL_UNKNOWN;
  ev.trigger = SCONE_APP_TRIGGER_EXPIRY;
  ev.expires_at = 0;
  o = emit(77 * SCONE_SECONDS, &ev, "scone:advice_changed");
  d = json_object_get(o, "data");
  assert_null_key(json_object_get(d, "new"), "throughput_advice");
  assert_string_equal(get_string(d, "trigger"), "expiry");
  assert_null(json_object_get(d, "expires_in"));
  json_decref(o);

  /* An expiry already past reads as 0, not a wrapped huge number. */
  ev.expires_at = 1;
  o = emit(2, &ev, "scone:advice_changed");
  assert_true(get_number(json_object_get(o, "data"), "expires_in") == 0.0);
  json_decref(o);

  ev.trigger = (scone_app_trigger)9;
  assert_int_equal(scone_app_qlog_event(line, sizeof line, 0, &ev),
                   SCONE_ERR_INVALID_ARGUMENT);
  ev.trigger = SCONE_APP_TRIGGER_EXPIRY;
  ev.old_signal = 128;
  assert_int_equal(scone_app_qlog_event(line, sizeof line, 0, &ev),
                   SCONE_ERR_INVALID_ARGUMENT);
}

static void test_stream_is_json_lines(void **state) {
  (void)state;
  char trace[4096] = "";
  size_t off = 0;
  for (unsigned i = 0; i < 5; i++) {
    scone_app_qlog_ev ev = {0};
    ev.type = (scone_app_qlog_type)i;
    ev.signal = 20 + i;
    ev.old_signal = 127;
    int n = scone_app_qlog_event(trace + off, sizeof trace - off,
                                 i * SCONE_MILLISECONDS, &ev);
    assert_true(n > 0);
    off += (size_t)n;
  }
  unsigned lines = 0;
  for (char *p = trace, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
    json_error_t e;
    json_t *o = json_loadb(p, (size_t)(nl - p), 0, &e);
    if (!o)
      fail_msg("line %u: %s", lines, e.text);
    assert_string_equal(get_string(o, "name"),
                        scone_app_qlog_name((scone_app_qlog_type)lines));
    assert_true(get_number(o, "time") == (double)lines);
    json_decref(o);
    lines++;
  }
  assert_int_equal(lines, 5);
}

static void test_invalid_and_small(void **state) {
  (void)state;
  scone_app_qlog_ev ev = {0};
  ev.type = SCONE_APP_QLOG_ADVICE_ACCEPTED;
  ev.signal = 40;
  int n = scone_app_qlog_event(line, sizeof line, 1, &ev);
  assert_true(n > 0);
  assert_int_equal(scone_app_qlog_event(line, (size_t)n, 1, &ev),
                   SCONE_ERR_NOBUF);
  assert_int_equal(scone_app_qlog_event(line, (size_t)n + 1, 1, &ev), n);

  ev.signal = 128;
  assert_int_equal(scone_app_qlog_event(line, sizeof line, 1, &ev),
                   SCONE_ERR_INVALID_ARGUMENT);
  ev.signal = 40;
  ev.type = (scone_app_qlog_type)5;
  assert_null(scone_app_qlog_name(ev.type));
  assert_int_equal(scone_app_qlog_event(line, sizeof line, 1, &ev),
                   SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(scone_app_qlog_event(line, sizeof line, 1, NULL),
                   SCONE_ERR_INVALID_ARGUMENT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_packet_sent),
      cmocka_unit_test(test_packet_received_minimal),
      cmocka_unit_test(test_longest_cid),
      cmocka_unit_test(test_advice_accepted),
      cmocka_unit_test(test_advice_rejected_reasons),
      cmocka_unit_test(test_advice_changed),
      cmocka_unit_test(test_stream_is_json_lines),
      cmocka_unit_test(test_invalid_and_small),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
