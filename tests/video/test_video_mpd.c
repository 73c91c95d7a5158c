/*
 * MPD parser: scone-content's shape, the addressing features (templates,
 * timelines, BaseURL chains, periods), and hostile documents, each refused
 * with its own code and line.
 */
#include "video_test.h"

#include "../../video/internal.h"

static void test_synthetic_shape(void **state) {
  (void)state;
  scone_video_synth_settings s;
  scone_video_mpd *m = synth_mpd(60 * S, &s);
  assert_int_equal(m->nperiods, 1);
  assert_int_equal(m->nsets, 2);
  assert_int_equal(m->nreps, 11);
  assert_true(m->duration == 60 * S);
  assert_true(m->min_buffer_time == 4 * S);
  assert_int_equal(m->sets[0].media, SCONE_VIDEO_MEDIA_VIDEO);
  assert_int_equal(m->sets[1].media, SCONE_VIDEO_MEDIA_AUDIO);
  assert_int_equal(scone_video_mpd_find_set(m, 0, SCONE_VIDEO_MEDIA_AUDIO), 1);
  assert_int_equal(scone_video_mpd_find_set(m, 0, SCONE_VIDEO_MEDIA_TEXT), -1);
  for (uint32_t i = 0; i < 10; i++) {
    assert_int_equal(m->reps[i].bandwidth, scone_video_ladder[i].bps);
    assert_int_equal(m->reps[i].width, scone_video_ladder[i].width);
    assert_int_equal(m->reps[i].nsegments, 30);
  }
  assert_string_equal(m->reps[10].codecs, "mp4a.40.2");

  char url[256];
  assert_int_equal(scone_video_mpd_url(m, 4, SCONE_VIDEO_INIT,
                                       "/content/manifest.mpd", url,
                                       sizeof url),
                   (int)strlen("/content/init-stream4.m4s"));
  assert_string_equal(url, "/content/init-stream4.m4s");
  scone_video_mpd_url(m, 4, 11, "https://h:4433/content/manifest.mpd", url,
                      sizeof url);
  assert_string_equal(url, "https://h:4433/content/chunk-stream4-00012.m4s");
  scone_video_segment seg;
  assert_int_equal(scone_video_mpd_segment(m, 4, 11, &seg), 0);
  assert_int_equal(seg.number, 12);
  assert_true(seg.start == 22 * S && seg.duration == 2 * S);
  assert_int_equal(scone_video_mpd_segment(m, 4, 30, &seg),
                   SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(
      scone_video_mpd_url(m, 4, 11, "/content/manifest.mpd", url, 20),
      SCONE_ERR_NOBUF);
  free(m);
}

/* Sorted ladders, inherited attributes and templates, a timeline with
 * $Time$ and a repeat to the period's end, BaseURL at every level. */
static const char *const features =
    "<?xml version=\"1.0\"?>\n"
    "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"static\"\n"
    "     mediaPresentationDuration=\"PT1M0.5S\">\n"
    "  <BaseURL>https://cdn.example/v1/</BaseURL>\n"
    "  <Period id=\"p0\" duration=\"PT20S\">\n"
    "    <BaseURL>p0/</BaseURL>\n"
    "    <SegmentTemplate timescale=\"1000\" duration=\"4000\"\n"
    "        media=\"$RepresentationID$/$Number%03d$-$Bandwidth$.mp4\"\n"
    "        initialization=\"$RepresentationID$/init.mp4\" "
    "startNumber=\"5\"/>\n"
    "    <AdaptationSet mimeType=\"video/mp4\" codecs=\"avc1.64001f\">\n"
    "      <BaseURL>../video/</BaseURL>\n"
    "      <Representation id=\"hi\" bandwidth=\"3000000\" width=\"1280\" "
    "height=\"720\"/>\n"
    "      <Representation id=\"lo\" bandwidth=\"500000\" width=\"640\" "
    "height=\"360\">\n"
    "        <BaseURL>/abs/</BaseURL>\n"
    "      </Representation>\n"
    "    </AdaptationSet>\n"
    "  </Period>\n"
    "  <Period id=\"p1\">\n"
    "    <AdaptationSet contentType=\"audio\" mimeType=\"audio/mp4\">\n"
    "      <SegmentTemplate timescale=\"48000\" media=\"a/$Time$$$.m4a\">\n"
    "        <SegmentTimeline>\n"
    "          <S t=\"96000\" d=\"96000\" r=\"2\"/>\n"
    "          <S d=\"48000\"/>\n"
    "          <S t=\"480000\" d=\"96000\" r=\"-1\"/>\n"
    "        </SegmentTimeline>\n"
    "      </SegmentTemplate>\n"
    "      <Representation id=\"a1\" bandwidth=\"64000\"/>\n"
    "    </AdaptationSet>\n"
    "  </Period>\n"
    "</MPD>\n";

static void test_features(void **state) {
  (void)state;
  scone_video_mpd *m;
  scone_video_mpd_error err;
  int r = parse_text(&m, features, &err);
  if (r)
    fail_msg("line %d: %s", err.line, err.what);
  assert_true(m->duration == 60500 * MS);
  assert_int_equal(m->nperiods, 2);
  assert_true(m->periods[0].start == 0 && m->periods[0].duration == 20 * S);
  /* The second period starts where the first ends and runs to the end. */
  assert_true(m->periods[1].start == 20 * S);
  assert_true(m->periods[1].duration == 40500 * MS);

  /* Sorted by bandwidth: "lo" is rung 0; attributes inherited. */
  assert_string_equal(m->reps[0].id, "lo");
  assert_string_equal(m->reps[1].id, "hi");
  assert_string_equal(m->reps[0].codecs, "avc1.64001f");
  assert_int_equal(m->sets[0].media, SCONE_VIDEO_MEDIA_VIDEO);
  assert_int_equal(m->reps[1].nsegments, 5);
  assert_int_equal(m->reps[1].start_number, 5);

  char url[512];
  const char *mpd_url = "https://origin.example/a/b/manifest.mpd";
  scone_video_mpd_url(m, 1, 0, mpd_url, url, sizeof url);
  assert_string_equal(url, "https://cdn.example/v1/video/hi/005-3000000.mp4");
  scone_video_mpd_url(m, 1, SCONE_VIDEO_INIT, mpd_url, url, sizeof url);
  assert_string_equal(url, "https://cdn.example/v1/video/hi/init.mp4");
  /* A path-absolute BaseURL keeps only the scheme and authority. */
  scone_video_mpd_url(m, 0, 4, mpd_url, url, sizeof url);
  assert_string_equal(url, "https://cdn.example/abs/lo/009-500000.mp4");

  /* The timeline: 3 + 1 segments, then from 10 s a repeat to the end of
   * the 40.5 s period: 16 more, the last one cut short. */
  const scone_video_rep *a = &m->reps[2];
  assert_int_equal(a->tl_count, 3);
  assert_int_equal(a->nsegments, 3 + 1 + 16);
  assert_string_equal(a->init, "");
  assert_int_equal(
      scone_video_mpd_url(m, 2, SCONE_VIDEO_INIT, mpd_url, url, sizeof url),
      SCONE_ERR_INVALID_ARGUMENT);
  scone_video_segment seg;
  scone_video_mpd_segment(m, 2, 3, &seg);
  assert_int_equal(seg.time, 384000);
  assert_true(seg.start == 8 * S && seg.duration == 1 * S);
  scone_video_mpd_segment(m, 2, 19, &seg);
  assert_int_equal(seg.time, 480000 + 15 * 96000);
  assert_true(seg.start == 40 * S && seg.duration == 500 * MS);
  scone_video_mpd_url(m, 2, 4, mpd_url, url, sizeof url);
  assert_string_equal(url, "https://cdn.example/v1/a/480000$.m4a");
  free(m);
}

typedef struct hostile {
  const char *name;
  int code;
  int line; /* 0: not checked */
  const char *body;
} hostile;

#define HEAD "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" "
#define OK_ATTRS "mediaPresentationDuration=\"PT10S\">"
#define SET_OPEN "<Period><AdaptationSet mimeType=\"video/mp4\">"
#define SET_CLOSE "</AdaptationSet></Period></MPD>"
#define TPL "<SegmentTemplate media=\"$Number$.m4s\" duration=\"2\"/>"

static const hostile cases[] = {
    {"not XML", SCONE_VIDEO_ERR_XML, 1, "<MPD><Period>"},
    {"empty", SCONE_VIDEO_ERR_XML, 0, ""},
    {"root", SCONE_VIDEO_ERR_NOT_MPD, 1, "<Manifest/>"},
    {"dynamic", SCONE_VIDEO_ERR_UNSUPPORTED, 1,
     HEAD "type=\"dynamic\" " OK_ATTRS "</MPD>"},
    {"billion laughs", SCONE_VIDEO_ERR_UNSUPPORTED, 0,
     "<?xml version=\"1.0\"?><!DOCTYPE MPD [<!ENTITY a \"aaaaaaaaaa\">"
     "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>"
     "<MPD mediaPresentationDuration=\"&b;\"/>"},
    {"external entity", SCONE_VIDEO_ERR_UNSUPPORTED, 0,
     "<!DOCTYPE MPD SYSTEM \"http://evil/x.dtd\"><MPD/>"},
    {"no period", SCONE_VIDEO_ERR_MISSING, 1, HEAD OK_ATTRS "</MPD>"},
    {"no duration", SCONE_VIDEO_ERR_MISSING, 2,
     HEAD ">\n" SET_OPEN "<Representation id=\"a\" bandwidth=\"1\">" TPL
          "</Representation>" SET_CLOSE},
    {"no bandwidth", SCONE_VIDEO_ERR_MISSING, 3,
     HEAD OK_ATTRS "\n" SET_OPEN "\n<Representation id=\"a\">" TPL
                   "</Representation>" SET_CLOSE},
    {"no id", SCONE_VIDEO_ERR_MISSING, 0,
     HEAD OK_ATTRS SET_OPEN "<Representation bandwidth=\"1\">" TPL
                            "</Representation>" SET_CLOSE},
    {"huge bandwidth", SCONE_VIDEO_ERR_RANGE, 0,
     HEAD OK_ATTRS SET_OPEN
     "<Representation id=\"a\" bandwidth=\"99999999999999999999999\">" TPL
     "</Representation>" SET_CLOSE},
    {"signed bandwidth", SCONE_VIDEO_ERR_VALUE, 0,
     HEAD OK_ATTRS SET_OPEN "<Representation id=\"a\" bandwidth=\"-1\">" TPL
                            "</Representation>" SET_CLOSE},
    {"huge duration", SCONE_VIDEO_ERR_RANGE, 1,
     HEAD "mediaPresentationDuration=\"P99999999999Y\"></MPD>"},
    {"negative duration", SCONE_VIDEO_ERR_RANGE, 0,
     HEAD "mediaPresentationDuration=\"-PT5S\"></MPD>"},
    {"bad duration", SCONE_VIDEO_ERR_VALUE, 0,
     HEAD "mediaPresentationDuration=\"PT5\"></MPD>"},
    {"segment count", SCONE_VIDEO_ERR_LIMIT, 0,
     HEAD "mediaPresentationDuration=\"P20D\">" SET_OPEN
          "<Representation id=\"a\" bandwidth=\"1\">"
          "<SegmentTemplate media=\"$Number$\" timescale=\"1000\" "
          "duration=\"1\"/></Representation>" SET_CLOSE},
    {"timeline repeat", SCONE_VIDEO_ERR_RANGE, 0,
     HEAD OK_ATTRS SET_OPEN
     "<Representation id=\"a\" bandwidth=\"1\">"
     "<SegmentTemplate media=\"$Time$\"><SegmentTimeline>"
     "<S d=\"1\" r=\"4294967296\"/></SegmentTimeline>"
     "</SegmentTemplate></Representation>" SET_CLOSE},
    {"width past the buffer", SCONE_VIDEO_ERR_TEMPLATE, 0,
     HEAD OK_ATTRS SET_OPEN "<Representation id=\"a\" bandwidth=\"1\">"
                            "<SegmentTemplate media=\"$Number%0999999d$\" "
                            "duration=\"2\"/></Representation>" SET_CLOSE},
    {"template past its limit", SCONE_VIDEO_ERR_RANGE, 0,
     HEAD OK_ATTRS SET_OPEN
     "<Representation id=\"a\" bandwidth=\"1\"><SegmentTemplate media=\""
     "$RepresentationID$$RepresentationID$$RepresentationID$"
     "$RepresentationID$$RepresentationID$$RepresentationID$"
     "$RepresentationID$$RepresentationID$$RepresentationID$"
     "$RepresentationID$$RepresentationID$$RepresentationID$"
     "$RepresentationID$$RepresentationID$$RepresentationID$"
     "$RepresentationID$$RepresentationID$\" duration=\"2\"/>"
     "</Representation>" SET_CLOSE},
    {"unknown identifier", SCONE_VIDEO_ERR_TEMPLATE, 0,
     HEAD OK_ATTRS SET_OPEN
     "<Representation id=\"a\" bandwidth=\"1\">"
     "<SegmentTemplate media=\"$SubNumber$\" duration=\"2\"/>"
     "</Representation>" SET_CLOSE},
    {"unterminated identifier", SCONE_VIDEO_ERR_TEMPLATE, 0,
     HEAD OK_ATTRS SET_OPEN
     "<Representation id=\"a\" bandwidth=\"1\">"
     "<SegmentTemplate media=\"x$Number\" duration=\"2\"/>"
     "</Representation>" SET_CLOSE},
    {"Time without timeline", SCONE_VIDEO_ERR_TEMPLATE, 0,
     HEAD OK_ATTRS SET_OPEN "<Representation id=\"a\" bandwidth=\"1\">"
                            "<SegmentTemplate media=\"$Time$\" duration=\"2\"/>"
                            "</Representation>" SET_CLOSE},
    {"id unfit for a URL", SCONE_VIDEO_ERR_VALUE, 0,
     HEAD OK_ATTRS SET_OPEN "<Representation id=\"a b\" bandwidth=\"1\">"
                            "<SegmentTemplate media=\"$RepresentationID$\" "
                            "duration=\"2\"/></Representation>" SET_CLOSE},
    {"long template", SCONE_VIDEO_ERR_RANGE, 0,
     HEAD OK_ATTRS SET_OPEN
     "<Representation id=\"a\" bandwidth=\"1\">"
     "<SegmentTemplate duration=\"2\" media=\""
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "\"/></Representation>" SET_CLOSE},
    {"SegmentBase", SCONE_VIDEO_ERR_UNSUPPORTED, 0,
     HEAD OK_ATTRS SET_OPEN
     "<Representation id=\"a\" bandwidth=\"1\">"
     "<SegmentBase indexRange=\"0-99\"/></Representation>" SET_CLOSE},
    {"xlink period", SCONE_VIDEO_ERR_UNSUPPORTED, 0,
     HEAD "xmlns:xlink=\"http://www.w3.org/1999/xlink\" " OK_ATTRS
          "<Period xlink:href=\"http://evil/p\"/></MPD>"},
    {"zero timescale", SCONE_VIDEO_ERR_RANGE, 0,
     HEAD OK_ATTRS SET_OPEN "<Representation id=\"a\" bandwidth=\"1\">"
                            "<SegmentTemplate media=\"x\" timescale=\"0\" "
                            "duration=\"2\"/></Representation>" SET_CLOSE},
    {"empty set", SCONE_VIDEO_ERR_MISSING, 0, HEAD OK_ATTRS SET_OPEN SET_CLOSE},
    {"periods out of order", SCONE_VIDEO_ERR_VALUE, 0,
     HEAD OK_ATTRS "<Period start=\"PT5S\"/><Period start=\"PT1S\"/></MPD>"},
};

static void test_hostile(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    scone_video_mpd *m;
    scone_video_mpd_error err;
    int r = parse_text(&m, cases[i].body, &err);
    if (r != cases[i].code)
      fail_msg("%s: got %d (%s: %s), want %d", cases[i].name, r,
               scone_video_strerror(r), err.what, cases[i].code);
    assert_int_equal(err.code, r);
    assert_true(err.what[0] != '\0');
    if (cases[i].line && err.line != cases[i].line)
      fail_msg("%s: line %d, want %d (%s)", cases[i].name, err.line,
               cases[i].line, err.what);
    /* Nothing half-parsed is left behind. */
    assert_int_equal(m->nreps, 0);
    free(m);
  }
}

