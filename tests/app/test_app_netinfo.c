/*
 * NetworkInformation view: W3C rounding, the advice as ceiling, effective
 * type table edges, JSON form, and change events with hysteresis.
 */
#include "app_test.h"

#include <math.h>

#define MS SCONE_MILLISECONDS
#define S SCONE_SECONDS

static void test_downlink_is_min_of_estimate_and_advice(void **state) {
  (void)state;
  scone_app_netinfo ni;
  scone_advice a = advice_of(33); /* 4,466,836 bit/s */

  /* Estimate above the advice: the advice binds; nearest 25k would be
   * 4,475,000, above the ceiling, so it rounds down. */
  scone_app_netinfo_compute(&ni, &a, 10000000, 40 * MS, 0);
  assert_true(ni.has_downlink);
  assert_int_equal(ni.downlink_bps, 4450000);
  assert_true(ni.downlink_mbps == 4.45);
  assert_true(ni.downlink_max_mbps == 4.466836);
  assert_int_equal(ni.advice_signal, 33);
  assert_int_equal(ni.advice_bps, 4466836);

  /* Estimate below: the estimate binds, nearest multiple of 25 kbit/s. */
  scone_app_netinfo_compute(&ni, &a, 3012499, 40 * MS, 0);
  assert_int_equal(ni.downlink_bps, 3000000);
  scone_app_netinfo_compute(&ni, &a, 3012500, 40 * MS, 0);
  assert_int_equal(ni.downlink_bps, 3025000);

  /* No estimate: the advice alone is the best bound known. */
  scone_app_netinfo_compute(&ni, &a, 0, 40 * MS, 0);
  assert_true(ni.has_downlink);
  assert_int_equal(ni.downlink_bps, 4450000);

  /* No advice: downlinkMax is W3C's +Infinity. */
  scone_app_netinfo_compute(&ni, NULL, 2000000, 40 * MS, 0);
  assert_true(isinf(ni.downlink_max_mbps));
  assert_int_equal(ni.downlink_bps, 2000000);
  assert_int_equal(ni.advice_signal, SCONE_SIGNAL_UNKNOWN);
  assert_int_equal(ni.advice_bps, 0);

  /* Unknown advice signal is the same as none. */
  scone_advice none = advice_of(SCONE_SIGNAL_UNKNOWN);
  scone_app_netinfo_compute(&ni, &none, 0, 0, 1);
  assert_false(ni.has_downlink);
  assert_false(ni.has_rtt);
  assert_true(isinf(ni.downlink_max_mbps));
  assert_int_equal(ni.effective_type, SCONE_APP_ECT_UNKNOWN);
  assert_int_equal(ni.save_data, 1);
}

static void test_rtt_rounding(void **state) {
  (void)state;
  scone_app_netinfo ni;
  scone_app_netinfo_compute(&ni, NULL, 0, 37 * MS + 499999, 0);
  assert_true(ni.has_rtt);
  assert_int_equal(ni.rtt_ms, 25);
  scone_app_netinfo_compute(&ni, NULL, 0, 37 * MS + 500000, 0);
  assert_int_equal(ni.rtt_ms, 50);
  /* Known but tiny stays known, at 0 ms. */
  scone_app_netinfo_compute(&ni, NULL, 0, 12 * MS, 0);
  assert_true(ni.has_rtt);
  assert_int_equal(ni.rtt_ms, 0);
}

static scone_app_effective_type ect(uint64_t est, scone_duration rtt) {
  scone_app_netinfo ni;
  scone_app_netinfo_compute(&ni, NULL, est, rtt, 0);
  return ni.effective_type;
}

static void test_effective_type_table(void **state) {
  (void)state;
  assert_int_equal(ect(0, 2000 * MS), SCONE_APP_ECT_SLOW_2G);
  assert_int_equal(ect(0, 1990 * MS),
                   SCONE_APP_ECT_SLOW_2G);               /* rounds to 2000 */
  assert_int_equal(ect(0, 1985 * MS), SCONE_APP_ECT_2G); /* rounds to 1975 */
  assert_int_equal(ect(0, 1400 * MS), SCONE_APP_ECT_2G);
  assert_int_equal(ect(0, 1375 * MS), SCONE_APP_ECT_3G);
  assert_int_equal(ect(0, 275 * MS), SCONE_APP_ECT_3G);
  assert_int_equal(ect(0, 250 * MS), SCONE_APP_ECT_4G);
  assert_int_equal(ect(50000, 0), SCONE_APP_ECT_SLOW_2G);
  assert_int_equal(ect(75000, 0), SCONE_APP_ECT_3G); /* 70 kbit/s is 2g's max */
  assert_int_equal(ect(700000, 0), SCONE_APP_ECT_3G);
  assert_int_equal(ect(725000, 0), SCONE_APP_ECT_4G);
  /* Either measurement can make it slower. */
  assert_int_equal(ect(50000000, 1500 * MS), SCONE_APP_ECT_2G);
  assert_int_equal(ect(50000, 10 * MS), SCONE_APP_ECT_SLOW_2G);

  assert_string_equal(scone_app_effective_type_name(SCONE_APP_ECT_SLOW_2G),
                      "slow-2g");
  assert_string_equal(scone_app_effective_type_name(SCONE_APP_ECT_2G), "2g");
  assert_string_equal(scone_app_effective_type_name(SCONE_APP_ECT_3G), "3g");
  assert_string_equal(scone_app_effective_type_name(SCONE_APP_ECT_4G), "4g");
  assert_null(scone_app_effective_type_name(SCONE_APP_ECT_UNKNOWN));
}

