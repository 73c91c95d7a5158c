/*
 * MPD parsing with libxml2. A maintained, fuzzed XML parser handles the
 * syntax (encodings, entities, comments, CDATA, namespaces), so this file
 * only walks the tree; libxml2 runs with network access off, no entity
 * substitution, no DTD loading, its default size and depth limits, and
 * documents with a DOCTYPE are refused outright.
 *
 * Everything from the document is bounded before it is stored: numbers by
 * range, strings by length, element counts by the SCONE_VIDEO_MAX_*
 * limits, templates by the length they can expand to. A refusal names the
 * element's line and the reason.
 */
#include "internal.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define XLINK_NS "http://www.w3.org/1999/xlink"

/* A SegmentTemplate's attributes, merged down the hierarchy: a lower
 * level overrides the attributes it sets (ISO/IEC 23009-1 5.3.9.1). */
typedef struct tmpl {
  int seen;
  int has_media, has_init, has_timescale, has_duration, has_start, has_pto;
  char media[SCONE_VIDEO_TEMPLATE_MAX + 1];
  char init[SCONE_VIDEO_TEMPLATE_MAX + 1];
  uint64_t timescale, duration, start_number, pto;
  xmlNode *timeline;
  int addressing_other; /* SegmentBase or SegmentList met on the way */
} tmpl;

typedef struct ctx {
  scone_video_mpd *mpd;
  scone_video_mpd_error *err;
  scone_duration period_start, period_duration;
  /* The timeline entries of the last SegmentTimeline element expanded,
   * shared by the representations that inherit it. */
  xmlNode *tl_node;
  uint64_t tl_timescale, tl_pto;
  uint32_t tl_first, tl_count;
  uint64_t tl_segments;
} ctx;

static int fail(ctx *c, const xmlNode *n, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(ctx *c, const xmlNode *n, int code, const char *fmt, ...) {
  if (c->err) {
    c->err->code = code;
    c->err->line = n ? (int)xmlGetLineNo(n) : 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err->what, sizeof c->err->what, fmt, ap);
    va_end(ap);
  }
  return code;
}

static int is_elem(const xmlNode *n, const char *name) {
  return n->type == XML_ELEMENT_NODE &&
         xmlStrcmp(n->name, (const xmlChar *)name) == 0;
}

static xmlNode *first_child(const xmlNode *n, const char *name) {
  for (xmlNode *k = n->children; k; k = k->next)
    if (is_elem(k, name))
      return k;
  return NULL;
}

/* Copies attribute name into out: 1 when present, 0 when absent, or an
 * error when longer than cap - 1. */
static int attr_str(ctx *c, xmlNode *n, const char *name, char *out,
                    size_t cap) {
  xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
  if (!v)
    return 0;
  size_t len = strlen((const char *)v);
  if (len >= cap) {
    xmlFree(v);
    return fail(c, n, SCONE_VIDEO_ERR_RANGE, "<%s> @%s: longer than %zu bytes",
                (const char *)n->name, name, cap - 1);
  }
  memcpy(out, v, len + 1);
  xmlFree(v);
  return 1;
}

/* An unsigned attribute in 0..max: 1 present, 0 absent, or an error. */
static int attr_u64(ctx *c, xmlNode *n, const char *name, uint64_t max,
                    uint64_t *out) {
  char s[32];
  int r = attr_str(c, n, name, s, sizeof s);
  if (r == SCONE_VIDEO_ERR_RANGE)
    return fail(c, n, SCONE_VIDEO_ERR_RANGE, "<%s> @%s: number too long",
                (const char *)n->name, name);
  if (r <= 0)
    return r;
  r = scone_video_parse_u64(s, max, out);
  if (r < 0)
    return fail(c, n, r, "<%s> @%s=\"%s\": %s", (const char *)n->name, name, s,
                r == SCONE_VIDEO_ERR_RANGE ? "above the limit"
                                           : "not a number");
  return 1;
}

