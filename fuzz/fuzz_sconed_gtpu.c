/*
 * GTP-U through the sconed engine: the parser's view of any message, then
 * the message in an outer IPv4 or IPv6 UDP datagram on port 2152 through
 * the batch call and, one packet per call, through an engine with the
 * fast path off (the same verdicts, bytes and counters). Whatever is not
 * a G-PDU with a whole inner UDP datagram passes untouched; a rewrite
 * lowers the inner signal and changes nothing but it and the two
 * checksums, which stay right (gtpu_check.h).
 *
 * Input: records of [ctl][len][len bytes of GTP-U message]. ctl bit 0:
 * outer IPv6; bit 1: downlink (core to base station); bit 2: outer UDP
 * checksum left zero; bit 3: the source port is not 2152; bits 4-6: the
 * clock moves (0: same time; 1-6: that many 20 ms; 7: 30 s); bit 7:
 * closes the batch so far first.
 */
#include "fuzz.h"
#include "gtpu_check.h"

#include "engine_internal.h"

#include <string.h>

#define MAXB 16
#define MAXMSG 255

static const char cfg[] = "[global]\n"
                          "initial_rewrites = 2\n"
                          "[plan p]\n"
                          "downlink = 1M\n"
                          "uplink = 500k\n"
                          "[subscribers]\n"
                          "subscriber = 10.0.0.0/8 p opt-in\n"
                          "subscriber = 2001:db8::/32 p opt-in\n";

static sconed_engine *engine(int slow_only) {
  sconed_engine_settings s;
  sconed_engine_settings_default(&s);
  s.seed_source = SCONED_SEED_FIXED;
  s.seed = 11;
  s.max_flows = 16;
  s.max_subscribers = 8;
  sconed_engine *e = sconed_engine_new(&s);
  char err[256];
  sconed_config *c = sconed_config_parse(cfg, "fuzz.ini", err, sizeof(err));
  if (!e || !c || sconed_engine_set_config(e, c))
    abort();
  sconed_engine_slow_only(e, slow_only);
  return e;
}

/* The parser alone: bounds, and the kind matching the type. */
static void check_parse(const uint8_t *m, size_t n) {
  sconed_gtpu g, h;
  sconed_gtpu_kind k = sconed_gtpu_parse(&g, m, n);
  FUZZ_CHECK(sconed_gtpu_parse(&h, m, n) == k);
  FUZZ_CHECK(memcmp(&g, &h, sizeof(g)) == 0);
  if (k == SCONED_GTPU_MALFORMED)
    return;
  FUZZ_CHECK(n >= 8 && (m[0] >> 5) == 1 && (m[0] & 0x10));
  FUZZ_CHECK(g.inner_off >= 8 && g.inner_off % 4 == 0);
  FUZZ_CHECK(g.inner_off + g.inner_len == 8 + (size_t)fuzz_be16(m + 2));
  FUZZ_CHECK(g.inner_off + g.inner_len <= n);
  FUZZ_CHECK(g.teid == fuzz_be32(m + 4) && g.type == m[1]);
  FUZZ_CHECK((g.inner_off > 8) == ((m[0] & 7) != 0));
  FUZZ_CHECK(g.qfi >= -1 && g.qfi < 64);
  FUZZ_CHECK(k == (g.type == SCONED_GTPU_GPDU   ? SCONED_GTPU_TPDU
                   : g.type == 1 || g.type == 2 ? SCONED_GTPU_ECHO
                                                : SCONED_GTPU_OTHER));
}

