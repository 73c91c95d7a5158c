/*
 * The ClientHello we really send, read off the wire: the forwarder takes
 * the client's first datagram, removes the Initial packet's header
 * protection and decrypts it with the RFC 9001 section 5.2 initial keys
 * (HKDF, AES-128-GCM and AES from GnuTLS, not ngtcp2, so the check does not
 * rest on the stack it checks), and reads the ClientHello from its CRYPTO
 * frames. RFC 9001 section 8.4: the legacy_session_id must be empty (no TLS
 * 1.3 middlebox compatibility mode), and a server should close a connection
 * whose ClientHello has one with PROTOCOL_VIOLATION.
 */
#include "harness.h"
#include "test_hooks.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <string.h>

#define T_GET (10 * SCONE_SECONDS)
#define PROTOCOL_VIOLATION 0x0a

/* ------------------------------------------------- RFC 9001 initial keys */

static const uint8_t INITIAL_SALT_V1[20] = {
    0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
    0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};

typedef struct initial_keys {
  uint8_t secret[32], key[16], iv[12], hp[16];
} initial_keys;

/* HKDF-Expand-Label(secret, label, "", len) of TLS 1.3 (RFC 8446 7.1). */
static void expand_label(const uint8_t *secret, size_t secretlen,
                         const char *label, uint8_t *out, size_t len) {
  uint8_t info[64];
  size_t ll = strlen("tls13 ") + strlen(label), n = 0;
  info[n++] = (uint8_t)(len >> 8);
  info[n++] = (uint8_t)len;
  info[n++] = (uint8_t)ll;
  memcpy(info + n, "tls13 ", 6);
  memcpy(info + n + 6, label, ll - 6);
  n += ll;
  info[n++] = 0; /* empty context */
  gnutls_datum_t prk = {(unsigned char *)secret, (unsigned)secretlen};
  gnutls_datum_t inf = {info, (unsigned)n};
  assert_int_equal(gnutls_hkdf_expand(GNUTLS_MAC_SHA256, &prk, &inf, out, len),
                   0);
}

/* The client's Initial keys for the DCID of its first Initial. */
static void client_initial_keys(const uint8_t *dcid, size_t dcidlen,
                                initial_keys *k) {
  uint8_t initial[32];
  gnutls_datum_t ikm = {(unsigned char *)dcid, (unsigned)dcidlen};
  gnutls_datum_t salt = {(unsigned char *)INITIAL_SALT_V1,
                         sizeof(INITIAL_SALT_V1)};
  assert_int_equal(gnutls_hkdf_extract(GNUTLS_MAC_SHA256, &ikm, &salt, initial),
                   0);
  expand_label(initial, sizeof(initial), "client in", k->secret,
               sizeof(k->secret));
  expand_label(k->secret, sizeof(k->secret), "quic key", k->key,
               sizeof(k->key));
  expand_label(k->secret, sizeof(k->secret), "quic iv", k->iv, sizeof(k->iv));
  expand_label(k->secret, sizeof(k->secret), "quic hp", k->hp, sizeof(k->hp));
}

/* AES-128 of one block: CBC with a zero IV is ECB for one block. */
static void aes_block(const uint8_t key[16], const uint8_t in[16],
                      uint8_t out[16]) {
  uint8_t zero[16] = {0};
  gnutls_datum_t k = {(unsigned char *)key, 16}, iv = {zero, 16};
  gnutls_cipher_hd_t h;
  assert_int_equal(gnutls_cipher_init(&h, GNUTLS_CIPHER_AES_128_CBC, &k, &iv),
                   0);
  assert_int_equal(gnutls_cipher_encrypt2(h, in, 16, out, 16), 0);
  gnutls_cipher_deinit(h);
}

static int varint(const uint8_t *p, size_t len, size_t *off, uint64_t *v) {
  scone_ssize n = scone_varint_get(v, p + *off, len - *off);
  if (n < 0)
    return -1;
  *off += (size_t)n;
  return 0;
}

/* Decrypts the client Initial packet at the start of dg into out; returns
 * the payload length, or -1 if dg does not start with one. */
