/*
 * The legacy element on the project's own QUIC Initials: which flows nDPI
 * 4.2 finds to be video, and that only those are throttled.
 */
#include "initials.h"
#include "legacy_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#define CLIENT 0x0a000001U /* 10.0.0.1 */
#define SERVER 0xc0000201U /* 192.0.2.1 */
#define T0 (1000 * SCONE_SECONDS)

static const char CONFIG[] = "[plan video]\n"
                             "downlink = 1.5M\n"
                             "action = police\n"
                             "[subscribers]\n"
                             "subscriber = 10.0.0.0/8 video opt-in\n"
                             "[dpi]\n"
                             "sni = cdn.video.example\n"
                             "sni = .media.example\n"
                             "max_packets = 4\n";

static int setup(void **state) {
  return legacy_fixture_setup(state, CONFIG);
}

/* Offers a UDP payload on the flow CLIENT:cport <-> SERVER:443. */
static sconed_verdict offer(legacy_fixture *fx, int up, uint16_t cport,
                            const uint8_t *pl, size_t n, scone_tstamp now) {
  uint8_t pkt[INITIALS_MAX + 64];
  size_t len = up ? initials_ip4(pkt, CLIENT, cport, SERVER, 443, pl, n)
                  : initials_ip4(pkt, SERVER, 443, CLIENT, cport, pl, n);
  sconed_verdict v;
  legacy_dpi_process_ip(fx->l, pkt, len, now, &v);
  return v;
}

static int class_of(legacy_fixture *fx, uint16_t cport, scone_tstamp now) {
  uint8_t pkt[64], pl[1] = {0x40};
  size_t len = initials_ip4(pkt, CLIENT, cport, SERVER, 443, pl, 1);
  return legacy_dpi_flow_class(fx->l, pkt, len, now);
}

/* A 1-RTT-like datagram from the server: a second of them at 10 Mbit/s. */
static uint64_t blast(legacy_fixture *fx, uint16_t cport, scone_tstamp t) {
  uint8_t pl[1200];
  memset(pl, 0x5a, sizeof(pl));
  pl[0] = 0x41;
  uint64_t drops = 0;
  for (int i = 0; i < 1000; i++) {
    sconed_verdict v = offer(fx, 0, cport, pl, sizeof(pl),
                             t + (scone_tstamp)i * SCONE_MILLISECONDS);
    drops += v.action == SCONED_DROP;
  }
  return drops;
}

/* The client's Initial with this SNI, on a flow of its own. */
static int run_hello(legacy_fixture *fx, const char *sni, uint16_t cport) {
  uint8_t dg[INITIALS_MAX];
  int n = initials_capture(sni, dg, sizeof(dg));
  assert_true(n >= 1200);
  sconed_verdict v = offer(fx, 1, cport, dg, (size_t)n, T0);
  assert_int_equal(v.action, SCONED_PASS);
  return class_of(fx, cport, T0);
}

static void test_video_sni_throttled(void **state) {
  legacy_fixture *fx = *state;
  /* nDPI's own host list: YouTube's video CDN, category Media. */
  assert_int_equal(run_hello(fx, "rr3---sn-4g5e6nsz.googlevideo.com", 5001), 2);
  assert_true(blast(fx, 5001, T0 + SCONE_MILLISECONDS) > 500);
  legacy_dpi_stats st = legacy_fixture_stats(fx);
  assert_int_equal(st.video_flows, 1);
  assert_int_equal(st.sni_matches, 0);
}

static void test_listed_sni_throttled(void **state) {
  legacy_fixture *fx = *state;
  assert_int_equal(run_hello(fx, "cdn.video.example", 5002), 2);
  assert_int_equal(run_hello(fx, "eu1.media.example", 5003), 2);
  assert_true(blast(fx, 5002, T0 + SCONE_MILLISECONDS) > 500);
  legacy_dpi_stats st = legacy_fixture_stats(fx);
  assert_int_equal(st.sni_matches, 2);
}

static void test_other_sni_passes(void **state) {
  legacy_fixture *fx = *state;
  assert_int_equal(run_hello(fx, "www.example.org", 5004), 3);
  /* "media.example" itself is not under ".media.example". */
  assert_int_equal(run_hello(fx, "media.example", 5005), 3);
  assert_int_equal(blast(fx, 5004, T0 + SCONE_MILLISECONDS), 0);
  legacy_dpi_stats st = legacy_fixture_stats(fx);
  assert_int_equal(st.video_flows, 0);
  assert_int_equal(st.flows_classified, 2); /* as QUIC */
  assert_int_equal(st.enforced_packets, 0);
}

/* What DPI cannot see: a version it has no keys for. SCONE needs no
 * decryption at all (its packets are in the clear by design). */
static void test_unknown_version_not_classified(void **state) {
  legacy_fixture *fx = *state;
  uint8_t dg[INITIALS_MAX];
  int n = initials_capture("rr3---sn-4g5e6nsz.googlevideo.com", dg, sizeof(dg));
  assert_true(n >= 1200);
  dg[1] = 0x1a, dg[2] = 0x2a, dg[3] = 0x3a, dg[4] = 0x4a; /* reserved */
  for (int i = 0; i < 4; i++)
    offer(fx, 1, 5006, dg, (size_t)n, T0 + (scone_tstamp)i);
  assert_int_equal(class_of(fx, 5006, T0), 3);
  assert_int_equal(blast(fx, 5006, T0 + SCONE_MILLISECONDS), 0);
  legacy_dpi_stats st = legacy_fixture_stats(fx);
  assert_int_equal(st.video_flows, 0);
  print_message("unknown version: classified %llu, gave up %llu, nDPI saw "
                "%llu packets\n",
                (unsigned long long)st.flows_classified,
                (unsigned long long)st.gave_up,
                (unsigned long long)st.dpi_packets);
  assert_int_equal(st.gave_up + st.flows_classified, 1);
}

