#include "bytemon.h"

#include <string.h>

void sconed_bytemon_init(sconed_bytemon *m, uint64_t h) {
  memset(m, 0, sizeof(*m));
  m->h = h;
  memset(m->ms, SCONE_SIGNAL_UNKNOWN, sizeof(m->ms));
}

unsigned sconed_bytemon_step(sconed_bytemon *m, const uint64_t *allow16,
                             uint64_t h, const uint32_t add16[2],
                             const uint8_t sig[2]) {
  unsigned nc = m->nc;
  m->marked[0] = m->marked[1] = 0;
  /* The bytes since the previous read go to that read's half: a half then
   * holds bytes from its start to the first read after its end, so after
   * the move below cur + prev hold bytes from the start of the previous
   * half until now, less than a period (charged to the newer half they
   * would reach a read interval further back: stricter than the engine). */
  for (int d = 0; d < 2; d++)
    mon_add(&m->cur[d], add16[d]);
  if (h > m->h) {
    /* engine.c roll(): the same history move, from m->h to h. */
    uint64_t hgap = h - m->h;
    uint64_t pgap = mon_periods_back(h, hgap);
    for (int d = 0; d < 2; d++)
      nc = mon_roll_dir(allow16, &m->cur[d], &m->prev[d], m->ms[d], nc, d, hgap,
                        pgap, (unsigned)(m->h & 1));
    m->h = h;
  }
  for (int d = 0; d < 2; d++) {
    /* engine.c apply_advice records the advice; handle_slow judges. */
    if (sig[d] != SCONE_SIGNAL_UNKNOWN &&
        (m->ms[d][0] == SCONE_SIGNAL_UNKNOWN || sig[d] > m->ms[d][0]))
      m->ms[d][0] = sig[d];
    if (!mon_advised(m->ms[d]) || (nc & MON_NC(d)))
      continue;
    int lim = mon_limit(m->ms[d]);
    if (lim >= 0 && mon_over(m->cur[d], m->prev[d], allow16[lim])) {
      nc |= MON_NC(d);
      m->marked[d] = 1;
    }
  }
  m->nc = (uint8_t)nc;
  return nc;
}
