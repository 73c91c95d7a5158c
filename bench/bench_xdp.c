/*
 * The XDP program's cost per packet, from BPF_PROG_TEST_RUN (the kernel
 * times the program; no device, no driver), at a table of N flows (10k and
 * 1M by default), for an ordinary packet (a short header of an established
 * QUIC flow: parse, flow lookup, count) and a SCONE packet (the same and
 * the advice lookup, the budget, a rewrite or a confirm), and the bytes
 * the flow table costs per flow.
 *
 *   bench_xdp [--flows N[,N...]] [--samples S] [--repeat R] [--quick]
 *
 * --quick: 10k flows only, 20000 samples, 200000 repeats.
 *
 * Two figures per case:
 *  - hot: one packet run R times in the kernel (repeat), its flow in
 *    cache: the program's own instructions;
 *  - spread: S packets of flows drawn at random from the N, one run each,
 *    the median of the kernel's time per run: the flow's line comes from
 *    memory as it would on a busy link. One run's time includes the
 *    kernel's timer reads; "floor" is the same for a frame the program
 *    passes at once (not IP), and spread - floor is the program's share.
 * Needs root (or CAP_BPF): prints why and exits 0 without.
 */
#include "config.h"
#include "engine.h"
#include "xdp_path.h"

#include <scone/scone.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static size_t frame(uint8_t *f, uint32_t id, int to_server, const uint8_t *pl,
                    size_t plen) {
  memset(f, 0, 42);
  f[12] = 0x08;
  uint8_t *ip = f + 14;
  ip[0] = 0x45;
  size_t tot = 28 + plen;
  ip[2] = (uint8_t)(tot >> 8);
  ip[3] = (uint8_t)tot;
  ip[8] = 64;
  ip[9] = 17;
  uint8_t cli[4] = {10, (uint8_t)(id >> 16), (uint8_t)(id >> 8), (uint8_t)id};
  uint8_t srv[4] = {192, 0, 2, 1};
  memcpy(ip + 12, to_server ? cli : srv, 4);
  memcpy(ip + 16, to_server ? srv : cli, 4);
  uint8_t *u = ip + 20;
  uint16_t cport = (uint16_t)(20000 + (id & 0x7fff)), sport = 443;
  uint16_t a = to_server ? cport : sport, b = to_server ? sport : cport;
  u[0] = (uint8_t)(a >> 8);
  u[1] = (uint8_t)a;
  u[2] = (uint8_t)(b >> 8);
  u[3] = (uint8_t)b;
  size_t ulen = 8 + plen;
  u[4] = (uint8_t)(ulen >> 8);
  u[5] = (uint8_t)ulen;
  memcpy(u + 8, pl, plen);
  uint16_t c = scone_udp_csum_compute(ip + 12, ip + 16, 4, u, ulen);
  u[6] = (uint8_t)(c >> 8);
  u[7] = (uint8_t)c;
  return 14 + tot;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint32_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)rng;
}

typedef struct payloads {
  uint8_t initial[1200], shorth[1200], scone[1200];
} payloads;

static void make_payloads(payloads *p) {
  memset(p, 0x5a, sizeof(*p));
  p->initial[0] = 0xc3;
  p->initial[1] = p->initial[2] = p->initial[3] = 0;
  p->initial[4] = 1;
  p->initial[5] = 8;
  p->initial[14] = 0;
  p->shorth[0] = 0x41;
  scone_packet_build(p->scone, sizeof(p->scone), 127, NULL, 0, NULL, 0, 0);
  p->scone[7] = 0x41;
}

/* The median kernel time of S single runs of frames of random flows. */
static uint32_t spread(sconed_xdp *x, uint32_t nflows, const uint8_t *pl,
                       size_t plen, uint32_t samples, int not_ip) {
  uint32_t *t = malloc(samples * sizeof(*t));
  uint8_t f[1300];
  for (uint32_t i = 0; i < samples; i++) {
    size_t n = frame(f, next_rand() % nflows, 0, pl, plen);
    if (not_ip)
      f[12] = 0x08, f[13] = 0x06; /* ARP */
    if (sconed_xdp_bench(x, f, n, 1, &t[i]))
      t[i] = 0;
  }
  qsort(t, samples, sizeof(*t), cmp_u32);
  uint32_t m = t[samples / 2];
  free(t);
  return m;
}

/* An engine with the built-in plan (enforcement as given) and its fixed
 * seed; NULL after saying why. */
static sconed_engine *bench_engine(sconed_enforce enforce) {
  sconed_config *cfg = sconed_config_default(0, enforce);
  sconed_engine_settings s;
  sconed_engine_settings_default(&s);
  s.seed_source = SCONED_SEED_FIXED;
  sconed_engine *e = sconed_engine_new(&s);
  if (!e || !cfg || sconed_engine_set_config(e, cfg)) {
    fprintf(stderr, "bench_xdp: no engine\n");
    sconed_engine_free(e);
    return NULL;
  }
  return e;
}

