/* nghttp3 glued to ngtcp2 through the connection's sq_app_ops. */
#include "h3.h"

#include <stdlib.h>
#include <string.h>

nghttp3_nv sq_h3_nv(const char *name, const char *value) {
  nghttp3_nv nv;
  nv.name = (uint8_t *)name;
  nv.namelen = strlen(name);
  nv.value = (uint8_t *)value;
  nv.valuelen = strlen(value);
  nv.flags = NGHTTP3_NV_FLAG_NONE;
  return nv;
}

void sq_h3_fields_add(sq_h3_fields *f, const uint8_t *name, size_t namelen,
                      const uint8_t *value, size_t valuelen) {
  size_t need = namelen + valuelen + 2;
  if (f->overflow)
    return;
  if (f->n >= SCONE_QUIC_MAX_HEADERS ||
      f->len + need > SCONE_QUIC_MAX_HEADER_BYTES) {
    f->overflow = 1;
    return;
  }
  if (f->len + need > f->cap) {
    size_t cap = f->cap ? f->cap : 512;
    while (cap < f->len + need)
      cap *= 2;
    char *b = realloc(f->buf, cap);
    if (b == NULL) {
      f->overflow = 1;
      return;
    }
    f->buf = b;
    f->cap = cap;
  }
  char *p = f->buf + f->len;
  memcpy(p, name, namelen);
  p[namelen] = '\0';
  memcpy(p + namelen + 1, value, valuelen);
  p[need - 1] = '\0';
  f->len += need;
  f->n++;
}

size_t sq_h3_fields_list(const sq_h3_fields *f, scone_quic_header *out) {
  const char *p = f->buf;
  for (uint32_t i = 0; i < f->n; i++) {
    out[i].name = p;
    p += strlen(p) + 1;
    out[i].value = p;
    p += strlen(p) + 1;
  }
  return f->n;
}

void sq_h3_fields_clear(sq_h3_fields *f) {
  f->len = 0;
  f->n = 0;
  f->overflow = 0;
}

void sq_h3_fields_free(sq_h3_fields *f) {
  free(f->buf);
  memset(f, 0, sizeof(*f));
}

/* Body bytes handed to the application count as consumed at once: QUIC flow
 * control then tracks what the application has taken, not what nghttp3
 * buffered. */
static void consume(sq_h3 *h, int64_t stream_id, size_t n) {
  ngtcp2_conn_extend_max_stream_offset(h->conn->qc, stream_id, n);
  ngtcp2_conn_extend_max_offset(h->conn->qc, n);
}

/* --------------------------------------------------- nghttp3 callbacks */

static int h3_stream_close(nghttp3_conn *conn, int64_t stream_id,
                           uint64_t app_error_code, void *user,
                           void *stream_user_data) {
  (void)conn;
  sq_h3 *h = user;
  if (h->ev->stream_close == NULL)
    return 0;
  return h->ev->stream_close(h, stream_id, app_error_code, stream_user_data);
}

static int h3_recv_data(nghttp3_conn *conn, int64_t stream_id,
                        const uint8_t *data, size_t len, void *user,
                        void *stream_user_data) {
  (void)conn;
  sq_h3 *h = user;
  consume(h, stream_id, len);
  if (h->ev->recv_data == NULL)
    return 0;
  return h->ev->recv_data(h, stream_id, data, len, stream_user_data);
}

static int h3_deferred_consume(nghttp3_conn *conn, int64_t stream_id,
                               size_t consumed, void *user,
                               void *stream_user_data) {
  (void)conn;
  (void)stream_user_data;
  consume(user, stream_id, consumed);
  return 0;
}