static int attr_duration(ctx *c, xmlNode *n, const char *name,
                         scone_duration *out) {
  char s[64];
  int r = attr_str(c, n, name, s, sizeof s);
  if (r <= 0)
    return r;
  r = scone_video_parse_duration(s, out);
  if (r < 0)
    return fail(c, n, r, "<%s> @%s=\"%s\": %s", (const char *)n->name, name, s,
                r == SCONE_VIDEO_ERR_RANGE ? "out of range"
                                           : "not an xs:duration");
  return 1;
}

/* The first BaseURL child's text, trimmed, into out ("" when none). */
static int base_url(ctx *c, xmlNode *n, char *out) {
  out[0] = '\0';
  xmlNode *b = first_child(n, "BaseURL");
  if (!b)
    return 0;
  xmlChar *v = xmlNodeGetContent(b);
  if (!v)
    return 0;
  const char *s = (const char *)v;
  while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
    s++;
  size_t len = strlen(s);
  while (len && strchr(" \t\n\r", s[len - 1]))
    len--;
  if (len > SCONE_VIDEO_URL_MAX) {
    xmlFree(v);
    return fail(c, b, SCONE_VIDEO_ERR_RANGE, "<BaseURL> longer than %d bytes",
                SCONE_VIDEO_URL_MAX);
  }
  memcpy(out, s, len);
  out[len] = '\0';
  xmlFree(v);
  return 0;
}

/* Merges the SegmentTemplate child of n (if any) over t. */
static int merge_template(ctx *c, xmlNode *n, tmpl *t) {
  if (first_child(n, "SegmentBase") || first_child(n, "SegmentList"))
    t->addressing_other = 1;
  xmlNode *st = first_child(n, "SegmentTemplate");
  if (!st)
    return 0;
  t->seen = 1;
  int r;
  if ((r = attr_str(c, st, "media", t->media, sizeof t->media)) < 0)
    return r;
  t->has_media |= r;
  if ((r = attr_str(c, st, "initialization", t->init, sizeof t->init)) < 0)
    return r;
  t->has_init |= r;
  if ((r = attr_u64(c, st, "timescale", 1ULL << 40, &t->timescale)) < 0)
    return r;
  t->has_timescale |= r;
  if ((r = attr_u64(c, st, "duration", 1ULL << 53, &t->duration)) < 0)
    return r;
  t->has_duration |= r;
  if ((r = attr_u64(c, st, "startNumber", 1ULL << 53, &t->start_number)) < 0)
    return r;
  t->has_start |= r;
  if ((r = attr_u64(c, st, "presentationTimeOffset", 1ULL << 62, &t->pto)) < 0)
    return r;
  t->has_pto |= r;
  xmlNode *tl = first_child(st, "SegmentTimeline");
  if (tl)
    t->timeline = tl;
  return 0;
}

/* Period end in timescale units. */
static unsigned __int128 period_end_units(const ctx *c, uint64_t timescale,
                                          uint64_t pto) {
  return (unsigned __int128)c->period_duration * timescale / SCONE_SECONDS +
         pto;
}

