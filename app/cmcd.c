/*
 * CMCD (CTA-5004) values a player sends with its requests: mtp, what it
 * measured, and rtp, the most it asks the server to deliver.
 */
#include "internal.h"

#include <inttypes.h>
#include <stdio.h>

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

/* Appends key=value after a comma when something precedes it. On overflow
 * the buffer is emptied so that no truncated header escapes. */
static int append(char *buf, size_t len, size_t *off, const char *key,
                  uint64_t v) {
  int n = snprintf(buf + *off, len - *off, "%s%s=%" PRIu64, *off ? "," : "",
                   key, v);
  if (n < 0 || (size_t)n >= len - *off) {
    buf[0] = '\0';
    return SCONE_ERR_NOBUF;
  }
  *off += (size_t)n;
  return 0;
}

int scone_app_cmcd_render(char *buf, size_t len, const scone_app_cmcd *c,
                          scone_app_cmcd_shard shard) {
  if (!buf || !c || shard < SCONE_APP_CMCD_ALL || shard > SCONE_APP_CMCD_STATUS)
    return SCONE_ERR_INVALID_ARGUMENT;
  if (len == 0)
    return SCONE_ERR_NOBUF;
  size_t off = 0;
  buf[0] = '\0';
  if (c->has_mtp && shard != SCONE_APP_CMCD_STATUS &&
      append(buf, len, &off, "mtp", c->mtp_kbps) < 0)
    return SCONE_ERR_NOBUF;
  if (c->has_rtp && shard != SCONE_APP_CMCD_REQUEST &&
      append(buf, len, &off, "rtp", c->rtp_kbps) < 0)
    return SCONE_ERR_NOBUF;
  return (int)off;
}
