/*
 * Writes the seed corpus: make_seeds CORPUS_ROOT creates CORPUS_ROOT/<target>/
 * files for every fuzz target. Deterministic (fixed PRNG seed), so rerunning
 * it reproduces the committed files byte for byte.
 *
 * Deliberately independent of libscone: the packets and the UDP checksums are
 * built here from the RFCs, so that a seed with a "valid" checksum is valid by
 * an outside measure, not by the code under test.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SCONE_EVEN 0x6f7dc0fdU
#define SCONE_ODD 0xef7dc0fdU

static const char *root;
static uint64_t rng = 0x5c0e5c0e5c0e5c0eULL;

static uint8_t rnd8(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint8_t)(rng >> 24);
}

static void fill(uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    p[i] = rnd8();
}

/* The target's corpus directory, made if missing. */
static void target_dir(const char *target) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", root, target);
  if (mkdir(path, 0755) != 0 && errno != EEXIST) {
    perror(path);
    exit(1);
  }
}

/* Writes ROOT/target/name: the control byte ctl (when not NULL), then p. */
static void write_seed(const char *target, const char *name, const uint8_t *ctl,
                       const uint8_t *p, size_t n) {
  char path[1024];
  target_dir(target);
  snprintf(path, sizeof path, "%s/%s/%s", root, target, name);
  FILE *f = fopen(path, "wb");
  if (!f || (ctl && fwrite(ctl, 1, 1, f) != 1) ||
      (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0) {
    perror(path);
    exit(1);
  }
}

static void emit(const char *target, const char *name, uint8_t ctl,
                 const uint8_t *p, size_t n) {
  write_seed(target, name, &ctl, p, n);
}

/* For targets whose input has no control byte. */
static void emit_raw(const char *target, const char *name, const uint8_t *p,
                     size_t n) {
  write_seed(target, name, NULL, p, n);
}

static void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v) {
  put16(p, (uint16_t)(v >> 16));
  put16(p + 2, (uint16_t)v);
}

/* SCONE packet (draft-ietf-scone-protocol, "SCONE Packet"). */
static size_t scone(uint8_t *p, unsigned signal, int reserved, size_t dcidlen,
                    size_t scidlen) {
  p[0] = (uint8_t)(0x80 | (reserved ? 0x40 : 0) | (signal >> 1));
  put32(p + 1, (signal & 1) ? SCONE_ODD : SCONE_EVEN);
  p[5] = (uint8_t)dcidlen;
  fill(p + 6, dcidlen);
  p[6 + dcidlen] = (uint8_t)scidlen;
  fill(p + 7 + dcidlen, scidlen);
  return 7 + dcidlen + scidlen;
}

/* A 1-RTT packet: fixed bit, then protected bytes. */
static size_t short_pkt(uint8_t *p, size_t len) {
  fill(p, len);
  p[0] = (uint8_t)(0x40 | (p[0] & 0x3f));
  return len;
}

/* A QUIC Initial (RFC 9000 17.2.2) with an empty token. */
static size_t initial(uint8_t *p, uint32_t version, size_t dcidlen,
                      size_t scidlen, size_t paylen) {
  size_t o = 0;
  p[o++] = 0xc0 | (rnd8() & 0x0f);
  put32(p + o, version);
  o += 4;
  p[o++] = (uint8_t)dcidlen;
  fill(p + o, dcidlen);
  o += dcidlen;
  p[o++] = (uint8_t)scidlen;
  fill(p + o, scidlen);
  o += scidlen;
  p[o++] = 0; /* token length */
  put16(p + o, (uint16_t)(0x4000 | paylen));
  o += 2;
  fill(p + o, paylen);
  return o + paylen;
}

/* RFC 8999 6: version 0, CIDs echoed, then a list of versions. */
static size_t version_negotiation(uint8_t *p) {
  size_t o = 0;
  p[o++] = 0x80 | (rnd8() & 0x7f);
  put32(p + o, 0);
  o += 4;
  p[o++] = 8;
  fill(p + o, 8);
  o += 8;
  p[o++] = 8;
  fill(p + o, 8);
  o += 8;
  const uint32_t versions[3] = {1, 0x6b3343cfU, SCONE_EVEN};
  for (int i = 0; i < 3; i++, o += 4)
    put32(p + o, versions[i]);
  return o;
}

/* A SCONE-led UDP payload of total bytes: SCONE packet, then 1-RTT. */
static size_t dgram(uint8_t *p, size_t total, unsigned signal, size_t dcidlen) {
  size_t o = scone(p, signal, 0, dcidlen, 0);
  return o + short_pkt(p + o, total - o);
}

/* ------------------------------------------------------- IP and checksums */

static uint32_t sum16(uint32_t acc, const uint8_t *p, size_t n) {
  for (size_t i = 0; i + 1 < n; i += 2)
    acc += (uint32_t)(p[i] << 8 | p[i + 1]);
  if (n & 1)
    acc += (uint32_t)p[n - 1] << 8;
  return acc;
}

static uint16_t fold(uint32_t acc) {
  while (acc >> 16)
    acc = (acc & 0xffff) + (acc >> 16);
  return (uint16_t)acc;
}

typedef struct ippkt {
  uint8_t b[2048];
  size_t len, udp_off;
  int v6;
} ippkt;

static uint8_t *src_of(ippkt *k) {
  return k->b + (k->v6 ? 8 : 12);
}

static uint8_t *dst_of(ippkt *k) {
  return k->b + (k->v6 ? 24 : 16);
}

/* One's complement sum of the pseudo-header and the UDP datagram, with the
 * checksum field counted as zero (RFC 768, RFC 8200 8.1). */
static uint16_t udp_sum(ippkt *k) {
  const uint8_t *udp = k->b + k->udp_off;
  size_t alen = k->v6 ? 16 : 4, ulen = (size_t)(udp[4] << 8 | udp[5]);
  uint32_t acc = sum16(0, src_of(k), alen);
  acc = sum16(acc, dst_of(k), alen);
  acc += 17 + (uint32_t)ulen;
  acc = sum16(acc, udp, 6);
  acc = sum16(acc, udp + 8, ulen - 8);
  return fold(acc);
}

/* A valid UDP checksum; a computed zero is sent as 0xffff (RFC 768). */
static void fix_udp(ippkt *k) {
  uint16_t c = (uint16_t)~udp_sum(k);
  put16(k->b + k->udp_off + 6, c ? c : 0xffff);
}

/* The IPv4 header checksum (RFC 791). */
static void fix_ip4(uint8_t *h) {
  put16(h + 10, 0);
  put16(h + 10, (uint16_t)~fold(sum16(0, h, (size_t)(h[0] & 0x0f) * 4)));
}

static void udp_hdr(uint8_t *udp, size_t plen) {
  put16(udp, 51234);
  put16(udp + 2, 443);
  put16(udp + 4, (uint16_t)(8 + plen));
  put16(udp + 6, 0);
}

