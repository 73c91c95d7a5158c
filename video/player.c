/*
 * The player core: a state machine fed time, advice and response
 * progress, answering with what to request and when. One request is in
 * flight at a time (throughput is measured on it, the pacer reserves for
 * it); the track with less media buffered goes next.
 */
#include "player.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void scone_video_player_settings_default(scone_video_player_settings *s) {
  memset(s, 0, sizeof *s);
  s->version = SCONE_VIDEO_PLAYER_SETTINGS_V1;
  scone_video_buffer_settings_default(&s->buffer);
  scone_video_abr_settings_default(&s->abr);
  scone_app_settings_default(&s->app);
  s->use_advice = 1;
  s->reset_on_decrease = 1;
  s->response_overhead_bytes = 300;
  s->request_timeout = 5 * SCONE_SECONDS;
  s->max_retries = 3;
  s->retry_backoff = 500 * SCONE_MILLISECONDS;
  s->cmcd = SCONE_VIDEO_CMCD_HEADERS;
}

void scone_video_session_id(uint64_t seed,
                            char out[SCONE_APP_CMCD_ID_MAX + 1]) {
  /* A UUID-shaped id from the seed, so that runs can be told apart and
   * repeated. */
  uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 0x5c0e;
  uint64_t a = x ^ (x >> 31), b = a * 0xbf58476d1ce4e5b9ULL;
  snprintf(
      out, SCONE_APP_CMCD_ID_MAX + 1,
      "%08" PRIx32 "-%04" PRIx32 "-4%03" PRIx32 "-8%03" PRIx32 "-%012" PRIx64,
      (uint32_t)a, (uint32_t)(a >> 32) & 0xffff, (uint32_t)(a >> 48) & 0xfff,
      (uint32_t)b & 0xfff, (uint64_t)((b >> 12) & 0xffffffffffffULL));
}

/* ------------------------------------------------------------- helpers */

static const scone_video_rep *rep_of(const scone_video_player *p, int rep) {
  return &p->mpd->reps[rep];
}

static const scone_video_period *period_of(const scone_video_player *p,
                                           const track *t) {
  return &p->mpd->periods[t->period];
}

/* Media start and end of a segment on the presentation timeline. */
static void seg_times(const scone_video_player *p, const track *t, int rep,
                      uint64_t index, scone_duration *start,
                      scone_duration *end) {
  scone_video_segment seg = {0, 0, 0, 0};
  if (scone_video_mpd_segment(p->mpd, (uint32_t)rep, index, &seg) < 0)
    seg.start = period_of(p, t)->duration; /* past its end: nothing */
  *start = period_of(p, t)->start + seg.start;
  *end = *start + seg.duration;
}

/* The cap on video bitrate: the media cap and CMSD mb, less the audio. */
static uint64_t video_cap(const scone_video_player *p) {
  if (!p->s.use_advice)
    return 0;
  uint64_t cap = p->media_cap;
  if (p->cmsd_mb && (cap == 0 || p->cmsd_mb < cap))
    cap = p->cmsd_mb;
  if (cap == 0)
    return 0;
  const track *a = &p->tracks[TRACK_AUDIO];
  /* Audio takes its lowest rendition (see choose_rep). */
  int arep = a->rep >= 0   ? a->rep
             : a->set >= 0 ? (int)p->mpd->sets[a->set].first_rep
                           : -1;
  if (p->ntracks > 1 && arep >= 0) {
    uint64_t ab = rep_of(p, arep)->bandwidth;
    cap = cap > ab ? cap - ab : 1; /* 1: under every rung, still a cap */
  }
  return cap;
}

/* The ladder of a set, in bit/s. */
static size_t ladder_of(const scone_video_player *p, int set, uint64_t *out) {
  const scone_video_set *s = &p->mpd->sets[set];
  for (uint32_t i = 0; i < s->nreps; i++)
    out[i] = p->mpd->reps[s->first_rep + i].bandwidth;
  return s->nreps;
}

/* A representation that can play segment index: its init segment is not
 * missing and it has that many segments. */
static int usable(const scone_video_player *p, const track *t, uint32_t rep,
                  uint64_t index) {
  return !t->bad[rep] && rep_of(p, (int)rep)->nsegments > index;
}

