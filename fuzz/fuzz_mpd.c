/*
 * The MPD parser on any document, and the player core on whatever it
 * accepts: a refusal carries a SCONE_VIDEO_ERR_* code and a reason and
 * leaves nothing behind; an accepted MPD is bounded as the header says
 * (counts, sorted ladders, segment times within each period, URLs within
 * SCONE_VIDEO_URL_MAX), and a player fed it plays or ends without
 * tripping over it.
 * Input: the document.
 */
#include "fuzz.h"

#include <scone/video.h>
#include <string.h>

static void check_mpd(const scone_video_mpd *m) {
  FUZZ_CHECK(m->nperiods >= 1 && m->nperiods <= SCONE_VIDEO_MAX_PERIODS);
  FUZZ_CHECK(m->nsets <= SCONE_VIDEO_MAX_SETS);
  FUZZ_CHECK(m->nreps <= SCONE_VIDEO_MAX_REPS);
  FUZZ_CHECK(m->ntimeline <= SCONE_VIDEO_MAX_TIMELINE);
  FUZZ_CHECK(m->duration <= SCONE_VIDEO_MAX_DURATION);
  for (uint32_t s = 0; s < m->nsets; s++) {
    const scone_video_set *set = &m->sets[s];
    FUZZ_CHECK(set->period < m->nperiods && set->nreps >= 1);
    FUZZ_CHECK(set->first_rep + set->nreps <= m->nreps);
    for (uint32_t r = set->first_rep + 1; r < set->first_rep + set->nreps; r++)
      FUZZ_CHECK(m->reps[r - 1].bandwidth <= m->reps[r].bandwidth);
  }
  for (uint32_t r = 0; r < m->nreps; r++) {
    const scone_video_rep *rep = &m->reps[r];
    const scone_video_period *p = &m->periods[m->sets[rep->set].period];
    FUZZ_CHECK(rep->bandwidth > 0 && rep->timescale > 0);
    FUZZ_CHECK(rep->nsegments >= 1 &&
               rep->nsegments <= SCONE_VIDEO_MAX_SEGMENTS);
    FUZZ_CHECK(rep->tl_first + rep->tl_count <= m->ntimeline);
    uint64_t idx[] = {0, rep->nsegments / 2, rep->nsegments - 1};
    scone_duration prev = 0;
    for (size_t i = 0; i < 3; i++) {
      scone_video_segment seg;
      FUZZ_CHECK(scone_video_mpd_segment(m, r, idx[i], &seg) == 0);
      FUZZ_CHECK(seg.start >= prev);
      FUZZ_CHECK(seg.duration <= p->duration);
      prev = seg.start;
      char url[SCONE_VIDEO_URL_MAX + 1];
      int n = scone_video_mpd_url(m, r, idx[i], "https://h/d/m.mpd", url,
                                  sizeof url);
      FUZZ_CHECK((n >= 0 && (size_t)n == strlen(url)) || n == SCONE_ERR_NOBUF);
    }
    scone_video_segment past;
    FUZZ_CHECK(scone_video_mpd_segment(m, r, rep->nsegments, &past) ==
               SCONE_ERR_INVALID_ARGUMENT);
  }
}

/* A server that answers everything at once, 100 ms per step. */
static void drive(const scone_video_mpd *m) {
  scone_video_player *p;
  int r = scone_video_player_new(&p, m, "/d/m.mpd", NULL, NULL, NULL, 0);
  FUZZ_CHECK(r == 0 || r == SCONE_VIDEO_ERR_NO_MEDIA);
  if (r)
    return;
  scone_advice adv = {20, scone_rate_from_signal(20), 0, 0};
  scone_video_player_on_advice(p, 0, &adv);
  scone_tstamp now = 0;
  for (int step = 0; step < 300; step++, now += 100 * SCONE_MILLISECONDS) {
    scone_video_action a;
    int type = scone_video_player_poll(p, now, &a);
    if (type == SCONE_VIDEO_ACTION_DONE)
      break;
    if (type == SCONE_VIDEO_ACTION_REQUEST) {
      FUZZ_CHECK(a.req.url && a.req.path && strlen(a.req.url) > 0);
      FUZZ_CHECK(
          scone_video_player_on_headers(p, now, a.req.id, 200, NULL, 0) == 0);
      uint64_t body =
          a.req.expected_bytes < 100000 ? a.req.expected_bytes : 100000;
      FUZZ_CHECK(scone_video_player_on_data(p, now, a.req.id, body) == 0);
      FUZZ_CHECK(scone_video_player_on_done(p, now, a.req.id, 0) == 0);
    }
  }
  char json[65536];
  FUZZ_CHECK(scone_video_player_qoe_json(p, now, json, sizeof json) > 0);
  scone_video_player_del(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static scone_video_mpd m;
  scone_video_mpd_error err;
  int r = scone_video_mpd_parse(&m, (const char *)data, size, NULL, &err);
  if (r < 0) {
    FUZZ_CHECK(r <= SCONE_VIDEO_ERR_XML && r >= SCONE_VIDEO_ERR_TOO_LARGE);
    FUZZ_CHECK(err.code == r && err.what[0] != '\0');
    FUZZ_CHECK(m.nreps == 0 && m.nperiods == 0);
    return 0;
  }
  FUZZ_CHECK(r == 0);
  check_mpd(&m);
  drive(&m);
  return 0;
}
