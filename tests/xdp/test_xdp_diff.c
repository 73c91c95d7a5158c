/*
 * The XDP program against the engine: captures go through
 * `sconed --pcap-in` (the engine) and `sconed --datapath xdp --pcap-in`
 * (the XDP program under BPF_PROG_TEST_RUN, capture time as its clock),
 * and the two outputs must be the same file byte for byte. The captures:
 * the project's own (scone-gen-pcap: every link type, truncation,
 * fragments, noise) and adversarial traffic generated here: both
 * families, IPv4 options and IPv6 extension headers, truncated and
 * malformed headers, zero checksums, SCONE packets in bursts past the
 * rewrite budget across slots and periods, flows first seen mid-way, flows
 * whose endpoints grease the fixed bit (picked up), SCONE-like bytes of
 * other protocols, and many interleaved flows.
 *
 * The documented differences (docs/xdp.md) are cases of their own: the
 * engine rewrites inside GTP-U and behind more than 8 IPv6 extension
 * headers, the XDP program passes those untouched, and the test requires
 * exactly that.
 *
 *   test_xdp_diff SCONED SCONE_GEN_PCAP
 * Exit 0, 1 on a difference, 77 when BPF is not available (not root).
 */
#include "pktgen.h"

#include <pcap/pcap.h>
#include <scone/scone.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *sconed, *genpcap;
static char dir[] = "/tmp/scone-xdp-diff-XXXXXX";
static int failures;

/* ------------------------------------------------------------ writing */

typedef struct cap {
  pcap_t *dead;
  pcap_dumper_t *d;
  int eth;
  scone_tstamp t;
} cap;

static void cap_open(cap *c, const char *name, int eth) {
  char path[256];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  c->eth = eth;
  c->dead = pcap_open_dead_with_tstamp_precision(
      eth ? DLT_EN10MB : DLT_RAW, 65535, PCAP_TSTAMP_PRECISION_NANO);
  c->d = pcap_dump_open(c->dead, path);
  if (!c->d) {
    fprintf(stderr, "%s: cannot write\n", path);
    exit(1);
  }
  c->t = (scone_tstamp)1700000000 * SCONE_SECONDS;
}

static void cap_close(cap *c) {
  pcap_dump_close(c->d);
  pcap_close(c->dead);
}

/* Writes an IP packet of len bytes, of which caplen are captured, dt
 * seconds after the previous one. */
static void put(cap *c, const uint8_t *ip, size_t len, size_t caplen,
                double dt) {
  uint8_t fr[2048];
  size_t off = 0;
  if (c->eth) {
    memset(fr, 0, 12);
    fr[0] = 0x02;
    fr[6] = 0x02;
    fr[11] = 1;
    fr[12] = len && (ip[0] >> 4) == 6 ? 0x86 : 0x08;
    fr[13] = len && (ip[0] >> 4) == 6 ? 0xdd : 0x00;
    off = 14;
  }
  memcpy(fr + off, ip, len);
  c->t += (scone_tstamp)(dt * SCONE_SECONDS);
  struct pcap_pkthdr h;
  memset(&h, 0, sizeof(h));
  h.ts.tv_sec = (time_t)(c->t / SCONE_SECONDS);
  h.ts.tv_usec = (suseconds_t)(c->t % SCONE_SECONDS);
  h.caplen = (uint32_t)(off + caplen);
  h.len = (uint32_t)(off + len);
  pcap_dump((u_char *)c->d, &h, fr);
}

/* ------------------------------------------------- shapes of packets */

enum shape {
  PLAIN,
  V4_OPTIONS, /* 8 bytes of IPv4 options */
  V6_EXT,     /* hop-by-hop, routing and destination options headers */
  V6_EXT9,    /* 9 destination options headers: past the XDP program's 8 */
};

