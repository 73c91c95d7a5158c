/*
 * The table-driven dictionary codec behind CMCD and CMSD-Static.
 */
#include "cta_dict.h"

#include <string.h>

static const char *const ot_names[] = {"m", "a",  "v", "av", "i",
                                       "c", "tt", "k", "o"};
static const char *const sf_names[] = {"d", "h", "s", "o"};
static const char *const st_names[] = {"v", "l"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const *token_table(cta_kind kind, size_t *n) {
  switch (kind) {
  case CTA_OT:
    *n = COUNT(ot_names);
    return ot_names;
  case CTA_SF:
    *n = COUNT(sf_names);
    return sf_names;
  default:
    *n = COUNT(st_names);
    return st_names;
  }
}

static uint64_t round100(uint64_t v) {
  return v > UINT64_MAX - 50 ? v / 100 * 100 : (v + 50) / 100 * 100;
}

static void encode_value(sfv_out *o, const cta_key *k, const char *field) {
  uint64_t u64;
  uint32_t u32;
  int e;
  switch (k->kind) {
  case CTA_U64:
  case CTA_U64_R100:
  case CTA_U64_RTP:
    memcpy(&u64, field, sizeof u64);
    if (k->kind != CTA_U64)
      u64 = round100(u64);
    if (k->kind == CTA_U64_RTP && u64 == 0)
      u64 = 100;
    sfv_out_raw(o, "=");
    /* Past an sf-integer the output call flags the error. */
    sfv_out_integer(o,
                    u64 > SFV_INTEGER_MAX ? SFV_INTEGER_MAX + 1 : (int64_t)u64);
    return;
  case CTA_U32:
    memcpy(&u32, field, sizeof u32);
    sfv_out_raw(o, "=");
    sfv_out_integer(o, u32);
    return;
  case CTA_DEC:
    memcpy(&u32, field, sizeof u32);
    sfv_out_raw(o, "=");
    sfv_out_decimal(o, u32);
    return;
  case CTA_BOOL:
    return; /* a true Boolean is the bare key */
  case CTA_STR:
    if (strnlen(field, k->cap) == k->cap) {
      o->err = o->err ? o->err : SCONE_ERR_INVALID_ARGUMENT;
      return;
    }
    sfv_out_raw(o, "=");
    sfv_out_string(o, field);
    return;
  case CTA_OT:
  case CTA_SF:
  case CTA_ST: {
    size_t n;
    const char *const *names = token_table(k->kind, &n);
    memcpy(&e, field, sizeof e);
    if (e < 0 || (size_t)e >= n) {
      o->err = o->err ? o->err : SCONE_ERR_INVALID_ARGUMENT;
      return;
    }
    sfv_out_raw(o, "=");
    sfv_out_raw(o, names[e]);
    return;
  }
  }
}

static int is_default(const cta_key *k, const char *field) {
  if (!k->has_default)
    return 0;
  uint32_t u32;
  memcpy(&u32, field, sizeof u32); /* defaults exist only for 32-bit keys */
  return u32 == k->dflt;
}

void cta_dict_encode(sfv_out *o, const cta_key *keys, size_t n, const void *obj,
                     uint32_t present, int shard) {
  for (size_t i = 0; i < n; i++) {
    const cta_key *k = &keys[i];
    const char *field = (const char *)obj + k->off;
    if (!(present & k->bit) || (shard && k->shard != shard) ||
        is_default(k, field))
      continue;
    sfv_out_key(o, ',', k->name);
    encode_value(o, k, field);
  }
}

/* Stores one value; 1 when taken, 0 when its value does not fit the key. */
static int decode_value(const cta_key *k, char *field, uint32_t *present,
                        const sfv_item *v) {
  switch (k->kind) {
  case CTA_U64:
  case CTA_U64_R100:
  case CTA_U64_RTP: {
    if (v->type != SFV_INTEGER || v->num < 0)
      return 0;
    uint64_t u = (uint64_t)v->num;
    memcpy(field, &u, sizeof u);
    break;
  }
  case CTA_U32: {
    if (v->type != SFV_INTEGER || v->num < 0 || v->num > UINT32_MAX)
      return 0;
    uint32_t u = (uint32_t)v->num;
    memcpy(field, &u, sizeof u);
    break;
  }
  case CTA_DEC: {
    int64_t milli = v->type == SFV_INTEGER ? v->num * 1000 : v->num;
    if ((v->type != SFV_INTEGER && v->type != SFV_DECIMAL) || milli < 0 ||
        milli > UINT32_MAX)
      return 0;
    uint32_t u = (uint32_t)milli;
    memcpy(field, &u, sizeof u);
    break;
  }
  case CTA_BOOL:
    if (v->type != SFV_BOOLEAN)
      return 0;
    /* "MUST NOT be sent if false": read a false one as absent. */
    if (v->num)
      *present |= k->bit;
    else
      *present &= ~k->bit;
    return 1;
  case CTA_STR:
    if (v->type != SFV_STRING || sfv_unescape(v, field, k->cap) < 0)
      return 0;
    break;
  case CTA_OT:
  case CTA_SF:
  case CTA_ST: {
    size_t n;
    const char *const *names = token_table(k->kind, &n);
    if (v->type != SFV_TOKEN)
      return 0;
    int e = -1;
    for (size_t i = 0; i < n; i++)
      if (sfv_key_is(v->str, v->len, names[i]))
        e = (int)i;
    if (e < 0)
      return 0;
    memcpy(field, &e, sizeof e);
    break;
  }
  }
  *present |= k->bit;
  return 1;
}

int cta_dict_decode(const cta_key *keys, size_t n, void *obj, uint32_t *present,
                    const char *text, size_t len, int shard, uint32_t *unknown,
                    uint32_t *invalid, uint32_t *misplaced) {
  sfv_parser sp;
  sfv_parser_init(&sp, text, len);
  const char *name;
  size_t namelen;
  sfv_item v;
  int r, taken = 0;
  while ((r = sfv_dict_next(&sp, &name, &namelen, &v)) == 1) {
    const cta_key *k = NULL;
    for (size_t i = 0; i < n && !k; i++)
      if (sfv_key_is(name, namelen, keys[i].name))
        k = &keys[i];
    if (!k) {
      (*unknown)++;
      continue;
    }
    /* Clear a string first so that a bad value leaves no fragment. */
    char *field = (char *)obj + k->off;
    char saved[SCONE_APP_CMCD_NOR_MAX + 1];
    if (k->kind == CTA_STR)
      memcpy(saved, field, k->cap);
    if (!decode_value(k, field, present, &v)) {
      if (k->kind == CTA_STR)
        memcpy(field, saved, k->cap);
      (*invalid)++;
      continue;
    }
    if (shard && k->shard != shard && misplaced)
      (*misplaced)++;
    taken++;
  }
  return r < 0 ? SCONE_ERR_MALFORMED : taken;
}

void cta_url_encode(sfv_out *o, const char *src, size_t len) {
  static const char hex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)src[i];
    int keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
               (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
               c == '~';
    if (keep) {
      char s[2] = {(char)c, '\0'};
      sfv_out_raw(o, s);
    } else {
      char s[4] = {'%', hex[c >> 4], hex[c & 15], '\0'};
      sfv_out_raw(o, s);
    }
  }
}
