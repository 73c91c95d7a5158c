/*
 * CMCD (CTA-5004): the data a player sends with each request, as the
 * query argument or the four header shards, and the decoder a server uses
 * to read it back. Advice gives two of the keys: mtp, what the player
 * measured, and rtp, the most it asks the server to deliver.
 */
#include "cta_dict.h"
#include "internal.h"

#include <stddef.h>
#include <string.h>

#define F(field) offsetof(scone_app_cmcd_data, field)
#define S(field) F(field), sizeof(((scone_app_cmcd_data *)0)->field)

/* CTA-5004 table 1 to 4: key, type, shard. In alphabetical order. */
static const cta_key keys[] = {
    {"bl", SCONE_APP_CMCD_BL, CTA_U64_R100, SCONE_APP_CMCD_REQUEST, F(bl_ms), 0,
     0, 0},
    {"br", SCONE_APP_CMCD_BR, CTA_U64, SCONE_APP_CMCD_OBJECT, F(br_kbps), 0, 0,
     0},
    {"bs", SCONE_APP_CMCD_BS, CTA_BOOL, SCONE_APP_CMCD_STATUS, 0, 0, 0, 0},
    {"cid", SCONE_APP_CMCD_CID, CTA_STR, SCONE_APP_CMCD_SESSION, S(cid), 0, 0},
    {"d", SCONE_APP_CMCD_D, CTA_U64, SCONE_APP_CMCD_OBJECT, F(d_ms), 0, 0, 0},
    {"dl", SCONE_APP_CMCD_DL, CTA_U64_R100, SCONE_APP_CMCD_REQUEST, F(dl_ms), 0,
     0, 0},
    {"mtp", SCONE_APP_CMCD_MTP, CTA_U64_R100, SCONE_APP_CMCD_REQUEST,
     F(mtp_kbps), 0, 0, 0},
    {"nor", SCONE_APP_CMCD_NOR, CTA_STR, SCONE_APP_CMCD_REQUEST, S(nor), 0, 0},
    {"nrr", SCONE_APP_CMCD_NRR, CTA_STR, SCONE_APP_CMCD_REQUEST, S(nrr), 0, 0},
    {"ot", SCONE_APP_CMCD_OT, CTA_OT, SCONE_APP_CMCD_OBJECT, F(ot), 0, 0, 0},
    {"pr", SCONE_APP_CMCD_PR, CTA_DEC, SCONE_APP_CMCD_SESSION, F(pr_milli), 0,
     1, 1000},
    {"rtp", SCONE_APP_CMCD_RTP, CTA_U64_RTP, SCONE_APP_CMCD_STATUS, F(rtp_kbps),
     0, 0, 0},
    {"sf", SCONE_APP_CMCD_SF, CTA_SF, SCONE_APP_CMCD_SESSION, F(sf), 0, 0, 0},
    {"sid", SCONE_APP_CMCD_SID, CTA_STR, SCONE_APP_CMCD_SESSION, S(sid), 0, 0},
    {"st", SCONE_APP_CMCD_ST, CTA_ST, SCONE_APP_CMCD_SESSION, F(st), 0, 0, 0},
    {"su", SCONE_APP_CMCD_SU, CTA_BOOL, SCONE_APP_CMCD_REQUEST, 0, 0, 0, 0},
    {"tb", SCONE_APP_CMCD_TB, CTA_U64, SCONE_APP_CMCD_OBJECT, F(tb_kbps), 0, 0,
     0},
    {"v", SCONE_APP_CMCD_V, CTA_U32, SCONE_APP_CMCD_SESSION, F(v), 0, 1, 1},
};

#define NKEYS (sizeof keys / sizeof keys[0])

/* The query argument's payload is bounded so that a server decodes it in a
 * fixed buffer; 4 KiB is far above any real CMCD (a few hundred bytes). */
#define QUERY_MAX 4096

uint64_t scone_app_cmcd_round_kbps(uint64_t bps) {
  /* 100 kbit/s = 100000 bit/s; halves round up. */
  if (bps > UINT64_MAX - 50000)
    return bps / 100000 * 100;
  return (bps + 50000) / 100000 * 100;
}

int scone_app_cmcd_from_advice(scone_app_cmcd *out, const scone_advice *advice,
                               uint64_t measured_bps,
                               const scone_app_settings *settings) {
  uint64_t cap;
  int rc = scone_app_media_cap_bps(&cap, advice, settings);
  /* Settings it cannot read: nothing is said rather than something wrong. */
  if (rc < 0)
    measured_bps = 0;

  out->has_rtp = cap != 0;
  out->rtp_kbps = 0;
  if (out->has_rtp) {
    out->rtp_kbps = scone_app_cmcd_round_kbps(cap);
    if (out->rtp_kbps == 0)
      out->rtp_kbps = 100;
  }

  out->has_mtp = measured_bps != 0;
  out->mtp_kbps = 0;
  if (out->has_mtp)
    out->mtp_kbps = scone_app_cmcd_round_kbps(
        cap && measured_bps > cap ? cap : measured_bps);
  return rc;
}

