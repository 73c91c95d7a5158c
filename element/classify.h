/*
 * Is a flow QUIC? The element may only touch flows that look like QUIC
 * ("Damage to Other Protocols"), judged against the version-independent
 * invariants (RFC 8999) so new QUIC versions are not locked out:
 *
 *  - a flow whose first datagram has a long header (0x80) other than a
 *    SCONE packet is QUIC when the invariant fields parse within the
 *    datagram and, for the versions whose limits are known (1, 2, drafts,
 *    SCONE), both CIDs are at most 20 bytes; otherwise it is not QUIC,
 *    decided at once;
 *  - a flow first seen in the middle (sconed started after it) starts with
 *    short headers: it is QUIC when its first datagram and at least 3 of
 *    its first 4 look like QUIC (short header with the fixed bit 0x40 and
 *    room for a header-protection sample, or a plausible long header);
 *  - a flow not taken for QUIC so far (endpoints that grease the fixed bit,
 *    RFC 9287, fail the test above: it is not an invariant) becomes QUIC
 *    at its second datagram led by a SCONE packet that is consistent with
 *    the packet coalesced after it (sconed_scone_coalesced). One such
 *    datagram, or a SCONE packet first in a flow, is never enough.
 *
 * A flow whose first long-header datagram ends in 0xc8 0x13 is announced
 * SCONE-capable.
 */
#ifndef SCONED_CLASSIFY_H
#define SCONED_CLASSIFY_H

#include <scone/scone.h>

#include <string.h>

#define SCONED_CLASSIFY_PACKETS 4
#define SCONED_CLASSIFY_NEEDED 3
/* 1 byte header + 4 byte packet number offset + 16 byte sample. */
#define SCONED_SHORT_MIN_LEN 21

static inline int sconed_version_limits_cids(uint32_t v) {
  return v == 1 || v == 0x6b3343cfU || (v & 0xffffff00U) == 0xff000000U ||
         (v & 0x7fffffffU) == SCONE_VERSION_BITS;
}

/* 1 if the datagram is a plausible QUIC long header, 0 if not. */
static inline int sconed_plausible_long(const uint8_t *p, size_t len) {
  scone_quic_hdr h;
  if (scone_quic_hdr_parse(&h, p, len, 0) < 0 || !h.is_long)
    return 0;
  if (sconed_version_limits_cids(h.version) &&
      (h.dcidlen > 20 || h.scidlen > 20))
    return 0;
  return 1;
}

static inline int sconed_looks_quic(const uint8_t *p, size_t len) {
  if (len == 0)
    return 0;
  if (p[0] & 0x80)
    return sconed_plausible_long(p, len);
  return (p[0] & 0x40) && len >= SCONED_SHORT_MIN_LEN;
}

/* A whole SCONE packet at the start of the datagram: the SCONE header
 * and both CIDs within len, as scone_packet_parse requires. Only such a
 * packet is signalled in or counted as one; a SCONE header whose CIDs run
 * past the datagram is malformed, and the datagram passes untouched. */
static inline int sconed_scone_whole(const uint8_t *p, size_t len) {
  if (len < SCONE_PACKET_MIN_LEN || !(p[0] & 0x80))
    return 0;
  uint32_t v =
      (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
  if ((v & 0x7fffffffU) != SCONE_VERSION_BITS)
    return 0;
  size_t dl = p[5];
  return len - SCONE_PACKET_MIN_LEN >= dl &&
         len - SCONE_PACKET_MIN_LEN - dl >= p[6 + dl];
}

/*
 * A whole SCONE packet at the start of the datagram, followed by the
 * packet it was coalesced with as the draft has it: the SCONE packet's
 * DCID is that packet's, and its SCID is the next packet's SCID, or empty
 * before a short header. A middlebox cannot know a short header's DCID
 * length, but the SCONE packet states it: the next byte must be a short
 * header's (0x80 clear), followed by exactly that DCID and room for a
 * packet number and header-protection sample; a long header must carry
 * the same DCID and SCID (and not be another SCONE packet). CIDs are at
 * most 20 bytes, the SCONE version's limit.
 */
static inline int sconed_scone_coalesced(const uint8_t *p, size_t len) {
  if (!sconed_scone_whole(p, len))
    return 0;
  size_t dl = p[5], sl = p[6 + dl], off = 7 + dl + sl;
  if (dl > 20 || sl > 20 || off >= len)
    return 0;
  const uint8_t *q = p + off, *dcid = p + 6, *scid = p + 7 + dl;
  size_t rest = len - off;
  if (!(q[0] & 0x80))
    return sl == 0 && rest >= SCONED_SHORT_MIN_LEN + dl &&
           memcmp(q + 1, dcid, dl) == 0;
  return rest >= 7 + dl + sl && q[5] == dl && memcmp(q + 6, dcid, dl) == 0 &&
         q[6 + dl] == sl && memcmp(q + 7 + dl, scid, sl) == 0 &&
         !sconed_scone_whole(q, rest);
}

#endif