static void test_json(void **state) {
  (void)state;
  scone_app_netinfo ni;
  scone_advice a = advice_of(33);
  scone_app_netinfo_compute(&ni, &a, 10000000, 62 * MS + 600000, 1);
  char buf[512];
  int n = scone_app_netinfo_to_json(&ni, buf, sizeof buf);
  assert_true(n > 0);
  json_t *o = parse_object(buf);
  assert_int_equal(json_object_size(o), 6);
  assert_true(get_number(o, "downlink") == 4.45);
  assert_true(get_number(o, "downlinkMax") == 4.466836);
  assert_int_equal(get_int(o, "rtt"), 75);
  assert_string_equal(get_string(o, "effectiveType"), "4g");
  assert_true(json_is_true(json_object_get(o, "saveData")));
  assert_int_equal(get_int(o, "throughputAdvice"), 4466836);
  json_decref(o);

  scone_app_netinfo_compute(&ni, NULL, 0, 0, 0);
  assert_true(scone_app_netinfo_to_json(&ni, buf, sizeof buf) > 0);
  o = parse_object(buf);
  assert_null_key(o, "downlink");
  assert_null_key(o, "downlinkMax");
  assert_null_key(o, "rtt");
  assert_null_key(o, "effectiveType");
  assert_null_key(o, "throughputAdvice");
  assert_true(json_is_false(json_object_get(o, "saveData")));
  json_decref(o);

  assert_int_equal(scone_app_netinfo_to_json(&ni, buf, 5), SCONE_ERR_NOBUF);
  assert_int_equal(scone_app_netinfo_to_json(NULL, buf, sizeof buf),
                   SCONE_ERR_INVALID_ARGUMENT);
}

/* Default settings: 10 % and 1 s. */
static void test_hysteresis_on_estimate(void **state) {
  (void)state;
  scone_app_netinfo_state st;
  scone_app_netinfo_state_init(&st, NULL);
  scone_app_netinfo ni;

  assert_int_equal(scone_app_netinfo_update(&st, NULL, 10000000, 100 * MS, 0),
                   1);
  scone_app_netinfo_get(&st, &ni);
  assert_int_equal(ni.downlink_bps, 10000000);

  /* +5 %: not significant, and the reported view stays put. */
  assert_int_equal(
      scone_app_netinfo_update(&st, NULL, 10500000, 100 * MS, 2 * S), 0);
  scone_app_netinfo_get(&st, &ni);
  assert_int_equal(ni.downlink_bps, 10000000);

  /* Exactly +10 % counts. */
  assert_int_equal(
      scone_app_netinfo_update(&st, NULL, 11000000, 100 * MS, 3 * S), 1);
  scone_app_netinfo_get(&st, &ni);
  assert_int_equal(ni.downlink_bps, 11000000);

  /* A big change inside the interval waits, then fires after it. */
  assert_int_equal(
      scone_app_netinfo_update(&st, NULL, 22000000, 100 * MS, 3 * S + 500 * MS),
      0);
  assert_int_equal(
      scone_app_netinfo_update(&st, NULL, 22000000, 100 * MS, 4 * S - 1), 0);
  assert_int_equal(
      scone_app_netinfo_update(&st, NULL, 22000000, 100 * MS, 4 * S), 1);

  /* Slow drift, 4 % a step, fires once it adds up against the last report:
   * 22.88 (+4 %), 23.8 (+8.2 %), 24.75 (+12.5 %). */
  assert_int_equal(
      scone_app_netinfo_update(&st, NULL, 22880000, 100 * MS, 6 * S), 0);
  assert_int_equal(
      scone_app_netinfo_update(&st, NULL, 23800000, 100 * MS, 8 * S), 0);
  assert_int_equal(
      scone_app_netinfo_update(&st, NULL, 24750000, 100 * MS, 10 * S), 1);

  /* Downward changes count the same way. */
  assert_int_equal(
      scone_app_netinfo_update(&st, NULL, 22000000, 100 * MS, 12 * S), 1);

  /* Estimate lost: known -> unknown fires. */
  assert_int_equal(scone_app_netinfo_update(&st, NULL, 0, 100 * MS, 14 * S), 1);
  scone_app_netinfo_get(&st, &ni);
  assert_false(ni.has_downlink);
}

