/*
 * A QUIC connection: ngtcp2 + GnuTLS set up for SCONE, and ngtcp2's
 * callbacks, which mostly forward stream events to the application protocol
 * (sq_app_ops).
 */
#include "internal.h"
#include "test_hooks.h"

#include <gnutls/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQ_HANDSHAKE_TIMEOUT (10 * SCONE_SECONDS)

void scone_quic_settings_default(scone_quic_settings *s) {
  memset(s, 0, sizeof(*s));
  s->version = SCONE_QUIC_SETTINGS_V1;
  s->scone_capable = 1;
  s->send_interval = SCONE_QUIC_DEFAULT_SEND_INTERVAL;
  s->send_jitter_pct = SCONE_QUIC_DEFAULT_SEND_JITTER_PCT;
  s->initial_scone_datagrams = SCONE_QUIC_DEFAULT_INITIAL_DATAGRAMS;
  s->max_udp_payload = SCONE_QUIC_DEFAULT_MAX_UDP_PAYLOAD;
  s->advice_period = SCONE_PERIOD;
  s->idle_timeout = 30 * SCONE_SECONDS;
}

int sq_settings_valid(const scone_quic_settings *s) {
  return s->version == SCONE_QUIC_SETTINGS_V1 &&
         (s->scone_placement == SCONE_QUIC_PLACEMENT_CONFIRMED ||
          s->scone_placement == SCONE_QUIC_PLACEMENT_HANDSHAKE) &&
         (s->indication == SCONE_QUIC_INDICATION_EVERY ||
          s->indication == SCONE_QUIC_INDICATION_ONCE ||
          s->indication == SCONE_QUIC_INDICATION_OFF);
}

int sq_random_bytes(uint8_t *dst, size_t len) {
  return gnutls_rnd(GNUTLS_RND_RANDOM, dst, len) == 0 ? 0 : -1;
}

uint64_t sq_rand_u64(scone_quic_conn *c) {
  /* xorshift64*: jitter needs spread, not secrecy. */
  uint64_t x = c->rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  c->rng = x;
  return x * 0x2545F4914F6CDD1DULL;
}

/* ------------------------------------------------------ ngtcp2 callbacks */

static void rand_cb(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx) {
  (void)ctx;
  if (sq_random_bytes(dest, len) != 0)
    memset(dest, 0, len); /* GnuTLS's RNG does not fail once initialised */
}

static void add_cid(scone_quic_conn *c, const ngtcp2_cid *cid) {
  if (c->ncids < SQ_MAX_CIDS)
    c->cids[c->ncids++] = *cid;
}

static int get_new_connection_id(ngtcp2_conn *qc, ngtcp2_cid *cid,
                                 uint8_t *token, size_t cidlen,
                                 void *user_data) {
  (void)qc;
  scone_quic_conn *c = user_data;
  uint8_t buf[NGTCP2_MAX_CIDLEN];
  if (cidlen > sizeof(buf) || sq_random_bytes(buf, cidlen) != 0 ||
      sq_random_bytes(token, NGTCP2_STATELESS_RESET_TOKENLEN) != 0)
    return NGTCP2_ERR_CALLBACK_FAILURE;
  ngtcp2_cid_init(cid, buf, cidlen);
  add_cid(c, cid);
  return 0;
}

static int remove_connection_id(ngtcp2_conn *qc, const ngtcp2_cid *cid,
                                void *user_data) {
  (void)qc;
  scone_quic_conn *c = user_data;
  for (size_t i = 0; i < c->ncids; i++) {
    if (ngtcp2_cid_eq(&c->cids[i], cid)) {
      c->cids[i] = c->cids[--c->ncids];
      break;
    }
  }
  return 0;
}