static int decrypt_client_initial(const uint8_t *dg, size_t len, uint8_t *out,
                                  size_t cap) {
  uint8_t hdr[256];
  /* Long header, fixed bit, type Initial, version 1. */
  if (len < 7 || (dg[0] & 0xf0) != 0xc0 || dg[1] != 0 || dg[2] != 0 ||
      dg[3] != 0 || dg[4] != 1)
    return -1;
  size_t off = 5;
  size_t dcidlen = dg[off++];
  const uint8_t *dcid = dg + off;
  off += dcidlen;
  if (off >= len)
    return -1;
  off += 1 + dg[off]; /* SCID */
  uint64_t tokenlen, pktlen;
  if (off > len || varint(dg, len, &off, &tokenlen) != 0 ||
      (off += tokenlen) > len || varint(dg, len, &off, &pktlen) != 0 ||
      off + pktlen > len || pktlen < 20 || off + 4 > sizeof(hdr))
    return -1;
  initial_keys k;
  client_initial_keys(dcid, dcidlen, &k);
  /* Header protection: the sample starts 4 bytes into the packet number. */
  uint8_t mask[16];
  aes_block(k.hp, dg + off + 4, mask);
  memcpy(hdr, dg, off + 4);
  hdr[0] ^= mask[0] & 0x0f;
  size_t pnlen = (hdr[0] & 3) + 1;
  uint64_t pn = 0;
  for (size_t i = 0; i < pnlen; i++) {
    hdr[off + i] ^= mask[1 + i];
    pn = pn << 8 | hdr[off + i];
  }
  size_t hdrlen = off + pnlen;
  uint8_t nonce[12];
  memcpy(nonce, k.iv, sizeof(nonce));
  for (size_t i = 0; i < 8; i++)
    nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
  gnutls_aead_cipher_hd_t h;
  gnutls_datum_t key = {k.key, sizeof(k.key)};
  assert_int_equal(gnutls_aead_cipher_init(&h, GNUTLS_CIPHER_AES_128_GCM, &key),
                   0);
  size_t ctlen = (size_t)pktlen - pnlen, ptlen = cap;
  int rv = gnutls_aead_cipher_decrypt(h, nonce, sizeof(nonce), hdr, hdrlen, 16,
                                      dg + hdrlen, ctlen, out, &ptlen);
  gnutls_aead_cipher_deinit(h);
  return rv == 0 ? (int)ptlen : -1;
}

/* The CRYPTO stream bytes at offset 0 of a decrypted Initial payload (the
 * first datagram carries the ClientHello's start); their length or -1. */
static int crypto_stream(const uint8_t *p, size_t len, uint8_t *out,
                         size_t cap) {
  size_t off = 0, got = 0;
  while (off < len) {
    uint8_t type = p[off++];
    if (type == 0x00 || type == 0x01) /* PADDING, PING */
      continue;
    uint64_t at, n;
    if (type != 0x06 || varint(p, len, &off, &at) != 0 ||
        varint(p, len, &off, &n) != 0 || off + n > len)
      return -1;
    if (at + n <= cap) {
      memcpy(out + at, p + off, n);
      if (at <= got && at + n > got)
        got = (size_t)(at + n);
    }
    off += n;
  }
  return (int)got;
}

/* ------------------------------------------------------------- the wire */

typedef struct hello_probe {
  int seen;           /* first client datagram decrypted */
  int handshake_type; /* 1: ClientHello */
  int session_id_len; /* -1 until read */
  uint8_t legacy_version[2];
} hello_probe;

static int hello_hook(h_fwd *f, h_dir dir, uint8_t *buf, size_t *len,
                      size_t cap, void *arg) {
  (void)f;
  (void)cap;
  hello_probe *hp = arg;
  if (dir != H_C2S || hp->seen)
    return 0;
  hp->seen = 1;
  uint8_t pt[2048], ch[2048];
  int n = decrypt_client_initial(buf, *len, pt, sizeof(pt));
  int m = n > 0 ? crypto_stream(pt, (size_t)n, ch, sizeof(ch)) : -1;
  /* type (1), length (3), legacy_version (2), random (32), session id. */
  if (m >= 39) {
    hp->handshake_type = ch[0];
    memcpy(hp->legacy_version, ch + 4, 2);
    hp->session_id_len = ch[38];
  }
  return 0;
}

