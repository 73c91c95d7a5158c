/*
 * The quic_transport_parameters TLS extension (0x39) with scone_supported.
 * ngtcp2 encodes and decodes its own parameters and skips unknown ones, so
 * scone_supported is appended to its blob on the way out and looked for in
 * the raw blob on the way in, before ngtcp2 sees it.
 */
#include "internal.h"
#include "test_hooks.h"

#define TP_EXT_ID 0x39
#define TP_BUF 512

static scone_quic_conn *conn_of(gnutls_session_t session) {
  ngtcp2_crypto_conn_ref *ref = gnutls_session_get_ptr(session);
  return ref->user_data;
}

static int tp_recv(gnutls_session_t session, const uint8_t *data, size_t len) {
  scone_quic_conn *c = conn_of(session);
  /* An endpoint that does not do SCONE does not judge the parameter; it is
   * just an unknown one to skip. */
  if (c->s.scone_capable) {
    int found = scone_tp_find(data, len);
    if (found == SCONE_ERR_TRANSPORT_PARAMETER) {
      c->tp_error = 1;
      sq_conn_set_transport_error(c, NGTCP2_TRANSPORT_PARAMETER_ERROR,
                                  "scone_supported is not empty");
      ngtcp2_conn_set_tls_error(c->qc, NGTCP2_ERR_TRANSPORT_PARAM);
      return -1;
    }
    /* A blob that does not parse is left to ngtcp2, which rejects it with
     * its own, more specific, error. */
    if (found == 1)
      c->peer_scone = 1;
    sq_event_parameters(c, 0, found == 1, c->now);
  }
  int rv = ngtcp2_conn_decode_remote_transport_params(c->qc, data, len);
  if (rv != 0) {
    c->peer_scone = 0;
    ngtcp2_conn_set_tls_error(c->qc, rv);
    return -1;
  }
  return 0;
}

/* The test hook's broken parameter: id 0x219e, length 1, value 0. */
static scone_ssize encode_nonempty(uint8_t *dst, size_t len) {
  scone_ssize n = scone_varint_put(dst, len, SCONE_TP_SCONE_SUPPORTED);
  if (n < 0 || (size_t)n + 2 > len)
    return SCONE_ERR_NOBUF;
  dst[n] = 1;
  dst[n + 1] = 0;
  return n + 2;
}

static int tp_send(gnutls_session_t session, gnutls_buffer_t extdata) {
  scone_quic_conn *c = conn_of(session);
  uint8_t buf[TP_BUF];
  ngtcp2_ssize n =
      ngtcp2_conn_encode_local_transport_params(c->qc, buf, sizeof(buf));
  if (n < 0)
    return -1;
  size_t len = (size_t)n;
  if (c->s.scone_capable) {
    const struct scone_quic_test_hooks *h = c->hooks;
    scone_ssize m = h != NULL && h->tp_nonempty
                        ? encode_nonempty(buf + len, sizeof(buf) - len)
                        : scone_tp_encode(buf + len, sizeof(buf) - len);
    if (m < 0)
      return -1;
    len += (size_t)m;
  }
  return gnutls_buffer_append_data(extdata, buf, len) == 0 ? 0 : -1;
}

int sq_tp_register(scone_quic_conn *c) {
  int rv = gnutls_session_ext_register(
      c->tls, "QUIC Transport Parameters", TP_EXT_ID, GNUTLS_EXT_TLS, tp_recv,
      tp_send, NULL, NULL, NULL,
      GNUTLS_EXT_FLAG_TLS | GNUTLS_EXT_FLAG_CLIENT_HELLO | GNUTLS_EXT_FLAG_EE);
  return rv == 0 ? 0 : -1;
}
