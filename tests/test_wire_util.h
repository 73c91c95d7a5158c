/*
 * Helpers shared by the wire-format tests: a deterministic PRNG, IPv4/IPv6
 * UDP packet builders and a deliberately naive reference checksum, written
 * independently of lib/csum.c so the two can be checked against each other.
 */
#ifndef SCONE_TEST_WIRE_UTIL_H
#define SCONE_TEST_WIRE_UTIL_H

#include <scone/scone.h>

#include <stdint.h>
#include <string.h>

/* xorshift64*: reproducible across runs and platforms. */
static inline uint64_t tw_rand(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * UINT64_C(2685821657736338717);
}

static inline void tw_fill(uint64_t *s, uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t)tw_rand(s);
}

/* RFC 768/8200 checksum the slow, obvious way: lay out the pseudo-header
 * and the segment (checksum zeroed) in one buffer and add 16-bit words. */
static inline uint16_t tw_ref_udp_csum(const uint8_t *src, const uint8_t *dst,
                                       size_t addrlen, const uint8_t *udp,
                                       size_t udplen) {
  static uint8_t buf[40 + 70000];
  size_t n = 0;
  memcpy(buf + n, src, addrlen);
  n += addrlen;
  memcpy(buf + n, dst, addrlen);
  n += addrlen;
  if (addrlen == 4) {
    buf[n++] = 0;
    buf[n++] = 17;
    buf[n++] = (uint8_t)(udplen >> 8);
    buf[n++] = (uint8_t)udplen;
  } else {
    buf[n++] = (uint8_t)(udplen >> 24);
    buf[n++] = (uint8_t)(udplen >> 16);
    buf[n++] = (uint8_t)(udplen >> 8);
    buf[n++] = (uint8_t)udplen;
    buf[n++] = 0;
    buf[n++] = 0;
    buf[n++] = 0;
    buf[n++] = 17;
  }
  memcpy(buf + n, udp, udplen);
  /* The checksum field counts as zero, as much of it as is there. */
  for (size_t i = 6; i < 8 && i < udplen; i++)
    buf[n + i] = 0;
  n += udplen;
  if (n & 1)
    buf[n++] = 0;
  uint32_t sum = 0;
  for (size_t i = 0; i < n; i += 2) {
    sum += (uint32_t)(buf[i] << 8 | buf[i + 1]);
    sum = (sum & 0xffff) + (sum >> 16);
  }
  uint16_t c = (uint16_t)~sum;
  return c == 0 ? 0xffff : c;
}

static const uint8_t tw_src4[4] = {192, 0, 2, 1};
static const uint8_t tw_dst4[4] = {198, 51, 100, 7};
static const uint8_t tw_src6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                    0,    0,    0,    0,    0, 0, 0, 1};
static const uint8_t tw_dst6[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0, 0,    0,
                                    0,    0,    0,    0,    0,    0, 0x42, 2};

#define TW_SPORT 4433
#define TW_DPORT 50123

static inline uint16_t tw_get16(const uint8_t *p) {
  return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void tw_put16(uint8_t *p, size_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

/* Writes a UDP header + payload at p and returns its length. */
static inline size_t tw_udp(uint8_t *p, const uint8_t *payload, size_t plen) {
  tw_put16(p, TW_SPORT);
  tw_put16(p + 2, TW_DPORT);
  tw_put16(p + 4, 8 + plen);
  tw_put16(p + 6, 0);
  if (plen)
    memcpy(p + 8, payload, plen);
  return 8 + plen;
}

/* IPv4 + optlen bytes of options (a multiple of 4) + UDP. frag is the
 * flags/fragment-offset word. The UDP checksum is computed unless zero_csum.
 * Returns the packet length. */
static inline size_t tw_make_v4(uint8_t *pkt, const uint8_t *payload,
                                size_t plen, size_t optlen, uint16_t frag,
                                int zero_csum) {
  size_t ihl = 20 + optlen;
  memset(pkt, 0, ihl);
  pkt[0] = (uint8_t)(0x40 | (ihl / 4));
  pkt[1] = 0xb8; /* DSCP EF */
  pkt[6] = (uint8_t)(frag >> 8);
  pkt[7] = (uint8_t)frag;
  pkt[8] = 64;
  pkt[9] = 17;
  memcpy(pkt + 12, tw_src4, 4);
  memcpy(pkt + 16, tw_dst4, 4);
  for (size_t i = 20; i < ihl; i++)
    pkt[i] = 1; /* NOP options */
  size_t ulen = tw_udp(pkt + ihl, payload, plen);
  tw_put16(pkt + 2, ihl + ulen);
  if (!zero_csum)
    tw_put16(pkt + ihl + 6,
             tw_ref_udp_csum(tw_src4, tw_dst4, 4, pkt + ihl, ulen));
  return ihl + ulen;
}

/* IPv6 + the extension-header bytes ext (whose chain the caller builds; nh
 * is the Next Header of the fixed header) + UDP. Returns the length. */
static inline size_t tw_make_v6(uint8_t *pkt, const uint8_t *payload,
                                size_t plen, uint8_t nh, const uint8_t *ext,
                                size_t extlen, int zero_csum) {
  memset(pkt, 0, 40);
  pkt[0] = 0x6b; /* traffic class 0xb8: version 6, TC high nibble 0xb */
  pkt[1] = 0x80;
  pkt[6] = nh;
  pkt[7] = 64;
  memcpy(pkt + 8, tw_src6, 16);
  memcpy(pkt + 24, tw_dst6, 16);
  if (extlen)
    memcpy(pkt + 40, ext, extlen);
  size_t uoff = 40 + extlen;
  size_t ulen = tw_udp(pkt + uoff, payload, plen);
  tw_put16(pkt + 4, extlen + ulen);
  if (!zero_csum)
    tw_put16(pkt + uoff + 6,
             tw_ref_udp_csum(tw_src6, tw_dst6, 16, pkt + uoff, ulen));
  return uoff + ulen;
}

#endif /* SCONE_TEST_WIRE_UTIL_H */
