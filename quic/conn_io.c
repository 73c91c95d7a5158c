/*
 * Moving datagrams through a connection: receive, send (with the SCONE
 * additions of scone_tx.c), timers and closing.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define SQ_MAX_BURST 64
#define SQ_VEC 16

void sq_conn_set_app_error(scone_quic_conn *c, uint64_t code) {
  ngtcp2_connection_close_error_set_application_error(&c->ccerr, code, NULL, 0);
}

void sq_conn_set_transport_error(scone_quic_conn *c, uint64_t code,
                                 const char *reason) {
  ngtcp2_connection_close_error_set_transport_error(
      &c->ccerr, code, (const uint8_t *)reason, strlen(reason));
  c->ccerr_fixed = 1;
}

void sq_conn_set_liberr(scone_quic_conn *c, int liberr) {
  if (liberr == NGTCP2_ERR_CRYPTO)
    ngtcp2_connection_close_error_set_transport_error_tls_alert(
        &c->ccerr, ngtcp2_conn_get_tls_alert(c->qc), NULL, 0);
  else
    ngtcp2_connection_close_error_set_transport_error_liberr(&c->ccerr, liberr,
                                                             NULL, 0);
}

static scone_tstamp three_pto(const scone_quic_conn *c, scone_tstamp now) {
  return now + 3 * ngtcp2_conn_get_pto(c->qc);
}

static void send_dgram(scone_quic_conn *c, const sq_addr *to,
                       const uint8_t *data, size_t len) {
  if (c->send(c->send_ctx, to, data, len) == 0) {
    c->ctr.datagrams_sent++;
    c->ctr.bytes_sent += len;
  }
}

int sq_conn_close(scone_quic_conn *c, scone_tstamp now) {
  if (c->state != SQ_STATE_OPEN)
    return SCONE_QUIC_ERR_CLOSED;
  c->now = now;
  c->state = SQ_STATE_CLOSING;
  c->state_deadline = three_pto(c, now);
  ngtcp2_path_storage ps;
  ngtcp2_path_storage_zero(&ps);
  ngtcp2_pkt_info pi;
  uint8_t *buf = malloc(c->s.max_udp_payload);
  if (buf == NULL) {
    c->state = SQ_STATE_DEAD;
    return SCONE_QUIC_ERR_CLOSED;
  }
  /* A client closing before anything came back is still in its first
   * flight: this datagram, too, must end in the indication. */
  size_t tail = c->indicating ? SCONE_INDICATION_LEN : 0;
  ngtcp2_ssize n = ngtcp2_conn_write_connection_close(
      c->qc, &ps.path, &pi, buf, c->s.max_udp_payload - tail, &c->ccerr, now);
  if (n <= 0) {
    free(buf);
    c->state = SQ_STATE_DEAD;
    return SCONE_QUIC_ERR_CLOSED;
  }
  c->close_pkt = buf;
  c->close_len = (size_t)n;
  size_t len = c->close_len;
  if (c->indicating) {
    /* close_len stays without it: the close is sent again only in answer to
     * a datagram from the server, which ends the first flight. */
    scone_ssize m = scone_indication_append(buf, len, c->s.max_udp_payload);
    if (m > 0) {
      len = (size_t)m;
      c->ctr.indications_sent++;
    }
  }
  sq_addr local, remote;
  sq_addrs_of(&ps.path, &local, &remote);
  send_dgram(c, &remote, buf, len);
  return SCONE_QUIC_ERR_CLOSED;
}

static int on_error(scone_quic_conn *c, int rv, scone_tstamp now) {
  switch (rv) {
  case NGTCP2_ERR_DRAINING:
    c->state = SQ_STATE_DRAINING;
    c->peer_closed = 1;
    c->state_deadline = three_pto(c, now);
    return SCONE_QUIC_ERR_CLOSED;
  case NGTCP2_ERR_IDLE_CLOSE:
  case NGTCP2_ERR_HANDSHAKE_TIMEOUT:
    c->timed_out = 1;
    c->state = SQ_STATE_DEAD;
    return SCONE_QUIC_ERR_CLOSED;
  case NGTCP2_ERR_DROP_CONN:
    c->state = SQ_STATE_DEAD;
    return SCONE_QUIC_ERR_CLOSED;
  default:
    if (!c->ccerr_fixed)
      sq_conn_set_liberr(c, rv);
    return sq_conn_close(c, now);
  }
}

int sq_conn_read(scone_quic_conn *c, const sq_addr *local,
                 const sq_addr *remote, const uint8_t *data, size_t len,
                 scone_tstamp now) {
  c->now = now;
  c->ctr.datagrams_received++;
  c->ctr.bytes_received += len;
  if (c->state == SQ_STATE_CLOSING && c->close_pkt != NULL) {
    /* The peer has not seen our close yet. */
    send_dgram(c, remote, c->close_pkt, c->close_len);
    return SCONE_QUIC_ERR_CLOSED;
  }
  if (c->state != SQ_STATE_OPEN)
    return SCONE_QUIC_ERR_CLOSED;
  /* Any datagram from the server ends the client's first flight. */
  c->indicating = 0;
  sq_path *path = sq_path_find_or_add(c, local, remote, now);
  ngtcp2_path np = sq_ngtcp2_path(local, remote);
  int rv = sq_rx_datagram(c, path, &np, data, len, now);
  return rv == 0 ? 0 : on_error(c, rv, now);
}

/* One datagram from ngtcp2 with stream data pulled from the app. Returns its
 * length, 0 when there is nothing to send, < 0 on a fatal error. */