static void v4(ippkt *k, const uint8_t *opts, size_t optlen, uint8_t proto,
               uint16_t frag, const uint8_t *pl, size_t plen) {
  uint8_t *h = k->b;
  size_t hl = 20 + optlen;
  k->v6 = 0;
  k->udp_off = hl;
  k->len = hl + 8 + plen;
  h[0] = (uint8_t)(0x40 | hl / 4);
  h[1] = 0x28; /* AF11 */
  put16(h + 2, (uint16_t)k->len);
  put16(h + 4, 0x1234);
  put16(h + 6, frag);
  h[8] = 57;
  h[9] = proto;
  const uint8_t s[4] = {192, 0, 2, 10}, d[4] = {198, 51, 100, 77};
  memcpy(h + 12, s, 4);
  memcpy(h + 16, d, 4);
  memcpy(h + 20, opts, optlen);
  fix_ip4(h);
  udp_hdr(h + hl, plen);
  memcpy(h + hl + 8, pl, plen);
  fix_udp(k);
}

static void v6(ippkt *k, const uint8_t *ext, size_t extlen, uint8_t first_nh,
               const uint8_t *pl, size_t plen) {
  uint8_t *h = k->b;
  k->v6 = 1;
  k->udp_off = 40 + extlen;
  k->len = 40 + extlen + 8 + plen;
  put32(h, 0x60000000U | 0xb8U << 20 | 0x12345U); /* traffic class EF */
  put16(h + 4, (uint16_t)(extlen + 8 + plen));
  h[6] = first_nh;
  h[7] = 64;
  const uint8_t s[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                         0,    0,    0,    0,    0, 0, 0, 1};
  const uint8_t d[16] = {0x20, 0x01, 0x0d, 0xb8, 0x0a, 0x0b, 0, 0,
                         0,    0,    0,    0,    0,    0,    0, 0x99};
  memcpy(h + 8, s, 16);
  memcpy(h + 24, d, 16);
  memcpy(h + 40, ext, extlen);
  udp_hdr(h + k->udp_off, plen);
  memcpy(h + k->udp_off + 8, pl, plen);
  fix_udp(k);
}

/* Adjusts a 16-bit pad word at payload offset pad_off (even) so that the
 * datagram's checksum is the 0xffff corner: the sum is 0xffff, so the
 * computed checksum is zero, sent as 0xffff (RFC 768). */
static void csum_corner_before(ippkt *k, size_t pad_off) {
  uint8_t *pl = k->b + k->udp_off + 8;
  put16(pl + pad_off, 0);
  put16(pl + pad_off, (uint16_t)~udp_sum(k));
  fix_udp(k);
}

/* The SCONE packet at the start of the payload carries signal s. */
static void set_signal(ippkt *k, unsigned s) {
  uint8_t *pl = k->b + k->udp_off + 8;
  pl[0] = (uint8_t)((pl[0] & 0xc0) | (s >> 1));
  pl[1] = (uint8_t)((pl[1] & 0x7f) | ((s & 1) << 7));
}

/* The same corner, reached only once the signal is lowered to target: the
 * one an incremental update most easily gets wrong. The datagram keeps its
 * original signal and a checksum valid for it. */
static void csum_corner_after(ippkt *k, unsigned signal, unsigned target,
                              size_t pad_off) {
  set_signal(k, target);
  csum_corner_before(k, pad_off);
  set_signal(k, signal);
  fix_udp(k);
}

/* ---------------------------------------------------------------- targets */

static void seeds_packet(void) {
  uint8_t p[1600];
  size_t n;
  const char *t = "packet";

  n = scone(p, 126, 0, 8, 0);
  n += short_pkt(p + n, 40);
  emit(t, "even-126-cid8-short", 60, p, n);
  n = scone(p, 127, 0, 0, 0);
  emit(t, "odd-127-minimal", 0, p, n);
  n = scone(p, 127, 0, 20, 20);
  n += initial(p + n, 1, 20, 20, 60);
  emit(t, "cid20-20-initial", 100, p, n);
  n = scone(p, 33, 0, 255, 0);
  n += short_pkt(p + n, 20);
  emit(t, "dcid255", 1, p, n);
  n = scone(p, 126, 0, 0, 255);
  emit(t, "scid255", 126, p, n);
  n = scone(p, 5, 0, 255, 255);
  emit(t, "cid255-255", 127, p, n);
  n = scone(p, 127, 0, 20, 0);
  emit(t, "trunc-in-dcid", 40, p, 6 + 10);
  emit(t, "trunc-4-bytes", 40, p, 4);
  emit(t, "trunc-no-scidlen", 40, p, 6 + 20);
  n = scone(p, 127, 0, 4, 8);
  emit(t, "trunc-in-scid", 40, p, n - 5);
  emit(t, "header-5-bytes", 10, p, 5);
  n = scone(p, 64, 1, 8, 0);
  n += short_pkt(p + n, 30);
  emit(t, "reserved-bit", 63, p, n);
  n = initial(p, 1, 8, 8, 100);
  emit(t, "not-scone-quic-v1", 20, p, n);
  n = short_pkt(p, 50);
  emit(t, "not-scone-short", 20, p, n);
  n = scone(p, 127, 0, 8, 0);
  put32(p + 1, SCONE_EVEN + 1);
  emit(t, "not-scone-version-off-by-one", 20, p, n);
  n = scone(p, 127, 0, 8, 0);
  p[0] &= 0x7f;
  emit(t, "not-scone-no-long-bit", 20, p, n);
  n = initial(p, 0, 8, 8, 8);
  emit(t, "not-scone-version-negotiation", 20, p, n);
  n = scone(p, 0, 0, 8, 0);
  n += short_pkt(p + n, 30);
  emit(t, "signal0", 0, p, n);
  n = scone(p, 127, 0, 8, 8);
  n += initial(p + n, 1, 8, 8, 1100);
  p[n++] = 0xc8;
  p[n++] = 0x13;
  emit(t, "first-flight-indication", 81, p, n);
  emit(t, "empty", 7, p, 0);
  n = scone(p, 127, 0, 8, 0);
  emit(t, "target255", 255, p, n);
  /* Rate table probes: the first eight bytes are read as bits per second. */
  const uint8_t r100k[8] = {0, 0, 0, 0, 0, 0x01, 0x86, 0xa0};
  const uint8_t r1m[8] = {0, 0, 0, 0, 0, 0x0f, 0x42, 0x40};
  const uint8_t r1m_1[8] = {0, 0, 0, 0, 0, 0x0f, 0x42, 0x3f};
  const uint8_t rmax[8] = {0, 0, 0, 0x2e, 0x73, 0x7e, 0xc8, 0x60};
  emit(t, "rate-100k", 0, r100k, 8);
  emit(t, "rate-1m", 0, r1m, 8);
  emit(t, "rate-1m-minus-1", 0, r1m_1, 8);
  emit(t, "rate-199g", 0, rmax, 8);
}

