/* IPv4/IPv6 + UDP parsing (options, extension headers, fragments, captures
 * shorter than the packet) and the in-place rewrite on IP packets. */
#include <scone/scone.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "test_wire_util.h"

/* A payload: a SCONE packet with signal 90 and an 8-byte DCID, then a
 * stand-in for the coalesced 1-RTT packet. Returns its length (40). */
static size_t scone_payload(uint8_t *p) {
  const uint8_t cid[8] = {0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8};
  scone_ssize n = scone_packet_build(p, 64, 90, cid, 8, NULL, 0, 0);
  assert_int_equal(n, 15);
  p[15] = 0x41;
  memcpy(p + 16, cid, 8);
  memset(p + 24, 0x99, 16);
  return 40;
}

static int parse_exact(scone_ipudp *v, const uint8_t *pkt, size_t len) {
  uint8_t *c = malloc(len ? len : 1);
  assert_non_null(c);
  if (len)
    memcpy(c, pkt, len);
  int r = scone_ipudp_parse(v, c, len);
  /* The view must point into the buffer it was given. */
  if (r == 0) {
    assert_true(v->payload_off + v->payload_len <= len);
    v->src = pkt + (v->src - c);
    v->dst = pkt + (v->dst - c);
  }
  free(c);
  return r;
}

static void checksum_ok(const uint8_t *pkt, size_t len, const scone_ipudp *v) {
  assert_int_equal(tw_get16(pkt + v->udp_off + 6),
                   scone_udp_csum_compute(v->src, v->dst,
                                          v->ip_version == 6 ? 16 : 4,
                                          pkt + v->udp_off, len - v->udp_off));
}

static void ipv4_plain_and_options(void **state) {
  (void)state;
  uint8_t pkt[200], pl[64];
  size_t plen = scone_payload(pl);
  for (size_t opt = 0; opt <= 40; opt += 4) {
    size_t len = tw_make_v4(pkt, pl, plen, opt, 0x4000 /* DF */, 0);
    scone_ipudp v;
    assert_int_equal(parse_exact(&v, pkt, len), 0);
    assert_int_equal(v.ip_version, 4);
    assert_memory_equal(v.src, tw_src4, 4);
    assert_memory_equal(v.dst, tw_dst4, 4);
    assert_int_equal(v.sport, TW_SPORT);
    assert_int_equal(v.dport, TW_DPORT);
    assert_int_equal(v.tos, 0xb8);
    assert_int_equal(v.udp_off, 20 + opt);
    assert_int_equal(v.payload_off, 28 + opt);
    assert_int_equal(v.payload_len, plen);
    assert_int_equal(v.is_fragment, 0);
    assert_memory_equal(pkt + v.payload_off, pl, plen);

    unsigned old = 0;
    assert_int_equal(scone_ipudp_rewrite(pkt, len, 30, &old), 1);
    assert_int_equal(old, 90);
    assert_int_equal(scone_packet_signal(pkt + v.payload_off), 30);
    checksum_ok(pkt, len, &v);
    /* Not higher, not unknown. */
    assert_int_equal(scone_ipudp_rewrite(pkt, len, 31, &old), 0);
    assert_int_equal(scone_ipudp_rewrite(pkt, len, 127, &old), 0);
    assert_int_equal(old, 30);
    assert_int_equal(scone_packet_signal(pkt + v.payload_off), 30);
  }
}

