/*
 * GnuTLS for QUIC. ngtcp2_crypto_gnutls_configure_*_session() would register
 * the quic_transport_parameters extension itself, and GnuTLS allows one
 * handler per extension, so this file installs the same secret/read/alert
 * functions that configure does and leaves the extension to tp.c, which
 * adds scone_supported.
 */
#include "internal.h"
#include "test_hooks.h"

#include <gnutls/x509.h>
#include <string.h>

/* TLS 1.3 only, the ciphers QUIC v1 defines, and the usual groups: the same
 * choice as ngtcp2's examples, so interop needs no tuning. */
#define PRIORITY_BASE                                                          \
  "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:"       \
  "+CHACHA20-POLY1305:+AES-128-CCM:-GROUP-ALL:+GROUP-X25519:"                  \
  "+GROUP-SECP256R1:+GROUP-SECP384R1:+GROUP-SECP521R1"
/* RFC 9001 section 8.4: a QUIC client must not ask for TLS 1.3's middlebox
 * compatibility mode (a 32-byte legacy_session_id, then ChangeCipherSpec),
 * which GnuTLS uses unless told; picotls-based servers close the
 * connection over it. */
static const char PRIORITY[] = PRIORITY_BASE ":%DISABLE_TLS13_COMPAT_MODE";
/* What GnuTLS does by default: the tests' client that breaks the rule. */
static const char PRIORITY_COMPAT[] = PRIORITY_BASE;

/* ClientHello body: legacy_version (2), random (32), then the
 * legacy_session_id's length byte. */
#define CH_SESSION_ID_LEN_AT 34

static const char ALPN_H3[] = "h3";

static scone_quic_conn *conn_of(gnutls_session_t session) {
  ngtcp2_crypto_conn_ref *ref = gnutls_session_get_ptr(session);
  return ref->user_data;
}

static ngtcp2_conn *get_conn(ngtcp2_crypto_conn_ref *ref) {
  return ((scone_quic_conn *)ref->user_data)->qc;
}

static int secret_func(gnutls_session_t session,
                       gnutls_record_encryption_level_t gtls_level,
                       const void *rx_secret, const void *tx_secret,
                       size_t secretlen) {
  scone_quic_conn *c = conn_of(session);
  ngtcp2_crypto_level level =
      ngtcp2_crypto_gnutls_from_gnutls_record_encryption_level(gtls_level);
  if (rx_secret != NULL &&
      ngtcp2_crypto_derive_and_install_rx_key(c->qc, NULL, NULL, NULL, level,
                                              rx_secret, secretlen) != 0)
    return -1;
  if (tx_secret != NULL &&
      ngtcp2_crypto_derive_and_install_tx_key(c->qc, NULL, NULL, NULL, level,
                                              tx_secret, secretlen) != 0)
    return -1;
  return 0;
}

static int read_func(gnutls_session_t session,
                     gnutls_record_encryption_level_t gtls_level,
                     gnutls_handshake_description_t htype, const void *data,
                     size_t len) {
  scone_quic_conn *c = conn_of(session);
  if (htype == GNUTLS_HANDSHAKE_CHANGE_CIPHER_SPEC)
    return 0;
  ngtcp2_crypto_level level =
      ngtcp2_crypto_gnutls_from_gnutls_record_encryption_level(gtls_level);
  int rv = ngtcp2_conn_submit_crypto_data(c->qc, level, data, len);
  if (rv != 0) {
    ngtcp2_conn_set_tls_error(c->qc, rv);
    return -1;
  }
  return 0;
}

static int alert_read_func(gnutls_session_t session,
                           gnutls_record_encryption_level_t level,
                           gnutls_alert_level_t alert_level,
                           gnutls_alert_description_t desc) {
  (void)level;
  (void)alert_level;
  ngtcp2_conn_set_tls_alert(conn_of(session)->qc, (uint8_t)desc);
  return 0;
}

/* RFC 9001 section 8.4: "A server SHOULD treat the receipt of a TLS
 * ClientHello with a non-empty legacy_session_id field as a connection
 * error of type PROTOCOL_VIOLATION." We do: answering with the
 * compatibility mode's ChangeCipherSpec is no option in QUIC, and a client
 * that asks for it would fail against other servers anyway. */