/* Expands a SegmentTimeline into mpd->timeline entries. */
static int expand_timeline(ctx *c, xmlNode *tl, uint64_t timescale,
                           uint64_t pto, uint32_t *first, uint32_t *count,
                           uint64_t *segments) {
  if (c->tl_node == tl && c->tl_timescale == timescale && c->tl_pto == pto) {
    *first = c->tl_first, *count = c->tl_count, *segments = c->tl_segments;
    return 0;
  }
  scone_video_mpd *m = c->mpd;
  unsigned __int128 end = period_end_units(c, timescale, pto);
  uint64_t t = 0, total = 0;
  int have_t = 0;
  *first = m->ntimeline;
  for (xmlNode *s = tl->children; s; s = s->next) {
    if (!is_elem(s, "S"))
      continue;
    uint64_t st, d;
    int r = attr_u64(c, s, "t", 1ULL << 62, &st);
    if (r < 0)
      return r;
    if (r) {
      if (have_t && st < t)
        return fail(c, s, SCONE_VIDEO_ERR_VALUE, "<S> @t goes back in time");
      t = st;
    }
    have_t = 1;
    if ((r = attr_u64(c, s, "d", 1ULL << 62, &d)) < 0)
      return r;
    if (!r || d == 0)
      return fail(c, s, SCONE_VIDEO_ERR_MISSING, "<S> without a positive @d");
    char rs[24];
    if ((r = attr_str(c, s, "r", rs, sizeof rs)) < 0)
      return r;
    uint64_t count = 1;
    if (r && strcmp(rs, "-1") == 0) {
      /* Until the next S's @t, or the end of the period. */
      unsigned __int128 until = end;
      for (xmlNode *k = s->next; k; k = k->next)
        if (is_elem(k, "S")) {
          uint64_t nt;
          if (attr_u64(c, k, "t", 1ULL << 62, &nt) == 1)
            until = nt;
          break;
        }
      count = until > t ? (uint64_t)((until - t + d - 1) / d) : 0;
      if (count > SCONE_VIDEO_MAX_SEGMENTS)
        return fail(c, s, SCONE_VIDEO_ERR_LIMIT,
                    "<S r=\"-1\"> repeats past %d segments",
                    SCONE_VIDEO_MAX_SEGMENTS);
    } else if (r) {
      uint64_t rv;
      int e = scone_video_parse_u64(rs, SCONE_VIDEO_MAX_SEGMENTS, &rv);
      if (e < 0)
        return fail(c, s, e, "<S> @r=\"%s\": %s", rs,
                    e == SCONE_VIDEO_ERR_RANGE ? "above the segment limit"
                                               : "neither -1 nor a count");
      count = rv + 1;
    }
    /* Only segments that start within the period exist. */
    if ((unsigned __int128)t >= end)
      break;
    uint64_t fit = (uint64_t)((end - t + d - 1) / d);
    if (count > fit)
      count = fit;
    if (count == 0)
      continue;
    if (m->ntimeline == SCONE_VIDEO_MAX_TIMELINE)
      return fail(c, s, SCONE_VIDEO_ERR_LIMIT, "more than %d <S> entries",
                  SCONE_VIDEO_MAX_TIMELINE);
    total += count;
    if (total > SCONE_VIDEO_MAX_SEGMENTS)
      return fail(c, s, SCONE_VIDEO_ERR_LIMIT, "more than %d segments",
                  SCONE_VIDEO_MAX_SEGMENTS);
    unsigned __int128 next =
        (unsigned __int128)t + (unsigned __int128)d * count;
    if (next > (1ULL << 62))
      return fail(c, s, SCONE_VIDEO_ERR_RANGE, "<S> times past 2^62");
    m->timeline[m->ntimeline++] = (scone_video_timeline_entry){t, d, count};
    t = (uint64_t)next;
  }
  *count = m->ntimeline - *first;
  *segments = total;
  if (total == 0)
    return fail(c, tl, SCONE_VIDEO_ERR_MISSING,
                "<SegmentTimeline> with no segment in the period");
  c->tl_node = tl, c->tl_timescale = timescale, c->tl_pto = pto;
  c->tl_first = *first, c->tl_count = *count, c->tl_segments = total;
  return 0;
}

