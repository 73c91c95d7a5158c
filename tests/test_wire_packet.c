/* The SCONE packet: detection, build/parse, truncation, lower-only rewrite. */
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

static const size_t cid_lens[] = {0, 1, 8, 20, 255};
#define NCIDLENS (sizeof cid_lens / sizeof cid_lens[0])

static void build_parse_round_trip(void **state) {
  (void)state;
  uint64_t seed = 1;
  uint8_t dcid[255], scid[255], buf[7 + 255 + 255 + 16];
  tw_fill(&seed, dcid, sizeof dcid);
  tw_fill(&seed, scid, sizeof scid);
  for (unsigned sig = 0; sig <= SCONE_SIGNAL_UNKNOWN; sig++) {
    for (size_t d = 0; d < NCIDLENS; d++) {
      for (size_t s = 0; s < NCIDLENS; s++) {
        for (uint32_t flags = 0; flags <= SCONE_BUILD_FLAG_RESERVED_BIT;
             flags++) {
          size_t dl = cid_lens[d], sl = cid_lens[s];
          scone_ssize n = scone_packet_build(buf, sizeof buf, sig, dcid, dl,
                                             scid, sl, flags);
          assert_int_equal(n, 7 + dl + sl);
          /* Wire layout, byte by byte. */
          assert_int_equal(buf[0] & 0x80, 0x80);
          assert_int_equal(buf[0] & 0x40, flags ? 0x40 : 0);
          assert_int_equal(buf[0] & 0x3f, sig >> 1);
          uint32_t v = (uint32_t)buf[1] << 24 | (uint32_t)buf[2] << 16 |
                       (uint32_t)buf[3] << 8 | buf[4];
          assert_int_equal(v, (sig & 1) ? 0xef7dc0fdU : 0x6f7dc0fdU);
          assert_int_equal(buf[5], dl);
          assert_memory_equal(buf + 6, dcid, dl);
          assert_int_equal(buf[6 + dl], sl);
          assert_memory_equal(buf + 7 + dl, scid, sl);

          assert_true(scone_packet_is_scone(buf, (size_t)n));
          assert_int_equal(scone_packet_signal(buf), sig);
          /* A coalesced packet follows; parse must stop at the SCONE end. */
          memset(buf + n, 0x41, 16);
          scone_packet pkt;
          assert_int_equal(scone_packet_parse(&pkt, buf, (size_t)n + 16), n);
          assert_int_equal(pkt.len, n);
          assert_int_equal(pkt.signal, sig);
          assert_int_equal(pkt.first_byte, buf[0]);
          assert_int_equal(pkt.version, v);
          assert_int_equal(pkt.dcidlen, dl);
          assert_int_equal(pkt.scidlen, sl);
          assert_ptr_equal(pkt.dcid, buf + 6);
          assert_ptr_equal(pkt.scid, buf + 7 + dl);
        }
      }
    }
  }
}

