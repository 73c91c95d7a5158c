/*
 * The legacy element's unit tests' common set-up (legacy_fixture.h).
 */
#include "legacy_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

int legacy_fixture_setup(void **state, const char *config) {
  static legacy_fixture fx;
  sconed_engine_settings es;
  sconed_engine_settings_default(&es);
  es.max_flows = 1024;
  es.seed_source = SCONED_SEED_FIXED;
  es.seed = 1;
  fx.e = sconed_engine_new(&es);
  assert_non_null(fx.e);
  legacy_dpi_settings ls;
  legacy_dpi_settings_default(&ls);
  ls.max_flows = 1024;
  ls.seed = 7;
  fx.l = legacy_dpi_new(&ls, fx.e);
  assert_non_null(fx.l);
  char err[256];
  sconed_config *c = sconed_config_parse(config, "t.ini", err, sizeof(err));
  if (!c)
    fail_msg("%s", err);
  assert_int_equal(legacy_dpi_set_config(fx.l, c), 0);
  *state = &fx;
  return 0;
}

int legacy_fixture_teardown(void **state) {
  legacy_fixture *fx = *state;
  legacy_dpi_free(fx->l);
  sconed_engine_free(fx->e);
  return 0;
}

legacy_dpi_stats legacy_fixture_stats(const legacy_fixture *fx) {
  legacy_dpi_stats st;
  legacy_dpi_stats_get(fx->l, &st);
  return st;
}