/* Fills a representation's addressing from its merged template. */
static int addressing(ctx *c, xmlNode *n, scone_video_rep *r, const tmpl *t) {
  if (!t->seen)
    return fail(c, n,
                t->addressing_other ? SCONE_VIDEO_ERR_UNSUPPORTED
                                    : SCONE_VIDEO_ERR_MISSING,
                "Representation \"%s\": %s", r->id,
                t->addressing_other
                    ? "SegmentBase/SegmentList addressing is not supported"
                    : "no SegmentTemplate");
  if (!t->has_media)
    return fail(c, n, SCONE_VIDEO_ERR_MISSING,
                "Representation \"%s\": SegmentTemplate without @media", r->id);
  memcpy(r->media, t->media, sizeof r->media);
  memcpy(r->init, t->has_init ? t->init : "", t->has_init ? sizeof r->init : 1);
  r->timescale = t->has_timescale ? t->timescale : 1;
  if (r->timescale == 0)
    return fail(c, n, SCONE_VIDEO_ERR_RANGE,
                "Representation \"%s\": @timescale 0", r->id);
  r->start_number = t->has_start ? t->start_number : 1;
  r->pto = t->has_pto ? t->pto : 0;
  const char *why = NULL;
  if (scone_video_template_check(r->media, t->timeline != NULL, &why) < 0 ||
      scone_video_template_check(r->init, 0, &why) < 0)
    return fail(c, n, SCONE_VIDEO_ERR_TEMPLATE, "Representation \"%s\": %s",
                r->id, why);
  if ((strstr(r->media, "$RepresentationID$") ||
       strstr(r->init, "$RepresentationID$")) &&
      !scone_video_id_url_safe(r->id))
    return fail(c, n, SCONE_VIDEO_ERR_VALUE,
                "Representation @id has characters a URL cannot carry");

  if (t->timeline) {
    r->duration = 0;
    return expand_timeline(c, t->timeline, r->timescale, r->pto, &r->tl_first,
                           &r->tl_count, &r->nsegments);
  }
  if (!t->has_duration || t->duration == 0)
    return fail(c, n, SCONE_VIDEO_ERR_MISSING,
                "Representation \"%s\": SegmentTemplate without @duration or "
                "SegmentTimeline",
                r->id);
  r->duration = t->duration;
  unsigned __int128 units =
      (unsigned __int128)c->period_duration * r->timescale;
  unsigned __int128 per = (unsigned __int128)r->duration * SCONE_SECONDS;
  unsigned __int128 nseg = (units + per - 1) / per;
  if (nseg > SCONE_VIDEO_MAX_SEGMENTS)
    return fail(c, n, SCONE_VIDEO_ERR_LIMIT,
                "Representation \"%s\": more than %d segments", r->id,
                SCONE_VIDEO_MAX_SEGMENTS);
  r->nsegments = (uint64_t)nseg;
  return 0;
}

static scone_video_media media_of(const char *content_type, const char *mime) {
  const char *s = content_type[0] ? content_type : mime;
  if (!strncmp(s, "video", 5))
    return SCONE_VIDEO_MEDIA_VIDEO;
  if (!strncmp(s, "audio", 5))
    return SCONE_VIDEO_MEDIA_AUDIO;
  if (!strncmp(s, "text", 4) || strstr(s, "ttml") || strstr(s, "vtt"))
    return SCONE_VIDEO_MEDIA_TEXT;
  return SCONE_VIDEO_MEDIA_OTHER;
}

/* Inheritable Representation attributes, set level first. */
typedef struct common {
  char mime[SCONE_VIDEO_STR_MAX + 1], codecs[SCONE_VIDEO_STR_MAX + 1];
  uint64_t width, height;
} common;

static int read_common(ctx *c, xmlNode *n, common *k) {
  int r;
  if ((r = attr_str(c, n, "mimeType", k->mime, sizeof k->mime)) < 0 ||
      (r = attr_str(c, n, "codecs", k->codecs, sizeof k->codecs)) < 0 ||
      (r = attr_u64(c, n, "width", 65535, &k->width)) < 0 ||
      (r = attr_u64(c, n, "height", 65535, &k->height)) < 0)
    return r;
  return 0;
}

