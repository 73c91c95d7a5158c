/*
 * TLS over TCP for the legacy element's tests (tls_tcp.h).
 */
#include "tls_tcp.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <string.h>

typedef struct sink {
  uint8_t *p;
  size_t cap, n;
  int overflow;
} sink;

static ssize_t push(gnutls_transport_ptr_t ptr, const void *data, size_t n) {
  sink *s = ptr;
  if (n > s->cap - s->n) {
    s->overflow = 1;
    n = s->cap - s->n;
  }
  memcpy(s->p + s->n, data, n);
  s->n += n;
  return (ssize_t)n;
}

/* Nothing ever comes back: the handshake stops after the ClientHello. */
static ssize_t pull(gnutls_transport_ptr_t ptr, void *data, size_t n) {
  (void)ptr, (void)data, (void)n;
  errno = EAGAIN;
  return -1;
}

int tls_client_hello(const char *sni, uint8_t *out, size_t cap) {
  gnutls_session_t s;
  gnutls_certificate_credentials_t cred;
  if (gnutls_certificate_allocate_credentials(&cred))
    return -1;
  if (gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_NONBLOCK)) {
    gnutls_certificate_free_credentials(cred);
    return -1;
  }
  sink k = {out, cap, 0, 0};
  int rc = -1;
  if (gnutls_set_default_priority(s) ||
      gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred))
    goto done;
  if (sni && *sni &&
      gnutls_server_name_set(s, GNUTLS_NAME_DNS, sni, strlen(sni)))
    goto done;
  gnutls_transport_set_ptr(s, &k);
  gnutls_transport_set_push_function(s, push);
  gnutls_transport_set_pull_function(s, pull);
  if (gnutls_handshake(s) == GNUTLS_E_AGAIN && k.n && !k.overflow)
    rc = (int)k.n;
done:
  gnutls_deinit(s);
  gnutls_certificate_free_credentials(cred);
  return rc;
}

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n) {
  for (size_t i = 0; i + 1 < n; i += 2)
    s += (uint32_t)p[i] << 8 | p[i + 1];
  if (n & 1)
    s += (uint32_t)p[n - 1] << 8;
  return s;
}

static uint16_t fold(uint32_t s) {
  while (s >> 16)
    s = (s & 0xffff) + (s >> 16);
  return (uint16_t)~s;
}

static void put16(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v) {
  put16(p, v >> 16);
  put16(p + 2, v & 0xffff);
}

/* The IPv6 address NAT64 (RFC 6052's 64:ff9b::/96) writes for v4. */
static void nat64(uint8_t *out, uint32_t v4) {
  static const uint8_t prefix[12] = {0x00, 0x64, 0xff, 0x9b};
  memcpy(out, prefix, 12);
  put32(out + 12, v4);
}

size_t tls_tcp_ip(int family, uint8_t *out, uint32_t src, uint16_t sport,
                  uint32_t dst, uint16_t dport, uint32_t seq, uint32_t ack,
                  uint8_t flags, const uint8_t *payload, size_t len) {
  size_t hl = family == 6 ? 40 : family == TLS_TCP_IP4_OPT ? 24 : 20;
  size_t tot = hl + 20 + len;
  uint8_t ph[40] = {0}; /* the pseudo-header */
  size_t phl;
  memset(out, 0, hl + 20);
  if (family == 6) {
    out[0] = 0x60;
    put16(out + 4, (uint32_t)(20 + len));
    out[6] = 6;
    out[7] = 64;
    nat64(out + 8, src);
    nat64(out + 24, dst);
    memcpy(ph, out + 8, 32);
    put32(ph + 32, (uint32_t)(20 + len));
    ph[39] = 6;
    phl = 40;
  } else {
    out[0] = (uint8_t)(0x40 | hl / 4);
    put16(out + 2, (uint32_t)tot);
    out[6] = 0x40; /* DF */
    out[8] = 64;
    out[9] = 6;
    put32(out + 12, src);
    put32(out + 16, dst);
    if (hl > 20) { /* Router Alert (RFC 2113), copied on fragmentation */
      out[20] = 0x94;
      out[21] = 4;
    }
    put16(out + 10, fold(sum16(0, out, hl)));
    memcpy(ph, out + 12, 8);
    ph[9] = 6;
    put16(ph + 10, (uint32_t)(20 + len));
    phl = 12;
  }
  uint8_t *t = out + hl;
  put16(t, sport);
  put16(t + 2, dport);
  put32(t + 4, seq);
  put32(t + 8, flags & TCP_ACK ? ack : 0);
  t[12] = 5 << 4;
  t[13] = flags;
  put16(t + 14, 65535);
  if (len)
    memcpy(t + 20, payload, len);
  put16(t + 16, fold(sum16(sum16(0, ph, phl), t, 20 + len)));
  return tot;
}

size_t tls_tcp_ip4(uint8_t *out, uint32_t src, uint16_t sport, uint32_t dst,
                   uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                   const uint8_t *payload, size_t len) {
  return tls_tcp_ip(4, out, src, sport, dst, dport, seq, ack, flags, payload,
                    len);
}

void tcp_conn_init(tcp_conn *c, uint32_t client, uint32_t server,
                   uint16_t cport) {
  c->client = client;
  c->server = server;
  c->cport = cport;
  c->family = 4;
  c->cseq = 0x10000000U + cport;
  c->sseq = 0x70000000U + cport;
}

size_t tcp_conn_syn(tcp_conn *c, int step, uint8_t *out) {
  size_t n;
  switch (step) {
  case 0:
    n = tls_tcp_ip(c->family, out, c->client, c->cport, c->server, 443, c->cseq,
                   0, TCP_SYN, NULL, 0);
    c->cseq++;
    return n;
  case 1:
    n = tls_tcp_ip(c->family, out, c->server, 443, c->client, c->cport, c->sseq,
                   c->cseq, TCP_SYN | TCP_ACK, NULL, 0);
    c->sseq++;
    return n;
  default:
    return tls_tcp_ip(c->family, out, c->client, c->cport, c->server, 443,
                      c->cseq, c->sseq, TCP_ACK, NULL, 0);
  }
}

size_t tcp_conn_data(tcp_conn *c, int up, const uint8_t *pl, size_t n,
                     uint8_t *out) {
  size_t len;
  if (up) {
    len = tls_tcp_ip(c->family, out, c->client, c->cport, c->server, 443,
                     c->cseq, c->sseq, TCP_ACK | TCP_PSH, pl, n);
    c->cseq += (uint32_t)n;
  } else {
    len = tls_tcp_ip(c->family, out, c->server, 443, c->client, c->cport,
                     c->sseq, c->cseq, TCP_ACK | TCP_PSH, pl, n);
    c->sseq += (uint32_t)n;
  }
  return len;
}
