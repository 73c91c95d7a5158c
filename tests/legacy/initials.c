/*
 * Real QUIC Initials (initials.h). The client runs against a socket that
 * only listens: its first flight is what a middlebox sees of any
 * connection it makes.
 */
#include "initials.h"

#include <scone/quic.h>
#include <scone/scone.h>

#include <arpa/inet.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int initials_capture(const char *sni, uint8_t *out, size_t cap) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0)
    return -1;
  struct sockaddr_in sa = {.sin_family = AF_INET,
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t sl = sizeof(sa);
  if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
      getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
    close(fd);
    return -1;
  }
  char port[8];
  snprintf(port, sizeof(port), "%u", ntohs(sa.sin_port));
  scone_quic_client_config cfg;
  scone_quic_client_config_default(&cfg);
  cfg.host = "127.0.0.1";
  cfg.port = port;
  cfg.sni = sni;
  cfg.insecure = 1;
  scone_quic_client *cl = NULL;
  int n = -1;
  if (scone_quic_client_new(&cl, &cfg, NULL, NULL, NULL) == 0 &&
      scone_quic_client_get(cl, "/") == 0) {
    scone_tstamp end = scone_quic_now() + SCONE_SECONDS;
    while (n < 0 && scone_quic_now() < end) {
      scone_quic_client_process(cl, scone_quic_now());
      struct pollfd p = {.fd = fd, .events = POLLIN};
      if (poll(&p, 1, 20) == 1) {
        ssize_t r = recv(fd, out, cap, 0);
        if (r > 0)
          n = (int)r;
      }
    }
  }
  if (cl)
    scone_quic_client_del(cl);
  close(fd);
  return n;
}

/* ------------------------------------------- RFC 9001 5.2 initial keys */

static const uint8_t SALT_V1[20] = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34,
                                    0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8,
                                    0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};

typedef struct keys {
  uint8_t key[16], iv[12], hp[16];
} keys;

static int expand(const uint8_t *secret, const char *label, uint8_t *out,
                  size_t len) {
  uint8_t info[64];
  size_t ll = 6 + strlen(label), n = 0;
  info[n++] = (uint8_t)(len >> 8);
  info[n++] = (uint8_t)len;
  info[n++] = (uint8_t)ll;
  memcpy(info + n, "tls13 ", 6);
  memcpy(info + n + 6, label, ll - 6);
  n += ll;
  info[n++] = 0;
  gnutls_datum_t prk = {(unsigned char *)secret, 32};
  gnutls_datum_t inf = {info, (unsigned)n};
  return gnutls_hkdf_expand(GNUTLS_MAC_SHA256, &prk, &inf, out, len);
}

static int client_keys(const uint8_t *dcid, size_t dcidlen, keys *k) {
  uint8_t initial[32], secret[32];
  gnutls_datum_t ikm = {(unsigned char *)dcid, (unsigned)dcidlen};
  gnutls_datum_t salt = {(unsigned char *)SALT_V1, sizeof(SALT_V1)};
  if (gnutls_hkdf_extract(GNUTLS_MAC_SHA256, &ikm, &salt, initial) ||
      expand(initial, "client in", secret, 32) ||
      expand(secret, "quic key", k->key, 16) ||
      expand(secret, "quic iv", k->iv, 12) ||
      expand(secret, "quic hp", k->hp, 16))
    return -1;
  return 0;
}

static int aes_block(const uint8_t key[16], const uint8_t in[16],
                     uint8_t out[16]) {
  uint8_t zero[16] = {0};
  gnutls_datum_t k = {(unsigned char *)key, 16}, iv = {zero, 16};
  gnutls_cipher_hd_t h;
  if (gnutls_cipher_init(&h, GNUTLS_CIPHER_AES_128_CBC, &k, &iv))
    return -1;
  int rv = gnutls_cipher_encrypt2(h, in, 16, out, 16);
  gnutls_cipher_deinit(h);
  return rv;
}

static void nonce_of(const keys *k, uint64_t pn, uint8_t nonce[12]) {
  memcpy(nonce, k->iv, 12);
  for (size_t i = 0; i < 8; i++)
    nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
}

