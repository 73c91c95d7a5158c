/*
 * The config object: construction, the embedded default and read-only
 * views. Parsing lives in config_parse.c.
 */
#include "config_internal.h"

#include <stdlib.h>
#include <string.h>

sconed_config *sconed_config_new_empty(void) {
  sconed_config *c = calloc(1, sizeof(*c));
  if (!c)
    return NULL;
  c->period = SCONE_PERIOD;
  c->tolerance_pct = SCONED_DEFAULT_TOLERANCE_PCT;
  c->initial_rewrites = SCONED_DEFAULT_INITIAL_REWRITES;
  c->rewrites_per_period = SCONED_DEFAULT_REWRITES_PER_PERIOD;
  c->announce_grace = SCONED_DEFAULT_ANNOUNCE_GRACE_PACKETS;
  c->dpi_max_packets = SCONED_DEFAULT_DPI_MAX_PACKETS;
  sconed_lpm_init(&c->lpm);
  return c;
}

void sconed_config_free(sconed_config *c) {
  if (!c)
    return;
  free(c->plans);
  free(c->caps);
  free(c->subs);
  free(c->dpi_sni);
  sconed_lpm_free(&c->lpm);
  free(c);
}

sconed_config *sconed_config_default(uint64_t advice_bps,
                                     sconed_enforce enforce) {
  sconed_config *c = sconed_config_new_empty();
  if (!c)
    return NULL;
  c->plans = calloc(1, sizeof(*c->plans));
  c->subs = calloc(1, sizeof(*c->subs));
  if (!c->plans || !c->subs)
    goto fail;
  sconed_plan *p = &c->plans[0];
  strcpy(p->name, SCONED_DEFAULT_PLAN_NAME);
  p->downlink_bps = advice_bps ? advice_bps : SCONED_DEFAULT_ADVICE_BPS;
  p->action = enforce;
  p->burst_bytes = SCONED_DEFAULT_BURST_BYTES;
  p->max_delay = SCONED_DEFAULT_MAX_DELAY;
  c->nplans = c->plans_cap = 1;
  c->subs[0].plan = 0;
  c->subs[0].capacity = SCONED_NO_CAPACITY;
  c->subs[0].opt_in = 1;
  c->nsubs = c->subs_cap = 1;
  /* Both catch-alls name the same subscriber entry: with every address a
   * subscriber, the first sender of a flow is taken as the subscriber. */
  static const uint8_t any[16];
  if (sconed_lpm_add(&c->lpm, 4, any, 0, 0) ||
      sconed_lpm_add(&c->lpm, 6, any, 0, 0))
    goto fail;
  sconed_lpm_build(&c->lpm);
  return c;
fail:
  sconed_config_free(c);
  return NULL;
}

long sconed_config_find_plan(const sconed_config *c, const char *name) {
  for (size_t i = 0; i < c->nplans; i++)
    if (!strcmp(c->plans[i].name, name))
      return (long)i;
  return -1;
}

long sconed_config_find_capacity(const sconed_config *c, const char *name) {
  for (size_t i = 0; i < c->ncaps; i++)
    if (!strcmp(c->caps[i].name, name))
      return (long)i;
  return -1;
}

size_t sconed_config_plan_count(const sconed_config *c) {
  return c->nplans;
}

int sconed_config_plan(const sconed_config *c, size_t i,
                       sconed_plan_info *out) {
  if (i >= c->nplans)
    return -1;
  const sconed_plan *p = &c->plans[i];
  out->name = p->name;
  out->downlink_bps = p->downlink_bps;
  out->uplink_bps = p->uplink_bps;
  out->action = p->action;
  out->rate_bps = p->rate_bps ? p->rate_bps : p->downlink_bps;
  out->burst_bytes = p->burst_bytes;
  out->max_delay = p->max_delay;
  return 0;
}

size_t sconed_config_capacity_count(const sconed_config *c) {
  return c->ncaps;
}

const char *sconed_config_capacity(const sconed_config *c, size_t i,
                                   uint64_t *bps) {
  if (i >= c->ncaps)
    return NULL;
  if (bps)
    *bps = c->caps[i].bps;
  return c->caps[i].name;
}

size_t sconed_config_subscriber_count(const sconed_config *c) {
  return c->nsubs;
}

scone_duration sconed_config_period(const sconed_config *c) {
  return c->period;
}

int sconed_config_lab_period(const sconed_config *c) {
  return c->period < SCONED_MIN_PERIOD;
}

size_t sconed_config_dpi_sni_count(const sconed_config *c) {
  return c->ndpi_sni;
}

const char *sconed_config_dpi_sni(const sconed_config *c, size_t i) {
  return i < c->ndpi_sni ? c->dpi_sni[i] : NULL;
}

uint32_t sconed_config_dpi_max_packets(const sconed_config *c) {
  return c->dpi_max_packets;
}

void sconed_config_set_announce_grace(sconed_config *c, uint32_t packets) {
  c->announce_grace = packets > SCONED_MAX_ANNOUNCE_GRACE_PACKETS
                          ? SCONED_MAX_ANNOUNCE_GRACE_PACKETS
                          : packets;
}

void sconed_config_optin_counts(const sconed_config *c, size_t *in,
                                size_t *out) {
  size_t n = 0;
  for (size_t i = 0; i < c->nsubs; i++)
    n += c->subs[i].opt_in != 0;
  *in = n;
  *out = c->nsubs - n;
}

static void *dup_array(const void *p, size_t n, size_t elem, int *bad) {
  if (!n)
    return NULL;
  void *d = malloc(n * elem);
  if (!d)
    *bad = 1;
  else
    memcpy(d, p, n * elem);
  return d;
}

sconed_config *sconed_config_clone(const sconed_config *c) {
  sconed_config *d = malloc(sizeof(*d));
  if (!d)
    return NULL;
  *d = *c;
  int bad = 0;
  d->plans = dup_array(c->plans, c->nplans, sizeof(*c->plans), &bad);
  d->caps = dup_array(c->caps, c->ncaps, sizeof(*c->caps), &bad);
  d->subs = dup_array(c->subs, c->nsubs, sizeof(*c->subs), &bad);
  d->plans_cap = c->nplans;
  d->caps_cap = c->ncaps;
  d->subs_cap = c->nsubs;
  d->lpm.e = dup_array(c->lpm.e, c->lpm.n, sizeof(*c->lpm.e), &bad);
  d->lpm.cap = c->lpm.n;
  if (bad) {
    sconed_config_free(d);
    return NULL;
  }
  return d;
}

int sconed_config_set_optin(sconed_config *c, int family, const uint8_t *addr,
                            int opt_in) {
  uint32_t v;
  unsigned plen;
  if (sconed_lpm_lookup(&c->lpm, family, addr, &v, &plen) < 0 ||
      v >= c->nsubs)
    return -1;
  uint8_t want = opt_in ? 1 : 0;
  if (c->subs[v].opt_in == want)
    return 0;
  c->subs[v].opt_in = want;
  return 1;
}

int sconed_config_prefix_valid(const char *s) {
  int family;
  uint8_t addr[16];
  unsigned plen;
  return sconed_prefix_parse(s, &family, addr, &plen) == 0;
}