static void ipv4_bad_headers(void **state) {
  (void)state;
  uint8_t pkt[200], pl[64], save[200];
  size_t plen = scone_payload(pl);
  size_t len = tw_make_v4(pkt, pl, plen, 0, 0, 0);
  memcpy(save, pkt, len);
  scone_ipudp v;

  pkt[9] = 6; /* TCP */
  assert_int_equal(parse_exact(&v, pkt, len), SCONE_ERR_NOT_UDP);
  assert_int_equal(scone_ipudp_rewrite(pkt, len, 0, NULL), SCONE_ERR_NOT_UDP);
  assert_int_equal(pkt[9], 6);
  memcpy(pkt, save, len);

  pkt[0] = 0x44; /* IHL 4 */
  assert_int_equal(parse_exact(&v, pkt, len), SCONE_ERR_MALFORMED);
  pkt[0] = 0x55; /* version 5 */
  assert_int_equal(parse_exact(&v, pkt, len), SCONE_ERR_MALFORMED);
  pkt[0] = 0x4f; /* IHL 15: 60 bytes of header, more than the total length */
  tw_put16(pkt + 2, 50);
  assert_int_equal(parse_exact(&v, pkt, len), SCONE_ERR_MALFORMED);
  memcpy(pkt, save, len);

  tw_put16(pkt + 2, 27); /* total length ends inside the UDP header */
  assert_int_equal(parse_exact(&v, pkt, len), SCONE_ERR_MALFORMED);
  tw_put16(pkt + 2, 19);
  assert_int_equal(parse_exact(&v, pkt, len), SCONE_ERR_MALFORMED);
  memcpy(pkt, save, len);

  tw_put16(pkt + 24, 7); /* UDP length below its own header */
  assert_int_equal(parse_exact(&v, pkt, len), SCONE_ERR_MALFORMED);
  tw_put16(pkt + 24, len - 20 + 1); /* longer than the IP packet */
  assert_int_equal(parse_exact(&v, pkt, len), SCONE_ERR_MALFORMED);
  assert_int_equal(scone_ipudp_rewrite(pkt, len, 0, NULL), SCONE_ERR_MALFORMED);
  assert_int_equal(scone_packet_signal(pkt + 28), 90);
  memcpy(pkt, save, len);

  assert_int_equal(parse_exact(&v, pkt, 0), SCONE_ERR_TRUNCATED);
}

/* Cut at every length: until the UDP header is complete the parse reports
 * truncation; after that it succeeds with the payload the capture holds. */
static void ipv4_capture_cut_everywhere(void **state) {
  (void)state;
  uint8_t pkt[200], pl[64], full[200];
  size_t plen = scone_payload(pl);
  size_t len = tw_make_v4(pkt, pl, plen, 8, 0, 0);
  memcpy(full, pkt, len);
  for (size_t cut = 0; cut <= len; cut++) {
    scone_ipudp v;
    int r = parse_exact(&v, pkt, cut);
    if (cut < 36) {
      assert_int_equal(r, SCONE_ERR_TRUNCATED);
      continue;
    }
    assert_int_equal(r, 0);
    assert_int_equal(v.payload_off, 36);
    /* The UDP length says 48 but only the captured part is reported. */
    assert_int_equal(v.payload_len, cut - 36);

    /* Rewriting a cut copy only touches bytes it holds, and the checksum
     * it leaves is right for the whole packet. */
    uint8_t *c = malloc(cut);
    assert_non_null(c);
    memcpy(c, full, cut);
    int w = scone_ipudp_rewrite(c, cut, 7, NULL);
    if (cut < 36 + 5) {
      assert_int_equal(w, SCONE_ERR_TRUNCATED);
    } else {
      assert_int_equal(w, 1);
      memcpy(pkt, c, cut);
      memcpy(pkt + cut, full + cut, len - cut);
      scone_ipudp fv;
      assert_int_equal(parse_exact(&fv, pkt, len), 0);
      checksum_ok(pkt, len, &fv);
    }
    free(c);
    memcpy(pkt, full, len);
  }
}

/* Link-layer padding after the IP packet, and a UDP datagram shorter than
 * the IP payload: neither is counted as payload. */
static void ipv4_trailing_bytes(void **state) {
  (void)state;
  uint8_t pkt[200], pl[64];
  size_t plen = scone_payload(pl);
  size_t len = tw_make_v4(pkt, pl, plen, 0, 0, 0);
  memset(pkt + len, 0xee, 20);
  scone_ipudp v;
  assert_int_equal(parse_exact(&v, pkt, len + 20), 0);
  assert_int_equal(v.payload_len, plen);
  tw_put16(pkt + 24, 8 + 3);
  assert_int_equal(parse_exact(&v, pkt, len), 0);
  assert_int_equal(v.payload_len, 3);
  /* Three payload bytes are not enough to hold a SCONE header. */
  assert_int_equal(scone_ipudp_rewrite(pkt, len, 0, NULL), SCONE_ERR_TRUNCATED);
  assert_int_equal(scone_packet_signal(pkt + 28), 90);
}

/* A later fragment of a UDP datagram: no UDP view and no rewrite, but
 * is_fragment tells it from other protocols' packets; with the protocol byte
 * at proto_off (IPv4 protocol, or the fragment header's Next Header) made
 * TCP, it is just not UDP. */