static void seeds_quic_hdr(void) {
  uint8_t p[1600];
  size_t n;
  const char *t = "quic_hdr";

  n = short_pkt(p, 40);
  emit(t, "short-8", 8, p, n);
  emit(t, "short-0", 0, p, n);
  emit(t, "short-8-exact", 8, p, 9);
  emit(t, "short-8-one-short", 8, p, 8);
  n = short_pkt(p, 60);
  emit(t, "short-20", 20, p, n);
  emit(t, "short-20-trunc", 20, p, 11);
  emit(t, "short-255-trunc", 255, p, n);
  n = short_pkt(p, 300);
  emit(t, "short-255", 255, p, n);
  emit(t, "short-sdl-fe", 0xfe, p, 10);
  n = initial(p, 1, 8, 8, 100);
  emit(t, "long-v1-8-8", 8, p, n);
  emit(t, "long-trunc-1", 8, p, 1);
  emit(t, "long-trunc-5", 8, p, 5);
  emit(t, "long-trunc-6", 8, p, 6);
  emit(t, "long-trunc-in-dcid", 8, p, 10);
  emit(t, "long-trunc-no-scidlen", 8, p, 14);
  emit(t, "long-trunc-in-scid", 8, p, 18);
  n = initial(p, 1, 20, 20, 100);
  emit(t, "long-v1-20-20", 20, p, n);
  n = initial(p, 0x6b3343cfU, 0, 0, 50);
  emit(t, "long-v2-0-0", 0, p, n);
  n = initial(p, 0x1a2a3a4aU, 255, 255, 10);
  emit(t, "long-grease-255-255", 0, p, n);
  n = version_negotiation(p);
  emit(t, "version-negotiation", 0, p, n);
  n = scone(p, 127, 0, 8, 0);
  n += short_pkt(p + n, 40);
  emit(t, "scone-then-short", 8, p, n);
  n = scone(p, 17, 0, 255, 255);
  emit(t, "scone-255-255", 0, p, n);
  emit(t, "empty", 8, p, 0);
}

