/*
 * bench_engine: the sconed engine on a synthetic in-memory trace.
 *
 *   bench_engine [--flows N] [--packets P] [--runs R] [--batch B]
 *                [--enforce] [--steady] [--quick] [--harness] [--gtpu]
 *                timed runs (--harness: the bench's own loop, no engine;
 *                --steady: flows aged past two monitoring periods first;
 *                --gtpu: every datagram in a GTP-U tunnel)
 *   bench_engine --once K [--flows N] [--batch B] [--enforce]
 *                exactly K packets through the engine, untimed, for
 *                callgrind (see scripts/run-benches.sh)
 *   bench_engine --callgrind K [...]   the same, with callgrind's
 *                instrumentation on only for those K packets:
 *     valgrind --tool=callgrind --instr-atstart=no bench_engine --callgrind K
 *     (instructions per packet = Ir / K, the bench's loop included)
 *
 * The trace mixes SCONE flows (announced, a SCONE packet every 8th
 * server datagram) with QUIC flows that never send SCONE, half IPv4 and
 * half IPv6, in random order over flows, 1 µs apart. A subscriber (an IPv4
 * address, or an IPv6 /64) has 8 flows, 2 of them SCONE per family. One
 * untimed pass opens the flows; each timed pass then runs the whole trace
 * again (the flow table is sized 25% above the flow count, the subscriber
 * table at twice the SCONE subscribers). Only the engine calls are timed,
 * on packets staged in cache (see pass_timed). Reported: median (min, max)
 * ns per packet over the runs, and the engine's memory per flow. Without
 * --flows: 10k and 1M flows, each with the batch call (B packets per call,
 * default 32) and the single-packet call, and the batch call again on
 * flows aged past two monitoring periods (see steady); then the 10k
 * flows again in GTP-U (make_packet), batch and single calls.
 */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define HAVE_CALLGRIND 1
#endif
#endif
#ifndef HAVE_CALLGRIND
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#endif

/* What run-benches.sh counts instructions in: both process calls. */
#define HOT_FN "sconed_engine_process_ip"

enum { PKT = 128, PAYLOAD_V4 = PKT - 28, PAYLOAD_V6 = PKT - 48 };
/* --gtpu: each datagram in a G-PDU over IPv4 (outer IPv4 and UDP headers,
 * GTP-U with a sequence number and a PDU session container), as an N3
 * interface carries it; the trace's records are then this far apart. */
enum { GTPU_HDR = 20 + 8 + 16, PKT_GTPU = PKT + GTPU_HDR };
static int gtpu;
static size_t stride = PKT;

typedef struct trace {
  uint8_t *pkts; /* n * stride bytes */
  uint32_t *len;
  size_t n;
} trace;