static ngtcp2_ssize write_one(scone_quic_conn *c, ngtcp2_path *path,
                              uint8_t *out, size_t cap, scone_tstamp now) {
  const sq_app_ops *app = c->app;
  for (;;) {
    int64_t sid = -1;
    int fin = 0;
    ngtcp2_vec vec[SQ_VEC];
    int64_t vcnt = 0;
    if (app != NULL && app->pull != NULL &&
        ngtcp2_conn_get_max_data_left(c->qc) > 0) {
      vcnt = app->pull(c, c->app_data, &sid, &fin, vec, SQ_VEC);
      if (vcnt < 0)
        return on_error(c, NGTCP2_ERR_CALLBACK_FAILURE, now);
    }
    uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE;
    if (fin)
      flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
    ngtcp2_ssize ndatalen = -1;
    ngtcp2_pkt_info pi;
    ngtcp2_ssize n =
        ngtcp2_conn_writev_stream(c->qc, path, &pi, out, cap, &ndatalen, flags,
                                  sid, vec, (size_t)vcnt, now);
    if (n < 0) {
      int arv = 0;
      switch (n) {
      case NGTCP2_ERR_STREAM_DATA_BLOCKED:
        if (app->blocked != NULL)
          arv = app->blocked(c, c->app_data, sid);
        break;
      case NGTCP2_ERR_STREAM_SHUT_WR:
        if (app->shutdown_write != NULL)
          arv = app->shutdown_write(c, c->app_data, sid);
        break;
      case NGTCP2_ERR_WRITE_MORE:
        if (sid >= 0 && app->written != NULL)
          arv = app->written(c, c->app_data, sid, (size_t)ndatalen);
        break;
      default:
        return on_error(c, (int)n, now);
      }
      if (arv != 0)
        return on_error(c, NGTCP2_ERR_CALLBACK_FAILURE, now);
      continue;
    }
    if (ndatalen >= 0 && sid >= 0 && app != NULL && app->written != NULL &&
        app->written(c, c->app_data, sid, (size_t)ndatalen) != 0)
      return on_error(c, NGTCP2_ERR_CALLBACK_FAILURE, now);
    return n;
  }
}

int sq_conn_write(scone_quic_conn *c, scone_tstamp now) {
  if (c->state != SQ_STATE_OPEN)
    return c->state == SQ_STATE_DEAD ? SCONE_QUIC_ERR_CLOSED : 0;
  c->now = now;
  size_t pmax = ngtcp2_conn_get_path_max_tx_udp_payload_size(c->qc);
  size_t burst = ngtcp2_conn_get_send_quantum(c->qc) / (pmax ? pmax : 1200);
  if (burst == 0)
    burst = 1;
  if (burst > SQ_MAX_BURST)
    burst = SQ_MAX_BURST;
  size_t i = 0;
  for (; i < burst; i++) {
    /* ngtcp2 is offered the whole max_udp_payload (less the indication):
     * the SCONE packet goes into the headroom before its output. */
    size_t tail = c->indicating ? SCONE_INDICATION_LEN : 0;
    uint8_t *out = c->txbuf + SQ_TX_HEADROOM;
    size_t cap = sq_tx_write_cap(c, c->s.max_udp_payload - tail,
                                 sq_tx_front_room(c), now);
    ngtcp2_path_storage ps;
    ngtcp2_path_storage_zero(&ps);
    c->tx_path_frame = 0;
    ngtcp2_ssize n = write_one(c, &ps.path, out, cap, now);
    if (n < 0)
      return (int)n;
    if (n == 0)
      break;
    if (c->tx_path_frame)
      c->path_response_due = 0;
    else if (c->path_response_due > 0)
      c->path_response_due--;
    sq_addr local, remote;
    sq_addrs_of(&ps.path, &local, &remote);
    sq_path *path = sq_path_find_or_add(c, &local, &remote, now);
    size_t len;
    uint8_t *dg = sq_tx_finish(c, path, out, (size_t)n, &len, now);
    send_dgram(c, &remote, dg, len);
  }
  /* "once": the first flight as first written carries the indication, its
   * retransmissions do not. */
  if (i > 0 && c->s.indication == SCONE_QUIC_INDICATION_ONCE)
    c->indicating = 0;
  ngtcp2_conn_update_pkt_tx_time(c->qc, now);
  return 0;
}

scone_tstamp sq_conn_expiry(const scone_quic_conn *c) {
  switch (c->state) {
  case SQ_STATE_OPEN: {
    scone_tstamp t = ngtcp2_conn_get_expiry(c->qc);
    scone_tstamp a = sq_path_next_expiry(c);
    return a < t ? a : t;
  }
  case SQ_STATE_CLOSING:
  case SQ_STATE_DRAINING:
    return c->state_deadline;
  default:
    return 0;
  }
}

int sq_conn_handle_expiry(scone_quic_conn *c, scone_tstamp now) {
  c->now = now;
  if (c->state == SQ_STATE_CLOSING || c->state == SQ_STATE_DRAINING) {
    if (now >= c->state_deadline)
      c->state = SQ_STATE_DEAD;
    return c->state == SQ_STATE_DEAD ? SCONE_QUIC_ERR_CLOSED : 0;
  }
  if (c->state != SQ_STATE_OPEN)
    return SCONE_QUIC_ERR_CLOSED;
  sq_path_expire(c, now);
  sq_netinfo_tick(c, now);
  if (ngtcp2_conn_get_expiry(c->qc) <= now) {
    int rv = ngtcp2_conn_handle_expiry(c->qc, now);
    if (rv != 0)
      return on_error(c, rv, now);
  }
  return 0;
}
