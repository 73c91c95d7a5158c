/*
 * sconed's command line: which mode each combination of options selects,
 * the settings it hands the engine and the datapaths, and every rejected
 * combination or value with exit status 2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include "options.h"

/* Parses a NULL-terminated list of arguments after the program name (the
 * reasons for refusals go to stderr, as they would for a user). */
#define PARSE(o, ...) parse(o, (const char *[]){"sconed", __VA_ARGS__, NULL})

static int parse(sconed_options *o, const char **args) {
  char *argv[32];
  int argc = 0;
  while (args[argc]) {
    argv[argc] = (char *)args[argc];
    argc++;
  }
  argv[argc] = NULL;
  return sconed_options_parse(o, argc, argv);
}

static void modes(void **state) {
  (void)state;
  sconed_options o;
  assert_int_equal(PARSE(&o, "--pcap-in", "a", "--pcap-out", "b"), 0);
  assert_int_equal(o.mode, SCONED_MODE_OFFLINE);
  /* Offline runs are reproducible: a fixed hash key. */
  assert_int_equal(o.engine.seed_source, SCONED_SEED_FIXED);
  assert_int_equal(PARSE(&o, "--nfqueue", "3:5"), 0);
  assert_int_equal(o.mode, SCONED_MODE_NFQUEUE);
  assert_int_equal(o.nfq.queue_lo, 3);
  assert_int_equal(o.nfq.queue_hi, 5);
  assert_int_equal(o.engine.seed_source, SCONED_SEED_GETRANDOM);
  assert_int_equal(PARSE(&o, "--nfqueue", "7"), 0);
  assert_int_equal(o.nfq.queue_lo, 7);
  assert_int_equal(o.nfq.queue_hi, 7);
  assert_int_equal(PARSE(&o, "--relay", "127.0.0.1:1", "--upstream",
                         "127.0.0.1:2", "--control", "127.0.0.1:9100"),
                   0);
  assert_int_equal(o.mode, SCONED_MODE_RELAY);
  assert_string_equal(o.relay.listen, "127.0.0.1:1");
  assert_string_equal(o.relay.upstream, "127.0.0.1:2");
  assert_string_equal(o.control, "127.0.0.1:9100");
  /* --check-config wins over whatever else is given. */
  assert_int_equal(PARSE(&o, "--check-config", "x.ini", "--nfqueue", "1"), 0);
  assert_int_equal(o.mode, SCONED_MODE_CHECK_CONFIG);
  assert_string_equal(o.check_config, "x.ini");
  assert_int_equal(PARSE(&o, "--help"), 0);
  assert_int_equal(o.mode, SCONED_MODE_HELP);
}

static void settings_reach_engine_and_datapaths(void **state) {
  (void)state;
  sconed_options o;
  assert_int_equal(PARSE(&o, "--nfqueue", "0", "--nfqueue-batch", "1",
                         "--nfqueue-maxlen", "100", "--max-flows", "1000",
                         "--max-subscribers", "0", "--seed", "7",
                         "--log-addresses", "--quiet", "--advice", "3M",
                         "--enforce", "police"),
                   0);
  /* One packet per receive cannot batch its verdicts. */
  assert_int_equal(o.nfq.batch, 1);
  assert_false(o.nfq.batch_verdicts);
  assert_int_equal(o.nfq.queue_maxlen, 100);
  assert_int_equal(o.nfq.threads, 0); /* one per queue */
  assert_int_equal(o.engine.max_flows, 1000);
  assert_int_equal(o.engine.max_subscribers, 0);
  assert_int_equal(o.engine.seed_source, SCONED_SEED_FIXED);
  assert_int_equal(o.engine.seed, 7);
  assert_true(o.engine.log_addresses);
  assert_true(o.quiet);
  assert_int_equal(o.advice_bps, 3000000);
  assert_int_equal(o.enforce, SCONED_ENFORCE_POLICE);
  assert_null(o.config);
  /* Defaults where nothing was said. */
  assert_int_equal(
      PARSE(&o, "--relay", "[::1]:0", "--upstream", "h:1", "--relay-idle", "5"),
      0);
  assert_int_equal(o.relay.idle_ms, 5000);
  assert_int_equal(o.nfq.batch, 32);
  assert_true(o.nfq.batch_verdicts);
  assert_int_equal(o.engine.max_flows, 65536);
  assert_int_equal(o.advice_bps, 0);
  assert_int_equal(o.enforce, SCONED_ENFORCE_NONE);
  assert_int_equal(PARSE(&o, "--nfqueue", "0:3", "--nfqueue-threads", "2"), 0);
  assert_int_equal(o.nfq.queue_lo, 0);
  assert_int_equal(o.nfq.queue_hi, 3);
  assert_int_equal(o.nfq.threads, 2);
  assert_true(o.nfq.keeper); /* on unless refused */
  assert_int_equal(PARSE(&o, "--nfqueue", "0", "--nfqueue-no-keeper"), 0);
  assert_false(o.nfq.keeper);
}