static void seeds_tp(void) {
  const char *t = "tp";
#define TP(name, ...)                                                          \
  do {                                                                         \
    const uint8_t b_[] = {__VA_ARGS__};                                        \
    emit_raw(t, name, b_, sizeof b_);                                          \
  } while (0)
  emit_raw(t, "empty", NULL, 0);
  TP("scone-only", 0x61, 0x9e, 0x00);
  /* A client's set (RFC 9000 18.2): max_idle_timeout, max_udp_payload_size,
   * initial_max_data, initial_max_streams_bidi, initial_source_connection_id,
   * a greased id (31 * 5 + 27), then scone_supported. */
  TP("client-with-scone", 0x01, 0x04, 0x80, 0x00, 0x75, 0x30, 0x03, 0x02, 0x45,
     0xc0, 0x04, 0x04, 0x80, 0x10, 0x00, 0x00, 0x08, 0x01, 0x64, 0x0f, 0x08, 1,
     2, 3, 4, 5, 6, 7, 8, 0x40, 0xb6, 0x03, 0xaa, 0xbb, 0xcc, 0x61, 0x9e, 0x00);
  TP("server-without-scone", 0x00, 0x08, 9, 9, 9, 9, 9, 9, 9, 9, 0x01, 0x04,
     0x80, 0x00, 0x75, 0x30, 0x02, 0x10, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
     12, 13, 14, 15, 0x0f, 0x04, 0xde, 0xad, 0xbe, 0xef);
  TP("scone-with-value", 0x61, 0x9e, 0x01, 0x00);
  TP("scone-twice", 0x61, 0x9e, 0x00, 0x04, 0x01, 0x10, 0x61, 0x9e, 0x00);
  TP("scone-id-4-byte-varint", 0x80, 0x00, 0x21, 0x9e, 0x00);
  TP("scone-id-8-byte-varint", 0xc0, 0, 0, 0, 0, 0, 0x21, 0x9e, 0x00);
  TP("scone-len-2-byte-varint", 0x61, 0x9e, 0x40, 0x00);
  TP("trunc-id", 0x04, 0x01, 0x10, 0x61);
  TP("trunc-len", 0x61, 0x9e);
  TP("trunc-value", 0x04, 0x04, 0x80, 0x00);
  TP("len-huge", 0x05, 0xc0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
  TP("len-past-end-2-byte", 0x07, 0x7f, 0xff, 0x00);
  TP("scone-then-garbage", 0x61, 0x9e, 0x00, 0x04, 0x08);
  TP("scone-value-then-garbage", 0x61, 0x9e, 0x02, 0xab, 0xcd, 0x61);
  TP("scone-len-past-end", 0x61, 0x9e, 0x05, 0x00);
  TP("varint-8-max", 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00);
  TP("varint-non-minimal", 0x40, 0x01, 0x00, 0x80, 0x00, 0x00, 0x3f, 0x00);
  TP("many-empty", 0x0c, 0x00, 0x0c, 0x00, 0x0c, 0x00, 0x0c, 0x00, 0x0c, 0x00,
     0x61, 0x9e, 0x00);
  TP("neighbour-ids", 0x61, 0x9d, 0x00, 0x61, 0x9f, 0x00, 0x21, 0x00);
#undef TP
}

static void seeds_ipudp(void) {
  static ippkt k;
  uint8_t pl[1500];
  size_t n;
  const char *t = "ipudp";
  const uint8_t no[1] = {0};

  n = dgram(pl, 400, 127, 8);
  v4(&k, no, 0, 17, 0x4000, pl, n);
  emit(t, "v4-plain-df", 60, k.b, k.len);
  k.b[k.udp_off + 6] = k.b[k.udp_off + 7] = 0;
  emit(t, "v4-csum-none", 60, k.b, k.len);
  v4(&k, no, 0, 17, 0x4000, pl, n);
  k.b[k.udp_off + 7] ^= 0x5a;
  emit(t, "v4-csum-wrong", 60, k.b, k.len);

  uint8_t opts[40] = {0x07, 39, 4}; /* record route, rest zero (EOL) */
  v4(&k, opts, 40, 17, 0, pl, n);
  emit(t, "v4-options-ihl15", 30, k.b, k.len);
  v4(&k, no, 0, 17, 0x2000, pl, n);
  emit(t, "v4-frag-first-mf", 30, k.b, k.len);
  v4(&k, no, 0, 17, 0x0020, pl, n);
  emit(t, "v4-frag-offset", 30, k.b, k.len);
  v4(&k, no, 0, 6, 0x4000, pl, n);
  emit(t, "v4-tcp", 30, k.b, k.len);
  v4(&k, no, 0, 17, 0, pl, n);
  k.b[0] = 0x44;
  emit(t, "v4-ihl4", 30, k.b, k.len);
  k.b[0] = 0x55;
  emit(t, "v4-ihl5-version5", 30, k.b, k.len);

  n = dgram(pl, 1200, 127, 8);
  v4(&k, no, 0, 17, 0x4000, pl, n);
  emit(t, "v4-snap64", 50, k.b, 64);
  emit(t, "v4-snap12", 50, k.b, 12);
  put16(k.b + 2, 200); /* total length shorter than UDP says */
  emit(t, "v4-udplen-gt-total", 50, k.b, k.len);

  n = short_pkt(pl, 300);
  v4(&k, no, 0, 17, 0x4000, pl, n);
  emit(t, "v4-not-scone", 10, k.b, k.len);

  n = dgram(pl, 300, 101, 4);
  v4(&k, no, 0, 17, 0x4000, pl, n);
  csum_corner_after(&k, 101, 40, 100);
  emit(t, "v4-csum-zero-after", 40, k.b, k.len);
  n = dgram(pl, 300, 127, 4);
  v4(&k, no, 0, 17, 0x4000, pl, n);
  csum_corner_before(&k, 100);
  emit(t, "v4-csum-ffff-before", 40, k.b, k.len);
  n = dgram(pl, 300, 0, 4);
  v4(&k, no, 0, 17, 0x4000, pl, n);
  emit(t, "v4-signal0-target127", 127, k.b, k.len);

  n = dgram(pl, 500, 127, 20);
  v6(&k, no, 0, 17, pl, n);
  emit(t, "v6-plain", 80, k.b, k.len);
  k.b[k.udp_off + 6] = k.b[k.udp_off + 7] = 0;
  emit(t, "v6-csum-zero", 80, k.b, k.len);
  v6(&k, no, 0, 17, pl, n);
  emit(t, "v6-snap80", 80, k.b, 80);

  /* hop-by-hop (PadN) -> routing (SRH, segments left 0) -> destination
   * options (PadN) -> UDP */
  const uint8_t chain[8 + 24 + 8] = {43,   0,    1,    4,    0,    0,    0,
                                     0, /* HBH */
                                     60,   2,    4,    0,    0,    0,    0,
                                     0, /* SRH */
                                     0x20, 0x01, 0x0d, 0xb8, 0x0a, 0x0b, 0,
                                     0,    0,    0,    0,    0,    0,    0,
                                     0,    0x99, 17,   0,    1,    4,    0,
                                     0,    0,    0}; /* destination options */
  n = dgram(pl, 400, 77, 8);
  v6(&k, chain, sizeof chain, 0, pl, n);
  emit(t, "v6-hbh-srh-dstopt", 20, k.b, k.len);
  emit(t, "v6-ext-trunc", 20, k.b, 40 + 12);
  emit(t, "v6-ext-udp-trunc", 20, k.b, 40 + sizeof chain + 5);

  const uint8_t frag_m[8] = {17, 0, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef};
  const uint8_t frag_atomic[8] = {17, 0, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef};
  const uint8_t frag_off[8] = {17, 0, 0x05, 0x00, 0xde, 0xad, 0xbe, 0xef};
  v6(&k, frag_m, 8, 44, pl, n);
  emit(t, "v6-frag-first-m", 20, k.b, k.len);
  v6(&k, frag_atomic, 8, 44, pl, n);
  emit(t, "v6-frag-atomic", 20, k.b, k.len);
  v6(&k, frag_off, 8, 44, pl, n);
  emit(t, "v6-frag-offset", 20, k.b, k.len);

  v6(&k, no, 0, 58, pl, n);
  emit(t, "v6-icmp", 20, k.b, k.len);
  v6(&k, no, 0, 17, pl, n);
  put16(k.b + k.udp_off + 4, 0);
  emit(t, "v6-udp-len0", 20, k.b, k.len);

  n = dgram(pl, 600, 126, 255);
  v6(&k, no, 0, 17, pl, n);
  emit(t, "v6-dcid255", 0, k.b, k.len);
  n = dgram(pl, 300, 127, 8);
  v6(&k, no, 0, 17, pl, n);
  csum_corner_after(&k, 127, 66, 120);
  emit(t, "v6-csum-zero-after", 66, k.b, k.len);
  n = dgram(pl, 300, 90, 8);
  v6(&k, no, 0, 17, pl, n);
  csum_corner_before(&k, 120);
  emit(t, "v6-csum-ffff-before", 3, k.b, k.len);
}

/* Byte 0 indexes fuzz_link.c's table of link types. */
enum {
  L_NULL,
  L_ETHERNET,
  L_DLT_RAW,
  L_RAW,
  L_LOOP,
  L_SLL,
  L_IPV4,
  L_IPV6,
  L_SLL2,
  L_UNSUPPORTED
};

/* A link header of hl bytes in front of an IP packet, as one seed. */
static void link_seed(const char *name, uint8_t lt, const uint8_t *hdr,
                      size_t hl, const ippkt *k, size_t iplen) {
  static uint8_t f[2048 + 64];
  memcpy(f, hdr, hl);
  memcpy(f + hl, k->b, iplen);
  emit("link", name, lt, f, hl + iplen);
}

static void seeds_link(void) {
  static ippkt k4, k6;
  uint8_t pl[300];
  const uint8_t no[1] = {0};
  size_t n = dgram(pl, 200, 127, 8);
  v4(&k4, no, 0, 17, 0x4000, pl, n);
  v6(&k6, no, 0, 17, pl, n);

  uint8_t eth[48] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
  put16(eth + 12, 0x0800);
  link_seed("eth-v4", L_ETHERNET, eth, 14, &k4, k4.len);
  put16(eth + 12, 0x88a8); /* QinQ: service tag, customer tag, IPv6 */
  put16(eth + 14, 0x0064);
  put16(eth + 16, 0x8100);
  put16(eth + 18, 0x000a);
  put16(eth + 20, 0x86dd);
  link_seed("eth-qinq-v6", L_ETHERNET, eth, 22, &k6, k6.len);
  link_seed("eth-trunc-in-tag", L_ETHERNET, eth, 17, &k6, 0);
  put16(eth + 12, 0x0806);
  static const uint8_t arp[28] = {0, 1, 8, 0, 6, 4, 0, 1};
  memcpy(eth + 14, arp, sizeof arp);
  link_seed("eth-arp", L_ETHERNET, eth, 14 + sizeof arp, &k4, 0);

  uint8_t sll[20] = {0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1};
  put16(sll + 14, 0x0800);
  link_seed("sll-v4", L_SLL, sll, 16, &k4, k4.len);
  put16(sll + 14, 0x8100);
  put16(sll + 16, 0x0064);
  put16(sll + 18, 0x86dd);
  link_seed("sll-vlan-v6", L_SLL, sll, 20, &k6, k6.len);

  uint8_t sll2[20] = {0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0,
                      1,    0,    6, 2, 0, 0, 0, 0, 1};
  link_seed("sll2-v6", L_SLL2, sll2, 20, &k6, k6.len);
  link_seed("sll2-snap30", L_SLL2, sll2, 20, &k6, 10);

  const uint8_t inet_le[4] = {2, 0, 0, 0}, inet6_be[4] = {0, 0, 0, 30};
  const uint8_t unix_le[4] = {1, 0, 0, 0};
  link_seed("null-v4-le", L_NULL, inet_le, 4, &k4, k4.len);
  link_seed("loop-v6-be", L_LOOP, inet6_be, 4, &k6, k6.len);
  link_seed("null-not-ip-family", L_NULL, unix_le, 4, &k4, k4.len);

  link_seed("raw-v4", L_RAW, no, 0, &k4, k4.len);
  link_seed("dlt-raw-v6", L_DLT_RAW, no, 0, &k6, k6.len);
  link_seed("ipv4-carrying-v6", L_IPV4, no, 0, &k6, k6.len);
  link_seed("ipv6-empty", L_IPV6, no, 0, &k6, 0);
  k4.b[0] = 0x55;
  link_seed("raw-version5", L_RAW, no, 0, &k4, k4.len);
  link_seed("unsupported-80211", L_UNSUPPORTED, eth, 14, &k6, k6.len);
}

/* ----------------------------------------------------- sconed targets */

/* Configs: the documented example, every key, and refusals. */
static void seeds_sconed_config(void) {
  static const struct {
    const char *name, *text;
  } cfgs[] = {
      {"example", "; sconed example\n[global]\nperiod = 67s\ntolerance = "
                  "10%\ninitial_rewrites = 4\nrewrites_per_period = 4\n"
                  "announce_grace = 64\n[plan video-sd]\ndownlink = 1.5M\n"
                  "action = shape\nburst = 64k\nmax_delay = 200ms\n"
                  "[plan video-hd]\ndownlink = 5M\nuplink = 1M\naction = "
                  "police\nrate = 6M\nburst = 125k\n[plan unlimited]\n"
                  "downlink = 50M\naction = none\n[capacity cell-17]\n"
                  "rate = 20M\n[subscribers]\nsubscriber = 10.1.0.0/16 "
                  "video-hd opt-in capacity=cell-17\nsubscriber = "
                  "10.1.7.0/24 video-sd opt-in\nsubscriber = 10.2.0.0/16 "
                  "video-hd opt-out\nsubscriber = 2001:db8:1::/48 video-hd "
                  "opt-in capacity=cell-17\n"},
      {"minimal", "[plan p]\ndownlink = 2M\n[subscribers]\nsubscriber = "
                  "0.0.0.0/0 p opt-in\nsubscriber = ::/0 p opt-in\n"},
      {"uplink-rates", "[plan p]\ndownlink = 2000000\nuplink = 500k\n"
                       "action = police\nrate = 3M\nuplink_rate = 1M\n"
                       "[subscribers]\nsubscriber = 10.0.0.1 p opt-in\n"},
      {"bad-plan-ref", "[subscribers]\nsubscriber = 10.0.0.0/8 nope opt-in\n"},
      {"bad-rate", "[plan p]\ndownlink = fast\n"},
      {"bad-prefix", "[plan p]\ndownlink = 1M\n[subscribers]\n"
                     "subscriber = 10.0.0.0/33 p\n"},
      {"bad-section", "[planet x]\n"},
      {"dup-key", "[plan p]\ndownlink = 1M\ndownlink = 2M\n"},
      {"no-equals", "[global]\nperiod\n"},
      {"short-period", "[global]\nperiod = 10s\n"},
      {"lab-period", "[global]\nperiod = 10s\nlab_short_period = yes\n"
                     "[plan p]\ndownlink = 1M\n[subscribers]\n"
                     "subscriber = 10.0.0.0/8 p opt-in\n"},
      {"crlf", "[plan p]\r\ndownlink = 1M\r\n[subscribers]\r\n"
               "subscriber = 10.0.0.0/8 p opt-in\r\n"},
      {"empty", ""},
  };
  for (size_t i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++)
    emit_raw("sconed_config", cfgs[i].name, (const uint8_t *)cfgs[i].text,
             strlen(cfgs[i].text));
}

/* A datagram of a flow between two given ends, for the packet-path
 * target's records. */
static void flow_pkt(ippkt *k, int is6, const uint8_t *src, const uint8_t *dst,
                     uint16_t sport, uint16_t dport, const uint8_t *pl,
                     size_t plen) {
  if (is6)
    v6(k, NULL, 0, 17, pl, plen);
  else
    v4(k, NULL, 0, 17, 0, pl, plen);
  size_t alen = is6 ? 16 : 4;
  memcpy(src_of(k), src, alen);
  memcpy(dst_of(k), dst, alen);
  if (!is6)
    fix_ip4(k->b);
  put16(k->b + k->udp_off, sport);
  put16(k->b + k->udp_off + 2, dport);
  fix_udp(k);
}

typedef struct seq {
  uint8_t b[16384];
  size_t n;
} seq;

/* One record: [ctl][len][packet] (see fuzz_sconed_packet.c). */
static void rec(seq *q, uint8_t ctl, const ippkt *k, size_t len) {
  if (len > 255 || q->n + 2 + len > sizeof(q->b))
    abort();
  q->b[q->n++] = ctl;
  q->b[q->n++] = (uint8_t)len;
  memcpy(q->b + q->n, k->b, len);
  q->n += len;
}

/* A QUIC flow of the given ends: an Initial (announced or not), then
 * server 1-RTT datagrams, with a SCONE packet every fourth and a client
 * one now and then if scone; mostly at one time (bursts for the
 * enforcement), steps of 20 ms, a period and more in the middle. */
static void quic_flow(seq *q, int is6, const uint8_t *cli, const uint8_t *srv,
                      uint16_t cport, int announce, int scone_pkts, int npkts) {
  ippkt k;
  uint8_t pl[210];
  size_t n = initial(pl, 1, 8, 8, 100);
  if (announce) {
    pl[n++] = 0xc8;
    pl[n++] = 0x13;
  }
  flow_pkt(&k, is6, cli, srv, cport, 443, pl, n);
  rec(q, 0x41, &k, k.len);
  for (int i = 1; i < npkts; i++) {
    int up = i % 5 == 0;
    size_t len = 200;
    if (scone_pkts && (i % 4 == 1 || (up && i % 3 == 0)))
      dgram(pl, len, i % 8 == 1 ? 127 : 40, 8);
    else
      short_pkt(pl, len);
    if (up)
      flow_pkt(&k, is6, cli, srv, cport, 443, pl, len);
    else
      flow_pkt(&k, is6, srv, cli, 443, cport, pl, len);
    uint8_t ctl = i == npkts / 2 ? 48 + 7 : (i % 24 == 0 ? 0x41 : 0);
    rec(q, ctl, &k, k.len);
  }
}

/* A sconed_packet sequence, and the same packets as Ethernet frames for
 * fuzz_xdp_packet ([ctl][len hi][len lo][frame]; its clock moves by ctl's
 * low 6 bits; capacity records, which it has not, left out). */
static void emit_packet_seq(const char *name, const uint8_t *b, size_t n) {
  emit_raw("sconed_packet", name, b, n);
  static uint8_t x[32768];
  size_t o = 0;
  for (size_t i = 0; i + 2 <= n;) {
    uint8_t ctl = b[i], len = b[i + 1];
    i += 2;
    if (ctl & 0x80)
      continue;
    if (len > n - i || o + 3 + 14 + len > sizeof(x))
      abort();
    x[o++] = ctl & 63;
    put16(x + o, (uint16_t)(14 + len));
    o += 2;
    memset(x + o, 0x02, 12); /* locally administered MACs */
    put16(x + o + 12, len && (b[i] >> 4) == 6 ? 0x86dd : 0x0800);
    o += 14;
    memcpy(x + o, b + i, len);
    o += len;
    i += len;
  }
  emit_raw("xdp_packet", name, x, o);
}

static const uint8_t c4a[4] = {10, 0, 0, 1}, c4b[4] = {10, 128, 0, 5};
static const uint8_t c4o[4] = {192, 168, 1, 1}, s4[4] = {192, 0, 2, 1};
static const uint8_t c6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t s6[16] = {0x20, 0x01, 0x0d, 0xb9, [15] = 1};

static void seeds_sconed_packet(void) {
  /* One flow each, of the plans in fuzz_sconed_packet.c's config; without
   * SCONE, the policer and shaper act. */
  static const struct {
    const char *name;
    int is6;
    const uint8_t *cli, *srv;
    int announce, scone_pkts, npkts;
  } flows[] = {
      {"v4-police", 0, c4a, s4, 1, 1, 40},
      {"v4-shape", 0, c4b, s4, 1, 1, 40},
      {"v6-capacity", 1, c6, s6, 1, 1, 30},
      {"v4-opt-out", 0, c4o, s4, 0, 1, 20},
      {"v4-police-no-scone", 0, c4a, s4, 0, 0, 50},
      {"v4-shape-no-scone", 0, c4b, s4, 0, 0, 50},
  };
  seq q;
  for (size_t i = 0; i < sizeof(flows) / sizeof(flows[0]); i++) {
    q.n = 0;
    quic_flow(&q, flows[i].is6, flows[i].cli, flows[i].srv,
              (uint16_t)(50000 + i), flows[i].announce, flows[i].scone_pkts,
              flows[i].npkts);
    emit_packet_seq(flows[i].name, q.b, q.n);
  }

  /* Two flows interleaved in batches, a capacity change between. */
  seq a, b;
  a.n = b.n = 0;
  quic_flow(&a, 0, c4a, s4, 50010, 1, 1, 24);
  quic_flow(&b, 1, c6, s6, 50011, 1, 1, 24);
  q.n = 0;
  memcpy(q.b, a.b, a.n);
  q.n = a.n;
  const uint8_t cap[2] = {0x80, 5}; /* 500 kbit/s */
  memcpy(q.b + q.n, cap, 2);
  q.n += 2;
  memcpy(q.b + q.n, b.b, b.n);
  q.n += b.n;
  emit_packet_seq("two-flows-capacity", q.b, q.n);

  /* Not QUIC, then the oddities that must pass untouched. */
  ippkt k;
  uint8_t pl[120];
  q.n = 0;
  fill(pl, sizeof(pl));
  pl[0] = 0x00;
  flow_pkt(&k, 0, c4a, s4, 50020, 5000, pl, sizeof(pl));
  rec(&q, 0x41, &k, k.len);
  dgram(pl, sizeof(pl), 127, 8);
  flow_pkt(&k, 0, s4, c4a, 5000, 50020, pl, sizeof(pl));
  rec(&q, 0, &k, k.len);
  rec(&q, 0, &k, 27);                  /* truncated */
  v4(&k, NULL, 0, 17, 0x2000, pl, 60); /* a first fragment */
  rec(&q, 0, &k, k.len);
  v4(&k, NULL, 0, 6, 0, pl, 60); /* TCP */
  rec(&q, 0, &k, k.len);
  const uint8_t hbh[8] = {17, 0, 1, 4, 0, 0, 0, 0};
  v6(&k, hbh, 8, 0, pl, 80); /* an extension header */
  rec(&q, 0, &k, k.len);
  emit_packet_seq("not-quic-and-odd", q.b, q.n);

  /* Joined mid-way, fixed bit greased (RFC 9287): short headers that do
   * not look like QUIC, then SCONE packets whose DCID is the short
   * header's after them, which pick the flow up at the second. A fixed
   * pattern rather than rnd8(), so the seeds after these stay as they
   * were. */
  static const uint8_t dcid[8] = {0xd1, 0xd2, 0xd3, 0xd4,
                                  0xd5, 0xd6, 0xd7, 0xd8};
  q.n = 0;
  for (int i = 0; i < 12; i++) {
    int with_scone = i >= 6 && i % 2 == 0, up = i % 3 == 0;
    for (size_t j = 0; j < 100; j++)
      pl[j] = (uint8_t)(j * 131 + 7 + (size_t)i);
    size_t o = 0;
    if (with_scone) {
      pl[0] = 0x80 | (127 >> 1);
      put32(pl + 1, SCONE_ODD);
      pl[5] = 8;
      memcpy(pl + 6, dcid, 8);
      pl[14] = 0;
      o = 15;
    }
    pl[o] &= 0x3f;
    memcpy(pl + o + 1, dcid, 8);
    if (up)
      flow_pkt(&k, 0, c4a, s4, 50030, 443, pl, 100);
    else
      flow_pkt(&k, 0, s4, c4a, 443, 50030, pl, 100);
    rec(&q, i == 0 ? 0x41 : 1, &k, k.len);
  }
  emit_packet_seq("greased-pickup", q.b, q.n);
}

/* ------------------------------------------------- CMCD, CMSD and MPD */

typedef struct text_seed {
  const char *name, *text;
} text_seed;

static void emit_texts(const char *target, const text_seed *t, size_t n) {
  for (size_t i = 0; i < n; i++)
    emit_raw(target, t[i].name, (const uint8_t *)t[i].text, strlen(t[i].text));
}

/* Byte 0 picks the header shard (0 the query payload, 1 Request, 2 Status,
 * 3 Object, 4 Session) or, at 5, a whole request target. */
static void seeds_cmcd(void) {
  static const struct {
    uint8_t ctl;
    const char *name, *text;
  } s[] = {
      {0, "cta-example",
       "br=3200,bs,d=4004,mtp=25400,ot=v,rtp=15000,"
       "sid=\"6e2fb550-c457-11e9-bb97-0800200c9a66\","
       "tb=6000"},
      {1, "request",
       "bl=21300,dl=18500,mtp=48100,nor=\"..%2F300kbps%2F"
       "track.m4v\",nrr=\"12323-48763\",su"},
      {2, "status", "bs,rtp=12000"},
      {3, "object", "br=3200,d=4004,ot=v,tb=6000"},
      {4, "session",
       "cid=\"faec5fc2-ac30-11ea-bb37-0242ac130002\","
       "pr=1.08,sf=d,sid=\"6e2fb550-c457-11e9-bb97-"
       "0800200c9a66\",st=v,v=2"},
      {5, "query",
       "/video/seg-1.m4s?x=1&CMCD=bl%3D21300%2Cbr%3D3200%2Cbs%2C"
       "ot%3Dv%2Csid%3D%22a%20b%22%2Csu&y=2#f"},
      {0, "custom-and-bad",
       "com.example-x=\"y\",br=\"3200\",bl=-1,ot=zz,"
       "bs=?0,pr=2,br=(1 2);p=1,zz"},
      {0, "malformed", "br=3200,,d=1, sid=\"open"},
      {5, "bad-escape", "/a?CMCD=br%3"},
  };
  for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
    emit("cmcd", s[i].name, s[i].ctl, (const uint8_t *)s[i].text,
         strlen(s[i].text));
}

static void seeds_cmsd(void) {
  static const text_seed s[] = {
      {"one", "\"scone\";mb=4020"},
      {"two-servers", "\"CDNA\";etp=125;rtt=10;mb=8000, \"CDNB\";du;etp=1000;"
                      "rd=4;rtt=40;mb=5000"},
      {"tokens-and-junk", "cdn1;mb=\"x\";zz=1;du=?0, 12;mb=7, (\"a\" \"b\");"
                          "mb=9, :aGVsbG8=:;mb=1"},
      {"malformed", "\"a\";mb=, \"b\""},
      {"empty", ""},
  };
  emit_texts("cmsd", s, sizeof s / sizeof s[0]);
}

/* Fields one per line: method, target, Range, then CMCD-Request, -Object,
 * -Status, -Session. */
static void seeds_http_request(void) {
  static const text_seed s[] = {
      {"segment", "GET\n/chunk-stream4-00007.m4s\nbytes=0-99\n"
                  "bl=21300,mtp=4900\nbr=1050,d=2000,ot=v\nrtp=1300\n"
                  "sf=d,sid=\"6e2f\",st=v"},
      {"query", "GET\n/bytes/5000?CMCD=br%3D750%2Cot%3Dv%2Crtp%3D900\n"
                "bytes=-10"},
      {"head-range-past-end", "HEAD\n/bytes/10\nbytes=10-"},
      {"traversal", "GET\n/sub/..%2f..%2Fsecret\n"},
      {"nul", "GET\n/a%00b\n"},
      {"options", "OPTIONS\n*\n"},
      {"junk-cmcd", "GET\n/bytes/1\nitems=0-1\nrtp==\n\"x\n,\nbs=?2"},
      {"huge-rtp", "GET\n/bytes/100\n\n\n\nrtp=999999999999999"},
  };
  emit_texts("http_request", s, sizeof s / sizeof s[0]);
}

#define MPD_OPEN                                                               \
  "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<MPD "                          \
  "xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"static\" "
#define REP(id, bw)                                                            \
  "<Representation id=\"" id "\" mimeType=\"video/mp4\" codecs=\"avc1\" "      \
  "bandwidth=\"" bw "\" width=\"640\" height=\"360\"/>"

static void seeds_mpd(void) {
  static const text_seed s[] = {
      /* scone-content's shape, as ffmpeg writes it. */
      {"scone-content",
       MPD_OPEN "profiles=\"urn:mpeg:dash:profile:isoff-live:2011\" "
                "mediaPresentationDuration=\"PT120.0S\" maxSegmentDuration="
                "\"PT2.0S\" minBufferTime=\"PT4.0S\">\n"
                "<ProgramInformation>\n</ProgramInformation>\n"
                "<Period id=\"0\" start=\"PT0.0S\">\n"
                "<AdaptationSet id=\"0\" contentType=\"video\" "
                "startWithSAP=\"1\" segmentAlignment=\"true\" "
                "frameRate=\"24/1\" maxWidth=\"1920\" maxHeight=\"1080\" "
                "par=\"16:9\">\n"
                "<Representation id=\"0\" mimeType=\"video/mp4\" "
                "codecs=\"avc1.4d400c\" bandwidth=\"235000\" width=\"320\" "
                "height=\"180\" sar=\"1:1\">\n"
                "<SegmentTemplate timescale=\"1000000\" duration=\"2000000\" "
                "initialization=\"init-stream$RepresentationID$.m4s\" "
                "media=\"chunk-stream$RepresentationID$-$Number%05d$.m4s\" "
                "startNumber=\"1\">\n</SegmentTemplate>\n</Representation>\n"
                "<Representation id=\"9\" mimeType=\"video/mp4\" "
                "codecs=\"avc1.4d4028\" bandwidth=\"5800000\" width=\"1920\" "
                "height=\"1080\" sar=\"1:1\">\n"
                "<SegmentTemplate timescale=\"1000000\" duration=\"2000000\" "
                "initialization=\"init-stream$RepresentationID$.m4s\" "
                "media=\"chunk-stream$RepresentationID$-$Number%05d$.m4s\" "
                "startNumber=\"1\">\n</SegmentTemplate>\n</Representation>\n"
                "</AdaptationSet>\n"
                "<AdaptationSet id=\"1\" contentType=\"audio\">\n"
                "<Representation id=\"10\" mimeType=\"audio/mp4\" "
                "codecs=\"mp4a.40.2\" bandwidth=\"128000\">\n"
                "<SegmentTemplate timescale=\"1000000\" duration=\"2000000\" "
                "initialization=\"init-stream$RepresentationID$.m4s\" "
                "media=\"chunk-stream$RepresentationID$-$Number%05d$.m4s\" "
                "startNumber=\"1\"/>\n</Representation>\n</AdaptationSet>\n"
                "</Period>\n</MPD>\n"},
      /* Timelines, BaseURL chains, inherited templates, two periods. */
      {"features", MPD_OPEN
       "mediaPresentationDuration=\"PT1M0.5S\">"
       "<BaseURL>https://cdn.example/v1/</BaseURL>"
       "<Period id=\"p0\" duration=\"PT20S\"><BaseURL>p0/</BaseURL>"
       "<SegmentTemplate timescale=\"1000\" duration=\"4000\" "
       "media=\"$RepresentationID$/$Number%03d$-$Bandwidth$.mp4\" "
       "initialization=\"$RepresentationID$/init.mp4\" "
       "startNumber=\"5\"/>"
       "<AdaptationSet mimeType=\"video/mp4\"><BaseURL>../v/</BaseURL>" REP(
           "hi", "3000000")
           REP("lo",
               "500000") "</AdaptationSet></Period>"
                         "<Period><AdaptationSet contentType=\"audio\">"
                         "<SegmentTemplate timescale=\"48000\" "
                         "media=\"a/$Time$$$.m4a\">"
                         "<SegmentTimeline><S t=\"96000\" d=\"96000\" r=\"2\"/>"
                         "<S d=\"48000\"/><S t=\"480000\" d=\"96000\" "
                         "r=\"-1\"/>"
                         "</SegmentTimeline></SegmentTemplate>"
                         "<Representation id=\"a1\" bandwidth=\"64000\"/>"
                         "</AdaptationSet></Period></MPD>"},
      {"huge-numbers",
       MPD_OPEN "mediaPresentationDuration=\"P29DT23H59M59.999999999S\">"
                "<Period><AdaptationSet mimeType=\"video/mp4\">"
                "<SegmentTemplate media=\"$Number%032d$\" timescale="
                "\"1099511627776\" duration=\"9007199254740992\" startNumber="
                "\"9007199254740992\"/>" REP(
                    "a", "1000000000000") "</AdaptationSet></Period></MPD>"},
      {"many-segments",
       MPD_OPEN "mediaPresentationDuration=\"P20D\"><Period>"
                "<AdaptationSet mimeType=\"video/mp4\"><SegmentTemplate "
                "media=\"$Number$\" timescale=\"1000\" duration=\"1\"/>" REP(
                    "a", "1") "</AdaptationSet></Period></MPD>"},
      {"billion-laughs",
       "<?xml version=\"1.0\"?><!DOCTYPE MPD [<!ENTITY a \"aaaaaaaaaa\">"
       "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>"
       "<MPD mediaPresentationDuration=\"&b;\"/>"},
      {"dynamic", MPD_OPEN "type=\"dynamic\"/>"},
      {"not-xml", "<MPD><Period>"},
  };
  emit_texts("mpd", s, sizeof s / sizeof s[0]);
}

/* ------------------------------------------------------ lab targets */

/* Mahimahi traces: a cellular-like stretch (bursts, gaps, repeats), the
 * smallest ones, and refusals. */
static void seeds_lab_trace(void) {
  static char text[8192];
  size_t n = 0;
  unsigned ms = 0;
  for (int i = 0; i < 600 && n + 16 < sizeof text; i++) {
    ms += rnd8() % 4 == 0 ? rnd8() % 9 : 0;
    n += (size_t)snprintf(text + n, sizeof text - n, "%u\n", ms);
  }
  n += (size_t)snprintf(text + n, sizeof text - n, "%u\n", ms + 1);
  emit_raw("lab_trace", "cellular", (const uint8_t *)text, n);
  static const text_seed t[] = {
      {"one-per-ms", "1\n"},
      {"repeats", "0\n3\n3\n3\n10\n"},
      {"crlf-no-final-newline", "0\r\n5\r\n5\r\n9"},
      {"bad-empty-line", "1\n\n2\n"},
      {"bad-decreasing", "5\n4\n"},
      {"bad-zero-period", "0\n0\n"},
      {"bad-space", "1 \n"},
      {"bad-overflow", "1\n99999999999\n"},
      {"empty", ""},
  };
  emit_texts("lab_trace", t, sizeof t / sizeof t[0]);
}

/* ------------------------------------------------------------ GTP-U */

/* A GTP-U message (TS 29.281): optional sequence number (seq >= 0) and
 * PDU session container (qfi >= 0), then body. */
static size_t gtpu_msg(uint8_t *m, uint8_t type, uint32_t teid, int seq,
                       int qfi, int uplink, const uint8_t *body, size_t n) {
  size_t o = 8;
  m[0] = 0x30;
  m[1] = type;
  put32(m + 4, teid);
  if (seq >= 0 || qfi >= 0) {
    m[0] |= (uint8_t)((seq >= 0 ? 2 : 0) | (qfi >= 0 ? 4 : 0));
    put16(m + 8, (uint16_t)(seq >= 0 ? seq : 0));
    m[10] = 0;
    m[11] = qfi >= 0 ? 0x85 : 0;
    o = 12;
  }
  if (qfi >= 0) {
    m[o] = 1;
    m[o + 1] = uplink ? 0x10 : 0x00;
    m[o + 2] = (uint8_t)qfi;
    m[o + 3] = 0;
    o += 4;
  }
  if (n)
    memcpy(m + o, body, n);
  put16(m + 2, (uint16_t)(o - 8 + n));
  return o + n;
}

/* One record of the GTP-U target: [ctl][len][message]. */
static void gtpu_rec(seq *q, uint8_t ctl, const uint8_t *m, size_t n) {
  if (n > 255 || q->n + 2 + n > sizeof(q->b))
    abort();
  q->b[q->n++] = ctl;
  q->b[q->n++] = (uint8_t)n;
  memcpy(q->b + q->n, m, n);
  q->n += n;
}

/* A QUIC flow inside a tunnel: the Initial uplink, then downlink 1-RTT
 * datagrams with a SCONE packet every third; the downlink TEID changes
 * at move (0: never). ctl_outer: bits 0 and 2 of the records' ctl. */
static void gtpu_flow(seq *q, uint8_t ctl_outer, int is6, int seqno, int qfi,
                      int npkts, int move) {
  const uint8_t *cli = is6 ? c6 : c4a, *srv = is6 ? s6 : s4;
  uint8_t pl[160], m[256];
  ippkt k;
  size_t n = initial(pl, 1, 8, 8, 100);
  pl[n++] = 0xc8;
  pl[n++] = 0x13;
  flow_pkt(&k, is6, cli, srv, 50000, 443, pl, n);
  gtpu_rec(q, ctl_outer, m, gtpu_msg(m, 255, 0x100, seqno, qfi, 1, k.b, k.len));
  uint32_t teid = 0x200;
  for (int i = 1; i < npkts; i++) {
    if (i == move)
      teid++;
    size_t len = 120;
    if (i % 3 == 1)
      dgram(pl, len, i % 6 == 1 ? 127 : 60, 8);
    else
      short_pkt(pl, len);
    flow_pkt(&k, is6, srv, cli, 443, 50000, pl, len);
    uint8_t ctl = (uint8_t)(ctl_outer | 2 | (i % 5 == 0 ? 0x10 : 0));
    gtpu_rec(q, ctl, m,
             gtpu_msg(m, 255, teid, seqno >= 0 ? seqno + i : -1, qfi, 0, k.b,
                      k.len));
  }
}

static void seeds_sconed_gtpu(void) {
  static const struct {
    const char *name;
    uint8_t outer;
    int is6, seq, qfi, move;
  } flows[] = {
      {"v4-in-v4", 0, 0, -1, -1, 0},
      {"v6-in-v4-seq", 0, 1, 7, -1, 0},
      {"v4-in-v6-qfi", 1, 0, -1, 9, 0},
      {"v6-in-v6-seq-qfi", 1, 1, 100, 5, 0},
      {"v4-in-v4-zero-csum", 4, 0, -1, 9, 0},
      {"v6-in-v4-teid-move", 0, 1, 1, 9, 7},
  };
  for (size_t i = 0; i < sizeof(flows) / sizeof(flows[0]); i++) {
    seq q = {.n = 0};
    gtpu_flow(&q, flows[i].outer, flows[i].is6, flows[i].seq, flows[i].qfi, 14,
              flows[i].move);
    emit_raw("sconed_gtpu", flows[i].name, q.b, q.n);
  }
  /* What passes untouched: echo, end marker, an unknown type, broken
   * headers, a cut inner packet, inner TCP. */
  seq q = {.n = 0};
  uint8_t m[256], pl[64];
  static const uint8_t recovery[2] = {14, 0};
  gtpu_rec(&q, 0, m, gtpu_msg(m, 1, 0, 1, -1, 1, recovery, 2));
  gtpu_rec(&q, 3, m, gtpu_msg(m, 2, 0, 1, -1, 0, recovery, 2));
  gtpu_rec(&q, 2, m, gtpu_msg(m, 254, 0x200, -1, -1, 0, NULL, 0));
  ippkt k;
  fill(pl, sizeof pl);
  flow_pkt(&k, 0, s4, c4a, 443, 50000, pl, sizeof pl);
  gtpu_rec(&q, 2, m, gtpu_msg(m, 200, 0x200, -1, -1, 0, k.b, k.len));
  size_t n = gtpu_msg(m, 255, 0x200, -1, 9, 0, k.b, k.len);
  m[12] = 0; /* an extension header of length 0 */
  gtpu_rec(&q, 2, m, n);
  n = gtpu_msg(m, 255, 0x200, -1, -1, 0, k.b, k.len);
  gtpu_rec(&q, 2, m, n - 10); /* the GTP length runs past the datagram */
  n = gtpu_msg(m, 255, 0x200, -1, -1, 0, k.b, 30); /* inner cut short */
  gtpu_rec(&q, 3, m, n);
  v4(&k, NULL, 0, 6, 0, pl, sizeof pl);
  gtpu_rec(&q, 2, m, gtpu_msg(m, 255, 0x200, -1, -1, 0, k.b, k.len));
  emit_raw("sconed_gtpu", "passed-untouched", q.b, q.n);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s CORPUS_ROOT\n", argv[0]);
    return 2;
  }
  root = argv[1];
  seeds_packet();
  seeds_quic_hdr();
  seeds_tp();
  seeds_ipudp();
  seeds_link();
  seeds_sconed_config();
  seeds_sconed_packet();
  seeds_sconed_gtpu();
  seeds_cmcd();
  seeds_cmsd();
  seeds_mpd();
  seeds_lab_trace();
  seeds_http_request();
  return 0;
}
