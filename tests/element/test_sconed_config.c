/* Config parsing: the good file, and every error with its file:line. */
#include "harness.h"

#include "units.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *good = "; comment\n"
                          "[global]\n"
                          "period = 90s\n"
                          "tolerance = 20%\n"
                          "initial_rewrites = 2\n"
                          "rewrites_per_period = 3\n"
                          "announce_grace = 10\n"
                          "\n"
                          "[plan hd]\n"
                          "downlink = 2.5Mbit\n"
                          "uplink = 800k\n"
                          "action = shape\n"
                          "rate = 3M\n"
                          "uplink_rate = 1M\n"
                          "burst = 64kB\n"
                          "max_delay = 150ms\n"
                          "[capacity cell.7]\n"
                          "rate = 1G\n"
                          "[subscribers]\n"
                          "subscriber = 10.0.0.0/8 hd opt-in capacity=cell.7\n"
                          "subscriber = 2001:db8::/32 hd\n"
                          "subscriber = 192.0.2.7 hd opt-out\n";

static void good_config(void **state) {
  (void)state;
  char err[256] = "";
  sconed_config *c = sconed_config_parse(good, "good.ini", err, sizeof(err));
  if (!c)
    fail_msg("%s", err);
  assert_int_equal(sconed_config_plan_count(c), 1);
  sconed_plan_info p;
  assert_int_equal(sconed_config_plan(c, 0, &p), 0);
  assert_string_equal(p.name, "hd");
  assert_int_equal(p.downlink_bps, 2500000);
  assert_int_equal(p.uplink_bps, 800000);
  assert_int_equal(p.action, SCONED_ENFORCE_SHAPE);
  assert_int_equal(p.rate_bps, 3000000);
  assert_int_equal(p.burst_bytes, 64000);
  assert_int_equal(p.max_delay, 150 * SCONE_MILLISECONDS);
  assert_int_equal(sconed_config_plan(c, 1, &p), -1);
  uint64_t bps = 0;
  assert_string_equal(sconed_config_capacity(c, 0, &bps), "cell.7");
  assert_int_equal(bps, 1000000000);
  assert_null(sconed_config_capacity(c, 1, &bps));
  assert_int_equal(sconed_config_subscriber_count(c), 3);
  sconed_config_free(c);

  c = sconed_config_default(0, SCONED_ENFORCE_POLICE);
  assert_int_equal(sconed_config_plan(c, 0, &p), 0);
  assert_string_equal(p.name, "default");
  assert_int_equal(p.downlink_bps, SCONED_DEFAULT_ADVICE_BPS);
  assert_int_equal(p.action, SCONED_ENFORCE_POLICE);
  sconed_config_free(c);
}

static void load_from_file(void **state) {
  (void)state;
  char path[] = "/tmp/sconed-test-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fputs(good, f);
  fputs("[plan x]\ndownlink = fast\n", f);
  fclose(f);
  char err[256] = "";
  assert_null(sconed_config_load(path, err, sizeof(err)));
  char want[300];
  snprintf(want, sizeof(want), "%s:24: downlink 'fast'", path);
  assert_true(strncmp(err, want, strlen(want)) == 0);
  unlink(path);
  assert_null(sconed_config_load(path, err, sizeof(err)));
  snprintf(want, sizeof(want), "%s:0: cannot open", path);
  assert_true(strncmp(err, want, strlen(want)) == 0);
}

typedef struct bad_case {
  const char *text;
  const char *error; /* expected prefix, after "bad.ini:" */
} bad_case;