/* Where a v1 client Initial's parts are. */
typedef struct layout {
  size_t dcid_off, dcidlen, scid_off, scidlen, len_off, pn_off;
  uint64_t pktlen;
} layout;

static int parse_initial(const uint8_t *dg, size_t len, layout *o) {
  if (len < 7 || (dg[0] & 0xf0) != 0xc0 || dg[1] || dg[2] || dg[3] ||
      dg[4] != 1)
    return -1;
  size_t off = 5;
  o->dcidlen = dg[off++];
  o->dcid_off = off;
  off += o->dcidlen;
  if (off >= len)
    return -1;
  o->scidlen = dg[off++];
  o->scid_off = off;
  off += o->scidlen;
  uint64_t tok;
  scone_ssize n;
  if (off > len || (n = scone_varint_get(&tok, dg + off, len - off)) < 0 ||
      tok != 0)
    return -1;
  off += (size_t)n;
  o->len_off = off;
  if ((n = scone_varint_get(&o->pktlen, dg + off, len - off)) < 0)
    return -1;
  off += (size_t)n;
  o->pn_off = off;
  return off + o->pktlen <= len && o->pktlen >= 20 ? 0 : -1;
}

/* The CRYPTO stream of the decrypted first Initial of dg; its length. */
static int hello_of(const uint8_t *dg, size_t len, const layout *o,
                    const keys *k, uint8_t *out, size_t cap) {
  uint8_t hdr[128], pt[INITIALS_MAX];
  if (o->pn_off + 4 > sizeof(hdr) || o->pn_off + o->pktlen > len)
    return -1;
  uint8_t mask[16];
  if (aes_block(k->hp, dg + o->pn_off + 4, mask))
    return -1;
  memcpy(hdr, dg, o->pn_off + 4);
  hdr[0] ^= mask[0] & 0x0f;
  size_t pnlen = (hdr[0] & 3) + 1;
  uint64_t pn = 0;
  for (size_t i = 0; i < pnlen; i++) {
    hdr[o->pn_off + i] ^= mask[1 + i];
    pn = pn << 8 | hdr[o->pn_off + i];
  }
  size_t hl = o->pn_off + pnlen, ptlen = sizeof(pt);
  uint8_t nonce[12];
  nonce_of(k, pn, nonce);
  gnutls_aead_cipher_hd_t h;
  gnutls_datum_t key = {(unsigned char *)k->key, 16};
  if (gnutls_aead_cipher_init(&h, GNUTLS_CIPHER_AES_128_GCM, &key))
    return -1;
  int rv = gnutls_aead_cipher_decrypt(h, nonce, 12, hdr, hl, 16, dg + hl,
                                      (size_t)o->pktlen - pnlen, pt, &ptlen);
  gnutls_aead_cipher_deinit(h);
  if (rv)
    return -1;
  size_t off = 0, got = 0;
  while (off < ptlen) {
    uint8_t type = pt[off++];
    if (type == 0x00 || type == 0x01)
      continue;
    uint64_t at, n;
    scone_ssize a, b;
    if (type != 0x06 ||
        (a = scone_varint_get(&at, pt + off, ptlen - off)) < 0 ||
        (b = scone_varint_get(&n, pt + off + a, ptlen - off - (size_t)a)) < 0)
      return -1;
    off += (size_t)(a + b);
    if (off + n > ptlen || at + n > cap)
      return -1;
    memcpy(out + at, pt + off, n);
    if (at + n > got)
      got = (size_t)(at + n);
    off += n;
  }
  return (int)got;
}

/* One protected Initial in a 1200-byte datagram: CRYPTO(at, data), then
 * PADDING. */