int scone_app_cmcd_render(char *buf, size_t len, const scone_app_cmcd *c,
                          scone_app_cmcd_shard shard) {
  if (!buf || !c || shard < SCONE_APP_CMCD_ALL || shard > SCONE_APP_CMCD_STATUS)
    return SCONE_ERR_INVALID_ARGUMENT;
  scone_app_cmcd_data d;
  memset(&d, 0, sizeof d);
  if (c->has_mtp) {
    d.present |= SCONE_APP_CMCD_MTP;
    d.mtp_kbps = c->mtp_kbps;
  }
  if (c->has_rtp) {
    d.present |= SCONE_APP_CMCD_RTP;
    d.rtp_kbps = c->rtp_kbps;
  }
  return scone_app_cmcd_encode(buf, len, &d, shard);
}

scone_app_cmcd_shard scone_app_cmcd_key_shard(uint32_t key) {
  for (size_t i = 0; i < NKEYS; i++)
    if (keys[i].bit == key)
      return (scone_app_cmcd_shard)keys[i].shard;
  return SCONE_APP_CMCD_ALL;
}

const char *scone_app_cmcd_header_name(scone_app_cmcd_shard shard) {
  switch (shard) {
  case SCONE_APP_CMCD_REQUEST:
    return "CMCD-Request";
  case SCONE_APP_CMCD_OBJECT:
    return "CMCD-Object";
  case SCONE_APP_CMCD_STATUS:
    return "CMCD-Status";
  case SCONE_APP_CMCD_SESSION:
    return "CMCD-Session";
  default:
    return NULL;
  }
}

int scone_app_cmcd_set_nor(scone_app_cmcd_data *c, const char *path) {
  if (!c || !path)
    return SCONE_ERR_INVALID_ARGUMENT;
  sfv_out o;
  sfv_out_init(&o, c->nor, sizeof c->nor);
  cta_url_encode(&o, path, strlen(path));
  int r = sfv_out_finish(&o);
  if (r < 0) {
    c->present &= ~SCONE_APP_CMCD_NOR;
    return r;
  }
  c->present |= SCONE_APP_CMCD_NOR;
  return 0;
}

static int valid_shard(scone_app_cmcd_shard shard) {
  return shard >= SCONE_APP_CMCD_ALL && shard <= SCONE_APP_CMCD_SESSION;
}

int scone_app_cmcd_encode(char *buf, size_t len, const scone_app_cmcd_data *c,
                          scone_app_cmcd_shard shard) {
  if (!buf || !c || !valid_shard(shard))
    return SCONE_ERR_INVALID_ARGUMENT;
  sfv_out o;
  sfv_out_init(&o, buf, len);
  cta_dict_encode(&o, keys, NKEYS, c, c->present, (int)shard);
  return sfv_out_finish(&o);
}

int scone_app_cmcd_encode_query(char *buf, size_t len,
                                const scone_app_cmcd_data *c) {
  if (!buf || !c)
    return SCONE_ERR_INVALID_ARGUMENT;
  char plain[QUERY_MAX];
  int n = scone_app_cmcd_encode(plain, sizeof plain, c, SCONE_APP_CMCD_ALL);
  sfv_out o;
  sfv_out_init(&o, buf, len);
  if (n < 0)
    return n == SCONE_ERR_NOBUF ? SCONE_ERR_INVALID_ARGUMENT : n;
  if (n > 0) {
    sfv_out_raw(&o, "CMCD=");
    cta_url_encode(&o, plain, (size_t)n);
  }
  return sfv_out_finish(&o);
}

int scone_app_cmcd_decode(scone_app_cmcd_data *c, scone_app_cmcd_shard shard,
                          const char *text, size_t len) {
  if (!c || (!text && len) || !valid_shard(shard))
    return SCONE_ERR_INVALID_ARGUMENT;
  scone_app_cmcd_data tmp = *c;
  int r = cta_dict_decode(keys, NKEYS, &tmp, &tmp.present, text ? text : "",
                          len, (int)shard, &tmp.unknown_keys, &tmp.invalid_keys,
                          &tmp.misplaced_keys);
  if (r >= 0)
    *c = tmp;
  return r;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int scone_app_cmcd_decode_query(scone_app_cmcd_data *c, const char *target,
                                size_t len) {
  if (!c || (!target && len))
    return SCONE_ERR_INVALID_ARGUMENT;
  if (len == 0)
    return 0;
  const char *p = target, *end = target + len;
  const char *q = memchr(p, '?', len);
  if (q)
    p = q + 1;
  /* A fragment is not part of the query. */
  const char *hash = memchr(p, '#', (size_t)(end - p));
  if (hash)
    end = hash;
  while (p < end) {
    const char *amp = memchr(p, '&', (size_t)(end - p));
    const char *arg_end = amp ? amp : end;
    if (arg_end - p >= 5 && memcmp(p, "CMCD=", 5) == 0) {
      char plain[QUERY_MAX];
      size_t n = 0;
      for (const char *s = p + 5; s < arg_end; s++) {
        char ch = *s;
        if (ch == '%') {
          int hi = s + 2 < arg_end ? hexval(s[1]) : -1;
          int lo = s + 2 < arg_end ? hexval(s[2]) : -1;
          if (hi < 0 || lo < 0)
            return SCONE_ERR_MALFORMED;
          ch = (char)(hi << 4 | lo);
          s += 2;
        } else if (ch == '+') {
          ch = ' ';
        }
        if (n == sizeof plain)
          return SCONE_ERR_MALFORMED;
        plain[n++] = ch;
      }
      return scone_app_cmcd_decode(c, SCONE_APP_CMCD_ALL, plain, n);
    }
    p = arg_end + 1;
  }
  return 0;
}
