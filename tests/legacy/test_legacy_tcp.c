/*
 * The legacy element on TLS over TCP: GnuTLS's real ClientHello in a TCP
 * flow after its handshake. A flow with a video server name is policed or
 * shaped at the plan's rate by the engine's own bucket; one with another
 * name passes untouched; a ClientHello split over two segments is read as
 * nDPI 4.2 reads it. The same over IPv6 and over IPv4 with an IP option.
 */
#include "legacy_fixture.h"
#include "tls_tcp.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#define POLICED 0x0a000001U /* 10.0.0.1: plan "police" */
#define SHAPED 0x0a800001U  /* 10.128.0.1: plan "shape" */
#define SERVER 0xc0000201U  /* 192.0.2.1 */
#define T0 (1000 * SCONE_SECONDS)
#define RATE 1500000 /* bit/s, both plans */
#define BURST 30000  /* bytes, both plans */
#define MAX_DELAY (200 * SCONE_MILLISECONDS)
#define VIDEO "rr3---sn-4g5e6nsz.googlevideo.com"

static const char CONFIG[] = "[plan police]\n"
                             "downlink = 1.5M\n"
                             "action = police\n"
                             "burst = 30k\n"
                             "[plan shape]\n"
                             "downlink = 1.5M\n"
                             "action = shape\n"
                             "burst = 30k\n"
                             "max_delay = 200ms\n"
                             "[subscribers]\n"
                             "subscriber = 10.0.0.0/9 police opt-in\n"
                             "subscriber = 10.128.0.0/9 shape opt-in\n"
                             /* NAT64's addresses of the two (tls_tcp.h) */
                             "subscriber = 64:ff9b::a00:0/105 police opt-in\n"
                             "subscriber = 64:ff9b::a80:0/105 shape opt-in\n"
                             "[dpi]\n"
                             "sni = cdn.video.example\n"
                             "max_packets = 8\n";

static int setup(void **state) {
  return legacy_fixture_setup(state, CONFIG);
}

/* Offers one packet; the element must never rewrite a TCP one. */
static sconed_verdict offer(legacy_fixture *fx, uint8_t *pkt, size_t len,
                            scone_tstamp now) {
  uint8_t before[2000];
  memcpy(before, pkt, len);
  sconed_verdict v;
  legacy_dpi_process_ip(fx->l, pkt, len, now, &v);
  assert_int_equal(v.modified, 0);
  assert_memory_equal(pkt, before, len);
  return v;
}

static int class_at(legacy_fixture *fx, tcp_conn *c, scone_tstamp now) {
  uint8_t pkt[64];
  size_t len = tls_tcp_ip(c->family, pkt, c->client, c->cport, c->server, 443,
                          0, 0, TCP_ACK, NULL, 0);
  return legacy_dpi_flow_class(fx->l, pkt, len, now);
}

static int class_of(legacy_fixture *fx, tcp_conn *c) {
  return class_at(fx, c, T0);
}

/* The TCP handshake, then the ClientHello with this name in segments
 * ending at cut[0], cut[1], ... (none: one segment); each passes. Returns
 * the flow's class after each segment in cls (at most 4). */
static void hello(legacy_fixture *fx, tcp_conn *c, const char *sni,
                  const size_t *cut, size_t ncut, int *cls) {
  uint8_t ch[TLS_TCP_HELLO_MAX], pkt[TLS_TCP_HELLO_MAX + 64];
  int n = tls_client_hello(sni, ch, sizeof(ch));
  assert_true(n > 100);
  for (int step = 0; step < 3; step++) {
    size_t len = tcp_conn_syn(c, step, pkt);
    assert_int_equal(offer(fx, pkt, len, T0).action, SCONED_PASS);
  }
  size_t at = 0;
  for (size_t i = 0; i <= ncut; i++) {
    size_t end = i < ncut ? cut[i] : (size_t)n;
    size_t len = tcp_conn_data(c, 1, ch + at, end - at, pkt);
    assert_int_equal(offer(fx, pkt, len, T0).action, SCONED_PASS);
    cls[i] = class_of(fx, c);
    at = end;
  }
}

typedef struct blast_result {
  uint64_t offered, passed, dropped, delayed; /* IP bytes */
  uint64_t out_by_end; /* passed, or released by the last arrival */
  uint64_t segment;    /* one server segment's IP bytes */
  scone_duration max_wait;
} blast_result;