/* Rebuilds the IP packet in buf (len bytes) in the given shape. */
static size_t reshape(uint8_t *buf, size_t len, enum shape s) {
  uint8_t tmp[2048];
  memcpy(tmp, buf, len);
  if (s == V4_OPTIONS && (buf[0] >> 4) == 4) {
    memcpy(buf, tmp, 20);
    buf[0] = 0x47;
    static const uint8_t opt[8] = {1, 1, 1, 1, 1, 1, 1, 0};
    memcpy(buf + 20, opt, 8);
    memcpy(buf + 28, tmp + 20, len - 20);
    unsigned tot = (unsigned)len + 8;
    buf[2] = (uint8_t)(tot >> 8);
    buf[3] = (uint8_t)tot;
    return len + 8;
  }
  if ((s == V6_EXT || s == V6_EXT9) && (buf[0] >> 4) == 6) {
    static const uint8_t chain[3] = {0, 43, 60};
    unsigned n = s == V6_EXT ? 3 : 9;
    memcpy(buf, tmp, 40);
    size_t off = 40;
    for (unsigned i = 0; i < n; i++) {
      unsigned next = i + 1 < n ? (s == V6_EXT ? chain[i + 1] : 60) : 17;
      memset(buf + off, 0, 8);
      buf[off] = (uint8_t)next;
      if (s == V6_EXT && chain[i] == 43)
        buf[off + 2] = 4; /* segment routing type, segments left 0 */
      else
        buf[off + 2] = 1, buf[off + 3] = 4; /* a PadN option */
      off += 8;
    }
    buf[6] = s == V6_EXT ? 0 : 60;
    memcpy(buf + off, tmp + 40, len - 40);
    unsigned pl = (unsigned)(len - 40 + 8 * n);
    buf[4] = (uint8_t)(pl >> 8);
    buf[5] = (uint8_t)pl;
    return len + 8 * n;
  }
  return len;
}

static void emit(cap *c, const pg_flow *f, int to_server, const uint8_t *p,
                 size_t plen, int csum, enum shape s, double dt) {
  uint8_t ip[2048];
  size_t n = pg_ip(ip, sizeof(ip), f, to_server, p, plen, csum);
  n = reshape(ip, n, s);
  put(c, ip, n, n, dt);
}

/* A SCONE packet with a DCID of dl bytes, coalesced as the draft has it
 * with a short header carrying the same DCID; fixed_bit 0 greases it. */
static size_t scone_coalesced(uint8_t *p, size_t len, unsigned sig, size_t dl,
                              int fixed_bit) {
  uint8_t dcid[20];
  for (size_t i = 0; i < dl; i++)
    dcid[i] = (uint8_t)(0xa0 + i);
  memset(p, 0x5a, len);
  scone_ssize n = scone_packet_build(p, len, sig, dcid, dl, NULL, 0, 0);
  p[n] = fixed_bit ? 0x41 : 0x01;
  memcpy(p + n + 1, dcid, dl);
  return len;
}

/* --------------------------------------------------------- traffic */

/* One QUIC flow with SCONE packets both ways: bursts past the budget in
 * one slot, then across slots and a period, signals above, at and below
 * the advice. */
static void quic_flow(cap *c, int v6, uint32_t id, int csum, enum shape s) {
  pg_flow f;
  pg_flow_make(&f, v6, id, (uint16_t)(40000 + id));
  uint8_t p[1400];
  pg_initial(p, 1200, 1);
  emit(c, &f, 1, p, 1200, csum, s, 0.001);
  pg_short(p, 300);
  emit(c, &f, 0, p, 300, csum, s, 0.001);
  static const unsigned sigs[] = {127, 100, 127, 127, 127, 127, 127,
                                  5,   127, 90,  127, 127, 60,  127};
  static const double gaps[] = {0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01,
                                0.01, 9,    9,    0.01, 20,   25,   70};
  for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
    pg_scone(p, 900, sigs[i]);
    emit(c, &f, 0, p, 900, csum, s, gaps[i]);
    pg_scone(p, 200, sigs[i]);
    emit(c, &f, 1, p, 200, csum, s, 0.001); /* uplink: no advice */
    pg_short(p, 1200);
    emit(c, &f, 0, p, 1200, csum, s, 0.001);
  }
}

