/*
 * The player core driven over a simulated link, in 5 ms steps.
 *
 * The link: a radio of peak_bps in front of the operator's plan, a token
 * bucket of plan_bps with a burst allowance (what "1.5 Mbit/s plan" means
 * for a subscriber whose radio is faster), counting bytes on the wire
 * (body + 6% for IP, UDP and QUIC). The draft's limit judges the same
 * wire bytes: no 67 s window may carry more than the advice the player is
 * given allows, with no tolerance. Responses come one round trip after the
 * request; the server can be told to answer 404, fail with 503 or stall
 * mid-body.
 */
#include "video_test.h"

#include <jansson.h>
#include <stdio.h>

#define STEP (5 * MS)
#define RTT (40 * MS)
#define WIRE_PCT 106
#define WINDOW_STEPS (SCONE_PERIOD / STEP)

typedef struct sim {
  /* link */
  uint64_t peak_bps, plan_bps, burst_bytes;
  double tokens;
  /* advice */
  unsigned signal;
  uint64_t allowed;           /* wire bytes per 67 s; 0: no advice */
  uint64_t win[WINDOW_STEPS]; /* wire bytes of each step of the last 67 s */
  uint64_t win_sum;
  int exceeded;
  /* content */
  scone_video_synth_settings content;
  uint32_t missing_rep;
  uint64_t missing_number; /* 404 for this segment of missing_rep */
  int missing_init;        /* 404 for missing_rep's init */
  uint64_t fail_number;    /* 503 once for this segment (any rep) */
  uint64_t stall_number;   /* stop sending halfway through, once */
  int stall_forever;       /* ... and every response after it too */
  int failed_once, stalled_once;
  int pace;          /* the server paces each response to its CMCD rtp */
  const char *cmsd;  /* CMSD-Dynamic on every response, NULL: none */
  uint64_t pace_bps; /* the transfer in progress: its rtp, 0: none */
  /* the transfer in progress */
  int active;
  uint64_t id;
  uint64_t size, sent;
  int status;
  scone_tstamp headers_at;
  int headers_done, stall;
  /* what the player did */
  scone_video_player *p;
  scone_tstamp now;
  int done, error;
  uint32_t requests, ranges, cancels;
  int saw_bs, saw_rtp, saw_su, saw_query;
  char last_session[256];
  uint32_t segments_reported;
  uint32_t failed_reports; /* skipped because their retries ran out */
  uint32_t rung_counts[SCONE_VIDEO_LADDER_RUNGS];
  uint32_t late_rungs[SCONE_VIDEO_LADDER_RUNGS]; /* after 60 s */
  int cur_rung; /* the last video rung fetched, -1 before any */
} sim;

static void on_segment(const scone_video_segment_report *r, void *user) {
  sim *s = user;
  s->segments_reported++;
  s->failed_reports += (uint32_t)r->failed;
  assert_true(!r->failed || r->skipped);
  char line[256];
  assert_true(scone_video_segment_report_line(line, sizeof line, r) > 0);
  if (getenv("SCONE_VIDEO_TEST_VERBOSE"))
    printf("%s\n", line);
  if (r->media == SCONE_VIDEO_MEDIA_VIDEO && !r->skipped) {
    s->cur_rung = (int)r->rung;
    s->rung_counts[r->rung]++;
    if (r->t >= 60 * S)
      s->late_rungs[r->rung]++;
  }
}

static void sim_init(sim *s, uint64_t peak, uint64_t plan, uint64_t burst,
                     unsigned signal) {
  memset(s, 0, sizeof *s);
  s->peak_bps = peak;
  s->plan_bps = plan;
  s->burst_bytes = burst;
  s->tokens = (double)burst;
  s->signal = signal;
  scone_video_synth_settings_default(&s->content);
  s->content.duration = 180 * S;
  s->missing_number = s->fail_number = s->stall_number = UINT64_MAX;
  s->cur_rung = -1;
  if (signal != SCONE_SIGNAL_UNKNOWN)
    s->allowed = scone_rate_from_signal(signal) / 8 * (SCONE_PERIOD / S);
}

