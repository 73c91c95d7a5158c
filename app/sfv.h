/*
 * Structured Field Values (RFC 8941), the syntax of the CMCD and CMSD
 * headers: just what those need. Parsing is a cursor over a caller's bytes
 * (not NUL-terminated, never copied), following the RFC's algorithms so that
 * whatever they reject is rejected here too; serialising appends to a
 * bounded buffer. Internal to app/.
 */
#ifndef SCONE_APP_SFV_H
#define SCONE_APP_SFV_H

#include <stddef.h>
#include <stdint.h>

typedef enum sfv_type {
  SFV_INTEGER,
  SFV_DECIMAL,
  SFV_STRING,
  SFV_TOKEN,
  SFV_BYTES,
  SFV_BOOLEAN,
  SFV_INNER_LIST, /* only as a dictionary or list member; contents skipped */
} sfv_type;

typedef struct sfv_item {
  sfv_type type;
  /* INTEGER: the value; BOOLEAN: 0 or 1; DECIMAL: the value in thousandths
   * (RFC 8941 decimals carry at most three fractional digits). */
  int64_t num;
  /* STRING: the text between the quotes, escapes not yet removed (see
   * sfv_unescape); TOKEN and BYTES: the token, the base64 text. */
  const char *str;
  size_t len;
} sfv_item;

typedef struct sfv_parser {
  const char *p, *end;
  int started; /* a member was read: the next one needs a comma */
} sfv_parser;

/* Leading and trailing spaces are discarded, as RFC 8941 4.2 asks. */
void sfv_parser_init(sfv_parser *sp, const char *text, size_t len);

/* The next dictionary member: 1 with key and value set (a key alone is
 * Boolean true), 0 at the end, -1 on a syntax error (the RFC then has the
 * whole field ignored). Parameters are checked and skipped. */
int sfv_dict_next(sfv_parser *sp, const char **key, size_t *keylen,
                  sfv_item *value);

/* The next list member's value: 1, 0 at the end, -1 on error. Its
 * parameters follow: read them with sfv_param_next until it returns 0. */
int sfv_list_next(sfv_parser *sp, sfv_item *value);

/* The next parameter of the current item: 1, 0 when there is none, -1. */
int sfv_param_next(sfv_parser *sp, const char **key, size_t *keylen,
                   sfv_item *value);

/* Copies a STRING item's text without its escapes into out (NUL-terminated).
 * Returns the length, or -1 when it does not fit in cap. */
int sfv_unescape(const sfv_item *s, char *out, size_t cap);

/* 1 when key equals the NUL-terminated name. */
int sfv_key_is(const char *key, size_t keylen, const char *name);

/* --------------------------------------------------------- serialising */

typedef struct sfv_out {
  char *buf;
  size_t cap, len;
  int err; /* set once something did not fit or was not serialisable */
} sfv_out;

void sfv_out_init(sfv_out *o, char *buf, size_t cap);
void sfv_out_raw(sfv_out *o, const char *s);
/* sf-integer: |v| must stay below 10^15. */
void sfv_out_integer(sfv_out *o, int64_t v);
/* sf-decimal from thousandths, at most 12 integer digits. */
void sfv_out_decimal(sfv_out *o, int64_t milli);
/* sf-string: printable ASCII only; '"' and '\' are escaped. */
void sfv_out_string(sfv_out *o, const char *s);
/* Member or parameter separator and key: ",key" / ";key" (no separator
 * before the first member). */
void sfv_out_key(sfv_out *o, char sep, const char *key);
/* Finishes: the length, or err (the buffer is emptied so that no partial
 * header escapes). */
int sfv_out_finish(sfv_out *o);

#define SFV_INTEGER_MAX 999999999999999LL

#endif /* SCONE_APP_SFV_H */