static void check_later_fragment(uint8_t *pkt, size_t len, size_t proto_off) {
  uint8_t save[200];
  assert_true(len <= sizeof save);
  memcpy(save, pkt, len);
  scone_ipudp v;
  v.is_fragment = 0;
  assert_int_equal(parse_exact(&v, pkt, len), SCONE_ERR_FRAGMENT);
  assert_int_equal(v.is_fragment, 1);
  assert_int_equal(scone_ipudp_rewrite(pkt, len, 0, NULL), SCONE_ERR_FRAGMENT);
  assert_memory_equal(pkt, save, len);
  pkt[proto_off] = 6;
  v.is_fragment = 1;
  assert_int_equal(parse_exact(&v, pkt, len), SCONE_ERR_NOT_UDP);
  assert_int_equal(v.is_fragment, 0);
}

static void ipv4_fragments(void **state) {
  (void)state;
  uint8_t pkt[200], pl[64], save[200];
  size_t plen = scone_payload(pl);
  scone_ipudp v;
  /* First fragment (MF): the UDP header is there, and its length covers
   * the whole datagram, more than this fragment holds. */
  size_t len = tw_make_v4(pkt, pl, plen, 0, 0x2000, 0);
  tw_put16(pkt + 24, 8 + plen + 1000);
  memcpy(save, pkt, len);
  assert_int_equal(parse_exact(&v, pkt, len), 0);
  assert_int_equal(v.is_fragment, 1);
  assert_int_equal(v.sport, TW_SPORT);
  assert_int_equal(v.payload_len, plen);
  assert_int_equal(scone_ipudp_rewrite(pkt, len, 0, NULL), SCONE_ERR_FRAGMENT);
  assert_memory_equal(pkt, save, len);
  /* Later fragments (with and without MF) hold no UDP header, even when
   * their first bytes look like one with a SCONE packet after it. */
  for (uint16_t frag = 0x0001; frag <= 0x2001; frag += 0x2000) {
    len = tw_make_v4(pkt, pl, plen, 0, frag, 0);
    check_later_fragment(pkt, len, 9);
  }
  /* DF alone is not fragmentation. */
  len = tw_make_v4(pkt, pl, plen, 0, 0x4000, 0);
  assert_int_equal(parse_exact(&v, pkt, len), 0);
  assert_int_equal(v.is_fragment, 0);
}

static void ipv6_plain(void **state) {
  (void)state;
  uint8_t pkt[200], pl[64];
  size_t plen = scone_payload(pl);
  size_t len = tw_make_v6(pkt, pl, plen, 17, NULL, 0, 0);
  scone_ipudp v;
  assert_int_equal(parse_exact(&v, pkt, len), 0);
  assert_int_equal(v.ip_version, 6);
  assert_memory_equal(v.src, tw_src6, 16);
  assert_memory_equal(v.dst, tw_dst6, 16);
  assert_int_equal(v.tos, 0xb8);
  assert_int_equal(v.udp_off, 40);
  assert_int_equal(v.payload_off, 48);
  assert_int_equal(v.payload_len, plen);
  assert_int_equal(v.is_fragment, 0);
  assert_int_equal(scone_ipudp_rewrite(pkt, len, 5, NULL), 1);
  checksum_ok(pkt, len, &v);
  /* Payload length 0 (a jumbogram announcement) is not supported. */
  tw_put16(pkt + 4, 0);
  assert_int_equal(parse_exact(&v, pkt, len), SCONE_ERR_MALFORMED);
  pkt[6] = 6; /* TCP */
  tw_put16(pkt + 4, len - 40);
  assert_int_equal(parse_exact(&v, pkt, len), SCONE_ERR_NOT_UDP);
}

/* Hop-by-hop (8 bytes), routing (24), destination options (16), then UDP. */
static size_t ext_chain(uint8_t *ext) {
  memset(ext, 0, 48);
  ext[0] = 43; /* HBH -> routing */
  ext[1] = 0;
  ext[2] = 1; /* PadN */
  ext[3] = 4;
  ext[8] = 60; /* routing -> dest opts */
  ext[9] = 2;
  ext[10] = 4;  /* segment routing type, nothing left */
  ext[32] = 17; /* dest opts -> UDP */
  ext[33] = 1;
  ext[34] = 1;
  ext[35] = 12;
  return 48;
}