/* The object a request names, and its size. */
static uint64_t object_size(sim *s, const char *path, int *status) {
  unsigned rep;
  unsigned long long number;
  *status = 200;
  const char *f = strrchr(path, '/');
  f = f ? f + 1 : path;
  if (sscanf(f, "init-stream%u.m4s", &rep) == 1) {
    if (s->missing_init && rep == s->missing_rep)
      *status = 404;
    return scone_video_synth_size(&s->content, rep, 0);
  }
  if (sscanf(f, "chunk-stream%u-%llu.m4s", &rep, &number) == 2) {
    if (rep == s->missing_rep && number == s->missing_number)
      *status = 404;
    if (number == s->fail_number && !s->failed_once) {
      s->failed_once = 1;
      *status = 503;
    }
    if (s->stall_forever && number >= s->stall_number)
      s->stall = 1;
    if (number == s->stall_number && !s->stalled_once) {
      s->stalled_once = 1;
      s->stall = 1;
    }
    return scone_video_synth_size(&s->content, rep, number);
  }
  fail_msg("request for an unknown object %s", path);
  return 0;
}

static void handle(sim *s, const scone_video_action *a) {
  switch (a->type) {
  case SCONE_VIDEO_ACTION_REQUEST: {
    assert_false(s->active); /* one at a time */
    const scone_video_request *r = &a->req;
    s->requests++;
    s->active = 1;
    s->stall = 0;
    s->pace_bps = 0;
    s->id = r->id;
    s->sent = r->has_range ? r->range_first : 0;
    s->ranges += r->has_range;
    s->size = object_size(s, r->path, &s->status);
    if (r->has_range && s->status == 200)
      s->status = 206;
    s->headers_at = s->now + RTT;
    s->headers_done = 0;
    s->saw_query |= strstr(r->url, "?CMCD=") != NULL;
    for (size_t i = 0; i < r->nheaders; i++) {
      const char *n = r->headers[i].name, *v = r->headers[i].value;
      if (!strcmp(n, "CMCD-Status")) {
        s->saw_bs |= strncmp(v, "bs", 2) == 0;
        s->saw_rtp |= strstr(v, "rtp=") != NULL;
        const char *rtp = strstr(v, "rtp=");
        s->pace_bps = s->pace && rtp ? strtoull(rtp + 4, NULL, 10) * 1000 : 0;
      }
      if (!strcmp(n, "CMCD-Request"))
        s->saw_su |= strstr(v, "su") != NULL;
      if (!strcmp(n, "CMCD-Session"))
        snprintf(s->last_session, sizeof s->last_session, "%s", v);
    }
    break;
  }
  case SCONE_VIDEO_ACTION_CANCEL:
    assert_true(s->active && a->cancel_id == s->id);
    s->active = 0;
    s->cancels++;
    break;
  case SCONE_VIDEO_ACTION_DONE:
    s->done = 1;
    s->error = a->error;
    break;
  default:
    break;
  }
}

/* One step of the link: tokens, then bytes of the transfer. */
static void link_step(sim *s) {
  s->tokens += (double)s->plan_bps / 8 * ((double)STEP / S);
  if (s->tokens > (double)s->burst_bytes)
    s->tokens = (double)s->burst_bytes;
  if (!s->active || s->now < s->headers_at)
    return;
  if (!s->headers_done) {
    s->headers_done = 1;
    const char *cmsd = s->cmsd;
    assert_int_equal(scone_video_player_on_headers(s->p, s->now, s->id,
                                                   s->status, cmsd,
                                                   cmsd ? strlen(cmsd) : 0),
                     0);
    if (s->status >= 400) {
      s->active = 0;
      assert_int_equal(scone_video_player_on_done(s->p, s->now, s->id, 0), 0);
      return;
    }
  }
  if (s->stall && s->sent >= s->size / 2)
    return; /* the server went quiet */
  double room = (double)s->peak_bps / 8 * ((double)STEP / S);
  double wire_room = s->tokens < room ? s->tokens : room;
  uint64_t body = (uint64_t)(wire_room * 100 / WIRE_PCT);
  uint64_t paced = s->pace_bps / 8 * STEP / S;
  if (s->pace_bps && body > paced)
    body = paced;
  if (body > s->size - s->sent)
    body = s->size - s->sent;
  if (body) {
    uint64_t wire = body * WIRE_PCT / 100;
    s->tokens -= (double)wire;
    s->sent += body;
    s->win[s->now / STEP % WINDOW_STEPS] += wire;
    s->win_sum += wire;
    assert_int_equal(scone_video_player_on_data(s->p, s->now, s->id, body), 0);
  }
  if (s->sent == s->size) {
    s->active = 0;
    assert_int_equal(scone_video_player_on_done(s->p, s->now, s->id, 0), 0);
  }
}