static void build_errors(void **state) {
  (void)state;
  uint8_t cid[256] = {0}, buf[600];
  assert_int_equal(
      scone_packet_build(buf, sizeof buf, 128, NULL, 0, NULL, 0, 0),
      SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(
      scone_packet_build(buf, sizeof buf, 127, cid, 256, NULL, 0, 0),
      SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(
      scone_packet_build(buf, sizeof buf, 127, NULL, 0, cid, 256, 0),
      SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(
      scone_packet_build(buf, sizeof buf, 127, NULL, 4, NULL, 0, 0),
      SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(
      scone_packet_build(buf, sizeof buf, 127, NULL, 0, NULL, 0, 0x2),
      SCONE_ERR_INVALID_ARGUMENT);
  /* Every buffer one byte short of the packet is refused, untouched. */
  for (size_t cap = 0; cap < 7 + 20 + 8; cap++) {
    memset(buf, 0xee, sizeof buf);
    assert_int_equal(scone_packet_build(buf, cap, 127, cid, 20, cid, 8, 0),
                     SCONE_ERR_NOBUF);
    assert_int_equal(buf[0], 0xee);
  }
  assert_int_equal(scone_packet_build(buf, 35, 127, cid, 20, cid, 8, 0), 35);
  assert_int_equal(scone_packet_build(NULL, 0, 0, NULL, 0, NULL, 0, 0),
                   SCONE_ERR_NOBUF);
}

static void detection(void **state) {
  (void)state;
  uint8_t p[8] = {0xff, 0x6f, 0x7d, 0xc0, 0xfd, 0, 0, 0};
  assert_true(scone_packet_is_scone(p, 5));
  p[1] = 0xef;
  assert_true(scone_packet_is_scone(p, 5));
  /* Fewer than five bytes cannot be judged. */
  for (size_t n = 0; n < 5; n++)
    assert_false(scone_packet_is_scone(p, n));
  assert_false(scone_packet_is_scone(NULL, 0));
  /* Short header bit. */
  p[0] = 0x7f;
  assert_false(scone_packet_is_scone(p, 5));
  p[0] = 0x80;
  /* Any other bit of the version flipped: QUIC v1, v2, and near misses. */
  for (int byte = 1; byte <= 4; byte++) {
    for (int bit = 0; bit < 8; bit++) {
      if (byte == 1 && bit == 7)
        continue; /* the signal bit */
      p[byte] ^= (uint8_t)(1 << bit);
      assert_false(scone_packet_is_scone(p, 5));
      scone_packet pkt;
      assert_int_equal(scone_packet_parse(&pkt, p, 7), SCONE_ERR_NOT_SCONE);
      unsigned old = 1000;
      uint8_t before[8];
      memcpy(before, p, 8);
      assert_int_equal(scone_packet_rewrite(p, 7, 0, &old),
                       SCONE_ERR_NOT_SCONE);
      assert_memory_equal(p, before, 8);
      assert_int_equal(old, 1000);
      p[byte] ^= (uint8_t)(1 << bit);
    }
  }
  const uint8_t v1[5] = {0xc0, 0, 0, 0, 1},
                v2[5] = {0xd0, 0x6b, 0x33, 0x43, 0xcf};
  assert_false(scone_packet_is_scone(v1, 5));
  assert_false(scone_packet_is_scone(v2, 5));
}

/* A SCONE packet cut at every byte offset, in a heap block of exactly that
 * size so ASan reports any read past the end. */
static void truncation_at_every_offset(void **state) {
  (void)state;
  uint64_t seed = 2;
  uint8_t cid[255], full[7 + 255 + 255];
  tw_fill(&seed, cid, sizeof cid);
  for (size_t d = 0; d < NCIDLENS; d++) {
    for (size_t s = 0; s < NCIDLENS; s++) {
      size_t dl = cid_lens[d], sl = cid_lens[s];
      scone_ssize n =
          scone_packet_build(full, sizeof full, 42, cid, dl, cid, sl, 0);
      assert_int_equal(n, 7 + dl + sl);
      for (size_t cut = 0; cut <= (size_t)n; cut++) {
        uint8_t *p = malloc(cut ? cut : 1);
        assert_non_null(p);
        memcpy(p, full, cut);
        scone_packet pkt;
        scone_ssize r = scone_packet_parse(&pkt, p, cut);
        if (cut < (size_t)n)
          assert_int_equal(r, SCONE_ERR_TRUNCATED);
        else
          assert_int_equal(r, n);
        /* A rewrite needs only the five header bytes. */
        unsigned old = 0;
        int w = scone_packet_rewrite(p, cut, 10, &old);
        if (cut < 5) {
          assert_int_equal(w, SCONE_ERR_TRUNCATED);
        } else {
          assert_int_equal(w, 1);
          assert_int_equal(old, 42);
          assert_int_equal(scone_packet_signal(p), 10);
        }
        free(p);
      }
    }
  }
  /* A prefix that already rules SCONE out is not "truncated". */
  const uint8_t short_hdr[2] = {0x40, 0x6f};
  scone_packet pkt;
  assert_int_equal(scone_packet_parse(&pkt, short_hdr, 2), SCONE_ERR_NOT_SCONE);
  assert_int_equal(scone_packet_rewrite((uint8_t[]){0x80, 0x00}, 2, 0, NULL),
                   SCONE_ERR_NOT_SCONE);
  assert_int_equal(scone_packet_rewrite((uint8_t[]){0x80, 0xef}, 2, 0, NULL),
                   SCONE_ERR_TRUNCATED);
  /* No buffer is a bad argument at any claimed length, as for parse. */
  for (size_t len = 0; len <= 8; len++) {
    assert_int_equal(scone_packet_rewrite(NULL, len, 0, NULL),
                     SCONE_ERR_INVALID_ARGUMENT);
    assert_int_equal(scone_packet_parse(&pkt, NULL, len),
                     len ? SCONE_ERR_INVALID_ARGUMENT : SCONE_ERR_TRUNCATED);
  }
}

/* Every (existing, target) pair, both reserved-bit states: the signal
 * becomes min(existing, target) unless target is 127 or more, and no other
 * bit of the packet changes. */
static void rewrite_lower_only_all_pairs(void **state) {
  (void)state;
  uint8_t cid[20] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                     11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
  uint8_t orig[64], buf[64];
  for (uint32_t flags = 0; flags <= SCONE_BUILD_FLAG_RESERVED_BIT; flags++) {
    for (unsigned have = 0; have <= 127; have++) {
      scone_ssize n =
          scone_packet_build(orig, sizeof orig, have, cid, 20, cid, 4, flags);
      assert_true(n > 0);
      memset(orig + n, 0x5a, sizeof orig - (size_t)n);
      for (unsigned target = 0; target <= 130; target++) {
        memcpy(buf, orig, sizeof buf);
        unsigned old = 999;
        int r = scone_packet_rewrite(buf, (size_t)n, target, &old);
        unsigned want = (target < have) ? target : have;
        assert_int_equal(old, have);
        assert_int_equal(r, want != have);
        assert_int_equal(scone_packet_signal(buf), want);
        if (r == 1) /* lowered, and never to "unknown" */
          assert_true(want < have && want != SCONE_SIGNAL_UNKNOWN);
        /* Only the signal bits may differ. */
        assert_int_equal(buf[0] & 0xc0, orig[0] & 0xc0);
        assert_int_equal(buf[1] & 0x7f, orig[1] & 0x7f);
        assert_memory_equal(buf + 2, orig + 2, sizeof buf - 2);
        /* And the result is a well-formed packet in the right version. */
        scone_packet pkt;
        assert_int_equal(scone_packet_parse(&pkt, buf, (size_t)n), n);
        assert_int_equal(pkt.signal, want);
        assert_int_equal(pkt.version,
                         (want & 1) ? SCONE_VERSION_ODD : SCONE_VERSION_EVEN);
      }
      /* Absurd targets change nothing either. */
      memcpy(buf, orig, sizeof buf);
      assert_int_equal(scone_packet_rewrite(buf, (size_t)n, ~0U, NULL), 0);
      assert_memory_equal(buf, orig, sizeof buf);
    }
  }
}

/* The spec's pseudocode, transcribed, as a second opinion. */
static void rewrite_matches_spec_pseudocode(void **state) {
  (void)state;
  uint64_t seed = 3;
  for (int i = 0; i < 100000; i++) {
    uint8_t a[5], b[5];
    tw_fill(&seed, a, 5);
    /* Make most of them SCONE so the interesting branch is exercised. */
    if (i % 4) {
      a[1] = (uint8_t)((a[1] & 0x80) | 0x6f);
      a[2] = 0x7d;
      a[3] = 0xc0;
      a[4] = 0xfd;
      a[0] |= 0x80;
    }
    memcpy(b, a, 5);
    unsigned target = (unsigned)(tw_rand(&seed) % 128);
    int is_long = (b[0] & 0x80) == 0x80;
    uint32_t ver = (uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 |
                   (uint32_t)b[3] << 8 | b[4];
    int expect = SCONE_ERR_NOT_SCONE;
    if (is_long && (ver & 0x7fffffff) == 0x6f7dc0fd) {
      unsigned packet_signal = ((b[0] & 0x3fU) << 1) | (ver >> 31);
      expect = 0;
      if (target < packet_signal) {
        b[0] = (uint8_t)((b[0] & 0xc0) | (target >> 1));
        b[1] = (uint8_t)((b[1] & 0x7f) | (target << 7));
        expect = 1;
      }
    }
    assert_int_equal(scone_packet_rewrite(a, 5, target, NULL), expect);
    assert_memory_equal(a, b, 5);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(build_parse_round_trip),
      cmocka_unit_test(build_errors),
      cmocka_unit_test(detection),
      cmocka_unit_test(truncation_at_every_offset),
      cmocka_unit_test(rewrite_lower_only_all_pairs),
      cmocka_unit_test(rewrite_matches_spec_pseudocode),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