static void test_limits(void **state) {
  (void)state;
  /* More periods than held. */
  char doc[4096] = HEAD OK_ATTRS;
  for (int i = 0; i < SCONE_VIDEO_MAX_PERIODS + 1; i++)
    strcat(doc, "<Period duration=\"PT1S\"/>");
  strcat(doc, "</MPD>");
  scone_video_mpd *m;
  scone_video_mpd_error err;
  assert_int_equal(parse_text(&m, doc, &err), SCONE_VIDEO_ERR_LIMIT);
  free(m);

  /* The size limit, and a settings struct of an unknown version. */
  scone_video_mpd_settings s;
  scone_video_mpd_settings_default(&s);
  s.max_bytes = 10;
  m = malloc(sizeof *m);
  assert_int_equal(scone_video_mpd_parse(m, doc, strlen(doc), &s, &err),
                   SCONE_VIDEO_ERR_TOO_LARGE);
  s.version = 99;
  assert_int_equal(scone_video_mpd_parse(m, doc, strlen(doc), &s, &err),
                   SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(scone_video_mpd_parse(m, NULL, 3, NULL, &err),
                   SCONE_ERR_INVALID_ARGUMENT);
  free(m);
}

static void test_durations(void **state) {
  (void)state;
  static const struct {
    const char *s;
    scone_duration d;
  } ok[] = {
      {"PT0S", 0},
      {"PT1M0.5S", 60500 * MS},
      {"PT60S", 60 * S},
      {"P0Y0M0DT0H1M0.000S", 60 * S},
      {"P1D", 86400 * S},
      {"PT0.000000001S", 1},
      {"PT1.1234567891S", 1123456789},
      {"P1M", 30ULL * 86400 * S},
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    scone_duration d = 1;
    if (scone_video_parse_duration(ok[i].s, &d) != 0 || d != ok[i].d)
      fail_msg("%s", ok[i].s);
  }
  static const char *const bad[] = {"",      "P",      "PT",     "T1S",
                                    "P1S",   "PT1H1H", "PT1S1M", "PT.5S",
                                    "PT1.S", "P1.5D",  "1S",     "PT1 S"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    scone_duration d;
    if (scone_video_parse_duration(bad[i], &d) != SCONE_VIDEO_ERR_VALUE)
      fail_msg("accepted \"%s\"", bad[i]);
  }
  scone_duration d;
  assert_int_equal(scone_video_parse_duration("P31D", &d),
                   SCONE_VIDEO_ERR_RANGE);
  uint64_t v;
  assert_int_equal(
      scone_video_parse_u64("18446744073709551616", UINT64_MAX, &v),
      SCONE_VIDEO_ERR_RANGE);
  assert_int_equal(
      scone_video_parse_u64("18446744073709551615", UINT64_MAX, &v), 0);
  assert_true(v == UINT64_MAX);
  assert_int_equal(scone_video_parse_u64("+1", 10, &v), SCONE_VIDEO_ERR_VALUE);
  assert_int_equal(scone_video_parse_u64(" 1", 10, &v), SCONE_VIDEO_ERR_VALUE);
}

static void test_templates(void **state) {
  (void)state;
  char buf[64];
  const char *why;
  assert_int_equal(scone_video_template_check("a$Number%05d$-$$", 0, &why), 0);
  assert_int_equal(scone_video_template_expand(
                       buf, sizeof buf, "a$Number%05d$-$$", "r", 42, 0, 0),
                   8);
  assert_string_equal(buf, "a00042-$");
  /* A value wider than its width is printed whole. */
  scone_video_template_expand(buf, sizeof buf, "$Number%02d$", "r", 12345, 0,
                              0);
  assert_string_equal(buf, "12345");
  assert_int_equal(
      scone_video_template_expand(buf, 5, "$Number%05d$", "r", 1, 0, 0),
      SCONE_ERR_NOBUF);
  assert_string_equal(buf, "");
  static const char *const bad[] = {
      "$Number%5d$",   "$Number%05x$", "$Number%0d$", "$RepresentationID%05d$",
      "$Number%033d$", "$$$",          "$Bogus$"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (scone_video_template_check(bad[i], 1, &why) != SCONE_VIDEO_ERR_TEMPLATE)
      fail_msg("accepted %s", bad[i]);
  assert_true(scone_video_id_url_safe("video_1.5-a~b"));
  assert_false(scone_video_id_url_safe("a/b"));
  assert_false(scone_video_id_url_safe("a%20b"));
}

/* RFC 3986 5.4: the normal and abnormal examples. */
static void test_url_resolve(void **state) {
  (void)state;
  static const char *const ex[][2] = {
      {"g:h", "g:h"},
      {"g", "http://a/b/c/g"},
      {"./g", "http://a/b/c/g"},
      {"g/", "http://a/b/c/g/"},
      {"/g", "http://a/g"},
      {"//g", "http://g"},
      {"?y", "http://a/b/c/d;p?y"},
      {"g?y", "http://a/b/c/g?y"},
      {"#s", "http://a/b/c/d;p?q"},
      {"g#s", "http://a/b/c/g"},
      {";x", "http://a/b/c/;x"},
      {"", "http://a/b/c/d;p?q"},
      {".", "http://a/b/c/"},
      {"./", "http://a/b/c/"},
      {"..", "http://a/b/"},
      {"../", "http://a/b/"},
      {"../g", "http://a/b/g"},
      {"../..", "http://a/"},
      {"../../g", "http://a/g"},
      {"../../../g", "http://a/g"},
      {"../../../../g", "http://a/g"},
      {"/./g", "http://a/g"},
      {"/../g", "http://a/g"},
      {"g.", "http://a/b/c/g."},
      {".g", "http://a/b/c/.g"},
      {"g..", "http://a/b/c/g.."},
      {"..g", "http://a/b/c/..g"},
      {"./../g", "http://a/b/g"},
      {"./g/.", "http://a/b/c/g/"},
      {"g/./h", "http://a/b/c/g/h"},
      {"g/../h", "http://a/b/c/h"},
      {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
      {"g;x=1/../y", "http://a/b/c/y"},
      {"http:g", "http:g"},
  };
  char buf[128];
  for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
    int n = scone_video_url_resolve(buf, sizeof buf, "http://a/b/c/d;p?q",
                                    ex[i][0]);
    if (n < 0 || strcmp(buf, ex[i][1]) != 0)
      fail_msg("\"%s\" -> \"%s\", want \"%s\"", ex[i][0], buf, ex[i][1]);
  }
  /* A path base, as the player has when it only knows the MPD's path. */
  scone_video_url_resolve(buf, sizeof buf, "/content/x.mpd", "../../../a.m4s");
  assert_string_equal(buf, "/a.m4s");
  assert_int_equal(scone_video_url_resolve(buf, 8, "/content/x.mpd", "a.m4s"),
                   SCONE_ERR_NOBUF);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_synthetic_shape), cmocka_unit_test(test_features),
      cmocka_unit_test(test_hostile),         cmocka_unit_test(test_limits),
      cmocka_unit_test(test_durations),       cmocka_unit_test(test_templates),
      cmocka_unit_test(test_url_resolve),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