static void run(sim *s, const scone_video_player_settings *ps,
                scone_tstamp limit) {
  scone_video_mpd *m = synth_mpd(s->content.duration, NULL);
  scone_video_player_callbacks cb = {on_segment};
  assert_int_equal(
      scone_video_player_new(&s->p, m, "/content/manifest.mpd", ps, &cb, s, 0),
      0);
  free(m);
  if (s->signal != SCONE_SIGNAL_UNKNOWN) {
    scone_advice adv = {s->signal, scone_rate_from_signal(s->signal), 0, 0};
    scone_video_player_on_advice(s->p, 0, &adv);
  }
  for (s->now = 0; s->now < limit && !s->done; s->now += STEP) {
    /* This step's slot last held the step one period ago: it leaves the
     * window. */
    uint64_t *slot = &s->win[s->now / STEP % WINDOW_STEPS];
    s->win_sum -= *slot;
    *slot = 0;
    link_step(s);
    scone_video_action a;
    while (scone_video_player_poll(s->p, s->now, &a) != SCONE_VIDEO_ACTION_NONE)
      handle(s, &a);
    if (s->allowed && s->win_sum > s->allowed)
      s->exceeded = 1;
  }
}

static json_t *qoe(sim *s) {
  static char buf[65536];
  int n = scone_video_player_qoe_json(s->p, s->now, buf, sizeof buf);
  assert_true(n > 0);
  json_error_t e;
  json_t *j = json_loads(buf, 0, &e);
  if (!j)
    fail_msg("QoE record is not JSON: %s", e.text);
  if (getenv("SCONE_VIDEO_TEST_VERBOSE"))
    printf("%s\n", buf);
  return j;
}

static double num(json_t *o, const char *k) {
  json_t *v = json_object_get(o, k);
  if (!json_is_number(v))
    fail_msg("%s missing", k);
  return json_number_value(v);
}

/* The 1.5 Mbit/s plan: advice signal 23 (1.41 Mbit/s), media cap 1.27
 * Mbit/s, less 128k of audio: 1050k is the highest rung that fits. */
#define PLAN 1500000
#define PLAN_SIGNAL 23
#define CAPPED_RUNG 4

static void test_follows_advice(void **state) {
  (void)state;
  assert_int_equal(scone_rate_to_signal(PLAN), PLAN_SIGNAL);
  sim s;
  /* A 20 Mbit/s radio, the plan with 20 s of burst allowance. */
  sim_init(&s, 20000000, PLAN, PLAN / 8 * 20, PLAN_SIGNAL);
  run(&s, NULL, 400 * S);
  assert_true(s.done);
  assert_int_equal(s.error, 0);
  scone_video_qoe q;
  scone_video_player_qoe(s.p, s.now, &q);
  /* It played everything, started, and never stalled. */
  assert_true(q.started);
  assert_true(q.played == 180 * S);
  assert_int_equal(q.stalls, 0);
  assert_int_equal(q.missing, 0);
  /* It settled on the highest rung under the cap, and never above. */
  assert_int_equal(q.top_rung, CAPPED_RUNG);
  uint32_t late = 0;
  for (int i = 0; i < SCONE_VIDEO_LADDER_RUNGS; i++)
    late += s.late_rungs[i];
  assert_true(late > 30);
  assert_int_equal(s.late_rungs[CAPPED_RUNG], late);
  /* Within the advice over every 67 s, even as the element counts it. */
  assert_false(s.exceeded);
  assert_true(q.max_bytes_67s * 8 / 67 <= scone_rate_from_signal(PLAN_SIGNAL));
  /* CMCD went with every request: rtp from the advice, su at startup, the
   * session's keys. */
  assert_true(s.saw_rtp && s.saw_su);
  assert_non_null(strstr(s.last_session, "sf=d"));
  assert_non_null(strstr(s.last_session, "sid=\""));

  json_t *j = qoe(&s);
  assert_int_equal((int)num(j, "stalls"), 0);
  assert_int_equal((int)num(j, "top_rung"), CAPPED_RUNG);
  assert_true(num(j, "startup_delay_s") > 0 && num(j, "startup_delay_s") < 5);
  json_t *adv = json_object_get(j, "advice_timeline");
  assert_int_equal(json_array_size(adv), 1);
  assert_int_equal(
      json_integer_value(json_object_get(json_array_get(adv, 0), "bps")),
      scone_rate_from_signal(PLAN_SIGNAL));
  assert_true(json_array_size(json_object_get(j, "rung_timeline")) >= 1);
  json_decref(j);
  scone_video_player_del(s.p);
}