/* The usable representation nearest to rung, preferring lower ones. */
static int usable_rep(const scone_video_player *p, const track *t, int set,
                      int rung, uint64_t index) {
  const scone_video_set *s = &p->mpd->sets[set];
  for (int i = rung; i >= 0; i--)
    if (usable(p, t, s->first_rep + (uint32_t)i, index))
      return (int)s->first_rep + i;
  for (uint32_t i = (uint32_t)rung + 1; i < s->nreps; i++)
    if (usable(p, t, s->first_rep + i, index))
      return (int)(s->first_rep + i);
  return -1;
}

static double size_ratio(const track *t) {
  double r = 1;
  for (uint32_t i = 0; i < t->nratio && i < RATIO_SAMPLES; i++)
    if (t->ratio[i] > r)
      r = t->ratio[i];
  return r > 4 ? 4 : r;
}

static uint64_t nominal_bytes(const scone_video_player *p, const track *t,
                              int rep, uint64_t index) {
  scone_duration s, e;
  seg_times(p, t, rep, index, &s, &e);
  return (uint64_t)((unsigned __int128)rep_of(p, rep)->bandwidth * (e - s) /
                    (8 * SCONE_SECONDS));
}

static uint64_t expected_bytes(const scone_video_player *p, const job *j) {
  const track *t = &p->tracks[j->track];
  uint64_t body;
  if (j->is_init)
    body = t->init_bytes ? t->init_bytes : 16384;
  else
    body = (uint64_t)((double)nominal_bytes(p, t, j->rep, j->index) *
                      size_ratio(t));
  body = body > j->resume_from ? body - j->resume_from : 0;
  return body + p->s.response_overhead_bytes;
}

/* Moves a track past what it has no segment to fetch for: zero-length
 * tails, periods without a set of its media (counted as buffered through),
 * the end. A finished track counts as buffered to the end, so that the
 * other one alone decides the level. */
static void settle_track(scone_video_player *p, int ti, scone_tstamp now) {
  track *t = &p->tracks[ti];
  while (!t->done) {
    const scone_video_period *per = period_of(p, t);
    if (per->start >= p->media_end) {
      t->done = 1;
      break;
    }
    if (t->set >= 0) {
      const scone_video_set *set = &p->mpd->sets[t->set];
      int rep = t->rep >= (int)set->first_rep &&
                        t->rep < (int)(set->first_rep + set->nreps)
                    ? t->rep
                    : (int)set->first_rep;
      if (t->next_index < rep_of(p, rep)->nsegments) {
        scone_duration s, e;
        seg_times(p, t, rep, t->next_index, &s, &e);
        if (s >= p->media_end) {
          t->done = 1;
          break;
        }
        if (e > s)
          break; /* something to fetch */
        t->next_index++;
        continue;
      }
    } else {
      scone_duration pend = per->start + per->duration;
      scone_video_buffer_extend(&p->buf, (uint32_t)ti,
                                pend < p->media_end ? pend : p->media_end, now);
    }
    if (t->period + 1 >= p->mpd->nperiods) {
      t->done = 1;
      break;
    }
    t->period++;
    t->set = scone_video_mpd_find_set(p->mpd, t->period, t->media);
    t->next_index = 0;
  }
  if (t->done)
    scone_video_buffer_extend(&p->buf, (uint32_t)ti, p->media_end, now);
}

static void record_rung(scone_video_player *p, scone_tstamp now, uint32_t rung,
                        uint64_t bps) {
  if (p->n_rung == TIMELINE_MAX) {
    p->rung_dropped++;
    return;
  }
  p->rung_tl[p->n_rung].t = now - p->created;
  p->rung_tl[p->n_rung].rung = rung;
  p->rung_tl[p->n_rung].bps = bps;
  p->n_rung++;
}

static void record_advice(scone_video_player *p, scone_tstamp now,
                          uint64_t bps) {
  if (p->n_advice == TIMELINE_MAX) {
    p->advice_dropped++;
    return;
  }
  p->advice_tl[p->n_advice].t = now > p->created ? now - p->created : 0;
  p->advice_tl[p->n_advice].bps = bps;
  p->n_advice++;
}

/* ---------------------------------------------------------------- setup */

