/*
 * Read side of the engine: per-plan metrics and engine-wide counters. All
 * gauges are kept up to date by the packet path, so a scrape is O(plans).
 */
#include "engine_internal.h"

static void emit(const sconed_engine *e, uint16_t slot, const sconed_plan *p,
                 sconed_metrics_cb cb, void *arg) {
  sconed_plan_metrics m = e->stats[slot].m;
  m.plan = e->stats[slot].name;
  m.downlink_bps = p ? p->downlink_bps : 0;
  m.uplink_bps = p ? p->uplink_bps : 0;
  m.conforming = m.scone_flows - m.nonconforming;
  cb(&m, arg);
}

void sconed_engine_metrics(const sconed_engine *e, sconed_metrics_cb cb,
                           void *arg) {
  const sconed_config *c = e->cfg;
  for (size_t i = 0; i < c->nplans; i++)
    if (e->plan_stat[i] != SCONED_NO_STAT)
      emit(e, e->plan_stat[i], &c->plans[i], cb, arg);
  for (uint16_t s = 0; s < e->stat_top; s++) {
    if (!e->stats[s].used)
      continue;
    int live = 0;
    for (size_t i = 0; i < c->nplans && !live; i++)
      live = e->plan_stat[i] == s;
    if (!live)
      emit(e, s, NULL, cb, arg);
  }
}

void sconed_engine_stats_get(const sconed_engine *e, sconed_engine_stats *st) {
  *st = e->st;
  st->flows = e->t.count;
  st->subscribers = e->ss.count;
  st->memory_bytes = sizeof(*e) +
                     e->t.nslots * (sizeof(sconed_flow) + sizeof(uint64_t)) +
                     e->ss.nslots * sizeof(sconed_ssub) +
                     (SCONED_MAX_STAT_SLOTS + 1) * sizeof(*e->stats) +
                     SCONED_OWNERS * sizeof(*e->owner_flows) +
                     SCONED_OWNERS * sizeof(*e->owner_admit) +
                     e->cfg->nsubs * sizeof(*e->subs);
}

size_t sconed_engine_flow_count(const sconed_engine *e) {
  return e->t.count;
}
