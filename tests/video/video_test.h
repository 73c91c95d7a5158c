/*
 * Shared by the libscone_video tests: MPD parsing from text and the
 * synthetic presentation.
 */
#ifndef SCONE_VIDEO_TEST_H
#define SCONE_VIDEO_TEST_H

#include <scone/video.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define S SCONE_SECONDS
#define MS SCONE_MILLISECONDS

/* Parses text into a heap MPD (the struct is large); returns the code. */
static inline int parse_text(scone_video_mpd **out, const char *text,
                             scone_video_mpd_error *err) {
  *out = malloc(sizeof **out);
  assert_non_null(*out);
  return scone_video_mpd_parse(*out, text, strlen(text), NULL, err);
}

/* The synthetic presentation of the given length, parsed. */
static inline scone_video_mpd *synth_mpd(scone_duration duration,
                                         scone_video_synth_settings *out) {
  scone_video_synth_settings s;
  scone_video_synth_settings_default(&s);
  s.duration = duration;
  static char xml[16384];
  int n = scone_video_synth_mpd(xml, sizeof xml, &s);
  assert_true(n > 0);
  scone_video_mpd *m = malloc(sizeof *m);
  assert_non_null(m);
  scone_video_mpd_error err;
  int r = scone_video_mpd_parse(m, xml, (size_t)n, NULL, &err);
  if (r != 0)
    fail_msg("synthetic MPD refused: line %d: %s", err.line, err.what);
  if (out)
    *out = s;
  return m;
}

#endif /* SCONE_VIDEO_TEST_H */
