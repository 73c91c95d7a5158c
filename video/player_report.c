/*
 * What the player reports: a line per segment while it plays and the QoE
 * record at the end.
 */
#include "player.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static double secs(scone_duration d) {
  return (double)d / (double)SCONE_SECONDS;
}

/* "1.41M", "980k", "-": short rates for the live line. */
static void rate(char *out, size_t len, uint64_t bps) {
  if (bps == 0)
    snprintf(out, len, "-");
  else if (bps >= 1000000)
    snprintf(out, len, "%.2fM", (double)bps / 1e6);
  else
    snprintf(out, len, "%.0fk", (double)bps / 1e3);
}

static const char *state_name(scone_video_play_state s) {
  switch (s) {
  case SCONE_VIDEO_STARTUP:
    return "startup";
  case SCONE_VIDEO_PLAYING:
    return "playing";
  case SCONE_VIDEO_STALLED:
    return "stalled";
  default:
    return "ended";
  }
}

int scone_video_segment_report_line(char *buf, size_t len,
                                    const scone_video_segment_report *r) {
  if (!buf || !r)
    return SCONE_ERR_INVALID_ARGUMENT;
  char tput[16], adv[16], cap[16];
  rate(tput, sizeof tput, r->throughput_bps);
  rate(adv, sizeof adv, r->advice_bps);
  rate(cap, sizeof cap, r->cap_bps);
  int n = snprintf(
      buf, len,
      "t=%.3f %s #%llu rung %u %lluk %.1fkB in %.3fs buf %.1fs tput %s "
      "advice %s cap %s %s",
      secs(r->t), r->media == SCONE_VIDEO_MEDIA_AUDIO ? "audio" : "video",
      (unsigned long long)r->number, r->rung,
      (unsigned long long)(r->bitrate_bps / 1000), (double)r->bytes / 1e3,
      secs(r->download), secs(r->buffer), tput, adv, cap,
      r->skipped ? "SKIPPED" : state_name(r->state));
  if (n < 0 || (size_t)n >= len) {
    if (len)
      buf[0] = '\0';
    return SCONE_ERR_NOBUF;
  }
  return n;
}

void scone_video_player_qoe(const scone_video_player *p, scone_tstamp now,
                            scone_video_qoe *q) {
  memset(q, 0, sizeof *q);
  const scone_video_buffer *b = &p->buf;
  q->started = b->state != SCONE_VIDEO_STARTUP;
  q->startup_delay = q->started ? b->play_start - b->created : 0;
  q->stalls = b->stalls;
  q->stall_time = scone_video_buffer_stall_time_at(b, now);
  q->played = b->position;
  double denom = secs(q->played) + secs(q->stall_time);
  q->rebuffering_ratio = denom > 0 ? secs(q->stall_time) / denom : 0;
  q->session = now > p->created ? now - p->created : 0;
  if (p->video_segments)
    q->mean_bitrate_bps = (uint64_t)(p->bitrate_sum / p->video_segments);
  if (p->time_sum > 0)
    q->time_weighted_bitrate_bps =
        (uint64_t)(p->bitrate_time_sum / p->time_sum);
  q->switches = p->switches;
  q->bytes = p->bytes;
  q->max_bytes_67s = p->win_max;
  q->segments = p->segments;
  q->missing = p->missing;
  q->retries = p->retries;
  q->timeouts = p->timeouts;
  q->top_rung = p->top_rung;
  q->error = p->error;
}

static json_t *u64(uint64_t v) {
  return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

/* Sets key, or marks the object failed (a NULL value from a constructor). */
static void set(json_t *o, const char *key, json_t *v, int *err) {
  if (json_object_set_new(o, key, v) != 0)
    *err = 1;
}

int scone_video_player_qoe_json(const scone_video_player *p, scone_tstamp now,
                                char *buf, size_t len) {
  if (!p || !buf)
    return SCONE_ERR_INVALID_ARGUMENT;
  scone_video_qoe q;
  scone_video_player_qoe(p, now, &q);
  json_t *o = json_object();
  json_t *adv = json_array(), *rungs = json_array();
  int err = !o || !adv || !rungs;
  for (uint32_t i = 0; !err && i < p->n_advice; i++) {
    json_t *e = json_object();
    set(e, "t", json_real(secs(p->advice_tl[i].t)), &err);
    set(e, "bps", p->advice_tl[i].bps ? u64(p->advice_tl[i].bps) : json_null(),
        &err);
    err |= json_array_append_new(adv, e) != 0;
  }
  for (uint32_t i = 0; !err && i < p->n_rung; i++) {
    json_t *e = json_object();
    set(e, "t", json_real(secs(p->rung_tl[i].t)), &err);
    set(e, "rung", json_integer(p->rung_tl[i].rung), &err);
    set(e, "bps", u64(p->rung_tl[i].bps), &err);
    err |= json_array_append_new(rungs, e) != 0;
  }
  if (err) {
    json_decref(o);
    json_decref(adv);
    json_decref(rungs);
    return SCONE_ERR_NOBUF;
  }
  set(o, "started", json_boolean(q.started), &err);
  set(o, "startup_delay_s", json_real(secs(q.startup_delay)), &err);
  set(o, "stalls", json_integer(q.stalls), &err);
  set(o, "stall_time_s", json_real(secs(q.stall_time)), &err);
  set(o, "rebuffering_ratio", json_real(q.rebuffering_ratio), &err);
  set(o, "played_s", json_real(secs(q.played)), &err);
  set(o, "session_s", json_real(secs(q.session)), &err);
  set(o, "mean_bitrate_bps", u64(q.mean_bitrate_bps), &err);
  set(o, "time_weighted_bitrate_bps", u64(q.time_weighted_bitrate_bps), &err);
  set(o, "switches", json_integer(q.switches), &err);
  set(o, "top_rung", json_integer(q.top_rung), &err);
  set(o, "bytes", u64(q.bytes), &err);
  set(o, "max_bytes_67s", u64(q.max_bytes_67s), &err);
  set(o, "max_rate_67s_bps", u64(q.max_bytes_67s * 8 / 67), &err);
  set(o, "segments", json_integer(q.segments), &err);
  set(o, "missing", json_integer(q.missing), &err);
  set(o, "retries", json_integer(q.retries), &err);
  set(o, "timeouts", json_integer(q.timeouts), &err);
  set(o, "use_advice", json_boolean(p->s.use_advice), &err);
  set(o, "error",
      q.error ? json_string(scone_video_strerror(q.error)) : json_null(), &err);
  set(o, "advice_timeline", adv, &err);
  set(o, "advice_timeline_dropped", json_integer(p->advice_dropped), &err);
  set(o, "rung_timeline", rungs, &err);
  set(o, "rung_timeline_dropped", json_integer(p->rung_dropped), &err);
  size_t n =
      err ? 0 : json_dumpb(o, buf, len, JSON_COMPACT | JSON_REAL_PRECISION(10));
  json_decref(o);
  if (n == 0 || n >= len || n > INT32_MAX) {
    if (len)
      buf[0] = '\0';
    return SCONE_ERR_NOBUF;
  }
  buf[n] = '\0';
  return (int)n;
}