/* ----------------------------------------------------------------- tests */

static void hex(const char *s, uint8_t *out, size_t len) {
  for (size_t i = 0; i < len; i++) {
    unsigned v;
    assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
    out[i] = (uint8_t)v;
  }
}

/* The key schedule above against RFC 9001 appendix A.1. */
static void test_initial_keys_match_rfc9001(void **state) {
  (void)state;
  uint8_t dcid[8], want[32];
  hex("8394c8f03e515708", dcid, sizeof(dcid));
  initial_keys k;
  client_initial_keys(dcid, sizeof(dcid), &k);
  hex("c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea", want,
      32);
  assert_memory_equal(k.secret, want, 32);
  hex("1f369613dd76d5467730efcbe3b1a22d", want, 16);
  assert_memory_equal(k.key, want, 16);
  hex("fa044b2f42a3fd3b46fb255c", want, 12);
  assert_memory_equal(k.iv, want, 12);
  hex("9f50449e04a0e810283a1e9933adedd2", want, 16);
  assert_memory_equal(k.hp, want, 16);
}

static void run(int compat, hello_probe *hp, h_client *c,
                scone_quic_server_stats *ss) {
  h_env e;
  h_env_init(&e);
  struct scone_quic_test_hooks hooks = {.tls_compat_mode = compat};
  h_server s;
  h_server_start(&s, &e, NULL);
  memset(hp, 0, sizeof(*hp));
  hp->session_id_len = -1;
  h_fwd f;
  h_fwd_start(&f, h_server_port(&s), hello_hook, hp);
  sq_test_hooks_set(0, &hooks);
  h_client_start(c, h_fwd_port(&f), NULL, NULL);
  sq_test_hooks_set(0, NULL);
  int rv = h_client_get(c, "/bytes/1000", T_GET);
  h_server_stop(&s, ss);
  h_fwd_stop(&f);
  h_server_free(&s);
  h_env_cleanup(&e);
  assert_int_equal(rv, compat ? SCONE_QUIC_ERR_CLOSED : 0);
  /* The probe read a real ClientHello. */
  assert_true(hp->seen);
  assert_int_equal(hp->handshake_type, 1);
  assert_int_equal(hp->legacy_version[0], 0x03);
  assert_int_equal(hp->legacy_version[1], 0x03);
}

static void test_client_hello_has_empty_session_id(void **state) {
  (void)state;
  hello_probe hp;
  h_client c;
  scone_quic_server_stats ss;
  run(0, &hp, &c, &ss);
  assert_int_equal(hp.session_id_len, 0);
  assert_int_equal(c.last_status, 200);
  h_client_free(&c);
  assert_int_equal(ss.compat_mode_rejected, 0);
  assert_int_equal(ss.requests_served, 1);
}

/* A client in compatibility mode (GnuTLS's default, forced by the test
 * hook): the probe sees its 32-byte session id, and the server closes the
 * connection with PROTOCOL_VIOLATION before serving anything. */
static void test_server_rejects_compat_mode(void **state) {
  (void)state;
  hello_probe hp;
  h_client c;
  scone_quic_server_stats ss;
  run(1, &hp, &c, &ss);
  assert_int_equal(hp.session_id_len, 32);
  assert_int_equal(c.responses, 0);
  int remote, app;
  uint64_t code;
  assert_int_equal(scone_quic_conn_get_close_error(scone_quic_client_conn(c.cl),
                                                   &remote, &app, &code),
                   0);
  assert_true(remote);
  assert_false(app);
  assert_int_equal(code, PROTOCOL_VIOLATION);
  h_client_free(&c);
  assert_int_equal(ss.compat_mode_rejected, 1);
  assert_int_equal(ss.connections_closed_with_error, 1);
  assert_int_equal(ss.requests_served, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_initial_keys_match_rfc9001),
      cmocka_unit_test(test_client_hello_has_empty_session_id),
      cmocka_unit_test(test_server_rejects_compat_mode),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