static int h3_recv_header(nghttp3_conn *conn, int64_t stream_id, int32_t token,
                          nghttp3_rcbuf *name, nghttp3_rcbuf *value,
                          uint8_t flags, void *user, void *stream_user_data) {
  (void)conn;
  (void)token;
  (void)flags;
  sq_h3 *h = user;
  if (h->ev->recv_header == NULL)
    return 0;
  nghttp3_vec n = nghttp3_rcbuf_get_buf(name);
  nghttp3_vec v = nghttp3_rcbuf_get_buf(value);
  return h->ev->recv_header(h, stream_id, n.base, n.len, v.base, v.len,
                            stream_user_data);
}

static int h3_end_headers(nghttp3_conn *conn, int64_t stream_id, int fin,
                          void *user, void *stream_user_data) {
  (void)conn;
  (void)fin;
  sq_h3 *h = user;
  if (h->ev->end_headers == NULL)
    return 0;
  return h->ev->end_headers(h, stream_id, stream_user_data);
}

static int h3_end_stream(nghttp3_conn *conn, int64_t stream_id, void *user,
                         void *stream_user_data) {
  (void)conn;
  sq_h3 *h = user;
  if (h->ev->end_stream == NULL)
    return 0;
  return h->ev->end_stream(h, stream_id, stream_user_data);
}

static int h3_stop_sending(nghttp3_conn *conn, int64_t stream_id,
                           uint64_t app_error_code, void *user,
                           void *stream_user_data) {
  (void)conn;
  (void)stream_user_data;
  sq_h3 *h = user;
  int rv =
      ngtcp2_conn_shutdown_stream_read(h->conn->qc, stream_id, app_error_code);
  return rv == 0 || rv == NGTCP2_ERR_STREAM_NOT_FOUND
             ? 0
             : NGHTTP3_ERR_CALLBACK_FAILURE;
}

static int h3_reset_stream(nghttp3_conn *conn, int64_t stream_id,
                           uint64_t app_error_code, void *user,
                           void *stream_user_data) {
  (void)conn;
  (void)stream_user_data;
  sq_h3 *h = user;
  int rv =
      ngtcp2_conn_shutdown_stream_write(h->conn->qc, stream_id, app_error_code);
  return rv == 0 || rv == NGTCP2_ERR_STREAM_NOT_FOUND
             ? 0
             : NGHTTP3_ERR_CALLBACK_FAILURE;
}

void sq_h3_init(sq_h3 *h, scone_quic_conn *conn, const sq_h3_events *ev,
                void *user) {
  memset(h, 0, sizeof(*h));
  h->conn = conn;
  h->ev = ev;
  h->user = user;
}

int sq_h3_setup(sq_h3 *h) {
  if (h->h3 != NULL)
    return 0;
  ngtcp2_conn *qc = h->conn->qc;
  /* HTTP/3 needs three unidirectional streams of its own. */
  if (ngtcp2_conn_get_streams_uni_left(qc) < 3)
    return SCONE_QUIC_ERR_HTTP3;

  nghttp3_callbacks cb;
  memset(&cb, 0, sizeof(cb));
  cb.stream_close = h3_stream_close;
  cb.recv_data = h3_recv_data;
  cb.deferred_consume = h3_deferred_consume;
  cb.recv_header = h3_recv_header;
  cb.end_headers = h3_end_headers;
  cb.end_stream = h3_end_stream;
  cb.stop_sending = h3_stop_sending;
  cb.reset_stream = h3_reset_stream;
  nghttp3_settings st;
  nghttp3_settings_default(&st);
  st.qpack_max_dtable_capacity = 4096;
  st.qpack_blocked_streams = 100;
  /* What a peer may send us in one header section; the client checks it
   * again as fields arrive. */
  st.max_field_section_size = SCONE_QUIC_MAX_HEADER_BYTES;

  int rv = h->conn->is_server
               ? nghttp3_conn_server_new(&h->h3, &cb, &st, NULL, h)
               : nghttp3_conn_client_new(&h->h3, &cb, &st, NULL, h);
  if (rv != 0)
    return SCONE_QUIC_ERR_HTTP3;
  if (h->conn->is_server) {
    const ngtcp2_transport_params *tp =
        ngtcp2_conn_get_local_transport_params(qc);
    nghttp3_conn_set_max_client_streams_bidi(h->h3,
                                             tp->initial_max_streams_bidi);
  }
  int64_t ctrl, enc, dec;
  if (ngtcp2_conn_open_uni_stream(qc, &ctrl, NULL) != 0 ||
      nghttp3_conn_bind_control_stream(h->h3, ctrl) != 0 ||
      ngtcp2_conn_open_uni_stream(qc, &enc, NULL) != 0 ||
      ngtcp2_conn_open_uni_stream(qc, &dec, NULL) != 0 ||
      nghttp3_conn_bind_qpack_streams(h->h3, enc, dec) != 0)
    return SCONE_QUIC_ERR_HTTP3;
  return 0;
}

