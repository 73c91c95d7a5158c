/*
 * What any rewrite of a GTP-U G-PDU by the engine must satisfy, shared by
 * the targets that feed the engine tunnelled packets (sconed_gtpu, and
 * sconed_packet, whose packets may be on port 2152).
 */
#ifndef SCONE_FUZZ_GTPU_CHECK_H
#define SCONE_FUZZ_GTPU_CHECK_H

#include "fuzz.h"

#include "gtpu.h"

#include <scone/scone.h>
#include <string.h>

/* The UDP checksum of the whole datagram at p (n bytes of IP packet) is
 * right and not zero. */
static inline int fuzz_udp_csum_ok(const uint8_t *p, size_t n) {
  scone_ipudp v;
  if (scone_ipudp_parse(&v, p, n) || v.is_fragment)
    return 0;
  size_t ulen = fuzz_be16(p + v.udp_off + 4);
  if (ulen < 8 || v.udp_off + ulen > n)
    return 0;
  uint16_t have = fuzz_be16(p + v.udp_off + 6);
  return have != 0 && have == scone_udp_csum_compute(v.src, v.dst,
                                                     v.ip_version == 6 ? 16 : 4,
                                                     p + v.udp_off, ulen);
}

/* in (n bytes) became out: if it was rewritten, it is a G-PDU whose inner
 * SCONE signal was lowered, and only that, the inner UDP checksum and the
 * outer one changed; checksums that were right stay right, and a zero
 * outer one stays zero. Returns 1 when in is a tunnelled datagram (and
 * the checks were made), 0 when it is not GTP-U. */
static inline int fuzz_check_gtpu(const uint8_t *in, const uint8_t *out,
                                  size_t n, int modified) {
  scone_ipudp o;
  if (scone_ipudp_parse(&o, in, n) || o.is_fragment ||
      (o.sport != SCONED_GTPU_PORT && o.dport != SCONED_GTPU_PORT))
    return 0;
  if (!modified) {
    FUZZ_CHECK(memcmp(in, out, n) == 0);
    return 1;
  }
  sconed_gtpu g;
  FUZZ_CHECK(sconed_gtpu_parse(&g, in + o.payload_off, o.payload_len) ==
             SCONED_GTPU_TPDU);
  size_t io = o.payload_off + g.inner_off;
  scone_ipudp iv;
  FUZZ_CHECK(scone_ipudp_parse(&iv, in + io, g.inner_len) == 0 &&
             !iv.is_fragment);
  size_t pay = io + iv.payload_off, ick = io + iv.udp_off + 6,
         ock = o.udp_off + 6;
  FUZZ_CHECK(scone_packet_signal(out + pay) < scone_packet_signal(in + pay));
  for (size_t i = 0; i < n; i++)
    if (i != ock && i != ock + 1 && i != ick && i != ick + 1 && i != pay &&
        i != pay + 1)
      FUZZ_CHECK(in[i] == out[i]);
  if (!fuzz_be16(in + ock))
    FUZZ_CHECK(!fuzz_be16(out + ock));
  if (fuzz_udp_csum_ok(in, n))
    FUZZ_CHECK(fuzz_udp_csum_ok(out, n));
  if (fuzz_udp_csum_ok(in + io, g.inner_len))
    FUZZ_CHECK(fuzz_udp_csum_ok(out + io, g.inner_len));
  return 1;
}

#endif
