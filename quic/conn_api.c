/* The polled side of a connection's public API. */
#include "internal.h"

#include <string.h>

const char *scone_quic_strerror(int err) {
  switch (err) {
  case SCONE_QUIC_ERR_NOMEM:
    return "out of memory";
  case SCONE_QUIC_ERR_SOCKET:
    return "socket error";
  case SCONE_QUIC_ERR_ADDRESS:
    return "bad or unresolvable address";
  case SCONE_QUIC_ERR_TLS:
    return "TLS set-up failed";
  case SCONE_QUIC_ERR_QUIC:
    return "QUIC error";
  case SCONE_QUIC_ERR_HTTP3:
    return "HTTP/3 error";
  case SCONE_QUIC_ERR_CLOSED:
    return "connection closed";
  case SCONE_QUIC_ERR_TIMEOUT:
    return "timed out";
  case SCONE_QUIC_ERR_CERT:
    return "certificate error";
  case SCONE_QUIC_ERR_QLOG:
    return "cannot write the qlog";
  case SCONE_QUIC_ERR_UNREACHABLE:
    return "server unreachable (nothing listens there)";
  case SCONE_QUIC_ERR_RESET:
    return "stream reset by the server";
  case SCONE_QUIC_ERR_HEADERS:
    return "response header section too large";
  case SCONE_QUIC_ERR_ROOT:
    return "content root cannot be served (not a directory)";
  default:
    return scone_strerror(err);
  }
}

int scone_quic_conn_peer_scone(const scone_quic_conn *c) {
  return c->peer_scone;
}

scone_dir sq_conn_rx_dir(const scone_quic_conn *c) {
  /* SCONE packets a client receives travelled server to client. */
  return c->is_server ? SCONE_DIR_UPLINK : SCONE_DIR_DOWNLINK;
}

int scone_quic_conn_get_advice(const scone_quic_conn *c, uint32_t path_id,
                               scone_dir dir, scone_tstamp now,
                               scone_quic_advice_state *out) {
  if (path_id >= c->npaths || dir != sq_conn_rx_dir(c))
    return SCONE_ERR_INVALID_ARGUMENT;
  const sq_path *p = &c->paths[path_id];
  scone_advice_tracker_get(&p->tracker, now, &out->advice);
  out->last_signal = p->last_signal;
  out->accepted = p->accepted;
  return 0;
}

void scone_quic_conn_get_counters(const scone_quic_conn *c,
                                  scone_quic_counters *out) {
  *out = c->ctr;
}

void scone_quic_conn_get_stats(const scone_quic_conn *c, scone_tstamp now,
                               scone_app_stats *out) {
  memset(out, 0, sizeof(*out));
  out->bytes_sent = c->ctr.bytes_sent;
  out->bytes_received = c->ctr.bytes_received;
  out->packets_sent = c->pkts_sent;
  out->packets_received = c->pkts_received;
  /* bytes_lost stays 0: ngtcp2 0.12's recovery:packet_lost event carries
   * the header only, not the packet's size. */
  out->packets_lost = c->pkts_lost;
  ngtcp2_conn_stat st;
  ngtcp2_conn_get_conn_stat(c->qc, &st);
  if (st.first_rtt_sample_ts != UINT64_MAX) {
    out->smoothed_rtt = st.smoothed_rtt;
    out->rtt_variation = st.rttvar;
    out->min_rtt = st.min_rtt;
  }
  out->estimated_send_rate = st.delivery_rate_sec * 8;
  if (c->npaths > 0) {
    scone_advice adv;
    scone_advice_tracker_get(&c->paths[0].tracker, now, &adv);
    scone_app_stats_set_advice(out, &adv);
  }
  out->scone_negotiated = c->s.scone_capable && c->peer_scone;
  out->scone_packets_sent = c->ctr.scone_sent;
  out->scone_packets_received = c->ctr.scone_received;
  out->scone_advice_accepted = c->ctr.advice_accepted;
  out->scone_advice_rejected = c->ctr.advice_rejected;
}

void scone_quic_conn_get_netinfo(const scone_quic_conn *c,
                                 scone_app_netinfo *out) {
  scone_app_netinfo_get(&c->ni, out);
}

int scone_quic_conn_get_close_error(const scone_quic_conn *c, int *is_remote,
                                    int *is_app, uint64_t *code) {
  if (c->state == SQ_STATE_OPEN)
    return 1;
  ngtcp2_connection_close_error e = c->ccerr;
  if (c->peer_closed)
    ngtcp2_conn_get_connection_close_error(c->qc, &e);
  *is_remote = c->peer_closed;
  *is_app = e.type == NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_APPLICATION;
  *code = e.error_code;
  return 0;
}

int scone_quic_conn_timed_out(const scone_quic_conn *c) {
  return c->timed_out;
}