int scone_video_player_new(scone_video_player **pp, const scone_video_mpd *mpd,
                           const char *mpd_url,
                           const scone_video_player_settings *settings,
                           const scone_video_player_callbacks *cb,
                           void *user_data, scone_tstamp now) {
  if (!pp || !mpd || !mpd_url || strlen(mpd_url) > SCONE_VIDEO_URL_MAX)
    return SCONE_ERR_INVALID_ARGUMENT;
  *pp = NULL;
  scone_video_player_settings s;
  scone_video_player_settings_default(&s);
  if (settings) {
    if (settings->version != SCONE_VIDEO_PLAYER_SETTINGS_V1 ||
        settings->app.version != SCONE_APP_SETTINGS_V1 ||
        settings->request_timeout == 0 ||
        settings->cmcd > SCONE_VIDEO_CMCD_NONE ||
        strnlen(settings->session_id, sizeof settings->session_id) ==
            sizeof settings->session_id)
      return SCONE_ERR_INVALID_ARGUMENT;
    s = *settings;
  }
  int vset = scone_video_mpd_find_set(mpd, 0, SCONE_VIDEO_MEDIA_VIDEO);
  if (vset < 0)
    return SCONE_VIDEO_ERR_NO_MEDIA;
  int aset = scone_video_mpd_find_set(mpd, 0, SCONE_VIDEO_MEDIA_AUDIO);

  scone_video_player *p = calloc(1, sizeof *p);
  if (!p)
    return SCONE_ERR_NOBUF;
  p->mpd = malloc(sizeof *p->mpd);
  if (!p->mpd) {
    free(p);
    return SCONE_ERR_NOBUF;
  }
  memcpy(p->mpd, mpd, sizeof *mpd);
  strcpy(p->mpd_url, mpd_url);
  p->s = s;
  if (cb)
    p->cb = *cb;
  p->user = user_data;
  p->created = now;
  p->media_end = mpd->duration;
  if (s.play_limit && s.play_limit < p->media_end)
    p->media_end = s.play_limit;
  if (!p->s.session_id[0])
    scone_video_session_id(s.seed, p->s.session_id);
  p->ntracks = aset >= 0 ? 2 : 1;
  int err = scone_video_buffer_init(&p->buf, &s.buffer, p->ntracks,
                                    p->media_end, now);
  if (!err)
    err = scone_video_abr_init(&p->abr, &s.abr);
  if (err) {
    scone_video_player_del(p);
    return err;
  }
  scone_video_pacer_init(&p->pacer, s.reset_on_decrease);
  if (s.budget_period != 0) {
    p->pacer.period = s.budget_period;
    scone_budget_init(&p->pacer.budget, s.budget_period, 0);
  }
  for (uint32_t i = 0; i < p->ntracks; i++) {
    track *t = &p->tracks[i];
    t->media =
        i == TRACK_VIDEO ? SCONE_VIDEO_MEDIA_VIDEO : SCONE_VIDEO_MEDIA_AUDIO;
    t->set = i == TRACK_VIDEO ? vset : aset;
    t->rep = -1;
    settle_track(p, (int)i, now);
  }
  p->last_rung = -1;
  p->next_id = 1;
  p->wakeup = now;
  *pp = p;
  return 0;
}

void scone_video_player_del(scone_video_player *p) {
  if (!p)
    return;
  free(p->mpd);
  free(p);
}

/* --------------------------------------------------------------- inputs */

void scone_video_player_on_advice(scone_video_player *p, scone_tstamp now,
                                  const scone_advice *advice) {
  uint64_t bps = advice && advice->signal <= SCONE_SIGNAL_MAX ? advice->bps : 0;
  scone_video_buffer_advance(&p->buf, now);
  if (bps == p->advice_bps && p->n_advice > 0)
    return;
  p->advice_bps = bps;
  if (advice)
    p->advice = *advice;
  /* Cannot fail: the app settings' version was checked by _new. */
  scone_app_media_cap_bps(&p->media_cap, advice, &p->s.app);
  record_advice(p, now, bps);
  if (p->s.use_advice)
    scone_video_pacer_set_cap(&p->pacer, p->media_cap);
  p->wakeup = now; /* the cap or the budget changed: decide again */
}