static int build(const uint8_t *dg, const layout *o, const keys *k, uint64_t pn,
                 size_t at, const uint8_t *data, size_t n, uint8_t *out,
                 size_t *outlen) {
  const size_t total = 1200, pnlen = 4;
  size_t hl = o->len_off + 2 + pnlen; /* the Length as a 2-byte varint */
  memcpy(out, dg, o->len_off);
  out[0] = (uint8_t)((dg[0] & 0xf0) | (pnlen - 1));
  size_t pktlen = total - o->len_off - 2;
  out[o->len_off] = (uint8_t)(0x40 | pktlen >> 8);
  out[o->len_off + 1] = (uint8_t)pktlen;
  for (size_t i = 0; i < pnlen; i++)
    out[o->len_off + 2 + i] = (uint8_t)(pn >> (8 * (pnlen - 1 - i)));
  uint8_t pt[INITIALS_MAX] = {0};
  size_t ptlen = pktlen - pnlen - 16, off = 0;
  pt[off++] = 0x06;
  off += (size_t)scone_varint_put(pt + off, 8, at);
  off += (size_t)scone_varint_put(pt + off, 8, n);
  if (off + n > ptlen)
    return -1;
  memcpy(pt + off, data, n);
  uint8_t nonce[12];
  nonce_of(k, pn, nonce);
  gnutls_aead_cipher_hd_t h;
  gnutls_datum_t key = {(unsigned char *)k->key, 16};
  if (gnutls_aead_cipher_init(&h, GNUTLS_CIPHER_AES_128_GCM, &key))
    return -1;
  size_t ctlen = total - hl;
  int rv = gnutls_aead_cipher_encrypt(h, nonce, 12, out, hl, 16, pt, ptlen,
                                      out + hl, &ctlen);
  gnutls_aead_cipher_deinit(h);
  if (rv)
    return -1;
  uint8_t mask[16];
  if (aes_block(k->hp, out + o->len_off + 2 + 4, mask))
    return -1;
  out[0] ^= mask[0] & 0x0f;
  for (size_t i = 0; i < pnlen; i++)
    out[o->len_off + 2 + i] ^= mask[1 + i];
  *outlen = total;
  return 0;
}

int initials_split(const uint8_t *dg, size_t len, size_t at, uint8_t *a,
                   size_t *alen, uint8_t *b, size_t *blen) {
  layout o;
  keys k;
  uint8_t hello[INITIALS_MAX];
  int n;
  if (parse_initial(dg, len, &o) ||
      client_keys(dg + o.dcid_off, o.dcidlen, &k) ||
      (n = hello_of(dg, len, &o, &k, hello, sizeof(hello))) < 0 || at == 0 ||
      at >= (size_t)n)
    return -1;
  if (build(dg, &o, &k, 0, 0, hello, at, a, alen) ||
      build(dg, &o, &k, 1, at, hello + at, (size_t)n - at, b, blen))
    return -1;
  return 0;
}

size_t initials_ip4(uint8_t *out, uint32_t src, uint16_t sport, uint32_t dst,
                    uint16_t dport, const uint8_t *payload, size_t len) {
  size_t tot = 28 + len;
  memset(out, 0, 28);
  out[0] = 0x45;
  out[2] = (uint8_t)(tot >> 8);
  out[3] = (uint8_t)tot;
  out[6] = 0x40; /* DF */
  out[8] = 64;
  out[9] = 17;
  for (int i = 0; i < 4; i++) {
    out[12 + i] = (uint8_t)(src >> (24 - 8 * i));
    out[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
  }
  uint32_t s = 0;
  for (int i = 0; i < 20; i += 2)
    s += (uint32_t)out[i] << 8 | out[i + 1];
  while (s >> 16)
    s = (s & 0xffff) + (s >> 16);
  out[10] = (uint8_t)(~s >> 8);
  out[11] = (uint8_t)~s;
  uint8_t *u = out + 20;
  u[0] = (uint8_t)(sport >> 8);
  u[1] = (uint8_t)sport;
  u[2] = (uint8_t)(dport >> 8);
  u[3] = (uint8_t)dport;
  u[4] = (uint8_t)((len + 8) >> 8);
  u[5] = (uint8_t)(len + 8);
  memcpy(u + 8, payload, len);
  uint16_t c = scone_udp_csum_compute(out + 12, out + 16, 4, u, len + 8);
  u[6] = (uint8_t)(c >> 8);
  u[7] = (uint8_t)c;
  return tot;
}
