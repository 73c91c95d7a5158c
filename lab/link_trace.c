/*
 * Mahimahi trace files: the rules are Mahimahi's own (no empty line,
 * nondecreasing offsets, a period above zero), strict about everything
 * else, so that a damaged trace is refused with its line rather than
 * emulated wrongly.
 */
#include "link.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(lab_trace *t, lab_error *err, unsigned line, const char *fmt,
                ...) {
  free(t->ms);
  memset(t, 0, sizeof *t);
  err->line = line;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  return -1;
}

int lab_trace_parse(lab_trace *t, const char *text, size_t len,
                    lab_error *err) {
  memset(t, 0, sizeof *t);
  memset(err, 0, sizeof *err);
  size_t cap = 0;
  unsigned line = 0;
  size_t i = 0;
  while (i < len) {
    line++;
    uint64_t v = 0;
    size_t digits = 0;
    for (; i < len && text[i] >= '0' && text[i] <= '9'; i++, digits++) {
      v = v * 10 + (uint64_t)(text[i] - '0');
      if (v > UINT32_MAX)
        return fail(t, err, line, "offset above %u ms", UINT32_MAX);
    }
    if (i < len && text[i] == '\r')
      i++;
    if (i < len && text[i] != '\n') {
      unsigned char c = (unsigned char)text[i];
      if (c >= 0x20 && c < 0x7f)
        return fail(t, err, line,
                    "'%c' where a digit or the line's end "
                    "belongs (one offset in ms per line)",
                    c);
      return fail(t, err, line,
                  "byte 0x%02x where a digit or the line's end "
                  "belongs (one offset in ms per line)",
                  c);
    }
    if (digits == 0)
      return fail(t, err, line, "empty line (one offset in ms per line)");
    if (t->n > 0 && v < t->ms[t->n - 1])
      return fail(t, err, line,
                  "offset %llu ms is before the previous line's %u ms "
                  "(offsets never decrease)",
                  (unsigned long long)v, t->ms[t->n - 1]);
    if (t->n == cap) {
      size_t ncap = cap ? cap * 2 : 1024;
      uint32_t *ms = realloc(t->ms, ncap * sizeof *ms);
      if (!ms)
        return fail(t, err, line, "out of memory");
      t->ms = ms;
      cap = ncap;
    }
    t->ms[t->n++] = (uint32_t)v;
    i++; /* the '\n', or past the end */
  }
  if (t->n == 0)
    return fail(t, err, 0, "no offsets (an empty trace)");
  if (t->ms[t->n - 1] == 0)
    return fail(t, err, line,
                "the last offset is 0 ms: a trace must last a nonzero time");
  t->period_ms = t->ms[t->n - 1];
  return 0;
}

int lab_trace_load(lab_trace *t, const char *path, lab_error *err) {
  memset(t, 0, sizeof *t);
  memset(err, 0, sizeof *err);
  FILE *f = fopen(path, "rb");
  if (!f)
    return fail(t, err, 0, "%s", strerror(errno));
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  while (buf) {
    len += fread(buf + len, 1, cap - len, f);
    if (len < cap)
      break;
    char *bigger = realloc(buf, cap * 2);
    if (!bigger) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = bigger;
    cap *= 2;
  }
  const char *why = !buf ? "out of memory" : ferror(f) ? "read error" : NULL;
  fclose(f);
  if (why) {
    free(buf);
    return fail(t, err, 0, "%s", why);
  }
  int r = lab_trace_parse(t, buf, len, err);
  free(buf);
  return r;
}

void lab_trace_free(lab_trace *t) {
  free(t->ms);
  memset(t, 0, sizeof *t);
}

double lab_trace_mean_bps(const lab_trace *t) {
  return (double)t->n * LAB_LINK_MTU * 8 * 1000 / t->period_ms;
}