static int client_hello_hook(gnutls_session_t session, unsigned htype,
                             unsigned when, unsigned incoming,
                             const gnutls_datum_t *msg) {
  (void)when;
  if (htype != GNUTLS_HANDSHAKE_CLIENT_HELLO || !incoming ||
      msg->size <= CH_SESSION_ID_LEN_AT || msg->data[CH_SESSION_ID_LEN_AT] == 0)
    return 0; /* a message too short for it is GnuTLS's to reject */
  scone_quic_conn *c = conn_of(session);
  c->compat_mode = 1;
  sq_conn_set_transport_error(c, NGTCP2_PROTOCOL_VIOLATION,
                              "TLS 1.3 compatibility mode (RFC 9001 8.4)");
  /* A crypto error, which ngtcp2 turns into a close: other errors in a
   * server's first Initial make it drop the connection without a word. */
  ngtcp2_conn_set_tls_error(c->qc, NGTCP2_ERR_CRYPTO);
  return GNUTLS_E_ILLEGAL_PARAMETER;
}

int sq_tls_client_cred(gnutls_certificate_credentials_t *cred,
                       const char *ca_file, int verify) {
  if (gnutls_certificate_allocate_credentials(cred) != 0)
    return SCONE_QUIC_ERR_TLS;
  if (!verify)
    return 0;
  int rv = ca_file != NULL ? gnutls_certificate_set_x509_trust_file(
                                 *cred, ca_file, GNUTLS_X509_FMT_PEM)
                           : gnutls_certificate_set_x509_system_trust(*cred);
  if (rv < 0) {
    gnutls_certificate_free_credentials(*cred);
    return SCONE_QUIC_ERR_TLS;
  }
  return 0;
}

int sq_tls_server_cred(gnutls_certificate_credentials_t *cred,
                       const char *cert_file, const char *key_file) {
  if (gnutls_certificate_allocate_credentials(cred) != 0)
    return SCONE_QUIC_ERR_TLS;
  if (gnutls_certificate_set_x509_key_file(*cred, cert_file, key_file,
                                           GNUTLS_X509_FMT_PEM) != 0) {
    gnutls_certificate_free_credentials(*cred);
    return SCONE_QUIC_ERR_CERT;
  }
  return 0;
}

int sq_tls_session_new(scone_quic_conn *c, const sq_conn_params *p) {
  unsigned flags = c->is_server ? GNUTLS_SERVER : GNUTLS_CLIENT;
  if (gnutls_init(&c->tls, flags) != 0)
    return SCONE_QUIC_ERR_TLS;
  int compat = !c->is_server && c->hooks != NULL && c->hooks->tls_compat_mode;
  if (gnutls_priority_set_direct(c->tls, compat ? PRIORITY_COMPAT : PRIORITY,
                                 NULL) != 0 ||
      gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, p->cred) != 0)
    return SCONE_QUIC_ERR_TLS;
  if (c->is_server)
    gnutls_handshake_set_hook_function(c->tls, GNUTLS_HANDSHAKE_CLIENT_HELLO,
                                       GNUTLS_HOOK_PRE, client_hello_hook);

  gnutls_handshake_set_secret_function(c->tls, secret_func);
  gnutls_handshake_set_read_function(c->tls, read_func);
  gnutls_alert_set_read_function(c->tls, alert_read_func);
  if (sq_tp_register(c) != 0)
    return SCONE_QUIC_ERR_TLS;

  gnutls_datum_t alpn = {(unsigned char *)ALPN_H3, sizeof(ALPN_H3) - 1};
  /* Mandatory on the server: HTTP/3 is all it speaks. */
  if (gnutls_alpn_set_protocols(c->tls, &alpn, 1,
                                c->is_server ? GNUTLS_ALPN_MANDATORY : 0) != 0)
    return SCONE_QUIC_ERR_TLS;

  if (!c->is_server) {
    if (p->sni != NULL && p->sni[0] != '\0' &&
        gnutls_server_name_set(c->tls, GNUTLS_NAME_DNS, p->sni,
                               strlen(p->sni)) != 0)
      return SCONE_QUIC_ERR_TLS;
    if (p->verify)
      gnutls_session_set_verify_cert(c->tls, p->verify_host, 0);
  }

  c->conn_ref.get_conn = get_conn;
  c->conn_ref.user_data = c;
  gnutls_session_set_ptr(c->tls, &c->conn_ref);
  return 0;
}
