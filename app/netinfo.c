/*
 * A W3C NetworkInformation-like view: the throughput estimate bounded by the
 * advice, rounded as the W3C spec asks (coarse values resist fingerprinting),
 * and change events with hysteresis.
 */
#include "internal.h"

#include <math.h>

#define DOWNLINK_STEP_BPS 25000ULL
#define RTT_STEP_NS (25 * SCONE_MILLISECONDS)

/* W3C effective connection type table: the slowest type whose minimum RTT
 * or maximum downlink the measurements reach. */
static const struct {
  scone_app_effective_type type;
  uint64_t min_rtt_ms;
  uint64_t max_downlink_kbps;
} ect_table[] = {
    {SCONE_APP_ECT_SLOW_2G, 2000, 50},
    {SCONE_APP_ECT_2G, 1400, 70},
    {SCONE_APP_ECT_3G, 270, 700},
};

const char *scone_app_effective_type_name(scone_app_effective_type t) {
  switch (t) {
  case SCONE_APP_ECT_SLOW_2G:
    return "slow-2g";
  case SCONE_APP_ECT_2G:
    return "2g";
  case SCONE_APP_ECT_3G:
    return "3g";
  case SCONE_APP_ECT_4G:
    return "4g";
  default:
    return NULL;
  }
}

static uint64_t round_to(uint64_t v, uint64_t step) {
  if (v > UINT64_MAX - step / 2)
    return v / step * step;
  return (v + step / 2) / step * step;
}

static scone_app_effective_type effective_type(const scone_app_netinfo *ni) {
  if (!ni->has_downlink && !ni->has_rtt)
    return SCONE_APP_ECT_UNKNOWN;
  for (size_t i = 0; i < sizeof ect_table / sizeof ect_table[0]; i++) {
    if ((ni->has_rtt && ni->rtt_ms >= ect_table[i].min_rtt_ms) ||
        (ni->has_downlink &&
         ni->downlink_bps <= ect_table[i].max_downlink_kbps * 1000))
      return ect_table[i].type;
  }
  return SCONE_APP_ECT_4G;
}

void scone_app_netinfo_compute(scone_app_netinfo *out,
                               const scone_advice *advice,
                               uint64_t estimate_bps, scone_duration rtt,
                               int save_data) {
  int advised = scone_app_advice_known(advice);
  uint64_t dl = estimate_bps;
  if (advised && (dl == 0 || dl > advice->bps))
    dl = advice->bps;

  out->has_downlink = dl != 0;
  out->downlink_bps = round_to(dl, DOWNLINK_STEP_BPS);
  /* Nearest can round up past the advice, which is a ceiling. */
  if (advised && out->downlink_bps > advice->bps)
    out->downlink_bps = advice->bps / DOWNLINK_STEP_BPS * DOWNLINK_STEP_BPS;
  out->downlink_mbps = (double)out->downlink_bps / 1e6;
  out->downlink_max_mbps = advised ? (double)advice->bps / 1e6 : INFINITY;

  out->has_rtt = rtt != 0;
  out->rtt_ms = round_to(rtt, RTT_STEP_NS) / SCONE_MILLISECONDS;

  out->save_data = save_data != 0;
  out->advice_signal = advised ? advice->signal : SCONE_SIGNAL_UNKNOWN;
  out->advice_bps = advised ? advice->bps : 0;
  out->effective_type = effective_type(out);
}

int scone_app_netinfo_state_init(scone_app_netinfo_state *st,
                                 const scone_app_settings *settings) {
  int rc = scone_app_settings_resolve(&st->s, settings);
  st->reported_once = 0;
  scone_app_netinfo_compute(&st->reported, NULL, 0, 0, st->s.save_data);
  st->last_event = 0;
  return rc;
}

static int moved(uint64_t now, uint64_t was, uint32_t pct) {
  uint64_t diff = now > was ? now - was : was - now;
  /* In double: the product of a rate and a percentage may not fit. */
  return diff != 0 && (double)diff * 100.0 >= (double)pct * (double)was;
}

static int significant(const scone_app_netinfo *c, const scone_app_netinfo *r,
                       uint32_t pct) {
  if (c->has_downlink != r->has_downlink || c->has_rtt != r->has_rtt ||
      c->effective_type != r->effective_type || c->save_data != r->save_data)
    return 1;
  if (c->has_downlink && moved(c->downlink_bps, r->downlink_bps, pct))
    return 1;
  return c->has_rtt && moved(c->rtt_ms, r->rtt_ms, pct);
}

int scone_app_netinfo_update(scone_app_netinfo_state *st,
                             const scone_advice *advice, uint64_t estimate_bps,
                             scone_duration rtt, scone_tstamp now) {
  scone_app_netinfo c;
  scone_app_netinfo_compute(&c, advice, estimate_bps, rtt, st->s.save_data);

  int fire;
  if (!st->reported_once || c.advice_signal != st->reported.advice_signal)
    fire = 1;
  else if (now - st->last_event < st->s.netinfo_min_interval)
    fire = 0; /* unsigned: a clock that stepped back reads as long elapsed */
  else
    fire = significant(&c, &st->reported, st->s.netinfo_change_pct);

  if (fire) {
    st->reported = c;
    st->reported_once = 1;
    st->last_event = now;
  }
  return fire;
}

void scone_app_netinfo_get(const scone_app_netinfo_state *st,
                           scone_app_netinfo *out) {
  *out = st->reported;
}

int scone_app_netinfo_to_json(const scone_app_netinfo *ni, char *buf,
                              size_t len) {
  if (!ni || !buf)
    return SCONE_ERR_INVALID_ARGUMENT;
  json_t *o = json_object();
  if (!o)
    return SCONE_ERR_NOBUF;
  const char *ect = scone_app_effective_type_name(ni->effective_type);
  int err = 0;
  err |= scone_app_json_set(o, "downlink",
                            ni->has_downlink ? json_real(ni->downlink_mbps)
                                             : json_null());
  /* JSON has no Infinity, W3C's value for an unknown maximum. */
  err |= scone_app_json_set(o, "downlinkMax",
                            isfinite(ni->downlink_max_mbps)
                                ? json_real(ni->downlink_max_mbps)
                                : json_null());
  err |= scone_app_json_set(
      o, "rtt", scone_app_json_u64_or_null(ni->has_rtt, ni->rtt_ms));
  err |= scone_app_json_set(o, "effectiveType",
                            ect ? json_string(ect) : json_null());
  err |= scone_app_json_set(o, "saveData", json_boolean(ni->save_data));
  err |= scone_app_json_set(
      o, "throughputAdvice",
      scone_app_json_u64_or_null(ni->advice_signal <= SCONE_SIGNAL_MAX,
                                 ni->advice_bps));
  if (err) {
    json_decref(o);
    return SCONE_ERR_NOBUF;
  }
  return scone_app_json_dump(o, buf, len, 0);
}
