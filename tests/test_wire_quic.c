/* QUIC invariants header (RFC 8999) and variable-length integers. */
#include <scone/scone.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

static void long_header(void **state) {
  (void)state;
  /* A QUIC v1 Initial: 0xc3, version 1, 8-byte DCID, 4-byte SCID, then a
   * token length and the rest, which the invariants do not cover. */
  const uint8_t p[] = {0xc3, 0, 0, 0, 1, 8, 1, 2, 3, 4,    5,
                       6,    7, 8, 4, 9, 9, 9, 9, 0, 0x41, 0x00};
  scone_quic_hdr h;
  assert_int_equal(scone_quic_hdr_parse(&h, p, sizeof p, 0), 19);
  assert_int_equal(h.is_long, 1);
  assert_int_equal(h.first_byte, 0xc3);
  assert_int_equal(h.version, 1);
  assert_int_equal(h.dcidlen, 8);
  assert_ptr_equal(h.dcid, p + 6);
  assert_int_equal(h.scidlen, 4);
  assert_ptr_equal(h.scid, p + 15);
  assert_int_equal(h.hdrlen, 19);
  /* short_dcidlen only matters for short headers. */
  assert_int_equal(scone_quic_hdr_parse(&h, p, sizeof p, 20), 19);
}

static void version_negotiation(void **state) {
  (void)state;
  /* Version 0, CIDs echoed, then a list of versions. */
  const uint8_t p[] = {0x80, 0, 0, 0, 0, 2,    0xaa, 0xbb, 1,
                       0xcc, 0, 0, 0, 1, 0x6f, 0x7d, 0xc0, 0xfd};
  scone_quic_hdr h;
  assert_int_equal(scone_quic_hdr_parse(&h, p, sizeof p, 0), 10);
  assert_int_equal(h.is_long, 1);
  assert_int_equal(h.version, 0);
  assert_int_equal(h.dcidlen, 2);
  assert_int_equal(h.scidlen, 1);
  assert_int_equal(h.scid[0], 0xcc);
}

static void short_header(void **state) {
  (void)state;
  const uint8_t p[] = {0x43, 1, 2, 3, 4, 5, 6, 7, 8, 0xde, 0xad};
  scone_quic_hdr h;
  assert_int_equal(scone_quic_hdr_parse(&h, p, sizeof p, 8), 9);
  assert_int_equal(h.is_long, 0);
  assert_int_equal(h.first_byte, 0x43);
  assert_int_equal(h.version, 0);
  assert_ptr_equal(h.dcid, p + 1);
  assert_int_equal(h.dcidlen, 8);
  assert_null(h.scid);
  assert_int_equal(h.scidlen, 0);
  assert_int_equal(scone_quic_hdr_parse(&h, p, sizeof p, 0), 1);
  assert_int_equal(h.dcidlen, 0);
  assert_int_equal(scone_quic_hdr_parse(&h, p, sizeof p, 10), 11);
  assert_int_equal(scone_quic_hdr_parse(&h, p, sizeof p, 11),
                   SCONE_ERR_TRUNCATED);
  assert_int_equal(scone_quic_hdr_parse(&h, p, 0, 0), SCONE_ERR_NOT_QUIC);
}

/* Long headers with CIDs of 0, 20 and 255 bytes, cut at every offset in an
 * exactly-sized heap block (ASan catches any over-read). */
