/*
 * Bucketed sliding sum. Buckets are identified by their absolute number
 * (time / bucket_ns) so that callers on different clocks agree on edges
 * without any shared epoch.
 */
#include <scone/scone.h>

/* Saturating, so that an absurd byte count pins the sum instead of wrapping
 * to a small number that would read as "well under the limit". */
static uint64_t sat_add(uint64_t a, uint64_t b) {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

void scone_window_init(scone_window *w, scone_duration bucket_ns,
                       uint32_t nbuckets) {
  if (nbuckets < 2)
    nbuckets = 2;
  if (nbuckets > SCONE_WINDOW_MAX_BUCKETS)
    nbuckets = SCONE_WINDOW_MAX_BUCKETS;
  /* A zero width would divide by zero; the finest clock tick is the safest
   * reading of "no width". */
  w->bucket_ns = bucket_ns ? bucket_ns : 1;
  w->nbuckets = nbuckets;
  w->head = 0;
  w->head_idx = 0;
  w->sum = 0;
  for (uint32_t i = 0; i < SCONE_WINDOW_MAX_BUCKETS; i++)
    w->bytes[i] = 0;
}

static void recompute_sum(scone_window *w) {
  uint64_t s = 0;
  for (uint32_t i = 0; i < w->nbuckets; i++)
    s = sat_add(s, w->bytes[i]);
  w->sum = s;
}

/* Moves head to the bucket holding now. A time earlier than the head bucket
 * leaves everything alone: the bytes land in the newest bucket, which keeps
 * them counted for as long as possible rather than rewriting history. */
static void advance(scone_window *w, scone_tstamp now) {
  uint64_t idx = now / w->bucket_ns;
  if (idx <= w->head_idx)
    return;
  uint64_t gap = idx - w->head_idx;
  w->head_idx = idx;
  if (gap >= w->nbuckets) {
    /* Everything has slid out: clearing is O(nbuckets) however far we
     * jumped. */
    for (uint32_t i = 0; i < w->nbuckets; i++)
      w->bytes[i] = 0;
    w->sum = 0;
    w->head = 0;
    return;
  }
  int saturated = w->sum == UINT64_MAX;
  for (uint64_t i = 0; i < gap; i++) {
    w->head = (w->head + 1) % w->nbuckets;
    /* Once saturated, the running sum no longer equals the bucket total, so
     * it cannot be decremented; it is rebuilt below instead. */
    if (!saturated)
      w->sum -= w->bytes[w->head];
    w->bytes[w->head] = 0;
  }
  if (saturated)
    recompute_sum(w);
}

void scone_window_add(scone_window *w, scone_tstamp now, uint64_t bytes) {
  advance(w, now);
  w->bytes[w->head] = sat_add(w->bytes[w->head], bytes);
  w->sum = sat_add(w->sum, bytes);
}

uint64_t scone_window_sum(scone_window *w, scone_tstamp now) {
  advance(w, now);
  return w->sum;
}
