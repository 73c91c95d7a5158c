/*
 * Buffer model: startup and resume thresholds, stalls timed to the
 * instant the buffer ran dry, the end, two tracks.
 */
#include "video_test.h"

static void test_startup_stall_resume_end(void **state) {
  (void)state;
  scone_video_buffer b;
  assert_int_equal(scone_video_buffer_init(&b, NULL, 1, 20 * S, 0), 0);
  assert_int_equal(b.state, SCONE_VIDEO_STARTUP);

  /* 2 s buffered: under the 4 s startup threshold. */
  scone_video_buffer_extend(&b, 0, 2 * S, 1 * S);
  assert_int_equal(b.state, SCONE_VIDEO_STARTUP);
  scone_video_buffer_extend(&b, 0, 4 * S, 2 * S);
  assert_int_equal(b.state, SCONE_VIDEO_PLAYING);
  assert_true(b.play_start == 2 * S);

  /* Plays in real time. */
  scone_video_buffer_advance(&b, 3 * S);
  assert_true(b.position == 1 * S);
  assert_true(scone_video_buffer_level(&b) == 3 * S);

  /* Runs dry at 6 s: the stall starts then, even if noticed later. */
  scone_video_buffer_advance(&b, 9 * S);
  assert_int_equal(b.state, SCONE_VIDEO_STALLED);
  assert_true(b.position == 4 * S);
  assert_true(b.stall_since == 6 * S);
  assert_int_equal(b.stalls, 1);
  assert_true(scone_video_buffer_stall_time_at(&b, 9 * S) == 3 * S);

  /* Resumes at the 2 s threshold, not before. */
  scone_video_buffer_extend(&b, 0, 5 * S, 10 * S);
  assert_int_equal(b.state, SCONE_VIDEO_STALLED);
  scone_video_buffer_extend(&b, 0, 6 * S, 11 * S);
  assert_int_equal(b.state, SCONE_VIDEO_PLAYING);
  assert_true(b.stall_time == 5 * S);

  /* The rest arrives: plays to the end, which is no stall. */
  scone_video_buffer_extend(&b, 0, 20 * S, 12 * S);
  scone_video_buffer_advance(&b, 100 * S);
  assert_int_equal(b.state, SCONE_VIDEO_ENDED);
  assert_true(b.position == 20 * S);
  assert_int_equal(b.stalls, 1);

  /* Time going back changes nothing. */
  scone_video_buffer_advance(&b, 50 * S);
  assert_true(b.position == 20 * S);
}

static void test_two_tracks_and_short_media(void **state) {
  (void)state;
  scone_video_buffer b;
  scone_video_buffer_settings s;
  scone_video_buffer_settings_default(&s);
  assert_int_equal(scone_video_buffer_init(&b, &s, 2, 30 * S, 0), 0);
  /* Video far ahead, audio behind: the level is audio's. */
  scone_video_buffer_extend(&b, 0, 10 * S, 0);
  assert_int_equal(b.state, SCONE_VIDEO_STARTUP);
  scone_video_buffer_extend(&b, 1, 4 * S, 1 * S);
  assert_int_equal(b.state, SCONE_VIDEO_PLAYING);
  assert_true(scone_video_buffer_level(&b) == 4 * S);
  assert_true(scone_video_buffer_track_level(&b, 0) == 10 * S);
  scone_video_buffer_advance(&b, 6 * S);
  assert_int_equal(b.state, SCONE_VIDEO_STALLED);

  /* Media shorter than the startup threshold starts once all is in. */
  assert_int_equal(scone_video_buffer_init(&b, NULL, 1, 1 * S, 0), 0);
  scone_video_buffer_extend(&b, 0, 1 * S, 5 * MS);
  assert_int_equal(b.state, SCONE_VIDEO_PLAYING);

  /* Settings are checked. */
  s.resume = s.max + 1;
  assert_int_equal(scone_video_buffer_init(&b, &s, 1, S, 0),
                   SCONE_ERR_INVALID_ARGUMENT);
  scone_video_buffer_settings_default(&s);
  s.version = 2;
  assert_int_equal(scone_video_buffer_init(&b, &s, 1, S, 0),
                   SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(scone_video_buffer_init(&b, NULL, 3, S, 0),
                   SCONE_ERR_INVALID_ARGUMENT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_startup_stall_resume_end),
      cmocka_unit_test(test_two_tracks_and_short_media),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
