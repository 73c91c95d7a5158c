/*
 * Synthetic content: the MPD scone-content's ffmpeg run writes, and
 * segment sizes that track each rung's bitrate, without encoding anything.
 * Tests and `scone-video-content synth` use it; sizes are a function of
 * (seed, representation, number), so nothing needs storing.
 */
#include "internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const scone_video_rung scone_video_ladder[SCONE_VIDEO_LADDER_RUNGS] = {
    {235000, 320, 180},    {375000, 384, 216},   {560000, 512, 288},
    {750000, 640, 360},    {1050000, 768, 432},  {1750000, 960, 540},
    {2350000, 1280, 720},  {3000000, 1280, 720}, {4300000, 1920, 1080},
    {5800000, 1920, 1080},
};

void scone_video_synth_settings_default(scone_video_synth_settings *s) {
  s->version = SCONE_VIDEO_SYNTH_SETTINGS_V1;
  s->duration = 120 * SCONE_SECONDS;
  s->segment = 2 * SCONE_SECONDS;
  s->jitter_pct = 10;
  s->seed = 1;
}

static int valid(const scone_video_synth_settings *s) {
  return s && s->version == SCONE_VIDEO_SYNTH_SETTINGS_V1 &&
         s->segment >= SCONE_MILLISECONDS && s->duration >= s->segment &&
         s->duration <= SCONE_VIDEO_MAX_DURATION && s->jitter_pct < 100;
}

/* Durations in the MPD's microsecond timescale, as ffmpeg writes them. */
static uint64_t us(scone_duration d) {
  return d / 1000;
}

typedef struct out {
  char *buf;
  size_t len, off;
  int err;
} out;

static void put(out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void put(out *o, const char *fmt, ...) {
  if (o->err)
    return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(o->buf + o->off, o->len - o->off, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= o->len - o->off)
    o->err = 1;
  else
    o->off += (size_t)n;
}

static void rep_xml(out *o, uint32_t id, const char *mime, const char *codecs,
                    uint64_t bps, uint32_t w, uint32_t h, uint64_t seg_us) {
  put(o,
      "\t\t\t<Representation id=\"%" PRIu32 "\" mimeType=\"%s\" "
      "codecs=\"%s\" bandwidth=\"%" PRIu64 "\"",
      id, mime, codecs, bps);
  if (w)
    put(o, " width=\"%" PRIu32 "\" height=\"%" PRIu32 "\" sar=\"1:1\"", w, h);
  else
    put(o, " audioSamplingRate=\"48000\"");
  put(o,
      ">\n\t\t\t\t<SegmentTemplate timescale=\"1000000\" "
      "duration=\"%" PRIu64 "\" "
      "initialization=\"init-stream$RepresentationID$.m4s\" "
      "media=\"chunk-stream$RepresentationID$-$Number%%05d$.m4s\" "
      "startNumber=\"1\">\n\t\t\t\t</SegmentTemplate>\n"
      "\t\t\t</Representation>\n",
      seg_us);
}

int scone_video_synth_mpd(char *buf, size_t len,
                          const scone_video_synth_settings *s) {
  if (!buf || !valid(s))
    return SCONE_ERR_INVALID_ARGUMENT;
  out o = {buf, len, 0, len == 0};
  uint64_t d = us(s->duration), seg = us(s->segment);
  put(&o,
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
      "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" "
      "profiles=\"urn:mpeg:dash:profile:isoff-live:2011\" type=\"static\" "
      "mediaPresentationDuration=\"PT%" PRIu64 ".%06" PRIu64 "S\" "
      "maxSegmentDuration=\"PT%" PRIu64 ".%06" PRIu64 "S\" "
      "minBufferTime=\"PT4.0S\">\n"
      "\t<Period id=\"0\" start=\"PT0.0S\">\n"
      "\t\t<AdaptationSet id=\"0\" contentType=\"video\" startWithSAP=\"1\" "
      "segmentAlignment=\"true\" frameRate=\"24/1\" maxWidth=\"1920\" "
      "maxHeight=\"1080\" par=\"16:9\">\n",
      d / 1000000, d % 1000000, seg / 1000000, seg % 1000000);
  for (uint32_t i = 0; i < SCONE_VIDEO_LADDER_RUNGS; i++)
    rep_xml(&o, i, "video/mp4", "avc1.4d401f", scone_video_ladder[i].bps,
            scone_video_ladder[i].width, scone_video_ladder[i].height, seg);
  put(&o, "\t\t</AdaptationSet>\n"
          "\t\t<AdaptationSet id=\"1\" contentType=\"audio\" "
          "startWithSAP=\"1\" segmentAlignment=\"true\">\n");
  rep_xml(&o, SCONE_VIDEO_LADDER_RUNGS, "audio/mp4", "mp4a.40.2",
          SCONE_VIDEO_AUDIO_BPS, 0, 0, seg);
  put(&o, "\t\t</AdaptationSet>\n\t</Period>\n</MPD>\n");
  if (o.err) {
    if (len)
      buf[0] = '\0';
    return SCONE_ERR_NOBUF;
  }
  return (int)o.off;
}

/* splitmix64: one well-mixed value per (seed, rep, number). */
static uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t scone_video_synth_size(const scone_video_synth_settings *s,
                                uint32_t rep, uint64_t number) {
  if (!valid(s) || rep > SCONE_VIDEO_LADDER_RUNGS)
    return 0;
  uint64_t r = mix(s->seed ^ mix(((uint64_t)rep << 40) ^ number));
  if (number == 0) /* init segments: under a kilobyte or so, as ffmpeg's */
    return 700 + r % 400;
  uint64_t bps = rep < SCONE_VIDEO_LADDER_RUNGS ? scone_video_ladder[rep].bps
                                                : SCONE_VIDEO_AUDIO_BPS;
  uint64_t nseg = (s->duration + s->segment - 1) / s->segment;
  scone_duration dur = s->segment;
  if (number == nseg && s->duration % s->segment)
    dur = s->duration % s->segment;
  uint64_t nominal =
      (uint64_t)((unsigned __int128)bps * dur / (8 * SCONE_SECONDS));
  /* Uniform in [-jitter, +jitter] percent, in 1/1000 steps. */
  int64_t span = (int64_t)s->jitter_pct * 10;
  int64_t permille = span ? (int64_t)(r % (uint64_t)(2 * span + 1)) - span : 0;
  return (uint64_t)((int64_t)nominal + (int64_t)nominal * permille / 1000);
}
