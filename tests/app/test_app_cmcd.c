/*
 * CMCD codec (CTA-5004): the specification's examples in both transmission
 * modes, its rounding and typing rules, and how the decoder treats what a
 * hostile or sloppy client sends.
 */
#include "app_test.h"

#include <string.h>

#define SID "6e2fb550-c457-11e9-bb97-0800200c9a66"

/* The CTA-5004 example payload: br, bs, d, mtp, ot, rtp, sid, tb. */
static scone_app_cmcd_data example(void) {
  scone_app_cmcd_data c;
  memset(&c, 0, sizeof c);
  c.present = SCONE_APP_CMCD_BR | SCONE_APP_CMCD_BS | SCONE_APP_CMCD_D |
              SCONE_APP_CMCD_MTP | SCONE_APP_CMCD_OT | SCONE_APP_CMCD_RTP |
              SCONE_APP_CMCD_SID | SCONE_APP_CMCD_TB;
  c.br_kbps = 3200;
  c.d_ms = 4004;
  c.mtp_kbps = 25400;
  c.ot = SCONE_APP_OT_V;
  c.rtp_kbps = 15000;
  strcpy(c.sid, SID);
  c.tb_kbps = 6000;
  return c;
}

static void test_example_query(void **state) {
  (void)state;
  scone_app_cmcd_data c = example();
  char buf[512];
  int n = scone_app_cmcd_encode(buf, sizeof buf, &c, SCONE_APP_CMCD_ALL);
  assert_string_equal(buf, "br=3200,bs,d=4004,mtp=25400,ot=v,rtp=15000,"
                           "sid=\"" SID "\",tb=6000");
  assert_int_equal(n, (int)strlen(buf));
  n = scone_app_cmcd_encode_query(buf, sizeof buf, &c);
  assert_string_equal(buf,
                      "CMCD=br%3D3200%2Cbs%2Cd%3D4004%2Cmtp%3D25400%2Cot"
                      "%3Dv%2Crtp%3D15000%2Csid%3D%22" SID "%22%2Ctb%3D6000");
  assert_int_equal(n, (int)strlen(buf));

  /* And back, as a server reads it from the request target. */
  char target[600];
  snprintf(target, sizeof target, "/video/seg-3.m4s?x=1&%s&y=2", buf);
  scone_app_cmcd_data d;
  memset(&d, 0, sizeof d);
  assert_int_equal(scone_app_cmcd_decode_query(&d, target, strlen(target)), 8);
  assert_int_equal(d.present, c.present);
  assert_int_equal(d.br_kbps, 3200);
  assert_int_equal(d.d_ms, 4004);
  assert_int_equal(d.mtp_kbps, 25400);
  assert_int_equal(d.ot, SCONE_APP_OT_V);
  assert_int_equal(d.rtp_kbps, 15000);
  assert_string_equal(d.sid, SID);
  assert_int_equal(d.tb_kbps, 6000);
  assert_int_equal(d.unknown_keys + d.invalid_keys + d.misplaced_keys, 0);
}

