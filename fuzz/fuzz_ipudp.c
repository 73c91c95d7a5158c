/*
 * IPv4/IPv6 + UDP parse and the in-place rewrite with its incremental UDP
 * checksum update. Input: byte 0 is the rewrite target, the rest an IP packet
 * as captured (possibly cut short by a snap length).
 */
#include "fuzz.h"
#include "lib/internal.h" /* the incremental update on its own */

#include <limits.h>
#include <scone/scone.h>
#include <string.h>

static int within(const uint8_t *p, size_t len, const uint8_t *base, size_t n) {
  return p >= base && p <= base + n && len <= (size_t)(base + n - p);
}

static void check_view(const scone_ipudp *v, const uint8_t *d, size_t n) {
  size_t addrlen = v->ip_version == 4 ? 4 : 16;
  FUZZ_CHECK(v->ip_version == (d[0] >> 4));
  FUZZ_CHECK(v->ip_version == 4 || v->ip_version == 6);
  FUZZ_CHECK(within(v->src, addrlen, d, n) && within(v->dst, addrlen, d, n));
  FUZZ_CHECK(v->ip_version == 4 ? v->udp_off >= 20 : v->udp_off >= 40);
  FUZZ_CHECK(v->udp_off + 8 <= n && v->payload_off == v->udp_off + 8);
  FUZZ_CHECK(v->payload_len <= n - v->payload_off);

  const uint8_t *udp = d + v->udp_off;
  FUZZ_CHECK(v->sport == fuzz_be16(udp) && v->dport == fuzz_be16(udp + 2));
  size_t ulen = fuzz_be16(udp + 4);
  /* IPv6 jumbograms carry 0 here; anything else bounds the payload. */
  if (ulen >= 8)
    FUZZ_CHECK(v->payload_len <= ulen - 8);

  size_t ip_end;
  if (v->ip_version == 4) {
    FUZZ_CHECK(v->src == d + 12 && v->dst == d + 16);
    FUZZ_CHECK(v->tos == d[1] && d[9] == 17);
    FUZZ_CHECK(v->udp_off == (size_t)(d[0] & 0x0f) * 4 && v->udp_off >= 20);
    /* Later fragments have no UDP header, so they never parse. */
    FUZZ_CHECK((fuzz_be16(d + 6) & 0x1fff) == 0);
    FUZZ_CHECK(v->is_fragment == ((fuzz_be16(d + 6) & 0x2000) != 0));
    ip_end = fuzz_be16(d + 2);
  } else {
    FUZZ_CHECK(v->src == d + 8 && v->dst == d + 24);
    FUZZ_CHECK(v->tos == (uint8_t)((d[0] << 4) | (d[1] >> 4)));
    FUZZ_CHECK(v->udp_off >= 40 && v->udp_off % 8 == 0);
    ip_end = 40 + (size_t)fuzz_be16(d + 4);
  }
  /* A complete, self-consistent datagram has its whole payload in view. */
  if (!v->is_fragment && ulen >= 8 && v->udp_off + ulen <= n &&
      v->udp_off + ulen <= ip_end)
    FUZZ_CHECK(v->payload_len == ulen - 8);
}

static void check_rewrite(const uint8_t *d, size_t n, unsigned target) {
  scone_ipudp v;
  int pr = scone_ipudp_parse(&v, d, n);
  uint8_t *buf = fuzz_dup(d, n, 0);
  unsigned old = UINT_MAX;
  int r = scone_ipudp_rewrite(buf, n, target, &old);

  if (pr != 0 || v.is_fragment) {
    FUZZ_CHECK(r < 0);
    FUZZ_CHECK(pr != 0 || r == SCONE_ERR_FRAGMENT);
    FUZZ_CHECK(n == 0 || memcmp(buf, d, n) == 0);
    free(buf);
    return;
  }
  check_view(&v, d, n);

  /* The same answer and payload bytes as the bare packet rewrite. */
  uint8_t *pl = fuzz_dup(d + v.payload_off, v.payload_len, 0);
  unsigned pold = UINT_MAX;
  int pr2 = scone_packet_rewrite(pl, v.payload_len, target, &pold);
  FUZZ_CHECK(r == pr2);
  if (r >= 0)
    FUZZ_CHECK(old == pold);
  FUZZ_CHECK(v.payload_len == 0 ||
             memcmp(buf + v.payload_off, pl, v.payload_len) == 0);
  free(pl);

  size_t ck = v.udp_off + 6, sc = v.payload_off;
  for (size_t i = 0; i < n; i++)
    if (i != ck && i != ck + 1 && i != sc && i != sc + 1)
      FUZZ_CHECK(buf[i] == d[i]);
  if (r != 1) {
    FUZZ_CHECK(memcmp(buf, d, n) == 0);
    free(buf);
    return;
  }

  int is6 = v.ip_version == 6;
  uint16_t before = fuzz_be16(d + ck), after = fuzz_be16(buf + ck);
  FUZZ_CHECK(after == scone_udp_csum_adjust(before, fuzz_be16(d + sc),
                                            fuzz_be16(buf + sc)));
  /* Zero means "no checksum" over IPv4 and is broken over IPv6: neither is
   * the element's to change. */
  if (before == 0)
    FUZZ_CHECK(after == 0);

  /* Only a datagram wholly inside the capture can be verified. */
  size_t ulen = fuzz_be16(d + v.udp_off + 4);
  size_t addrlen = is6 ? 16 : 4;
  if (ulen >= 8 && v.udp_off + ulen <= n) {
    const uint8_t *src = buf + (v.src - d), *dst = buf + (v.dst - d);
    uint16_t valid_before =
        scone_udp_csum_compute(src, dst, addrlen, d + v.udp_off, ulen);
    if (before != 0 && before == valid_before)
      FUZZ_CHECK(after == scone_udp_csum_compute(src, dst, addrlen,
                                                 buf + v.udp_off, ulen));
  }
  free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  const uint8_t *d = data + 1;
  size_t n = size - 1;
  scone_ipudp v;
  memset(&v, 0x55, sizeof v); /* so that a field left unset shows */
  int r = scone_ipudp_parse(&v, d, n);
  FUZZ_CHECK(v.is_fragment == 0 || v.is_fragment == 1);
  if (r == 0)
    check_view(&v, d, n);
  /* is_fragment holds whatever the result: a later fragment of a UDP
   * datagram is SCONE_ERR_FRAGMENT and flagged too. */
  if (n >= 20 && (d[0] >> 4) == 4 && (d[0] & 0x0f) >= 5 && d[9] == 17 &&
      n >= (size_t)(d[0] & 0x0f) * 4 &&
      fuzz_be16(d + 2) >= (size_t)(d[0] & 0x0f) * 4) {
    int frag = (fuzz_be16(d + 6) & 0x3fff) != 0;
    FUZZ_CHECK(v.is_fragment == frag);
    if (fuzz_be16(d + 6) & 0x1fff)
      FUZZ_CHECK(r == SCONE_ERR_FRAGMENT);
  }
  check_rewrite(d, n, data[0]);
  return 0;
}
