/*
 * The common IP/UDP shape, parsed inline on the per-packet path: IPv4
 * without options or IPv6 without extension headers, not a fragment,
 * carrying a whole UDP datagram within the captured bytes, and neither
 * port GTP-U's. For such a packet the result is exactly what
 * scone_ipudp_parse gives; anything else (options, extension headers,
 * fragments, truncation, other protocols, malformed lengths, tunnels) is
 * left to the full path, which knows every case.
 */
#ifndef SCONED_FASTPARSE_H
#define SCONED_FASTPARSE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>

typedef struct sconed_fast_udp {
  const uint8_t *src, *dst;  /* addresses inside the packet */
  uint16_t sport_n, dport_n; /* as on the wire (network byte order) */
  uint32_t payload_off;
  uint32_t payload_len;
  int ipv6;
} sconed_fast_udp;

static inline unsigned sconed_be16(const uint8_t *p) {
  return (unsigned)p[0] << 8 | p[1];
}

/* As stored: for values only compared or hashed. */
static inline uint16_t sconed_load16(const uint8_t *p) {
  uint16_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}

/* Either port is GTP-U's (2152, in wire order: no swap). Tunnels take the
 * full path, which decapsulates them (gtpu.h). */
static inline int sconed_fast_tunnel(uint16_t sport_n, uint16_t dport_n) {
  return (sport_n == htons(2152)) | (dport_n == htons(2152));
}

static inline uint32_t sconed_be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}

/* The two shapes apart, for callers that sort packets by family first:
 * the family is random from packet to packet, so a branch on it is not
 * predictable. Each parser is 1 when the packet has that shape and *u is
 * filled, else 0. */
static inline int sconed_fast_is4(const uint8_t *pkt, size_t len) {
  return len >= 28 && pkt[0] == 0x45;
}

/* The rest of the IPv4 shape, once sconed_fast_is4 holds (the batch call
 * sorts by it). */
static inline int sconed_fast_parse4_rest(const uint8_t *pkt, size_t len,
                                          sconed_fast_udp *u) {
  size_t tot = sconed_be16(pkt + 2);
  size_t ulen = sconed_be16(pkt + 24);
  /* Protocol UDP, and neither MF nor a fragment offset (the mask in wire
   * order: no swap). */
  if (pkt[9] != 17 || (sconed_load16(pkt + 6) & htons(0x3fffU)) || tot > len ||
      ulen < 8 || ulen + 20 > tot)
    return 0;
  u->ipv6 = 0;
  u->src = pkt + 12;
  u->dst = pkt + 16;
  u->sport_n = sconed_load16(pkt + 20);
  u->dport_n = sconed_load16(pkt + 22);
  if (sconed_fast_tunnel(u->sport_n, u->dport_n))
    return 0;
  u->payload_off = 28;
  u->payload_len = (uint32_t)(ulen - 8);
  return 1;
}

static inline int sconed_fast_parse6(const uint8_t *pkt, size_t len,
                                     sconed_fast_udp *u) {
  if (len < 48 || (pkt[0] >> 4) != 6 || pkt[6] != 17)
    return 0;
  size_t end = 40 + (size_t)sconed_be16(pkt + 4);
  size_t ulen = sconed_be16(pkt + 44);
  if (end > len || ulen < 8 || ulen + 40 > end)
    return 0;
  u->ipv6 = 1;
  u->src = pkt + 8;
  u->dst = pkt + 24;
  u->sport_n = sconed_load16(pkt + 40);
  u->dport_n = sconed_load16(pkt + 42);
  if (sconed_fast_tunnel(u->sport_n, u->dport_n))
    return 0;
  u->payload_off = 48;
  u->payload_len = (uint32_t)(ulen - 8);
  return 1;
}

/* 1 when the packet has the common shape and *u is filled, else 0. */
static inline int sconed_fast_parse(const uint8_t *pkt, size_t len,
                                    sconed_fast_udp *u) {
  if (sconed_fast_is4(pkt, len))
    return sconed_fast_parse4_rest(pkt, len, u);
  return sconed_fast_parse6(pkt, len, u);
}

#endif
