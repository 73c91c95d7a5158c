/* The Internet checksum for UDP, computed from scratch, and the
 * incremental update for callers outside the library (the rewrite path's
 * own is inline in internal.h). */
#include "internal.h"

/* One's-complement sum of data as big-endian 16-bit words, unfolded. Whole
 * 32-bit words can be added because folding their sum to 16 bits gives the
 * same one's-complement sum; a trailing odd byte is padded with zero. */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t len) {
  while (len >= 4) {
    sum += scone_get32(p);
    p += 4;
    len -= 4;
  }
  if (len >= 2) {
    sum += scone_get16(p);
    p += 2;
    len -= 2;
  }
  if (len)
    sum += (uint64_t)p[0] << 8;
  return sum;
}

static uint16_t csum_fold(uint64_t sum) {
  while (sum >> 16)
    sum = (sum & 0xffffU) + (sum >> 16);
  return (uint16_t)sum;
}

uint16_t scone_udp_csum_compute(const uint8_t *src, const uint8_t *dst,
                                size_t addrlen, const uint8_t *udp,
                                size_t udplen) {
  uint64_t sum = 0;
  sum = csum_add(sum, src, addrlen);
  sum = csum_add(sum, dst, addrlen);
  /* Pseudo-header: zero, protocol 17 and the UDP length. The IPv6 form has
   * a 32-bit length and three zero bytes, which sum the same for UDP's
   * 16-bit lengths; wider lengths (jumbograms) are added in full. */
  sum += 17;
  sum += (uint64_t)(udplen & 0xffffU) + (addrlen == 16 ? (udplen >> 16) : 0);
  /* The checksum field (bytes 6-7) counts as zero. */
  if (udplen >= 8) {
    sum = csum_add(sum, udp, 6);
    sum = csum_add(sum, udp + 8, udplen - 8);
  } else {
    sum = csum_add(sum, udp, udplen < 6 ? udplen : 6);
  }
  uint16_t c = (uint16_t)~csum_fold(sum);
  return c == 0 ? 0xffffU : c;
}

uint16_t scone_udp_csum_update(uint16_t csum, uint16_t old_word,
                               uint16_t new_word) {
  return scone_udp_csum_adjust(csum, old_word, new_word);
}
