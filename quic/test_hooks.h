/*
 * Fault injection for the tests in tests/quic. A connection only looks at
 * these when scone_quic_settings.test_hooks points here; nothing in the
 * programs sets it.
 */
#ifndef SCONE_QUIC_TEST_HOOKS_H
#define SCONE_QUIC_TEST_HOOKS_H

#include <stddef.h>
#include <stdint.h>

struct scone_quic_test_hooks {
  /* Send scone_supported with a one-byte value, which the peer must reject
   * with TRANSPORT_PARAMETER_ERROR. */
  int tp_nonempty;
};

#endif /* SCONE_QUIC_TEST_HOOKS_H */
