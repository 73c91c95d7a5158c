/* The SCONE packet: detection, parsing, building and the lower-only rewrite. */
#include "internal.h"

int scone_packet_is_scone(const uint8_t *data, size_t len) {
  return data != NULL && len >= 5 && scone_hdr_is_scone(data);
}

scone_ssize scone_packet_parse(scone_packet *pkt, const uint8_t *data,
                               size_t datalen) {
  if (pkt == NULL || (data == NULL && datalen > 0))
    return SCONE_ERR_INVALID_ARGUMENT;
  if (datalen < 5)
    return scone_hdr_short_result(data, datalen);
  if (!scone_hdr_is_scone(data))
    return SCONE_ERR_NOT_SCONE;

  /* The CID walk writes its outputs only on success, so a failed parse
   * still leaves *pkt untouched. */
  scone_ssize end = scone_long_hdr_cids(
      data, datalen, &pkt->dcid, &pkt->dcidlen, &pkt->scid, &pkt->scidlen);
  if (end < 0)
    return end;

  pkt->first_byte = data[0];
  pkt->signal = (uint8_t)scone_packet_signal(data);
  pkt->version = scone_get32(data + 1);
  pkt->len = (size_t)end;
  return end;
}

scone_ssize scone_packet_build(uint8_t *dst, size_t dstlen, unsigned signal,
                               const uint8_t *dcid, size_t dcidlen,
                               const uint8_t *scid, size_t scidlen,
                               uint32_t flags) {
  if (signal > SCONE_SIGNAL_UNKNOWN || dcidlen > SCONE_MAX_CIDLEN ||
      scidlen > SCONE_MAX_CIDLEN || (dcid == NULL && dcidlen > 0) ||
      (scid == NULL && scidlen > 0) ||
      (flags & ~(uint32_t)SCONE_BUILD_FLAG_RESERVED_BIT) != 0)
    return SCONE_ERR_INVALID_ARGUMENT;
  size_t need = SCONE_PACKET_MIN_LEN + dcidlen + scidlen;
  if (dst == NULL || dstlen < need)
    return SCONE_ERR_NOBUF;

  uint8_t *p = dst;
  *p++ =
      (uint8_t)(0x80U | ((flags & SCONE_BUILD_FLAG_RESERVED_BIT) ? 0x40U : 0U) |
                (signal >> 1));
  scone_put32(p, (signal & 1U) ? SCONE_VERSION_ODD : SCONE_VERSION_EVEN);
  p += 4;
  *p++ = (uint8_t)dcidlen;
  for (size_t i = 0; i < dcidlen; i++)
    *p++ = dcid[i];
  *p++ = (uint8_t)scidlen;
  for (size_t i = 0; i < scidlen; i++)
    *p++ = scid[i];
  return (scone_ssize)need;
}

int scone_packet_rewrite(uint8_t *data, size_t datalen, unsigned target,
                         unsigned *old_signal) {
  if (data == NULL)
    return SCONE_ERR_INVALID_ARGUMENT;
  if (datalen < 5)
    return scone_hdr_short_result(data, datalen);
  if (!scone_hdr_is_scone(data))
    return SCONE_ERR_NOT_SCONE;
  return scone_hdr_lower(data, target, old_signal);
}
