/*
 * The XDP program's parser, classification and rewrite
 * (xdp/scone_xdp.bpf.c), run in the kernel by BPF_PROG_TEST_RUN on a
 * sequence of Ethernet frames, with user space's side (xdp/xdp_path.c)
 * loading it and publishing an engine's advice. Invariants: every frame
 * passes (nothing is policed here) with its length; a frame the program
 * changed is an IPv4/IPv6 UDP datagram, not a fragment, whose SCONE
 * packet's signal was lowered (never raised) to the advice of its
 * subscriber side, and nothing else changed but the UDP checksum, which
 * stays zero when zero and stays valid when it was.
 *
 * Input: records [ctl][len hi][len lo][frame]; ctl moves the program's
 * clock by (ctl & 63) x 100 ms; frames past 1514 bytes are cut there (the
 * test run's limit). Seeds: make_seeds.c, sconed_packet's sequences as
 * Ethernet frames. Needs BPF (root, or CAP_BPF): without it
 * the first input exits 77 (ctest: skipped), a reason on stderr.
 */
#include "fuzz.h"

#include "config.h"
#include "engine.h"
#include "xdp_path.h"

#include <scone/scone.h>

#include <linux/bpf.h>
#include <string.h>

static const char *cfg_text = "[plan p]\n"
                              "downlink = 2M\n"
                              "uplink = 1M\n"
                              "[subscribers]\n"
                              "subscriber = 10.0.0.0/8 p opt-in\n"
                              "subscriber = 2001:db8::/32 p opt-in\n";

static sconed_engine *e;
static sconed_xdp *x;
static uint8_t sig_down, sig_up;

static void setup(void) {
  sconed_engine_settings s;
  sconed_engine_settings_default(&s);
  s.seed_source = SCONED_SEED_FIXED;
  s.seed = 42;
  s.max_flows = 1024;
  e = sconed_engine_new(&s);
  char err[256];
  sconed_config *c =
      sconed_config_parse(cfg_text, "fuzz.ini", err, sizeof(err));
  FUZZ_CHECK(e && c);
  FUZZ_CHECK(sconed_engine_set_config(e, c) == 0);
  x = sconed_xdp_open(e, 1024, err, sizeof(err));
  if (!x) {
    fprintf(stderr, "SKIP: %s\n", err);
    exit(77);
  }
  sig_down = (uint8_t)scone_rate_to_signal(2000000);
  sig_up = (uint8_t)scone_rate_to_signal(1000000);
}

static int in_prefix(const uint8_t *a, int v6) {
  static const uint8_t p6[4] = {0x20, 0x01, 0x0d, 0xb8};
  return v6 ? !memcmp(a, p6, 4) : a[0] == 10;
}

/* The checks on one frame: in (before) and out (after the program). */
static void check(const uint8_t *in, const uint8_t *out, size_t len) {
  if (!memcmp(in, out, len))
    return;
  FUZZ_CHECK(len >= 14);
  FUZZ_CHECK(!memcmp(in, out, 14));
  uint16_t et = fuzz_be16(in + 12);
  FUZZ_CHECK(et == 0x0800 || et == 0x86dd);
  scone_ipudp v;
  FUZZ_CHECK(scone_ipudp_parse(&v, in + 14, len - 14) == 0);
  FUZZ_CHECK(!v.is_fragment);
  FUZZ_CHECK((v.ip_version == 6) == (et == 0x86dd));
  size_t pl = 14 + v.payload_off, ck = 14 + v.udp_off + 6;
  for (size_t i = 0; i < len; i++)
    if (in[i] != out[i])
      FUZZ_CHECK(i == pl || i == pl + 1 || i == ck || i == ck + 1);
  FUZZ_CHECK(v.payload_len >= 5);
  const uint8_t *a = in + pl, *b = out + pl;
  /* Only the 7 signal bits: the long-header bit, fixed bit and version
   * bits stay. */
  FUZZ_CHECK((a[0] & 0xc0) == (b[0] & 0xc0) && (a[1] & 0x7f) == (b[1] & 0x7f));
  FUZZ_CHECK(scone_packet_is_scone(a, v.payload_len));
  unsigned olds = ((unsigned)(a[0] & 0x3f) << 1) | (a[1] >> 7);
  unsigned news = ((unsigned)(b[0] & 0x3f) << 1) | (b[1] >> 7);
  FUZZ_CHECK(news < olds);
  /* The advice of one of the two ends (which is the subscriber side is
   * the program's classification; both are checked by the diff test). */
  int v6 = v.ip_version == 6;
  FUZZ_CHECK(in_prefix(v.src, v6) || in_prefix(v.dst, v6));
  FUZZ_CHECK(news == sig_down || news == sig_up);
  uint16_t c0 = fuzz_be16(in + ck), c1 = fuzz_be16(out + ck);
  if (c0 == 0) {
    FUZZ_CHECK(c1 == 0);
    return;
  }
  size_t alen = v6 ? 16 : 4, udplen = 8 + v.payload_len;
  if (14 + v.udp_off + udplen > len)
    return;
  uint8_t *tmp = fuzz_dup(in + 14 + v.udp_off, udplen, 0);
  uint16_t want0 = scone_udp_csum_compute(v.src, v.dst, alen, tmp, udplen);
  if (want0 == c0) {
    memcpy(tmp, out + 14 + v.udp_off, udplen);
    FUZZ_CHECK(scone_udp_csum_compute(v.src, v.dst, alen, tmp, udplen) == c1);
  }
  free(tmp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!x)
    setup();
  /* Each input starts on an empty flow table: a clock far from the last
   * input's (past every idle timeout). */
  static scone_tstamp now = 1000 * SCONE_SECONDS;
  now += 1000 * SCONE_SECONDS;
  size_t i = 0;
  while (i + 3 <= size) {
    unsigned ctl = data[i];
    size_t len = fuzz_be16(data + i + 1);
    i += 3;
    if (len > size - i)
      len = size - i;
    size_t run = len > 1514 ? 1514 : len; /* the test run's frame limit */
    now += (scone_tstamp)(ctl & 63) * 100 * SCONE_MILLISECONDS;
    FUZZ_CHECK(sconed_xdp_set_now(x, now) == 0);
    if (run >= 14) { /* BPF_PROG_TEST_RUN takes at least an Ethernet header */
      uint8_t *in = fuzz_dup(data + i, run, 0);
      uint8_t *out = fuzz_dup(data + i, run, 0);
      int act = sconed_xdp_run(x, out, run);
      FUZZ_CHECK(act == XDP_PASS);
      check(in, out, run);
      free(in);
      free(out);
    }
    i += len;
  }
  return 0;
}
