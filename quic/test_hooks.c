/* The test seam of test_hooks.h: one pointer per role. */
#include "test_hooks.h"

#include <stdatomic.h>

/* Atomic: a test sets them on its own thread before a server thread reads
 * them. */
static const struct scone_quic_test_hooks *_Atomic hooks[2];

void sq_test_hooks_set(int is_server, const struct scone_quic_test_hooks *h) {
  atomic_store(&hooks[is_server != 0], h);
}

const struct scone_quic_test_hooks *sq_test_hooks_get(int is_server) {
  return atomic_load(&hooks[is_server != 0]);
}
