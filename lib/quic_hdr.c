/* The version-independent QUIC header fields (RFC 8999, Section 5). */
#include "internal.h"

scone_ssize scone_quic_hdr_parse(scone_quic_hdr *hdr, const uint8_t *data,
                                 size_t datalen, size_t short_dcidlen) {
  if (hdr == NULL || (data == NULL && datalen > 0))
    return SCONE_ERR_INVALID_ARGUMENT;
  if (datalen == 0)
    return SCONE_ERR_NOT_QUIC;

  if (!(data[0] & 0x80U)) {
    /* A short header's DCID length is known only to the receiver, so the
     * caller's expectation is all there is to check against. */
    if (datalen - 1 < short_dcidlen)
      return SCONE_ERR_TRUNCATED;
    hdr->is_long = 0;
    hdr->first_byte = data[0];
    hdr->version = 0;
    hdr->dcid = data + 1;
    hdr->dcidlen = short_dcidlen;
    hdr->scid = NULL;
    hdr->scidlen = 0;
    hdr->hdrlen = 1 + short_dcidlen;
    return (scone_ssize)hdr->hdrlen;
  }

  /* Long header, Version Negotiation included: the invariants give every
   * version the same layout up to the end of the SCID. */
  scone_ssize end = scone_long_hdr_cids(
      data, datalen, &hdr->dcid, &hdr->dcidlen, &hdr->scid, &hdr->scidlen);
  if (end < 0)
    return end;

  hdr->is_long = 1;
  hdr->first_byte = data[0];
  hdr->version = scone_get32(data + 1);
  hdr->hdrlen = (size_t)end;
  return (scone_ssize)hdr->hdrlen;
}
