/* The engine's inline parser and flow fingerprint against their
 * references: whatever sconed_fast_parse accepts, scone_ipudp_parse reads
 * the same way; both directions of a tuple share one fingerprint, with the
 * sides swapped. */
#include "harness.h"

#include "fastparse.h"
#include "flow_table.h"

#include <arpa/inet.h>

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void) {
  return h_xorshift(&rng);
}

/* A well-formed datagram of a random flow and size. */
static size_t random_packet(uint8_t *buf, size_t cap) {
  pg_flow f;
  pg_flow_make(&f, (int)(rnd() & 1), (uint32_t)rnd(), (uint16_t)rnd());
  uint8_t payload[200];
  size_t plen = rnd() % sizeof(payload);
  for (size_t i = 0; i < plen; i++)
    payload[i] = (uint8_t)rnd();
  return pg_ip(buf, cap, &f, (int)(rnd() & 1), payload, plen, 1);
}

/* One random damage: a byte of the headers, a length field, the length
 * captured, options, extension headers, fragment bits. */
static size_t damage(uint8_t *p, size_t len) {
  int v6 = (p[0] >> 4) == 6;
  switch (rnd() % 8) {
  case 0:
    p[rnd() % (len < 64 ? len : 64)] ^= (uint8_t)(1u << (rnd() % 8));
    break;
  case 1:
    return rnd() % (len + 1); /* truncated capture */
  case 2: {
    size_t at = v6 ? 4 : 2; /* IP length */
    p[at + rnd() % 2] = (uint8_t)rnd();
    break;
  }
  case 3: {
    size_t at = v6 ? 44 : 24; /* UDP length */
    p[at + rnd() % 2] = (uint8_t)rnd();
    break;
  }
  case 4:
    if (v6)
      p[6] = (uint8_t[]){0, 43, 44, 60, 6, 17}[rnd() % 6];
    else
      p[0] = (uint8_t)(0x40 | (rnd() % 16)); /* header length */
    break;
  case 5:
    if (!v6)
      p[6 + rnd() % 2] = (uint8_t)rnd(); /* flags and fragment offset */
    break;
  case 6:
    p[0] = (uint8_t)rnd();
    break;
  default:
    break; /* intact */
  }
  return len;
}

static void fast_parse_matches_library(void **state) {
  (void)state;
  unsigned fast = 0, slow = 0, v6 = 0;
  for (int n = 0; n < 200000; n++) {
    uint8_t pkt[512];
    size_t len = damage(pkt, random_packet(pkt, sizeof(pkt)));
    sconed_fast_udp u;
    if (!sconed_fast_parse(pkt, len, &u)) {
      slow++;
      continue;
    }
    fast++;
    v6 += (unsigned)u.ipv6;
    scone_ipudp l;
    assert_int_equal(scone_ipudp_parse(&l, pkt, len), 0);
    assert_false(l.is_fragment);
    assert_int_equal(l.ip_version, u.ipv6 ? 6 : 4);
    assert_ptr_equal(l.src, u.src);
    assert_ptr_equal(l.dst, u.dst);
    assert_int_equal(l.sport, ntohs(u.sport_n));
    assert_int_equal(l.dport, ntohs(u.dport_n));
    assert_int_equal(l.payload_off, u.payload_off);
    assert_int_equal(l.payload_len, u.payload_len);
  }
  /* Both ways taken often, and both families on the fast one. */
  assert_true(fast > 50000 && slow > 50000);
  assert_true(v6 > fast / 4 && v6 < fast * 3 / 4);
}

static uint64_t fprint(const uint64_t key[8], int v6, const uint8_t *s,
                       const uint8_t *d, uint16_t sp, uint16_t dp, int *a) {
  return sconed_fingerprint(key, v6, s, d, htons(sp), htons(dp), a);
}

static void fingerprint_both_directions(void **state) {
  (void)state;
  uint64_t key[8];
  for (int i = 0; i < 8; i++)
    key[i] = rnd();
  for (int n = 0; n < 100000; n++) {
    int v6 = n & 1;
    uint8_t s[16], d[16];
    for (int i = 0; i < 16; i++) {
      s[i] = (uint8_t)rnd();
      d[i] = (uint8_t)rnd();
    }
    if (n % 7 == 0) /* one address at both ends: the ports decide */
      memcpy(d, s, sizeof(d));
    uint16_t sp = (uint16_t)rnd(), dp = (uint16_t)rnd();
    if (sp == dp)
      dp++;
    int a1, a2;
    uint64_t f1 = fprint(key, v6, s, d, sp, dp, &a1);
    uint64_t f2 = fprint(key, v6, d, s, dp, sp, &a2);
    assert_true(f1 & 1); /* never the empty tag */
    assert_int_equal(f1, f2);
    assert_int_equal(a1, !a2);
    /* Another port or address is another flow. */
    int a3;
    assert_int_not_equal(fprint(key, v6, s, d, sp, (uint16_t)(dp + 1), &a3),
                         f1);
    uint8_t s2[16];
    memcpy(s2, s, sizeof(s2));
    s2[(v6 ? 16 : 4) - 1] ^= 1;
    assert_int_not_equal(fprint(key, v6, s2, d, sp, dp, &a3), f1);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(fast_parse_matches_library),
      cmocka_unit_test(fingerprint_both_directions),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
