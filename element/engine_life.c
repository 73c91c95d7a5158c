/*
 * Engine lifetime and the control side: creation, config swaps, run-time
 * capacities. Everything the packet path needs per subscriber is derived
 * here once, so a swap costs O(subscribers + plans) and packets pay none.
 */
#include "engine_internal.h"
#include "table_mem.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

void sconed_engine_settings_default(sconed_engine_settings *s) {
  memset(s, 0, sizeof(*s));
  s->version = SCONED_ENGINE_SETTINGS_V1;
  s->max_flows = 65536;
  s->idle_timeout = 120 * SCONE_SECONDS;
  s->young_timeout = 2 * SCONE_SECONDS;
  s->admit_per_second = 1000;
  s->seed_source = SCONED_SEED_GETRANDOM;
  s->max_subscribers = 65536;
  s->subscriber_prefix_v6 = 64;
}

/* splitmix64: spreads a test seed over the whole hash key. */
static uint64_t splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* Words 0..7 key the flow table, 8..11 the subscriber table. */
#define KEY_WORDS 12
static int make_key(const sconed_engine_settings *s, uint64_t key[KEY_WORDS]) {
  if (s->seed_source == SCONED_SEED_FIXED) {
    uint64_t x = s->seed;
    for (int i = 0; i < KEY_WORDS; i++)
      key[i] = splitmix(&x);
  } else {
    size_t got = 0;
    uint8_t *p = (uint8_t *)key;
    while (got < KEY_WORDS * sizeof(uint64_t)) {
      ssize_t r = getrandom(p + got, KEY_WORDS * sizeof(uint64_t) - got, 0);
      if (r <= 0)
        return -1;
      got += (size_t)r;
    }
  }
  /* Odd multipliers keep the final mixes bijections. */
  key[7] |= 1;
  key[11] |= 1;
  return 0;
}

sconed_engine *sconed_engine_new(const sconed_engine_settings *s) {
  sconed_engine_settings def;
  if (!s) {
    sconed_engine_settings_default(&def);
    s = &def;
  }
  if (s->version != SCONED_ENGINE_SETTINGS_V1 || s->max_flows == 0 ||
      s->max_subscribers > SCONED_MAX_SSUB || s->subscriber_prefix_v6 == 0 ||
      s->subscriber_prefix_v6 > 128)
    return NULL;
  sconed_engine *e = calloc(1, sizeof(*e));
  if (!e)
    return NULL;
  e->s = *s;
  uint64_t key[KEY_WORDS];
  if (make_key(s, key))
    goto fail;
  if (sconed_table_init(&e->t, s->max_flows, key) ||
      sconed_ssub_init(&e->ss, s->max_subscribers, key + 8))
    goto fail;
  e->stats = calloc(SCONED_MAX_STAT_SLOTS + 1, sizeof(*e->stats));
  e->owner_flows = calloc(SCONED_OWNERS, sizeof(*e->owner_flows));
  e->owner_admit = calloc(SCONED_OWNERS, sizeof(*e->owner_admit));
  if (!e->stats || !e->owner_flows || !e->owner_admit)
    goto fail;
  uint32_t share = s->max_flows / 32;
  e->owner_cap = s->max_flows_per_subscriber ? s->max_flows_per_subscriber
                 : share > 64                ? share
                                             : 64;
  e->pool_cap = s->max_flows / 8 > 16 ? s->max_flows / 8 : 16;
  uint64_t idle = s->idle_timeout >> 20, young = s->young_timeout >> 20;
  e->idle_units = idle > 0x7fffffff ? 0x7fffffff : idle ? (uint32_t)idle : 1;
  e->young_units = young > 0x7fffffff ? 0x7fffffff : (uint32_t)young;
  e->admit_tokens = s->admit_per_second;
  e->reserve_tokens = s->admit_per_second / 2;
  /* One flow bucket per step: the sweep goes round the table once per
   * idle timeout. */
  e->sweep_step = s->idle_timeout / e->t.nbuckets;
  if (e->sweep_step == 0)
    e->sweep_step = 1;
  e->st.max_flows = s->max_flows;
  e->st.flow_bytes = sizeof(sconed_flow) + sizeof(uint64_t);
  e->st.max_subscribers = e->ss.nslots;
  e->st.subscriber_bytes = sizeof(sconed_ssub);
  sconed_config *c = sconed_config_default(0, SCONED_ENFORCE_NONE);
  if (!c || sconed_engine_set_config(e, c))
    goto fail;
  return e;
fail:
  sconed_engine_free(e);
  return NULL;
}

