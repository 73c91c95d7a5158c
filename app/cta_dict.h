/*
 * CMCD and CMSD-Static are both Structured Field dictionaries of keys with a
 * fixed type each (CTA-5004, CTA-5006): one table-driven codec serves both.
 * Internal to app/.
 */
#ifndef SCONE_APP_CTA_DICT_H
#define SCONE_APP_CTA_DICT_H

#include "sfv.h"

#include <scone/app.h>

typedef enum cta_kind {
  CTA_U64,      /* sf-integer >= 0 into a uint64_t */
  CTA_U64_R100, /* the same, sent rounded to the nearest 100 */
  CTA_U64_RTP,  /* rounded to the nearest 100, but never sent as 0 */
  CTA_U32,      /* sf-integer into a uint32_t */
  CTA_DEC,      /* sf-decimal (an integer is read too) in thousandths */
  CTA_BOOL,     /* the present bit itself */
  CTA_STR,      /* sf-string into a char array */
  CTA_OT,       /* tokens into the scone_app_cm_* enums */
  CTA_SF,
  CTA_ST,
} cta_kind;

typedef struct cta_key {
  const char *name;
  uint32_t bit;
  cta_kind kind;
  int shard;       /* CMCD header shard; 0 where shards do not apply */
  size_t off, cap; /* field offset; char array size for CTA_STR */
  int has_default; /* a value equal to dflt is not sent */
  uint64_t dflt;
} cta_key;

/* Serialises the present keys of obj whose shard matches (shard 0: all), in
 * table order, as dictionary members. */
void cta_dict_encode(sfv_out *o, const cta_key *keys, size_t n, const void *obj,
                     uint32_t present, int shard);

/* Decodes a dictionary into obj (whose present bits are at *present),
 * counting what it skips. shard 0 takes keys without placement checks.
 * Returns keys taken or SCONE_ERR_MALFORMED; obj is written even then, so
 * callers decode into a copy. */
int cta_dict_decode(const cta_key *keys, size_t n, void *obj, uint32_t *present,
                    const char *text, size_t len, int shard, uint32_t *unknown,
                    uint32_t *invalid, uint32_t *misplaced);

/* Percent-encodes src into o: every byte but RFC 3986 unreserved ones. */
void cta_url_encode(sfv_out *o, const char *src, size_t len);

#endif /* SCONE_APP_CTA_DICT_H */