static void test_ignore_advice(void **state) {
  (void)state;
  sim s;
  sim_init(&s, 20000000, PLAN, PLAN / 8 * 20, PLAN_SIGNAL);
  scone_video_player_settings ps;
  scone_video_player_settings_default(&ps);
  ps.use_advice = 0;
  run(&s, &ps, 600 * S);
  assert_true(s.done);
  scone_video_qoe q;
  scone_video_player_qoe(s.p, s.now, &q);
  /* It picks higher than the advice allows, and the element finds it out
   * of bounds. */
  assert_true(q.top_rung > CAPPED_RUNG);
  assert_true(s.exceeded);
  assert_true(q.max_bytes_67s * 8 / 67 > scone_rate_from_signal(PLAN_SIGNAL));
  assert_false(s.saw_rtp);
  scone_video_player_del(s.p);
}

/* A server that paces each response to the rtp asked for (scone-server
 * --pace on) makes every transfer measure the rtp. On a 3 Mbit/s plan
 * (signal 29, 2.82 Mbit/s; media cap 2.54, rtp 2500k) the cap allows
 * 2350k with the audio, but paced at 2.5 Mbit/s 2350k + 128k arrive no
 * faster than they play: the throughput rule's 0.9 of the measured rtp
 * picks 1750k, and that is the rung a paced path sustains (taking the
 * rtp as the path's capacity kept 2350k and stalled 31 times, 3.4 s in
 * all). Unpaced, the player's own budget keeps 2350k without a stall. */
static void plan_3m(sim *s, int pace, uint32_t want_rung) {
  const uint64_t plan = 3000000;
  const unsigned signal = 29;
  assert_int_equal(scone_rate_to_signal(plan), signal);
  sim_init(s, 20000000, plan, plan / 8 * 20, signal);
  s->pace = pace;
  run(s, NULL, 400 * S);
  assert_true(s->done);
  assert_int_equal(s->error, 0);
  scone_video_qoe q;
  scone_video_player_qoe(s->p, s->now, &q);
  assert_int_equal(q.stalls, 0);
  uint32_t late = 0;
  for (int i = 0; i < SCONE_VIDEO_LADDER_RUNGS; i++)
    late += s->late_rungs[i];
  assert_true(late > 30);
  /* Settled there: nine in ten after the first minute, none above. */
  assert_true(s->late_rungs[want_rung] * 10 >= late * 9);
  for (uint32_t r = want_rung + 1; r < SCONE_VIDEO_LADDER_RUNGS; r++)
    assert_int_equal(s->late_rungs[r], 0);
  assert_false(s->exceeded);
  scone_video_player_del(s->p);
}

static void test_server_paces_to_rtp(void **state) {
  (void)state;
  sim s;
  plan_3m(&s, 1, 5);
  plan_3m(&s, 0, 6);
}

/* The same plan as a plain 1.5 Mbit/s link: no burst to mislead anyone. */
static void test_plain_link(void **state) {
  (void)state;
  sim s;
  sim_init(&s, PLAN, PLAN, 3000, PLAN_SIGNAL);
  run(&s, NULL, 400 * S);
  scone_video_qoe q;
  scone_video_player_qoe(s.p, s.now, &q);
  assert_true(q.played == 180 * S);
  assert_int_equal(q.stalls, 0);
  assert_int_equal(q.top_rung, CAPPED_RUNG);
  assert_false(s.exceeded);
  scone_video_player_del(s.p);
}

