/*
 * CMSD-Dynamic (CTA-5006): what a server, or here the network through the
 * server, suggests to the player. The header is a Structured Field list
 * (RFC 8941) whose members are the server's identifier string with
 * parameters.
 */
#include "internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

/* RFC 8941 sf-integer limit. */
#define SF_INTEGER_MAX 999999999999999ULL

int scone_app_cmsd_from_advice(scone_app_cmsd_dynamic *out,
                               const scone_advice *advice,
                               const scone_app_settings *settings) {
  uint64_t cap;
  int rc = scone_app_media_cap_bps(&cap, advice, settings);
  /* Down, not nearest: the player must be able to trust mb as a ceiling. */
  out->has_mb = cap != 0;
  out->mb_kbps = cap / 1000;
  out->has_etp = 0;
  out->etp_kbps = 0;
  return rc;
}

typedef struct out {
  char *buf;
  size_t len, off;
  int err;
} out;

/* Appends; after the first overflow it only remembers the error. */
static void put(out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void put(out *o, const char *fmt, ...) {
  if (o->err)
    return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(o->buf + o->off, o->len - o->off, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= o->len - o->off)
    o->err = SCONE_ERR_NOBUF;
  else
    o->off += (size_t)n;
}

int scone_app_cmsd_dynamic_render(char *buf, size_t len, const char *server_id,
                                  const scone_app_cmsd_dynamic *d) {
  if (!buf || !d || !server_id)
    return SCONE_ERR_INVALID_ARGUMENT;
  if ((d->has_etp && d->etp_kbps > SF_INTEGER_MAX) ||
      (d->has_mb && d->mb_kbps > SF_INTEGER_MAX))
    return SCONE_ERR_INVALID_ARGUMENT;
  for (const char *p = server_id; *p; p++)
    if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
      return SCONE_ERR_INVALID_ARGUMENT; /* not representable in sf-string */
  if (len == 0)
    return SCONE_ERR_NOBUF;

  out o = {buf, len, 0, 0};
  buf[0] = '\0';
  put(&o, "\"");
  for (const char *p = server_id; *p; p++)
    put(&o, *p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
  put(&o, "\"");
  if (d->has_etp)
    put(&o, ";etp=%" PRIu64, d->etp_kbps);
  if (d->has_mb)
    put(&o, ";mb=%" PRIu64, d->mb_kbps);
  if (o.err) {
    buf[0] = '\0';
    return o.err;
  }
  return (int)o.off;
}
