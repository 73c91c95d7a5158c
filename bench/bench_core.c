/*
 * bench_core: the network element's per-datagram hot path in libscone.
 *
 * An in-memory set of realistic datagrams (half IPv4, half IPv6, ~1200 bytes,
 * each led by a SCONE packet with a random DCID and a mixed signal: half the
 * endpoints' 127, half already lowered upstream) is run through
 * scone_ipudp_parse + scone_ipudp_rewrite, each with a per-flow target drawn
 * from typical carrier rates. Figures are ns per operation: the median, min
 * and max over repeated runs, since the machine is noisy.
 *
 *   bench_core [--runs R] [--iterations N] [--quick]   timed runs
 *   bench_core --once K    exactly K datagrams through the hot path, untimed,
 *                          for callgrind (see scripts/run-benches.sh)
 */
#include <inttypes.h>
#include <scone/scone.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NPKT 4096
#define SLOT 2048 /* one NIC-buffer-sized slot per datagram */
#define HOT_FN "bench_hot_ipudp_rewrite"

typedef struct dataset {
  uint8_t *arena;    /* NPKT slots, rewritten in place */
  uint8_t *pristine; /* the same bytes before any rewrite */
  uint16_t len[NPKT];
  uint16_t payload_off[NPKT];
  uint16_t csum_off[NPKT];
  uint8_t target[NPKT];
  uint8_t signal[NPKT];
  uint64_t bps[NPKT];
  size_t nv4, expect_rewrites;
} dataset;

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static void fill(uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t)(rnd() >> 32);
}

static void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* libscone has no IPv4 header checksum (the element never changes the IP
 * header); the datagrams should still be ones a real stack would accept. */
static uint16_t ipv4_hdr_csum(const uint8_t *h, size_t n) {
  uint32_t acc = 0;
  for (size_t i = 0; i < n; i += 2)
    acc += (uint32_t)(h[i] << 8 | h[i + 1]);
  while (acc >> 16)
    acc = (acc & 0xffff) + (acc >> 16);
  return (uint16_t)~acc;
}

static void build_one(dataset *ds, size_t i, int is_v4) {
  static const size_t dcid_lens[] = {0, 8, 8, 8, 8, 16, 20};
  /* 5, 10, 25, 50, 100 and 1000 Mbit/s plans. */
  static const uint64_t plans[] = {5000000,  10000000,  25000000,
                                   50000000, 100000000, 1000000000};
  uint8_t *p = ds->arena + i * SLOT;
  size_t iplen = 1200 + rnd() % 81;
  size_t udp_off = is_v4 ? 20 : 40;
  size_t ulen = iplen - udp_off;
  uint8_t *udp = p + udp_off, *pl = udp + 8;

  if (is_v4) {
    p[0] = 0x45;
    p[1] = 0;
    put16(p + 2, (uint16_t)iplen);
    put16(p + 4, (uint16_t)rnd());
    put16(p + 6, 0x4000); /* DF */
    p[8] = 64;
    p[9] = 17;
    put16(p + 10, 0);
    fill(p + 12, 8);
    put16(p + 10, ipv4_hdr_csum(p, 20));
  } else {
    p[0] = 0x60;
    p[1] = p[2] = p[3] = 0;
    put16(p + 4, (uint16_t)ulen);
    p[6] = 17;
    p[7] = 64;
    fill(p + 8, 32);
  }
  put16(udp, (uint16_t)(1024 + rnd() % 60000));
  put16(udp + 2, 443);
  put16(udp + 4, (uint16_t)ulen);
  put16(udp + 6, 0);

  unsigned signal = rnd() % 2 ? SCONE_SIGNAL_UNKNOWN
                              : (unsigned)(rnd() % (SCONE_SIGNAL_MAX + 1));
  uint8_t dcid[20];
  size_t dcidlen = dcid_lens[rnd() % (sizeof dcid_lens / sizeof *dcid_lens)];
  fill(dcid, dcidlen);
  scone_ssize n = scone_packet_build(pl, ulen - 8, signal, dcid, dcidlen, NULL,
                                     0, SCONE_BUILD_FLAG_NONE);
  if (n < 0) {
    fprintf(stderr, "bench_core: scone_packet_build: %s\n",
            scone_strerror((int)n));
    exit(1);
  }
  /* The coalesced 1-RTT packet: same DCID, then protected bytes. */
  uint8_t *q = pl + n;
  size_t qlen = ulen - 8 - (size_t)n;
  fill(q, qlen);
  q[0] = (uint8_t)(0x40 | (q[0] & 0x3f));
  memcpy(q + 1, dcid, dcidlen);

  const uint8_t *src = p + (is_v4 ? 12 : 8), *dst = p + (is_v4 ? 16 : 24);
  put16(udp + 6, scone_udp_csum_compute(src, dst, is_v4 ? 4 : 16, udp, ulen));

  ds->len[i] = (uint16_t)iplen;
  ds->payload_off[i] = (uint16_t)(udp_off + 8);
  ds->csum_off[i] = (uint16_t)(udp_off + 6);
  ds->signal[i] = (uint8_t)signal;
  ds->target[i] = (uint8_t)scone_rate_to_signal(
      plans[rnd() % (sizeof plans / sizeof *plans)]);
  ds->expect_rewrites += ds->target[i] < signal;
  /* Rates spread log-uniformly over 10 kbit/s .. 1 Tbit/s, so that the table
   * lookup sees every region, both ends included. */
  ds->bps[i] = (uint64_t)10000 << (rnd() % 27);
  ds->bps[i] += rnd() % ds->bps[i];
}