static const bad_case bad[] = {
    {"junk\n", "1: syntax error"},
    {"[plan a\ndownlink = 1M\n", "1: syntax error"},
    {"downlink = 1M\n", "1: key 'downlink' before any [section]"},
    {"[nope]\nx = 1\n", "2: unknown section [nope]"},
    {"[global]\nperiod = 30s\n", "2: period '30s'"},
    {"[global]\nperiod = 67\n", "2: period '67'"},
    /* Shorter than the draft's 67 s only with the lab switch, wherever in
     * the section it stands, and never below 1 s. */
    {"[global]\nperiod = 10s\nlab_short_period = no\n", "2: period '10s'"},
    {"[global]\nlab_short_period = yes\nperiod = 500ms\n", "3: period '500ms'"},
    {"[global]\nlab_short_period = maybe\n", "2: lab_short_period 'maybe'"},
    {"[global]\nlab_short_period = no\nlab_short_period = no\n",
     "3: duplicate key"},
    {"[global]\nperiod = 10s\nlab_short_period = yes\n", NULL},
    {"[global]\nlab_short_period = yes\nperiod = 1s\n", NULL},
    {"[global]\nlab_short_period = yes\n", NULL},
    {"[global]\ngtpu_teid = teid\n", "2: gtpu_teid 'teid': yes or no"},
    {"[global]\ngtpu_teid = yes\ngtpu_teid = no\n", "3: duplicate key"},
    {"[global]\ngtpu_teid = yes\n", NULL},
    {"[global]\ntolerance = lots\n", "2: tolerance 'lots'"},
    {"[global]\nrewrites_per_period = 1\n", "2: rewrites_per_period '1'"},
    {"[global]\nrewrites_per_period = 9\n", "2: rewrites_per_period '9'"},
    {"[global]\ninitial_rewrites = 99\n", "2: initial_rewrites '99'"},
    {"[global]\nannounce_grace = 300\n", "2: announce_grace '300'"},
    {"[global]\ncolour = blue\n", "2: unknown key 'colour' in [global]"},
    {"[global]\ntolerance = 5\ntolerance = 6\n", "3: duplicate key"},
    {"[plan a]\ndownlink = 5Q\n", "2: downlink '5Q'"},
    {"[plan a]\ndownlink = 50k\n", "2: downlink '50k': below 100k"},
    {"[plan a]\ndownlink = 1.0000001M\n", "2: downlink '1.0000001M'"},
    {"[plan a]\ndownlink = 99999999999999999999\n", "2: downlink"},
    {"[plan a]\naction = throttle\n", "2: action 'throttle'"},
    {"[plan a]\naction = police\n", "2: plan a: action police needs"},
    {"[plan a]\nburst = 10\n", "2: burst '10'"},
    {"[plan a]\nmax_delay = 1h\n", "2: max_delay '1h'"},
    {"[plan a]\nspeed = 1M\n", "2: unknown key 'speed' in [plan a]"},
    {"[plan a b]\ndownlink = 1M\n", "2: plan name 'a b'"},
    {"[plan ]\ndownlink = 1M\n", "2: plan section needs a name"},
    {"[plan a]\ndownlink = 1M\ndownlink = 2M\n", "3: duplicate key"},
    {"[capacity c]\nbps = 1M\n", "2: unknown key 'bps' in [capacity c]"},
    {"[capacity c]\nrate = 1M\n[capacity d]\nrate = x\n", "4: rate 'x'"},
    {"[subscribers]\n10.0.0.0/8 = a\n", "2: unknown key '10.0.0.0/8'"},
    {"[subscribers]\nsubscriber = 10.0.0.1/8 a\n", "2: '10.0.0.1/8' is not"},
    {"[subscribers]\nsubscriber = 10.0.0.0/33 a\n", "2: '10.0.0.0/33' is not"},
    {"[subscribers]\nsubscriber = fe80::/200 a\n", "2: 'fe80::/200' is not"},
    {"[subscribers]\nsubscriber = 10.0.0.0/8\n", "2: subscriber 10.0.0.0/8 "
                                                 "needs a plan"},
    {"[plan a]\ndownlink = 1M\n[subscribers]\n"
     "subscriber = 10.0.0.0/8 a opt-in opt-out\n",
     "4: opt-in/opt-out given twice"},
    {"[plan a]\ndownlink = 1M\n[subscribers]\n"
     "subscriber = 10.0.0.0/8 a sometimes\n",
     "4: unknown word 'sometimes'"},
    {"[plan a]\ndownlink = 1M\n[subscribers]\n"
     "subscriber = 10.0.0.0/8 a\nsubscriber = 10.1.0.0/16 b\n",
     "5: unknown plan 'b'"},
    {"[subscribers]\nsubscriber = 10.0.0.0/8 a capacity=c\n"
     "[plan a]\ndownlink = 1M\n",
     "2: unknown capacity 'c'"},
    {"[plan a]\ndownlink = 1M\n[subscribers]\n"
     "subscriber = 2001:db8::/32 a\nsubscriber = 2001:db8:0::/32 a\n",
     "5: subscriber prefix given twice"},
    {"[capacity c]\n", NULL}, /* an empty section is no error */
};

