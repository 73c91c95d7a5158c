/*
 * Paths. ngtcp2 0.12 has no path identifiers, so a path is its address pair
 * and gets the next free slot when first seen. Advice applies to one path
 * (a new path may cross other network elements), and so does the "first few
 * datagrams" SCONE burst.
 */
#include "internal.h"

#include <string.h>

static void path_init(scone_quic_conn *c, sq_path *p, const sq_addr *local,
                      const sq_addr *remote, scone_tstamp now) {
  memset(p, 0, sizeof(*p));
  p->local = *local;
  p->remote = *remote;
  scone_advice_tracker_init(&p->tracker, c->s.advice_period);
  p->last_signal = SCONE_SIGNAL_UNKNOWN;
  p->initial_left = c->s.initial_scone_datagrams;
  /* Without an initial burst the first periodic one is an interval away. */
  p->next_due = now + sq_jittered_interval(c);
  p->last_used = now;
}

sq_path *sq_path_find(scone_quic_conn *c, const sq_addr *local,
                      const sq_addr *remote) {
  for (uint32_t i = 0; i < c->npaths; i++) {
    sq_path *p = &c->paths[i];
    if (sq_addr_eq(&p->local, local) && sq_addr_eq(&p->remote, remote))
      return p;
  }
  return NULL;
}

sq_path *sq_path_find_or_add(scone_quic_conn *c, const sq_addr *local,
                             const sq_addr *remote, scone_tstamp now) {
  sq_path *p = sq_path_find(c, local, remote);
  if (p != NULL) {
    p->last_used = now;
    return p;
  }
  if (c->npaths < SQ_MAX_PATHS) {
    p = &c->paths[c->npaths++];
    path_init(c, p, local, remote, now);
    return p;
  }
  /* Recycle the least recently used path other than the first, whose id
   * the stats report. */
  p = &c->paths[1];
  for (uint32_t i = 2; i < c->npaths; i++)
    if (c->paths[i].last_used < p->last_used)
      p = &c->paths[i];
  /* The application holds this id's advice until told otherwise; the id
   * now names a path with none. ("expiry": the advice is forgotten, not
   * replaced by a signal.) */
  unsigned old = p->tracker.current;
  path_init(c, p, local, remote, now);
  if (old != SCONE_SIGNAL_UNKNOWN)
    sq_event_advice_changed(c, p, old, SCONE_APP_TRIGGER_EXPIRY, now);
  return p;
}

uint32_t sq_path_id(const scone_quic_conn *c, const sq_path *p) {
  return (uint32_t)(p - c->paths);
}

scone_tstamp sq_path_next_expiry(const scone_quic_conn *c) {
  scone_tstamp t = UINT64_MAX;
  for (uint32_t i = 0; i < c->npaths; i++) {
    scone_tstamp e = scone_advice_tracker_next_expiry(&c->paths[i].tracker);
    if (e < t)
      t = e;
  }
  return t;
}

void sq_path_expire(scone_quic_conn *c, scone_tstamp now) {
  for (uint32_t i = 0; i < c->npaths; i++) {
    sq_path *p = &c->paths[i];
    unsigned old = p->tracker.current;
    if (scone_advice_tracker_expire(&p->tracker, now))
      sq_event_advice_changed(c, p, old, SCONE_APP_TRIGGER_EXPIRY, now);
  }
}

scone_duration sq_jittered_interval(scone_quic_conn *c) {
  scone_duration base = c->s.send_interval;
  uint64_t pct = c->s.send_jitter_pct > 100 ? 100 : c->s.send_jitter_pct;
  uint64_t span = base / 100 * pct; /* +-span around base */
  if (span == 0)
    return base;
  uint64_t r = sq_rand_u64(c) % (2 * span + 1);
  return base - span + r;
}