/* A second of server segments of 1200 bytes at 9.6 Mbit/s, from t, with
 * the client's ACKs between them. */
static blast_result blast(legacy_fixture *fx, tcp_conn *c, scone_tstamp t) {
  uint8_t pl[1200], pkt[1300];
  memset(pl, 0x17, sizeof(pl));
  blast_result r = {0};
  scone_tstamp end = t + 999 * SCONE_MILLISECONDS;
  for (int i = 0; i < 1000; i++) {
    scone_tstamp now = t + (scone_tstamp)i * SCONE_MILLISECONDS;
    size_t len = tcp_conn_data(c, 0, pl, sizeof(pl), pkt);
    sconed_verdict v = offer(fx, pkt, len, now);
    r.offered += len;
    r.segment = len;
    if (v.action == SCONED_PASS) {
      r.passed += len;
      r.out_by_end += len;
    } else if (v.action == SCONED_DROP) {
      r.dropped += len;
    } else {
      assert_int_equal(v.action, SCONED_DELAY);
      r.delayed += len;
      assert_true(v.release_at >= now);
      if (v.release_at - now > r.max_wait)
        r.max_wait = v.release_at - now;
      if (v.release_at <= end)
        r.out_by_end += len;
    }
    if (i % 2 == 0) { /* the client's ACK: uplink, not throttled here */
      size_t a = tls_tcp_ip(c->family, pkt, c->client, c->cport, c->server, 443,
                            c->cseq, c->sseq, TCP_ACK, NULL, 0);
      offer(fx, pkt, a, now);
    }
  }
  return r;
}

/* What a token bucket at RATE with BURST lets out in a second (the
 * bucket starts full). */
static const uint64_t BUCKET_BOUND = RATE / 8 + BURST;

/* A video flow of this family policed: out the bucket's bound, and not
 * much less (the plan's rate gets through). The server's data is
 * downlink, the client's ACKs uplink (not throttled): charged the wrong
 * way, the ACKs would eat the bucket, or the data pass. */
static void policed_video(legacy_fixture *fx, int family, uint16_t cport,
                          const char *what) {
  tcp_conn c;
  tcp_conn_init(&c, POLICED, SERVER, cport);
  c.family = family;
  int cls[1];
  hello(fx, &c, VIDEO, NULL, 0, cls);
  assert_int_equal(cls[0], 2);
  blast_result r = blast(fx, &c, T0 + SCONE_MILLISECONDS);
  print_message("TCP video, %s, policed: %llu of %llu bytes out in 1 s "
                "(bound %llu)\n",
                what, (unsigned long long)r.passed,
                (unsigned long long)r.offered,
                (unsigned long long)BUCKET_BOUND);
  assert_int_equal(r.delayed, 0);
  assert_true(r.passed <= BUCKET_BOUND);
  assert_true(r.passed >= BUCKET_BOUND - 2 * r.segment);
  legacy_dpi_stats st = legacy_fixture_stats(fx);
  assert_int_equal(st.video_flows, 1);
  assert_int_equal(st.flows_classified, 1);
}

static void test_tcp_video_policed(void **state) {
  policed_video(*state, 4, 46001, "IPv4");
}

static void test_tcp_video_policed_ipv6(void **state) {
  policed_video(*state, 6, 46007, "IPv6");
}

/* A 24-byte IPv4 header: the TCP header after it, where IHL says. */
static void test_tcp_video_policed_ip_options(void **state) {
  policed_video(*state, TLS_TCP_IP4_OPT, 46008, "IPv4 with an option");
}

static void test_tcp_listed_sni_policed(void **state) {
  legacy_fixture *fx = *state;
  tcp_conn c;
  tcp_conn_init(&c, POLICED, SERVER, 46002);
  int cls[1];
  hello(fx, &c, "cdn.video.example", NULL, 0, cls);
  assert_int_equal(cls[0], 2);
  blast_result r = blast(fx, &c, T0 + SCONE_MILLISECONDS);
  assert_true(r.passed <= BUCKET_BOUND && r.dropped > 0);
  legacy_dpi_stats st = legacy_fixture_stats(fx);
  assert_int_equal(st.sni_matches, 1);
}