static void bad_configs(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char err[256] = "";
    sconed_config *c =
        sconed_config_parse(bad[i].text, "bad.ini", err, sizeof(err));
    if (!bad[i].error) {
      assert_non_null(c);
      sconed_config_free(c);
      continue;
    }
    if (c)
      fail_msg("case %zu parsed: %s", i, bad[i].text);
    char want[256];
    snprintf(want, sizeof(want), "bad.ini:%s", bad[i].error);
    if (strncmp(err, want, strlen(want)))
      fail_msg("case %zu: got '%s', want '%s...'", i, err, want);
  }
  /* A line longer than inih can hold is an error, not two lines. */
  char longline[400] = "[plan a]\ndownlink = 1M";
  size_t n = strlen(longline);
  memset(longline + n, ' ', 300);
  strcpy(longline + n + 300, "\n");
  char err[256];
  assert_null(sconed_config_parse(longline, "long.ini", err, sizeof(err)));
  assert_true(strncmp(err, "long.ini:2: line longer", 23) == 0);
}

static void units(void **state) {
  (void)state;
  uint64_t v;
  assert_int_equal(sconed_parse_bps("5M", &v), 0);
  assert_int_equal(v, 5000000);
  assert_int_equal(sconed_parse_bps("2.5mbit/s", &v), 0);
  assert_int_equal(v, 2500000);
  assert_int_equal(sconed_parse_bps("800kbps", &v), 0);
  assert_int_equal(v, 800000);
  assert_int_equal(sconed_parse_bps("1G", &v), 0);
  assert_int_equal(v, 1000000000);
  assert_int_equal(sconed_parse_bps("", &v), -1);
  assert_int_equal(sconed_parse_bps("-5M", &v), -1);
  assert_int_equal(sconed_parse_bps("5.M", &v), -1);
  assert_int_equal(sconed_parse_bps("0.5", &v), -1);
  sconed_enforce en;
  assert_int_equal(sconed_enforce_parse("shape", &en), 0);
  assert_int_equal(en, SCONED_ENFORCE_SHAPE);
  assert_int_equal(sconed_enforce_parse("Shape", &en), -1);
}

static void bad_reload_keeps_running_config(void **state) {
  (void)state;
  sconed_engine *e = h_engine("[plan a]\ndownlink = 2M\n[subscribers]\n"
                              "subscriber = 0.0.0.0/0 a opt-in\n",
                              0);
  char err[256];
  sconed_config *c =
      sconed_config_parse("[plan a]\ndownlink = x\n", "r.ini", err, 256);
  assert_null(c);
  assert_int_equal(sconed_engine_set_config(e, c), -1);
  sconed_plan_info p;
  assert_int_equal(sconed_config_plan(sconed_engine_config(e), 0, &p), 0);
  assert_int_equal(p.downlink_bps, 2000000);
  sconed_engine_free(e);
}

