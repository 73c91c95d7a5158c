/* UDP checksums: RFC 1624 updates (the rewrite's, from lib/internal.h)
 * against full computation, and corners. */
#include <scone/scone.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <string.h>

#include "lib/internal.h" /* the incremental update on its own */
#include "test_wire_util.h"

static void rfc1624_example(void **state) {
  (void)state;
  /* RFC 1624 Section 4: m = 0x5555 -> 0x3285 in a header whose other words
   * sum to 0xCD7A. Recomputation gives 0x0000; eqn. 3 must too (eqn. 2
   * would give 0xFFFF). */
  assert_int_equal(scone_csum_eqn3(0xdd2f, 0x5555, 0x3285), 0x0000);
  /* The UDP form sends that zero as 0xffff, over either family. */
  assert_int_equal(scone_udp_csum_adjust(0xdd2f, 0x5555, 0x3285), 0xffff);
  /* No change, no difference. */
  assert_int_equal(scone_csum_eqn3(0x1234, 0xabcd, 0xabcd), 0x1234);
}

static void zero_checksum_left_alone(void **state) {
  (void)state;
  for (unsigned w = 0; w < 0x10000; w += 0x1111)
    assert_int_equal(scone_udp_csum_adjust(0, 0xffff, (uint16_t)w), 0);
}

/* compute() against the naive reference, every length 0..300 (odd ones
 * exercise the padding byte), both families. */
static void compute_matches_reference(void **state) {
  (void)state;
  uint64_t seed = 11;
  uint8_t udp[300];
  for (size_t len = 0; len <= sizeof udp; len++) {
    for (int rep = 0; rep < 8; rep++) {
      tw_fill(&seed, udp, len);
      assert_int_equal(scone_udp_csum_compute(tw_src4, tw_dst4, 4, udp, len),
                       tw_ref_udp_csum(tw_src4, tw_dst4, 4, udp, len));
      assert_int_equal(scone_udp_csum_compute(tw_src6, tw_dst6, 16, udp, len),
                       tw_ref_udp_csum(tw_src6, tw_dst6, 16, udp, len));
    }
  }
  /* A checksum stored in the packet does not affect the computation. */
  tw_fill(&seed, udp, 100);
  uint16_t c = scone_udp_csum_compute(tw_src4, tw_dst4, 4, udp, 100);
  udp[6] ^= 0x5a;
  udp[7] ^= 0xa5;
  assert_int_equal(scone_udp_csum_compute(tw_src4, tw_dst4, 4, udp, 100), c);
  /* Once stored, the receiver's check sums to 0xffff. */
  udp[6] = (uint8_t)(c >> 8);
  udp[7] = (uint8_t)c;
  uint32_t sum = 0;
  const uint8_t *parts[3] = {tw_src4, tw_dst4, udp};
  const size_t lens[3] = {4, 4, 100};
  for (int i = 0; i < 3; i++)
    for (size_t j = 0; j < lens[i]; j += 2)
      sum += tw_get16(parts[i] + j);
  sum += 17 + 100;
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  assert_int_equal(sum, 0xffff);
}

/* Random single-word changes anywhere in the datagram: the incremental
 * update equals a recomputation, for each family. */
static void update_matches_compute_random_words(void **state) {
  (void)state;
  uint64_t seed = 12;
  uint8_t udp[1500];
  for (int i = 0; i < 4000; i++) {
    int v6 = i & 1;
    const uint8_t *s = v6 ? tw_src6 : tw_src4, *d = v6 ? tw_dst6 : tw_dst4;
    size_t al = v6 ? 16 : 4;
    size_t len = 10 + (size_t)(tw_rand(&seed) % (sizeof udp - 10));
    tw_fill(&seed, udp, len);
    udp[4] = (uint8_t)(len >> 8);
    udp[5] = (uint8_t)len;
    uint16_t c = scone_udp_csum_compute(s, d, al, udp, len);
    /* an even offset past the checksum field, with a whole word there */
    size_t off = 8 + 2 * (size_t)(tw_rand(&seed) % ((len - 8) / 2));
    uint16_t old = tw_get16(udp + off);
    uint16_t neu = (uint16_t)tw_rand(&seed);
    if (i % 16 == 0)
      neu = (uint16_t)~old; /* the complement: a large swing */
    udp[off] = (uint8_t)(neu >> 8);
    udp[off + 1] = (uint8_t)neu;
    assert_int_equal(scone_udp_csum_adjust(c, old, neu),
                     scone_udp_csum_compute(s, d, al, udp, len));
  }
}