static void ipv6_extension_headers(void **state) {
  (void)state;
  uint8_t pkt[300], pl[64], ext[48];
  size_t plen = scone_payload(pl), elen = ext_chain(ext);
  size_t len = tw_make_v6(pkt, pl, plen, 0, ext, elen, 0);
  scone_ipudp v;
  assert_int_equal(parse_exact(&v, pkt, len), 0);
  assert_int_equal(v.udp_off, 88);
  assert_int_equal(v.payload_off, 96);
  assert_int_equal(v.payload_len, plen);
  assert_int_equal(v.sport, TW_SPORT);
  unsigned old;
  assert_int_equal(scone_ipudp_rewrite(pkt, len, 60, &old), 1);
  assert_int_equal(old, 90);
  checksum_ok(pkt, len, &v);

  /* Truncation at every length up to the end of the UDP header. */
  for (size_t cut = 0; cut < 96; cut++)
    assert_int_equal(parse_exact(&v, pkt, cut), SCONE_ERR_TRUNCATED);
  assert_int_equal(parse_exact(&v, pkt, 96), 0);
  assert_int_equal(v.payload_len, 0);

  /* Hop-by-hop anywhere but first is malformed. */
  uint8_t bad[48];
  memcpy(bad, ext, 48);
  bad[8] = 0; /* routing -> HBH */
  len = tw_make_v6(pkt, pl, plen, 0, bad, elen, 0);
  assert_int_equal(parse_exact(&v, pkt, len), SCONE_ERR_MALFORMED);

  /* An extension header that claims to run past the IP payload. */
  memcpy(bad, ext, 48);
  bad[33] = 200;
  len = tw_make_v6(pkt, pl, plen, 0, bad, elen, 0);
  assert_int_equal(parse_exact(&v, pkt, len), SCONE_ERR_MALFORMED);

  /* ESP and "no next header" end the walk: not UDP as far as we can see. */
  memcpy(bad, ext, 48);
  bad[32] = 50;
  len = tw_make_v6(pkt, pl, plen, 0, bad, elen, 0);
  assert_int_equal(parse_exact(&v, pkt, len), SCONE_ERR_NOT_UDP);
  bad[32] = 59;
  len = tw_make_v6(pkt, pl, plen, 0, bad, elen, 0);
  assert_int_equal(parse_exact(&v, pkt, len), SCONE_ERR_NOT_UDP);
  assert_int_equal(scone_ipudp_rewrite(pkt, len, 0, NULL), SCONE_ERR_NOT_UDP);
}

static size_t v6_fragment(uint8_t *pkt, const uint8_t *pl, size_t plen,
                          uint16_t offset_flags) {
  uint8_t ext[8] = {17, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef};
  tw_put16(ext + 2, offset_flags);
  return tw_make_v6(pkt, pl, plen, 44, ext, 8, 0);
}

static void ipv6_fragments(void **state) {
  (void)state;
  uint8_t pkt[200], pl[64], save[200];
  size_t plen = scone_payload(pl);
  scone_ipudp v;

  /* First fragment, M set. */
  size_t len = v6_fragment(pkt, pl, plen, 0x0001);
  memcpy(save, pkt, len);
  assert_int_equal(parse_exact(&v, pkt, len), 0);
  assert_int_equal(v.is_fragment, 1);
  assert_int_equal(v.udp_off, 48);
  assert_int_equal(v.dport, TW_DPORT);
  assert_int_equal(scone_ipudp_rewrite(pkt, len, 0, NULL), SCONE_ERR_FRAGMENT);
  assert_memory_equal(pkt, save, len);

  /* Later fragments: offset 8 with and without M; no UDP header. */
  for (uint16_t of = 0x0040; of <= 0x0041; of++) {
    len = v6_fragment(pkt, pl, plen, of);
    check_later_fragment(pkt, len, 40);
  }
  /* The first fragment of a TCP segment is a fragment, but not of UDP. */
  len = v6_fragment(pkt, pl, plen, 0x0001);
  pkt[40] = 6;
  v.is_fragment = 1;
  assert_int_equal(parse_exact(&v, pkt, len), SCONE_ERR_NOT_UDP);
  assert_int_equal(v.is_fragment, 0);

  /* An atomic fragment (offset 0, no M) is a whole datagram. */
  len = v6_fragment(pkt, pl, plen, 0x0000);
  assert_int_equal(parse_exact(&v, pkt, len), 0);
  assert_int_equal(v.is_fragment, 0);
  assert_int_equal(scone_ipudp_rewrite(pkt, len, 3, NULL), 1);
  checksum_ok(pkt, len, &v);

  /* Truncated inside the fragment header. */
  for (size_t cut = 40; cut < 48; cut++)
    assert_int_equal(parse_exact(&v, pkt, cut), SCONE_ERR_TRUNCATED);
}

