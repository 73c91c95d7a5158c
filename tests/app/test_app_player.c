/*
 * Player helpers: overhead margin, CMCD rounding and rendering, CMSD mb,
 * ladder selection.
 */
#include "app_test.h"

#include <string.h>

/* The cap, for settings the library accepts. */
static uint64_t cap_of(const scone_advice *a, const scone_app_settings *s) {
  uint64_t cap = 1;
  assert_int_equal(scone_app_media_cap_bps(&cap, a, s), 0);
  return cap;
}

static void test_media_cap(void **state) {
  (void)state;
  scone_advice a = advice_of(40); /* 10 Mbit/s */
  assert_int_equal(cap_of(&a, NULL), 9000000);

  scone_app_settings s;
  scone_app_settings_default(&s);
  assert_int_equal(s.overhead_margin_pct,
                   SCONE_APP_DEFAULT_OVERHEAD_MARGIN_PCT);
  s.overhead_margin_pct = 25;
  assert_int_equal(cap_of(&a, &s), 7500000);
  s.overhead_margin_pct = 0;
  assert_int_equal(cap_of(&a, &s), 10000000);
  /* Absurd margins clamp rather than leave nothing (or wrap). */
  s.overhead_margin_pct = 250;
  assert_int_equal(cap_of(&a, &s), 1000000);

  /* Rates that are not multiples of 100 are not truncated early. */
  scone_advice odd = advice_of(33); /* 4,466,836 */
  assert_int_equal(cap_of(&odd, NULL), 4020152);
  /* The top of the table does not overflow. */
  scone_advice top = advice_of(SCONE_SIGNAL_MAX);
  assert_int_equal(scone_rate_from_signal(SCONE_SIGNAL_MAX), 199526231497ULL);
  assert_int_equal(cap_of(&top, NULL), 179573608347ULL);

  scone_advice none = advice_of(SCONE_SIGNAL_UNKNOWN);
  assert_int_equal(cap_of(&none, NULL), 0);
  assert_int_equal(cap_of(NULL, NULL), 0);
}

/* Settings of a version the library does not know, a zeroed struct among
 * them, are refused by every function that takes them: nothing is said
 * rather than something read from the wrong layout. */
static void test_settings_version_checked(void **state) {
  (void)state;
  scone_advice a = advice_of(40);
  scone_app_settings s;
  scone_app_settings_default(&s);
  assert_int_equal(s.version, SCONE_APP_SETTINGS_V1);
  s.overhead_margin_pct = 20;
  assert_int_equal(cap_of(&a, &s), 8000000);
  const uint32_t unknown[] = {0, SCONE_APP_SETTINGS_V1 + 1, UINT32_MAX};
  for (size_t i = 0; i < sizeof(unknown) / sizeof(*unknown); i++) {
    s.version = unknown[i];
    uint64_t cap = 1;
    assert_int_equal(scone_app_media_cap_bps(&cap, &a, &s),
                     SCONE_ERR_INVALID_ARGUMENT);
    assert_int_equal(cap, 0);
    scone_app_cmcd c;
    assert_int_equal(scone_app_cmcd_from_advice(&c, &a, 5000000, &s),
                     SCONE_ERR_INVALID_ARGUMENT);
    assert_false(c.has_rtp);
    assert_false(c.has_mtp);
    scone_app_cmsd_dynamic d;
    assert_int_equal(scone_app_cmsd_from_advice(&d, &a, &s),
                     SCONE_ERR_INVALID_ARGUMENT);
    assert_false(d.has_mb);
  }
  scone_app_cmcd c;
  assert_int_equal(scone_app_cmcd_from_advice(&c, &a, 5000000, NULL), 0);
  scone_app_cmsd_dynamic d;
  assert_int_equal(scone_app_cmsd_from_advice(&d, &a, NULL), 0);
}

static void test_cmcd_rounding(void **state) {
  (void)state;
  assert_int_equal(scone_app_cmcd_round_kbps(4949000), 4900);
  assert_int_equal(scone_app_cmcd_round_kbps(4949999), 4900);
  assert_int_equal(scone_app_cmcd_round_kbps(4950000), 5000);
  assert_int_equal(scone_app_cmcd_round_kbps(49999), 0);
  assert_int_equal(scone_app_cmcd_round_kbps(50000), 100);
  assert_int_equal(scone_app_cmcd_round_kbps(0), 0);
  assert_int_equal(scone_app_cmcd_round_kbps(UINT64_MAX),
                   UINT64_MAX / 100000 * 100);
}