static int parse_rep(ctx *c, xmlNode *n, uint32_t set, const common *inherit,
                     tmpl t) {
  scone_video_mpd *m = c->mpd;
  if (m->nreps == SCONE_VIDEO_MAX_REPS)
    return fail(c, n, SCONE_VIDEO_ERR_LIMIT, "more than %d Representations",
                SCONE_VIDEO_MAX_REPS);
  scone_video_rep *r = &m->reps[m->nreps];
  memset(r, 0, sizeof *r);
  r->set = set;
  int e = attr_str(c, n, "id", r->id, sizeof r->id);
  if (e < 0)
    return e;
  if (e == 0 || r->id[0] == '\0')
    return fail(c, n, SCONE_VIDEO_ERR_MISSING, "Representation without @id");
  if ((e = attr_u64(c, n, "bandwidth", 1000000000000ULL, &r->bandwidth)) < 0)
    return e;
  if (e == 0 || r->bandwidth == 0)
    return fail(c, n, SCONE_VIDEO_ERR_MISSING,
                "Representation \"%s\" without a positive @bandwidth", r->id);
  common k = *inherit;
  if ((e = read_common(c, n, &k)) < 0)
    return e;
  memcpy(r->mime, k.mime, sizeof r->mime);
  memcpy(r->codecs, k.codecs, sizeof r->codecs);
  r->width = (uint32_t)k.width;
  r->height = (uint32_t)k.height;
  if ((e = base_url(c, n, r->base_url)) < 0 ||
      (e = merge_template(c, n, &t)) < 0 || (e = addressing(c, n, r, &t)) < 0)
    return e;
  m->nreps++;
  return 0;
}

/* Stable insertion sort of a set's representations by bandwidth, so that
 * a rung index is a ladder position. */
static void sort_reps(scone_video_mpd *m, uint32_t first, uint32_t n) {
  for (uint32_t i = first + 1; i < first + n; i++) {
    scone_video_rep tmp = m->reps[i];
    uint32_t j = i;
    while (j > first && m->reps[j - 1].bandwidth > tmp.bandwidth) {
      m->reps[j] = m->reps[j - 1];
      j--;
    }
    m->reps[j] = tmp;
  }
}

static int parse_set(ctx *c, xmlNode *n, uint32_t period, tmpl t) {
  scone_video_mpd *m = c->mpd;
  if (m->nsets == SCONE_VIDEO_MAX_SETS)
    return fail(c, n, SCONE_VIDEO_ERR_LIMIT, "more than %d AdaptationSets",
                SCONE_VIDEO_MAX_SETS);
  uint32_t si = m->nsets++;
  scone_video_set *s = &m->sets[si];
  memset(s, 0, sizeof *s);
  s->period = period;
  s->first_rep = m->nreps;
  common k;
  memset(&k, 0, sizeof k);
  char content_type[16] = "";
  int e;
  if ((e = read_common(c, n, &k)) < 0 ||
      (e = attr_str(c, n, "contentType", content_type, sizeof content_type)) <
          0 ||
      (e = base_url(c, n, s->base_url)) < 0 ||
      (e = merge_template(c, n, &t)) < 0)
    return e;
  for (xmlNode *r = n->children; r; r = r->next)
    if (is_elem(r, "Representation") && (e = parse_rep(c, r, si, &k, t)) < 0)
      return e;
  s->nreps = m->nreps - s->first_rep;
  if (s->nreps == 0)
    return fail(c, n, SCONE_VIDEO_ERR_MISSING,
                "AdaptationSet without Representation");
  s->media = media_of(content_type, m->reps[s->first_rep].mime);
  sort_reps(m, s->first_rep, s->nreps);
  return 0;
}

/* Period starts and durations (5.3.2.1): a start is @start or the end of
 * the previous period; a duration is @duration, or up to the next start,
 * or up to the presentation's end. */