static void non_scone_payload_untouched(void **state) {
  (void)state;
  uint8_t pkt[200], pl[64], save[200];
  size_t plen = scone_payload(pl);
  pl[1] = 0x00; /* QUIC v1 version bytes, not SCONE */
  pl[2] = 0x00;
  pl[3] = 0x00;
  pl[4] = 0x01;
  for (int v6 = 0; v6 <= 1; v6++) {
    size_t len = v6 ? tw_make_v6(pkt, pl, plen, 17, NULL, 0, 0)
                    : tw_make_v4(pkt, pl, plen, 0, 0, 0);
    memcpy(save, pkt, len);
    unsigned old = 1234;
    assert_int_equal(scone_ipudp_rewrite(pkt, len, 0, &old),
                     SCONE_ERR_NOT_SCONE);
    assert_int_equal(old, 1234);
    assert_memory_equal(pkt, save, len);
  }
  /* Empty UDP payload. */
  size_t len = tw_make_v4(pkt, NULL, 0, 0, 0, 0);
  assert_int_equal(scone_ipudp_rewrite(pkt, len, 0, NULL), SCONE_ERR_TRUNCATED);
}

/* Random bytes, and random corruptions of a good packet, must never crash
 * or read out of bounds, and a rewrite may only change the two signal bytes
 * and the checksum. */
static void random_garbage(void **state) {
  (void)state;
  uint64_t seed = 21;
  uint8_t good[300], pl[64], ext[48];
  size_t plen = scone_payload(pl), elen = ext_chain(ext);
  for (int i = 0; i < 20000; i++) {
    size_t len = (i & 1) ? tw_make_v6(good, pl, plen, 0, ext, elen, 0)
                         : tw_make_v4(good, pl, plen, 8, 0, 0);
    int flips = 1 + (int)(tw_rand(&seed) % 4);
    for (int f = 0; f < flips; f++)
      good[tw_rand(&seed) % len] ^= (uint8_t)(1u << (tw_rand(&seed) % 8));
    if (i % 5 == 0)
      tw_fill(&seed, good, len);
    size_t cut = (size_t)(tw_rand(&seed) % (len + 1));
    uint8_t *c = malloc(cut ? cut : 1);
    assert_non_null(c);
    memcpy(c, good, cut);
    scone_ipudp v;
    int r = scone_ipudp_parse(&v, c, cut);
    assert_true(r == 0 || r == SCONE_ERR_TRUNCATED ||
                r == SCONE_ERR_MALFORMED || r == SCONE_ERR_NOT_UDP ||
                r == SCONE_ERR_FRAGMENT);
    if (r == 0)
      assert_true(v.payload_off + v.payload_len <= cut);
    int w = scone_ipudp_rewrite(c, cut, 0, NULL);
    if (r != 0)
      assert_int_equal(w, r);
    for (size_t k = 0; k < cut; k++) {
      if (c[k] == good[k])
        continue;
      assert_true(w == 1);
      assert_true(k == v.payload_off || k == v.payload_off + 1 ||
                  k == v.udp_off + 6 || k == v.udp_off + 7);
    }
    free(c);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(ipv4_plain_and_options),
      cmocka_unit_test(ipv4_bad_headers),
      cmocka_unit_test(ipv4_capture_cut_everywhere),
      cmocka_unit_test(ipv4_trailing_bytes),
      cmocka_unit_test(ipv4_fragments),
      cmocka_unit_test(ipv6_plain),
      cmocka_unit_test(ipv6_extension_headers),
      cmocka_unit_test(ipv6_fragments),
      cmocka_unit_test(non_scone_payload_untouched),
      cmocka_unit_test(random_garbage),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