/* Traffic that must pass untouched by both or be treated alike. */
static void odd_flows(cap *c, int v6) {
  uint8_t p[1400], ip[2048];
  pg_flow f;
  /* Other protocols: a first datagram that is no QUIC, then SCONE-like
   * datagrams, and SCONE-like bytes that are not coalesced as SCONE. */
  pg_flow_make(&f, v6, 200, 40200);
  memset(p, 0, 100);
  emit(c, &f, 1, p, 100, 1, PLAIN, 0.01);
  for (int i = 0; i < 4; i++) {
    pg_scone(p, 300, 127);
    emit(c, &f, 0, p, 300, 1, PLAIN, 0.01);
    pg_scone_lookalike(p, 300);
    emit(c, &f, 0, p, 300, 1, PLAIN, 0.01);
  }
  /* An implausible long header first (a 30-byte DCID in version 1). */
  pg_flow_make(&f, v6, 201, 40201);
  pg_initial(p, 200, 0);
  p[5] = 30;
  emit(c, &f, 1, p, 200, 1, PLAIN, 0.01);
  for (int i = 0; i < 3; i++) {
    scone_coalesced(p, 300, 127, 8, 1);
    emit(c, &f, 0, p, 300, 1, PLAIN, 0.01);
  }
  /* Seen mid-way: short headers first, one of four not QUIC-looking. */
  pg_flow_make(&f, v6, 202, 40202);
  for (int i = 0; i < 4; i++) {
    pg_short(p, i == 2 ? 10 : 200);
    emit(c, &f, i & 1, p, i == 2 ? 10 : 200, 1, PLAIN, 0.01);
  }
  for (int i = 0; i < 3; i++) {
    pg_scone(p, 300, 127);
    emit(c, &f, 0, p, 300, 1, PLAIN, 0.01);
  }
  /* Seen mid-way with too few QUIC-looking datagrams. */
  pg_flow_make(&f, v6, 203, 40203);
  for (int i = 0; i < 4; i++) {
    pg_short(p, i ? 10 : 200);
    emit(c, &f, i & 1, p, i ? 10 : 200, 1, PLAIN, 0.01);
  }
  pg_scone(p, 300, 127);
  emit(c, &f, 0, p, 300, 1, PLAIN, 0.01);
  /* Endpoints that grease the fixed bit: picked up at the second
   * coalesced SCONE datagram, one SCONE packet never enough. */
  pg_flow_make(&f, v6, 204, 40204);
  memset(p, 0x01, 200);
  emit(c, &f, 0, p, 200, 1, PLAIN, 0.01);
  for (int i = 0; i < 4; i++) {
    scone_coalesced(p, 400, 127, (size_t)(i ? 8 : 20), 0);
    emit(c, &f, 0, p, 400, 1, PLAIN, 0.01);
  }
  /* A SCONE header whose CIDs run past the datagram, on a QUIC flow. */
  pg_flow_make(&f, v6, 205, 40205);
  pg_initial(p, 1200, 0);
  emit(c, &f, 1, p, 1200, 1, PLAIN, 0.01);
  pg_scone(p, 30, 127);
  p[5] = 40;
  emit(c, &f, 0, p, 30, 1, PLAIN, 0.01);
  pg_scone(p, 6, 127);
  emit(c, &f, 0, p, 6, 1, PLAIN, 0.01);

  /* Truncated captures of SCONE packets on a QUIC flow: in the IP
   * header, in the UDP header, in the SCONE header, after it. */
  pg_flow_make(&f, v6, 206, 40206);
  pg_initial(p, 1200, 0);
  emit(c, &f, 1, p, 1200, 1, PLAIN, 0.01);
  size_t iph = v6 ? 40 : 20;
  static const size_t cut[] = {10, 24, 30, 36, 50, 60, 90};
  for (unsigned i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
    pg_scone(p, 900, 127);
    size_t n = pg_ip(ip, sizeof(ip), &f, 0, p, 900, 1);
    size_t cl = cut[i] + (cut[i] >= 20 ? iph - 20 : 0);
    put(c, ip, n, cl < n ? cl : n, 0.01);
  }
  /* Malformed headers around SCONE packets. */
  for (int k = 0; k < 6; k++) {
    pg_scone(p, 300, 127);
    size_t n = pg_ip(ip, sizeof(ip), &f, 0, p, 300, 1);
    if (!v6) {
      if (k == 0)
        ip[0] = 0x44; /* IHL 4 */
      if (k == 1)
        ip[2] = 0, ip[3] = 10; /* total length below the header */
      if (k == 2)
        ip[24] = 0, ip[25] = 7; /* UDP length below 8 */
      if (k == 3)
        ip[24] = 0x05, ip[25] = 0xdc; /* UDP length past the packet */
      if (k == 4)
        ip[6] = 0x20; /* a first fragment (MF) */
      if (k == 5)
        ip[7] = 0x10; /* a later fragment */
    } else {
      if (k == 0)
        ip[4] = 0, ip[5] = 4; /* payload length below UDP's header */
      if (k == 1)
        ip[44] = 0, ip[45] = 7;
      if (k == 2)
        ip[44] = 0x05, ip[45] = 0xdc;
      if (k == 3)
        ip[6] = 59; /* no next header */
      if (k == 4)
        ip[0] = 0x70; /* version 7 */
      if (k == 5)
        n = 39;
    }
    put(c, ip, n, n, 0.01);
  }
  /* A fragmented v6 SCONE datagram (fragment header, offset 0, M set). */
  if (v6) {
    pg_scone(p, 300, 127);
    size_t n = pg_ip(ip, sizeof(ip), &f, 0, p, 300, 1);
    uint8_t fr[2048];
    memcpy(fr, ip, 40);
    fr[6] = 44;
    memset(fr + 40, 0, 8);
    fr[40] = 17;
    fr[43] = 1; /* M */
    memcpy(fr + 48, ip + 40, n - 40);
    unsigned pl = (unsigned)(n - 40 + 8);
    fr[4] = (uint8_t)(pl >> 8);
    fr[5] = (uint8_t)pl;
    put(c, fr, n + 8, n + 8, 0.01);
  }
}