static void test_example_headers(void **state) {
  (void)state;
  scone_app_cmcd_data c = example();
  static const struct {
    scone_app_cmcd_shard shard;
    const char *name, *value;
  } want[] = {
      {SCONE_APP_CMCD_REQUEST, "CMCD-Request", "mtp=25400"},
      {SCONE_APP_CMCD_OBJECT, "CMCD-Object", "br=3200,d=4004,ot=v,tb=6000"},
      {SCONE_APP_CMCD_STATUS, "CMCD-Status", "bs,rtp=15000"},
      {SCONE_APP_CMCD_SESSION, "CMCD-Session", "sid=\"" SID "\""},
  };
  scone_app_cmcd_data d;
  memset(&d, 0, sizeof d);
  for (size_t i = 0; i < 4; i++) {
    char buf[256];
    int n = scone_app_cmcd_encode(buf, sizeof buf, &c, want[i].shard);
    assert_string_equal(buf, want[i].value);
    assert_int_equal(n, (int)strlen(want[i].value));
    assert_string_equal(scone_app_cmcd_header_name(want[i].shard),
                        want[i].name);
    assert_true(scone_app_cmcd_decode(&d, want[i].shard, buf, (size_t)n) > 0);
  }
  /* The four shards together give back the whole payload. */
  assert_int_equal(d.present, c.present);
  assert_int_equal(d.tb_kbps, 6000);
  assert_string_equal(d.sid, SID);
  assert_int_equal(d.misplaced_keys, 0);
  assert_null(scone_app_cmcd_header_name(SCONE_APP_CMCD_ALL));

  /* Every key has its CTA-5004 shard. */
  assert_int_equal(scone_app_cmcd_key_shard(SCONE_APP_CMCD_BL),
                   SCONE_APP_CMCD_REQUEST);
  assert_int_equal(scone_app_cmcd_key_shard(SCONE_APP_CMCD_SU),
                   SCONE_APP_CMCD_REQUEST);
  assert_int_equal(scone_app_cmcd_key_shard(SCONE_APP_CMCD_NOR),
                   SCONE_APP_CMCD_REQUEST);
  assert_int_equal(scone_app_cmcd_key_shard(SCONE_APP_CMCD_TB),
                   SCONE_APP_CMCD_OBJECT);
  assert_int_equal(scone_app_cmcd_key_shard(SCONE_APP_CMCD_BS),
                   SCONE_APP_CMCD_STATUS);
  assert_int_equal(scone_app_cmcd_key_shard(SCONE_APP_CMCD_PR),
                   SCONE_APP_CMCD_SESSION);
  assert_int_equal(scone_app_cmcd_key_shard(SCONE_APP_CMCD_V),
                   SCONE_APP_CMCD_SESSION);
  assert_int_equal(scone_app_cmcd_key_shard(1u << 30), SCONE_APP_CMCD_ALL);
}

static void test_rounding_and_types(void **state) {
  (void)state;
  scone_app_cmcd_data c;
  memset(&c, 0, sizeof c);
  char buf[512];

  /* bl and dl to the nearest 100 ms, mtp and rtp to the nearest 100
   * kbit/s; d, br and tb are sent as given. */
  c.present = SCONE_APP_CMCD_BL | SCONE_APP_CMCD_DL | SCONE_APP_CMCD_MTP |
              SCONE_APP_CMCD_RTP | SCONE_APP_CMCD_D | SCONE_APP_CMCD_BR;
  c.bl_ms = 21349;
  c.dl_ms = 18450;
  c.mtp_kbps = 48149;
  c.rtp_kbps = 12050;
  c.d_ms = 2002;
  c.br_kbps = 3217;
  scone_app_cmcd_encode(buf, sizeof buf, &c, SCONE_APP_CMCD_ALL);
  assert_string_equal(buf,
                      "bl=21300,br=3217,d=2002,dl=18500,mtp=48100,rtp=12100");
  /* An rtp under 50 kbit/s still asks for the least CMCD can say. */
  c.present = SCONE_APP_CMCD_RTP;
  c.rtp_kbps = 40;
  scone_app_cmcd_encode(buf, sizeof buf, &c, SCONE_APP_CMCD_ALL);
  assert_string_equal(buf, "rtp=100");

  /* Tokens bare, strings quoted and escaped, Booleans as bare keys, the
   * playback rate a decimal sent only when not 1, the version only when
   * not 1. */
  memset(&c, 0, sizeof c);
  c.present = SCONE_APP_CMCD_CID | SCONE_APP_CMCD_PR | SCONE_APP_CMCD_SF |
              SCONE_APP_CMCD_ST | SCONE_APP_CMCD_SU | SCONE_APP_CMCD_V |
              SCONE_APP_CMCD_OT | SCONE_APP_CMCD_NRR;
  strcpy(c.cid, "a\"b\\c");
  c.pr_milli = 1080;
  c.sf = SCONE_APP_SF_D;
  c.st = SCONE_APP_ST_V;
  c.v = 1;
  c.ot = SCONE_APP_OT_AV;
  strcpy(c.nrr, "12323-48763");
  scone_app_cmcd_encode(buf, sizeof buf, &c, SCONE_APP_CMCD_ALL);
  assert_string_equal(buf, "cid=\"a\\\"b\\\\c\",nrr=\"12323-48763\",ot=av,"
                           "pr=1.08,sf=d,st=v,su");
  c.pr_milli = 1000;
  c.v = 2;
  scone_app_cmcd_encode(buf, sizeof buf, &c, SCONE_APP_CMCD_SESSION);
  assert_string_equal(buf, "cid=\"a\\\"b\\\\c\",sf=d,st=v,v=2");
  c.pr_milli = 0; /* paused: 0 as an sf-decimal */
  scone_app_cmcd_encode(buf, sizeof buf, &c, SCONE_APP_CMCD_SESSION);
  assert_string_equal(buf, "cid=\"a\\\"b\\\\c\",pr=0.0,sf=d,st=v,v=2");

  /* nor is URL-encoded into the string, then the query form encodes the
   * whole payload again, as in CTA-5004's example. */
  memset(&c, 0, sizeof c);
  assert_int_equal(scone_app_cmcd_set_nor(&c, "../300kbps/track.m4v"), 0);
  assert_string_equal(c.nor, "..%2F300kbps%2Ftrack.m4v");
  scone_app_cmcd_encode_query(buf, sizeof buf, &c);
  assert_string_equal(buf, "CMCD=nor%3D%22..%252F300kbps%252Ftrack.m4v%22");

  /* Nothing present: no header, no query argument. */
  memset(&c, 0, sizeof c);
  assert_int_equal(
      scone_app_cmcd_encode(buf, sizeof buf, &c, SCONE_APP_CMCD_ALL), 0);
  assert_string_equal(buf, "");
  assert_int_equal(scone_app_cmcd_encode_query(buf, sizeof buf, &c), 0);
}

