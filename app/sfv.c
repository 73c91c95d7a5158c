/*
 * RFC 8941 parsing and serialising, section by section (4.2 parsing, 4.1
 * serialising). Limits are the RFC's: integers of at most 15 digits,
 * decimals of at most 12 integer and 3 fractional digits.
 */
#include "sfv.h"

#include <scone/scone.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int is_digit(char c) {
  return c >= '0' && c <= '9';
}

static int is_lcalpha(char c) {
  return c >= 'a' && c <= 'z';
}

static int is_alpha(char c) {
  return is_lcalpha(c) || (c >= 'A' && c <= 'Z');
}

/* RFC 9110 tchar. */
static int is_tchar(char c) {
  return is_alpha(c) || is_digit(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int is_base64(char c) {
  return is_alpha(c) || is_digit(c) || c == '+' || c == '/' || c == '=';
}

static int at_end(const sfv_parser *sp) {
  return sp->p >= sp->end;
}

static void skip_sp(sfv_parser *sp) {
  while (!at_end(sp) && *sp->p == ' ')
    sp->p++;
}

static void skip_ows(sfv_parser *sp) {
  while (!at_end(sp) && (*sp->p == ' ' || *sp->p == '\t'))
    sp->p++;
}

void sfv_parser_init(sfv_parser *sp, const char *text, size_t len) {
  sp->p = text;
  sp->end = text + len;
  sp->started = 0;
  skip_sp(sp);
  while (sp->end > sp->p && sp->end[-1] == ' ')
    sp->end--;
}

/* 4.2.3.3 */
static int parse_key(sfv_parser *sp, const char **key, size_t *keylen) {
  if (at_end(sp) || !(is_lcalpha(*sp->p) || *sp->p == '*'))
    return -1;
  const char *start = sp->p++;
  while (!at_end(sp) && (is_lcalpha(*sp->p) || is_digit(*sp->p) ||
                         (*sp->p && strchr("_-.*", *sp->p))))
    sp->p++;
  *key = start;
  *keylen = (size_t)(sp->p - start);
  return 0;
}

/* 4.2.4 */
static int parse_number(sfv_parser *sp, sfv_item *it) {
  int64_t sign = 1, ipart = 0, frac = 0;
  int idigits = 0, fdigits = 0, decimal = 0;
  if (*sp->p == '-') {
    sign = -1;
    sp->p++;
  }
  if (at_end(sp) || !is_digit(*sp->p))
    return -1;
  while (!at_end(sp)) {
    char c = *sp->p;
    if (is_digit(c)) {
      if (decimal) {
        if (++fdigits > 3)
          return -1;
        frac = frac * 10 + (c - '0');
      } else {
        if (++idigits > 15)
          return -1;
        ipart = ipart * 10 + (c - '0');
      }
    } else if (c == '.' && !decimal) {
      if (idigits > 12)
        return -1;
      decimal = 1;
    } else {
      break;
    }
    sp->p++;
  }
  if (decimal && fdigits == 0)
    return -1;
  if (decimal) {
    for (int i = fdigits; i < 3; i++)
      frac *= 10;
    it->type = SFV_DECIMAL;
    it->num = sign * (ipart * 1000 + frac);
  } else {
    it->type = SFV_INTEGER;
    it->num = sign * ipart;
  }
  return 0;
}

/* 4.2.5 */
static int parse_string(sfv_parser *sp, sfv_item *it) {
  const char *start = ++sp->p;
  while (!at_end(sp)) {
    unsigned char c = (unsigned char)*sp->p++;
    if (c == '\\') {
      if (at_end(sp) || (*sp->p != '"' && *sp->p != '\\'))
        return -1;
      sp->p++;
    } else if (c == '"') {
      it->type = SFV_STRING;
      it->str = start;
      it->len = (size_t)(sp->p - 1 - start);
      return 0;
    } else if (c < 0x20 || c > 0x7e) {
      return -1;
    }
  }
  return -1;
}

/* 4.2.6 */
static int parse_token(sfv_parser *sp, sfv_item *it) {
  const char *start = sp->p++;
  while (!at_end(sp) && (is_tchar(*sp->p) || *sp->p == ':' || *sp->p == '/'))
    sp->p++;
  it->type = SFV_TOKEN;
  it->str = start;
  it->len = (size_t)(sp->p - start);
  return 0;
}

/* 4.2.7 */
static int parse_bytes(sfv_parser *sp, sfv_item *it) {
  const char *start = ++sp->p;
  while (!at_end(sp) && *sp->p != ':') {
    if (!is_base64(*sp->p))
      return -1;
    sp->p++;
  }
  if (at_end(sp))
    return -1;
  it->type = SFV_BYTES;
  it->str = start;
  it->len = (size_t)(sp->p++ - start);
  return 0;
}

/* 4.2.3.1 */
static int parse_bare_item(sfv_parser *sp, sfv_item *it) {
  memset(it, 0, sizeof *it);
  if (at_end(sp))
    return -1;
  char c = *sp->p;
  if (c == '-' || is_digit(c))
    return parse_number(sp, it);
  if (c == '"')
    return parse_string(sp, it);
  if (is_alpha(c) || c == '*')
    return parse_token(sp, it);
  if (c == ':')
    return parse_bytes(sp, it);
  if (c == '?') {
    sp->p++;
    if (at_end(sp) || (*sp->p != '0' && *sp->p != '1'))
      return -1;
    it->type = SFV_BOOLEAN;
    it->num = *sp->p++ == '1';
    return 0;
  }
  return -1;
}

int sfv_param_next(sfv_parser *sp, const char **key, size_t *keylen,
                   sfv_item *value) {
  if (at_end(sp) || *sp->p != ';')
    return 0;
  sp->p++;
  skip_sp(sp);
  if (parse_key(sp, key, keylen) < 0)
    return -1;
  if (!at_end(sp) && *sp->p == '=') {
    sp->p++;
    return parse_bare_item(sp, value) < 0 ? -1 : 1;
  }
  memset(value, 0, sizeof *value);
  value->type = SFV_BOOLEAN;
  value->num = 1;
  return 1;
}

static int skip_params(sfv_parser *sp) {
  const char *k;
  size_t kl;
  sfv_item v;
  int r;
  while ((r = sfv_param_next(sp, &k, &kl, &v)) == 1)
    ;
  return r;
}

/* 4.2.1.2: the members are parsed (so that errors are caught) and
 * dropped; the caller sees only that it was an inner list. */
static int parse_inner_list(sfv_parser *sp, sfv_item *it) {
  sp->p++;
  while (!at_end(sp)) {
    skip_sp(sp);
    if (!at_end(sp) && *sp->p == ')') {
      sp->p++;
      memset(it, 0, sizeof *it);
      it->type = SFV_INNER_LIST;
      return 0;
    }
    sfv_item member;
    if (parse_bare_item(sp, &member) < 0 || skip_params(sp) < 0)
      return -1;
    if (at_end(sp) || (*sp->p != ' ' && *sp->p != ')'))
      return -1;
  }
  return -1;
}

static int parse_item_or_inner_list(sfv_parser *sp, sfv_item *it) {
  if (!at_end(sp) && *sp->p == '(')
    return parse_inner_list(sp, it);
  return parse_bare_item(sp, it);
}

/* The separator between members (4.2.1 and 4.2.2): 1 when another member
 * follows, 0 at the end, -1 on error. */
static int next_member(sfv_parser *sp) {
  if (!sp->started) {
    sp->started = 1;
    return !at_end(sp);
  }
  /* Parameters the caller did not read belong to the previous member. */
  if (skip_params(sp) < 0)
    return -1;
  skip_ows(sp);
  if (at_end(sp))
    return 0;
  if (*sp->p != ',')
    return -1;
  sp->p++;
  skip_ows(sp);
  return at_end(sp) ? -1 : 1; /* a trailing comma is an error */
}

int sfv_dict_next(sfv_parser *sp, const char **key, size_t *keylen,
                  sfv_item *value) {
  int r = next_member(sp);
  if (r <= 0)
    return r;
  if (parse_key(sp, key, keylen) < 0)
    return -1;
  if (!at_end(sp) && *sp->p == '=') {
    sp->p++;
    if (parse_item_or_inner_list(sp, value) < 0)
      return -1;
  } else {
    memset(value, 0, sizeof *value);
    value->type = SFV_BOOLEAN;
    value->num = 1;
  }
  return skip_params(sp) < 0 ? -1 : 1;
}

int sfv_list_next(sfv_parser *sp, sfv_item *value) {
  int r = next_member(sp);
  if (r <= 0)
    return r;
  return parse_item_or_inner_list(sp, value) < 0 ? -1 : 1;
}

int sfv_unescape(const sfv_item *s, char *out, size_t cap) {
  size_t n = 0;
  for (size_t i = 0; i < s->len; i++) {
    char c = s->str[i];
    if (c == '\\' && i + 1 < s->len)
      c = s->str[++i];
    if (n + 1 >= cap)
      return -1;
    out[n++] = c;
  }
  if (cap == 0)
    return -1;
  out[n] = '\0';
  return (int)n;
}

int sfv_key_is(const char *key, size_t keylen, const char *name) {
  return strlen(name) == keylen && memcmp(key, name, keylen) == 0;
}

/* -------------------------------------------------------------- output */

void sfv_out_init(sfv_out *o, char *buf, size_t cap) {
  o->buf = buf;
  o->cap = cap;
  o->len = 0;
  o->err = cap == 0 ? SCONE_ERR_NOBUF : 0;
  if (cap)
    buf[0] = '\0';
}

static void put(sfv_out *o, const char *s, size_t n) {
  if (o->err)
    return;
  if (o->len + n + 1 > o->cap) {
    o->err = SCONE_ERR_NOBUF;
    return;
  }
  memcpy(o->buf + o->len, s, n);
  o->len += n;
  o->buf[o->len] = '\0';
}

void sfv_out_raw(sfv_out *o, const char *s) {
  put(o, s, strlen(s));
}

void sfv_out_integer(sfv_out *o, int64_t v) {
  if (v > SFV_INTEGER_MAX || v < -SFV_INTEGER_MAX) {
    o->err = o->err ? o->err : SCONE_ERR_INVALID_ARGUMENT;
    return;
  }
  char tmp[24];
  int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
  put(o, tmp, (size_t)n);
}

void sfv_out_decimal(sfv_out *o, int64_t milli) {
  const int64_t max = 999999999999999LL; /* 12 + 3 digits */
  if (milli > max || milli < -max) {
    o->err = o->err ? o->err : SCONE_ERR_INVALID_ARGUMENT;
    return;
  }
  uint64_t a = (uint64_t)(milli < 0 ? -milli : milli);
  char tmp[32];
  int n = snprintf(tmp, sizeof tmp, "%s%" PRIu64 ".%03u", milli < 0 ? "-" : "",
                   a / 1000, (unsigned)(a % 1000));
  /* 4.1.5: no trailing zeros, but at least one fractional digit. */
  while (tmp[n - 1] == '0' && tmp[n - 2] != '.')
    n--;
  put(o, tmp, (size_t)n);
}

void sfv_out_string(sfv_out *o, const char *s) {
  for (const char *p = s; *p; p++)
    if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) {
      o->err = o->err ? o->err : SCONE_ERR_INVALID_ARGUMENT;
      return;
    }
  put(o, "\"", 1);
  for (const char *p = s; *p; p++) {
    if (*p == '"' || *p == '\\')
      put(o, "\\", 1);
    put(o, p, 1);
  }
  put(o, "\"", 1);
}

void sfv_out_key(sfv_out *o, char sep, const char *key) {
  if (o->len > 0 || sep == ';')
    put(o, &sep, 1);
  sfv_out_raw(o, key);
}

int sfv_out_finish(sfv_out *o) {
  if (o->err) {
    if (o->cap)
      o->buf[0] = '\0';
    return o->err;
  }
  return (int)o->len;
}