/* Rates above 1 Tbit/s would overflow the token refill. */
static void rates_above_1t_refused(void **state) {
  (void)state;
  char err[256] = "";
  sconed_config *c = sconed_config_parse("[plan a]\ndownlink = 1001G\n",
                                         "bad.ini", err, sizeof(err));
  assert_null(c);
  assert_non_null(strstr(err, "bad.ini:2: downlink '1001G'"));
  c = sconed_config_parse("[capacity c]\nrate = 5000G\n", "bad.ini", err,
                          sizeof(err));
  assert_null(c);
  assert_non_null(strstr(err, "bad.ini:2: rate '5000G'"));
  c = sconed_config_parse("[plan a]\ndownlink = 1000G\n", "ok.ini", err,
                          sizeof(err));
  assert_non_null(c);
  sconed_config_free(c);

  sconed_engine *e = h_engine("[plan p]\n"
                              "downlink = 50M\n"
                              "action = police\n"
                              "[capacity c]\n"
                              "rate = 20M\n"
                              "[subscribers]\n"
                              "subscriber = 10.0.0.0/24 p opt-in capacity=c\n",
                              0);
  assert_int_equal(
      sconed_engine_set_capacity(e, "c", SCONED_MAX_RATE_BPS + 1, T0), -2);
  assert_int_equal(sconed_engine_set_capacity(e, "c", 3000000000000ULL, T0),
                   -2);
  /* Below the lowest signal no packet could carry the ceiling. */
  assert_int_equal(
      sconed_engine_set_capacity(e, "c", SCONED_MIN_RATE_BPS - 1, T0), -2);
  assert_int_equal(sconed_engine_set_capacity(e, "nope", 1000000, T0), -1);
  /* Refused: the advice stays at 20M. */
  pg_flow f;
  pg_flow_make(&f, 0, 8, 40008);
  h_hello(e, &f, 0, T0);
  h_pkt k;
  h_scone(e, &f, 0, SCONE_SIGNAL_UNKNOWN, 200, T0 + 1, &k);
  assert_int_equal(pg_signal(k.b, k.len), (int)scone_rate_to_signal(20000000));
  /* The ceiling itself is taken. */
  assert_int_equal(
      sconed_engine_set_capacity(e, "c", SCONED_MAX_RATE_BPS, T0 + 2), 0);
  sconed_engine_free(e);
}

typedef struct log_lines {
  int lab;
} log_lines;

static void on_log(void *arg, int level, const char *msg) {
  log_lines *l = arg;
  if (level == SCONED_LOG_ERROR && strstr(msg, "not draft-conforming") &&
      strstr(msg, "10000 ms"))
    l->lab++;
}

/* A lab's short period is visible: in the config's view and in a log line
 * at every swap that brings it (start-up and reloads). */
static void lab_short_period(void **state) {
  (void)state;
  char err[256] = "";
  sconed_config *c =
      sconed_config_parse("[global]\nperiod = 10s\nlab_short_period = yes\n",
                          "lab.ini", err, sizeof(err));
  assert_non_null(c);
  assert_true(sconed_config_period(c) == 10 * SCONE_SECONDS);
  assert_int_equal(sconed_config_lab_period(c), 1);
  sconed_config *d = sconed_config_default(0, SCONED_ENFORCE_NONE);
  assert_true(sconed_config_period(d) == SCONE_PERIOD);
  assert_int_equal(sconed_config_lab_period(d), 0);
  /* The switch alone changes nothing: the period stays 67 s. */
  sconed_config *g = sconed_config_parse("[global]\nlab_short_period = yes\n",
                                         "lab.ini", err, sizeof(err));
  assert_int_equal(sconed_config_lab_period(g), 0);

  sconed_engine_settings s;
  h_settings(&s);
  log_lines l = {0};
  s.log = on_log;
  s.log_arg = &l;
  sconed_engine *e = sconed_engine_new(&s);
  assert_non_null(e);
  assert_int_equal(l.lab, 0);
  assert_int_equal(sconed_engine_set_config(e, c), 0);
  assert_int_equal(l.lab, 1);
  assert_int_equal(sconed_engine_set_config(e, d), 0);
  assert_int_equal(sconed_engine_set_config(e, g), 0);
  assert_int_equal(l.lab, 1);
  sconed_engine_free(e);
}

