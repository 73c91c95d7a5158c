/*
 * Fault injection for the tests in tests/quic: a seam outside the public
 * API. Nothing in the programs sets it; a connection takes the hooks of its
 * role when it is created.
 */
#ifndef SCONE_QUIC_TEST_HOOKS_H
#define SCONE_QUIC_TEST_HOOKS_H

#include <stddef.h>
#include <stdint.h>

struct scone_quic_test_hooks {
  /* Send scone_supported with a one-byte value, which the peer must reject
   * with TRANSPORT_PARAMETER_ERROR. */
  int tp_nonempty;
  /* Client: request TLS 1.3 middlebox compatibility mode (a 32-byte
   * legacy_session_id), which RFC 9001 section 8.4 forbids in QUIC. */
  int tls_compat_mode;
};

/* The hooks for connections of one role (is_server 0 or 1) created from now
 * on; NULL for none. Set them before the endpoints start. */
void sq_test_hooks_set(int is_server, const struct scone_quic_test_hooks *h);
const struct scone_quic_test_hooks *sq_test_hooks_get(int is_server);

#endif /* SCONE_QUIC_TEST_HOOKS_H */