static uint64_t rng_state;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static void put16(uint8_t *p, unsigned v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

/* One datagram of flow f; seq is the flow's packet number. */
static uint32_t make_ip_packet(uint8_t *b, uint32_t f, uint32_t seq) {
  int v6 = f & 1, scone_flow = (f & 2) != 0;
  uint32_t sub = f >> 3;
  int to_server = seq == 0 || (seq % 4) == 3;
  size_t iph = v6 ? 40 : 20, plen = v6 ? PAYLOAD_V6 : PAYLOAD_V4;
  uint8_t cli[16] = {0}, srv[16] = {0};
  if (v6) {
    cli[0] = 0x20, cli[1] = 0x01, cli[2] = 0x0d, cli[3] = 0xb8;
    memcpy(cli + 4, &sub, 4); /* the subscriber's /64 */
    cli[15] = 1;
    srv[0] = 0x20, srv[1] = 0x01, srv[15] = (uint8_t)(f % 7 + 1);
  } else {
    cli[0] = 10, cli[1] = (uint8_t)(sub >> 16), cli[2] = (uint8_t)(sub >> 8);
    cli[3] = (uint8_t)sub;
    srv[0] = 192, srv[1] = 0, srv[2] = 2, srv[3] = (uint8_t)(f % 7 + 1);
  }
  memset(b, 0, PKT);
  size_t alen = v6 ? 16 : 4;
  const uint8_t *src = to_server ? cli : srv, *dst = to_server ? srv : cli;
  if (v6) {
    b[0] = 0x60;
    put16(b + 4, (unsigned)(8 + plen));
    b[6] = 17;
    b[7] = 64;
    memcpy(b + 8, src, 16);
    memcpy(b + 24, dst, 16);
  } else {
    b[0] = 0x45;
    put16(b + 2, PKT);
    b[8] = 64;
    b[9] = 17;
    memcpy(b + 12, src, 4);
    memcpy(b + 16, dst, 4);
  }
  uint8_t *u = b + iph, *p = u + 8;
  unsigned cport = 1024 + (f % 50000);
  put16(u, to_server ? cport : 443);
  put16(u + 2, to_server ? 443 : cport);
  put16(u + 4, (unsigned)(8 + plen));
  for (size_t i = 0; i < plen; i++)
    p[i] = (uint8_t)(i * 31 + seq);
  if (seq == 0) {
    p[0] = 0xc3; /* Initial, version 1, 8-byte DCID */
    p[1] = p[2] = p[3] = 0;
    p[4] = 1;
    p[5] = 8;
    p[14] = 0;
    p[plen - 2] = scone_flow ? 0xc8 : 0x00;
    p[plen - 1] = 0x13;
  } else if (scone_flow && !to_server && seq % 8 == 1) {
    scone_packet_build(p, plen, SCONE_SIGNAL_UNKNOWN, NULL, 0, NULL, 0, 0);
  } else {
    p[0] = 0x41;
  }
  put16(u + 6, scone_udp_csum_compute(src, dst, alen, u, 8 + plen));
  return (uint32_t)(iph + 8 + plen);
}

/* The IP packet of make_ip_packet, in a G-PDU when --gtpu: uplink from
 * the base station 192.0.2.100 + f % 16 to the core at 192.0.2.99 and
 * downlink back, the TEID the flow's subscriber's (one per direction). */
static uint32_t make_packet(uint8_t *b, uint32_t f, uint32_t seq) {
  if (!gtpu)
    return make_ip_packet(b, f, seq);
  uint8_t *ip = b + GTPU_HDR;
  uint32_t in = make_ip_packet(ip, f, seq);
  /* Uplink: the inner source is the subscriber (10/8, 2001:db8::/32). */
  int uplink = (ip[0] >> 4) == 6 ? ip[10] == 0x0d : ip[12] == 10;
  uint8_t gnb[4] = {192, 0, 2, (uint8_t)(100 + f % 16)};
  uint8_t upf[4] = {192, 0, 2, 99};
  memset(b, 0, GTPU_HDR);
  uint32_t tot = in + GTPU_HDR;
  b[0] = 0x45;
  put16(b + 2, tot);
  b[8] = 64;
  b[9] = 17;
  memcpy(b + 12, uplink ? gnb : upf, 4);
  memcpy(b + 16, uplink ? upf : gnb, 4);
  uint8_t *u = b + 20, *g = u + 8;
  put16(u, 2152);
  put16(u + 2, 2152);
  put16(u + 4, tot - 20);
  g[0] = 0x36; /* version 1, PT, E and S */
  g[1] = 255;
  put16(g + 2, in + 8);
  uint32_t teid = (f >> 3) * 2 + (uint32_t)uplink;
  g[4] = (uint8_t)(teid >> 24);
  g[5] = (uint8_t)(teid >> 16);
  g[6] = (uint8_t)(teid >> 8);
  g[7] = (uint8_t)teid;
  put16(g + 8, seq);
  g[11] = 0x85; /* a PDU session container, QFI 9 */
  g[12] = 1;
  g[13] = uplink ? 0x10 : 0x00;
  g[14] = 9;
  put16(u + 6, scone_udp_csum_compute(b + 12, b + 16, 4, u, tot - 20));
  return tot;
}

/* The same flows and packet order for a given flow count, whatever npkts:
 * the first npkts packets of one endless trace. */
static void build(trace *t, size_t flows, size_t npkts) {
  rng_state = 0x9e3779b97f4a7c15ULL;
  t->n = npkts;
  t->pkts = malloc(npkts * stride);
  t->len = malloc(npkts * sizeof(*t->len));
  uint32_t *seq = calloc(flows, sizeof(*seq));
  uint32_t *order = malloc(flows * sizeof(*order));
  if (!t->pkts || !t->len || !seq || !order) {
    fprintf(stderr, "bench_engine: out of memory\n");
    exit(1);
  }
  /* Each flow's packets in order; flows interleaved at random. The first
   * pass over flows opens them all in a random order. */
  for (size_t i = 0; i < flows; i++)
    order[i] = (uint32_t)i;
  for (size_t i = flows; i > 1; i--) {
    size_t j = rnd() % i;
    uint32_t x = order[i - 1];
    order[i - 1] = order[j];
    order[j] = x;
  }
  for (size_t i = 0; i < npkts; i++) {
    uint32_t f = i < flows ? order[i] : (uint32_t)(rnd() % flows);
    t->len[i] = make_packet(t->pkts + i * stride, f, seq[f]++);
  }
  free(order);
  free(seq);
}

static void trace_free(trace *t) {
  free(t->pkts);
  free(t->len);
}

static scone_tstamp clk;
/* Steady flows: the timed packets find their flows in the steady state
 * of long flows. At 1 µs per packet the whole bench spans a few seconds,
 * inside one or two 67 s monitoring periods, so no window has the two
 * preceding periods of advice it is judged against; aged, the warm-up
 * replays the trace once in each of three more periods first. --steady
 * runs only those; without --batch or --steady, each size gets one
 * steady batch run after the other two. */
static int steady;

/* --harness: the same loop with the engine replaced by this, which only
 * reads each packet's first bytes, to show what the loop itself costs. */
static int harness_only;
__attribute__((noinline)) static void
touch(uint8_t *const *pk, const size_t *ln, size_t m, sconed_verdict *v) {
  for (size_t j = 0; j < m; j++) {
    v[j].action = SCONED_PASS;
    v[j].modified = (pk[j][0] ^ pk[j][9] ^ (uint8_t)ln[j]) == 0xff;
    v[j].release_at = 0;
  }
}

/* Packets from..to go in groups of `batch` (as NFQUEUE delivers them), one
 * clock reading per group, 1 µs per packet; batch 1 uses the
 * single-packet call. Returns how many were rewritten. */
static uint64_t pass(sconed_engine *e, trace *t, size_t from, size_t to,
                     int batch) {
  uint64_t modified = 0;
  uint8_t *pk[256];
  size_t ln[256];
  sconed_verdict v[256];
  for (size_t i = from; i < to;) {
    size_t m = to - i < (size_t)batch ? to - i : (size_t)batch;
    if (harness_only) {
      pk[0] = t->pkts + i * stride;
      ln[0] = t->len[i];
      if (batch != 1)
        for (size_t j = 1; j < m; j++) {
          pk[j] = t->pkts + (i + j) * stride;
          ln[j] = t->len[i + j];
        }
      touch(pk, ln, m, v);
    } else if (batch == 1) {
      sconed_engine_process_ip(e, t->pkts + i * stride, t->len[i], clk, v);
    } else {
      for (size_t j = 0; j < m; j++) {
        pk[j] = t->pkts + (i + j) * stride;
        ln[j] = t->len[i + j];
      }
      sconed_engine_process_ip_batch(e, pk, ln, m, clk, v);
    }
    for (size_t j = 0; j < m; j++)
      modified += (uint64_t)v[j].modified;
    clk += 1000 * m;
    i += m;
  }
  return modified;
}

/* For steady runs: the warm-up packets again in each of the next three
 * periods. */
static void age(sconed_engine *e, trace *t, size_t from, size_t to, int batch,
                int on) {
  for (int p = 0; on && p < 3; p++) {
    clk += SCONE_PERIOD;
    pass(e, t, from, to, batch);
  }
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000U + (uint64_t)ts.tv_nsec;
}

/* A timed pass over the whole trace. A datagram handed over by NFQUEUE
 * was just copied into the receive buffer, so it is in cache; the trace
 * (128 MB and more) is not, and streaming it from memory cost about 8 ns
 * per packet with no engine at all. So each group of up to 256 packets (a
 * whole number of batches, so the calls are the same) is copied into a
 * staging buffer and back (rewrites stay, as before) outside the clock,
 * and only the engine calls are timed. Returns ns per packet. */
static double pass_timed(sconed_engine *e, trace *t, int batch,
                         uint64_t *modified) {
  static _Alignas(64) uint8_t stage[256 * PKT_GTPU];
  size_t group = 256 / (size_t)batch * (size_t)batch;
  uint64_t ns = 0;
  for (size_t i = 0; i < t->n; i += group) {
    size_t m = t->n - i < group ? t->n - i : group;
    memcpy(stage, t->pkts + i * stride, m * stride);
    trace g = {stage, t->len + i, m};
    uint64_t t0 = now_ns();
    *modified += pass(e, &g, 0, m, batch);
    ns += now_ns() - t0;
    memcpy(t->pkts + i * stride, stage, m * stride);
  }
  return (double)ns / (double)t->n;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static sconed_engine *engine_for(size_t flows, int enforce) {
  sconed_engine_settings s;
  sconed_engine_settings_default(&s);
  s.max_flows = (uint32_t)(flows + flows / 4);
  s.max_subscribers = (uint32_t)(flows / 2 + 64);
  s.seed_source = SCONED_SEED_FIXED;
  s.seed = 1;
  sconed_engine *e = sconed_engine_new(&s);
  sconed_config *c = sconed_config_default(0, enforce ? SCONED_ENFORCE_POLICE
                                                      : SCONED_ENFORCE_NONE);
  if (!e || !c || sconed_engine_set_config(e, c)) {
    fprintf(stderr, "bench_engine: cannot create the engine\n");
    exit(1);
  }
  clk = 1000 * SCONE_SECONDS;
  return e;
}

static int csum_ok(const uint8_t *b, size_t len) {
  scone_ipudp v;
  if (scone_ipudp_parse(&v, b, len))
    return 1;
  uint8_t u[PKT_GTPU];
  memcpy(u, b + v.udp_off, 8 + v.payload_len);
  uint16_t have = (uint16_t)((u[6] << 8) | u[7]);
  return scone_udp_csum_compute(v.src, v.dst, v.ip_version == 6 ? 16 : 4, u,
                                8 + v.payload_len) == have;
}

/* Every rewritten SCONE packet must still carry valid checksums (with
 * --gtpu, the outer and the inner one). */
static void self_check(const trace *t) {
  for (size_t i = 0; i < t->n; i++) {
    const uint8_t *b = t->pkts + i * stride;
    if (!csum_ok(b, t->len[i]) ||
        (gtpu && !csum_ok(b + GTPU_HDR, t->len[i] - GTPU_HDR))) {
      fprintf(stderr, "bench_engine: bad checksum in packet %zu\n", i);
      exit(1);
    }
  }
}

static void header(void) {
  printf("%-8s %-5s %-5s %-7s %-6s %-8s %10s %8s %8s %10s %10s %9s\n", "flows",
         "encap", "batch", "enforce", "flows", "packets", "ns/packet", "min",
         "max", "B/flow", "B/flow all", "rewrites");
}

/* aged: the flows past two monitoring periods first (steady). */
static void run(size_t flows, size_t npkts, int runs, int batch, int enforce,
                int aged) {
  /* A fresh trace per run: the last one's SCONE packets were rewritten. */
  trace t;
  build(&t, flows, npkts);
  sconed_engine *e = engine_for(flows, enforce);
  pass(e, &t, 0, t.n, batch); /* opens every flow */
  age(e, &t, 0, t.n, batch, aged);
  double *ns = malloc((size_t)runs * sizeof(*ns));
  uint64_t mod = 0;
  for (int r = 0; r < runs; r++)
    ns[r] = pass_timed(e, &t, batch, &mod);
  qsort(ns, (size_t)runs, sizeof(*ns), cmp_double);
  self_check(&t);
  sconed_engine_stats st;
  sconed_engine_stats_get(e, &st);
  /* B/flow: one flow slot (state and fingerprint); all: every engine
   * allocation (table headroom and subscriber states included) over the
   * flows in the table. */
  printf("%-8zu %-5s %-5d %-7s %-6s %-8zu %10.1f %8.1f %8.1f %10llu %10.1f "
         "%9llu\n",
         flows, gtpu ? "gtpu" : "ip", batch, enforce ? "police" : "none",
         aged ? "steady" : "new", t.n, ns[runs / 2], ns[0], ns[runs - 1],
         (unsigned long long)st.flow_bytes,
         (double)st.memory_bytes / (double)st.flows,
         (unsigned long long)(mod / (uint64_t)runs));
  free(ns);
  sconed_engine_free(e);
  trace_free(&t);
}

/* K packets after a warm-up that is the same for every K: 48 packets per
 * flow on average, so that the flows are past their opening and their
 * early rewrites, as in the timed runs. */
static void once(size_t flows, size_t k, int batch, int enforce, int cg) {
  trace t;
  size_t warm = 48 * flows;
  build(&t, flows, warm + k);
  sconed_engine *e = engine_for(flows, enforce);
  pass(e, &t, 0, warm, batch);
  /* The counted packets too, as the timed runs replay theirs: otherwise
   * each SCONE flow's first one would take a rewrite that the aging
   * passes (confirms only: their packets carry our advice already) did
   * not spend. */
  age(e, &t, 0, steady ? warm + k : warm, batch, steady);
  if (cg)
    CALLGRIND_START_INSTRUMENTATION;
  uint64_t mod = pass(e, &t, warm, warm + k, batch);
  if (cg)
    CALLGRIND_STOP_INSTRUMENTATION;
  printf("once %zu packets over %zu flows, batch %d (%llu rewritten)\n", k,
         flows, batch, (unsigned long long)mod);
  sconed_engine_free(e);
  trace_free(&t);
}

static void usage(void) {
  fprintf(stderr, "usage: bench_engine [--flows N] [--packets P] [--runs R] "
                  "[--batch B] [--enforce] [--steady] [--quick] [--harness] "
                  "[--gtpu]\n"
                  "       bench_engine --once K | --callgrind K [--flows N] "
                  "[--batch B] [--enforce] [--steady] [--gtpu]\n");
  exit(2);
}

int main(int argc, char **argv) {
  size_t flows = 0, npkts = 0, k = 0;
  int runs = 7, enforce = 0, batch = 0, quick = 0, mode = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--flows") && i + 1 < argc)
      flows = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--packets") && i + 1 < argc)
      npkts = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
      runs = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--once") && i + 1 < argc)
      k = strtoull(argv[++i], NULL, 10), mode = 1;
    else if (!strcmp(argv[i], "--callgrind") && i + 1 < argc)
      k = strtoull(argv[++i], NULL, 10), mode = 2;
    else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
      batch = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--enforce"))
      enforce = 1;
    else if (!strcmp(argv[i], "--steady"))
      steady = 1;
    else if (!strcmp(argv[i], "--harness"))
      harness_only = 1;
    else if (!strcmp(argv[i], "--gtpu"))
      gtpu = 1, stride = PKT_GTPU;
    else if (!strcmp(argv[i], "--quick"))
      quick = 1, runs = 3;
    else
      usage();
  }
  if (runs < 1 || batch < 0 || batch > 256)
    usage();
  if (mode) {
    once(flows ? flows : 10000, k, batch ? batch : 32, enforce, mode == 2);
    return 0;
  }
  size_t sizes[2] = {10000, quick ? 100000 : 1000000};
  int nsizes = 2;
  if (flows) {
    sizes[0] = flows;
    nsizes = 1;
  }
  printf("bench_engine: sconed engine on a synthetic trace (half SCONE, "
         "half IPv6, 128-byte datagrams), %d runs, median ns per packet; "
         "flows new (the default) or steady (past two monitoring periods)\n",
         runs);
  header();
  for (int i = 0; i < nsizes; i++) {
    size_t f = sizes[i];
    size_t n = npkts ? npkts : f * 2 > 1000000 ? f * 2 : 1000000;
    if (batch || steady) {
      run(f, n, runs, batch ? batch : 32, enforce, steady);
    } else {
      run(f, n, runs, 32, enforce, 0);
      run(f, n, runs, 1, enforce, 0);
      run(f, n, runs, 32, enforce, 1);
    }
  }
  /* The GTP-U row next to the plain ones: the smaller table, both
   * calls (unless --gtpu asked for GTP-U throughout). */
  if (!gtpu && !flows && !batch && !steady) {
    gtpu = 1;
    stride = PKT_GTPU;
    size_t n = npkts ? npkts : 1000000;
    run(sizes[0], n, runs, 32, enforce, 0);
    run(sizes[0], n, runs, 1, enforce, 0);
  }
  printf("instructions/packet: valgrind --tool=callgrind --instr-atstart=no "
         "bench_engine --callgrind K [--batch 1] [--steady]  (Ir / K; or make "
         "bench)\n");
  /* Tells scripts/run-benches.sh how to count instructions (--once). */
  printf("callgrind-unit: packet %s*\n", HOT_FN);
  return 0;
}