void scone_video_player_window_add(scone_video_player *p, scone_tstamp now,
                                   uint64_t bytes) {
  uint64_t idx = now / WIN_BUCKET;
  if (idx > p->win_head) {
    uint64_t steps = idx - p->win_head;
    if (steps >= WIN_BUCKETS) {
      memset(p->win, 0, sizeof p->win);
      p->win_sum = 0;
    } else {
      for (uint64_t i = 1; i <= steps; i++) {
        uint64_t *b = &p->win[(p->win_head + i) % WIN_BUCKETS];
        p->win_sum -= *b;
        *b = 0;
      }
    }
    p->win_head = idx;
  }
  /* A clock that stepped back counts in the newest bucket. */
  p->win[p->win_head % WIN_BUCKETS] += bytes;
  p->win_sum += bytes;
  if (p->win_sum > p->win_max)
    p->win_max = p->win_sum;
}

static void count_bytes(scone_video_player *p, scone_tstamp now, uint64_t body,
                        uint64_t overhead) {
  p->bytes += body;
  scone_video_player_window_add(p, now, body);
  scone_video_pacer_consume(&p->pacer, body + overhead, now);
}

void scone_video_player_abort(scone_video_player *p, scone_tstamp now,
                              int error) {
  scone_video_buffer_advance(&p->buf, now);
  if (p->done)
    return;
  p->error = error;
  p->done = 1;
  p->cur.active = 0;
  p->wakeup = now;
}

void scone_video_player_note_bytes(scone_video_player *p, scone_tstamp now,
                                   uint64_t bytes) {
  count_bytes(p, now, bytes, 0);
}

int scone_video_player_on_headers(scone_video_player *p, scone_tstamp now,
                                  uint64_t id, int status,
                                  const char *cmsd_dynamic, size_t cmsd_len) {
  inflight *c = &p->cur;
  if (!c->active || c->id != id)
    return SCONE_ERR_INVALID_ARGUMENT;
  c->status = status;
  c->first_byte_at = c->last_progress = now;
  /* A server that ignored the Range sends the object from its start. */
  if (status == 200 && c->j.resume_from)
    c->j.resume_from = 0;
  count_bytes(p, now, 0, p->s.response_overhead_bytes);
  if (cmsd_dynamic && p->s.use_advice) {
    scone_app_cmsd_entry e[4];
    uint64_t mb;
    int n = scone_app_cmsd_dynamic_decode(cmsd_dynamic, cmsd_len, e, 4);
    /* Only the members decoded: the rest of e is not written. */
    if (n > 0 && scone_app_cmsd_dynamic_min_mb(e, n < 4 ? (size_t)n : 4, &mb))
      p->cmsd_mb = mb > UINT64_MAX / 1000 ? UINT64_MAX : mb * 1000;
  }
  return 0;
}

int scone_video_player_on_data(scone_video_player *p, scone_tstamp now,
                               uint64_t id, uint64_t bytes) {
  inflight *c = &p->cur;
  if (!c->active || c->id != id)
    return SCONE_ERR_INVALID_ARGUMENT;
  if (!c->status) /* no headers reported: time from the first byte */
    c->first_byte_at = now;
  c->received += bytes;
  c->last_progress = now;
  count_bytes(p, now, bytes, 0);
  return 0;
}

/* ------------------------------------------------------------ outcomes */

static void report(scone_video_player *p, scone_tstamp now, const job *j,
                   uint64_t bytes, scone_duration download, int skipped,
                   int failed) {
  if (!p->cb.segment)
    return;
  const track *t = &p->tracks[j->track];
  scone_video_segment seg;
  scone_video_mpd_segment(p->mpd, (uint32_t)j->rep, j->index, &seg);
  scone_video_segment_report r = {
      .t = now - p->created,
      .media = t->media,
      .number = seg.number,
      .rung = (uint32_t)(j->rep - (int)p->mpd->sets[t->set].first_rep),
      .bitrate_bps = rep_of(p, j->rep)->bandwidth,
      .bytes = bytes,
      .download = download,
      .buffer = scone_video_buffer_level(&p->buf),
      .throughput_bps = scone_video_throughput_estimate(&p->abr.tput),
      .advice_bps = p->advice_bps,
      .cap_bps = p->s.use_advice ? p->media_cap : 0,
      .skipped = skipped,
      .failed = failed,
      .state = p->buf.state,
  };
  p->cb.segment(&r, p->user);
}

