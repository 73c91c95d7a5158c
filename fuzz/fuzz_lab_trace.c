/*
 * The lab's Mahimahi trace parser, then the link model on what it accepts.
 * Input: the trace file's bytes. A refusal names a line of the input; an
 * accepted trace prints back to text that parses to the same offsets, and
 * a link run on it (packets drawn from a hash of the input) delivers in
 * order, never before a packet's arrival, only at the trace's
 * opportunities, and within its drop-tail bound.
 */
#include "fuzz.h"

#include <link.h>

#include <string.h>

static uint64_t xs(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static int is_opportunity(const lab_trace *t, uint64_t rel_ns) {
  if (rel_ns % LAB_NS_PER_MS)
    return 0;
  uint64_t ms = rel_ns / LAB_NS_PER_MS;
  uint64_t in = ms % t->period_ms;
  for (size_t i = 0; i < t->n; i++)
    if (t->ms[i] == in || (in == 0 && t->ms[i] == t->period_ms))
      return 1;
  return 0;
}

static void run_link(const lab_trace *t, uint64_t seed) {
  const uint64_t t0 = 1000000007ULL;
  lab_link_settings s;
  lab_link_settings_default(&s);
  s.trace = t;
  s.queue_packets = (uint32_t)(xs(&seed) % 8);
  s.queue_bytes = xs(&seed) % 2 ? 0 : 1500 + xs(&seed) % 20000;
  lab_link *l = lab_link_new(&s, t0);
  FUZZ_CHECK(l);
  uint64_t now = t0, last = 0;
  for (int i = 0; i < 200; i++) {
    now += xs(&seed) % 4 == 0 ? 0 : xs(&seed) % (3 * LAB_NS_PER_MS);
    uint32_t len = 1 + (uint32_t)(xs(&seed) % 3000);
    uint64_t wp, wb, at = 0;
    lab_link_backlog(l, now, &wp, &wb);
    lab_link_verdict v = lab_link_enqueue(l, now, len, &at);
    FUZZ_CHECK(v == LAB_LINK_DELIVER || v == LAB_LINK_DROP_QUEUE);
    int fits = (!s.queue_packets || wp + 1 <= s.queue_packets) &&
               (!s.queue_bytes || wb + len <= s.queue_bytes);
    FUZZ_CHECK((v == LAB_LINK_DELIVER) == fits);
    if (v != LAB_LINK_DELIVER)
      continue;
    FUZZ_CHECK(at > now && at >= last);
    FUZZ_CHECK(is_opportunity(t, at - t0));
    last = at;
  }
  lab_link_free(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lab_trace t;
  lab_error err;
  size_t lines = 1;
  for (size_t i = 0; i < size; i++)
    lines += data[i] == '\n';
  int r = lab_trace_parse(&t, (const char *)data, size, &err);
  if (r != 0) {
    FUZZ_CHECK(r == -1 && t.ms == NULL && t.n == 0);
    FUZZ_CHECK(err.line <= lines && err.msg[0] != '\0');
    return 0;
  }
  FUZZ_CHECK(t.n >= 1 && t.n <= lines);
  FUZZ_CHECK(t.period_ms > 0 && t.period_ms == t.ms[t.n - 1]);
  for (size_t i = 1; i < t.n; i++)
    FUZZ_CHECK(t.ms[i] >= t.ms[i - 1]);
  /* Printed back, the offsets read the same. */
  char *text = malloc(t.n * 11 + 1);
  FUZZ_CHECK(text);
  size_t len = 0;
  for (size_t i = 0; i < t.n; i++)
    len += (size_t)sprintf(text + len, "%u\n", t.ms[i]);
  lab_trace u;
  FUZZ_CHECK(lab_trace_parse(&u, text, len, &err) == 0);
  FUZZ_CHECK(u.n == t.n && !memcmp(u.ms, t.ms, t.n * sizeof *t.ms));
  lab_trace_free(&u);
  free(text);
  uint64_t seed = 1469598103934665603ULL;
  for (size_t i = 0; i < size; i++)
    seed = (seed ^ data[i]) * 1099511628211ULL;
  run_link(&t, seed | 1);
  lab_trace_free(&t);
  return 0;
}