/* Many flows interleaved: new flows while others carry SCONE packets. */
static void many_flows(cap *c) {
  uint8_t p[1400];
  for (int round = 0; round < 6; round++)
    for (uint32_t id = 300; id < 340; id++) {
      pg_flow f;
      int v6 = id & 1;
      pg_flow_make(&f, v6, id, (uint16_t)(41000 + id));
      if (round == 0) {
        pg_initial(p, 1200, 0);
        emit(c, &f, 1, p, 1200, id % 3 != 0, PLAIN, 0.0001);
      } else {
        pg_scone(p, 600, 127 - (unsigned)round);
        emit(c, &f, 0, p, 600, id % 3 != 0, PLAIN, 0.4);
      }
    }
}

/* GTP-U carrying a QUIC flow: the engine rewrites inside, the XDP program
 * passes the tunnel untouched. */
static void gtpu_flow(cap *c) {
  pg_tunnel t;
  pg_tunnel_make(&t, 0, 77);
  pg_flow f;
  pg_flow_make(&f, 0, 400, 40400);
  uint8_t p[1400], in[1600], out[2048];
  pg_initial(p, 1000, 0);
  size_t n = pg_ip(in, sizeof(in), &f, 1, p, 1000, 1);
  size_t m = pg_gtpu(out, sizeof(out), &t, 1, in, n, NULL);
  put(c, out, m, m, 0.01);
  for (int i = 0; i < 3; i++) {
    pg_scone(p, 600, 127);
    n = pg_ip(in, sizeof(in), &f, 0, p, 600, 1);
    m = pg_gtpu(out, sizeof(out), &t, 0, in, n, NULL);
    put(c, out, m, m, 0.01);
  }
}

/* A QUIC flow whose packets carry 9 IPv6 extension headers. */
static void ext9_flow(cap *c) {
  pg_flow f;
  pg_flow_make(&f, 1, 500, 40500);
  uint8_t p[1400];
  pg_initial(p, 1000, 0);
  emit(c, &f, 1, p, 1000, 1, V6_EXT9, 0.01);
  for (int i = 0; i < 3; i++) {
    pg_scone(p, 600, 127);
    emit(c, &f, 0, p, 600, 1, V6_EXT9, 0.01);
  }
}