/* The segment is over, fetched or not: the track moves on. */
static void advance_track(scone_video_player *p, const job *j,
                          scone_tstamp now) {
  track *t = &p->tracks[j->track];
  scone_duration s, e;
  seg_times(p, t, j->rep, j->index, &s, &e);
  scone_video_buffer_extend(&p->buf, (uint32_t)j->track,
                            e < p->media_end ? e : p->media_end, now);
  t->next_index = j->index + 1;
  settle_track(p, j->track, now);
}

/* The segment (or init segment) will not be fetched: missing (4xx, a URL
 * past the limits) or failed (its retries ran out). */
static void skip(scone_video_player *p, const job *j, scone_tstamp now,
                 int failed) {
  track *t = &p->tracks[j->track];
  if (failed && p->s.stop_on_failure) {
    p->error = SCONE_VIDEO_ERR_FAILED;
    p->done = 1;
  }
  if (j->is_init) {
    /* Without its init segment a representation cannot play. */
    t->bad[j->rep] = 1;
    if (usable_rep(p, t, t->set, 0, j->index) < 0) {
      p->error = SCONE_VIDEO_ERR_NO_MEDIA;
      p->done = 1;
    }
    return;
  }
  p->missing++;
  /* The player jumps the gap: its media time passes without bytes. */
  advance_track(p, j, now);
  report(p, now, j, 0, 0, 1, failed);
}

/* A failed attempt: again after a backoff, or skipped when out of tries. */
static void retry_or_skip(scone_video_player *p, const job *j, uint64_t had,
                          scone_tstamp now) {
  if (j->attempt >= p->s.max_retries) {
    skip(p, j, now, 1);
    return;
  }
  p->retries++;
  p->pending = *j;
  p->pending.attempt++;
  /* Resume a partly received object with a byte range. */
  p->pending.resume_from = j->resume_from + had;
  scone_duration backoff = p->s.retry_backoff
                           << (j->attempt < 16 ? j->attempt : 16);
  p->pending.not_before = now + backoff;
  p->has_pending = 1;
}

static void learn_size(scone_video_player *p, const inflight *c) {
  track *t = &p->tracks[c->j.track];
  uint64_t total = c->j.resume_from + c->received;
  if (c->j.is_init) {
    if (total > t->init_bytes)
      t->init_bytes = total;
    return;
  }
  uint64_t nominal = nominal_bytes(p, t, c->j.rep, c->j.index);
  if (nominal)
    t->ratio[t->nratio++ % RATIO_SAMPLES] = (double)total / (double)nominal;
}

static void completed(scone_video_player *p, const inflight *c,
                      scone_tstamp now) {
  const job *j = &c->j;
  track *t = &p->tracks[j->track];
  learn_size(p, c);
  if (j->is_init) {
    t->init_done[j->rep] = 1;
    return;
  }
  scone_duration download = now - c->first_byte_at;
  scone_video_throughput_sample(&p->abr.tput, c->received, download);
  p->segments++;
  t->rep = j->rep;
  if (j->track == TRACK_VIDEO) {
    const scone_video_set *set = &p->mpd->sets[t->set];
    int rung = j->rep - (int)set->first_rep;
    uint64_t bps = rep_of(p, j->rep)->bandwidth;
    scone_duration s, e;
    seg_times(p, t, j->rep, j->index, &s, &e);
    double dur = (double)(e - s) / SCONE_SECONDS;
    p->video_segments++;
    p->bitrate_sum += (double)bps;
    p->bitrate_time_sum += (double)bps * dur;
    p->time_sum += dur;
    if (rung != p->last_rung) {
      if (p->last_rung >= 0)
        p->switches++;
      record_rung(p, now, (uint32_t)rung, bps);
      p->last_rung = rung;
    }
    if ((uint32_t)rung > p->top_rung)
      p->top_rung = (uint32_t)rung;
  }
  advance_track(p, j, now);
  report(p, now, j, j->resume_from + c->received, download, 0, 0);
}

