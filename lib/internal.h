/*
 * Helpers shared by the libscone sources; not part of the public API. The
 * tests of libscone and its fuzz targets include it as "lib/internal.h" to
 * check the checksum arithmetic on its own.
 */
#ifndef SCONE_INTERNAL_H
#define SCONE_INTERNAL_H

#include <scone/scone.h>

#include <stddef.h>
#include <stdint.h>

static inline uint16_t scone_get16(const uint8_t *p) {
  return (uint16_t)(((unsigned)p[0] << 8) | p[1]);
}

static inline uint32_t scone_get32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
         ((uint32_t)p[2] << 8) | p[3];
}

static inline void scone_put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static inline void scone_put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* The SCONE test on the first five bytes; the caller guarantees five. */
static inline int scone_hdr_is_scone(const uint8_t *p) {
  return (p[0] & 0x80U) &&
         (scone_get32(p + 1) & 0x7fffffffU) == SCONE_VERSION_BITS;
}

/*
 * For a buffer shorter than the five bytes a SCONE header needs: whether the
 * bytes present already rule SCONE out (SCONE_ERR_NOT_SCONE) or a longer
 * buffer could still be one (SCONE_ERR_TRUNCATED).
 */
static inline int scone_hdr_short_result(const uint8_t *p, size_t len) {
  static const uint8_t want[5] = {0x80, 0x6f, 0x7d, 0xc0, 0xfd};
  static const uint8_t mask[5] = {0x80, 0x7f, 0xff, 0xff, 0xff};
  for (size_t i = 0; i < len && i < 5; i++)
    if ((p[i] & mask[i]) != want[i])
      return SCONE_ERR_NOT_SCONE;
  return SCONE_ERR_TRUNCATED;
}

/*
 * The connection IDs of a long header (RFC 8999: length bytes at offset 5
 * and after the DCID). Each step checks the byte it is about to read, so a
 * CID length that points past the end stops the walk before any
 * out-of-bounds read. Returns the offset just past the SCID, or
 * SCONE_ERR_TRUNCATED; the outputs are set only on success.
 */
static inline scone_ssize
scone_long_hdr_cids(const uint8_t *data, size_t datalen, const uint8_t **dcid,
                    size_t *dcidlen, const uint8_t **scid, size_t *scidlen) {
  size_t off = 5;
  if (datalen < off + 1)
    return SCONE_ERR_TRUNCATED;
  size_t dl = data[off++];
  if (datalen - off < dl)
    return SCONE_ERR_TRUNCATED;
  size_t doff = off;
  off += dl;
  if (datalen < off + 1)
    return SCONE_ERR_TRUNCATED;
  size_t sl = data[off++];
  if (datalen - off < sl)
    return SCONE_ERR_TRUNCATED;
  *dcid = data + doff;
  *dcidlen = dl;
  *scid = data + off;
  *scidlen = sl;
  return (scone_ssize)(off + sl);
}

/*
 * The lower-only rewrite on a buffer already known to hold a SCONE header.
 * Shared by scone_packet_rewrite() and scone_ipudp_rewrite() so that the
 * network element's hot path inlines into a single function. Because a
 * present signal is at most 127, "target < signal" alone rules out raising
 * it and writing 127.
 */
static inline int scone_hdr_lower(uint8_t *p, unsigned target,
                                  unsigned *old_signal) {
  unsigned sig = scone_packet_signal(p);
  if (old_signal)
    *old_signal = sig;
  if (target >= sig)
    return 0;
  p[0] = (uint8_t)((p[0] & 0xc0U) | (target >> 1));
  p[1] = (uint8_t)((p[1] & 0x7fU) | ((target & 1U) << 7));
  return 1;
}

/* RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'). Eqn. 2 (HC - ~m - m') can
 * produce -0 where a full computation gives +0; eqn. 3 cannot. */
static inline uint16_t scone_csum_eqn3(uint16_t csum, uint16_t old_word,
                                       uint16_t new_word) {
  uint32_t sum = (uint16_t)~csum + (uint32_t)(uint16_t)~old_word + new_word;
  sum = (sum & 0xffffU) + (sum >> 16);
  sum = (sum & 0xffffU) + (sum >> 16);
  return (uint16_t)~sum;
}

/* scone_csum_eqn3() with UDP's zero corners, for either family. Inline so
 * the rewrite path makes no calls. */
static inline uint16_t scone_udp_csum_adjust(uint16_t csum, uint16_t old_word,
                                             uint16_t new_word) {
  /* Zero stays zero for either family, for different reasons: over IPv4 it
   * means the sender chose no checksum (RFC 768); over IPv6 it is invalid
   * (RFC 8200) unless a tunnel negotiated it (RFC 6935), and either way an
   * element that "fixed" it would be inventing a checksum it did not break. */
  if (csum == 0)
    return 0;
  uint16_t c = scone_csum_eqn3(csum, old_word, new_word);
  /* A computed zero is sent as 0xffff, its one's-complement twin, because
   * zero on the wire would mean "no checksum". */
  return c == 0 ? 0xffffU : c;
}

#endif /* SCONE_INTERNAL_H */
