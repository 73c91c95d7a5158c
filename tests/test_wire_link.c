/* Link-layer framing: where the IP packet starts in a captured frame. */
#include <scone/scone.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#define SENTINEL ((size_t)0xdeadbeef)

/* An IPv4 and an IPv6 header start: only the version nibble matters here. */
static const uint8_t ip4[20] = {0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 17};
static const uint8_t ip6[40] = {0x60, 0, 0, 0, 0, 0, 17, 64};

typedef struct frame {
  uint8_t b[128];
  size_t len;
} frame;

static void add(frame *f, const void *p, size_t n) {
  assert_true(f->len + n <= sizeof(f->b));
  memcpy(f->b + f->len, p, n);
  f->len += n;
}

static void add16(frame *f, unsigned v) {
  uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
  add(f, b, 2);
}

/* Ethernet: MACs, then tags (type, TCI), then the EtherType. */
static frame eth(const unsigned *tags, size_t ntags, unsigned type) {
  frame f = {{0}, 0};
  static const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
  add(&f, macs, sizeof macs);
  for (size_t i = 0; i < ntags; i++) {
    add16(&f, tags[i]);
    add16(&f, 0x0064 + (unsigned)i);
  }
  add16(&f, type);
  return f;
}

static frame sll(unsigned proto) {
  frame f = {{0}, 0};
  add16(&f, 0); /* sent to us */
  add16(&f, 1); /* ARPHRD_ETHER */
  add16(&f, 6);
  static const uint8_t addr[8] = {2, 0, 0, 0, 0, 1};
  add(&f, addr, sizeof addr);
  add16(&f, proto);
  return f;
}

static frame sll2(unsigned proto) {
  frame f = {{0}, 0};
  add16(&f, proto);
  add16(&f, 0);
  static const uint8_t rest[16] = {0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1};
  add(&f, rest, sizeof rest);
  return f;
}

static frame loop4(const uint8_t fam[4]) {
  frame f = {{0}, 0};
  add(&f, fam, 4);
  return f;
}

static int at(int linktype, const frame *f, size_t len, size_t *off) {
  *off = SENTINEL;
  return scone_link_ip_offset(linktype, f->b, len, off);
}

/* The frame parses to want, and every shorter capture is truncated (up to
 * and including the link header's end) without touching *ip_off. */
static void check_ip(int linktype, const frame *f, size_t want) {
  size_t off;
  assert_int_equal(at(linktype, f, f->len, &off), 0);
  assert_int_equal(off, want);
  for (size_t len = 0; len < f->len; len++) {
    /* An exact-size copy, so that ASan sees any read past the capture. */
    uint8_t *cut = malloc(len ? len : 1);
    assert_non_null(cut);
    memcpy(cut, f->b, len);
    off = SENTINEL;
    int r = scone_link_ip_offset(linktype, cut, len, &off);
    if (len <= want) {
      assert_int_equal(r, SCONE_ERR_TRUNCATED);
      assert_int_equal(off, SENTINEL);
    } else {
      assert_int_equal(r, 0);
      assert_int_equal(off, want);
    }
    free(cut);
  }
}

/* Not IP once the announcing field is in view, truncated before. */
static void check_not_ip(int linktype, const frame *f, size_t decided_at) {
  size_t off;
  for (size_t len = 0; len <= f->len; len++) {
    int r = at(linktype, f, len, &off);
    assert_int_equal(r,
                     len < decided_at ? SCONE_ERR_TRUNCATED : SCONE_ERR_NOT_IP);
    assert_int_equal(off, SENTINEL);
  }
}

static void supported_types(void **state) {
  (void)state;
  static const int yes[] = {0, 1, 12, 101, 108, 113, 228, 229, 276};
  for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
    assert_int_equal(scone_link_supported(yes[i]), 1);
  static const int no[] = {-1, 2, 105, 127, 195, 1000};
  size_t off;
  frame f = eth(NULL, 0, 0x0800);
  add(&f, ip4, sizeof ip4);
  for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
    assert_int_equal(scone_link_supported(no[i]), 0);
    assert_int_equal(at(no[i], &f, f.len, &off), SCONE_ERR_INVALID_ARGUMENT);
    assert_int_equal(off, SENTINEL);
  }
  assert_int_equal(scone_link_ip_offset(SCONE_LINK_ETHERNET, f.b, f.len, NULL),
                   SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(scone_link_ip_offset(SCONE_LINK_RAW, NULL, 20, &off),
                   SCONE_ERR_INVALID_ARGUMENT);
  /* Nothing to read, nothing dereferenced. */
  assert_int_equal(scone_link_ip_offset(SCONE_LINK_RAW, NULL, 0, &off),
                   SCONE_ERR_TRUNCATED);
}