static int handshake_completed(ngtcp2_conn *qc, void *user_data) {
  scone_quic_conn *c = user_data;
  if (c->is_server)
    c->hs_confirmed = 1;
  /* An idle connection sends nothing that a SCONE packet could ride on.
   * Whichever side's keep-alive fires first sends a PING and the other only
   * ACKs it, so each side gets a datagram at least every half interval and
   * a due SCONE packet waits at most that long. */
  if (c->s.scone_capable && c->peer_scone && !c->keepalive_set) {
    ngtcp2_conn_set_keep_alive_timeout(qc, c->s.send_interval / 2);
    c->keepalive_set = 1;
  }
  if (c->app != NULL && c->app->on_handshake_completed != NULL &&
      c->app->on_handshake_completed(c, c->app_data) != 0)
    return NGTCP2_ERR_CALLBACK_FAILURE;
  return 0;
}

/* Clients only: ngtcp2 does not call it on servers, for which completion
 * is confirmation. */
static int handshake_confirmed(ngtcp2_conn *qc, void *user_data) {
  (void)qc;
  scone_quic_conn *c = user_data;
  c->hs_confirmed = 1;
  return 0;
}

static int recv_stream_data(ngtcp2_conn *qc, uint32_t flags, int64_t stream_id,
                            uint64_t offset, const uint8_t *data, size_t len,
                            void *user_data, void *stream_user_data) {
  (void)qc;
  (void)offset;
  (void)stream_user_data;
  scone_quic_conn *c = user_data;
  if (c->app == NULL || c->app->recv_stream_data == NULL) {
    ngtcp2_conn_extend_max_stream_offset(c->qc, stream_id, len);
    ngtcp2_conn_extend_max_offset(c->qc, len);
    return 0;
  }
  return c->app->recv_stream_data(c, c->app_data, flags, stream_id, data,
                                  len) == 0
             ? 0
             : NGTCP2_ERR_CALLBACK_FAILURE;
}

static int acked_stream_data_offset(ngtcp2_conn *qc, int64_t stream_id,
                                    uint64_t offset, uint64_t len,
                                    void *user_data, void *stream_user_data) {
  (void)qc;
  (void)offset;
  (void)stream_user_data;
  scone_quic_conn *c = user_data;
  if (c->app == NULL || c->app->acked_stream_data == NULL)
    return 0;
  return c->app->acked_stream_data(c, c->app_data, stream_id, len) == 0
             ? 0
             : NGTCP2_ERR_CALLBACK_FAILURE;
}

static int stream_close(ngtcp2_conn *qc, uint32_t flags, int64_t stream_id,
                        uint64_t app_error_code, void *user_data,
                        void *stream_user_data) {
  (void)qc;
  (void)stream_user_data;
  scone_quic_conn *c = user_data;
  if (c->app == NULL || c->app->stream_close == NULL)
    return 0;
  return c->app->stream_close(c, c->app_data, flags, stream_id,
                              app_error_code) == 0
             ? 0
             : NGTCP2_ERR_CALLBACK_FAILURE;
}

static int stream_reset(ngtcp2_conn *qc, int64_t stream_id, uint64_t final_size,
                        uint64_t app_error_code, void *user_data,
                        void *stream_user_data) {
  (void)qc;
  (void)final_size;
  (void)app_error_code;
  (void)stream_user_data;
  scone_quic_conn *c = user_data;
  if (c->app == NULL || c->app->stream_reset == NULL)
    return 0;
  return c->app->stream_reset(c, c->app_data, stream_id) == 0
             ? 0
             : NGTCP2_ERR_CALLBACK_FAILURE;
}

static int stream_stop_sending(ngtcp2_conn *qc, int64_t stream_id,
                               uint64_t app_error_code, void *user_data,
                               void *stream_user_data) {
  /* HTTP/3 treats STOP_SENDING like a reset of the reading side. */
  return stream_reset(qc, stream_id, 0, app_error_code, user_data,
                      stream_user_data);
}