/* Random IPv4 and IPv6 UDP packets carrying a SCONE packet and random
 * coalesced bytes, rewritten to random targets through scone_ipudp_rewrite:
 * the incrementally updated checksum equals a recomputation. */
static void ipudp_rewrite_matches_compute(void **state) {
  (void)state;
  uint64_t seed = 13;
  static uint8_t pkt[2000], payload[1400], cid[255];
  int changed = 0;
  for (int i = 0; i < 6000; i++) {
    int v6 = i & 1;
    size_t dl = (size_t)(tw_rand(&seed) % 21),
           sl = (size_t)(tw_rand(&seed) % 21);
    if (i % 100 == 0)
      dl = 255;
    tw_fill(&seed, cid, sizeof cid);
    unsigned sig = (unsigned)(tw_rand(&seed) % 128);
    scone_ssize n = scone_packet_build(payload, sizeof payload, sig, cid, dl,
                                       cid, sl, (uint32_t)(i >> 1) & 1U);
    assert_true(n > 0);
    size_t plen = (size_t)n + (size_t)(tw_rand(&seed) % (sizeof payload - 600));
    tw_fill(&seed, payload + n, plen - (size_t)n);
    size_t len = v6 ? tw_make_v6(pkt, payload, plen, 17, NULL, 0, 0)
                    : tw_make_v4(pkt, payload, plen, 4 * (i % 11), 0x4000, 0);
    scone_ipudp v;
    assert_int_equal(scone_ipudp_parse(&v, pkt, len), 0);
    unsigned target = (unsigned)(tw_rand(&seed) % 130);
    unsigned old = 999;
    int r = scone_ipudp_rewrite(pkt, len, target, &old);
    assert_int_equal(old, sig);
    assert_int_equal(r, target < sig);
    changed += r;
    assert_int_equal(scone_packet_signal(pkt + v.payload_off),
                     target < sig ? target : sig);
    uint16_t stored = tw_get16(pkt + v.udp_off + 6);
    assert_int_equal(stored,
                     scone_udp_csum_compute(v.src, v.dst, v6 ? 16 : 4,
                                            pkt + v.udp_off, len - v.udp_off));
  }
  assert_true(changed > 2000); /* the interesting branch really ran */
}

/* Sets a filler word in the payload so that the packet's computed
 * checksum, once the SCONE signal is lowered to target, is zero (sent as
 * 0xffff). Returns the packet length. */