static void test_encode_errors(void **state) {
  (void)state;
  scone_app_cmcd_data c;
  memset(&c, 0, sizeof c);
  char buf[64];
  c.present = SCONE_APP_CMCD_SID;
  strcpy(c.sid, "caf\xc3\xa9"); /* not ASCII: no sf-string holds it */
  assert_int_equal(
      scone_app_cmcd_encode(buf, sizeof buf, &c, SCONE_APP_CMCD_ALL),
      SCONE_ERR_INVALID_ARGUMENT);
  assert_string_equal(buf, "");
  c.present = SCONE_APP_CMCD_OT;
  c.ot = (scone_app_cm_ot)42;
  assert_int_equal(
      scone_app_cmcd_encode(buf, sizeof buf, &c, SCONE_APP_CMCD_ALL),
      SCONE_ERR_INVALID_ARGUMENT);
  c.present = SCONE_APP_CMCD_BR;
  c.br_kbps = 1000000000000000ULL; /* 16 digits */
  assert_int_equal(
      scone_app_cmcd_encode(buf, sizeof buf, &c, SCONE_APP_CMCD_ALL),
      SCONE_ERR_INVALID_ARGUMENT);
  c.br_kbps = 3200;
  assert_int_equal(scone_app_cmcd_encode(buf, 7, &c, SCONE_APP_CMCD_ALL),
                   SCONE_ERR_NOBUF);
  assert_string_equal(buf, "");
  assert_int_equal(scone_app_cmcd_encode(buf, 8, &c, SCONE_APP_CMCD_ALL), 7);
  assert_int_equal(scone_app_cmcd_encode(buf, sizeof buf, &c, 9),
                   SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(scone_app_cmcd_encode_query(buf, 10, &c), SCONE_ERR_NOBUF);
  /* nor holds 256 bytes: 100 slashes are 300 once encoded. */
  memset(&c, 0, sizeof c);
  assert_int_equal(scone_app_cmcd_set_nor(&c, "a/b"), 0);
  assert_string_equal(c.nor, "a%2Fb");
  char path[101];
  memset(path, '/', 100);
  path[100] = '\0';
  assert_int_equal(scone_app_cmcd_set_nor(&c, path), SCONE_ERR_NOBUF);
  assert_false(c.present & SCONE_APP_CMCD_NOR);
}

/* Decodes text as one header of shard into a zeroed payload. */
static int dec(scone_app_cmcd_data *c, scone_app_cmcd_shard shard,
               const char *text) {
  memset(c, 0, sizeof *c);
  return scone_app_cmcd_decode(c, shard, text, strlen(text));
}

static void test_decode_tolerant(void **state) {
  (void)state;
  scone_app_cmcd_data c;

  /* Unknown and custom keys are skipped and counted. */
  assert_int_equal(
      dec(&c, SCONE_APP_CMCD_ALL, "br=3200,com.example-x=\"y\",zz,d=4004"), 2);
  assert_int_equal(c.unknown_keys, 2);
  assert_int_equal(c.present, SCONE_APP_CMCD_BR | SCONE_APP_CMCD_D);

  /* Known keys with bad values: wrong type, negative, unlisted token, a
   * string past CTA-5004's 64 characters, a Boolean with a value. */
  const char *bad = "br=\"3200\",bl=-100,ot=x,st=\"v\",bs=1,pr=-1.5,"
                    "sid=\"0123456789012345678901234567890123456789012345678901"
                    "234567890123456789\",v=1.5,mtp=25400";
  assert_int_equal(dec(&c, SCONE_APP_CMCD_ALL, bad), 1);
  assert_int_equal(c.invalid_keys, 8);
  assert_int_equal(c.present, SCONE_APP_CMCD_MTP);
  assert_string_equal(c.sid, "");

  /* Keys in the wrong header are taken (CTA-5004 only says where they
   * SHOULD go) and counted; OWS and spaces around members are fine. */
  assert_int_equal(dec(&c, SCONE_APP_CMCD_REQUEST, "  br=3200 ,\tbl=100  "), 2);
  assert_int_equal(c.misplaced_keys, 1);
  assert_int_equal(c.bl_ms, 100);

  /* A false Boolean reads as absent; the last of repeated keys wins; an
   * integer playback rate is read as a decimal. */
  assert_int_equal(dec(&c, SCONE_APP_CMCD_ALL, "bs,bs=?0,br=1,br=2,pr=2"), 5);
  assert_false(c.present & SCONE_APP_CMCD_BS);
  assert_int_equal(c.br_kbps, 2);
  assert_int_equal(c.pr_milli, 2000);
  assert_int_equal(dec(&c, SCONE_APP_CMCD_STATUS, "bs=?1"), 1);
  assert_true(c.present & SCONE_APP_CMCD_BS);

  /* Parameters on members are allowed by RFC 8941 and ignored. */
  assert_int_equal(dec(&c, SCONE_APP_CMCD_ALL, "br=3200;x=1;y"), 1);
  assert_int_equal(c.br_kbps, 3200);

  /* Inner lists are not a CMCD type. */
  assert_int_equal(dec(&c, SCONE_APP_CMCD_ALL, "br=(1 2),d=1"), 1);
  assert_int_equal(c.invalid_keys, 1);

  /* An empty header is an empty dictionary. */
  assert_int_equal(dec(&c, SCONE_APP_CMCD_ALL, ""), 0);
  assert_int_equal(scone_app_cmcd_decode(&c, SCONE_APP_CMCD_ALL, NULL, 0), 0);
}

static void test_decode_strict(void **state) {
  (void)state;
  static const char *const malformed[] = {
      "br=3200,,d=1",        /* empty member */
      "br=3200,",            /* trailing comma */
      "br=1.2.3",            /* two decimal points */
      "br=1234567890123456", /* 16 digits: not an sf-integer */
      "pr=1.2345",           /* four fractional digits */
      "sid=\"open",          /* unterminated string */
      "sid=\"a\\nb\"",       /* only \" and \\ are escapes */
      "sid=\"tab\there\"",   /* control character */
      "BR=3200",             /* keys are lowercase */
      "br=3200 d=1",         /* members need a comma */
      "br=?2",               /* not a Boolean */
      "br=3200,=1",          /* no key */
      "b r=1",
  };
  for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
    scone_app_cmcd_data c;
    memset(&c, 0, sizeof c);
    c.present = SCONE_APP_CMCD_TB;
    c.tb_kbps = 6000;
    int r = scone_app_cmcd_decode(&c, SCONE_APP_CMCD_ALL, malformed[i],
                                  strlen(malformed[i]));
    if (r != SCONE_ERR_MALFORMED)
      fail_msg("accepted \"%s\" (%d)", malformed[i], r);
    /* Ignored whole: what was decoded before stays as it was. */
    assert_int_equal(c.present, SCONE_APP_CMCD_TB);
    assert_int_equal(c.tb_kbps, 6000);
    assert_int_equal(c.unknown_keys + c.invalid_keys, 0);
  }
}