static int extend_max_stream_data(ngtcp2_conn *qc, int64_t stream_id,
                                  uint64_t max_data, void *user_data,
                                  void *stream_user_data) {
  (void)qc;
  (void)max_data;
  (void)stream_user_data;
  scone_quic_conn *c = user_data;
  if (c->app == NULL || c->app->extend_max_stream_data == NULL)
    return 0;
  return c->app->extend_max_stream_data(c, c->app_data, stream_id) == 0
             ? 0
             : NGTCP2_ERR_CALLBACK_FAILURE;
}

static int extend_max_remote_streams_bidi(ngtcp2_conn *qc, uint64_t max_streams,
                                          void *user_data) {
  (void)qc;
  scone_quic_conn *c = user_data;
  if (c->app == NULL || c->app->extend_max_remote_streams_bidi == NULL)
    return 0;
  return c->app->extend_max_remote_streams_bidi(c, c->app_data, max_streams) ==
                 0
             ? 0
             : NGTCP2_ERR_CALLBACK_FAILURE;
}

static void fill_callbacks(ngtcp2_callbacks *cb, int is_server) {
  memset(cb, 0, sizeof(*cb));
  if (is_server) {
    cb->recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
  } else {
    cb->client_initial = ngtcp2_crypto_client_initial_cb;
    cb->recv_retry = ngtcp2_crypto_recv_retry_cb;
  }
  cb->recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
  cb->encrypt = ngtcp2_crypto_encrypt_cb;
  cb->decrypt = ngtcp2_crypto_decrypt_cb;
  cb->hp_mask = ngtcp2_crypto_hp_mask_cb;
  cb->update_key = ngtcp2_crypto_update_key_cb;
  cb->delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
  cb->delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
  cb->get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
  cb->version_negotiation = ngtcp2_crypto_version_negotiation_cb;
  cb->rand = rand_cb;
  cb->get_new_connection_id = get_new_connection_id;
  cb->remove_connection_id = remove_connection_id;
  cb->handshake_completed = handshake_completed;
  cb->handshake_confirmed = handshake_confirmed;
  cb->recv_stream_data = recv_stream_data;
  cb->acked_stream_data_offset = acked_stream_data_offset;
  cb->stream_close = stream_close;
  cb->stream_reset = stream_reset;
  cb->stream_stop_sending = stream_stop_sending;
  cb->extend_max_stream_data = extend_max_stream_data;
  cb->extend_max_remote_streams_bidi = extend_max_remote_streams_bidi;
}

/* --------------------------------------------------------------- set-up */

