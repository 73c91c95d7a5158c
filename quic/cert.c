/* A self-signed certificate for test and demo servers, made with GnuTLS. */
#include "internal.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gnutls/x509.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int write_file(const char *path, const gnutls_datum_t *d, int mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return SCONE_QUIC_ERR_CERT;
  ssize_t n = write(fd, d->data, d->size);
  int ok = n == (ssize_t)d->size;
  return close(fd) == 0 && ok ? 0 : SCONE_QUIC_ERR_CERT;
}

static int add_ip_san(gnutls_x509_crt_t crt, const char *ip) {
  uint8_t b[16];
  size_t len;
  if (inet_pton(AF_INET, ip, b) == 1)
    len = 4;
  else if (inet_pton(AF_INET6, ip, b) == 1)
    len = 16;
  else
    return -1;
  return gnutls_x509_crt_set_subject_alt_name(
      crt, GNUTLS_SAN_IPADDRESS, b, (unsigned)len, GNUTLS_FSAN_APPEND);
}

static int add_san(gnutls_x509_crt_t crt, const char *host) {
  if (add_ip_san(crt, host) == 0)
    return 0;
  return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, host,
                                              (unsigned)strlen(host),
                                              GNUTLS_FSAN_APPEND);
}

int scone_quic_make_self_signed(const char *cert_file, const char *key_file,
                                const char *host) {
  gnutls_x509_privkey_t key = NULL;
  gnutls_x509_crt_t crt = NULL;
  gnutls_datum_t kpem = {NULL, 0}, cpem = {NULL, 0};
  int rv = SCONE_QUIC_ERR_CERT;
  uint8_t serial[16];
  time_t now = time(NULL);

  if (gnutls_x509_privkey_init(&key) != 0 ||
      gnutls_x509_privkey_generate(
          key, GNUTLS_PK_ECDSA,
          GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) != 0 ||
      gnutls_x509_crt_init(&crt) != 0)
    goto out;
  if (sq_random_bytes(serial, sizeof(serial)) != 0)
    goto out;
  serial[0] &= 0x7f; /* a positive serial number */
  if (gnutls_x509_crt_set_version(crt, 3) != 0 ||
      gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)) != 0 ||
      gnutls_x509_crt_set_activation_time(crt, now - 3600) != 0 ||
      gnutls_x509_crt_set_expiration_time(crt, now + 365 * 24 * 3600) != 0 ||
      gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
                                    "localhost", 9) != 0 ||
      gnutls_x509_crt_set_key(crt, key) != 0 ||
      gnutls_x509_crt_set_basic_constraints(crt, 0, -1) != 0 ||
      gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE) != 0 ||
      gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0) !=
          0)
    goto out;
  if (add_san(crt, "localhost") != 0 || add_san(crt, "127.0.0.1") != 0 ||
      add_san(crt, "::1") != 0 || (host != NULL && add_san(crt, host) != 0))
    goto out;
  if (gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0) != 0 ||
      gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &kpem) != 0 ||
      gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cpem) != 0)
    goto out;
  if ((rv = write_file(key_file, &kpem, 0600)) == 0)
    rv = write_file(cert_file, &cpem, 0644);
out:
  gnutls_free(kpem.data);
  gnutls_free(cpem.data);
  if (crt != NULL)
    gnutls_x509_crt_deinit(crt);
  if (key != NULL)
    gnutls_x509_privkey_deinit(key);
  return rv;
}