static void test_advice_changes(void **state) {
  (void)state;
  sim s;
  sim_init(&s, 20000000, 100000000, 1 << 30, SCONE_SIGNAL_UNKNOWN);
  scone_video_mpd *m = synth_mpd(s.content.duration, NULL);
  scone_video_player_callbacks cb = {on_segment};
  assert_int_equal(scone_video_player_new(&s.p, m, "/content/manifest.mpd",
                                          NULL, &cb, &s, 0),
                   0);
  free(m);
  /* No advice at first, then 3.16 Mbit/s at 40 s (cap 2.84 - audio:
   * 2350k), then expiry at 110 s. */
  scone_advice high = {30, scone_rate_from_signal(30), 0, 0};
  scone_advice none = {SCONE_SIGNAL_UNKNOWN, 0, 0, 0};
  uint32_t rung_before = 0, max_during = 0;
  for (s.now = 0; s.now < 400 * S && !s.done; s.now += STEP) {
    if (s.now == 40 * S)
      scone_video_player_on_advice(s.p, s.now, &high);
    if (s.now == 110 * S)
      scone_video_player_on_advice(s.p, s.now, &none);
    if (s.now == 39 * S)
      rung_before = s.cur_rung >= 0 ? (uint32_t)s.cur_rung : 0;
    if (s.now > 70 * S && s.now < 110 * S && s.cur_rung > (int)max_during)
      max_during = (uint32_t)s.cur_rung;
    link_step(&s);
    scone_video_action a;
    while (scone_video_player_poll(s.p, s.now, &a) != SCONE_VIDEO_ACTION_NONE)
      handle(&s, &a);
  }
  scone_video_qoe q;
  scone_video_player_qoe(s.p, s.now, &q);
  assert_true(rung_before > 6);    /* a fast path, no cap */
  assert_int_equal(max_during, 6); /* the cap followed the advice */
  assert_int_equal(q.top_rung, 9); /* and lifted when it expired */
  json_t *j = qoe(&s);
  json_t *adv = json_object_get(j, "advice_timeline");
  assert_int_equal(json_array_size(adv), 2);
  assert_true(json_is_null(json_object_get(json_array_get(adv, 1), "bps")));
  json_decref(j);
  scone_video_player_del(s.p);
}

/* CMSD-Dynamic from the server: mb caps the ladder as advice does (less
 * the audio); a member without mb (scone-server's rtt alone) caps
 * nothing, however many members the decoder had room for. */
static void test_cmsd_mb(void **state) {
  (void)state;
  static const struct {
    const char *cmsd;
    uint32_t top;
  } cases[] = {
      {"\"scone-server\";rtt=40", 9},
      {"\"scone-server\";mb=1300;rtt=40", CAPPED_RUNG},
      {"\"cdn\";mb=3000, \"scone-server\";mb=1300", CAPPED_RUNG},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    sim s;
    sim_init(&s, 100000000, 100000000, 1 << 30, SCONE_SIGNAL_UNKNOWN);
    s.content.duration = 40 * S;
    s.cmsd = cases[i].cmsd;
    run(&s, NULL, 100 * S);
    assert_true(s.done);
    scone_video_qoe q;
    scone_video_player_qoe(s.p, s.now, &q);
    if (q.top_rung != cases[i].top)
      fail_msg("%s: top rung %u, want %u", cases[i].cmsd, q.top_rung,
               cases[i].top);
    scone_video_player_del(s.p);
  }
}

/* A server that stops sending for good: with stop_on_failure the first
 * segment to fail all its retries ends the session (SCONE_VIDEO_ERR_FAILED)
 * and its report says it failed; an adapter that loses its connection ends
 * it with its own error, which the record names. */