void sq_h3_forget_stream(sq_h3 *h, int64_t stream_id) {
  if (h->h3 != NULL && stream_id >= 0)
    nghttp3_conn_set_stream_user_data(h->h3, stream_id, NULL);
}

void sq_h3_cancel_stream(sq_h3 *h, int64_t stream_id, uint64_t app_error_code) {
  if (h->h3 == NULL || stream_id < 0)
    return;
  sq_h3_forget_stream(h, stream_id);
  /* Both fail only for a stream already gone, which is what we want. */
  nghttp3_conn_shutdown_stream_read(h->h3, stream_id);
  ngtcp2_conn_shutdown_stream(h->conn->qc, stream_id, app_error_code);
}

void sq_h3_free(sq_h3 *h) {
  if (h->h3 != NULL)
    nghttp3_conn_del(h->h3);
  h->h3 = NULL;
}

/* ------------------------------------ sq_app_ops: ngtcp2 -> nghttp3 */

static int fail(sq_h3 *h, int liberr) {
  sq_conn_set_app_error(h->conn, nghttp3_err_infer_quic_app_error_code(liberr));
  return -1;
}

static int setup_failed(sq_h3 *h) {
  sq_conn_set_app_error(h->conn, NGHTTP3_H3_INTERNAL_ERROR);
  return -1;
}

static int app_handshake_completed(scone_quic_conn *c, void *app) {
  (void)c;
  sq_h3 *h = app;
  return sq_h3_setup(h) == 0 ? 0 : setup_failed(h);
}

static int app_recv_stream_data(scone_quic_conn *c, void *app, uint32_t flags,
                                int64_t stream_id, const uint8_t *data,
                                size_t len) {
  (void)c;
  sq_h3 *h = app;
  /* A request can arrive in the datagram that completes the handshake,
   * before ngtcp2 reports completion. */
  if (h->h3 == NULL && sq_h3_setup(h) != 0)
    return setup_failed(h);
  nghttp3_ssize n = nghttp3_conn_read_stream(
      h->h3, stream_id, data, len, (flags & NGTCP2_STREAM_DATA_FLAG_FIN) != 0);
  if (n < 0)
    return fail(h, (int)n);
  consume(h, stream_id, (size_t)n);
  return 0;
}

static int app_acked_stream_data(scone_quic_conn *c, void *app,
                                 int64_t stream_id, uint64_t len) {
  (void)c;
  sq_h3 *h = app;
  if (h->h3 == NULL)
    return 0;
  int rv = nghttp3_conn_add_ack_offset(h->h3, stream_id, len);
  return rv == 0 ? 0 : fail(h, rv);
}

