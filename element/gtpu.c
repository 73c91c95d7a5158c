/* GTP-U headers: the walk to the T-PDU (gtpu.h). */
#include "gtpu.h"

#include "fastparse.h"

#include <scone/scone.h>

#include <string.h>

enum { FLAG_PN = 1, FLAG_S = 2, FLAG_E = 4 };

sconed_gtpu_kind sconed_gtpu_parse(sconed_gtpu *g, const uint8_t *p,
                                   size_t len) {
  memset(g, 0, sizeof(*g));
  g->qfi = -1;
  if (len < 8)
    return SCONED_GTPU_MALFORMED;
  /* Version 1 and protocol type 1 (0 is GTP', charging, not a tunnel). */
  if ((p[0] >> 5) != 1 || !(p[0] & 0x10))
    return SCONED_GTPU_MALFORMED;
  g->type = p[1];
  g->teid = sconed_be32(p + 4);
  /* The length counts everything after the mandatory 8 bytes, optional
   * fields and extension headers included. */
  size_t end = 8 + (size_t)sconed_be16(p + 2);
  if (end > len)
    return SCONED_GTPU_MALFORMED;
  size_t off = 8;
  unsigned next = 0;
  if (p[0] & (FLAG_E | FLAG_S | FLAG_PN)) {
    if (off + 4 > end)
      return SCONED_GTPU_MALFORMED;
    g->has_seq = (p[0] & FLAG_S) != 0;
    g->seq = (uint16_t)sconed_be16(p + 8);
    /* The next-type byte only counts with E set (TS 29.281 5.1). */
    next = (p[0] & FLAG_E) ? p[11] : 0;
    off += 4;
  }
  /* Each header is at least 4 bytes and bounds-checked before it is
   * read, so the walk ends within end. An unknown type is skipped by its
   * length like a known one: a node that only forwards the message need
   * not comprehend it. */
  while (next) {
    if (off + 4 > end)
      return SCONED_GTPU_MALFORMED;
    size_t elen = (size_t)p[off] * 4;
    if (elen == 0 || off + elen > end)
      return SCONED_GTPU_MALFORMED;
    /* The QFI is the low 6 bits of the container's second byte in both
     * the downlink (type 0) and uplink (type 1) layouts. */
    if (next == SCONED_GTPU_EXT_PDU_SESSION)
      g->qfi = p[off + 2] & 0x3f;
    g->ext_headers++;
    next = p[off + elen - 1];
    off += elen;
  }
  g->inner_off = off;
  g->inner_len = end - off;
  if (g->type == SCONED_GTPU_GPDU)
    return SCONED_GTPU_TPDU;
  if (g->type == SCONED_GTPU_ECHO_REQUEST ||
      g->type == SCONED_GTPU_ECHO_RESPONSE)
    return SCONED_GTPU_ECHO;
  return SCONED_GTPU_OTHER;
}

static void put16(uint8_t *p, unsigned v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

int sconed_gtpu_rewrite(uint8_t *outer_udp, uint8_t *inner, size_t inner_len,
                        const uint8_t *payload, unsigned target) {
  /* The inner UDP checksum sits just before its payload. Both words lie at
   * even offsets from the outer UDP header (GTP-U headers, IPv4 and IPv6
   * headers and UDP's are all multiples of 4 bytes long), so each is one
   * word of the outer checksum's sum. */
  const uint8_t *ick = payload - 2;
  unsigned old_sig = sconed_be16(payload), old_ck = sconed_be16(ick);
  int rc = scone_ipudp_rewrite(inner, inner_len, target, NULL);
  if (rc != 1)
    return rc;
  uint8_t *ock = outer_udp + 6;
  uint16_t c = (uint16_t)sconed_be16(ock);
  c = scone_udp_csum_update(c, (uint16_t)old_sig,
                            (uint16_t)sconed_be16(payload));
  c = scone_udp_csum_update(c, (uint16_t)old_ck, (uint16_t)sconed_be16(ick));
  put16(ock, c);
  return 1;
}