void sconed_engine_free(sconed_engine *e) {
  if (!e)
    return;
  sconed_table_free(&e->t);
  sconed_ssub_free(&e->ss);
  sconed_config_free(e->cfg);
  free(e->subs);
  free(e->cap_bps);
  free(e->plan_stat);
  free(e->stats);
  free(e->owner_flows);
  free(e->owner_admit);
  free(e);
}

static uint16_t stat_slot(sconed_engine *e, const char *name) {
  size_t free_slot = SCONED_MAX_STAT_SLOTS;
  for (size_t i = 0; i < SCONED_MAX_STAT_SLOTS; i++) {
    if (e->stats[i].used && !strcmp(e->stats[i].name, name))
      return (uint16_t)i;
    if (!e->stats[i].used && free_slot == SCONED_MAX_STAT_SLOTS)
      free_slot = i;
  }
  if (free_slot == SCONED_MAX_STAT_SLOTS) {
    /* Many reloads with ever new plan names: recycle a slot of a plan that
     * is gone and has no flows left. */
    for (size_t i = 0; i < SCONED_MAX_STAT_SLOTS; i++) {
      int live = 0;
      for (size_t j = 0; e->cfg && j < e->cfg->nplans; j++)
        live |= e->plan_stat && e->plan_stat[j] == i;
      if (!live && e->stats[i].m.flows == 0 &&
          e->stats[i].m.nonconforming_subscribers == 0) {
        free_slot = i;
        break;
      }
    }
    if (free_slot == SCONED_MAX_STAT_SLOTS)
      return SCONED_NO_STAT;
  }
  sconed_stat_slot *sl = &e->stats[free_slot];
  memset(sl, 0, sizeof(*sl));
  strcpy(sl->name, name);
  sl->used = 1;
  if (free_slot >= e->stat_top)
    e->stat_top = (uint16_t)(free_slot + 1);
  return (uint16_t)free_slot;
}

/* Frees the slots of plans that are in no running config and never
 * counted anything: above all the embedded default's, which the engine
 * runs until its first config and which would otherwise be reported with
 * advice 0 for ever after. Plans that counted keep their slot (their
 * counters must not go back). */
static void release_unused_stats(sconed_engine *e) {
  static const sconed_plan_metrics zero;
  for (uint16_t i = 0; i < e->stat_top; i++) {
    if (!e->stats[i].used || memcmp(&e->stats[i].m, &zero, sizeof(zero)))
      continue;
    int live = 0;
    for (size_t j = 0; j < e->cfg->nplans && !live; j++)
      live = e->plan_stat[j] == i;
    if (!live)
      e->stats[i].used = 0;
  }
}

static uint64_t fp_rate(uint64_t bps) {
  /* bytes per 2^20 ns in 16.16: bps / 8e9 * 2^20 * 2^16 */
  return (uint64_t)(((unsigned __int128)bps << 36) / 8000000000ULL);
}

static uint64_t fp_ns_per_byte(uint64_t bps) {
  return bps ? (uint64_t)(((unsigned __int128)8000000000ULL << 16) / bps) : 0;
}

