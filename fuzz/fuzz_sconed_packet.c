/*
 * The sconed engine's packet path, fed a sequence of datagrams: the batch
 * call (inline parser and fast path) against one packet per call through
 * an engine whose fast path is off, plus what must hold of any verdict.
 * The two engines are made once per process and reset before each input
 * (sconed_engine_reset gives a new engine's state, which
 * test_sconed_fastpath checks), so an input runs as on new engines and
 * replays alone the same.
 *
 * Input: records of [ctl][len][len bytes of IP packet]. ctl bits 0-5 move
 * the clock (0: same time; 1-47: that many 20 ms; 48-63: that many 10 s
 * past 47, so periods, rewrite slots and idle timeouts pass); bit 6 closes
 * the batch so far first; bit 7 makes the record a capacity change
 * instead (len picks the rate, 0 lifts it; no packet bytes follow).
 */
#include "fuzz.h"
#include "gtpu_check.h"

#include "engine_internal.h"

#include <scone/scone.h>
#include <string.h>

#define MAXB 32

/* Every enforcement kind, rates small enough to act, a capacity, both
 * families, and an opted-out subscriber. */
static const char cfg[] = "[global]\n"
                          "initial_rewrites = 2\n"
                          "announce_grace = 4\n"
                          "[plan pol]\n"
                          "downlink = 600k\n"
                          "uplink = 300k\n"
                          "action = police\n"
                          "burst = 3k\n"
                          "[plan shp]\n"
                          "downlink = 800k\n"
                          "action = shape\n"
                          "max_delay = 100ms\n"
                          "burst = 3k\n"
                          "[plan none]\n"
                          "downlink = 2M\n"
                          "[capacity cell]\n"
                          "rate = 1M\n"
                          "[subscribers]\n"
                          "subscriber = 10.0.0.0/9 pol opt-in capacity=cell\n"
                          "subscriber = 10.128.0.0/9 shp opt-in\n"
                          "subscriber = 192.168.0.0/16 none opt-out\n"
                          "subscriber = 2001:db8::/32 none opt-in "
                          "capacity=cell\n";

static sconed_engine *engine(int slow_only) {
  sconed_engine_settings s;
  sconed_engine_settings_default(&s);
  s.seed_source = SCONED_SEED_FIXED;
  s.seed = 7;
  s.max_flows = 16; /* small: admission and eviction get exercised */
  s.max_subscribers = 8;
  sconed_engine *e = sconed_engine_new(&s);
  char err[256];
  sconed_config *c = sconed_config_parse(cfg, "fuzz.ini", err, sizeof(err));
  if (!e || !c || sconed_engine_set_config(e, c))
    abort();
  sconed_engine_slow_only(e, slow_only);
  return e;
}

/* What any verdict on packet in (now out) must satisfy. */
static void check_verdict(const sconed_verdict *v, const uint8_t *in,
                          const uint8_t *out, size_t n, scone_tstamp now) {
  FUZZ_CHECK(v->action == SCONED_PASS || v->action == SCONED_DROP ||
             v->action == SCONED_DELAY);
  FUZZ_CHECK(v->modified == 0 || v->modified == 1);
  if (v->action == SCONED_DELAY) /* max_delay is 100 ms */
    FUZZ_CHECK(v->release_at >= now && v->release_at <= now + 100000000);
  scone_ipudp pi;
  int parsed = scone_ipudp_parse(&pi, in, n) == 0 && !pi.is_fragment;
  if (!parsed) {
    /* Malformed, truncated, not UDP, fragments: passed untouched. */
    FUZZ_CHECK(v->action == SCONED_PASS && !v->modified);
    FUZZ_CHECK(n == 0 || memcmp(in, out, n) == 0);
    return;
  }
  /* A tunnel's rewrite is of the packet inside it. */
  if (fuzz_check_gtpu(in, out, n, v->modified))
    return;
  if (!v->modified) {
    FUZZ_CHECK(memcmp(in, out, n) == 0);
    return;
  }
  /* Only a SCONE packet's signal, lowered, and the UDP checksum change;
   * a checksum that was right stays right. */
  scone_packet a, b;
  FUZZ_CHECK(scone_packet_parse(&a, in + pi.payload_off, pi.payload_len) > 0);
  FUZZ_CHECK(scone_packet_parse(&b, out + pi.payload_off, pi.payload_len) > 0);
  FUZZ_CHECK(scone_packet_signal(out + pi.payload_off) <
             scone_packet_signal(in + pi.payload_off));
  size_t ck = pi.udp_off + 6;
  for (size_t i = 0; i < n; i++)
    if (i != ck && i != ck + 1 && i != pi.payload_off &&
        i != pi.payload_off + 1)
      FUZZ_CHECK(in[i] == out[i]);
  if (fuzz_udp_csum_ok(in, n))
    FUZZ_CHECK(fuzz_udp_csum_ok(out, n));
}

