/*
 * SCONE packet parse, rewrite and build, the indication and the rate table.
 * Input: byte 0 picks the rewrite target (and the build signal), the rest is
 * a UDP payload. The expected results are derived from the wire format in
 * draft-ietf-scone-protocol, so a parser that accepts or rejects the wrong
 * inputs fails here, not only one that crashes.
 */
#include "fuzz.h"

#include <limits.h>
#include <scone/scone.h>
#include <string.h>

static int looks_scone(const uint8_t *d, size_t n) {
  return n >= 5 && (d[0] & 0x80) &&
         (fuzz_be32(d + 1) & 0x7fffffffU) == SCONE_VERSION_BITS;
}

static void check_parse(const uint8_t *d, size_t n) {
  scone_packet pkt;
  scone_ssize r = scone_packet_parse(&pkt, d, n);
  int is = scone_packet_is_scone(d, n);

  FUZZ_CHECK(is == looks_scone(d, n));
  if (!is) {
    /* Under five bytes "truncated" is as fair an answer as "not SCONE". */
    FUZZ_CHECK(r == SCONE_ERR_NOT_SCONE || (n < 5 && r == SCONE_ERR_TRUNCATED));
    return;
  }
  size_t len = fuzz_long_hdr_len(d, n);
  if (len == 0) {
    FUZZ_CHECK(r == SCONE_ERR_TRUNCATED);
    return;
  }
  size_t dcidlen = d[5], scidlen = d[6 + dcidlen];
  FUZZ_CHECK(r == (scone_ssize)len);
  FUZZ_CHECK(pkt.len == (size_t)r && pkt.len <= n);
  FUZZ_CHECK(pkt.first_byte == d[0]);
  FUZZ_CHECK(pkt.version == fuzz_be32(d + 1));
  FUZZ_CHECK(pkt.version == SCONE_VERSION_EVEN ||
             pkt.version == SCONE_VERSION_ODD);
  FUZZ_CHECK(pkt.signal == scone_packet_signal(d) && pkt.signal <= 127);
  FUZZ_CHECK((pkt.signal & 1) == (pkt.version >> 31));
  FUZZ_CHECK(pkt.dcidlen == dcidlen && pkt.dcid == d + 6);
  FUZZ_CHECK(pkt.scidlen == scidlen && pkt.scid == d + 7 + dcidlen);
}

static void check_rewrite(const uint8_t *d, size_t n, unsigned target) {
  uint8_t *buf = fuzz_dup(d, n, 0);
  unsigned old = UINT_MAX;
  int r = scone_packet_rewrite(buf, n, target, &old);

  if (!looks_scone(d, n)) {
    FUZZ_CHECK(r == SCONE_ERR_NOT_SCONE || r == SCONE_ERR_TRUNCATED);
    FUZZ_CHECK(n == 0 || memcmp(buf, d, n) == 0);
    free(buf);
    return;
  }
  unsigned s0 = scone_packet_signal(d), s1 = scone_packet_signal(buf);
  /* target < s0 also rules out 127, since s0 <= 127. */
  int lower = target < s0;

  FUZZ_CHECK(r == lower);
  FUZZ_CHECK(old == s0);
  FUZZ_CHECK(s1 == (lower ? target : s0));
  FUZZ_CHECK(s1 <= s0);
  FUZZ_CHECK(s1 != SCONE_SIGNAL_UNKNOWN || s0 == SCONE_SIGNAL_UNKNOWN);
  /* Header form, reserved bit and the version's other 31 bits survive, and
   * nothing past byte 1 is touched (the CIDs need not even be present). */
  FUZZ_CHECK((buf[0] & 0xc0) == (d[0] & 0xc0));
  FUZZ_CHECK((buf[1] & 0x7f) == (d[1] & 0x7f));
  FUZZ_CHECK(memcmp(buf + 2, d + 2, n - 2) == 0);
  FUZZ_CHECK(r == 1 || memcmp(buf, d, 2) == 0);
  FUZZ_CHECK(scone_packet_is_scone(buf, n) == 1);

  /* Lower-only makes a second identical rewrite a no-op. */
  FUZZ_CHECK(scone_packet_rewrite(buf, n, target, NULL) == 0);

  scone_packet a, b;
  scone_ssize ra = scone_packet_parse(&a, d, n);
  scone_ssize rb = scone_packet_parse(&b, buf, n);
  FUZZ_CHECK(ra == rb);
  if (rb > 0)
    FUZZ_CHECK(b.signal == s1 && b.len == a.len);
  free(buf);
}

