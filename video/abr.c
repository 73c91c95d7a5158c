/*
 * Rate adaptation as dash.js does it (v4/v5 defaults): a throughput rule
 * on the lower of a fast and a slow EWMA with a 0.9 safety factor, BOLA-O
 * once the buffer is stable, and DYNAMIC's hysteresis between the two.
 * Floating point is fine here: this runs once per segment.
 */
#include "internal.h"

#include <math.h>
#include <string.h>

void scone_video_abr_settings_default(scone_video_abr_settings *s) {
  s->version = SCONE_VIDEO_ABR_SETTINGS_V1;
  s->rule = SCONE_VIDEO_ABR_DYNAMIC;
  s->safety_pct = 90;
  s->fast_half_life = 3 * SCONE_SECONDS;
  s->slow_half_life = 8 * SCONE_SECONDS;
  s->initial_bps = 1000000;
  s->min_sample_bytes = 10000;
  s->stable_buffer = 12 * SCONE_SECONDS;
  s->bola_min_buffer = 10 * SCONE_SECONDS;
  s->bola_per_level = 2 * SCONE_SECONDS;
}

static double secs(scone_duration d) {
  return (double)d / (double)SCONE_SECONDS;
}

void scone_video_throughput_init(scone_video_throughput *t,
                                 const scone_video_abr_settings *s) {
  memset(t, 0, sizeof *t);
  t->fast_hl = secs(s->fast_half_life);
  t->slow_hl = secs(s->slow_half_life);
  t->min_bytes = s->min_sample_bytes;
}

int scone_video_throughput_sample(scone_video_throughput *t, uint64_t bytes,
                                  scone_duration elapsed) {
  /* Tiny transfers time the round trip, not the path's rate; a zero time
   * (a response already in a buffer) says nothing. */
  if (bytes < t->min_bytes || elapsed == 0)
    return 0;
  double w = secs(elapsed);
  double bps = (double)bytes * 8.0 / w;
  /* Weighted by download time: a sample that took w seconds moves the
   * average as w seconds of data would. */
  double af = pow(0.5, w / t->fast_hl), as = pow(0.5, w / t->slow_hl);
  t->fast = af * t->fast + (1 - af) * bps;
  t->slow = as * t->slow + (1 - as) * bps;
  t->weight += w;
  t->samples++;
  return 1;
}

uint64_t scone_video_throughput_estimate(const scone_video_throughput *t) {
  if (t->samples == 0)
    return 0;
  /* Both averages start from zero; dividing by the weight they have
   * gathered removes that bias (as Shaka's and dash.js's EWMA do). */
  double f = t->fast / (1 - pow(0.5, t->weight / t->fast_hl));
  double s = t->slow / (1 - pow(0.5, t->weight / t->slow_hl));
  double e = f < s ? f : s;
  return e >= 1.8e19 ? UINT64_MAX : (uint64_t)e;
}

size_t scone_video_abr_throughput_rule(const uint64_t *ladder, size_t n,
                                       uint64_t estimate_bps,
                                       uint32_t safety_pct) {
  unsigned __int128 usable = (unsigned __int128)estimate_bps * safety_pct / 100;
  size_t best = 0;
  for (size_t i = 0; i < n && ladder[i] <= usable; i++)
    best = i;
  return best;
}

/* BOLA's control parameters for a ladder: Vp and gp such that the top
 * rung is chosen from buffer_time = max(stable, min + per_level * n). */
static int bola_params(const uint64_t *ladder, size_t n,
                       const scone_video_abr_settings *s, double *vp,
                       double *gp) {
  double top = log((double)ladder[n - 1] / (double)ladder[0]) + 1;
  if (n < 2 || top <= 1) /* one bitrate, perhaps under several names */
    return -1;
  double min_buf = secs(s->bola_min_buffer);
  double buffer_time = secs(s->bola_min_buffer + s->bola_per_level * n);
  if (secs(s->stable_buffer) > buffer_time)
    buffer_time = secs(s->stable_buffer);
  *gp = (top - 1) / (buffer_time / min_buf - 1);
  *vp = min_buf / *gp;
  return 0;
}

static double utility(const uint64_t *ladder, size_t i) {
  return log((double)ladder[i] / (double)ladder[0]) + 1;
}

static size_t bola_pick(const uint64_t *ladder, size_t n, double vp, double gp,
                        double level) {
  size_t best = 0;
  double best_score = 0;
  for (size_t i = 0; i < n; i++) {
    double score = (vp * (utility(ladder, i) + gp) - level) / (double)ladder[i];
    if (i == 0 || score >= best_score) {
      best_score = score;
      best = i;
    }
  }
  return best;
}

/* The least buffer from which BOLA picks rung q (dash.js's
 * minBufferLevelForQuality). */