int scone_video_player_on_done(scone_video_player *p, scone_tstamp now,
                               uint64_t id, int error) {
  inflight *c = &p->cur;
  if (!c->active || c->id != id)
    return SCONE_ERR_INVALID_ARGUMENT;
  c->active = 0;
  scone_video_buffer_advance(&p->buf, now);
  scone_video_abr_download_done(&p->abr, now);
  int st = c->status;
  if (!error && (st == 200 || st == 206)) {
    completed(p, c, now);
  } else if (!error && st >= 400 && st < 500) {
    if (p->s.stop_on_missing) {
      p->error = SCONE_VIDEO_ERR_SEGMENT_MISSING;
      p->done = 1;
    } else {
      skip(p, &c->j, now, 0);
    }
  } else {
    /* Reset, lost connection, 5xx, anything else: try again. */
    retry_or_skip(p, &c->j, st == 200 || st == 206 ? c->received : 0, now);
  }
  p->wakeup = now;
  return 0;
}

/* ----------------------------------------------------------------- poll */

/* The track to fetch for next: the one with less media buffered. */
static int next_job(const scone_video_player *p, job *j) {
  int best = -1;
  for (uint32_t i = 0; i < p->ntracks; i++)
    if (!p->tracks[i].done && (best < 0 || p->buf.end[i] < p->buf.end[best]))
      best = (int)i;
  if (best < 0)
    return 0;
  memset(j, 0, sizeof *j);
  j->track = best;
  j->index = p->tracks[best].next_index;
  j->rep = -1;
  return 1;
}

static scone_app_cm_ot object_type(const job *j) {
  if (j->is_init)
    return SCONE_APP_OT_I;
  return j->track == TRACK_VIDEO ? SCONE_APP_OT_V : SCONE_APP_OT_A;
}

static uint64_t kbps(uint64_t bps) {
  return (bps + 500) / 1000;
}

static void fill_cmcd(scone_video_player *p, const job *j,
                      scone_app_cmcd_data *d) {
  const track *t = &p->tracks[j->track];
  memset(d, 0, sizeof *d);
  d->present = SCONE_APP_CMCD_SID | SCONE_APP_CMCD_SF | SCONE_APP_CMCD_ST |
               SCONE_APP_CMCD_OT;
  strcpy(d->sid, p->s.session_id);
  d->sf = SCONE_APP_SF_D;
  d->st = SCONE_APP_ST_V;
  d->ot = object_type(j);
  if (p->buf.state != SCONE_VIDEO_PLAYING)
    d->present |= SCONE_APP_CMCD_SU;
  if (p->buf.stalls > p->stalls_seen) {
    d->present |= SCONE_APP_CMCD_BS;
    p->stalls_seen = p->buf.stalls;
  }
  if (!j->is_init) {
    scone_duration s, e;
    seg_times(p, t, j->rep, j->index, &s, &e);
    d->present |= SCONE_APP_CMCD_BR | SCONE_APP_CMCD_D | SCONE_APP_CMCD_BL |
                  SCONE_APP_CMCD_TB;
    d->br_kbps = kbps(rep_of(p, j->rep)->bandwidth);
    d->d_ms = (e - s + SCONE_MILLISECONDS / 2) / SCONE_MILLISECONDS;
    d->bl_ms = scone_video_buffer_track_level(&p->buf, (uint32_t)j->track) /
               SCONE_MILLISECONDS;
    /* tb: the highest rung the player allows itself now. */
    uint64_t ladder[SCONE_VIDEO_MAX_REPS];
    size_t n = ladder_of(p, t->set, ladder);
    uint64_t cap = j->track == TRACK_VIDEO ? video_cap(p) : 0;
    int top = scone_app_ladder_pick(ladder, n, cap);
    d->tb_kbps = kbps(ladder[top < 0 ? 0 : top]);
  }
  scone_app_cmcd c;
  scone_app_cmcd_from_advice(
      &c, p->s.use_advice && p->advice_bps ? &p->advice : NULL,
      scone_video_throughput_estimate(&p->abr.tput), &p->s.app);
  if (c.has_mtp) {
    d->present |= SCONE_APP_CMCD_MTP;
    d->mtp_kbps = c.mtp_kbps;
  }
  if (c.has_rtp) {
    d->present |= SCONE_APP_CMCD_RTP;
    d->rtp_kbps = c.rtp_kbps;
  }
}