static void derive_sub(sconed_sub_rt *r, const sconed_config *c,
                       const sconed_subscriber *sub, const uint64_t *caps,
                       const uint16_t *plan_stat, sconed_stat_slot *stats) {
  const sconed_plan *p = &c->plans[sub->plan];
  uint64_t down = p->downlink_bps;
  if (sub->capacity != SCONED_NO_CAPACITY) {
    uint64_t cap = caps[sub->capacity];
    if (cap && (!down || cap < down))
      down = cap;
  }
  memset(r, 0, sizeof(*r));
  r->sig[SCONE_DIR_DOWNLINK] =
      (uint8_t)(down ? scone_rate_to_signal(down) : SCONE_SIGNAL_UNKNOWN);
  r->sig[SCONE_DIR_UPLINK] =
      (uint8_t)(p->uplink_bps ? scone_rate_to_signal(p->uplink_bps)
                              : SCONE_SIGNAL_UNKNOWN);
  for (int d = 0; d < 2; d++)
    r->advise[d] = sub->opt_in && r->sig[d] != SCONE_SIGNAL_UNKNOWN;
  r->action = (uint8_t)p->action;
  r->stat = plan_stat[sub->plan];
  r->m = &stats[r->stat].m;
  r->burst = (int32_t)p->burst_bytes;
  r->max_delay = p->max_delay;
  uint64_t rate_bps[2] = {0, 0}; /* enforcement rate; 0: none */
  if (p->action != SCONED_ENFORCE_NONE) {
    rate_bps[SCONE_DIR_DOWNLINK] = p->rate_bps ? p->rate_bps : down;
    rate_bps[SCONE_DIR_UPLINK] =
        p->uplink_rate_bps ? p->uplink_rate_bps : p->uplink_bps;
  }
  for (int d = 0; d < 2; d++) {
    r->rate_fp[d] = fp_rate(rate_bps[d]);
    r->ns_per_byte_fp[d] = fp_ns_per_byte(rate_bps[d]);
    if (rate_bps[d] && !r->rate_fp[d])
      r->rate_fp[d] = 1;
  }
}

void sconed_engine_clock_reset(sconed_engine *e) {
  const sconed_config *c = e->cfg;
  e->period = c->period;
  e->half_ns = c->period / 2;
  e->slot_ns = c->period / c->rewrites_per_period;
  e->p_idx = e->last_now / e->period;
  e->p_start = e->p_idx * e->period;
  e->h_idx = 2 * e->p_idx + (e->last_now - e->p_start >= e->half_ns);
  e->slot_idx = e->last_now / e->slot_ns;
  e->slot_start = e->slot_idx * e->slot_ns;
  if (e->allow_period != c->period || e->allow_tolerance != c->tolerance_pct) {
    for (unsigned s = 0; s <= SCONE_SIGNAL_MAX; s++) {
      unsigned __int128 a = (unsigned __int128)scone_rate_from_signal(s) *
                            c->period * (100 + c->tolerance_pct);
      a /= (unsigned __int128)8 * 16 * 100 * SCONE_SECONDS;
      e->allow16[s] = a > (1ULL << 33) ? (1ULL << 33) : (uint64_t)a;
    }
    e->allow_period = c->period;
    e->allow_tolerance = c->tolerance_pct;
  }
  sconed_engine_next_tick(e);
}

void sconed_engine_slow_only(sconed_engine *e, int on) {
  e->slow_only = on;
  sconed_engine_next_tick(e);
}

void sconed_engine_next_tick(sconed_engine *e) {
  e->epoch = (uint32_t)e->gen << 16 | (uint16_t)e->h_idx;
  /* slow_only: a tick per packet changes nothing (tick only acts on
   * boundaries passed), so the slow path sees what it would anyway. */
  if (!e->clock_set || e->slow_only) {
    e->next_tick = 0; /* the first packet sets the clock */
    return;
  }
  scone_tstamp t = e->p_start + ((e->h_idx & 1) ? e->period : e->half_ns);
  if (e->slot_start + e->slot_ns < t)
    t = e->slot_start + e->slot_ns;
  if (e->next_sweep < t)
    t = e->next_sweep;
  e->next_tick = t;
}