/* An encrypted ClientHello (ECH) shows only its public name in the clear;
 * GnuTLS 3.7 has no ECH, so the client sends that outer name, or none. */
static void test_ech_outer_name_not_classified(void **state) {
  legacy_fixture *fx = *state;
  assert_int_equal(run_hello(fx, "public.ech.example", 5007), 3);
  assert_int_equal(run_hello(fx, NULL, 5008), 3);
  assert_int_equal(blast(fx, 5007, T0 + SCONE_MILLISECONDS), 0);
}

/* A flow DPI meets after its handshake (the element restarted, or the
 * connection migrated to a new address after a NAT rebinding): no
 * Initial, no name; nDPI gives up and the flow passes. SCONE packets
 * carry the advice on such a flow all the same (the engine picks it up). */
static void test_mid_flow_not_classified(void **state) {
  legacy_fixture *fx = *state;
  uint8_t pl[1200];
  memset(pl, 0x5a, sizeof(pl));
  pl[0] = 0x41;
  for (int i = 0; i < 4; i++)
    offer(fx, 0, 5011, pl, sizeof(pl), T0 + (scone_tstamp)i);
  assert_int_equal(class_of(fx, 5011, T0), 3);
  assert_int_equal(blast(fx, 5011, T0 + SCONE_MILLISECONDS), 0);
  legacy_dpi_stats st = legacy_fixture_stats(fx);
  assert_int_equal(st.gave_up, 1);
  assert_int_equal(st.dpi_packets, 4); /* max_packets */
}

/* The ClientHello in two Initial packets (as large post-quantum key shares
 * make it): nDPI 4.2 reads the first packet's CRYPTO frame alone. */
static void test_split_client_hello(void **state) {
  legacy_fixture *fx = *state;
  uint8_t dg[INITIALS_MAX], a[INITIALS_MAX], b[INITIALS_MAX];
  int n = initials_capture("rr3---sn-4g5e6nsz.googlevideo.com", dg, sizeof(dg));
  assert_true(n >= 1200);
  size_t alen, blen;
  /* At 100 bytes: the server_name extension is in the second half. */
  assert_int_equal(initials_split(dg, (size_t)n, 100, a, &alen, b, &blen), 0);
  offer(fx, 1, 5009, a, alen, T0);
  int after_first = class_of(fx, 5009, T0);
  offer(fx, 1, 5009, b, blen, T0 + 1);
  int after_second = class_of(fx, 5009, T0);
  print_message("split ClientHello: class %d after the first Initial, %d "
                "after the second\n",
                after_first, after_second);
  /* nDPI 4.2 keeps the flow open after an Initial without a server name
   * and finds the name in the second one. */
  assert_int_equal(after_first, 1);
  assert_int_equal(after_second, 2);
}

/* SCONE packets are never touched, even on a flow being throttled. */
static void test_scone_packets_untouched(void **state) {
  legacy_fixture *fx = *state;
  assert_int_equal(run_hello(fx, "cdn.video.example", 5010), 2);
  blast(fx, 5010, T0 + SCONE_MILLISECONDS);
  uint8_t pl[1200], copy[1200];
  memset(pl, 0x33, sizeof(pl));
  uint8_t cid[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  scone_ssize k = scone_packet_build(pl, sizeof(pl), 60, cid, 8, cid, 8, 0);
  assert_true(k > 0);
  memcpy(copy, pl, sizeof(pl));
  uint8_t pkt[1300];
  size_t len = initials_ip4(pkt, SERVER, 443, CLIENT, 5010, pl, sizeof(pl));
  uint8_t before[1300];
  memcpy(before, pkt, len);
  sconed_verdict v;
  legacy_dpi_process_ip(fx->l, pkt, len, T0 + 1001 * SCONE_MILLISECONDS, &v);
  assert_int_equal(v.action, SCONED_PASS);
  assert_int_equal(v.modified, 0);
  assert_memory_equal(pkt, before, len);
  legacy_dpi_stats st = legacy_fixture_stats(fx);
  assert_int_equal(st.scone_packets, 1);
}

static void test_dpi_config_errors(void **state) {
  (void)state;
  char err[256];
  static const char *bad[] = {"[dpi]\nmax_packets = 0\n",
                              "[dpi]\nmax_packets = 65\n", "[dpi]\nsni = a b\n",
                              "[dpi]\nfoo = 1\n"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    assert_null(sconed_config_parse(bad[i], "x.ini", err, sizeof(err)));
    assert_non_null(strstr(err, "x.ini:2: "));
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_video_sni_throttled, setup,
                                      legacy_fixture_teardown),
      cmocka_unit_test_setup_teardown(test_listed_sni_throttled, setup,
                                      legacy_fixture_teardown),
      cmocka_unit_test_setup_teardown(test_other_sni_passes, setup,
                                      legacy_fixture_teardown),
      cmocka_unit_test_setup_teardown(test_unknown_version_not_classified,
                                      setup, legacy_fixture_teardown),
      cmocka_unit_test_setup_teardown(test_ech_outer_name_not_classified, setup,
                                      legacy_fixture_teardown),
      cmocka_unit_test_setup_teardown(test_mid_flow_not_classified, setup,
                                      legacy_fixture_teardown),
      cmocka_unit_test_setup_teardown(test_split_client_hello, setup,
                                      legacy_fixture_teardown),
      cmocka_unit_test_setup_teardown(test_scone_packets_untouched, setup,
                                      legacy_fixture_teardown),
      cmocka_unit_test(test_dpi_config_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