static int app_stream_close(scone_quic_conn *c, void *app, uint32_t flags,
                            int64_t stream_id, uint64_t app_error_code) {
  sq_h3 *h = app;
  /* The peer's stream limit counts streams opened, not open ones: without a
   * new credit per closed request stream a client stops after the initial
   * limit (a player's 101st segment on one connection). Granted here, where
   * QUIC closes the stream, so a stream HTTP/3 never saw (reset before its
   * first byte) returns its credit too. */
  if (c->is_server && ngtcp2_is_bidi_stream(stream_id) &&
      !ngtcp2_conn_is_local_stream(c->qc, stream_id))
    ngtcp2_conn_extend_max_streams_bidi(c->qc, 1);
  if (h->h3 == NULL)
    return 0;
  if (!(flags & NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET))
    app_error_code = NGHTTP3_H3_NO_ERROR;
  int rv = nghttp3_conn_close_stream(h->h3, stream_id, app_error_code);
  if (rv != 0 && rv != NGHTTP3_ERR_STREAM_NOT_FOUND)
    return fail(h, rv);
  return 0;
}

static int app_stream_reset(scone_quic_conn *c, void *app, int64_t stream_id) {
  (void)c;
  sq_h3 *h = app;
  if (h->h3 == NULL)
    return 0;
  int rv = nghttp3_conn_shutdown_stream_read(h->h3, stream_id);
  return rv == 0 ? 0 : fail(h, rv);
}

static int app_extend_max_stream_data(scone_quic_conn *c, void *app,
                                      int64_t stream_id) {
  (void)c;
  sq_h3 *h = app;
  if (h->h3 == NULL)
    return 0;
  int rv = nghttp3_conn_unblock_stream(h->h3, stream_id);
  return rv == 0 || rv == NGHTTP3_ERR_STREAM_NOT_FOUND ? 0 : fail(h, rv);
}

static int app_extend_max_remote_streams_bidi(scone_quic_conn *c, void *app,
                                              uint64_t max_streams) {
  (void)c;
  sq_h3 *h = app;
  if (h->h3 != NULL)
    nghttp3_conn_set_max_client_streams_bidi(h->h3, max_streams);
  return 0;
}

static int64_t app_pull(scone_quic_conn *c, void *app, int64_t *stream_id,
                        int *fin, ngtcp2_vec *vec, size_t veccnt) {
  (void)c;
  sq_h3 *h = app;
  *stream_id = -1;
  *fin = 0;
  if (h->h3 == NULL)
    return 0;
  if (h->ev->before_pull != NULL && h->ev->before_pull(h) != 0)
    return -1;
  /* nghttp3_vec and ngtcp2_vec are both {uint8_t *base; size_t len}. */
  nghttp3_ssize n = nghttp3_conn_writev_stream(h->h3, stream_id, fin,
                                               (nghttp3_vec *)vec, veccnt);
  if (n < 0) {
    fail(h, (int)n);
    return -1;
  }
  return n;
}

static int app_written(scone_quic_conn *c, void *app, int64_t stream_id,
                       size_t n) {
  (void)c;
  sq_h3 *h = app;
  int rv = nghttp3_conn_add_write_offset(h->h3, stream_id, n);
  return rv == 0 ? 0 : fail(h, rv);
}

static int app_blocked(scone_quic_conn *c, void *app, int64_t stream_id) {
  (void)c;
  sq_h3 *h = app;
  nghttp3_conn_block_stream(h->h3, stream_id);
  return 0;
}

static int app_shutdown_write(scone_quic_conn *c, void *app,
                              int64_t stream_id) {
  (void)c;
  sq_h3 *h = app;
  nghttp3_conn_shutdown_stream_write(h->h3, stream_id);
  return 0;
}

const sq_app_ops sq_h3_app_ops = {
    .on_handshake_completed = app_handshake_completed,
    .recv_stream_data = app_recv_stream_data,
    .acked_stream_data = app_acked_stream_data,
    .stream_close = app_stream_close,
    .stream_reset = app_stream_reset,
    .extend_max_stream_data = app_extend_max_stream_data,
    .extend_max_remote_streams_bidi = app_extend_max_remote_streams_bidi,
    .pull = app_pull,
    .written = app_written,
    .blocked = app_blocked,
    .shutdown_write = app_shutdown_write,
};