static void long_header_truncation(void **state) {
  (void)state;
  static const size_t lens[] = {0, 20, 255};
  uint8_t full[7 + 255 + 255];
  for (size_t d = 0; d < 3; d++) {
    for (size_t s = 0; s < 3; s++) {
      size_t dl = lens[d], sl = lens[s], n = 7 + dl + sl;
      memset(full, 0x77, sizeof full);
      full[0] = 0xc0;
      full[4] = 1;
      full[5] = (uint8_t)dl;
      full[6 + dl] = (uint8_t)sl;
      for (size_t cut = 0; cut <= n; cut++) {
        uint8_t *p = malloc(cut ? cut : 1);
        assert_non_null(p);
        memcpy(p, full, cut);
        scone_quic_hdr h;
        scone_ssize r = scone_quic_hdr_parse(&h, p, cut, 0);
        if (cut == 0)
          assert_int_equal(r, SCONE_ERR_NOT_QUIC);
        else if (cut < n)
          assert_int_equal(r, SCONE_ERR_TRUNCATED);
        else {
          assert_int_equal(r, n);
          assert_int_equal(h.dcidlen, dl);
          assert_int_equal(h.scidlen, sl);
        }
        free(p);
      }
    }
  }
}

/* A SCONE packet is itself a long header that follows the invariants. */
static void scone_packet_is_invariant_long_header(void **state) {
  (void)state;
  uint8_t cid[4] = {1, 2, 3, 4}, buf[32];
  scone_ssize n = scone_packet_build(buf, sizeof buf, 127, cid, 4, NULL, 0, 0);
  scone_quic_hdr h;
  assert_int_equal(scone_quic_hdr_parse(&h, buf, (size_t)n, 0), n);
  assert_int_equal(h.version, SCONE_VERSION_ODD);
}

static void varint_rfc9000_examples(void **state) {
  (void)state;
  /* RFC 9000 Appendix A.1. */
  static const struct {
    uint8_t b[8];
    size_t n;
    uint64_t v;
  } ex[] = {
      {{0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c},
       8,
       UINT64_C(151288809941952652)},
      {{0x9d, 0x7f, 0x3e, 0x7d}, 4, 494878333},
      {{0x7b, 0xbd}, 2, 15293},
      {{0x25}, 1, 37},
      {{0x40, 0x25}, 2, 37},
  };
  for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
    uint64_t v = 0;
    assert_int_equal(scone_varint_get(&v, ex[i].b, ex[i].n), ex[i].n);
    assert_int_equal(v, ex[i].v);
    /* One byte short is truncated. */
    assert_int_equal(scone_varint_get(&v, ex[i].b, ex[i].n - 1),
                     SCONE_ERR_TRUNCATED);
    if (i < 4) { /* the last is a non-shortest encoding */
      uint8_t out[8];
      assert_int_equal(scone_varint_put(out, sizeof out, ex[i].v), ex[i].n);
      assert_memory_equal(out, ex[i].b, ex[i].n);
    }
  }
}

static void varint_boundaries(void **state) {
  (void)state;
  static const uint64_t vals[] = {
      0, 63, 64, 16383, 16384, 1073741823, 1073741824, (UINT64_C(1) << 62) - 1};
  static const size_t lens[] = {1, 1, 2, 2, 4, 4, 8, 8};
  for (size_t i = 0; i < 8; i++) {
    uint8_t out[8];
    assert_int_equal(scone_varint_len(vals[i]), lens[i]);
    assert_int_equal(scone_varint_put(out, sizeof out, vals[i]), lens[i]);
    uint64_t v;
    assert_int_equal(scone_varint_get(&v, out, lens[i]), lens[i]);
    assert_int_equal(v, vals[i]);
    assert_int_equal(scone_varint_put(out, lens[i] - 1, vals[i]),
                     SCONE_ERR_NOBUF);
  }
  uint8_t out[8];
  assert_int_equal(scone_varint_put(out, 8, UINT64_C(1) << 62),
                   SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(scone_varint_put(out, 8, UINT64_MAX),
                   SCONE_ERR_INVALID_ARGUMENT);
  uint64_t v;
  assert_int_equal(scone_varint_get(&v, out, 0), SCONE_ERR_TRUNCATED);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(long_header),
      cmocka_unit_test(version_negotiation),
      cmocka_unit_test(short_header),
      cmocka_unit_test(long_header_truncation),
      cmocka_unit_test(scone_packet_is_invariant_long_header),
      cmocka_unit_test(varint_rfc9000_examples),
      cmocka_unit_test(varint_boundaries),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
