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

  /* Each step checks the byte it is about to read, so a CID length that
   * points past the end stops the parse before any out-of-bounds read. */
  size_t off = 5;
  if (datalen < off + 1)
    return SCONE_ERR_TRUNCATED;
  size_t dcidlen = data[off++];
  if (datalen - off < dcidlen)
    return SCONE_ERR_TRUNCATED;
  const uint8_t *dcid = data + off;
  off += dcidlen;
  if (datalen < off + 1)
    return SCONE_ERR_TRUNCATED;
  size_t scidlen = data[off++];
  if (datalen - off < scidlen)
    return SCONE_ERR_TRUNCATED;
  const uint8_t *scid = data + off;
  off += scidlen;

  pkt->first_byte = data[0];
  pkt->signal = (uint8_t)scone_packet_signal(data);
  pkt->version = scone_get32(data + 1);
  pkt->dcid = dcid;
  pkt->dcidlen = dcidlen;
  pkt->scid = scid;
  pkt->scidlen = scidlen;
  pkt->len = off;
  return (scone_ssize)off;
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
  if (datalen < 5)
    return data == NULL ? SCONE_ERR_INVALID_ARGUMENT
                        : scone_hdr_short_result(data, datalen);
  if (!scone_hdr_is_scone(data))
    return SCONE_ERR_NOT_SCONE;
  return scone_hdr_lower(data, target, old_signal);
}
