/*
 * Writes the capture files the CLI tests read: one scenario of ten frames
 * (SCONE and plain QUIC over IPv4 and IPv6, non-IP, TCP, malformed and
 * fragmented packets) in several link types, plus special cases. The
 * expected listing is spelled out in test_pcap.sh.
 *
 * usage: scone-gen-pcap OUTDIR
 */
#include <scone/scone.h>

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXPKT 2048

typedef struct frame {
  uint8_t b[MAXPKT];
  size_t len;
} frame;

static const uint8_t v4_client[4] = {192, 0, 2, 1};
static const uint8_t v4_server[4] = {198, 51, 100, 2};
static const uint8_t v6_client[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t v6_server[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
static const uint8_t dcid[8] = {1, 2, 3, 4, 5, 6, 7, 8};
static const uint8_t scid[4] = {0xa1, 0xa2, 0xa3, 0xa4};

static void die(const char *what) {
  fprintf(stderr, "gen_pcap: %s\n", what);
  exit(1);
}

static void put16(uint8_t *p, unsigned v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static void append(frame *f, const void *p, size_t n) {
  if (f->len + n > MAXPKT)
    die("frame too long");
  memcpy(f->b + f->len, p, n);
  f->len += n;
}

/* A long-header packet with the test CIDs and some opaque body. */
static void quic_long(frame *f, uint8_t first, uint32_t version) {
  uint8_t h[5] = {first, (uint8_t)(version >> 24), (uint8_t)(version >> 16),
                  (uint8_t)(version >> 8), (uint8_t)version};
  append(f, h, 5);
  append(f, (uint8_t[]){sizeof dcid}, 1);
  append(f, dcid, sizeof dcid);
  append(f, (uint8_t[]){sizeof scid}, 1);
  append(f, scid, sizeof scid);
  static const uint8_t body[24] = {0x00, 0x40, 0x16, 0x00};
  append(f, body, sizeof body);
}

static void quic_short(frame *f) {
  append(f, (uint8_t[]){0x43}, 1);
  append(f, dcid, sizeof dcid);
  static const uint8_t body[20] = {0x11, 0x22};
  append(f, body, sizeof body);
}

static void scone(frame *f, unsigned signal, int with_scid) {
  scone_ssize n = scone_packet_build(
      f->b + f->len, MAXPKT - f->len, signal, dcid, sizeof dcid, scid,
      with_scid ? sizeof scid : 0, SCONE_BUILD_FLAG_NONE);
  if (n < 0)
    die(scone_strerror((int)n));
  f->len += (size_t)n;
}

static void indication(frame *f) {
  scone_ssize n = scone_indication_append(f->b, f->len, MAXPKT);
  if (n < 0)
    die("indication");
  f->len = (size_t)n;
}

static uint16_t ipv4_hdr_csum(const uint8_t *h) {
  uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2)
    sum += (uint32_t)(h[i] << 8 | h[i + 1]);
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

/* Wraps payload in UDP (proto 17) or hands it over as is (e.g. TCP). */
static void ip_packet(frame *out, int v6, int c2s, uint8_t proto,
                      const frame *payload, unsigned frag_flags) {
  const uint8_t *src =
      v6 ? (c2s ? v6_client : v6_server) : (c2s ? v4_client : v4_server);
  const uint8_t *dst =
      v6 ? (c2s ? v6_server : v6_client) : (c2s ? v4_server : v4_client);
  unsigned sport = c2s ? (v6 ? 40000 : 50000) : 443;
  unsigned dport = c2s ? 443 : (v6 ? 40000 : 50000);
  uint8_t l4[MAXPKT];
  size_t l4len = payload->len;
  if (proto == 17) {
    l4len += 8;
    put16(l4, sport);
    put16(l4 + 2, dport);
    put16(l4 + 4, (unsigned)l4len);
    put16(l4 + 6, 0);
    memcpy(l4 + 8, payload->b, payload->len);
    put16(l4 + 6, scone_udp_csum_compute(src, dst, v6 ? 16 : 4, l4, l4len));
  } else {
    memcpy(l4, payload->b, payload->len);
  }
  out->len = 0;
  uint8_t h[40] = {0};
  if (v6) {
    h[0] = 0x60;
    put16(h + 4, (unsigned)l4len);
    h[6] = proto;
    h[7] = 64;
    memcpy(h + 8, src, 16);
    memcpy(h + 24, dst, 16);
    append(out, h, 40);
  } else {
    h[0] = 0x45;
    put16(h + 2, (unsigned)(20 + l4len));
    put16(h + 6, frag_flags);
    h[8] = 64;
    h[9] = proto;
    memcpy(h + 12, src, 4);
    memcpy(h + 16, dst, 4);
    put16(h + 10, ipv4_hdr_csum(h));
    append(out, h, 20);
  }
  append(out, l4, l4len);
}

/* What a frame carries before link-layer framing. */
typedef enum { CARRY_IP, CARRY_ARP } carry;

typedef struct scenario_frame {
  carry kind;
  int vlan_tags; /* Ethernet only */
  frame ip;
} scenario_frame;

#define NFRAMES 10

static void build_scenario(scenario_frame *s) {
  frame p;
  memset(s, 0, NFRAMES * sizeof *s);

  /* 1: client Initial with the indication: not SCONE, opens the v4 flow */
  p.len = 0;
  quic_long(&p, 0xc3, 0x00000001);
  indication(&p);
  ip_packet(&s[0].ip, 0, 1, 17, &p, 0);

  /* 2: server to client, SCONE signal 40 before a long header */
  p.len = 0;
  scone(&p, 40, 1);
  quic_long(&p, 0xe1, 0x00000001);
  ip_packet(&s[1].ip, 0, 0, 17, &p, 0);

  /* 3: ARP (for links without EtherTypes: a packet of IP version 0) */
  s[2].kind = CARRY_ARP;

  /* 4: TCP */
  p.len = 20;
  memset(p.b, 0, 20);
  p.b[12] = 0x50;
  ip_packet(&s[3].ip, 0, 1, 6, &p, 0);

  /* 5: IPv6 client opens its flow with SCONE signal 127 (one VLAN tag) */
  p.len = 0;
  scone(&p, SCONE_SIGNAL_UNKNOWN, 1);
  quic_long(&p, 0xc3, 0x00000001);
  ip_packet(&s[4].ip, 1, 1, 17, &p, 0);
  s[4].vlan_tags = 1;

  /* 6: IPv6 server answers, SCONE signal 21 before a short header
   * (802.1ad + 802.1Q tags) */
  p.len = 0;
  scone(&p, 21, 0);
  quic_short(&p);
  ip_packet(&s[5].ip, 1, 0, 17, &p, 0);
  s[5].vlan_tags = 2;

  /* 7: IPv4 client, SCONE signal 126 before a short header */
  p.len = 0;
  scone(&p, 126, 0);
  quic_short(&p);
  ip_packet(&s[6].ip, 0, 1, 17, &p, 0);

  /* 8: IPv4 header cut short: malformed */
  p.len = 0;
  quic_short(&p);
  ip_packet(&s[7].ip, 0, 1, 17, &p, 0);
  s[7].ip.len = 12;

  /* 9: SCONE header whose DCID runs past the datagram: malformed */
  p.len = 0;
  scone(&p, 0, 1);
  p.len = 9;
  ip_packet(&s[8].ip, 0, 0, 17, &p, 0);

  /* 10: first fragment of a datagram (MF set): skipped as a fragment */
  p.len = 0;
  scone(&p, 5, 1);
  quic_long(&p, 0xe1, 0x00000001);
  ip_packet(&s[9].ip, 0, 0, 17, &p, 0x2000);
}

static void link_frame(frame *out, int dlt, const scenario_frame *sf) {
  static const uint8_t arp[28] = {0, 1, 8, 0, 6, 4, 0, 1};
  int v6 = sf->kind == CARRY_IP && (sf->ip.b[0] >> 4) == 6;
  unsigned type = sf->kind == CARRY_ARP ? 0x0806 : v6 ? 0x86dd : 0x0800;
  uint8_t h[32] = {0};
  out->len = 0;
  switch (dlt) {
  case DLT_EN10MB:
    memcpy(h, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
    append(out, h, 12);
    if (sf->vlan_tags == 2)
      append(out, "\x88\xa8\x00\x64", 4);
    if (sf->vlan_tags >= 1)
      append(out, "\x81\x00\x00\x0a", 4);
    put16(h, type);
    append(out, h, 2);
    break;
  case DLT_LINUX_SLL:
    put16(h, 0);     /* sent to us */
    put16(h + 2, 1); /* ARPHRD_ETHER */
    put16(h + 4, 6); /* address length */
    memcpy(h + 6, "\x02\x00\x00\x00\x00\x01", 6);
    put16(h + 14, type);
    append(out, h, 16);
    break;
  case DLT_LINUX_SLL2:
    put16(h, type);
    h[7] = 2;        /* ifindex */
    put16(h + 8, 1); /* ARPHRD_ETHER */
    h[10] = 0;       /* sent to us */
    h[11] = 6;
    memcpy(h + 12, "\x02\x00\x00\x00\x00\x01", 6);
    append(out, h, 20);
    break;
  case DLT_NULL: {
    uint32_t af = v6 ? 10 : 2; /* host order, as the format has it */
    append(out, &af, 4);
    break;
  }
  default:
    break;
  }
  if (sf->kind == CARRY_ARP) {
    if (dlt == DLT_EN10MB || dlt == DLT_LINUX_SLL || dlt == DLT_LINUX_SLL2)
      append(out, arp, sizeof arp);
    else
      append(out, "\x00\x00\x00\x00\x00\x00\x00\x00", 8);
  } else {
    append(out, sf->ip.b, sf->ip.len);
  }
}

static pcap_dumper_t *open_out(const char *dir, const char *name, int dlt,
                               int nano, pcap_t **pd) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  *pd = pcap_open_dead_with_tstamp_precision(
      dlt, 65535,
      nano ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO);
  if (!*pd)
    die("pcap_open_dead");
  pcap_dumper_t *d = pcap_dump_open(*pd, path);
  if (!d)
    die(pcap_geterr(*pd));
  return d;
}

/* Frame i (from 0) at 1700000000.1 s + i * 0.125 s; a nanosecond file gets
 * 789 ns more, which a microsecond reader drops. */
static void dump(pcap_dumper_t *d, int nano, unsigned i, const frame *f,
                 size_t wire_len) {
  struct pcap_pkthdr h;
  unsigned long sub = 100000 + i * 125000UL;
  h.ts.tv_sec = 1700000000 + (time_t)(sub / 1000000);
  h.ts.tv_usec = (suseconds_t)(sub % 1000000);
  if (nano)
    h.ts.tv_usec = h.ts.tv_usec * 1000 + 789;
  h.caplen = (bpf_u_int32)f->len;
  h.len = (bpf_u_int32)wire_len;
  pcap_dump((u_char *)d, &h, f->b);
}

static void write_scenario(const char *dir, const char *name, int dlt, int nano,
                           int only_ipver, const scenario_frame *s) {
  pcap_t *pd;
  pcap_dumper_t *d = open_out(dir, name, dlt, nano, &pd);
  for (unsigned i = 0; i < NFRAMES; i++) {
    if (only_ipver && (s[i].kind != CARRY_IP ||
                       (unsigned)(s[i].ip.b[0] >> 4) != (unsigned)only_ipver))
      continue;
    frame f;
    link_frame(&f, dlt, &s[i]);
    dump(d, nano, i, &f, f.len);
  }
  pcap_dump_close(d);
  pcap_close(pd);
}

/* A SCONE packet whose CIDs a 45-byte snap length cut off. */
static void write_cut(const char *dir) {
  frame p = {.len = 0}, ip;
  scone(&p, 40, 1);
  quic_long(&p, 0xe1, 0x00000001);
  ip_packet(&ip, 0, 0, 17, &p, 0);
  size_t wire = ip.len;
  ip.len = 20 + 8 + 10;
  pcap_t *pd;
  pcap_dumper_t *d = open_out(dir, "cut.pcap", DLT_RAW, 0, &pd);
  dump(d, 0, 0, &ip, wire);
  pcap_dump_close(d);
  pcap_close(pd);
}

/* Later fragments, which hold no UDP header: of a UDP datagram over IPv4
 * and over IPv6 (after a fragment header), and of a TCP segment. */
static void write_fragments(const char *dir) {
  frame p = {.len = 0}, ip;
  scone(&p, 40, 1);
  quic_long(&p, 0xe1, 0x00000001);
  pcap_t *pd;
  pcap_dumper_t *d = open_out(dir, "frag.pcap", DLT_RAW, 0, &pd);
  ip_packet(&ip, 0, 0, 17, &p, 0x2000 | 185);
  dump(d, 0, 0, &ip, ip.len);
  ip_packet(&ip, 0, 0, 6, &p, 185);
  dump(d, 0, 1, &ip, ip.len);
  /* The IPv6 one: the fixed header names a fragment header (44) whose next
   * header is UDP, offset 1480 bytes, M clear. */
  ip_packet(&ip, 1, 0, 44, &p, 0);
  uint8_t fh[8] = {17, 0, 0, 0, 0, 0, 0x12, 0x34};
  put16(fh + 2, 1480);
  frame v6 = {.len = 0};
  append(&v6, ip.b, 40);
  append(&v6, fh, sizeof fh);
  append(&v6, p.b, p.len);
  put16(v6.b + 4, (unsigned)(v6.len - 40));
  dump(d, 0, 2, &v6, v6.len);
  pcap_dump_close(d);
  pcap_close(pd);
}

/* Deterministic noise (xorshift) so a failure reproduces. */
static uint32_t rng_state = 0x5c0e5c0eU;
static uint32_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

/* NOISE_FRAMES Ethernet frames: the scenario's with random bytes changed
 * and cut at random lengths, and random IP-looking packets. Every one must be
 * counted somewhere without the tool misbehaving. */
#define NOISE_FRAMES 400
static void write_noise(const char *dir, const scenario_frame *s) {
  pcap_t *pd;
  pcap_dumper_t *d = open_out(dir, "noise.pcap", DLT_EN10MB, 0, &pd);
  for (unsigned i = 0; i < NOISE_FRAMES; i++) {
    frame f;
    if (i % 2 == 0) {
      link_frame(&f, DLT_EN10MB, &s[(i / 2) % NFRAMES]);
      for (unsigned k = rnd() % 4; k > 0; k--)
        f.b[14 + rnd() % (f.len - 14)] ^= (uint8_t)(1u << (rnd() % 8));
      f.len -= rnd() % (f.len - 13);
    } else {
      f.len = 14 + rnd() % 120;
      for (size_t k = 0; k < f.len; k++)
        f.b[k] = (uint8_t)rnd();
      put16(f.b + 12, i % 4 == 1 ? 0x0800 : 0x86dd);
      f.b[14] = (uint8_t)((i % 4 == 1 ? 0x45 : 0x60) | (f.b[14] & 0x0f));
    }
    dump(d, 0, i, &f, f.len);
  }
  pcap_dump_close(d);
  pcap_close(pd);
}

/* A link type the tool does not walk. */
static void write_unsupported(const char *dir) {
  pcap_t *pd;
  pcap_dumper_t *d = open_out(dir, "wifi.pcap", DLT_IEEE802_11, 0, &pd);
  frame f = {.len = 24};
  memset(f.b, 0, f.len);
  dump(d, 0, 0, &f, f.len);
  pcap_dump_close(d);
  pcap_close(pd);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: scone-gen-pcap OUTDIR\n");
    return 2;
  }
  static scenario_frame s[NFRAMES];
  build_scenario(s);
  write_scenario(argv[1], "eth.pcap", DLT_EN10MB, 0, 0, s);
  write_scenario(argv[1], "raw.pcap", DLT_RAW, 0, 0, s);
  write_scenario(argv[1], "sll.pcap", DLT_LINUX_SLL, 0, 0, s);
  write_scenario(argv[1], "sll2.pcap", DLT_LINUX_SLL2, 1, 0, s);
  write_scenario(argv[1], "null.pcap", DLT_NULL, 0, 0, s);
  write_scenario(argv[1], "ipv4.pcap", DLT_IPV4, 0, 4, s);
  write_scenario(argv[1], "ipv6.pcap", DLT_IPV6, 0, 6, s);
  write_cut(argv[1]);
  write_fragments(argv[1]);
  write_unsupported(argv[1]);
  write_noise(argv[1], s);
  return 0;
}