static dataset *build_dataset(void) {
  dataset *ds = calloc(1, sizeof *ds);
  if (!ds || !(ds->arena = aligned_alloc(64, (size_t)NPKT * SLOT)) ||
      !(ds->pristine = malloc((size_t)NPKT * SLOT))) {
    fprintf(stderr, "bench_core: out of memory\n");
    exit(1);
  }
  memset(ds->arena, 0, (size_t)NPKT * SLOT);
  /* Exactly half of each family, in random order, as on a shared link. */
  static uint8_t is_v4[NPKT];
  for (size_t i = 0; i < NPKT; i++)
    is_v4[i] = i < NPKT / 2;
  for (size_t i = NPKT - 1; i > 0; i--) {
    size_t j = rnd() % (i + 1);
    uint8_t t = is_v4[i];
    is_v4[i] = is_v4[j];
    is_v4[j] = t;
  }
  for (size_t i = 0; i < NPKT; i++) {
    build_one(ds, i, is_v4[i]);
    ds->nv4 += is_v4[i];
  }
  memcpy(ds->pristine, ds->arena, (size_t)NPKT * SLOT);
  return ds;
}

/* Puts back the only bytes a rewrite changes, so that every pass sees the
 * same mix of signals rather than ones already lowered by the last pass. */
static void restore(dataset *ds, size_t count) {
  for (size_t i = 0; i < count; i++) {
    size_t base = i * SLOT;
    memcpy(ds->arena + base + ds->payload_off[i],
           ds->pristine + base + ds->payload_off[i], 2);
    memcpy(ds->arena + base + ds->csum_off[i],
           ds->pristine + base + ds->csum_off[i], 2);
  }
}

/* The hot paths. Not static and not inlined, so that callgrind can count
 * exactly what runs inside them (--toggle-collect=bench_hot_*). */
__attribute__((noinline)) size_t bench_hot_ipudp_rewrite(dataset *ds,
                                                         size_t count) {
  size_t changed = 0;
  for (size_t i = 0; i < count; i++) {
    uint8_t *pkt = ds->arena + i * SLOT;
    scone_ipudp v;
    if (scone_ipudp_parse(&v, pkt, ds->len[i]) != 0)
      continue;
    changed += scone_ipudp_rewrite(pkt, ds->len[i], ds->target[i], NULL) == 1;
  }
  return changed;
}

__attribute__((noinline)) size_t bench_hot_ipudp_parse(dataset *ds,
                                                       size_t count) {
  size_t acc = 0;
  for (size_t i = 0; i < count; i++) {
    scone_ipudp v;
    if (scone_ipudp_parse(&v, ds->arena + i * SLOT, ds->len[i]) == 0)
      acc += v.payload_off + v.sport;
  }
  return acc;
}

__attribute__((noinline)) size_t bench_hot_packet_parse(dataset *ds,
                                                        size_t count) {
  size_t acc = 0;
  for (size_t i = 0; i < count; i++) {
    const uint8_t *pl = ds->arena + i * SLOT + ds->payload_off[i];
    scone_packet pkt;
    scone_ssize r =
        scone_packet_parse(&pkt, pl, (size_t)ds->len[i] - ds->payload_off[i]);
    acc += r > 0 ? pkt.len + pkt.signal : 0;
  }
  return acc;
}

__attribute__((noinline)) size_t bench_hot_rate_to_signal(dataset *ds,
                                                          size_t count) {
  size_t acc = 0;
  for (size_t i = 0; i < count; i++)
    acc += scone_rate_to_signal(ds->bps[i]);
  return acc;
}

typedef size_t (*hot_fn)(dataset *, size_t);

static volatile size_t sink;

/* One run of total operations in passes over the set; only the passes are
 * timed, not the restores between them. Returns ns. */
static uint64_t run(dataset *ds, hot_fn fn, size_t total, int mutates) {
  uint64_t ns = 0;
  for (size_t done = 0; done < total;) {
    size_t m = total - done < NPKT ? total - done : NPKT;
    uint64_t t0 = now_ns();
    sink += fn(ds, m);
    ns += now_ns() - t0;
    if (mutates)
      restore(ds, m);
    done += m;
  }
  return ns;
}