typedef struct plan_names {
  char names[8][64];
  uint64_t down[8];
  int n;
} plan_names;

static void collect_plan(const sconed_plan_metrics *m, void *arg) {
  plan_names *p = arg;
  assert_true(p->n < 8);
  snprintf(p->names[p->n], sizeof(p->names[0]), "%s", m->plan);
  p->down[p->n++] = m->downlink_bps;
}

static plan_names plans_of(sconed_engine *e) {
  plan_names p;
  memset(&p, 0, sizeof(p));
  sconed_engine_metrics(e, collect_plan, &p);
  return p;
}

static sconed_config *cfg_of(const char *text) {
  char err[256];
  sconed_config *c = sconed_config_parse(text, "m.ini", err, sizeof(err));
  if (!c)
    fail_msg("%s", err);
  return c;
}

/* Metrics list the running config's plans and those of earlier configs
 * that counted something; not the embedded default the engine runs until
 * its first config (it was listed with advice 0 after every start with a
 * config file), nor a plan that was dropped without ever counting. */
static void metrics_plans_after_reload(void **state) {
  (void)state;
  sconed_engine *e = h_engine("[plan gold]\ndownlink = 5M\n[subscribers]\n"
                              "subscriber = 10.0.0.0/8 gold opt-in\n",
                              0);
  plan_names p = plans_of(e);
  assert_int_equal(p.n, 1);
  assert_string_equal(p.names[0], "gold");
  pg_flow f;
  pg_flow_make(&f, 0, 1, 40000);
  h_hello(e, &f, 1, T0);
  assert_int_equal(sconed_engine_set_config(
                       e, cfg_of("[plan silver]\ndownlink = 2M\n"
                                 "[plan bronze]\ndownlink = 1M\n"
                                 "[subscribers]\n"
                                 "subscriber = 10.0.0.0/8 silver opt-in\n")),
                   0);
  p = plans_of(e);
  assert_int_equal(p.n, 3); /* silver, bronze, then gold with its count */
  assert_string_equal(p.names[0], "silver");
  assert_string_equal(p.names[1], "bronze");
  assert_string_equal(p.names[2], "gold");
  assert_int_equal(p.down[2], 0);
  assert_int_equal(
      sconed_engine_set_config(e, cfg_of("[plan silver]\ndownlink = 2M\n"
                                         "[subscribers]\n"
                                         "subscriber = 10.0.0.0/8 silver "
                                         "opt-in\n")),
      0);
  p = plans_of(e);
  assert_int_equal(p.n, 2);
  assert_string_equal(p.names[0], "silver");
  assert_string_equal(p.names[1], "gold");
  for (int i = 0; i < p.n; i++)
    assert_string_not_equal(p.names[i], "default");
  sconed_engine_free(e);

  /* Without a config file the default is the running plan, and stays
   * listed after a reload once it counted. */
  e = h_engine(NULL, 0);
  h_hello(e, &f, 1, T0);
  assert_int_equal(
      sconed_engine_set_config(e, cfg_of("[plan silver]\ndownlink = 2M\n")), 0);
  p = plans_of(e);
  assert_int_equal(p.n, 2);
  assert_string_equal(p.names[1], "default");
  sconed_engine_free(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(good_config),
      cmocka_unit_test(load_from_file),
      cmocka_unit_test(bad_configs),
      cmocka_unit_test(rates_above_1t_refused),
      cmocka_unit_test(units),
      cmocka_unit_test(bad_reload_keeps_running_config),
      cmocka_unit_test(lab_short_period),
      cmocka_unit_test(metrics_plans_after_reload),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