static int period_times(ctx *c, xmlNode **pn, uint32_t n, int has_mpd_dur,
                        scone_duration mpd_dur) {
  scone_video_period *p = c->mpd->periods;
  int has_dur[SCONE_VIDEO_MAX_PERIODS] = {0};
  scone_duration start[SCONE_VIDEO_MAX_PERIODS + 1];
  int has_start[SCONE_VIDEO_MAX_PERIODS + 1] = {0};
  for (uint32_t i = 0; i < n; i++) {
    int r = attr_duration(c, pn[i], "start", &start[i]);
    if (r < 0)
      return r;
    has_start[i] = r;
    if ((r = attr_duration(c, pn[i], "duration", &p[i].duration)) < 0)
      return r;
    has_dur[i] = r;
  }
  for (uint32_t i = 0; i < n; i++) {
    if (!has_start[i]) {
      if (i > 0 && !has_dur[i - 1])
        return fail(c, pn[i], SCONE_VIDEO_ERR_MISSING,
                    "Period start unknown (no @start, and the previous "
                    "Period has no @duration)");
      start[i] = i == 0 ? 0 : p[i - 1].start + p[i - 1].duration;
      has_start[i] = 1;
    }
    p[i].start = start[i];
    if (i > 0 && p[i].start < p[i - 1].start)
      return fail(c, pn[i], SCONE_VIDEO_ERR_VALUE,
                  "Period starts before the previous one");
    if (!has_dur[i]) {
      scone_duration end;
      if (i + 1 < n && attr_duration(c, pn[i + 1], "start", &end) == 1)
        ;
      else if (i + 1 == n && has_mpd_dur)
        end = mpd_dur;
      else
        return fail(c, pn[i], SCONE_VIDEO_ERR_MISSING,
                    "Period duration unknown");
      if (end <= p[i].start)
        return fail(c, pn[i], SCONE_VIDEO_ERR_VALUE,
                    "Period ends before it starts");
      p[i].duration = end - p[i].start;
    }
    if (p[i].duration == 0)
      return fail(c, pn[i], SCONE_VIDEO_ERR_VALUE, "Period of zero duration");
    if (p[i].start + p[i].duration > SCONE_VIDEO_MAX_DURATION)
      return fail(c, pn[i], SCONE_VIDEO_ERR_RANGE,
                  "Period ends past the longest presentation supported");
  }
  return 0;
}

static int parse_root(ctx *c, xmlNode *root) {
  scone_video_mpd *m = c->mpd;
  if (!root || !is_elem(root, "MPD"))
    return fail(c, root, SCONE_VIDEO_ERR_NOT_MPD,
                "the root element is not MPD");
  char type[16];
  int e = attr_str(c, root, "type", type, sizeof type);
  if (e < 0)
    return e;
  if (e && strcmp(type, "static") != 0)
    return fail(c, root, SCONE_VIDEO_ERR_UNSUPPORTED,
                "MPD @type=\"%s\": only static presentations are supported",
                type);
  scone_duration mpd_dur = 0;
  int has_mpd_dur;
  if ((has_mpd_dur =
           attr_duration(c, root, "mediaPresentationDuration", &mpd_dur)) < 0 ||
      (e = attr_duration(c, root, "minBufferTime", &m->min_buffer_time)) < 0 ||
      (e = base_url(c, root, m->base_url)) < 0)
    return has_mpd_dur < 0 ? has_mpd_dur : e;

  xmlNode *pn[SCONE_VIDEO_MAX_PERIODS];
  uint32_t n = 0;
  for (xmlNode *k = root->children; k; k = k->next) {
    if (!is_elem(k, "Period"))
      continue;
    if (n == SCONE_VIDEO_MAX_PERIODS)
      return fail(c, k, SCONE_VIDEO_ERR_LIMIT, "more than %d Periods",
                  SCONE_VIDEO_MAX_PERIODS);
    if (xmlHasNsProp(k, (const xmlChar *)"href", (const xmlChar *)XLINK_NS))
      return fail(c, k, SCONE_VIDEO_ERR_UNSUPPORTED,
                  "remote Period (xlink:href) is not supported");
    pn[n++] = k;
  }
  if (n == 0)
    return fail(c, root, SCONE_VIDEO_ERR_MISSING, "MPD without Period");
  if ((e = period_times(c, pn, n, has_mpd_dur > 0, mpd_dur)) < 0)
    return e;

  for (uint32_t i = 0; i < n; i++) {
    scone_video_period *p = &m->periods[i];
    if ((e = attr_str(c, pn[i], "id", p->id, sizeof p->id)) < 0 ||
        (e = base_url(c, pn[i], p->base_url)) < 0)
      return e;
    tmpl t;
    memset(&t, 0, sizeof t);
    if ((e = merge_template(c, pn[i], &t)) < 0)
      return e;
    c->period_start = p->start;
    c->period_duration = p->duration;
    c->tl_node = NULL;
    p->first_set = m->nsets;
    for (xmlNode *a = pn[i]->children; a; a = a->next)
      if (is_elem(a, "AdaptationSet") && (e = parse_set(c, a, i, t)) < 0)
        return e;
    p->nsets = m->nsets - p->first_set;
    m->nperiods++;
  }
  const scone_video_period *last = &m->periods[n - 1];
  m->duration = has_mpd_dur ? mpd_dur : last->start + last->duration;
  return 0;
}