static void test_hysteresis_on_rtt_and_type(void **state) {
  (void)state;
  scone_app_settings s;
  scone_app_settings_default(&s);
  s.netinfo_change_pct = 50;
  scone_app_netinfo_state st;
  scone_app_netinfo_state_init(&st, &s);

  assert_int_equal(scone_app_netinfo_update(&st, NULL, 10000000, 100 * MS, 0),
                   1);
  /* Under the rounding step: the rounded value does not change. */
  assert_int_equal(
      scone_app_netinfo_update(&st, NULL, 10000000, 112 * MS, 5 * S), 0);
  /* +25 %, below 50 %. */
  assert_int_equal(
      scone_app_netinfo_update(&st, NULL, 10000000, 125 * MS, 6 * S), 0);
  /* +50 %. */
  assert_int_equal(
      scone_app_netinfo_update(&st, NULL, 10000000, 150 * MS, 7 * S), 1);
  /* 250 -> 275 ms is only +10 %, but crosses from 4g to 3g. */
  assert_int_equal(
      scone_app_netinfo_update(&st, NULL, 10000000, 250 * MS, 8 * S), 1);
  assert_int_equal(
      scone_app_netinfo_update(&st, NULL, 10000000, 275 * MS, 9 * S), 1);
  scone_app_netinfo ni;
  scone_app_netinfo_get(&st, &ni);
  assert_int_equal(ni.effective_type, SCONE_APP_ECT_3G);
}

static void test_advice_fires_immediately(void **state) {
  (void)state;
  scone_app_netinfo_state st;
  scone_app_netinfo_state_init(&st, NULL);
  scone_advice a = advice_of(40); /* 10 Mbit/s */
  scone_advice b = advice_of(20); /* 1 Mbit/s */
  scone_app_netinfo ni;

  assert_int_equal(scone_app_netinfo_update(&st, NULL, 8000000, 50 * MS, 0), 1);
  /* Advice arrives 1 ms later, inside the interval, and changes nothing
   * else (the estimate is below it): it still fires. */
  assert_int_equal(scone_app_netinfo_update(&st, &a, 8000000, 50 * MS, 1 * MS),
                   1);
  scone_app_netinfo_get(&st, &ni);
  assert_true(ni.downlink_max_mbps == 10.0);
  assert_int_equal(ni.downlink_bps, 8000000);
  /* The same advice again is no event. */
  assert_int_equal(scone_app_netinfo_update(&st, &a, 8000000, 50 * MS, 2 * S),
                   0);
  /* Lower advice binds downlink. */
  assert_int_equal(scone_app_netinfo_update(&st, &b, 8000000, 50 * MS, 2 * S),
                   1);
  scone_app_netinfo_get(&st, &ni);
  assert_int_equal(ni.downlink_bps, 1000000);
  /* Expiry (no advice in force) fires at once too. */
  assert_int_equal(
      scone_app_netinfo_update(&st, NULL, 8000000, 50 * MS, 2 * S + 1), 1);
  scone_app_netinfo_get(&st, &ni);
  assert_true(isinf(ni.downlink_max_mbps));
  assert_int_equal(ni.downlink_bps, 8000000);
}

static void test_clock_step_back(void **state) {
  (void)state;
  scone_app_netinfo_state st;
  scone_app_netinfo_state_init(&st, NULL);
  assert_int_equal(scone_app_netinfo_update(&st, NULL, 1000000, 0, 100 * S), 1);
  /* An earlier time is not "within the interval": events are not held off
   * for however long the clock went back. */
  assert_int_equal(scone_app_netinfo_update(&st, NULL, 5000000, 0, 50 * S), 1);
}

static void test_settings_reach_view(void **state) {
  (void)state;
  scone_app_settings s;
  scone_app_settings_default(&s);
  assert_int_equal(s.version, SCONE_APP_SETTINGS_V1);
  assert_int_equal(s.netinfo_change_pct, 10);
  assert_int_equal(s.netinfo_min_interval, SCONE_SECONDS);
  assert_int_equal(s.save_data, 0);
  s.save_data = 1;
  scone_app_netinfo_state st;
  /* A version the library does not know is refused; the state keeps the
   * defaults. */
  s.version = SCONE_APP_SETTINGS_V1 + 1;
  assert_int_equal(scone_app_netinfo_state_init(&st, &s),
                   SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(st.s.save_data, 0);
  assert_int_equal(st.s.version, SCONE_APP_SETTINGS_V1);
  s.version = SCONE_APP_SETTINGS_V1;
  assert_int_equal(scone_app_netinfo_state_init(&st, &s), 0);
  scone_app_netinfo ni;
  scone_app_netinfo_get(&st, &ni);
  assert_int_equal(ni.save_data, 1); /* before any event, too */
  assert_int_equal(scone_app_netinfo_update(&st, NULL, 0, 0, 0), 1);
  scone_app_netinfo_get(&st, &ni);
  assert_int_equal(ni.save_data, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_downlink_is_min_of_estimate_and_advice),
      cmocka_unit_test(test_rtt_rounding),
      cmocka_unit_test(test_effective_type_table),
      cmocka_unit_test(test_json),
      cmocka_unit_test(test_hysteresis_on_estimate),
      cmocka_unit_test(test_hysteresis_on_rtt_and_type),
      cmocka_unit_test(test_advice_fires_immediately),
      cmocka_unit_test(test_clock_step_back),
      cmocka_unit_test(test_settings_reach_view),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
