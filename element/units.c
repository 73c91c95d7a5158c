/* Number parsing for the config file and the command line (units.h). */
#include "units.h"

#include "config.h"

#include <string.h>
#include <strings.h>

/* Reads digits with an optional fraction as value * 10^frac_digits. */
static const char *read_decimal(const char *s, uint64_t *mant,
                                unsigned *frac_digits) {
  uint64_t v = 0;
  unsigned frac = 0, digits = 0;
  int seen_dot = 0;
  for (;; s++) {
    if (*s >= '0' && *s <= '9') {
      if (v > (UINT64_MAX - 9) / 10)
        return NULL;
      v = v * 10 + (uint64_t)(*s - '0');
      digits++;
      if (seen_dot)
        frac++;
    } else if (*s == '.' && !seen_dot) {
      seen_dot = 1;
    } else {
      break;
    }
  }
  if (digits == 0 || (seen_dot && frac == 0))
    return NULL;
  *mant = v;
  *frac_digits = frac;
  return s;
}

/* mant / 10^frac * mult, required to be whole and to fit. */
static int scale(uint64_t mant, unsigned frac, uint64_t mult, uint64_t *out) {
  unsigned __int128 v = (unsigned __int128)mant * mult;
  for (unsigned i = 0; i < frac; i++) {
    if (v % 10)
      return -1;
    v /= 10;
  }
  if (v > UINT64_MAX)
    return -1;
  *out = (uint64_t)v;
  return 0;
}

static int parse_with(const char *s, const char *const *units,
                      const uint64_t *mults, size_t nunits, uint64_t *out) {
  uint64_t mant;
  unsigned frac;
  const char *rest = read_decimal(s, &mant, &frac);
  if (!rest)
    return -1;
  for (size_t i = 0; i < nunits; i++)
    if (!strcasecmp(rest, units[i]))
      return scale(mant, frac, mults[i], out);
  return -1;
}

int sconed_parse_bps(const char *s, uint64_t *out) {
  static const char *const u[] = {
      "",     "bps", "bit",  "k",    "kbps",  "kbit",   "m",      "mbps",
      "mbit", "g",   "gbps", "gbit", "bit/s", "kbit/s", "mbit/s", "gbit/s"};
  static const uint64_t m[] = {1,   1,   1,   1000, 1000, 1000, 1e6, 1e6,
                               1e6, 1e9, 1e9, 1e9,  1,    1000, 1e6, 1e9};
  return parse_with(s, u, m, sizeof(u) / sizeof(u[0]), out);
}

int sconed_parse_bytes(const char *s, uint64_t *out) {
  static const char *const u[] = {"", "b", "k", "kb", "m", "mb"};
  static const uint64_t m[] = {1, 1, 1000, 1000, 1000000, 1000000};
  return parse_with(s, u, m, sizeof(u) / sizeof(u[0]), out);
}

int sconed_parse_duration(const char *s, uint64_t *out) {
  static const char *const u[] = {"ns", "us", "ms", "s", "min"};
  static const uint64_t m[] = {1, 1000, 1000000, 1000000000ULL, 60000000000ULL};
  return parse_with(s, u, m, sizeof(u) / sizeof(u[0]), out);
}

int sconed_parse_uint(const char *s, uint64_t max, uint64_t *out) {
  uint64_t v = 0;
  if (!*s)
    return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      return -1;
    uint64_t d = (uint64_t)(*s - '0');
    /* max - d would wrap for a digit above a small max (9 of 2..8). */
    if (v > max / 10 || d > max - v * 10)
      return -1;
    v = v * 10 + d;
  }
  *out = v;
  return 0;
}

const char *sconed_enforce_name(sconed_enforce e) {
  switch (e) {
  case SCONED_ENFORCE_POLICE:
    return "police";
  case SCONED_ENFORCE_SHAPE:
    return "shape";
  default:
    return "none";
  }
}

int sconed_enforce_parse(const char *s, sconed_enforce *out) {
  if (!strcmp(s, "none"))
    *out = SCONED_ENFORCE_NONE;
  else if (!strcmp(s, "police"))
    *out = SCONED_ENFORCE_POLICE;
  else if (!strcmp(s, "shape"))
    *out = SCONED_ENFORCE_SHAPE;
  else
    return -1;
  return 0;
}