static void test_gives_up(void **state) {
  (void)state;
  sim s;
  sim_init(&s, 20000000, 100000000, 1 << 30, PLAN_SIGNAL);
  s.content.duration = 60 * S;
  s.stall_number = 6;
  s.stall_forever = 1;
  scone_video_player_settings ps;
  scone_video_player_settings_default(&ps);
  ps.stop_on_failure = 1;
  ps.request_timeout = 1 * S;
  run(&s, &ps, 120 * S);
  assert_true(s.done);
  assert_int_equal(s.error, SCONE_VIDEO_ERR_FAILED);
  scone_video_qoe q;
  scone_video_player_qoe(s.p, s.now, &q);
  assert_int_equal(q.timeouts, 4); /* the attempt and its three retries */
  assert_int_equal(s.failed_reports, 1);
  /* About 1 + 0.5 + 1 + 1 + 1 + 2 + 1 s after the stall began. */
  assert_true(s.now < 30 * S);
  json_t *j = qoe(&s);
  assert_string_equal(json_string_value(json_object_get(j, "error")),
                      scone_video_strerror(SCONE_VIDEO_ERR_FAILED));
  json_decref(j);
  scone_video_player_del(s.p);

  sim_init(&s, 20000000, 100000000, 1 << 30, PLAN_SIGNAL);
  s.content.duration = 60 * S;
  scone_video_mpd *m = synth_mpd(s.content.duration, NULL);
  scone_video_player_callbacks cb = {on_segment};
  assert_int_equal(scone_video_player_new(&s.p, m, "/content/manifest.mpd",
                                          NULL, &cb, &s, 0),
                   0);
  free(m);
  for (s.now = 0; s.now < 60 * S && !s.done; s.now += STEP) {
    if (s.now == 10 * S) {
      scone_video_player_abort(s.p, s.now, SCONE_VIDEO_ERR_CONNECTION);
      s.active = 0; /* its transfer went with the connection */
    }
    link_step(&s);
    scone_video_action a;
    while (scone_video_player_poll(s.p, s.now, &a) != SCONE_VIDEO_ACTION_NONE)
      handle(&s, &a);
  }
  assert_true(s.done);
  assert_int_equal(s.error, SCONE_VIDEO_ERR_CONNECTION);
  assert_true(s.now <= 10 * S + STEP);
  scone_video_player_del(s.p);
}

static void test_missing_and_failing(void **state) {
  (void)state;
  sim s;
  sim_init(&s, 20000000, 100000000, 1 << 30, PLAN_SIGNAL);
  s.content.duration = 60 * S;
  s.missing_rep = CAPPED_RUNG;
  s.missing_number = 20; /* a 404 in steady state */
  s.fail_number = 25;    /* a 503, then fine */
  s.stall_number = 28;   /* goes quiet halfway, then fine */
  run(&s, NULL, 300 * S);
  assert_true(s.done);
  assert_int_equal(s.error, 0);
  scone_video_qoe q;
  scone_video_player_qoe(s.p, s.now, &q);
  assert_true(q.played == 60 * S);
  assert_int_equal(q.missing, 1); /* skipped and counted */
  assert_int_equal(q.timeouts, 1);
  assert_int_equal(q.retries, 2);
  assert_int_equal(s.cancels, 1);
  assert_int_equal(s.ranges, 1); /* the stalled one resumed by range */
  scone_video_player_del(s.p);

  /* Stop instead of skipping, when asked. */
  sim_init(&s, 20000000, 100000000, 1 << 30, PLAN_SIGNAL);
  s.content.duration = 60 * S;
  s.missing_rep = CAPPED_RUNG;
  s.missing_number = 20;
  scone_video_player_settings ps;
  scone_video_player_settings_default(&ps);
  ps.stop_on_missing = 1;
  run(&s, &ps, 300 * S);
  assert_true(s.done);
  assert_int_equal(s.error, SCONE_VIDEO_ERR_SEGMENT_MISSING);
  scone_video_player_del(s.p);

  /* A rung whose init segment is missing is never played. */
  sim_init(&s, 20000000, 100000000, 1 << 30, PLAN_SIGNAL);
  s.content.duration = 40 * S;
  s.missing_rep = CAPPED_RUNG;
  s.missing_init = 1;
  run(&s, NULL, 300 * S);
  assert_true(s.done);
  assert_int_equal(s.error, 0);
  assert_int_equal(s.rung_counts[CAPPED_RUNG], 0);
  assert_true(s.rung_counts[CAPPED_RUNG - 1] > 5);
  scone_video_player_del(s.p);
}