static double bola_min_level(const uint64_t *ladder, size_t q, double vp,
                             double gp) {
  double min = 0, uq = utility(ladder, q), bq = (double)ladder[q];
  for (size_t i = 0; i < q; i++) {
    double ui = utility(ladder, i), bi = (double)ladder[i];
    if (ui < uq && bq > bi) {
      double level = vp * (gp + (bq * ui - bi * uq) / (bq - bi));
      if (level > min)
        min = level;
    }
  }
  return min;
}

size_t scone_video_abr_bola_rule(const uint64_t *ladder, size_t n,
                                 scone_duration level,
                                 const scone_video_abr_settings *s) {
  double vp, gp;
  if (bola_params(ladder, n, s, &vp, &gp) < 0)
    return n - 1;
  return bola_pick(ladder, n, vp, gp, secs(level));
}

int scone_video_abr_init(scone_video_abr *a,
                         const scone_video_abr_settings *settings) {
  scone_video_abr_settings s;
  scone_video_abr_settings_default(&s);
  if (settings) {
    if (settings->version != SCONE_VIDEO_ABR_SETTINGS_V1 ||
        settings->safety_pct == 0 || settings->safety_pct > 100 ||
        settings->fast_half_life == 0 || settings->slow_half_life == 0 ||
        settings->bola_min_buffer == 0 || settings->rule > SCONE_VIDEO_ABR_BOLA)
      return SCONE_ERR_INVALID_ARGUMENT;
    s = *settings;
  }
  memset(a, 0, sizeof *a);
  a->s = s;
  scone_video_throughput_init(&a->tput, &s);
  a->last = -1;
  return 0;
}

int scone_video_abr_choose(scone_video_abr *a, const uint64_t *ladder, size_t n,
                           scone_duration level, uint64_t cap_bps,
                           scone_tstamp now) {
  if (!ladder || n == 0 || ladder[0] == 0)
    return SCONE_ERR_INVALID_ARGUMENT;
  for (size_t i = 1; i < n; i++)
    if (ladder[i] < ladder[i - 1])
      return SCONE_ERR_INVALID_ARGUMENT;
  /* The rules see only what the cap allows (at least the lowest rung). */
  size_t allowed = 1;
  while (allowed < n && (cap_bps == 0 || ladder[allowed] <= cap_bps))
    allowed++;

  uint64_t est = scone_video_throughput_estimate(&a->tput);
  if (est == 0)
    est = a->s.initial_bps;
  size_t tput =
      scone_video_abr_throughput_rule(ladder, allowed, est, a->s.safety_pct);

  int was_bola = a->using_bola;
  /* DYNAMIC: on at stable_buffer, off under half of it (dash.js). */
  if (a->s.rule == SCONE_VIDEO_ABR_DYNAMIC)
    a->using_bola =
        level > (a->using_bola ? a->s.stable_buffer / 2 : a->s.stable_buffer);
  else
    a->using_bola = a->s.rule == SCONE_VIDEO_ABR_BOLA;

  size_t pick = tput;
  size_t last = a->last < 0 ? tput : (size_t)a->last;
  if (last >= allowed)
    last = allowed - 1;
  double vp, gp;
  if (a->using_bola && bola_params(ladder, allowed, &a->s, &vp, &gp) == 0) {
    /* The placeholder buffer (dash.js's BOLA): taking over, BOLA starts
     * from the buffer that would have chosen the current rung, so that it
     * does not drop at once; time spent idle (a full buffer, a paced wait)
     * adds to it, as it would have to the buffer had the player fetched. */
    if (!was_bola)
      a->placeholder =
          fmax(0, bola_min_level(ladder, last, vp, gp) - secs(level));
    else if (a->idle)
      a->placeholder += secs(now > a->idle_since ? now - a->idle_since : 0);
    double effective = secs(level) + a->placeholder;
    pick = bola_pick(ladder, allowed, vp, gp, effective);
    /* BOLA-O: an up-switch goes no higher than the throughput rule (or
     * the current rung when that is higher). */
    if (a->last >= 0 && pick > last && pick > tput)
      pick = tput > last ? tput : last;
    /* dash.js would delay the request while the effective buffer is above
     * what this rung needs; here the player's maximum buffer does the
     * waiting, so only the placeholder is trimmed. */
    double over = effective - vp * (utility(ladder, pick) + gp);
    if (over > 0)
      a->placeholder = fmax(0, a->placeholder - over);
  } else {
    a->placeholder = 0;
  }
  a->idle = 0;
  a->last = (int)pick;
  return (int)pick;
}

void scone_video_abr_download_done(scone_video_abr *a, scone_tstamp now) {
  a->idle = 1;
  a->idle_since = now;
}
