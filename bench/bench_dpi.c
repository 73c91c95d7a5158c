/*
 * bench_dpi: today's DPI-targeted video throttling (legacy/: nDPI, then
 * the engine's policer for the video flows) against the SCONE engine, on
 * one synthetic trace whose flows open with real QUIC Initials.
 *
 *   bench_dpi [--flows N] [--packets P] [--runs R] [--quick] [--no-callgrind]
 *       timed runs; without --flows: 10k and 1M flows (--quick: 10k only)
 *   bench_dpi --callgrind legacy|scone first|rest [--flows N] [--packets P]
 *       one untimed pass with callgrind's collection on only inside the
 *       chosen element's calls of the chosen phase (run under
 *       valgrind --tool=callgrind --collect-atstart=no; the timed mode does
 *       this itself when valgrind is installed, at 10k flows)
 *
 * The trace: N flows of P packets (default 20), each a client in 10/8 (its
 * own subscriber) to a server on port 443; half the flows send the client's
 * real first datagram with a YouTube video CDN's name, half with another
 * name (both captured from the project's client, ngtcp2 + GnuTLS: see
 * tests/legacy/initials.c). Packet 1 is the server's, led by a SCONE
 * packet; then 1200-byte server datagrams and 50-byte client ones
 * alternate. Flows are interleaved (packet i of every flow, then packet
 * i + 1), 100 ns apart, so that N flows are live at once. Both elements
 * run the same config: a 1.5 Mbit/s plan, policed. The "first" phase is
 * packets 0 and 1 of every flow (classification, flow set-up), "rest" the
 * others, "life" all of them. Packets are built in batches of 64 outside
 * the timed calls; the SCONE engine gets each batch in one call (as
 * sconed's NFQUEUE path does), the legacy element one packet per call (it
 * has no batch call; its datapath hook loops).
 */
#include "engine.h"
#include "initials.h"
#include "legacy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define HAVE_CALLGRIND 1
#endif
#endif
#ifndef HAVE_CALLGRIND
#define CALLGRIND_TOGGLE_COLLECT
#endif

#define BATCH 64
#define FIRST 2 /* packets of a flow's start */

static const char CONFIG[] = "[plan video]\n"
                             "downlink = 1.5M\n"
                             "action = police\n"
                             "[subscribers]\n"
                             "subscriber = 10.0.0.0/8 video opt-in\n";

static uint8_t hello[2][INITIALS_MAX]; /* 0: video name, 1: other */
static size_t hello_len[2];

typedef struct elems {
  sconed_engine *scone;
  sconed_engine *enforcer;
  legacy_dpi *legacy;
} elems;

static sconed_config *config(void) {
  char err[256];
  sconed_config *c = sconed_config_parse(CONFIG, "bench", err, sizeof(err));
  if (!c) {
    fprintf(stderr, "bench_dpi: %s\n", err);
    exit(1);
  }
  return c;
}

static sconed_engine *engine(size_t flows) {
  sconed_engine_settings s;
  sconed_engine_settings_default(&s);
  s.max_flows = (uint32_t)(flows + flows / 4 + 64);
  s.max_subscribers = (uint32_t)(flows + 64);
  s.seed_source = SCONED_SEED_FIXED;
  s.seed = 1;
  sconed_engine *e = sconed_engine_new(&s);
  if (!e || sconed_engine_set_config(e, config())) {
    fprintf(stderr, "bench_dpi: no engine (memory?)\n");
    exit(1);
  }
  return e;
}

static void elems_new(elems *x, size_t flows) {
  x->scone = engine(flows);
  x->enforcer = engine(flows / 2 + 1);
  legacy_dpi_settings ls;
  legacy_dpi_settings_default(&ls);
  ls.max_flows = (uint32_t)(2 * flows); /* bounded probing wants room */
  ls.seed = 3;
  x->legacy = legacy_dpi_new(&ls, x->enforcer);
  if (!x->legacy || legacy_dpi_set_config(x->legacy, config())) {
    fprintf(stderr, "bench_dpi: no legacy element (memory?)\n");
    exit(1);
  }
}

static void elems_free(elems *x) {
  legacy_dpi_free(x->legacy);
  sconed_engine_free(x->enforcer);
  sconed_engine_free(x->scone);
}