static void test_tcp_video_shaped(void **state) {
  legacy_fixture *fx = *state;
  tcp_conn c;
  tcp_conn_init(&c, SHAPED, SERVER, 46003);
  int cls[1];
  hello(fx, &c, VIDEO, NULL, 0, cls);
  assert_int_equal(cls[0], 2);
  blast_result r = blast(fx, &c, T0 + SCONE_MILLISECONDS);
  print_message("TCP video, shaped: %llu bytes passed, %llu delayed (at "
                "most %.1f ms), %llu dropped; %llu out by the last arrival "
                "(bound %llu)\n",
                (unsigned long long)r.passed, (unsigned long long)r.delayed,
                (double)r.max_wait / 1e6, (unsigned long long)r.dropped,
                (unsigned long long)r.out_by_end,
                (unsigned long long)BUCKET_BOUND);
  assert_true(r.delayed > 0 && r.dropped > 0);
  assert_true(r.max_wait <= MAX_DELAY);
  assert_true(r.out_by_end <= BUCKET_BOUND);
  /* Queued: what is held goes out within max_delay at the plan's rate. */
  assert_true(r.passed + r.delayed <= BUCKET_BOUND + RATE / 8 / 5 + 1240);
  assert_true(r.out_by_end >= BUCKET_BOUND - 2 * 1240);
}

static void test_tcp_other_sni_untouched(void **state) {
  legacy_fixture *fx = *state;
  tcp_conn c;
  tcp_conn_init(&c, POLICED, SERVER, 46004);
  int cls[1];
  hello(fx, &c, "www.example.org", NULL, 0, cls);
  /* nDPI 4.2 names it TLS with its server name from the ClientHello
   * (3); a ClientHello without a name leaves it classifying (1) until
   * the server's reply or max_packets. Either way it passes. */
  int after_hello = cls[0];
  blast_result r = blast(fx, &c, T0 + SCONE_MILLISECONDS);
  int after_data = class_at(fx, &c, T0 + SCONE_SECONDS);
  print_message("TCP, other name: class %d after the ClientHello, %d after "
                "the server's data\n",
                after_hello, after_data);
  assert_int_equal(after_hello, 3);
  assert_int_equal(after_data, 3);
  assert_int_equal(r.passed, r.offered);
  tcp_conn_init(&c, POLICED, SERVER, 46005);
  hello(fx, &c, NULL, NULL, 0, cls); /* no name at all (as with ECH) */
  assert_int_equal(cls[0], 1);
  r = blast(fx, &c, T0 + 2 * SCONE_SECONDS);
  assert_int_equal(r.passed, r.offered);
  assert_int_equal(class_at(fx, &c, T0 + 3 * SCONE_SECONDS), 3);
  legacy_dpi_stats st = legacy_fixture_stats(fx);
  assert_int_equal(st.video_flows, 0);
  assert_int_equal(st.enforced_packets, 0);
}

/* The ClientHello over two TCP segments, the first ending before the
 * server_name extension: nDPI 4.2 buffers TLS records over TCP and reads
 * the ClientHello once the second segment completes it. */
static void test_tcp_split_client_hello(void **state) {
  legacy_fixture *fx = *state;
  tcp_conn c;
  tcp_conn_init(&c, POLICED, SERVER, 46006);
  int cls[2];
  size_t cut[1] = {100};
  hello(fx, &c, VIDEO, cut, 1, cls);
  print_message("split ClientHello over TCP: class %d after the first "
                "segment, %d after the second\n",
                cls[0], cls[1]);
  assert_int_equal(cls[0], 1);
  assert_int_equal(cls[1], 2);
  blast_result r = blast(fx, &c, T0 + SCONE_MILLISECONDS);
  assert_true(r.passed <= BUCKET_BOUND && r.dropped > 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_tcp_video_policed, setup,
                                      legacy_fixture_teardown),
      cmocka_unit_test_setup_teardown(test_tcp_video_policed_ipv6, setup,
                                      legacy_fixture_teardown),
      cmocka_unit_test_setup_teardown(test_tcp_video_policed_ip_options, setup,
                                      legacy_fixture_teardown),
      cmocka_unit_test_setup_teardown(test_tcp_listed_sni_policed, setup,
                                      legacy_fixture_teardown),
      cmocka_unit_test_setup_teardown(test_tcp_video_shaped, setup,
                                      legacy_fixture_teardown),
      cmocka_unit_test_setup_teardown(test_tcp_other_sni_untouched, setup,
                                      legacy_fixture_teardown),
      cmocka_unit_test_setup_teardown(test_tcp_split_client_hello, setup,
                                      legacy_fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