/* Fills the request for job j into a; 0, or an error for a URL that does
 * not fit. */
static int build_request(scone_video_player *p, const job *j,
                         scone_video_action *a) {
  scone_video_request *r = &a->req;
  memset(r, 0, sizeof *r);
  int n = scone_video_mpd_url(p->mpd, (uint32_t)j->rep,
                              j->is_init ? SCONE_VIDEO_INIT : j->index,
                              p->mpd_url, p->url, SCONE_VIDEO_URL_MAX + 1);
  if (n < 0)
    return n;
  scone_app_cmcd_data d;
  fill_cmcd(p, j, &d);
  if (p->s.cmcd == SCONE_VIDEO_CMCD_QUERY) {
    size_t len = (size_t)n;
    p->url[len++] = strchr(p->url, '?') ? '&' : '?';
    int q = scone_app_cmcd_encode_query(p->url + len, sizeof p->url - len, &d);
    if (q <= 0)
      p->url[len - 1] = '\0'; /* nothing to send, or nothing that fits */
  } else if (p->s.cmcd == SCONE_VIDEO_CMCD_HEADERS) {
    static const scone_app_cmcd_shard shards[] = {
        SCONE_APP_CMCD_REQUEST, SCONE_APP_CMCD_OBJECT, SCONE_APP_CMCD_STATUS,
        SCONE_APP_CMCD_SESSION};
    for (size_t i = 0; i < 4; i++)
      if (scone_app_cmcd_encode(p->hdr[i], sizeof p->hdr[i], &d, shards[i]) >
          0) {
        r->headers[r->nheaders].name = scone_app_cmcd_header_name(shards[i]);
        r->headers[r->nheaders].value = p->hdr[i];
        r->nheaders++;
      }
  }
  r->url = p->url;
  const char *auth = strstr(p->url, "://");
  r->path = auth ? auth + 3 + strcspn(auth + 3, "/?") : p->url;
  if (!*r->path)
    r->path = "/";
  r->has_range = j->resume_from > 0;
  r->range_first = j->resume_from;
  r->ot = object_type(j);
  return 0;
}

/* Decides the representation of a fresh job; -1 when none is usable. */
static int choose_rep(scone_video_player *p, job *j, scone_tstamp now) {
  track *t = &p->tracks[j->track];
  int rung = 0;
  if (j->track == TRACK_VIDEO) {
    uint64_t ladder[SCONE_VIDEO_MAX_REPS];
    size_t n = ladder_of(p, t->set, ladder);
    rung = scone_video_abr_choose(
        &p->abr, ladder, n,
        scone_video_buffer_track_level(&p->buf, TRACK_VIDEO), video_cap(p),
        now);
    if (rung < 0)
      rung = 0;
  }
  /* Audio: the lowest rendition, which leaves the most to video. */
  return usable_rep(p, t, t->set, rung, j->index);
}

static scone_video_action_type finish(scone_video_player *p,
                                      scone_video_action *a) {
  p->done = 1;
  a->type = SCONE_VIDEO_ACTION_DONE;
  a->error = p->error;
  p->wakeup = UINT64_MAX;
  return a->type;
}

static scone_video_action_type
wait_until(scone_video_player *p, scone_video_action *a, scone_tstamp t) {
  a->type = SCONE_VIDEO_ACTION_NONE;
  p->wakeup = t;
  return a->type;
}

static scone_video_action_type timeout(scone_video_player *p, scone_tstamp now,
                                       scone_video_action *a) {
  inflight *c = &p->cur;
  c->active = 0;
  p->timeouts++;
  /* What arrived before the stall is a (poor) throughput sample. */
  if (c->status && !c->j.is_init)
    scone_video_throughput_sample(&p->abr.tput, c->received,
                                  now - c->first_byte_at);
  int partial = c->status == 200 || c->status == 206;
  retry_or_skip(p, &c->j, partial ? c->received : 0, now);
  a->type = SCONE_VIDEO_ACTION_CANCEL;
  a->cancel_id = c->id;
  p->wakeup = now;
  return a->type;
}