static void put16(uint8_t *p, unsigned v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

/* The message in an outer datagram between 192.0.2.10 (or fd00:6::10),
 * the base station, and 192.0.2.20 (fd00:6::20), the core. */
static size_t wrap(uint8_t *out, unsigned ctl, const uint8_t *m, size_t n) {
  int v6 = ctl & 1, down = (ctl >> 1) & 1;
  size_t ih = v6 ? 40 : 20, al = v6 ? 16 : 4;
  uint8_t a[16] = {192, 0, 2, 10}, b[16] = {192, 0, 2, 20};
  if (v6) {
    static const uint8_t p6[16] = {0xfd, 0, 0, 6, [15] = 0x10};
    memcpy(a, p6, 16);
    memcpy(b, p6, 16);
    b[15] = 0x20;
  }
  memset(out, 0, ih + 8);
  uint8_t *src = out + (v6 ? 8 : 12), *dst = src + al;
  memcpy(src, down ? b : a, al);
  memcpy(dst, down ? a : b, al);
  if (v6) {
    out[0] = 0x60;
    put16(out + 4, (unsigned)(8 + n));
    out[6] = 17;
    out[7] = 64;
  } else {
    out[0] = 0x45;
    put16(out + 2, (unsigned)(ih + 8 + n));
    out[8] = 64;
    out[9] = 17;
  }
  uint8_t *u = out + ih;
  put16(u, (ctl & 8) ? 40000 : 2152);
  put16(u + 2, 2152);
  put16(u + 4, (unsigned)(8 + n));
  memcpy(u + 8, m, n);
  if (!(ctl & 4))
    put16(u + 6, scone_udp_csum_compute(src, dst, al, u, 8 + n));
  return ih + 8 + n;
}

typedef struct batch {
  size_t n;
  uint8_t in[MAXB][40 + 8 + MAXMSG];
  uint8_t *pk[2][MAXB];
  size_t len[MAXB];
} batch;

static void flush(sconed_engine *e[2], batch *b, scone_tstamp now) {
  if (!b->n)
    return;
  sconed_verdict v[2][MAXB];
  sconed_engine_process_ip_batch(e[0], b->pk[0], b->len, b->n, now, v[0]);
  for (size_t i = 0; i < b->n; i++)
    sconed_engine_process_ip(e[1], b->pk[1][i], b->len[i], now, &v[1][i]);
  for (size_t i = 0; i < b->n; i++) {
    FUZZ_CHECK(v[0][i].action == SCONED_PASS);
    FUZZ_CHECK(v[1][i].action == SCONED_PASS);
    FUZZ_CHECK(v[0][i].modified == v[1][i].modified);
    FUZZ_CHECK(memcmp(b->pk[0][i], b->pk[1][i], b->len[i]) == 0);
    FUZZ_CHECK(
        fuzz_check_gtpu(b->in[i], b->pk[0][i], b->len[i], v[0][i].modified));
    free(b->pk[0][i]);
    free(b->pk[1][i]);
  }
  b->n = 0;
}

static sconed_engine *e[2];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!e[0]) {
    e[0] = engine(0);
    e[1] = engine(1);
  } else {
    for (int k = 0; k < 2; k++)
      sconed_engine_reset(e[k]);
  }
  scone_tstamp now = (scone_tstamp)1000 * SCONE_PERIOD;
  static batch b;
  b.n = 0;
  size_t at = 0;
  while (at + 2 <= size) {
    unsigned ctl = data[at], len = data[at + 1];
    at += 2;
    if (len > size - at)
      len = (unsigned)(size - at);
    unsigned step = (ctl >> 4) & 7;
    if ((ctl & 0x80) || step || b.n == MAXB)
      flush(e, &b, now);
    now += step == 7 ? 30 * SCONE_SECONDS : (scone_tstamp)step * 20000000;
    check_parse(data + at, len);
    size_t n = wrap(b.in[b.n], ctl, data + at, len);
    for (int k = 0; k < 2; k++)
      b.pk[k][b.n] = fuzz_dup(b.in[b.n], n, 0);
    b.len[b.n++] = n;
    at += len;
  }
  flush(e, &b, now);
  sconed_engine_stats st[2];
  for (int k = 0; k < 2; k++)
    sconed_engine_stats_get(e[k], &st[k]);
  FUZZ_CHECK(memcmp(&st[0], &st[1], sizeof(st[0])) == 0);
  /* Every datagram is GTP-U, counted once in one of its counters. */
  FUZZ_CHECK(st[0].not_udp == 0 && st[0].malformed == 0);
  FUZZ_CHECK(st[0].gtpu_packets + st[0].gtpu_malformed + st[0].gtpu_echo +
                 st[0].gtpu_other + st[0].gtpu_not_udp ==
             st[0].packets);
  if (getenv("FUZZ_SCONED_SUMMARY"))
    fprintf(stderr,
            "gtpu: packets %llu malformed %llu echo %llu other %llu "
            "not_udp %llu flows %llu\n",
            (unsigned long long)st[0].gtpu_packets,
            (unsigned long long)st[0].gtpu_malformed,
            (unsigned long long)st[0].gtpu_echo,
            (unsigned long long)st[0].gtpu_other,
            (unsigned long long)st[0].gtpu_not_udp,
            (unsigned long long)st[0].flows);
  return 0;
}