static size_t make_zero_after_rewrite(uint8_t *pkt, int v6, unsigned target) {
  uint8_t payload[64], cid[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  scone_ssize n =
      scone_packet_build(payload, sizeof payload, 100, cid, 8, cid, 8, 0);
  /* The filler word must be 16-bit aligned within the UDP datagram; the
   * payload starts 8 bytes in, so an even payload offset will do. */
  size_t f = ((size_t)n + 1) & ~(size_t)1;
  memset(payload + n, 0, 10);
  size_t plen = (size_t)n + 10;
  /* Lower the signal in the payload to learn the post-rewrite sum. */
  assert_int_equal(scone_packet_rewrite(payload, plen, target, NULL), 1);
  size_t len = v6 ? tw_make_v6(pkt, payload, plen, 17, NULL, 0, 0)
                  : tw_make_v4(pkt, payload, plen, 0, 0, 0);
  size_t uoff = v6 ? 40 : 20;
  uint16_t c = tw_get16(pkt + uoff + 6);
  /* c = ~sum; adding c to the sum makes it 0xffff, i.e. a zero checksum. */
  payload[f] = (uint8_t)(c >> 8);
  payload[f + 1] = (uint8_t)c;
  len = v6 ? tw_make_v6(pkt, payload, plen, 17, NULL, 0, 0)
           : tw_make_v4(pkt, payload, plen, 0, 0, 0);
  assert_int_equal(tw_get16(pkt + uoff + 6), 0xffff);
  /* Put the original signal back and checksum that packet. */
  uint8_t orig[7];
  assert_int_equal(
      scone_packet_build(orig, sizeof orig, 100, NULL, 0, NULL, 0, 0), 7);
  pkt[uoff + 8] = orig[0];
  pkt[uoff + 9] = orig[1];
  const uint8_t *s = v6 ? tw_src6 : tw_src4, *d = v6 ? tw_dst6 : tw_dst4;
  uint16_t before =
      scone_udp_csum_compute(s, d, v6 ? 16 : 4, pkt + uoff, len - uoff);
  pkt[uoff + 6] = (uint8_t)(before >> 8);
  pkt[uoff + 7] = (uint8_t)before;
  return len;
}

static void computed_zero_becomes_ffff(void **state) {
  (void)state;
  uint8_t pkt[200];
  for (int v6 = 0; v6 <= 1; v6++) {
    for (unsigned target = 0; target < 100; target += 33) {
      size_t len = make_zero_after_rewrite(pkt, v6, target);
      size_t uoff = v6 ? 40 : 20;
      assert_int_not_equal(tw_get16(pkt + uoff + 6), 0xffff);
      assert_int_equal(scone_ipudp_rewrite(pkt, len, target, NULL), 1);
      assert_int_equal(tw_get16(pkt + uoff + 6), 0xffff);
      assert_int_equal(scone_packet_signal(pkt + uoff + 8), target);
      /* And from 0xffff onward the update still matches a recomputation. */
      const uint8_t *s = v6 ? tw_src6 : tw_src4, *d = v6 ? tw_dst6 : tw_dst4;
      assert_int_equal(scone_ipudp_rewrite(pkt, len, 0, NULL), target > 0);
      assert_int_equal(
          tw_get16(pkt + uoff + 6),
          scone_udp_csum_compute(s, d, v6 ? 16 : 4, pkt + uoff, len - uoff));
    }
  }
}

static void zero_udp_checksum_stays_zero(void **state) {
  (void)state;
  uint8_t pkt[200], payload[40];
  for (int v6 = 0; v6 <= 1; v6++) {
    scone_ssize n =
        scone_packet_build(payload, sizeof payload, 127, NULL, 0, NULL, 0, 0);
    memset(payload + n, 0x33, 20);
    size_t len = v6 ? tw_make_v6(pkt, payload, (size_t)n + 20, 17, NULL, 0, 1)
                    : tw_make_v4(pkt, payload, (size_t)n + 20, 0, 0, 1);
    size_t uoff = v6 ? 40 : 20;
    assert_int_equal(tw_get16(pkt + uoff + 6), 0);
    assert_int_equal(scone_ipudp_rewrite(pkt, len, 17, NULL), 1);
    assert_int_equal(scone_packet_signal(pkt + uoff + 8), 17);
    assert_int_equal(tw_get16(pkt + uoff + 6), 0);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rfc1624_example),
      cmocka_unit_test(zero_checksum_left_alone),
      cmocka_unit_test(compute_matches_reference),
      cmocka_unit_test(update_matches_compute_random_words),
      cmocka_unit_test(ipudp_rewrite_matches_compute),
      cmocka_unit_test(computed_zero_becomes_ffff),
      cmocka_unit_test(zero_udp_checksum_stays_zero),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