static void test_stall_and_cmcd_query(void **state) {
  (void)state;
  /* A link too slow for the lowest rung stalls: bs is reported on the next
   * request, and query mode carries CMCD in the URL. */
  sim s;
  sim_init(&s, 300000, 300000, 3000, SCONE_SIGNAL_UNKNOWN);
  s.content.duration = 30 * S;
  scone_video_player_settings ps;
  scone_video_player_settings_default(&ps);
  ps.cmcd = SCONE_VIDEO_CMCD_QUERY;
  ps.play_limit = 20 * S;
  run(&s, &ps, 300 * S);
  assert_true(s.done);
  scone_video_qoe q;
  scone_video_player_qoe(s.p, s.now, &q);
  assert_true(q.played == 20 * S);
  assert_true(q.stalls > 0);
  assert_true(q.stall_time > 0);
  assert_true(q.rebuffering_ratio > 0 && q.rebuffering_ratio < 1);
  assert_true(s.saw_query);
  scone_video_player_del(s.p);

  sim_init(&s, 300000, 300000, 3000, SCONE_SIGNAL_UNKNOWN);
  s.content.duration = 30 * S;
  run(&s, NULL, 300 * S);
  assert_true(s.saw_bs);
  scone_video_player_del(s.p);
}

static void test_inputs_checked(void **state) {
  (void)state;
  scone_video_mpd *m = synth_mpd(20 * S, NULL);
  scone_video_player *p;
  scone_video_player_settings ps;
  scone_video_player_settings_default(&ps);
  ps.version = 7;
  assert_int_equal(scone_video_player_new(&p, m, "/m.mpd", &ps, NULL, NULL, 0),
                   SCONE_ERR_INVALID_ARGUMENT);
  /* The overhead margin's settings are checked here too, once. */
  scone_video_player_settings_default(&ps);
  ps.app.version = 0;
  assert_int_equal(scone_video_player_new(&p, m, "/m.mpd", &ps, NULL, NULL, 0),
                   SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(scone_video_player_new(&p, m, "/m.mpd", NULL, NULL, NULL, 0),
                   0);
  /* Reports for requests not in flight are refused. */
  assert_int_equal(scone_video_player_on_data(p, 0, 99, 10),
                   SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(scone_video_player_on_headers(p, 0, 99, 200, NULL, 0),
                   SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(scone_video_player_on_done(p, 0, 99, 0),
                   SCONE_ERR_INVALID_ARGUMENT);
  /* The first request: an init segment; the MPD's bytes count too. */
  scone_video_player_note_bytes(p, 0, 5000);
  scone_video_action a;
  assert_int_equal(scone_video_player_poll(p, 0, &a),
                   SCONE_VIDEO_ACTION_REQUEST);
  assert_int_equal(a.req.ot, SCONE_APP_OT_I);
  assert_string_equal(a.req.path, a.req.url);
  assert_true(a.req.nheaders >= 2);
  /* Only one in flight: nothing more until it progresses, and a timeout
   * when it does not. */
  assert_int_equal(scone_video_player_poll(p, 1 * S, &a),
                   SCONE_VIDEO_ACTION_NONE);
  assert_true(scone_video_player_wakeup(p) == 5 * S);
  assert_int_equal(scone_video_player_poll(p, 5 * S, &a),
                   SCONE_VIDEO_ACTION_CANCEL);
  scone_video_qoe q;
  scone_video_player_qoe(p, 5 * S, &q);
  assert_int_equal(q.bytes, 5000);
  scone_video_player_del(p);

  /* No video: nothing to play. */
  m->sets[0].media = SCONE_VIDEO_MEDIA_TEXT;
  assert_int_equal(scone_video_player_new(&p, m, "/m.mpd", NULL, NULL, NULL, 0),
                   SCONE_VIDEO_ERR_NO_MEDIA);
  free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_follows_advice),
      cmocka_unit_test(test_ignore_advice),
      cmocka_unit_test(test_plain_link),
      cmocka_unit_test(test_advice_changes),
      cmocka_unit_test(test_missing_and_failing),
      cmocka_unit_test(test_stall_and_cmcd_query),
      cmocka_unit_test(test_server_paces_to_rtp),
      cmocka_unit_test(test_gives_up),
      cmocka_unit_test(test_cmsd_mb),
      cmocka_unit_test(test_inputs_checked),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
