/*
 * CMSD codec (CTA-5006): CMSD-Static as a dictionary, CMSD-Dynamic as a
 * list of server identifiers with parameters, and the decoder a player uses
 * to read mb.
 */
#include "app_test.h"

#include <string.h>

static void test_static_encode(void **state) {
  (void)state;
  scone_app_cmsd_static s;
  memset(&s, 0, sizeof s);
  /* CTA-5006's example of a static header for a video segment. */
  s.present = SCONE_APP_CMSD_OT | SCONE_APP_CMSD_SF | SCONE_APP_CMSD_ST |
              SCONE_APP_CMSD_D | SCONE_APP_CMSD_BR;
  s.ot = SCONE_APP_OT_V;
  s.sf = SCONE_APP_SF_D;
  s.st = SCONE_APP_ST_V;
  s.d_ms = 5000;
  s.br_kbps = 2000;
  char buf[256];
  int n = scone_app_cmsd_static_encode(buf, sizeof buf, &s);
  assert_string_equal(buf, "br=2000,d=5000,ot=v,sf=d,st=v");
  assert_int_equal(n, (int)strlen(buf));

  s.present |= SCONE_APP_CMSD_AT | SCONE_APP_CMSD_N | SCONE_APP_CMSD_SU |
               SCONE_APP_CMSD_V | SCONE_APP_CMSD_HT | SCONE_APP_CMSD_NOR;
  s.at_ms = 1700000000000ULL;
  strcpy(s.n, "scone-server");
  strcpy(s.nor, "seg-00002.m4s");
  s.v = 1; /* version 1 is the default: not sent */
  s.ht_ms = 0;
  scone_app_cmsd_static_encode(buf, sizeof buf, &s);
  assert_string_equal(buf, "at=1700000000000,br=2000,d=5000,ht=0,"
                           "n=\"scone-server\",nor=\"seg-00002.m4s\",ot=v,"
                           "sf=d,st=v,su");
  assert_int_equal(scone_app_cmsd_static_encode(buf, 10, &s), SCONE_ERR_NOBUF);
  assert_string_equal(buf, "");
  assert_int_equal(scone_app_cmsd_static_encode(NULL, 10, &s),
                   SCONE_ERR_INVALID_ARGUMENT);
}

static void test_dynamic_render(void **state) {
  (void)state;
  scone_app_cmsd_dynamic d;
  memset(&d, 0, sizeof d);
  d.du = 1;
  d.has_etp = 1;
  d.etp_kbps = 20000;
  d.has_mb = 1;
  d.mb_kbps = 5000;
  d.has_rd = 1;
  d.rd_ms = 4;
  d.has_rtt = 1;
  d.rtt_ms = 30;
  char buf[128];
  int n = scone_app_cmsd_dynamic_render(buf, sizeof buf, "fastcdn.com", &d);
  /* Canonical form: no spaces, parameters alphabetical, true Boolean bare. */
  assert_string_equal(buf, "\"fastcdn.com\";du;etp=20000;mb=5000;rd=4;rtt=30");
  assert_int_equal(n, (int)strlen(buf));
}

static int dec(const char *text, scone_app_cmsd_entry *e, size_t max) {
  return scone_app_cmsd_dynamic_decode(text, strlen(text), e, max);
}

static void test_dynamic_decode(void **state) {
  (void)state;
  scone_app_cmsd_entry e[4];
  uint64_t mb = 0;

  /* Two servers on the path, as in CTA-5006's example; the player honours
   * the lower mb. */
  assert_int_equal(
      dec("\"CDNA\";etp=125;rtt=10;mb=8000, \"CDNB\";etp=1000;rtt=40;mb=5000",
          e, 4),
      2);
  assert_string_equal(e[0].server, "CDNA");
  assert_true(e[0].d.has_etp);
  assert_int_equal(e[0].d.etp_kbps, 125);
  assert_int_equal(e[0].d.rtt_ms, 10);
  assert_string_equal(e[1].server, "CDNB");
  assert_int_equal(e[1].d.mb_kbps, 5000);
  assert_int_equal(scone_app_cmsd_dynamic_min_mb(e, 2, &mb), 1);
  assert_int_equal(mb, 5000);

  /* What the server renders, the player reads back. */
  scone_app_cmsd_dynamic d;
  scone_advice a = advice_of(33); /* cap 4,020,152 */
  scone_app_cmsd_from_advice(&d, &a, NULL);
  char buf[128];
  scone_app_cmsd_dynamic_render(buf, sizeof buf, "scone", &d);
  assert_int_equal(dec(buf, e, 4), 1);
  assert_int_equal(scone_app_cmsd_dynamic_min_mb(e, 1, &mb), 1);
  assert_int_equal(mb, 4020);

  /* Tolerant: tokens as identifiers, unknown and mistyped parameters, a
   * false duress, more members than room. */
  assert_int_equal(dec("cdn1;mb=\"x\";zz=1;du=?0;rd=-1, \"b\";du, \"c\", "
                       "\"d\";mb=1, \"e\";mb=2",
                       e, 4),
                   5);
  assert_string_equal(e[0].server, "cdn1");
  assert_false(e[0].d.has_mb);
  assert_false(e[0].d.du);
  assert_false(e[0].d.has_rd);
  assert_true(e[1].d.du);
  assert_int_equal(scone_app_cmsd_dynamic_min_mb(e, 4, &mb), 1);
  assert_int_equal(mb, 1);
  /* Members that are not identifiers are kept with an empty server. */
  assert_int_equal(dec("12;mb=7, (\"a\" \"b\");mb=9", e, 4), 2);
  assert_string_equal(e[0].server, "");
  assert_int_equal(e[0].d.mb_kbps, 7);
  assert_int_equal(e[1].d.mb_kbps, 9);
  assert_int_equal(dec("", e, 4), 0);
  assert_int_equal(scone_app_cmsd_dynamic_min_mb(e, 0, &mb), 0);
  assert_int_equal(dec("\"a\"", e, 0), 1); /* counted, not stored */

  /* Strict on syntax. */
  static const char *const malformed[] = {
      "\"a\";mb=",      "\"a\",",   "\"a\" \"b\"", "\"a\";MB=1",
      "\"a\";mb=1.2.3", "\"a\";=1", ",\"a\"",      "\"a",
  };
  for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++)
    if (dec(malformed[i], e, 4) != SCONE_ERR_MALFORMED)
      fail_msg("accepted %s", malformed[i]);
  assert_int_equal(scone_app_cmsd_dynamic_decode(NULL, 3, e, 4),
                   SCONE_ERR_INVALID_ARGUMENT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_static_encode),
      cmocka_unit_test(test_dynamic_render),
      cmocka_unit_test(test_dynamic_decode),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