static void bad_values_refused(void **state) {
  (void)state;
  sconed_options o;
  const char *queues[] = {"5:3", "x", "", "70000", "1:", ":2", "-1"};
  for (size_t i = 0; i < sizeof(queues) / sizeof(*queues); i++)
    assert_int_equal(PARSE(&o, "--nfqueue", queues[i]), 2);
  assert_int_equal(PARSE(&o, "--nfqueue", "0", "--nfqueue-batch", "0"), 2);
  assert_int_equal(PARSE(&o, "--nfqueue", "0", "--nfqueue-batch", "1025"), 2);
  assert_int_equal(PARSE(&o, "--nfqueue", "0", "--nfqueue-maxlen", "0"), 2);
  assert_int_equal(PARSE(&o, "--nfqueue", "0", "--nfqueue-threads", "0"), 2);
  assert_int_equal(PARSE(&o, "--nfqueue", "0", "--nfqueue-threads", "1025"), 2);
  assert_int_equal(
      PARSE(&o, "--relay", "a:1", "--upstream", "b:2", "--relay-idle", "0"), 2);
  assert_int_equal(PARSE(&o, "--nfqueue", "0", "--advice", "50k"), 2);
  assert_int_equal(PARSE(&o, "--nfqueue", "0", "--advice", "2T"), 2);
  assert_int_equal(PARSE(&o, "--nfqueue", "0", "--enforce", "drop"), 2);
  assert_int_equal(PARSE(&o, "--nfqueue", "0", "--max-flows", "0"), 2);
  assert_int_equal(PARSE(&o, "--nfqueue", "0", "--max-flows", "268435457"), 2);
  assert_int_equal(PARSE(&o, "--nfqueue", "0", "--max-subscribers", "16777201"),
                   2);
  assert_int_equal(PARSE(&o, "--nfqueue", "0", "--seed", "-1"), 2);
  assert_int_equal(PARSE(&o, "--nfqueue", "0", "--bogus"), 2);
  assert_int_equal(PARSE(&o, "--nfqueue", "0", "stray"), 2);
}

static void bad_combinations_refused(void **state) {
  (void)state;
  sconed_options o;
  /* No mode at all. */
  assert_int_equal(PARSE(&o, "--quiet"), 2);
  assert_int_equal(PARSE(&o, "--pcap-in", "a"), 2);
  assert_int_equal(PARSE(&o, "--pcap-out", "b"), 2);
  assert_int_equal(
      PARSE(&o, "--pcap-in", "a", "--pcap-out", "b", "--nfqueue", "0"), 2);
  assert_int_equal(
      PARSE(&o, "--pcap-in", "a", "--pcap-out", "b", "--control", "c"), 2);
  /* Relay and NFQUEUE are separate modes; the relay needs its upstream. */
  assert_int_equal(PARSE(&o, "--nfqueue", "0", "--relay", "127.0.0.1:1",
                         "--upstream", "127.0.0.1:2"),
                   2);
  assert_int_equal(PARSE(&o, "--relay", "127.0.0.1:1"), 2);
  assert_int_equal(PARSE(&o, "--upstream", "127.0.0.1:2"), 2);
  assert_int_equal(PARSE(&o, "--control", "127.0.0.1:9100"), 2);
  /* The built-in plan's options do not mix with a config file. */
  assert_int_equal(
      PARSE(&o, "--nfqueue", "0", "--config", "f.ini", "--advice", "3M"), 2);
  assert_int_equal(
      PARSE(&o, "--nfqueue", "0", "--config", "f.ini", "--enforce", "shape"),
      2);
  assert_int_equal(PARSE(&o, "--nfqueue", "0", "--config", "f.ini"), 0);
  assert_string_equal(o.config, "f.ini");
  /* The XDP path follows a store (its changes are published as reloads
   * are); the legacy element has no XDP or relay path. */
  assert_int_equal(PARSE(&o, "--xdp", "veth0"), 0);
  assert_int_equal(
      PARSE(&o, "--xdp", "veth0", "--policy-store", "redis://127.0.0.1:6379"),
      0);
  assert_int_equal(PARSE(&o, "--xdp", "veth0", "--legacy-dpi"), 2);
  assert_int_equal(PARSE(&o, "--nfqueue", "0", "--legacy-dpi", "--policy-store",
                         "redis://127.0.0.1:6379"),
                   0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(modes),
      cmocka_unit_test(settings_reach_engine_and_datapaths),
      cmocka_unit_test(bad_values_refused),
      cmocka_unit_test(bad_combinations_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