static void ethernet(void **state) {
  (void)state;
  static const unsigned one[] = {0x8100};
  static const unsigned qinq[] = {0x88a8, 0x8100};
  static const unsigned old[] = {0x9100, 0x9100, 0x8100};
  for (int v6 = 0; v6 <= 1; v6++) {
    unsigned type = v6 ? 0x86dd : 0x0800;
    const uint8_t *ip = v6 ? ip6 : ip4;
    size_t iplen = v6 ? sizeof ip6 : sizeof ip4;
    frame f = eth(NULL, 0, type);
    add(&f, ip, iplen);
    check_ip(SCONE_LINK_ETHERNET, &f, 14);
    f = eth(one, 1, type);
    add(&f, ip, iplen);
    check_ip(SCONE_LINK_ETHERNET, &f, 18);
    f = eth(qinq, 2, type);
    add(&f, ip, iplen);
    check_ip(SCONE_LINK_ETHERNET, &f, 22);
    f = eth(old, 3, type);
    add(&f, ip, iplen);
    check_ip(SCONE_LINK_ETHERNET, &f, 26);
  }
  /* The EtherType decides, not the first IP byte. */
  frame f = eth(NULL, 0, 0x0800);
  add(&f, ip6, sizeof ip6);
  check_ip(SCONE_LINK_ETHERNET, &f, 14);
}

static void ethernet_not_ip(void **state) {
  (void)state;
  static const uint8_t arp[28] = {0, 1, 8, 0, 6, 4, 0, 1};
  static const unsigned one[] = {0x8100};
  frame f = eth(NULL, 0, 0x0806);
  add(&f, arp, sizeof arp);
  check_not_ip(SCONE_LINK_ETHERNET, &f, 14);
  f = eth(one, 1, 0x0806);
  add(&f, arp, sizeof arp);
  check_not_ip(SCONE_LINK_ETHERNET, &f, 18);
  /* 802.3 length field (LLC follows), and IP-looking bytes after it. */
  f = eth(NULL, 0, 0x0040);
  add(&f, ip4, sizeof ip4);
  check_not_ip(SCONE_LINK_ETHERNET, &f, 14);
}

/* Both cooked formats: the protocol field announces what follows the
 * header, a tag the NIC left in place included. */
static void cooked_format(int linktype, frame (*mk)(unsigned), size_t hl) {
  static const uint8_t arp[28] = {0, 1, 8, 0, 6, 4, 0, 1};
  frame f = mk(0x0800);
  add(&f, ip4, sizeof ip4);
  check_ip(linktype, &f, hl);
  f = mk(0x86dd);
  add(&f, ip6, sizeof ip6);
  check_ip(linktype, &f, hl);
  f = mk(0x8100);
  add16(&f, 0x0064);
  add16(&f, 0x86dd);
  add(&f, ip6, sizeof ip6);
  check_ip(linktype, &f, hl + 4);
  f = mk(0x0806);
  add(&f, arp, sizeof arp);
  check_not_ip(linktype, &f, hl);
}

static void cooked(void **state) {
  (void)state;
  cooked_format(SCONE_LINK_LINUX_SLL, sll, 16);
  cooked_format(SCONE_LINK_LINUX_SLL2, sll2, 20);
}

static void raw_ip(void **state) {
  (void)state;
  static const int types[] = {SCONE_LINK_RAW, SCONE_LINK_DLT_RAW,
                              SCONE_LINK_IPV4, SCONE_LINK_IPV6};
  for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
    frame f = {{0}, 0};
    add(&f, ip4, sizeof ip4);
    check_ip(types[i], &f, 0);
    f.len = 0;
    add(&f, ip6, sizeof ip6);
    check_ip(types[i], &f, 0);
    uint8_t v5[20];
    memcpy(v5, ip4, sizeof v5);
    v5[0] = 0x55;
    f.len = 0;
    add(&f, v5, sizeof v5);
    check_not_ip(types[i], &f, 1);
  }
}

static void loopback(void **state) {
  (void)state;
  /* AF_INET, then AF_INET6 of Linux, Open/NetBSD, FreeBSD, macOS. */
  static const uint8_t fams[] = {2, 10, 24, 28, 30};
  for (size_t i = 0; i < sizeof fams / sizeof *fams; i++) {
    const uint8_t *ip = fams[i] == 2 ? ip4 : ip6;
    size_t iplen = fams[i] == 2 ? sizeof ip4 : sizeof ip6;
    const uint8_t le[4] = {fams[i], 0, 0, 0}, be[4] = {0, 0, 0, fams[i]};
    for (int t = 0; t < 2; t++) {
      int type = t ? SCONE_LINK_LOOP : SCONE_LINK_NULL;
      frame f = loop4(le);
      add(&f, ip, iplen);
      check_ip(type, &f, 4);
      f = loop4(be);
      add(&f, ip, iplen);
      check_ip(type, &f, 4);
    }
  }
  /* Not an IP family, though IP follows. */
  static const uint8_t other[4] = {17, 0, 0, 0}, zero[4] = {0};
  frame f = loop4(other);
  add(&f, ip4, sizeof ip4);
  check_not_ip(SCONE_LINK_NULL, &f, 4);
  f = loop4(zero);
  add(&f, ip4, sizeof ip4);
  check_not_ip(SCONE_LINK_LOOP, &f, 4);
  /* An IP family in front of something that is not IP. */
  static const uint8_t inet[4] = {2, 0, 0, 0};
  static const uint8_t junk[8] = {0};
  f = loop4(inet);
  add(&f, junk, sizeof junk);
  check_not_ip(SCONE_LINK_NULL, &f, 5);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(supported_types), cmocka_unit_test(ethernet),
      cmocka_unit_test(ethernet_not_ip), cmocka_unit_test(cooked),
      cmocka_unit_test(raw_ip),          cmocka_unit_test(loopback),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