static void check_build(const uint8_t *d, size_t n, unsigned signal,
                        uint32_t flags) {
  size_t dcidlen = n / 2 > SCONE_MAX_CIDLEN ? SCONE_MAX_CIDLEN : n / 2;
  size_t scidlen =
      n - dcidlen > SCONE_MAX_CIDLEN ? SCONE_MAX_CIDLEN : n - dcidlen;
  const uint8_t *dcid = d, *scid = d + dcidlen;
  size_t need = SCONE_PACKET_MIN_LEN + dcidlen + scidlen;
  uint8_t *buf = fuzz_dup(d, 0, need);
  scone_ssize r = scone_packet_build(buf, need, signal, dcid, dcidlen, scid,
                                     scidlen, flags);

  if (signal > SCONE_SIGNAL_UNKNOWN) {
    FUZZ_CHECK(r == SCONE_ERR_INVALID_ARGUMENT);
    free(buf);
    return;
  }
  FUZZ_CHECK(r == (scone_ssize)need);
  scone_packet pkt;
  FUZZ_CHECK(scone_packet_parse(&pkt, buf, need) == (scone_ssize)need);
  FUZZ_CHECK(pkt.signal == signal);
  FUZZ_CHECK(pkt.version ==
             ((signal & 1) ? SCONE_VERSION_ODD : SCONE_VERSION_EVEN));
  FUZZ_CHECK(((pkt.first_byte & 0x40) != 0) ==
             ((flags & SCONE_BUILD_FLAG_RESERVED_BIT) != 0));
  FUZZ_CHECK(pkt.dcidlen == dcidlen && pkt.scidlen == scidlen);
  FUZZ_CHECK(dcidlen == 0 || memcmp(pkt.dcid, dcid, dcidlen) == 0);
  FUZZ_CHECK(scidlen == 0 || memcmp(pkt.scid, scid, scidlen) == 0);
  free(buf);

  /* One byte short: must refuse without writing past the buffer. */
  buf = fuzz_dup(d, 0, need - 1);
  r = scone_packet_build(buf, need - 1, signal, dcid, dcidlen, scid, scidlen,
                         flags);
  FUZZ_CHECK(r == SCONE_ERR_NOBUF);
  free(buf);
}

static void check_indication(const uint8_t *d, size_t n) {
  int want = n >= 2 && d[n - 2] == SCONE_INDICATION_BYTE0 &&
             d[n - 1] == SCONE_INDICATION_BYTE1;
  FUZZ_CHECK(scone_indication_present(d, n) == want);

  uint8_t *buf = fuzz_dup(d, n, SCONE_INDICATION_LEN);
  FUZZ_CHECK(scone_indication_append(buf, n, n + 1) == SCONE_ERR_NOBUF);
  FUZZ_CHECK(scone_indication_append(buf, n, n + 2) == (scone_ssize)(n + 2));
  FUZZ_CHECK(n == 0 || memcmp(buf, d, n) == 0);
  FUZZ_CHECK(scone_indication_present(buf, n + 2) == 1);
  free(buf);
}

static void check_rate(uint64_t bps) {
  unsigned s = scone_rate_to_signal(bps);
  FUZZ_CHECK(s <= SCONE_SIGNAL_MAX);
  if (bps < scone_rate_from_signal(0)) {
    FUZZ_CHECK(s == 0);
    return;
  }
  /* Advice is a ceiling: the largest signal whose rate does not exceed bps. */
  FUZZ_CHECK(scone_rate_from_signal(s) <= bps);
  FUZZ_CHECK(s == SCONE_SIGNAL_MAX || scone_rate_from_signal(s + 1) > bps);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  unsigned ctl = data[0];
  const uint8_t *d = data + 1;
  size_t n = size - 1;

  check_parse(d, n);
  check_rewrite(d, n, ctl);
  check_rewrite(d, n, UINT_MAX);
  check_build(d, n, ctl, (n & 1) ? SCONE_BUILD_FLAG_RESERVED_BIT : 0);
  check_indication(d, n);

  uint64_t bps = 0;
  for (size_t i = 0; i < n && i < 8; i++)
    bps = bps << 8 | d[i];
  check_rate(bps);
  check_rate(bps >> (ctl & 63));
  return 0;
}