static void test_cmcd_from_advice(void **state) {
  (void)state;
  scone_app_cmcd c;
  scone_advice a = advice_of(40); /* cap 9,000,000 */

  scone_app_cmcd_from_advice(&c, &a, 4949000, NULL);
  assert_true(c.has_rtp);
  assert_int_equal(c.rtp_kbps, 9000);
  assert_true(c.has_mtp);
  assert_int_equal(c.mtp_kbps, 4900);

  /* Measured above the cap: the player will decide on the cap. */
  scone_app_cmcd_from_advice(&c, &a, 20000000, NULL);
  assert_int_equal(c.mtp_kbps, 9000);

  scone_advice b = advice_of(33); /* cap 4,020,152 */
  scone_app_cmcd_from_advice(&c, &b, 0, NULL);
  assert_int_equal(c.rtp_kbps, 4000);
  assert_false(c.has_mtp);

  /* A cap under 50 kbit/s still asks for the least CMCD can say. */
  scone_app_settings s;
  scone_app_settings_default(&s);
  s.overhead_margin_pct = 90;
  scone_advice low = advice_of(0); /* 100 kbit/s, cap 10 kbit/s */
  scone_app_cmcd_from_advice(&c, &low, 0, &s);
  assert_true(c.has_rtp);
  assert_int_equal(c.rtp_kbps, 100);

  scone_app_cmcd_from_advice(&c, NULL, 20000000, NULL);
  assert_false(c.has_rtp);
  assert_true(c.has_mtp);
  assert_int_equal(c.mtp_kbps, 20000);
}