/* The ordinary packet of a flow whose plan polices (the built-in plan
 * with --enforce police): past the common path, its subscriber's bucket
 * under its lock, every packet. Hot only: the cost enforcement adds. */
static int run_enforced(uint32_t repeat) {
  char err[256];
  sconed_engine *e = bench_engine(SCONED_ENFORCE_POLICE);
  if (!e)
    return 1;
  sconed_xdp *x = sconed_xdp_open(e, 10000, err, sizeof(err));
  if (!x) {
    sconed_engine_free(e);
    return 0;
  }
  static payloads p;
  make_payloads(&p);
  uint8_t f[1300];
  size_t n = frame(f, 1, 1, p.initial, sizeof(p.initial));
  sconed_xdp_run(x, f, n);
  n = frame(f, 1, 0, p.shorth, sizeof(p.shorth));
  sconed_xdp_run(x, f, n); /* heard both ways: on its subscriber's bucket */
  uint32_t hot = 0;
  sconed_xdp_bench(x, f, n, repeat, &hot);
  sconed_xdp_counts c;
  sconed_xdp_counts_get(x, &c);
  printf("plan enforced (police): ordinary hot %u ns (%llu of %llu packets "
         "charged to the subscriber's bucket, %llu dropped)\n",
         hot, (unsigned long long)c.enforced, (unsigned long long)c.packets,
         (unsigned long long)c.drops);
  sconed_xdp_close(x);
  sconed_engine_free(e);
  return 0;
}

static int run(uint32_t nflows, uint32_t samples, uint32_t repeat) {
  char err[256];
  sconed_engine *e = bench_engine(SCONED_ENFORCE_NONE);
  if (!e)
    return 1;
  sconed_xdp *x = sconed_xdp_open(e, nflows, err, sizeof(err));
  if (!x) {
    printf("bench_xdp: skipped: %s\n", err);
    sconed_engine_free(e);
    return 0;
  }
  static payloads p;
  make_payloads(&p);
  uint8_t f[1300];
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (uint32_t i = 0; i < nflows; i++) {
    size_t n = frame(f, i, 1, p.initial, sizeof(p.initial));
    sconed_xdp_run(x, f, n);
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double fill = (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
  sconed_xdp_counts c;
  sconed_xdp_counts_get(x, &c);

  uint32_t hot_o = 0, hot_s = 0, hot_floor = 0;
  size_t n = frame(f, 1, 0, p.shorth, sizeof(p.shorth));
  f[13] = 0x06; /* ARP: passed at once */
  sconed_xdp_bench(x, f, n, repeat, &hot_floor);
  f[13] = 0x00;
  sconed_xdp_bench(x, f, n, repeat, &hot_o);
  n = frame(f, 1, 0, p.scone, sizeof(p.scone));
  sconed_xdp_bench(x, f, n, repeat, &hot_s);
  uint32_t floor_ns = spread(x, nflows, p.shorth, 100, samples, 1);
  uint32_t sp_o = spread(x, nflows, p.shorth, sizeof(p.shorth), samples, 0);
  uint32_t sp_s = spread(x, nflows, p.scone, sizeof(p.scone), samples, 0);
  size_t slots = sconed_xdp_flow_slots(x);
  double per_flow =
      (double)(slots * sconed_xdp_flow_entry_bytes()) / (double)nflows;
  printf("%9u flows (%llu made, %llu pushed out; fill %.1f s): "
         "ordinary hot %u ns (floor %u), spread %u ns (floor %u, program "
         "~%d); SCONE hot %u ns, spread %u ns (program ~%d); table %zu "
         "slots x %zu B = %.0f B/flow\n",
         nflows, (unsigned long long)c.new_flows,
         (unsigned long long)c.flow_full, fill, hot_o, hot_floor, sp_o,
         floor_ns, (int)sp_o - (int)floor_ns, hot_s, sp_s,
         (int)sp_s - (int)floor_ns, slots, sconed_xdp_flow_entry_bytes(),
         per_flow);
  sconed_xdp_close(x);
  sconed_engine_free(e);
  return 0;
}

int main(int argc, char **argv) {
  const char *flows = "10000,1000000";
  uint32_t samples = 100000, repeat = 1000000;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--flows") && i + 1 < argc)
      flows = argv[++i];
    else if (!strcmp(argv[i], "--samples") && i + 1 < argc)
      samples = (uint32_t)strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
      repeat = (uint32_t)strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--quick")) {
      flows = "10000";
      samples = 20000;
      repeat = 200000;
    } else {
      fprintf(stderr, "usage: bench_xdp [--flows N[,N...]] [--samples S] "
                      "[--repeat R] [--quick]\n");
      return 2;
    }
  }
  if (!samples)
    samples = 1;
  printf("bench_xdp: ns per packet from BPF_PROG_TEST_RUN (median of %u "
         "single runs over random flows; hot: %u repeats of one)\n",
         samples, repeat);
  char list[256];
  snprintf(list, sizeof(list), "%s", flows);
  char *save = NULL;
  for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save))
    if (run((uint32_t)strtoul(t, NULL, 10), samples, repeat))
      return 1;
  return run_enforced(repeat);
}