static void test_decode_query(void **state) {
  (void)state;
  scone_app_cmcd_data c;
  memset(&c, 0, sizeof c);
  const char *t = "/a.m4s?CMCD=bl%3D21300%2Cmtp%3D48100%2Csu";
  assert_int_equal(scone_app_cmcd_decode_query(&c, t, strlen(t)), 3);
  assert_int_equal(c.bl_ms, 21300);
  assert_true(c.present & SCONE_APP_CMCD_SU);

  /* Without '?', as a bare query string, with lowercase escapes and '+'. */
  memset(&c, 0, sizeof c);
  t = "CMCD=sid%3d%22a+b%22";
  assert_int_equal(scone_app_cmcd_decode_query(&c, t, strlen(t)), 1);
  assert_string_equal(c.sid, "a b");

  /* No CMCD argument (names are case-sensitive and exact). */
  t = "/a.m4s?cmcd=br%3D1&CMCDX=br%3D1&XCMCD=br%3D1#CMCD=br%3D1";
  assert_int_equal(scone_app_cmcd_decode_query(&c, t, strlen(t)), 0);
  assert_int_equal(scone_app_cmcd_decode_query(&c, "/a.m4s", 6), 0);
  assert_int_equal(scone_app_cmcd_decode_query(&c, NULL, 0), 0);

  /* Bad escapes and oversized payloads. */
  t = "/a?CMCD=br%3";
  assert_int_equal(scone_app_cmcd_decode_query(&c, t, strlen(t)),
                   SCONE_ERR_MALFORMED);
  t = "/a?CMCD=br%zz1";
  assert_int_equal(scone_app_cmcd_decode_query(&c, t, strlen(t)),
                   SCONE_ERR_MALFORMED);
  t = "/a?CMCD=br%003200";
  assert_int_equal(scone_app_cmcd_decode_query(&c, t, strlen(t)),
                   SCONE_ERR_MALFORMED);
  static char big[5000];
  memcpy(big, "CMCD=", 5);
  memset(big + 5, 'a', sizeof big - 6);
  assert_int_equal(scone_app_cmcd_decode_query(&c, big, strlen(big)),
                   SCONE_ERR_MALFORMED);
}

static void test_old_render_is_the_codec(void **state) {
  (void)state;
  /* The mtp/rtp helper renders through the same encoder, so the two agree
   * on rounding. */
  scone_app_cmcd old = {1, 4949, 1, 4951};
  char a[64], b[64];
  scone_app_cmcd_render(a, sizeof a, &old, SCONE_APP_CMCD_ALL);
  scone_app_cmcd_data d;
  memset(&d, 0, sizeof d);
  d.present = SCONE_APP_CMCD_MTP | SCONE_APP_CMCD_RTP;
  d.mtp_kbps = 4949;
  d.rtp_kbps = 4951;
  scone_app_cmcd_encode(b, sizeof b, &d, SCONE_APP_CMCD_ALL);
  assert_string_equal(a, b);
  assert_string_equal(a, "mtp=4900,rtp=5000");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_example_query),
      cmocka_unit_test(test_example_headers),
      cmocka_unit_test(test_rounding_and_types),
      cmocka_unit_test(test_encode_errors),
      cmocka_unit_test(test_decode_tolerant),
      cmocka_unit_test(test_decode_strict),
      cmocka_unit_test(test_decode_query),
      cmocka_unit_test(test_old_render_is_the_codec),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
