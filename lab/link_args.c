/*
 * The emulator's command-line values: a number with an optional fraction
 * and a unit from a table, scaled exactly (no floating point), so "1.5M"
 * is 1500000 and "2.5ms" 2500000 ns.
 */
#include "link.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct unit {
  const char *name;
  uint64_t mult;
} unit;

/* s as digits[.digits] followed by one of units (case-insensitive),
 * times its multiplier; the result must be whole and fit. */
static int scaled(const char *s, const unit *units, size_t nunits,
                  uint64_t *out) {
  unsigned __int128 v = 0;
  unsigned digits = 0, frac = 0;
  int dot = 0;
  for (; (*s >= '0' && *s <= '9') || (*s == '.' && !dot); s++) {
    if (*s == '.') {
      dot = 1;
      continue;
    }
    v = v * 10 + (unsigned)(*s - '0');
    if (v > UINT64_MAX)
      return -1;
    digits++;
    frac += dot;
  }
  if (digits == 0 || (dot && frac == 0))
    return -1;
  for (size_t i = 0; i < nunits; i++) {
    if (strcasecmp(s, units[i].name))
      continue;
    v *= units[i].mult;
    for (unsigned f = 0; f < frac; f++) {
      if (v % 10)
        return -1;
      v /= 10;
    }
    if (v > UINT64_MAX)
      return -1;
    *out = (uint64_t)v;
    return 0;
  }
  return -1;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

int lab_parse_rate(const char *s, uint64_t *bps) {
  static const unit u[] = {{"", 1},
                           {"bps", 1},
                           {"bit", 1},
                           {"bit/s", 1},
                           {"k", 1000},
                           {"kbps", 1000},
                           {"kbit", 1000},
                           {"kbit/s", 1000},
                           {"m", 1000000},
                           {"mbps", 1000000},
                           {"mbit", 1000000},
                           {"mbit/s", 1000000},
                           {"g", 1000000000},
                           {"gbps", 1000000000},
                           {"gbit", 1000000000},
                           {"gbit/s", 1000000000}};
  return scaled(s, u, N(u), bps);
}

int lab_parse_duration(const char *s, uint64_t *ns) {
  static const unit u[] = {
      {"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000}};
  return scaled(s, u, N(u), ns);
}

int lab_parse_loss(const char *s, double *p) {
  size_t n = strlen(s);
  int pct = n > 0 && s[n - 1] == '%';
  char *end;
  if (n == 0 || !((s[0] >= '0' && s[0] <= '9') || s[0] == '.'))
    return -1;
  double v = strtod(s, &end);
  if (end != s + n - (size_t)pct)
    return -1;
  if (pct)
    v /= 100;
  if (!(v >= 0 && v <= 1))
    return -1;
  *p = v;
  return 0;
}

int lab_parse_queue(const char *s, uint64_t *bytes, uint32_t *packets) {
  static const unit pk[] = {{"p", 1}, {"pkt", 1}, {"packets", 1}};
  static const unit by[] = {
      {"b", 1}, {"k", 1000}, {"kb", 1000}, {"m", 1000000}, {"mb", 1000000}};
  uint64_t v;
  if (scaled(s, pk, N(pk), &v) == 0) {
    if (v == 0 || v > UINT32_MAX)
      return -1;
    *packets = (uint32_t)v;
    *bytes = 0;
    return 0;
  }
  if (scaled(s, by, N(by), &v) == 0 && v > 0) {
    *bytes = v;
    *packets = 0;
    return 0;
  }
  return -1;
}
