/*
 * A QUIC endpoint's receive path (libscone_quic: sq_conn_read, the SCONE
 * receive rules of scone_rx.c, ngtcp2 behind them) fed datagrams from the
 * open Internet: into a server connection whose handshake with an
 * in-memory client is done, or into a fresh server connection as a
 * client's first datagram. No fuzzer input can carry a packet that
 * authenticates, so whatever SCONE packets lead the datagrams (with the
 * connection's own DCID or not), the advice must never change: the
 * draft's rule that a signal counts only if the endpoint then processed a
 * QUIC packet of the same datagram. And the connection survives (an
 * unauthenticated datagram cannot close it).
 *
 * The handshake is made once per process (a virtual clock, no sockets)
 * and redone only when the connection ends, so inputs run at thousands
 * a second; counters are compared per input, which replays alone the same.
 *
 * Input: records [ctl][len][len bytes]. ctl bit 0: put a SCONE packet in
 * front (signal from the next byte) with the connection's DCID (bit 1
 * clear) or a wrong one (bit 1 set); bit 2: put a short header with the
 * connection's DCID in front (after any SCONE packet), so ngtcp2 tries to
 * decrypt the rest; bit 3: the datagram goes to a fresh server connection
 * instead; bits 4-7: clock step in ms.
 */
#include "fuzz.h"

#include "quic/internal.h"

#include <scone/quic.h>
#include <scone/scone.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAXQ 256

typedef struct dgram {
  int to_server;
  size_t len;
  uint8_t data[SQ_TX_HEADROOM + SCONE_QUIC_DEFAULT_MAX_UDP_PAYLOAD];
} dgram;

static struct {
  int ready;
  gnutls_certificate_credentials_t ccred, scred;
  scone_quic_settings cs, ss;
  sq_addr caddr, saddr;
  scone_quic_conn *client, *server;
  dgram *q;
  size_t nq;
  int sink; /* after the handshake: what either end sends is dropped */
  scone_tstamp t;
  int ends[2];
} W;

static int wire_send(void *ctx, const sq_addr *to, const uint8_t *data,
                     size_t len) {
  (void)to;
  if (W.sink || W.nq == MAXQ || len > sizeof(W.q[0].data))
    return 0;
  dgram *d = &W.q[W.nq++];
  d->to_server = ctx == &W.ends[0];
  d->len = len;
  memcpy(d->data, data, len);
  return 0;
}

static void addr(sq_addr *a, uint16_t port) {
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sq_addr_set(a, (const struct sockaddr *)&sin, sizeof(sin));
}

static int server_new(scone_quic_conn **pc, const uint8_t *d, size_t len) {
  scone_packet sp;
  if (scone_packet_is_scone(d, len) && scone_packet_parse(&sp, d, len) > 0)
    d += sp.len, len -= sp.len;
  ngtcp2_pkt_hd hd;
  if (ngtcp2_accept(&hd, d, len) != 0)
    return -1;
  sq_conn_params p = {0};
  p.settings = &W.ss;
  p.send = wire_send;
  p.send_ctx = &W.ends[1];
  p.local = &W.saddr;
  p.remote = &W.caddr;
  p.cred = W.scred;
  p.hd = &hd;
  p.now = W.t;
  return sq_conn_server_new(pc, &p);
}

static void teardown(void) {
  sq_conn_del(W.client);
  sq_conn_del(W.server);
  W.client = W.server = NULL;
}

/* A client and a server connection through the handshake. */
static void handshake(void) {
  teardown();
  W.sink = 0;
  W.nq = 0;
  sq_conn_params p = {0};
  p.settings = &W.cs;
  p.send = wire_send;
  p.send_ctx = &W.ends[0];
  p.local = &W.caddr;
  p.remote = &W.saddr;
  p.cred = W.ccred;
  p.now = W.t;
  if (sq_conn_client_new(&W.client, &p) != 0)
    abort();
  for (int step = 0; step < 200; step++) {
    sq_conn_write(W.client, W.t);
    if (W.server)
      sq_conn_write(W.server, W.t);
    if (W.client->hs_confirmed && W.server && W.server->hs_confirmed)
      break;
    W.t += SCONE_MILLISECONDS;
    size_t n = W.nq;
    static dgram due[MAXQ];
    memcpy(due, W.q, n * sizeof(*due));
    W.nq = 0;
    for (size_t i = 0; i < n; i++) {
      if (due[i].to_server) {
        if (!W.server && server_new(&W.server, due[i].data, due[i].len))
          abort();
        sq_conn_read(W.server, &W.saddr, &W.caddr, due[i].data, due[i].len,
                     W.t);
      } else {
        sq_conn_read(W.client, &W.caddr, &W.saddr, due[i].data, due[i].len,
                     W.t);
      }
    }
  }
  if (!W.server || !W.server->hs_confirmed)
    abort();
  W.sink = 1;
}

