/*
 * The playback buffer, as ABR research players model it: no decoding,
 * media time simply advances in real time while there is media ahead of
 * the playhead on every track.
 */
#include "internal.h"

#include <string.h>

void scone_video_buffer_settings_default(scone_video_buffer_settings *s) {
  s->version = SCONE_VIDEO_BUFFER_SETTINGS_V1;
  s->startup = 4 * SCONE_SECONDS;
  s->resume = 2 * SCONE_SECONDS;
  s->max = 30 * SCONE_SECONDS;
}

int scone_video_buffer_init(scone_video_buffer *b,
                            const scone_video_buffer_settings *settings,
                            uint32_t ntracks, scone_duration media_end,
                            scone_tstamp now) {
  scone_video_buffer_settings s;
  scone_video_buffer_settings_default(&s);
  if (settings) {
    if (settings->version != SCONE_VIDEO_BUFFER_SETTINGS_V1 ||
        settings->resume > settings->max || settings->startup > settings->max ||
        settings->max == 0)
      return SCONE_ERR_INVALID_ARGUMENT;
    s = *settings;
  }
  if (ntracks < 1 || ntracks > SCONE_VIDEO_MAX_TRACKS)
    return SCONE_ERR_INVALID_ARGUMENT;
  memset(b, 0, sizeof *b);
  b->s = s;
  b->ntracks = ntracks;
  b->media_end = media_end;
  b->created = b->last = now;
  b->state = media_end == 0 ? SCONE_VIDEO_ENDED : SCONE_VIDEO_STARTUP;
  return 0;
}

static scone_duration least_end(const scone_video_buffer *b) {
  scone_duration e = b->end[0];
  for (uint32_t i = 1; i < b->ntracks; i++)
    if (b->end[i] < e)
      e = b->end[i];
  return e < b->media_end ? e : b->media_end;
}

scone_duration scone_video_buffer_level(const scone_video_buffer *b) {
  scone_duration e = least_end(b);
  return e > b->position ? e - b->position : 0;
}

scone_duration scone_video_buffer_track_level(const scone_video_buffer *b,
                                              uint32_t track) {
  if (track >= b->ntracks)
    return 0;
  scone_duration e = b->end[track];
  return e > b->position ? e - b->position : 0;
}

void scone_video_buffer_advance(scone_video_buffer *b, scone_tstamp now) {
  if (now <= b->last) /* a clock that stepped back plays nothing */
    return;
  if (b->state == SCONE_VIDEO_PLAYING) {
    scone_duration ahead = least_end(b) - b->position;
    scone_duration dt = now - b->last;
    if (dt < ahead) {
      b->position += dt;
    } else {
      /* Ran dry at last + ahead: the end, or a stall from that instant. */
      b->position += ahead;
      if (b->position >= b->media_end) {
        b->state = SCONE_VIDEO_ENDED;
      } else {
        b->state = SCONE_VIDEO_STALLED;
        b->stall_since = b->last + ahead;
        b->stalls++;
      }
    }
  }
  b->last = now;
}

void scone_video_buffer_extend(scone_video_buffer *b, uint32_t track,
                               scone_duration end, scone_tstamp now) {
  scone_video_buffer_advance(b, now);
  if (track >= b->ntracks || end <= b->end[track])
    return;
  b->end[track] = end;
  scone_duration level = scone_video_buffer_level(b);
  /* Everything left is buffered: waiting for more would wait forever. */
  int all_in = least_end(b) >= b->media_end;
  if (b->state == SCONE_VIDEO_STARTUP && (level >= b->s.startup || all_in)) {
    b->state = SCONE_VIDEO_PLAYING;
    b->play_start = b->last;
  } else if (b->state == SCONE_VIDEO_STALLED &&
             (level >= b->s.resume || all_in)) {
    b->state = SCONE_VIDEO_PLAYING;
    b->stall_time += b->last - b->stall_since;
  }
}

scone_duration scone_video_buffer_stall_time_at(const scone_video_buffer *b,
                                                scone_tstamp now) {
  scone_duration t = b->stall_time;
  if (b->state == SCONE_VIDEO_STALLED && now > b->stall_since)
    t += now - b->stall_since;
  return t;
}
