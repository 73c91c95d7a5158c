#include "pktgen.h"

#include <string.h>

void pg_flow_make(pg_flow *f, int v6, uint32_t client_id, uint16_t cport) {
  memset(f, 0, sizeof(*f));
  f->v6 = v6;
  if (!v6) {
    uint8_t c[4] = {10, (uint8_t)(client_id >> 16), (uint8_t)(client_id >> 8),
                    (uint8_t)client_id};
    uint8_t s[4] = {192, 0, 2, 1};
    memcpy(f->cli, c, 4);
    memcpy(f->srv, s, 4);
  } else {
    static const uint8_t c[16] = {0x20, 0x01, 0x0d, 0xb8};
    static const uint8_t s[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, [15] = 1};
    memcpy(f->cli, c, 16);
    f->cli[12] = (uint8_t)(client_id >> 24);
    f->cli[13] = (uint8_t)(client_id >> 16);
    f->cli[14] = (uint8_t)(client_id >> 8);
    f->cli[15] = (uint8_t)client_id;
    memcpy(f->srv, s, 16);
  }
  f->cport = cport;
  f->sport = 443;
}

static void put16(uint8_t *p, unsigned v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

size_t pg_ip(uint8_t *buf, size_t cap, const pg_flow *f, int to_server,
             const uint8_t *payload, size_t plen, int csum) {
  size_t iph = f->v6 ? 40 : 20, alen = f->v6 ? 16 : 4;
  size_t total = iph + 8 + plen;
  if (total > cap)
    return 0;
  const uint8_t *src = to_server ? f->cli : f->srv;
  const uint8_t *dst = to_server ? f->srv : f->cli;
  uint16_t sp = to_server ? f->cport : f->sport;
  uint16_t dp = to_server ? f->sport : f->cport;
  memset(buf, 0, iph + 8);
  if (!f->v6) {
    buf[0] = 0x45;
    put16(buf + 2, (unsigned)total);
    buf[8] = 64;
    buf[9] = 17;
    memcpy(buf + 12, src, 4);
    memcpy(buf + 16, dst, 4);
    uint32_t s = 0;
    for (int i = 0; i < 20; i += 2)
      s += ((uint32_t)buf[i] << 8) | buf[i + 1];
    while (s >> 16)
      s = (s & 0xffff) + (s >> 16);
    put16(buf + 10, ~s & 0xffff);
  } else {
    buf[0] = 0x60;
    put16(buf + 4, (unsigned)(8 + plen));
    buf[6] = 17;
    buf[7] = 64;
    memcpy(buf + 8, src, 16);
    memcpy(buf + 24, dst, 16);
  }
  uint8_t *u = buf + iph;
  put16(u, sp);
  put16(u + 2, dp);
  put16(u + 4, (unsigned)(8 + plen));
  memcpy(u + 8, payload, plen);
  if (csum)
    put16(u + 6, scone_udp_csum_compute(src, dst, alen, u, 8 + plen));
  return total;
}

static void fill(uint8_t *p, size_t len, uint8_t seed) {
  for (size_t i = 0; i < len; i++)
    p[i] = (uint8_t)(seed + i * 37);
}

size_t pg_initial(uint8_t *p, size_t len, int announce) {
  static const uint8_t dcid[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  fill(p, len, 3);
  p[0] = 0xc3; /* long header, fixed bit, Initial */
  p[1] = 0;
  p[2] = 0;
  p[3] = 0;
  p[4] = 1; /* version 1 */
  p[5] = 8;
  memcpy(p + 6, dcid, 8);
  p[14] = 0; /* no SCID */
  if (announce) {
    p[len - 2] = SCONE_INDICATION_BYTE0;
    p[len - 1] = SCONE_INDICATION_BYTE1;
  } else if (p[len - 2] == SCONE_INDICATION_BYTE0 &&
             p[len - 1] == SCONE_INDICATION_BYTE1) {
    p[len - 1] = 0;
  }
  return len;
}

size_t pg_short(uint8_t *p, size_t len) {
  fill(p, len, 9);
  p[0] = 0x41;
  return len;
}

size_t pg_scone(uint8_t *p, size_t len, unsigned signal) {
  scone_ssize n = scone_packet_build(p, len, signal, NULL, 0, NULL, 0, 0);
  if (n < 0)
    return 0;
  pg_short(p + n, len - (size_t)n);
  return len;
}

size_t pg_scone_lookalike(uint8_t *p, size_t len) {
  static const uint8_t dcid[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  fill(p, len, 5);
  scone_ssize n =
      scone_packet_build(p, len, SCONE_SIGNAL_UNKNOWN, dcid, 8, NULL, 0, 0);
  if (n < 0)
    return 0;
  p[n] = 0x41;         /* a short header's first byte */
  p[n + 1] = ~dcid[0]; /* but not the DCID */
  return len;
}

int pg_csum_ok(const uint8_t *ip, size_t len) {
  scone_ipudp v;
  if (scone_ipudp_parse(&v, ip, len) != 0)
    return 0;
  const uint8_t *u = ip + v.udp_off;
  uint16_t have = (uint16_t)((u[6] << 8) | u[7]);
  if (have == 0 && v.ip_version == 4)
    return 1;
  uint8_t tmp[2048];
  size_t ulen = 8 + v.payload_len;
  if (ulen > sizeof(tmp))
    return 0;
  memcpy(tmp, u, ulen);
  return scone_udp_csum_compute(v.src, v.dst, v.ip_version == 6 ? 16 : 4, tmp,
                                ulen) == have;
}

int pg_signal(const uint8_t *ip, size_t len) {
  scone_ipudp v;
  if (scone_ipudp_parse(&v, ip, len) != 0 || v.payload_len < 5 ||
      !scone_packet_is_scone(ip + v.payload_off, v.payload_len))
    return -1;
  return (int)scone_packet_signal(ip + v.payload_off);
}

void pg_tunnel_make(pg_tunnel *t, int outer_v6, uint32_t teid) {
  memset(t, 0, sizeof(*t));
  t->outer.v6 = outer_v6;
  if (outer_v6) {
    static const uint8_t p6[4] = {0xfd, 0x00, 0x00, 0x06};
    memcpy(t->outer.cli, p6, sizeof(p6));
    memcpy(t->outer.srv, p6, sizeof(p6));
    t->outer.cli[15] = 0x10;
    t->outer.srv[15] = 0x20;
  } else {
    memcpy(t->outer.cli, (uint8_t[]){192, 0, 2, 10}, 4);
    memcpy(t->outer.srv, (uint8_t[]){192, 0, 2, 20}, 4);
  }
  t->outer.cport = t->outer.sport = 2152;
  t->teid = teid;
  t->seq = t->qfi = -1;
  t->csum = 1;
}

size_t pg_gtpu_msg(uint8_t *buf, size_t cap, const pg_tunnel *t, int uplink,
                   uint8_t type, const uint8_t *body, size_t blen,
                   size_t *body_off) {
  uint8_t g[1600];
  size_t n = 8;
  g[0] = 0x30; /* version 1, PT 1 */
  g[1] = type;
  g[4] = (uint8_t)(t->teid >> 24);
  g[5] = (uint8_t)(t->teid >> 16);
  g[6] = (uint8_t)(t->teid >> 8);
  g[7] = (uint8_t)t->teid;
  if (t->seq >= 0 || t->qfi >= 0) {
    g[0] |= (uint8_t)((t->seq >= 0 ? 2 : 0) | (t->qfi >= 0 ? 4 : 0));
    put16(g + 8, t->seq >= 0 ? (unsigned)t->seq : 0);
    g[10] = 0;
    g[11] = t->qfi >= 0 ? 0x85 : 0;
    n = 12;
  }
  if (t->qfi >= 0) {
    /* One 4-byte PDU session container: UL PDU type 1, DL type 0. */
    g[n] = 1;
    g[n + 1] = uplink ? 0x10 : 0x00;
    g[n + 2] = (uint8_t)(t->qfi & 0x3f);
    g[n + 3] = 0;
    n += 4;
  }
  if (n + blen > sizeof(g))
    return 0;
  put16(g + 2, (unsigned)(n - 8 + blen));
  if (blen)
    memcpy(g + n, body, blen);
  size_t len = pg_ip(buf, cap, &t->outer, uplink, g, n + blen, t->csum);
  if (body_off)
    *body_off = (t->outer.v6 ? 40 : 20) + 8 + n;
  return len;
}

size_t pg_gtpu(uint8_t *buf, size_t cap, const pg_tunnel *t, int uplink,
               const uint8_t *inner, size_t ilen, size_t *inner_off) {
  return pg_gtpu_msg(buf, cap, t, uplink, 255, inner, ilen, inner_off);
}
