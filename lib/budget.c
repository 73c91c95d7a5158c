/*
 * Sender budget: what may go out now so that no interval of one period
 * carries more than bps * period / 8 bytes.
 *
 * With n buckets of ceil(period / n) each, an interval of one period ending
 * now reaches back into at most n whole buckets before the current one, so
 * the window holds n + 1 buckets. Counting whole buckets over-counts, which
 * only ever makes the sender send less.
 */
#include <scone/scone.h>

#define BUDGET_DEFAULT_BUCKETS 67U

void scone_budget_init(scone_budget *b, scone_duration period,
                       uint32_t nbuckets) {
  if (period == 0)
    period = SCONE_PERIOD;
  if (nbuckets == 0)
    nbuckets = BUDGET_DEFAULT_BUCKETS;
  /* One slot of the window is the partial current bucket. */
  if (nbuckets > SCONE_WINDOW_MAX_BUCKETS - 1)
    nbuckets = SCONE_WINDOW_MAX_BUCKETS - 1;
  b->bps = 0;
  b->period = period;
  /* Rounded up so that n buckets never span less than a period. */
  scone_duration width = period / nbuckets + (period % nbuckets != 0);
  scone_window_init(&b->win, width, nbuckets + 1);
}

void scone_budget_set_rate(scone_budget *b, uint64_t bps) {
  b->bps = bps;
}

/* bps * period_ns / 8e9, rounded down so the cap is never overstated. The
 * product needs up to 128 bits (199.5 Gbit/s * 67e9 ns is about 2^73). */
static uint64_t period_cap(uint64_t bps, scone_duration period) {
  unsigned __int128 bits = (unsigned __int128)bps * period;
  unsigned __int128 bytes = bits / ((unsigned __int128)8 * SCONE_SECONDS);
  return bytes > UINT64_MAX ? UINT64_MAX : (uint64_t)bytes;
}

uint64_t scone_budget_available(scone_budget *b, scone_tstamp now) {
  if (b->bps == 0)
    return UINT64_MAX;
  uint64_t cap = period_cap(b->bps, b->period);
  uint64_t used = scone_window_sum(&b->win, now);
  return used >= cap ? 0 : cap - used;
}

void scone_budget_consume(scone_budget *b, scone_tstamp now, uint64_t bytes) {
  /* Counted even without advice, so that advice arriving later is measured
   * against what was already sent. */
  scone_window_add(&b->win, now, bytes);
}