static void init(void) {
  char dir[] = "/tmp/fuzz-quic-rx-XXXXXX";
  char cert[64], key[64];
  if (!mkdtemp(dir))
    abort();
  snprintf(cert, sizeof(cert), "%s/c.pem", dir);
  snprintf(key, sizeof(key), "%s/k.pem", dir);
  if (scone_quic_make_self_signed(cert, key, NULL) != 0 ||
      sq_tls_client_cred(&W.ccred, NULL, 0) != 0 ||
      sq_tls_server_cred(&W.scred, cert, key) != 0)
    abort();
  unlink(cert);
  unlink(key);
  rmdir(dir);
  scone_quic_settings_default(&W.cs);
  scone_quic_settings_default(&W.ss);
  addr(&W.caddr, 40000);
  addr(&W.saddr, 4433);
  W.q = calloc(MAXQ, sizeof(*W.q));
  if (!W.q)
    abort();
  W.t = 1000 * SCONE_SECONDS;
  W.ready = 1;
}

/* A CID that routes to the server connection (the first it issued). */
static size_t server_dcid(uint8_t *out) {
  if (W.server->ncids == 0)
    abort();
  const ngtcp2_cid *c = &W.server->cids[0];
  memcpy(out, c->data, c->datalen);
  return c->datalen;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!W.ready)
    init();
  if (!W.server || W.server->state != SQ_STATE_OPEN)
    handshake();
  uint64_t accepted0 = W.server->ctr.advice_accepted;
  /* Within one input the clock moves at most 10 s, well inside the idle
   * timeout, and each input starts where the handshake left it. */
  scone_tstamp t0 = W.t;
  static uint8_t dg[SCONE_QUIC_DEFAULT_MAX_UDP_PAYLOAD + 64];
  size_t off = 0;
  while (off + 2 <= size) {
    uint8_t ctl = data[off];
    size_t len = data[off + 1];
    off += 2;
    if (len > size - off)
      len = size - off;
    size_t n = 0;
    uint8_t dcid[NGTCP2_MAX_CIDLEN];
    size_t dl = server_dcid(dcid);
    if (ctl & 1) {
      uint8_t cid[NGTCP2_MAX_CIDLEN];
      memcpy(cid, dcid, dl);
      if (ctl & 2)
        cid[0] ^= 0x5a;
      scone_ssize r =
          scone_packet_build(dg, sizeof(dg), len ? data[off] & 0x7f : 127, cid,
                             dl, NULL, 0, SCONE_BUILD_FLAG_NONE);
      if (r > 0)
        n = (size_t)r;
    }
    if (ctl & 4) {
      dg[n++] = 0x40 | (len ? data[off] & 0x3f : 0);
      memcpy(dg + n, dcid, dl);
      n += dl;
    }
    memcpy(dg + n, data + off, len);
    n += len;
    off += len;
    if (W.t - t0 < 10 * SCONE_SECONDS)
      W.t += (scone_tstamp)(ctl >> 4) * SCONE_MILLISECONDS;
    if (ctl & 8) {
      scone_quic_conn *fresh = NULL;
      if (server_new(&fresh, dg, n) == 0) {
        sq_conn_read(fresh, &W.saddr, &W.caddr, dg, n, W.t);
        sq_conn_write(fresh, W.t);
        FUZZ_CHECK(fresh->ctr.advice_accepted == 0);
        sq_conn_del(fresh);
      }
      continue;
    }
    sq_conn_read(W.server, &W.saddr, &W.caddr, dg, n, W.t);
    /* Nothing unauthenticated sets advice or ends the connection. */
    FUZZ_CHECK(W.server->ctr.advice_accepted == accepted0);
    FUZZ_CHECK(W.server->state == SQ_STATE_OPEN);
  }
  /* The server writes once per input, not after each datagram: no
   * unauthenticated datagram gives it anything to send (after the
   * handshake it wrote nothing over the whole corpus), so a write per
   * datagram, half of this target's time, only asked ngtcp2 again and
   * again. Whatever a datagram could have queued is written here, and a
   * write that ends the connection still fails the input. */
  sq_conn_write(W.server, W.t);
  FUZZ_CHECK(W.server->state == SQ_STATE_OPEN);
  W.t = t0;
  return 0;
}