/* Traffic a plan that polices enforces (the built-in plan, --enforce
 * police at 1 Mbit/s; every address a subscriber, the client side by its
 * port): flows without advice over the plan, alone and together on their
 * subscriber's one bucket, an announced QUIC flow within its grace, and
 * an advised SCONE flow, which is left alone. dt: 1.2 ms a datagram
 * each way. */
static void plan_flows(cap *c, int v6) {
  uint8_t p[1400];
  pg_flow other, quic, pair[2], ann, adv;
  pg_flow_make(&other, v6, 600, 40600);
  pg_flow_make(&quic, v6, 601, 40601);
  pg_flow_make(&pair[0], v6, 602, 40602);
  pg_flow_make(&pair[1], v6, 602, 40603); /* one subscriber, two flows */
  pg_flow_make(&ann, v6, 603, 40604);
  pg_flow_make(&adv, v6, 604, 40605);
  /* First datagrams: a protocol that is not QUIC, QUIC without and with
   * the indication. */
  memset(p, 0x11, 200);
  emit(c, &other, 1, p, 200, 1, PLAIN, 0.001);
  pg_initial(p, 1200, 0);
  emit(c, &quic, 1, p, 1200, 1, PLAIN, 0.001);
  emit(c, &pair[0], 1, p, 1200, 1, PLAIN, 0.001);
  emit(c, &pair[1], 1, p, 1200, 1, PLAIN, 0.001);
  emit(c, &adv, 1, p, 1200, 1, PLAIN, 0.001);
  pg_initial(p, 1200, 1);
  emit(c, &ann, 1, p, 1200, 1, PLAIN, 0.001);
  /* 3 s: 1200-byte datagrams downlink, about 8 Mbit/s for the flow that
   * is not QUIC and the QUIC one each, 4 Mbit/s for each of the pair; a
   * small uplink datagram now and then; the announced flow sends 60 (its
   * grace is 64 packets) and the advised one, as fast as the first two,
   * gets a SCONE packet each 100 ms (signal 0: 100 kbit/s, lower than any
   * plan, so neither rewrites it): it holds advice, and monitoring judges
   * nothing before two whole periods, so it loses nothing. */
  for (int i = 0; i < 2500; i++) {
    pg_short(p, 1200);
    emit(c, &other, 0, p, 1200, 1, PLAIN, 0.0002);
    emit(c, &quic, 0, p, 1200, 1, PLAIN, 0.0002);
    emit(c, &pair[i & 1], 0, p, 1200, 1, PLAIN, 0.0002);
    if (i < 60)
      emit(c, &ann, 0, p, 1200, 1, PLAIN, 0.0002);
    if (i % 84 == 0) {
      pg_scone(p, 200, 0);
      emit(c, &adv, 0, p, 200, 1, PLAIN, 0.0002);
      pg_short(p, 1200);
    }
    emit(c, &adv, 0, p, 1200, 1, PLAIN, 0.0002);
    if (i % 20 == 0) {
      pg_short(p, 60);
      emit(c, &other, 1, p, 60, 1, PLAIN, 0.0002);
      emit(c, &quic, 1, p, 60, 1, PLAIN, 0.0002);
      emit(c, &pair[0], 1, p, 60, 1, PLAIN, 0.0002);
      emit(c, &pair[1], 1, p, 60, 1, PLAIN, 0.0002);
      emit(c, &adv, 1, p, 60, 1, PLAIN, 0.0002);
    }
  }
}

/* ------------------------------------------------------------ running */

static const char *run_args = ""; /* sconed's options for both runs */