scone_video_action_type scone_video_player_poll(scone_video_player *p,
                                                scone_tstamp now,
                                                scone_video_action *a) {
  memset(a, 0, sizeof *a);
  if (p->done && p->wakeup == UINT64_MAX)
    return SCONE_VIDEO_ACTION_NONE; /* DONE was given */
  scone_video_buffer_advance(&p->buf, now);
  if (p->done || p->buf.state == SCONE_VIDEO_ENDED)
    return finish(p, a);

  if (p->cur.active) {
    scone_tstamp deadline = p->cur.last_progress + p->s.request_timeout;
    if (now >= deadline)
      return timeout(p, now, a);
    return wait_until(p, a, deadline);
  }

  job j;
  if (p->has_pending) {
    if (now < p->pending.not_before)
      return wait_until(p, a, p->pending.not_before);
    j = p->pending;
  } else if (!next_job(p, &j)) {
    /* Everything is fetched: wake when playback reaches the end. */
    if (p->buf.state == SCONE_VIDEO_PLAYING)
      return wait_until(p, a, now + scone_video_buffer_level(&p->buf) + 1);
    return wait_until(p, a, UINT64_MAX);
  }
  track *t = &p->tracks[j.track];

  /* A full buffer waits for playback to make room for one segment. */
  if (j.resume_from == 0 && p->buf.state == SCONE_VIDEO_PLAYING) {
    scone_duration s, e;
    seg_times(p, t, (int)p->mpd->sets[t->set].first_rep, j.index, &s, &e);
    scone_duration level =
        scone_video_buffer_track_level(&p->buf, (uint32_t)j.track);
    scone_duration room = p->buf.s.max > e - s ? p->buf.s.max - (e - s) : 0;
    if (level > room)
      return wait_until(p, a, now + (level - room));
  }

  /* The ABR decision is kept only if the request goes out now. */
  scone_video_abr saved = p->abr;
  if (j.rep < 0 || (j.resume_from == 0 && !j.is_init && p->has_pending))
    j.rep = choose_rep(p, &j, now);
  if (j.rep < 0) {
    p->error = SCONE_VIDEO_ERR_NO_MEDIA;
    return finish(p, a);
  }
  if (!t->init_done[j.rep] && rep_of(p, j.rep)->init[0] && !j.is_init) {
    j.is_init = 1;
    j.resume_from = 0;
  }

  uint64_t need = expected_bytes(p, &j);
  if (p->s.use_advice && p->media_cap) {
    uint64_t avail = scone_video_pacer_available(&p->pacer, now);
    if (avail < need && !j.is_init && j.track == TRACK_VIDEO &&
        j.resume_from == 0 &&
        scone_video_buffer_level(&p->buf) < p->buf.s.startup) {
      /* Nearly dry: a lower rung that fits now beats waiting. */
      const scone_video_set *set = &p->mpd->sets[t->set];
      for (int r = j.rep - 1; r >= (int)set->first_rep; r--) {
        job lower = j;
        lower.rep = r;
        if (!usable(p, t, (uint32_t)r, j.index) || !t->init_done[r])
          continue;
        if (expected_bytes(p, &lower) <= avail) {
          j.rep = r;
          need = expected_bytes(p, &lower);
          break;
        }
      }
    }
    if (avail < need) {
      p->abr = saved;
      return wait_until(p, a, scone_video_pacer_when(&p->pacer, need, now));
    }
  }

  if (build_request(p, &j, a) < 0) {
    /* A URL past the limits: as missing as a 404. */
    p->has_pending = 0;
    skip(p, &j, now, 0);
    p->wakeup = now;
    return wait_until(p, a, now);
  }
  p->has_pending = 0;
  inflight *c = &p->cur;
  memset(c, 0, sizeof *c);
  c->active = 1;
  c->id = p->next_id++;
  c->j = j;
  c->expected = need;
  c->sent_at = c->last_progress = now;
  a->type = SCONE_VIDEO_ACTION_REQUEST;
  a->req.id = c->id;
  a->req.expected_bytes = need;
  p->wakeup = now;
  return a->type;
}

scone_tstamp scone_video_player_wakeup(const scone_video_player *p) {
  return p->wakeup;
}