/* One pass, then every datagram checked against what the spec says should
 * have happened, with the checksum recomputed from scratch. A benchmark of a
 * broken hot path would be meaningless. */
static int self_check(dataset *ds) {
  size_t changed = bench_hot_ipudp_rewrite(ds, NPKT);
  int bad = changed != ds->expect_rewrites;
  for (size_t i = 0; i < NPKT && !bad; i++) {
    uint8_t *p = ds->arena + i * SLOT;
    int v4 = (p[0] >> 4) == 4;
    unsigned want =
        ds->target[i] < ds->signal[i] ? ds->target[i] : ds->signal[i];
    const uint8_t *udp = p + ds->payload_off[i] - 8;
    size_t ulen = (size_t)(udp[4] << 8 | udp[5]);
    uint16_t stored = (uint16_t)(udp[6] << 8 | udp[7]);
    uint16_t fresh = scone_udp_csum_compute(
        p + (v4 ? 12 : 8), p + (v4 ? 16 : 24), v4 ? 4 : 16, udp, ulen);
    if (scone_packet_signal(p + ds->payload_off[i]) != want ||
        stored != fresh) {
      fprintf(stderr,
              "bench_core: datagram %zu: signal %u (want %u), checksum "
              "%04x (want %04x)\n",
              i, scone_packet_signal(p + ds->payload_off[i]), want, stored,
              fresh);
      bad = 1;
    }
  }
  if (changed != ds->expect_rewrites)
    fprintf(stderr, "bench_core: %zu rewrites, expected %zu\n", changed,
            ds->expect_rewrites);
  restore(ds, NPKT);
  return bad ? -1 : 0;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void measure(dataset *ds, const char *name, const char *unit, hot_fn fn,
                    int mutates, int runs, size_t iters) {
  uint64_t *ns = calloc((size_t)runs, sizeof *ns);
  if (!ns)
    exit(1);
  run(ds, fn, iters < NPKT ? iters : NPKT, mutates); /* warm-up */
  for (int r = 0; r < runs; r++)
    ns[r] = run(ds, fn, iters, mutates);
  qsort(ns, (size_t)runs, sizeof *ns, cmp_u64);
  double k = (double)iters;
  printf("bench_core: %-20s %-12s median %8.2f  min %8.2f  max %8.2f\n", name,
         unit, (double)ns[runs / 2] / k, (double)ns[0] / k,
         (double)ns[runs - 1] / k);
  free(ns);
}

static void usage(void) {
  fprintf(stderr, "usage: bench_core [--runs R] [--iterations N] [--quick]\n"
                  "       bench_core --once K\n");
  exit(2);
}

int main(int argc, char **argv) {
  int runs = 21;
  size_t iters = 1000000;
  long long once = -1;

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--quick")) {
      runs = 5;
      iters = 100000;
    } else if (!strcmp(a, "--runs") && i + 1 < argc) {
      runs = atoi(argv[++i]);
    } else if (!strcmp(a, "--iterations") && i + 1 < argc) {
      iters = strtoull(argv[++i], NULL, 0);
    } else if (!strcmp(a, "--once") && i + 1 < argc) {
      once = strtoll(argv[++i], NULL, 0);
    } else {
      usage();
    }
  }
  if (runs < 1 || iters < 1 || (once < -1))
    usage();

  dataset *ds = build_dataset();
  if (once >= 0) {
    /* Identical setup for every K, so callgrind's Ir(K) - Ir(0) is the hot
     * path alone even without --toggle-collect. */
    run(ds, bench_hot_ipudp_rewrite, (size_t)once, 1);
    printf("once %lld datagram %s*\n", once, HOT_FN);
    return 0;
  }
  if (self_check(ds) != 0)
    return 1;

  printf("bench_core: %d datagrams in memory (%zu IPv4, %zu IPv6), "
         "1200-1280 B, SCONE-led, %.1f%% rewritten per pass\n",
         NPKT, ds->nv4, NPKT - ds->nv4,
         100.0 * (double)ds->expect_rewrites / NPKT);
  printf("bench_core: %d runs x %zu ops each, CLOCK_MONOTONIC, ns per op\n",
         runs, iters);
  measure(ds, "ipudp_parse+rewrite", "ns/datagram", bench_hot_ipudp_rewrite, 1,
          runs, iters);
  measure(ds, "ipudp_parse", "ns/datagram", bench_hot_ipudp_parse, 0, runs,
          iters);
  measure(ds, "packet_parse", "ns/packet", bench_hot_packet_parse, 0, runs,
          iters);
  measure(ds, "rate_to_signal", "ns/call", bench_hot_rate_to_signal, 0, runs,
          iters);
  /* Tells scripts/run-benches.sh how to count instructions (--once). */
  printf("callgrind-unit: datagram %s*\n", HOT_FN);
  free(ds->arena);
  free(ds->pristine);
  free(ds);
  return 0;
}
