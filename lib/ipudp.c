/* IPv4/IPv6 + UDP: locating the UDP payload and rewriting SCONE in place. */
#include "internal.h"

#define PROTO_UDP 17
#define IP6_HOPOPTS 0
#define IP6_ROUTING 43
#define IP6_FRAGMENT 44
#define IP6_DSTOPTS 60

/* Bytes up to `end` are needed: past what the IP header declares is a
 * malformed packet, past what was captured is a truncated one. */
static inline int need(size_t end, size_t ip_end, size_t len) {
  if (end > ip_end)
    return SCONE_ERR_MALFORMED;
  if (end > len)
    return SCONE_ERR_TRUNCATED;
  return 0;
}

/*
 * Fills in the UDP part from the header at off. ip_end is where the IP
 * header says the packet ends, len where the capture ends.
 *
 * When the UDP length field exceeds what was captured (a snaplen-limited
 * capture, or the tail of a first fragment), payload_len is cut to the
 * captured bytes: callers never read past the buffer, and a rewrite still
 * works because it needs only the first five payload bytes and updates the
 * checksum incrementally. A UDP length longer than the IP packet holds is
 * malformed, except in a first fragment, where it covers the whole datagram.
 */
static inline int finish_udp(scone_ipudp *v, const uint8_t *pkt, size_t len,
                             size_t off, size_t ip_end) {
  int rc = need(off + 8, ip_end, len);
  if (rc)
    return rc;
  const uint8_t *udp = pkt + off;
  size_t udp_len = scone_get16(udp + 4);
  /* RFC 2675 jumbograms (length 0) are not supported. */
  if (udp_len < 8 || (udp_len > ip_end - off && !v->is_fragment))
    return SCONE_ERR_MALFORMED;
  size_t end = off + udp_len;
  if (end > ip_end)
    end = ip_end;
  if (end > len)
    end = len;
  v->sport = scone_get16(udp);
  v->dport = scone_get16(udp + 2);
  v->udp_off = off;
  v->payload_off = off + 8;
  v->payload_len = end - (off + 8);
  return 0;
}

static inline int parse_v4(scone_ipudp *v, const uint8_t *pkt, size_t len) {
  if (len < 20)
    return SCONE_ERR_TRUNCATED;
  size_t ihl = (size_t)(pkt[0] & 0x0fU) * 4;
  size_t tot = scone_get16(pkt + 2);
  if (ihl < 20 || tot < ihl)
    return SCONE_ERR_MALFORMED;
  if (len < ihl)
    return SCONE_ERR_TRUNCATED;
  if (pkt[9] != PROTO_UDP)
    return SCONE_ERR_NOT_UDP;
  uint16_t frag = scone_get16(pkt + 6);
  v->ip_version = 4;
  v->src = pkt + 12;
  v->dst = pkt + 16;
  v->tos = pkt[1];
  /* A later fragment carries no UDP header, so there is no UDP view to give
   * (and nothing to rewrite). The first one has MF set. */
  v->is_fragment = (frag & 0x3fffU) != 0;
  if (frag & 0x1fffU)
    return SCONE_ERR_FRAGMENT;
  return finish_udp(v, pkt, len, ihl, tot);
}

static inline int parse_v6(scone_ipudp *v, const uint8_t *pkt, size_t len) {
  if (len < 40)
    return SCONE_ERR_TRUNCATED;
  /* A payload length of 0 announces a jumbogram (RFC 2675): unsupported,
   * so it leaves no room for a UDP header and is reported malformed. */
  size_t ip_end = 40 + (size_t)scone_get16(pkt + 4);
  v->ip_version = 6;
  v->src = pkt + 8;
  v->dst = pkt + 24;
  v->tos = (uint8_t)((scone_get16(pkt) >> 4) & 0xffU);

  unsigned nh = pkt[6];
  size_t off = 40;
  int rc;
  /* Every header skipped moves off forward by at least 8 bytes and each is
   * bounds-checked first, so the walk ends within ip_end. */
  for (;;) {
    switch (nh) {
    case PROTO_UDP:
      return finish_udp(v, pkt, len, off, ip_end);
    case IP6_HOPOPTS:
      if (off != 40) /* RFC 8200: only straight after the IPv6 header */
        return SCONE_ERR_MALFORMED;
      /* fall through */
    case IP6_ROUTING:
    case IP6_DSTOPTS:
      if ((rc = need(off + 2, ip_end, len)) != 0)
        return rc;
      nh = pkt[off];
      off += ((size_t)pkt[off + 1] + 1) * 8;
      break;
    case IP6_FRAGMENT: {
      if ((rc = need(off + 8, ip_end, len)) != 0)
        return rc;
      uint16_t fo = scone_get16(pkt + off + 2);
      nh = pkt[off];
      off += 8;
      /* An atomic fragment (offset 0, M clear; RFC 6946) is whole. */
      if (fo & 0x0001U)
        v->is_fragment = 1;
      /* A later fragment starts mid-datagram: no UDP header to read. Only
       * the first header of the fragmentable part is named here, so only
       * a UDP one marks this as a UDP fragment. */
      if (fo & 0xfff8U) {
        v->is_fragment = nh == PROTO_UDP;
        return nh == PROTO_UDP ? SCONE_ERR_FRAGMENT : SCONE_ERR_NOT_UDP;
      }
      break;
    }
    default:              /* ESP, no next header, other upper layers */
      v->is_fragment = 0; /* a fragment, but not of a UDP datagram */
      return SCONE_ERR_NOT_UDP;
    }
  }
}

static inline int parse_ip(scone_ipudp *v, const uint8_t *pkt, size_t len) {
  /* Set on every path, errors included, so that any caller can read it. */
  v->is_fragment = 0;
  if (len == 0)
    return SCONE_ERR_TRUNCATED;
  switch (pkt[0] >> 4) {
  case 4:
    return parse_v4(v, pkt, len);
  case 6:
    return parse_v6(v, pkt, len);
  default:
    return SCONE_ERR_MALFORMED;
  }
}

int scone_ipudp_parse(scone_ipudp *v, const uint8_t *pkt, size_t len) {
  if (v == NULL || (pkt == NULL && len > 0))
    return SCONE_ERR_INVALID_ARGUMENT;
  return parse_ip(v, pkt, len);
}

int scone_ipudp_rewrite(uint8_t *pkt, size_t len, unsigned target,
                        unsigned *old_signal) {
  if (pkt == NULL && len > 0)
    return SCONE_ERR_INVALID_ARGUMENT;
  scone_ipudp v;
  int rc = parse_ip(&v, pkt, len);
  if (rc < 0)
    return rc;
  if (v.is_fragment)
    return SCONE_ERR_FRAGMENT;
  uint8_t *p = pkt + v.payload_off;
  if (v.payload_len < 5)
    return scone_hdr_short_result(p, v.payload_len);
  if (!scone_hdr_is_scone(p))
    return SCONE_ERR_NOT_SCONE;
  /* The first payload word sits 8 bytes into the UDP header, so it is one
   * aligned 16-bit word of the checksummed data. */
  uint16_t old_word = scone_get16(p);
  if (!scone_hdr_lower(p, target, old_signal))
    return 0;
  uint8_t *csum = pkt + v.udp_off + 6;
  /* Both families treat a zero checksum alike; scone_udp_csum_adjust()
   * says why. */
  scone_put16(
      csum, scone_udp_csum_adjust(scone_get16(csum), old_word, scone_get16(p)));
  return 1;
}