static void debug_log(void *user_data, const char *fmt, ...) {
  scone_quic_conn *c = user_data;
  va_list ap;
  fprintf(stderr, "%s: ", c->is_server ? "server" : "client");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

static void fill_settings(scone_quic_conn *c, ngtcp2_settings *st,
                          const ngtcp2_cid *odcid, scone_tstamp now) {
  ngtcp2_settings_default(st);
  st->initial_ts = now;
  /* ngtcp2's own trace, for debugging interop. */
  if (getenv("SCONE_QUIC_DEBUG") != NULL)
    st->log_printf = debug_log;
  st->handshake_timeout = SQ_HANDSHAKE_TIMEOUT;
  st->max_window = 24 * 1024 * 1024;
  st->max_stream_window = 16 * 1024 * 1024;
  /* The full max_udp_payload, SCONE or not: sq_conn_write keeps the SCONE
   * packet in headroom before ngtcp2's output and, when one is due, asks for
   * less (sq_tx_write_cap), so datagrams stay within max_udp_payload.
   * Taking the SCONE room off here would cap PMTUD below 1406 bytes and cost
   * ~7 % goodput on a 1500-byte path. */
  st->max_tx_udp_payload_size = c->s.max_udp_payload;
  st->qlog.write = sq_qlog_write_cb;
  st->qlog.odcid = *odcid;
  c->qlog_ref = now;
}

static void fill_params(scone_quic_conn *c, ngtcp2_transport_params *tp) {
  ngtcp2_transport_params_default(tp);
  tp->initial_max_stream_data_bidi_local = 6 * 1024 * 1024;
  tp->initial_max_stream_data_bidi_remote = 6 * 1024 * 1024;
  tp->initial_max_stream_data_uni = 6 * 1024 * 1024;
  tp->initial_max_data = 15 * 1024 * 1024;
  tp->initial_max_streams_uni = 100;
  tp->initial_max_streams_bidi = c->is_server ? 100 : 0;
  tp->max_idle_timeout = c->s.idle_timeout;
  tp->active_connection_id_limit = 7;
}

/* Keeps the tag safe to print in JSON and logs as it is. */
static void copy_flow_type(char *dst, const char *src) {
  size_t i = 0;
  for (; src[i] != '\0' && i < SCONE_QUIC_FLOW_TYPE_MAX; i++) {
    char ch = src[i];
    int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
             (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
    dst[i] = ok ? ch : '_';
  }
  dst[i] = '\0';
}

static int conn_alloc(scone_quic_conn **pc, const sq_conn_params *p,
                      int is_server) {
  scone_quic_conn *c = calloc(1, sizeof(*c));
  if (c == NULL)
    return SCONE_QUIC_ERR_NOMEM;
  c->is_server = is_server;
  c->send = p->send;
  c->send_ctx = p->send_ctx;
  c->now = p->now;
  c->hooks = sq_test_hooks_get(is_server);
  c->s = *p->settings;
  if (c->s.max_udp_payload < SQ_MIN_UDP_PAYLOAD)
    c->s.max_udp_payload = SQ_MIN_UDP_PAYLOAD;
  if (c->s.max_udp_payload > SQ_MAX_UDP_PAYLOAD)
    c->s.max_udp_payload = SQ_MAX_UDP_PAYLOAD;
  if (c->s.send_interval == 0)
    c->s.send_interval = SCONE_QUIC_DEFAULT_SEND_INTERVAL;
  if (c->s.advice_period == 0)
    c->s.advice_period = SCONE_PERIOD;
  if (c->s.flow_type != NULL)
    copy_flow_type(c->flow_type, c->s.flow_type);
  c->s.flow_type = c->flow_type;
  c->s.qlog_path = NULL; /* not kept: the caller's string */
  if (p->cb != NULL)
    c->cb = *p->cb;
  c->user_data = p->user_data;
  c->indicating = !is_server && c->s.scone_capable &&
                  c->s.indication != SCONE_QUIC_INDICATION_OFF;
  if (sq_random_bytes((uint8_t *)&c->rng, sizeof(c->rng)) != 0 || c->rng == 0)
    c->rng = 0x9E3779B97F4A7C15ULL;
  scone_app_netinfo_state_init(&c->ni, NULL);
  ngtcp2_connection_close_error_default(&c->ccerr);
  c->txcap = SQ_TX_HEADROOM + c->s.max_udp_payload;
  c->txbuf = malloc(c->txcap);
  if (c->txbuf == NULL) {
    free(c);
    return SCONE_QUIC_ERR_NOMEM;
  }
  /* Open before ngtcp2 starts the trace: its header record comes first. */
  if (p->settings->qlog_path != NULL &&
      sq_qlog_open(c, p->settings->qlog_path) != 0) {
    sq_conn_del(c);
    return SCONE_QUIC_ERR_QLOG;
  }
  *pc = c;
  return 0;
}

static int conn_finish(scone_quic_conn *c, const sq_conn_params *p,
                       scone_tstamp now) {
  int rv = sq_tls_session_new(c, p);
  if (rv != 0)
    return rv;
  ngtcp2_conn_set_tls_native_handle(c->qc, c->tls);
  sq_event_parameters(c, 1, c->s.scone_capable, now);
  sq_path_find_or_add(c, p->local, p->remote, now);
  return 0;
}

int sq_conn_client_new(scone_quic_conn **pc, const sq_conn_params *p) {
  scone_quic_conn *c;
  int rv = conn_alloc(&c, p, 0);
  if (rv != 0)
    return rv;
  scone_tstamp now = p->now;
  uint8_t b[2 * SQ_SCIDLEN];
  if (sq_random_bytes(b, sizeof(b)) != 0) {
    sq_conn_del(c);
    return SCONE_QUIC_ERR_TLS;
  }
  ngtcp2_cid dcid, scid;
  ngtcp2_cid_init(&dcid, b, SQ_SCIDLEN);
  ngtcp2_cid_init(&scid, b + SQ_SCIDLEN, SQ_SCIDLEN);

  ngtcp2_callbacks cb;
  ngtcp2_settings st;
  ngtcp2_transport_params tp;
  fill_callbacks(&cb, 0);
  fill_settings(c, &st, &dcid, now);
  fill_params(c, &tp);
  ngtcp2_path path = sq_ngtcp2_path(p->local, p->remote);
  if (ngtcp2_conn_client_new(&c->qc, &dcid, &scid, &path, NGTCP2_PROTO_VER_V1,
                             &cb, &st, &tp, NULL, c) != 0) {
    sq_conn_del(c);
    return SCONE_QUIC_ERR_QUIC;
  }
  add_cid(c, &scid);
  rv = conn_finish(c, p, now);
  if (rv != 0) {
    sq_conn_del(c);
    return rv;
  }
  *pc = c;
  return 0;
}

int sq_conn_server_new(scone_quic_conn **pc, const sq_conn_params *p) {
  scone_quic_conn *c;
  int rv = conn_alloc(&c, p, 1);
  if (rv != 0)
    return rv;
  /* ngtcp2 counts qlog times from initial_ts: it must not be later than
   * the timestamp the first datagram is then read with. */
  scone_tstamp now = p->now;
  uint8_t b[SQ_SCIDLEN];
  if (sq_random_bytes(b, sizeof(b)) != 0) {
    sq_conn_del(c);
    return SCONE_QUIC_ERR_TLS;
  }
  ngtcp2_cid scid;
  ngtcp2_cid_init(&scid, b, sizeof(b));

  ngtcp2_callbacks cb;
  ngtcp2_settings st;
  ngtcp2_transport_params tp;
  fill_callbacks(&cb, 1);
  fill_settings(c, &st, &p->hd->dcid, now);
  fill_params(c, &tp);
  tp.original_dcid = p->hd->dcid;
  tp.stateless_reset_token_present = 1;
  if (sq_random_bytes(tp.stateless_reset_token,
                      sizeof(tp.stateless_reset_token)) != 0) {
    sq_conn_del(c);
    return SCONE_QUIC_ERR_TLS;
  }
  ngtcp2_path path = sq_ngtcp2_path(p->local, p->remote);
  if (ngtcp2_conn_server_new(&c->qc, &p->hd->scid, &scid, &path, p->hd->version,
                             &cb, &st, &tp, NULL, c) != 0) {
    sq_conn_del(c);
    return SCONE_QUIC_ERR_QUIC;
  }
  /* The client keeps addressing its Initials to the DCID it picked until it
   * learns ours. */
  add_cid(c, &p->hd->dcid);
  add_cid(c, &scid);
  rv = conn_finish(c, p, now);
  if (rv != 0) {
    sq_conn_del(c);
    return rv;
  }
  *pc = c;
  return 0;
}

void sq_conn_set_app(scone_quic_conn *c, const sq_app_ops *ops, void *app) {
  c->app = ops;
  c->app_data = app;
}

void sq_conn_del(scone_quic_conn *c) {
  if (c == NULL)
    return;
  if (c->qc != NULL)
    ngtcp2_conn_del(c->qc);
  if (c->tls != NULL)
    gnutls_deinit(c->tls);
  if (c->qlog != NULL)
    fclose(c->qlog);
  free(c->close_pkt);
  free(c->txbuf);
  free(c);
}
