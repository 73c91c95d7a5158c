/*
 * Segment addressing: index to $Number$, $Time$ and media times, and to a
 * URL through the template and the BaseURL chain.
 */
#include "internal.h"

#include <string.h>

/* Past the longest presentation is as good as infinite: saturate there
 * rather than wrap. */
static scone_duration to_ns(unsigned __int128 units, uint64_t timescale) {
  unsigned __int128 ns = units * SCONE_SECONDS / timescale;
  return ns > SCONE_VIDEO_MAX_DURATION * 2 ? SCONE_VIDEO_MAX_DURATION * 2
                                           : (scone_duration)ns;
}

int scone_video_mpd_segment(const scone_video_mpd *mpd, uint32_t rep,
                            uint64_t index, scone_video_segment *out) {
  if (!mpd || !out || rep >= mpd->nreps || index >= mpd->reps[rep].nsegments)
    return SCONE_ERR_INVALID_ARGUMENT;
  const scone_video_rep *r = &mpd->reps[rep];
  const scone_video_period *p = &mpd->periods[mpd->sets[r->set].period];
  out->number = r->start_number + index;
  if (r->tl_count == 0) {
    /* $Time$ needs a timeline: without one it is only informative. */
    unsigned __int128 units = (unsigned __int128)index * r->duration;
    out->time = (uint64_t)(units + r->pto);
    out->start = to_ns(units, r->timescale);
    out->duration = to_ns(r->duration, r->timescale);
  } else {
    uint64_t left = index;
    const scone_video_timeline_entry *e = &mpd->timeline[r->tl_first];
    while (left >= e->count) {
      left -= e->count;
      e++;
    }
    out->time = e->t + left * e->d;
    out->start =
        out->time > r->pto ? to_ns(out->time - r->pto, r->timescale) : 0;
    out->duration = to_ns(e->d, r->timescale);
  }
  /* The last segment ends with the period. */
  if (out->start >= p->duration)
    out->duration = 0;
  else if (out->start + out->duration > p->duration)
    out->duration = p->duration - out->start;
  return 0;
}

int scone_video_mpd_url(const scone_video_mpd *mpd, uint32_t rep,
                        uint64_t index, const char *mpd_url, char *buf,
                        size_t len) {
  if (!mpd || !mpd_url || !buf || len == 0 || rep >= mpd->nreps)
    return SCONE_ERR_INVALID_ARGUMENT;
  const scone_video_rep *r = &mpd->reps[rep];
  const scone_video_set *s = &mpd->sets[r->set];
  const scone_video_period *p = &mpd->periods[s->period];
  char rel[SCONE_VIDEO_URL_MAX + 1];
  int n;
  if (index == SCONE_VIDEO_INIT) {
    if (!r->init[0])
      return SCONE_ERR_INVALID_ARGUMENT;
    n = scone_video_template_expand(rel, sizeof rel, r->init, r->id, 0,
                                    r->bandwidth, 0);
  } else {
    scone_video_segment seg;
    if (scone_video_mpd_segment(mpd, rep, index, &seg) < 0)
      return SCONE_ERR_INVALID_ARGUMENT;
    n = scone_video_template_expand(rel, sizeof rel, r->media, r->id,
                                    seg.number, r->bandwidth, seg.time);
  }
  if (n < 0)
    return n;
  /* mpd_url, then each level's BaseURL, then the template. */
  const char *chain[] = {mpd->base_url, p->base_url, s->base_url, r->base_url,
                         rel};
  char a[SCONE_VIDEO_URL_MAX + 1], b[SCONE_VIDEO_URL_MAX + 1];
  if (strlen(mpd_url) > SCONE_VIDEO_URL_MAX)
    return SCONE_ERR_NOBUF;
  strcpy(a, mpd_url);
  for (size_t i = 0; i < sizeof chain / sizeof chain[0]; i++) {
    if (!chain[i][0])
      continue;
    if (scone_video_url_resolve(b, sizeof b, a, chain[i]) < 0)
      return SCONE_ERR_NOBUF;
    memcpy(a, b, sizeof a);
  }
  size_t alen = strlen(a);
  if (alen >= len) {
    buf[0] = '\0';
    return SCONE_ERR_NOBUF;
  }
  memcpy(buf, a, alen + 1);
  return (int)alen;
}
