/*
 * The number syntaxes of an MPD: xs:unsignedInt/Long attributes and
 * xs:duration. Strict (no sign, no spaces, no exponent) because a lenient
 * strtoull would read "-1" as 2^64-1 and "1e9" as 1.
 */
#include "internal.h"

int scone_video_parse_u64(const char *s, uint64_t max, uint64_t *out) {
  if (!s || !*s)
    return SCONE_VIDEO_ERR_VALUE;
  uint64_t v = 0;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9')
      return SCONE_VIDEO_ERR_VALUE;
    unsigned d = (unsigned)(*p - '0');
    if (v > (max - d) / 10)
      return SCONE_VIDEO_ERR_RANGE;
    v = v * 10 + d;
  }
  *out = v;
  return 0;
}

/* Digits of one component, and the fraction when allowed (seconds). The
 * value is kept in nanoseconds of unit so that it cannot overflow: any
 * component past the maximum duration is out of range on its own. */
static int component(const char **pp, scone_duration unit, int frac_ok,
                     unsigned __int128 *acc) {
  const char *p = *pp;
  unsigned __int128 whole = 0;
  int digits = 0;
  while (*p >= '0' && *p <= '9') {
    whole = whole * 10 + (unsigned)(*p++ - '0');
    if (whole * unit > SCONE_VIDEO_MAX_DURATION)
      return SCONE_VIDEO_ERR_RANGE;
    digits++;
  }
  if (!digits)
    return SCONE_VIDEO_ERR_VALUE;
  unsigned __int128 v = whole * unit;
  if (*p == '.' && frac_ok) {
    p++;
    scone_duration scale = unit / 10;
    int fdigits = 0;
    while (*p >= '0' && *p <= '9') {
      v += (unsigned)(*p++ - '0') * (unsigned __int128)scale;
      scale /= 10;
      fdigits++;
    }
    if (!fdigits)
      return SCONE_VIDEO_ERR_VALUE;
  }
  *acc += v;
  *pp = p;
  return 0;
}

int scone_video_parse_duration(const char *s, scone_duration *out) {
  static const struct {
    char designator;
    int time_part; /* after 'T' */
    scone_duration unit;
  } parts[] = {
      {'Y', 0, 365 * 86400 * SCONE_SECONDS},
      {'M', 0, 30 * 86400 * SCONE_SECONDS},
      {'D', 0, 86400 * SCONE_SECONDS},
      {'H', 1, 3600 * SCONE_SECONDS},
      {'M', 1, 60 * SCONE_SECONDS},
      {'S', 1, SCONE_SECONDS},
  };
  if (!s)
    return SCONE_VIDEO_ERR_VALUE;
  if (*s == '-')
    return SCONE_VIDEO_ERR_RANGE; /* negative durations mean nothing here */
  if (*s++ != 'P')
    return SCONE_VIDEO_ERR_VALUE;
  unsigned __int128 acc = 0;
  size_t next = 0;
  int in_time = 0, any = 0, any_time = 0;
  while (*s) {
    if (*s == 'T') {
      if (in_time)
        return SCONE_VIDEO_ERR_VALUE;
      in_time = 1;
      s++;
      while (next < sizeof parts / sizeof parts[0] && !parts[next].time_part)
        next++;
      continue;
    }
    /* Find the designator ending this component to know its unit. */
    const char *d = s;
    while ((*d >= '0' && *d <= '9') || *d == '.')
      d++;
    size_t i = next;
    while (i < sizeof parts / sizeof parts[0] &&
           !(parts[i].designator == *d && parts[i].time_part == in_time))
      i++;
    if (i == sizeof parts / sizeof parts[0])
      return SCONE_VIDEO_ERR_VALUE; /* unknown, repeated or out of order */
    int r = component(&s, parts[i].unit, parts[i].designator == 'S', &acc);
    if (r < 0)
      return r;
    if (*s != parts[i].designator)
      return SCONE_VIDEO_ERR_VALUE;
    s++;
    next = i + 1;
    any = 1;
    any_time |= in_time;
    if (acc > SCONE_VIDEO_MAX_DURATION)
      return SCONE_VIDEO_ERR_RANGE;
  }
  if (!any || (in_time && !any_time))
    return SCONE_VIDEO_ERR_VALUE;
  *out = (scone_duration)acc;
  return 0;
}