int sconed_engine_set_config(sconed_engine *e, sconed_config *c) {
  if (!c)
    return -1;
  sconed_sub_rt *subs =
      sconed_table_mem((c->nsubs ? c->nsubs : 1) * sizeof(*subs));
  uint64_t *caps = calloc(c->ncaps ? c->ncaps : 1, sizeof(*caps));
  uint16_t *ps = calloc(c->nplans ? c->nplans : 1, sizeof(*ps));
  if (!subs || !caps || !ps) {
    free(subs);
    free(caps);
    free(ps);
    sconed_config_free(c);
    return -1;
  }
  for (size_t i = 0; i < c->ncaps; i++)
    caps[i] = c->caps[i].bps;
  /* Slots are looked up before the swap so that a recycled slot is never
   * one the outgoing config's flows still count in. */
  for (size_t i = 0; i < c->nplans; i++)
    ps[i] = stat_slot(e, c->plans[i].name);
  for (size_t i = 0; i < c->nsubs; i++)
    derive_sub(&subs[i], c, &c->subs[i], caps, ps, e->stats);
  sconed_config_free(e->cfg);
  free(e->subs);
  free(e->cap_bps);
  free(e->plan_stat);
  e->cfg = c;
  e->subs = subs;
  e->cap_bps = caps;
  e->plan_stat = ps;
  release_unused_stats(e);
  /* Generation 0 never matches, so zeroed slots always resolve. */
  if (++e->gen == 0)
    e->gen = 1;
  e->advice_gen++;
  sconed_engine_clock_reset(e);
  if (sconed_config_lab_period(c))
    /* At the error level, so that no --quiet hides it. */
    sconed_engine_log(e, SCONED_LOG_ERROR,
                      "monitoring period %llu ms (lab_short_period): shorter "
                      "than the draft's 67 s, not draft-conforming",
                      (unsigned long long)(c->period / SCONE_MILLISECONDS));
  return 0;
}

void sconed_engine_reset(sconed_engine *e) {
  for (size_t i = 0; i < e->t.nslots; i++)
    if (e->t.tags[i]) {
      e->owner_flows[sconed_flow_owner(&e->t.flows[i])] = 0;
      e->t.tags[i] = 0;
    }
  e->t.count = e->t.sweep = 0;
  for (size_t i = 0; i < e->ss.nslots; i++)
    e->ss.s[i].tag = 0;
  e->ss.count = e->ss.sweep = 0;
  for (uint16_t i = 0; i < e->stat_top; i++)
    if (e->stats[i].used)
      memset(&e->stats[i].m, 0, sizeof(e->stats[i].m));
  memset(&e->stats[SCONED_NO_STAT].m, 0, sizeof(e->stats[SCONED_NO_STAT].m));
  release_unused_stats(e);
  const sconed_config *c = e->cfg;
  for (size_t i = 0; i < c->ncaps; i++)
    e->cap_bps[i] = c->caps[i].bps;
  for (size_t i = 0; i < c->nsubs; i++)
    derive_sub(&e->subs[i], c, &c->subs[i], e->cap_bps, e->plan_stat, e->stats);
  /* What creation set stays; every counter goes. */
  sconed_engine_stats keep = e->st;
  memset(&e->st, 0, sizeof(e->st));
  e->st.max_flows = keep.max_flows;
  e->st.flow_bytes = keep.flow_bytes;
  e->st.max_subscribers = keep.max_subscribers;
  e->st.subscriber_bytes = keep.subscriber_bytes;
  e->clock_set = 0;
  e->last_now = e->next_sweep = 0;
  e->admit_tokens = e->s.admit_per_second;
  e->admit_last = 0;
  e->reserve_tokens = e->s.admit_per_second / 2;
  e->reserve_last = 0;
  if (e->nadmit_touched > SCONED_ADMIT_TOUCHED)
    memset(e->owner_admit, 0, SCONED_OWNERS * sizeof(*e->owner_admit));
  else
    for (uint32_t i = 0; i < e->nadmit_touched; i++)
      e->owner_admit[e->admit_touched[i]] = 0;
  e->nadmit_touched = 0;
  sconed_engine_clock_reset(e);
}

const sconed_config *sconed_engine_config(const sconed_engine *e) {
  return e->cfg;
}

int sconed_engine_set_capacity(sconed_engine *e, const char *name, uint64_t bps,
                               scone_tstamp now) {
  (void)now; /* flows see the new advice on their next SCONE packet */
  long i = sconed_config_find_capacity(e->cfg, name);
  if (i < 0)
    return -1;
  /* The config file's bounds: below the floor no signal could carry the
   * ceiling, above the top the token refill is no longer exact. */
  if (bps != 0 && (bps < SCONED_MIN_RATE_BPS || bps > SCONED_MAX_RATE_BPS))
    return -2;
  e->cap_bps[i] = bps;
  e->advice_gen++;
  for (size_t j = 0; j < e->cfg->nsubs; j++)
    if (e->cfg->subs[j].capacity == (uint16_t)i)
      derive_sub(&e->subs[j], e->cfg, &e->cfg->subs[j], e->cap_bps,
                 e->plan_stat, e->stats);
  return 0;
}
