/*
 * CMSD (CTA-5006): what a server, or here the network through the server,
 * tells the player. CMSD-Static is a Structured Field dictionary about the
 * object; CMSD-Dynamic a list whose members are the identifiers of the
 * servers on the path, each with its keys as parameters (RFC 8941).
 */
#include "cta_dict.h"
#include "internal.h"

#include <stddef.h>
#include <string.h>

#define F(field) offsetof(scone_app_cmsd_static, field)
#define S(field) F(field), sizeof(((scone_app_cmsd_static *)0)->field)

/* CTA-5006 CMSD-Static keys, alphabetical. */
static const cta_key static_keys[] = {
    {"at", SCONE_APP_CMSD_AT, CTA_U64, 0, F(at_ms), 0, 0, 0},
    {"br", SCONE_APP_CMSD_BR, CTA_U64, 0, F(br_kbps), 0, 0, 0},
    {"d", SCONE_APP_CMSD_D, CTA_U64, 0, F(d_ms), 0, 0, 0},
    {"ht", SCONE_APP_CMSD_HT, CTA_U64, 0, F(ht_ms), 0, 0, 0},
    {"n", SCONE_APP_CMSD_N, CTA_STR, 0, S(n), 0, 0},
    {"nor", SCONE_APP_CMSD_NOR, CTA_STR, 0, S(nor), 0, 0},
    {"nrr", SCONE_APP_CMSD_NRR, CTA_STR, 0, S(nrr), 0, 0},
    {"ot", SCONE_APP_CMSD_OT, CTA_OT, 0, F(ot), 0, 0, 0},
    {"sf", SCONE_APP_CMSD_SF, CTA_SF, 0, F(sf), 0, 0, 0},
    {"st", SCONE_APP_CMSD_ST, CTA_ST, 0, F(st), 0, 0, 0},
    {"su", SCONE_APP_CMSD_SU, CTA_BOOL, 0, 0, 0, 0, 0},
    {"v", SCONE_APP_CMSD_V, CTA_U32, 0, F(v), 0, 1, 1},
};

int scone_app_cmsd_from_advice(scone_app_cmsd_dynamic *out,
                               const scone_advice *advice,
                               const scone_app_settings *settings) {
  uint64_t cap;
  int rc = scone_app_media_cap_bps(&cap, advice, settings);
  memset(out, 0, sizeof *out);
  /* Down, not nearest: the player must be able to trust mb as a ceiling. */
  out->has_mb = cap != 0;
  out->mb_kbps = cap / 1000;
  return rc;
}

static void put_param(sfv_out *o, const char *key, int has, uint64_t v) {
  if (!has)
    return;
  sfv_out_key(o, ';', key);
  sfv_out_raw(o, "=");
  sfv_out_integer(o, v > SFV_INTEGER_MAX ? SFV_INTEGER_MAX + 1 : (int64_t)v);
}

int scone_app_cmsd_dynamic_render(char *buf, size_t len, const char *server_id,
                                  const scone_app_cmsd_dynamic *d) {
  if (!buf || !d || !server_id)
    return SCONE_ERR_INVALID_ARGUMENT;
  sfv_out o;
  sfv_out_init(&o, buf, len);
  sfv_out_string(&o, server_id);
  if (d->du)
    sfv_out_key(&o, ';', "du");
  put_param(&o, "etp", d->has_etp, d->etp_kbps);
  put_param(&o, "mb", d->has_mb, d->mb_kbps);
  put_param(&o, "rd", d->has_rd, d->rd_ms);
  put_param(&o, "rtt", d->has_rtt, d->rtt_ms);
  return sfv_out_finish(&o);
}

int scone_app_cmsd_static_encode(char *buf, size_t len,
                                 const scone_app_cmsd_static *s) {
  if (!buf || !s)
    return SCONE_ERR_INVALID_ARGUMENT;
  sfv_out o;
  sfv_out_init(&o, buf, len);
  cta_dict_encode(&o, static_keys, sizeof static_keys / sizeof static_keys[0],
                  s, s->present, 0);
  return sfv_out_finish(&o);
}

/* One parameter of a CMSD-Dynamic member; unknown or mistyped ones are
 * skipped. */
static void take_param(scone_app_cmsd_dynamic *d, const char *key,
                       size_t keylen, const sfv_item *v) {
  if (sfv_key_is(key, keylen, "du")) {
    if (v->type == SFV_BOOLEAN)
      d->du = (int)v->num;
    return;
  }
  if (v->type != SFV_INTEGER || v->num < 0)
    return;
  uint64_t u = (uint64_t)v->num;
  if (sfv_key_is(key, keylen, "etp")) {
    d->has_etp = 1;
    d->etp_kbps = u;
  } else if (sfv_key_is(key, keylen, "mb")) {
    d->has_mb = 1;
    d->mb_kbps = u;
  } else if (sfv_key_is(key, keylen, "rd")) {
    d->has_rd = 1;
    d->rd_ms = u;
  } else if (sfv_key_is(key, keylen, "rtt")) {
    d->has_rtt = 1;
    d->rtt_ms = u;
  }
}

int scone_app_cmsd_dynamic_decode(const char *text, size_t len,
                                  scone_app_cmsd_entry *entries, size_t max) {
  if ((!text && len) || (!entries && max))
    return SCONE_ERR_INVALID_ARGUMENT;
  sfv_parser sp;
  sfv_parser_init(&sp, text ? text : "", len);
  sfv_item v, pv;
  const char *key;
  size_t keylen;
  int r, count = 0;
  while ((r = sfv_list_next(&sp, &v)) == 1) {
    scone_app_cmsd_entry scratch;
    scone_app_cmsd_entry *e = (size_t)count < max ? &entries[count] : &scratch;
    memset(e, 0, sizeof *e);
    if (v.type == SFV_STRING) {
      if (sfv_unescape(&v, e->server, sizeof e->server) < 0)
        e->server[0] = '\0';
    } else if (v.type == SFV_TOKEN && v.len < sizeof e->server) {
      memcpy(e->server, v.str, v.len);
      e->server[v.len] = '\0';
    }
    while ((r = sfv_param_next(&sp, &key, &keylen, &pv)) == 1)
      take_param(&e->d, key, keylen, &pv);
    if (r < 0)
      return SCONE_ERR_MALFORMED;
    if (count == INT32_MAX)
      return SCONE_ERR_MALFORMED;
    count++;
  }
  return r < 0 ? SCONE_ERR_MALFORMED : count;
}

int scone_app_cmsd_dynamic_min_mb(const scone_app_cmsd_entry *entries, size_t n,
                                  uint64_t *mb_kbps) {
  int found = 0;
  uint64_t best = 0;
  for (size_t i = 0; entries && i < n; i++)
    if (entries[i].d.has_mb && (!found || entries[i].d.mb_kbps < best)) {
      best = entries[i].d.mb_kbps;
      found = 1;
    }
  if (found && mb_kbps)
    *mb_kbps = best;
  return found;
}