/* The engines' packets are exact-size heap copies, so AddressSanitizer
 * sees any read past a packet's end; the checker's copy of the input
 * bytes is only read by this file. */
typedef struct batch {
  size_t n;
  uint8_t in[MAXB][256];
  uint8_t *pk[2][MAXB];
  size_t len[MAXB];
} batch;

/* The batch through engine 0 in one call, and one packet per call
 * through engine 1 (fast path off): the same verdicts and bytes. */
static void flush(sconed_engine *e[2], batch *b, scone_tstamp now) {
  if (!b->n)
    return;
  sconed_verdict v[2][MAXB];
  sconed_engine_process_ip_batch(e[0], b->pk[0], b->len, b->n, now, v[0]);
  for (size_t i = 0; i < b->n; i++)
    sconed_engine_process_ip(e[1], b->pk[1][i], b->len[i], now, &v[1][i]);
  for (size_t i = 0; i < b->n; i++) {
    FUZZ_CHECK(v[0][i].action == v[1][i].action);
    FUZZ_CHECK(v[0][i].modified == v[1][i].modified);
    FUZZ_CHECK(v[0][i].release_at == v[1][i].release_at);
    FUZZ_CHECK(b->len[i] == 0 ||
               memcmp(b->pk[0][i], b->pk[1][i], b->len[i]) == 0);
    check_verdict(&v[0][i], b->in[i], b->pk[0][i], b->len[i], now);
    free(b->pk[0][i]);
    free(b->pk[1][i]);
  }
  b->n = 0;
}

typedef struct plans {
  sconed_plan_metrics m[8];
  size_t n;
} plans;

static void plan_cb(const sconed_plan_metrics *m, void *arg) {
  plans *p = arg;
  if (p->n < 8) {
    p->m[p->n] = *m;
    p->m[p->n++].plan = NULL; /* valid during the callback only */
  }
}

static sconed_engine *e[2];

/* A capacity change waits for the next packet: a run of them with no
 * packet between acts as its last (set_capacity does not look at the
 * clock), and the mutator makes such runs all the time (every ctl byte
 * with bit 7 set is one, two bytes long), each costing two engines a
 * re-derivation of their subscribers: most of this target's time. */
static void set_capacity(int64_t *pending, scone_tstamp now) {
  if (*pending < 0)
    return;
  for (int k = 0; k < 2; k++)
    FUZZ_CHECK(
        sconed_engine_set_capacity(e[k], "cell", (uint64_t)*pending, now) == 0);
  *pending = -1;
}

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
  int64_t pending = -1; /* capacity to set before the next packet */
  size_t at = 0;
  while (at + 2 <= size) {
    unsigned ctl = data[at], len = data[at + 1];
    at += 2;
    unsigned step = ctl & 0x3f;
    if ((ctl & 0x40) || step || (ctl & 0x80) || b.n == MAXB)
      flush(e, &b, now);
    now += step < 48 ? (scone_tstamp)step * 20000000
                     : (scone_tstamp)(step - 47) * 10 * SCONE_SECONDS;
    if (ctl & 0x80) {
      pending = len ? (int64_t)len * 100000 : 0;
      continue;
    }
    set_capacity(&pending, now);
    if (len > size - at)
      len = (unsigned)(size - at);
    memcpy(b.in[b.n], data + at, len);
    for (int k = 0; k < 2; k++)
      b.pk[k][b.n] = fuzz_dup(data + at, len, 0);
    b.len[b.n++] = len;
    at += len;
  }
  flush(e, &b, now);
  set_capacity(&pending, now);
  /* The same counters and per-plan metrics both ways. */
  sconed_engine_stats st[2];
  plans pm[2];
  memset(pm, 0, sizeof(pm));
  for (int k = 0; k < 2; k++) {
    sconed_engine_stats_get(e[k], &st[k]);
    sconed_engine_metrics(e[k], plan_cb, &pm[k]);
  }
  FUZZ_CHECK(memcmp(&st[0], &st[1], sizeof(st[0])) == 0);
  FUZZ_CHECK(memcmp(&pm[0], &pm[1], sizeof(pm[0])) == 0);
  /* For choosing seeds: what an input made the engine do. */
  if (getenv("FUZZ_SCONED_SUMMARY"))
    for (size_t i = 0; i < pm[0].n; i++)
      fprintf(stderr,
              "plan %zu: packets %llu scone %llu rewrites %llu confirms %llu "
              "drops %llu delays %llu transitions %llu\n",
              i, (unsigned long long)pm[0].m[i].packets,
              (unsigned long long)pm[0].m[i].scone_packets,
              (unsigned long long)pm[0].m[i].rewrites,
              (unsigned long long)pm[0].m[i].confirms,
              (unsigned long long)pm[0].m[i].drops,
              (unsigned long long)pm[0].m[i].delays,
              (unsigned long long)pm[0].m[i].transitions);
  return 0;
}