void scone_video_mpd_settings_default(scone_video_mpd_settings *s) {
  s->version = SCONE_VIDEO_MPD_SETTINGS_V1;
  s->max_bytes = 1 << 20;
}

int scone_video_mpd_parse(scone_video_mpd *mpd, const char *xml, size_t len,
                          const scone_video_mpd_settings *settings,
                          scone_video_mpd_error *err) {
  scone_video_mpd_settings s;
  scone_video_mpd_settings_default(&s);
  if (settings) {
    if (settings->version != SCONE_VIDEO_MPD_SETTINGS_V1)
      return SCONE_ERR_INVALID_ARGUMENT;
    s = *settings;
  }
  if (err)
    memset(err, 0, sizeof *err);
  ctx c = {.mpd = mpd, .err = err};
  if (!mpd || (!xml && len))
    return SCONE_ERR_INVALID_ARGUMENT;
  memset(mpd, 0, sizeof *mpd);
  if (len > s.max_bytes || len > INT32_MAX)
    return fail(&c, NULL, SCONE_VIDEO_ERR_TOO_LARGE,
                "document of %zu bytes, limit %zu", len, s.max_bytes);
  /* Refused before libxml2 sees it: the input is read as UTF-8 (forced
   * below), so the declaration cannot hide in another encoding. */
  if ((len >= 9 && memmem(xml, len, "<!DOCTYPE", 9)) ||
      (len >= 8 && memmem(xml, len, "<!ENTITY", 8)))
    return fail(&c, NULL, SCONE_VIDEO_ERR_UNSUPPORTED,
                "DOCTYPE or ENTITY declarations are not allowed in an MPD");

  xmlInitParser();
  xmlParserCtxtPtr px = xmlNewParserCtxt();
  if (!px)
    return fail(&c, NULL, SCONE_ERR_NOBUF, "out of memory");
  xmlDocPtr doc = xmlCtxtReadMemory(
      px, xml ? xml : "", (int)len, "mpd.xml", "UTF-8",
      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  int r;
  if (!doc) {
    const xmlError *e = xmlCtxtGetLastError(px);
    r = SCONE_VIDEO_ERR_XML;
    if (err) {
      err->code = r;
      err->line = e ? e->line : 0;
      snprintf(err->what, sizeof err->what, "XML: %s",
               e && e->message ? e->message : "parse error");
      /* libxml2's messages end in a newline. */
      err->what[strcspn(err->what, "\n")] = '\0';
    }
  } else if (doc->intSubset || doc->extSubset) {
    r = fail(&c, NULL, SCONE_VIDEO_ERR_UNSUPPORTED,
             "DOCTYPE declarations are not allowed in an MPD");
  } else {
    r = parse_root(&c, xmlDocGetRootElement(doc));
  }
  xmlFreeDoc(doc);
  xmlFreeParserCtxt(px);
  if (r < 0)
    memset(mpd, 0, sizeof *mpd);
  return r;
}

int scone_video_mpd_find_set(const scone_video_mpd *mpd, uint32_t period,
                             scone_video_media media) {
  if (!mpd || period >= mpd->nperiods)
    return -1;
  const scone_video_period *p = &mpd->periods[period];
  for (uint32_t i = p->first_set; i < p->first_set + p->nsets; i++)
    if (mpd->sets[i].media == media)
      return (int)i;
  return -1;
}