static void ip_csum(uint8_t *p) {
  uint32_t s = 0;
  p[10] = p[11] = 0;
  for (int i = 0; i < 20; i += 2)
    s += (uint32_t)p[i] << 8 | p[i + 1];
  while (s >> 16)
    s = (s & 0xffff) + (s >> 16);
  p[10] = (uint8_t)(~s >> 8);
  p[11] = (uint8_t)~s;
}

/* Packet i of flow f into out; its length. */
static size_t make(uint8_t *out, size_t f, unsigned i) {
  uint32_t client = 0x0a000000U + (uint32_t)f + 1;
  uint32_t server = 0xc0000201U;
  uint16_t cport = (uint16_t)(40000 + f % 20000);
  uint8_t pl[1200];
  size_t n;
  int up;
  if (i == 0) {
    const uint8_t *h = hello[f & 1];
    n = hello_len[f & 1];
    memcpy(pl, h, n);
    up = 1;
  } else if (i == 1) {
    uint8_t cid[8] = {
        (uint8_t)f, (uint8_t)(f >> 8), (uint8_t)(f >> 16), 9, 9, 9, 9, 9};
    scone_ssize k = scone_packet_build(pl, sizeof(pl), 40, cid, 8, cid, 8, 0);
    memset(pl + k, 0x5a, sizeof(pl) - (size_t)k);
    pl[k] = 0x41;
    n = sizeof(pl);
    up = 0;
  } else {
    up = i & 1;
    n = up ? 50 : 1200;
    memset(pl, (int)i, n);
    pl[0] = 0x41;
  }
  /* The UDP checksum stays 0 (none, as IPv4 allows): neither element
   * checks it, and building it would only slow the bench's own loop. */
  size_t len = 28 + n;
  memset(out, 0, 28);
  out[0] = 0x45;
  out[2] = (uint8_t)(len >> 8);
  out[3] = (uint8_t)len;
  out[8] = 64;
  out[9] = 17;
  uint32_t s = up ? client : server, d = up ? server : client;
  for (int b = 0; b < 4; b++) {
    out[12 + b] = (uint8_t)(s >> (24 - 8 * b));
    out[16 + b] = (uint8_t)(d >> (24 - 8 * b));
  }
  ip_csum(out);
  uint8_t *u = out + 20;
  uint16_t sp = up ? cport : 443, dp = up ? 443 : cport;
  u[0] = (uint8_t)(sp >> 8);
  u[1] = (uint8_t)sp;
  u[2] = (uint8_t)(dp >> 8);
  u[3] = (uint8_t)dp;
  u[4] = (uint8_t)((n + 8) >> 8);
  u[5] = (uint8_t)(n + 8);
  memcpy(u + 8, pl, n);
  return len;
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

typedef struct phase_cost {
  double ns;
  uint64_t packets;
} phase_cost;

/* One pass of packets from..to-1 of every flow through one element (0
 * legacy, 1 SCONE); collect: callgrind collection around its calls. */
static void pass(elems *x, int which, size_t flows, unsigned from, unsigned to,
                 int collect, phase_cost *pc, uint64_t *clock) {
  static uint8_t buf[BATCH][1300];
  uint8_t *pk[BATCH];
  size_t len[BATCH];
  sconed_verdict v[BATCH];
  for (size_t j = 0; j < BATCH; j++)
    pk[j] = buf[j];
  for (unsigned i = from; i < to; i++) {
    for (size_t f0 = 0; f0 < flows; f0 += BATCH) {
      size_t n = flows - f0 < BATCH ? flows - f0 : BATCH;
      for (size_t j = 0; j < n; j++)
        len[j] = make(buf[j], f0 + j, i);
      scone_tstamp now = (scone_tstamp)*clock;
      *clock += 100 * n;
      double t0 = now_ns();
      if (collect)
        CALLGRIND_TOGGLE_COLLECT;
      if (which == 0)
        for (size_t j = 0; j < n; j++)
          legacy_dpi_process_ip(x->legacy, pk[j], len[j], now, &v[j]);
      else
        sconed_engine_process_ip_batch(x->scone, pk, len, n, now, v);
      if (collect)
        CALLGRIND_TOGGLE_COLLECT;
      pc->ns += now_ns() - t0;
      pc->packets += n;
    }
  }
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof(*v), cmp);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Instructions per packet from a callgrind run of this program, or -1. */
static double callgrind(const char *self, const char *which, const char *phase,
                        size_t flows, unsigned packets) {
  char out[] = "/tmp/bench_dpi.cg.XXXXXX";
  int fd = mkstemp(out);
  if (fd < 0)
    return -1;
  close(fd);
  char cmd[1024], fl[32], pk[32];
  snprintf(fl, sizeof(fl), "%zu", flows);
  snprintf(pk, sizeof(pk), "%u", packets);
  snprintf(cmd, sizeof(cmd),
           "valgrind --tool=callgrind --collect-atstart=no "
           "--callgrind-out-file=%s %s --callgrind %s %s --flows %s "
           "--packets %s >/dev/null 2>&1",
           out, self, which, phase, fl, pk);
  double ir = -1;
  if (system(cmd) == 0) {
    FILE *f = fopen(out, "r");
    char line[256];
    while (f && fgets(line, sizeof(line), f))
      if (!strncmp(line, "summary:", 8))
        ir = strtod(line + 8, NULL);
    if (f)
      fclose(f);
  }
  unlink(out);
  if (ir < 0)
    return -1;
  unsigned np = !strcmp(phase, "first") ? FIRST : packets - FIRST;
  return ir / ((double)flows * np);
}

static void capture(void) {
  static const char *names[2] = {"rr3---sn-4g5e6nsz.googlevideo.com",
                                 "www.example.org"};
  for (int i = 0; i < 2; i++) {
    int n = initials_capture(names[i], hello[i], sizeof(hello[i]));
    if (n < 1200 || n > 1200) {
      if (n < 0) {
        fprintf(stderr, "bench_dpi: the client sent no Initial\n");
        exit(1);
      }
    }
    hello_len[i] = (size_t)n;
  }
}

static void run(const char *self, size_t flows, unsigned packets, int runs,
                int cg) {
  double t[2][3][16]; /* element, phase (first, rest, life), run */
  elems x;
  elems_new(&x, flows);
  legacy_dpi_stats ls = {0};
  sconed_engine_stats ss = {0}, es = {0};
  for (int r = 0; r < runs; r++) {
    for (int w = 0; w < 2; w++) {
      phase_cost a = {0, 0}, b = {0, 0};
      uint64_t clock = 1000 * (uint64_t)SCONE_SECONDS;
      pass(&x, w, flows, 0, FIRST, 0, &a, &clock);
      pass(&x, w, flows, FIRST, packets, 0, &b, &clock);
      t[w][0][r] = a.ns / (double)a.packets;
      t[w][1][r] = b.ns / (double)b.packets;
      t[w][2][r] = (a.ns + b.ns) / (double)(a.packets + b.packets);
    }
    legacy_dpi_stats_get(x.legacy, &ls);
    sconed_engine_stats_get(x.scone, &ss);
    sconed_engine_stats_get(x.enforcer, &es);
    if (r + 1 < runs) {
      legacy_dpi_reset(x.legacy);
      sconed_engine_reset(x.enforcer);
      sconed_engine_reset(x.scone);
    }
  }
  double m[2][3];
  for (int w = 0; w < 2; w++)
    for (int p = 0; p < 3; p++)
      m[w][p] = median(t[w][p], runs);
  /* State per flow: the legacy element's slot (two per flow, for its
   * bounded probing) and, for its video flows (half), the enforcing
   * engine's slot; nDPI's state lives only while a flow is classified
   * (here its first packet). The engine: its slot (25% spare) and one
   * subscriber state per flow (every flow here is its own subscriber). */
  double legacy_b = (double)ls.memory_bytes / (double)flows +
                    (double)es.memory_bytes / (double)flows;
  double scone_b = (double)ss.memory_bytes / (double)flows;
  printf("\n%zu flows x %u packets (%d runs, median ns): legacy "
         "%llu video of %llu flows (%llu classified, %llu given up), "
         "%llu SCONE packets passed\n",
         flows, packets, runs, (unsigned long long)ls.video_flows,
         (unsigned long long)ls.flows_total,
         (unsigned long long)ls.flows_classified,
         (unsigned long long)ls.gave_up, (unsigned long long)ls.scone_packets);
  printf("%-34s %14s %14s %8s\n", "", "legacy (nDPI)", "SCONE engine", "ratio");
  static const char *pn[3] = {"first 2 packets", "rest", "whole life"};
  for (int p = 0; p < 3; p++)
    printf("ns/packet, %-23s %14.1f %14.1f %7.1fx\n", pn[p], m[0][p], m[1][p],
           m[0][p] / m[1][p]);
  if (cg) {
    double ir[2][2];
    static const char *wn[2] = {"legacy", "scone"};
    for (int w = 0; w < 2; w++) {
      ir[w][0] = callgrind(self, wn[w], "first", flows, packets);
      ir[w][1] = callgrind(self, wn[w], "rest", flows, packets);
    }
    if (ir[0][0] < 0 || ir[1][0] < 0 || ir[0][1] < 0 || ir[1][1] < 0) {
      printf("instructions/packet: callgrind failed\n");
    } else {
      double life[2];
      for (int w = 0; w < 2; w++)
        life[w] = (ir[w][0] * FIRST + ir[w][1] * (packets - FIRST)) / packets;
      printf("instr/packet, %-20s %14.0f %14.0f %7.1fx\n", pn[0], ir[0][0],
             ir[1][0], ir[0][0] / ir[1][0]);
      printf("instr/packet, %-20s %14.0f %14.0f %7.1fx\n", pn[1], ir[0][1],
             ir[1][1], ir[0][1] / ir[1][1]);
      printf("instr/packet, %-20s %14.0f %14.0f %7.1fx\n", pn[2], life[0],
             life[1], life[0] / life[1]);
    }
  }
  /* Slots: the legacy table's per flow, plus the enforcing engine's for
   * the half that is video; the engine's slot and subscriber state. */
  double legacy_s =
      (double)ls.flow_bytes * (double)ls.max_flows / (double)flows +
      (double)es.flow_bytes * (double)ls.video_flows / (double)flows;
  double scone_s = (double)ss.flow_bytes + (double)ss.subscriber_bytes;
  printf("%-34s %14.0f %14.0f %7.1fx\n", "state bytes per flow (slots)",
         legacy_s, scone_s, legacy_s / scone_s);
  printf("%-34s %14.0f %14.0f %7.1fx\n", "all memory / flows", legacy_b,
         scone_b, legacy_b / scone_b);
  printf("%-34s %14llu %14s\n", "  + nDPI bytes per flow classifying",
         (unsigned long long)ls.ndpi_flow_bytes, "-");
  elems_free(&x);
}

static void usage(void) {
  fprintf(stderr, "usage: bench_dpi [--flows N] [--packets P] [--runs R] "
                  "[--quick] [--no-callgrind]\n"
                  "       bench_dpi --callgrind legacy|scone first|rest "
                  "[--flows N] [--packets P]\n");
  exit(2);
}

int main(int argc, char **argv) {
  size_t flows = 0;
  unsigned packets = 20;
  int runs = 0, quick = 0, no_cg = 0;
  const char *cg_which = NULL, *cg_phase = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--flows") && i + 1 < argc)
      flows = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--packets") && i + 1 < argc)
      packets = (unsigned)strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
      runs = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--quick"))
      quick = 1;
    else if (!strcmp(argv[i], "--no-callgrind"))
      no_cg = 1;
    else if (!strcmp(argv[i], "--callgrind") && i + 2 < argc) {
      cg_which = argv[++i];
      cg_phase = argv[++i];
    } else
      usage();
  }
  if (packets <= FIRST || packets > 250 || runs < 0 || runs > 16)
    usage();
  capture();
  if (cg_which) {
    int w = !strcmp(cg_which, "scone");
    int first = !strcmp(cg_phase, "first");
    if (!flows)
      flows = 10000;
    elems x;
    elems_new(&x, flows);
    phase_cost a = {0, 0};
    uint64_t clock = 1000 * (uint64_t)SCONE_SECONDS;
    pass(&x, w, flows, 0, FIRST, first, &a, &clock);
    pass(&x, w, flows, FIRST, packets, !first, &a, &clock);
    elems_free(&x);
    return 0;
  }
  int cg = !no_cg && system("valgrind --version >/dev/null 2>&1") == 0;
  printf("bench_dpi: legacy DPI throttling (nDPI %s) vs the SCONE engine; "
         "half the flows video; instructions by callgrind at 10k flows\n",
         "4.2");
  if (flows) {
    run(argv[0], flows, packets, runs ? runs : 3, cg && flows <= 100000);
  } else {
    run(argv[0], 10000, packets, runs ? runs : 5, cg);
    if (!quick)
      run(argv[0], 1000000, packets, runs ? runs : 1, 0);
  }
  return 0;
}
