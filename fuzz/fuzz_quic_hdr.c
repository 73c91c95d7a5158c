/*
 * QUIC invariant header parse (RFC 8999). Input: byte 0 is the short header
 * DCID length the caller would expect, the rest is a UDP payload.
 */
#include "fuzz.h"

#include <scone/scone.h>
#include <string.h>

static void check(const uint8_t *d, size_t n, size_t sdl) {
  scone_quic_hdr h;
  scone_ssize r = scone_quic_hdr_parse(&h, d, n, sdl);

  if (n == 0) {
    FUZZ_CHECK(r == SCONE_ERR_NOT_QUIC);
    return;
  }
  if (d[0] & 0x80) {
    size_t len = fuzz_long_hdr_len(d, n);
    if (len == 0) {
      FUZZ_CHECK(r == SCONE_ERR_TRUNCATED);
      return;
    }
    size_t dcidlen = d[5], scidlen = d[6 + dcidlen];
    FUZZ_CHECK(r == (scone_ssize)len);
    FUZZ_CHECK(h.is_long == 1);
    FUZZ_CHECK(h.version == fuzz_be32(d + 1));
    FUZZ_CHECK(h.dcid == d + 6 && h.dcidlen == dcidlen);
    FUZZ_CHECK(h.scid == d + 7 + dcidlen && h.scidlen == scidlen);
  } else {
    /* Written as a subtraction so that a huge sdl cannot wrap. */
    if (sdl > n - 1) {
      FUZZ_CHECK(r == SCONE_ERR_TRUNCATED);
      return;
    }
    FUZZ_CHECK(r == (scone_ssize)(1 + sdl));
    FUZZ_CHECK(h.is_long == 0);
    FUZZ_CHECK(h.dcid == d + 1 && h.dcidlen == sdl);
  }
  FUZZ_CHECK(h.first_byte == d[0]);
  FUZZ_CHECK(h.hdrlen == (size_t)r && h.hdrlen <= n);

  /* A SCONE packet is a long header packet: both views must agree. */
  scone_packet pkt;
  if (scone_packet_parse(&pkt, d, n) > 0) {
    FUZZ_CHECK(h.is_long && pkt.len == h.hdrlen);
    FUZZ_CHECK(pkt.version == h.version);
    FUZZ_CHECK(pkt.dcid == h.dcid && pkt.dcidlen == h.dcidlen);
    FUZZ_CHECK(pkt.scid == h.scid && pkt.scidlen == h.scidlen);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  const uint8_t *d = data + 1;
  size_t n = size - 1;

  check(d, n, data[0]);
  /* Lengths near SIZE_MAX catch "1 + dcidlen" overflowing in bounds checks. */
  if (data[0] >= 0xfe)
    check(d, n, SIZE_MAX - (0xff - data[0]));
  return 0;
}
