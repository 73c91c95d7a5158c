/*
 * SegmentTemplate URL templates (ISO/IEC 23009-1 5.3.9.4.4): identifiers
 * between '$' signs, numeric ones with an optional printf-like %0<width>d.
 * Checked once at parse time so that expanding one cannot fail for a
 * reason the MPD could have been refused for.
 */
#include "internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define MAX_WIDTH 32

typedef enum ident {
  ID_DOLLAR,
  ID_REP,
  ID_NUMBER,
  ID_BANDWIDTH,
  ID_TIME
} ident;

/* Reads "$...$" at tpl (pointing at the opening '$'). Returns the length
 * consumed or -1 with why set. */
static int read_ident(const char *tpl, ident *id, int *width,
                      const char **why) {
  const char *end = strchr(tpl + 1, '$');
  if (!end) {
    *why = "unterminated $identifier$";
    return -1;
  }
  size_t n = (size_t)(end - tpl - 1);
  const char *name = tpl + 1;
  const char *fmt = memchr(name, '%', n);
  size_t namelen = fmt ? (size_t)(fmt - name) : n;
  *width = 0;
  static const struct {
    const char *name;
    ident id;
  } names[] = {{"", ID_DOLLAR},
               {"RepresentationID", ID_REP},
               {"Number", ID_NUMBER},
               {"Bandwidth", ID_BANDWIDTH},
               {"Time", ID_TIME}};
  size_t i = 0;
  while (i < sizeof names / sizeof names[0] &&
         !(strlen(names[i].name) == namelen &&
           !memcmp(names[i].name, name, namelen)))
    i++;
  if (i == sizeof names / sizeof names[0]) {
    *why = "unknown $identifier$ (SubNumber and others are not supported)";
    return -1;
  }
  *id = names[i].id;
  if (fmt) {
    if (*id == ID_DOLLAR || *id == ID_REP) {
      *why = "format tag on an identifier that takes none";
      return -1;
    }
    /* "%0" width digits "d", nothing else. */
    const char *f = fmt + 1, *fend = end;
    if (f >= fend || *f != '0') {
      *why = "format tag other than %0<width>d";
      return -1;
    }
    f++;
    int w = 0, digits = 0;
    while (f < fend && *f >= '0' && *f <= '9' && w <= MAX_WIDTH) {
      w = w * 10 + (*f++ - '0');
      digits++;
    }
    if (!digits || f + 1 != fend || *f != 'd' || w < 1 || w > MAX_WIDTH) {
      *why = "format tag other than %0<width>d with width 1..32";
      return -1;
    }
    *width = w;
  }
  return (int)(end - tpl + 1);
}

/* The densest expansion is $RepresentationID$ (18 bytes to at most
 * SCONE_VIDEO_ID_MAX), so no template of SCONE_VIDEO_TEMPLATE_MAX bytes
 * can expand past a URL; the widest number is 13 bytes to 32. */
_Static_assert(SCONE_VIDEO_TEMPLATE_MAX *SCONE_VIDEO_ID_MAX / 18 <
                   SCONE_VIDEO_URL_MAX,
               "a template could expand past SCONE_VIDEO_URL_MAX");
_Static_assert(SCONE_VIDEO_TEMPLATE_MAX *MAX_WIDTH / 13 < SCONE_VIDEO_URL_MAX,
               "a template could expand past SCONE_VIDEO_URL_MAX");

int scone_video_template_check(const char *tpl, int has_timeline,
                               const char **why) {
  for (const char *p = tpl; *p;) {
    if (*p != '$') {
      p++;
      continue;
    }
    ident id;
    int width;
    int n = read_ident(p, &id, &width, why);
    if (n < 0)
      return SCONE_VIDEO_ERR_TEMPLATE;
    if (id == ID_TIME && !has_timeline) {
      *why = "$Time$ without a SegmentTimeline";
      return SCONE_VIDEO_ERR_TEMPLATE;
    }
    p += n;
  }
  return 0;
}

int scone_video_template_expand(char *buf, size_t len, const char *tpl,
                                const char *rep_id, uint64_t number,
                                uint64_t bandwidth, uint64_t time) {
  size_t off = 0;
  if (len == 0)
    return SCONE_ERR_NOBUF;
  buf[0] = '\0';
  for (const char *p = tpl; *p;) {
    char piece[MAX_WIDTH + SCONE_VIDEO_ID_MAX + 2];
    size_t n;
    if (*p != '$') {
      piece[0] = *p++;
      n = 1;
    } else {
      ident id;
      int width;
      const char *why;
      int used = read_ident(p, &id, &width, &why);
      if (used < 0)
        return SCONE_ERR_INVALID_ARGUMENT; /* not a checked template */
      p += used;
      uint64_t v = id == ID_NUMBER      ? number
                   : id == ID_BANDWIDTH ? bandwidth
                                        : time;
      if (id == ID_DOLLAR)
        n = (size_t)snprintf(piece, sizeof piece, "$");
      else if (id == ID_REP)
        n = (size_t)snprintf(piece, sizeof piece, "%s", rep_id);
      else
        n = (size_t)snprintf(piece, sizeof piece, "%0*" PRIu64, width, v);
    }
    if (off + n >= len) {
      buf[0] = '\0';
      return SCONE_ERR_NOBUF;
    }
    memcpy(buf + off, piece, n);
    off += n;
    buf[off] = '\0';
  }
  return (int)off;
}

int scone_video_id_url_safe(const char *id) {
  for (const char *p = id; *p; p++) {
    char c = *p;
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
             (c >= '0' && c <= '9') || (c && strchr("-._~!$&'()*+,;=:@", c));
    if (!ok)
      return 0;
  }
  return 1;
}
