/*
 * Per-subscriber monitoring: the bytes of all of a subscriber's SCONE
 * flows, per direction, over the same sliding window and against the same
 * allowance as one flow's (the advice is what the subscriber's plan or
 * cell allows, so the aggregate is what it limits). A subscriber over it
 * is non-conforming: its SCONE flows lose their exemption and draw from
 * one aggregate token bucket at the plan's rate, until a clean period.
 * Its flows that do not speak SCONE draw from that bucket all along
 * (subscriber_bucket in engine.c).
 *
 * Only the per-packet byte count and check are on the hot path
 * (engine.c); ties, roll-over, marking and the sweep are here.
 */
#include "engine_internal.h"

#include <string.h>

static int spent(const sconed_engine *e, const sconed_ssub *s) {
  if (s->nflows)
    return 0;
  /* Three periods without traffic leave no history a roll would keep. */
  if (mon_periods_back(e->h_idx, (uint32_t)e->h_idx - s->pidx) >= 3)
    return 1;
  if (s->nc & MON_NC_ANY)
    return 0;
  for (int d = 0; d < 2; d++)
    for (int i = 0; i < 3; i++)
      if (s->max_sig[d][i] != SCONE_SIGNAL_UNKNOWN)
        return 0;
  return 1;
}

static int reusable(const sconed_ssub *s, void *arg) {
  return spent(arg, s);
}

static void release(sconed_engine *e, sconed_ssub *s) {
  if (s->nc & MON_NC_ANY)
    e->stats[s->stat].m.nonconforming_subscribers--;
  s->tag = 0;
  e->ss.count--;
}

void sconed_subs_attach(sconed_engine *e, sconed_flow *f, const sconed_pkt *p,
                        const uint8_t *addr) {
  if (!e->ss.nbuckets || (f->flags & FL_SSUB_FULL))
    return;
  int ipv6 = p->ipv6;
  scone_tstamp now = p->now;
  unsigned plen = 32;
  if (ipv6) {
    /* A config entry longer than the subscriber prefix is a subscriber of
     * its own: the key never spans two entries (and so two plans). */
    uint32_t val;
    unsigned elen = 0;
    sconed_lpm_lookup(&e->cfg->lpm, 6, addr, &val, &elen);
    plen = elen > e->s.subscriber_prefix_v6 ? elen : e->s.subscriber_prefix_v6;
  }
  uint64_t tag = sconed_ssub_salted(
      &e->ss, sconed_ssub_hash(&e->ss, ipv6 ? 6 : 4, addr, plen), p->sub_salt);
  long i = sconed_ssub_find(&e->ss, tag);
  if (i < 0) {
    i = sconed_ssub_place(&e->ss, tag, reusable, e);
    if (i < 0) {
      e->st.untracked_subscriber_flows++;
      f->flags |= FL_SSUB_FULL;
      return;
    }
    sconed_ssub *s = &e->ss.s[i];
    if (s->tag)
      release(e, s);
    memset(s, 0, sizeof(*s));
    s->tag = tag;
    s->pidx = (uint32_t)e->h_idx;
    memset(s->max_sig, SCONE_SIGNAL_UNKNOWN, sizeof(s->max_sig));
    s->tokens[0] = s->tokens[1] = e->subs[f->sub].burst;
    s->tok_time = (uint32_t)(now >> 20);
    s->stat = f->stat;
    e->ss.count++;
  }
  e->ss.s[i].nflows++;
  f->ssub = (unsigned)i;
}

void sconed_subs_detach(sconed_engine *e, sconed_flow *f) {
  e->ss.s[f->ssub].nflows--;
  f->ssub = SCONED_NO_SSUB;
}

void sconed_subs_roll(sconed_engine *e, sconed_ssub *s) {
  /* A half-period index that went backwards (a reload changed the
   * period) gives a huge gap: the history restarts, as for flows. */
  uint32_t hgap = (uint32_t)e->h_idx - s->pidx;
  uint64_t pgap = mon_periods_back(e->h_idx, hgap);
  unsigned nc = s->nc;
  int was_nc = (nc & MON_NC_ANY) != 0;
  for (int d = 0; d < 2; d++)
    nc = mon_roll_dir(e->allow16, &s->cur[d], &s->prev[d], s->max_sig[d], nc, d,
                      hgap, pgap, s->pidx & 1);
  s->nc = (uint8_t)nc;
  s->pidx = (uint32_t)e->h_idx;
  if (was_nc && !(nc & MON_NC_ANY))
    e->stats[s->stat].m.nonconforming_subscribers--;
}

void sconed_subs_mark(sconed_engine *e, sconed_ssub *s, int d, uint16_t stat) {
  if (!(s->nc & MON_NC_ANY)) {
    s->stat = stat;
    e->stats[stat].m.nonconforming_subscribers++;
  }
  s->nc |= (uint8_t)MON_NC(d);
  e->stats[stat].m.subscriber_transitions++;
  /* Never an address, whatever log_addresses says: the line is about a
   * subscriber, not a flow. */
  sconed_engine_log(e, SCONED_LOG_INFO,
                    "subscriber non-conforming plan=%s dir=%s flows=%u",
                    e->stats[stat].name, d ? "downlink" : "uplink", s->nflows);
}

void sconed_subs_sweep(sconed_engine *e) {
  if (!e->ss.nbuckets)
    return;
  size_t b = e->ss.sweep;
  e->ss.sweep =
      b + SCONED_SSUB_BUCKET == e->ss.nslots ? 0 : b + SCONED_SSUB_BUCKET;
  for (size_t i = b; i < b + SCONED_SSUB_BUCKET; i++) {
    sconed_ssub *s = &e->ss.s[i];
    if (!s->tag)
      continue;
    /* Settles a subscriber whose flows went quiet, so its gauge does not
     * linger. */
    if (s->pidx != (uint32_t)e->h_idx)
      sconed_subs_roll(e, s);
    if (spent(e, s))
      release(e, s);
  }
}
