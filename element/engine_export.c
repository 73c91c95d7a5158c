/* What the engine derives from its config, for datapaths that apply it
 * elsewhere (the XDP program publishes it in its maps). */
#include "engine_internal.h"

#include <string.h>

size_t sconed_engine_prefix_count(const sconed_engine *e) {
  return e->cfg ? e->cfg->lpm.n : 0;
}

int sconed_engine_prefix_get(const sconed_engine *e, size_t i,
                             sconed_engine_prefix *out) {
  if (!e->cfg || i >= e->cfg->lpm.n)
    return -1;
  const sconed_lpm_entry *l = &e->cfg->lpm.e[i];
  const sconed_sub_rt *s = &e->subs[l->value];
  memset(out, 0, sizeof(*out));
  out->family = l->family;
  out->plen = l->plen;
  memcpy(out->addr, l->addr, sizeof(out->addr));
  out->entry = l->value;
  for (int d = 0; d < 2; d++) {
    out->sig[d] = s->sig[d];
    out->advise[d] = s->advise[d];
    out->rate_fp[d] = s->rate_fp[d];
  }
  /* As sconed_subs_attach keys a subscriber. */
  out->key_plen = l->family == 4 ? 32
                  : l->plen > e->s.subscriber_prefix_v6
                      ? l->plen
                      : e->s.subscriber_prefix_v6;
  out->action = s->action;
  out->burst = s->burst;
  return 0;
}

void sconed_engine_timing_get(const sconed_engine *e, sconed_engine_timing *t) {
  t->period = e->cfg->period;
  t->slot_ns = e->cfg->period / e->cfg->rewrites_per_period;
  t->initial_rewrites = e->cfg->initial_rewrites;
  t->idle_timeout = e->s.idle_timeout;
  t->seed = e->s.seed;
  t->seed_fixed = e->s.seed_source == SCONED_SEED_FIXED;
  t->announce_grace = e->cfg->announce_grace;
}

uint64_t sconed_engine_advice_gen(const sconed_engine *e) {
  return e->advice_gen;
}

void sconed_engine_allowance(const sconed_engine *e,
                             uint64_t allow16[SCONE_SIGNAL_MAX + 1]) {
  memcpy(allow16, e->allow16, sizeof(e->allow16));
}
