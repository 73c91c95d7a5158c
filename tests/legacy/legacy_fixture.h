/*
 * The legacy element's unit tests' common set-up: the sconed engine and
 * the legacy element in front of it, 1024 flows each with fixed seeds,
 * running the test's configuration.
 */
#ifndef LEGACY_FIXTURE_H
#define LEGACY_FIXTURE_H

#include "legacy.h"

typedef struct legacy_fixture {
  sconed_engine *e;
  legacy_dpi *l;
} legacy_fixture;

/* A cmocka setup: *state becomes a fixture running config (a cmocka
 * failure when any step fails). One fixture at a time: cmocka runs the
 * tests of a group one after the other. */
int legacy_fixture_setup(void **state, const char *config);

/* The matching teardown. */
int legacy_fixture_teardown(void **state);

/* The element's counters now. */
legacy_dpi_stats legacy_fixture_stats(const legacy_fixture *fx);

#endif