static int run(const char *datapath, const char *in, const char *out) {
  char cmd[1024];
  snprintf(cmd, sizeof(cmd),
           "%s --datapath %s --pcap-in %s/%s --pcap-out %s/%s --quiet "
           "--json %s > %s/%s.json 2> %s/%s.err",
           sconed, datapath, dir, in, dir, out, run_args, dir, out, dir, out);
  int rc = system(cmd);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static long file_bytes(const char *name, uint8_t **data) {
  char path[256];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  if (!f)
    return -1;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  *data = malloc((size_t)n + 1);
  if (fread(*data, 1, (size_t)n, f) != (size_t)n)
    n = -1;
  fclose(f);
  return n;
}

static int same_files(const char *a, const char *b) {
  uint8_t *x = NULL, *y = NULL;
  long n = file_bytes(a, &x), m = file_bytes(b, &y);
  int same = n >= 0 && n == m && memcmp(x, y, (size_t)n) == 0;
  free(x);
  free(y);
  return same;
}

/* A count ("modified", "dropped") from a run's JSON summary. */
static long summary(const char *out, const char *key) {
  char name[256], k[64];
  snprintf(name, sizeof(name), "%s.json", out);
  snprintf(k, sizeof(k), "\"%s\":", key);
  uint8_t *d = NULL;
  long n = file_bytes(name, &d);
  if (n < 0)
    return -1;
  d[n] = 0;
  const char *at = strstr((char *)d, k);
  long v = at ? strtol(at + strlen(k), NULL, 10) : -1;
  free(d);
  return v;
}

static long modified(const char *out) {
  return summary(out, "modified");
}

/* Packets of an Ethernet capture to or from UDP port port. */
static long port_packets(const char *name, unsigned port) {
  char path[256];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  char eb[PCAP_ERRBUF_SIZE];
  pcap_t *p = pcap_open_offline(path, eb);
  if (!p)
    return -1;
  long n = 0;
  struct pcap_pkthdr *h;
  const uint8_t *d;
  while (pcap_next_ex(p, &h, &d) == 1) {
    if (h->caplen < 14 + 48)
      continue;
    const uint8_t *ip = d + 14;
    const uint8_t *u = (ip[0] >> 4) == 6 ? ip + 40 : ip + (ip[0] & 15) * 4;
    unsigned sp = (unsigned)u[0] << 8 | u[1], dp = (unsigned)u[2] << 8 | u[3];
    n += sp == port || dp == port;
  }
  pcap_close(p);
  return n;
}

/* Runs both datapaths on in. want_same: the outputs must be identical;
 * else the engine must have modified packets and the XDP output must be
 * the input (passed untouched). */
static void compare(const char *in, int want_same) {
  char e[128], x[128];
  snprintf(e, sizeof(e), "engine-%s", in);
  snprintf(x, sizeof(x), "xdp-%s", in);
  int re = run("engine", in, e), rx = run("xdp", in, x);
  if (re != 0 || rx != 0) {
    fprintf(stderr, "FAIL %s: engine exit %d, xdp exit %d\n", in, re, rx);
    failures++;
    return;
  }
  long me = modified(e), mx = modified(x);
  if (want_same) {
    if (!same_files(e, x)) {
      fprintf(stderr,
              "FAIL %s: outputs differ (engine %ld, xdp %ld "
              "modified)\n",
              in, me, mx);
      failures++;
      return;
    }
    printf("same      %-14s %ld packets modified by both\n", in, me);
  } else {
    if (same_files(e, x) || me <= 0 || mx != 0 || !same_files(in, x)) {
      fprintf(stderr,
              "FAIL %s: the documented difference is not as "
              "documented (engine %ld, xdp %ld modified)\n",
              in, me, mx);
      failures++;
      return;
    }
    printf("differs   %-14s engine modified %ld, xdp passed all untouched "
           "(documented)\n",
           in, me);
  }
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: test_xdp_diff SCONED SCONE_GEN_PCAP\n");
    return 2;
  }
  sconed = argv[1];
  genpcap = argv[2];
  if (!mkdtemp(dir))
    return 1;
  if (chdir(dir))
    return 1;

  cap c;
  cap_open(&c, "probe.pcap", 1);
  pg_flow f;
  pg_flow_make(&f, 0, 1, 40001);
  uint8_t p[100];
  pg_short(p, 100);
  emit(&c, &f, 1, p, 100, 1, PLAIN, 0);
  cap_close(&c);
  if (run("xdp", "probe.pcap", "probe-out.pcap") != 0) {
    printf("SKIP: the XDP program does not load here (BPF needs root or "
           "CAP_BPF)\n");
    return 77;
  }

  cap_open(&c, "adversarial.pcap", 1);
  for (int v6 = 0; v6 < 2; v6++)
    for (int csum = 0; csum < 2; csum++) {
      quic_flow(&c, v6, (uint32_t)(10 + 4 * v6 + csum), csum, PLAIN);
      quic_flow(&c, v6, (uint32_t)(20 + 4 * v6 + csum), csum,
                v6 ? V6_EXT : V4_OPTIONS);
    }
  odd_flows(&c, 0);
  odd_flows(&c, 1);
  many_flows(&c);
  cap_close(&c);
  /* The same traffic as raw IP: another link type. */
  cap_open(&c, "adversarial-raw.pcap", 0);
  quic_flow(&c, 0, 30, 1, V4_OPTIONS);
  quic_flow(&c, 1, 31, 1, V6_EXT);
  odd_flows(&c, 1);
  cap_close(&c);
  compare("adversarial.pcap", 1);
  compare("adversarial-raw.pcap", 1);

  /* The project's captures. */
  char cmd[512];
  snprintf(cmd, sizeof(cmd), "%s %s > /dev/null", genpcap, dir);
  if (system(cmd) != 0) {
    fprintf(stderr, "FAIL: scone-gen-pcap\n");
    failures++;
  }
  static const char *const project[] = {
      "eth.pcap",  "raw.pcap",  "sll.pcap",  "sll2.pcap", "null.pcap",
      "ipv4.pcap", "ipv6.pcap", "frag.pcap", "cut.pcap",  "noise.pcap"};
  for (unsigned i = 0; i < sizeof(project) / sizeof(project[0]); i++)
    compare(project[i], 1);

  /* The documented differences. */
  cap_open(&c, "gtpu.pcap", 1);
  gtpu_flow(&c);
  cap_close(&c);
  compare("gtpu.pcap", 0);
  cap_open(&c, "v6ext9.pcap", 1);
  ext9_flow(&c);
  cap_close(&c);
  compare("v6ext9.pcap", 0);

  /* A plan that polices: the same drops, the same bytes, and drops there
   * must be (the flows over the plan), on the traffic above too. */
  run_args = "--advice 1M --enforce police";
  cap_open(&c, "plan.pcap", 1);
  plan_flows(&c, 0);
  plan_flows(&c, 1);
  cap_close(&c);
  static const char *const enforced[] = {"plan.pcap", "adversarial.pcap",
                                         "adversarial-raw.pcap"};
  for (unsigned i = 0; i < sizeof(enforced) / sizeof(enforced[0]); i++) {
    char e[128], x[128];
    snprintf(e, sizeof(e), "engine-%s", enforced[i]);
    snprintf(x, sizeof(x), "xdp-%s", enforced[i]);
    compare(enforced[i], 1);
    long de = summary(e, "dropped"), dx = summary(x, "dropped");
    printf("          %-14s dropped: engine %ld, xdp %ld\n", enforced[i], de,
           dx);
    if (de != dx || (i == 0 && de <= 0)) {
      fprintf(stderr, "FAIL %s: dropped engine %ld, xdp %ld\n", enforced[i], de,
              dx);
      failures++;
    }
  }
  /* Per flow (both families together), against plan_flows: the two over
   * the plan and the pair lose, the announced and the advised flows lose
   * nothing. */
  static const struct {
    unsigned port;
    int loses;
  } want[] = {{40600, 1}, {40601, 1}, {40602, 1},
              {40603, 1}, {40604, 0}, {40605, 0}};
  for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
    long in = port_packets("plan.pcap", want[i].port);
    long out = port_packets("xdp-plan.pcap", want[i].port);
    printf("          port %u: %ld of %ld passed\n", want[i].port, out, in);
    if (in <= 0 || out < 0 || (want[i].loses ? out >= in : out != in)) {
      fprintf(stderr, "FAIL plan.pcap port %u: %ld of %ld passed\n",
              want[i].port, out, in);
      failures++;
    }
  }

  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  if (!failures && system(cmd) != 0)
    return 1;
  if (failures)
    fprintf(stderr, "%d failure(s); files kept in %s\n", failures, dir);
  return failures ? 1 : 0;
}