static void test_cmcd_render(void **state) {
  (void)state;
  scone_app_cmcd c = {1, 4900, 1, 5000};
  char buf[64];
  assert_int_equal(
      scone_app_cmcd_render(buf, sizeof buf, &c, SCONE_APP_CMCD_ALL), 17);
  assert_string_equal(buf, "mtp=4900,rtp=5000");
  assert_int_equal(
      scone_app_cmcd_render(buf, sizeof buf, &c, SCONE_APP_CMCD_REQUEST), 8);
  assert_string_equal(buf, "mtp=4900");
  assert_int_equal(
      scone_app_cmcd_render(buf, sizeof buf, &c, SCONE_APP_CMCD_STATUS), 8);
  assert_string_equal(buf, "rtp=5000");

  scone_app_cmcd only_rtp = {0, 0, 1, 300};
  assert_int_equal(
      scone_app_cmcd_render(buf, sizeof buf, &only_rtp, SCONE_APP_CMCD_ALL), 7);
  assert_string_equal(buf, "rtp=300");
  assert_int_equal(
      scone_app_cmcd_render(buf, sizeof buf, &only_rtp, SCONE_APP_CMCD_REQUEST),
      0);
  assert_string_equal(buf, "");

  /* Exactly fits with the NUL; one less fails and leaves no fragment. */
  assert_int_equal(scone_app_cmcd_render(buf, 18, &c, SCONE_APP_CMCD_ALL), 17);
  assert_int_equal(scone_app_cmcd_render(buf, 17, &c, SCONE_APP_CMCD_ALL),
                   SCONE_ERR_NOBUF);
  assert_string_equal(buf, "");
  assert_int_equal(scone_app_cmcd_render(buf, 5, &c, SCONE_APP_CMCD_ALL),
                   SCONE_ERR_NOBUF);
  assert_string_equal(buf, "");
  assert_int_equal(scone_app_cmcd_render(buf, 0, &c, SCONE_APP_CMCD_ALL),
                   SCONE_ERR_NOBUF);
  assert_int_equal(scone_app_cmcd_render(buf, sizeof buf, &c, 7),
                   SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(scone_app_cmcd_render(NULL, 10, &c, SCONE_APP_CMCD_ALL),
                   SCONE_ERR_INVALID_ARGUMENT);
}

static void test_cmsd(void **state) {
  (void)state;
  scone_app_cmsd_dynamic d;
  scone_advice a = advice_of(33); /* cap 4,020,152 -> 4020 down */
  scone_app_cmsd_from_advice(&d, &a, NULL);
  assert_true(d.has_mb);
  assert_int_equal(d.mb_kbps, 4020);
  assert_false(d.has_etp);
  scone_advice up = advice_of(36); /* cap 5,678,615: nearest would be 5679 */
  scone_app_cmsd_from_advice(&d, &up, NULL);
  assert_int_equal(d.mb_kbps, 5678);
  scone_app_cmsd_from_advice(&d, &a, NULL);

  char buf[64];
  assert_int_equal(scone_app_cmsd_dynamic_render(buf, sizeof buf, "scone", &d),
                   15);
  assert_string_equal(buf, "\"scone\";mb=4020");

  d.has_etp = 1;
  d.etp_kbps = 12000;
  assert_true(scone_app_cmsd_dynamic_render(buf, sizeof buf, "a\"b\\c", &d) >
              0);
  assert_string_equal(buf, "\"a\\\"b\\\\c\";etp=12000;mb=4020");

  scone_app_cmsd_from_advice(&d, NULL, NULL);
  assert_false(d.has_mb);
  assert_int_equal(scone_app_cmsd_dynamic_render(buf, sizeof buf, "s", &d), 3);
  assert_string_equal(buf, "\"s\"");

  d.has_mb = 1;
  d.mb_kbps = 4020;
  assert_int_equal(scone_app_cmsd_dynamic_render(buf, 10, "scone", &d),
                   SCONE_ERR_NOBUF);
  assert_string_equal(buf, "");
  assert_int_equal(scone_app_cmsd_dynamic_render(buf, sizeof buf, "tab\t", &d),
                   SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(
      scone_app_cmsd_dynamic_render(buf, sizeof buf, "\xc3\xa9", &d),
      SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(scone_app_cmsd_dynamic_render(buf, sizeof buf, NULL, &d),
                   SCONE_ERR_INVALID_ARGUMENT);
  d.mb_kbps = 1000000000000000ULL; /* 16 digits: not an sf-integer */
  assert_int_equal(scone_app_cmsd_dynamic_render(buf, sizeof buf, "s", &d),
                   SCONE_ERR_INVALID_ARGUMENT);
}

static void test_ladder(void **state) {
  (void)state;
  const uint64_t ladder[] = {300000,  750000,  1500000,
                             3000000, 4500000, 8000000};
  const size_t n = sizeof ladder / sizeof ladder[0];
  assert_int_equal(scone_app_ladder_pick(ladder, n, 4020152), 3);
  assert_int_equal(scone_app_ladder_pick(ladder, n, 4500000), 4); /* equal */
  assert_int_equal(scone_app_ladder_pick(ladder, n, 4499999), 3);
  assert_int_equal(scone_app_ladder_pick(ladder, n, 100000000), 5);
  assert_int_equal(scone_app_ladder_pick(ladder, n, 0), 5); /* no cap */
  assert_int_equal(scone_app_ladder_pick(ladder, n, 299999), 0);
  assert_int_equal(scone_app_ladder_pick(ladder, n, 1), 0);
  assert_int_equal(scone_app_ladder_pick(ladder, 1, 5000000), 0);

  /* Duplicates: the highest index of the fitting value. */
  const uint64_t dup[] = {1000, 2000, 2000, 3000};
  assert_int_equal(scone_app_ladder_pick(dup, 4, 2500), 2);

  const uint64_t unsorted[] = {1000, 3000, 2000};
  assert_int_equal(scone_app_ladder_pick(unsorted, 3, 5000),
                   SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(scone_app_ladder_pick(unsorted, 3, 1500),
                   SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(scone_app_ladder_pick(ladder, 0, 1),
                   SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(scone_app_ladder_pick(NULL, 3, 1),
                   SCONE_ERR_INVALID_ARGUMENT);

  /* End to end: advice -> media cap -> rendition. */
  scone_advice a = advice_of(36); /* 6,309,573 bit/s, cap 5,678,615 */
  assert_int_equal(scone_app_ladder_pick(ladder, n, cap_of(&a, NULL)), 4);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_media_cap),
      cmocka_unit_test(test_settings_version_checked),
      cmocka_unit_test(test_cmcd_rounding),
      cmocka_unit_test(test_cmcd_from_advice),
      cmocka_unit_test(test_cmcd_render),
      cmocka_unit_test(test_cmsd),
      cmocka_unit_test(test_ladder),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
