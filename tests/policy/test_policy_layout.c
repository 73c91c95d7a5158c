/* The store's key layout: key names, URLs, entry checks, and the build
 * of file + store into one config, with errors that name no entry. */
#include "policy.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static int kp(const char *ns, const char *key, const char **name,
              size_t *nl) {
  return sconed_policy_key_parse(ns, key, strlen(key), name, nl);
}

static void keys(void **state) {
  (void)state;
  const char *name;
  size_t nl;
  assert_int_equal(kp("scone", "scone:plan:gold", &name, &nl),
                   SCONED_POLICY_PLAN);
  assert_int_equal(nl, 4);
  assert_memory_equal(name, "gold", 4);
  assert_int_equal(kp("scone", "scone:cell:c-1.a", &name, &nl),
                   SCONED_POLICY_CELL);
  assert_int_equal(kp("scone", "scone:sub:imsi:001010123456789", &name, &nl),
                   SCONED_POLICY_SUB);
  assert_int_equal(nl, strlen("imsi:001010123456789"));
  /* Other namespaces, kinds, empty or unusable names. */
  assert_int_equal(kp("scone", "other:plan:gold", &name, &nl), -1);
  assert_int_equal(kp("scone", "sconex:plan:gold", &name, &nl), -1);
  assert_int_equal(kp("scone", "scone:version", &name, &nl), -1);
  assert_int_equal(kp("scone", "scone:plan:", &name, &nl), -1);
  assert_int_equal(kp("scone", "scone:plans:gold", &name, &nl), -1);
  assert_int_equal(kp("scone", "scone:plan:go ld", &name, &nl), -1);
  assert_int_equal(kp("scone", "scone:plan:a]b", &name, &nl), -1);
  assert_int_equal(kp("scone", "scone:sub:a\nb", &name, &nl), -1);
  assert_int_equal(kp("scone", "scone", &name, &nl), -1);
  char longname[300] = "scone:plan:";
  memset(longname + 11, 'a', 64);
  assert_int_equal(kp("scone", longname, &name, &nl), -1);
  assert_true(sconed_policy_ns_valid("fleet-1.eu"));
  assert_false(sconed_policy_ns_valid(""));
  assert_false(sconed_policy_ns_valid("a:b"));
}

static void urls(void **state) {
  (void)state;
  char host[64], err[128];
  int port;
  assert_int_equal(sconed_policy_url_parse("redis://127.0.0.1:7000", host,
                                           sizeof(host), &port, err,
                                           sizeof(err)),
                   0);
  assert_string_equal(host, "127.0.0.1");
  assert_int_equal(port, 7000);
  assert_int_equal(sconed_policy_url_parse("redis://[::1]:7001", host,
                                           sizeof(host), &port, err,
                                           sizeof(err)),
                   0);
  assert_string_equal(host, "::1");
  assert_int_equal(port, 7001);
  assert_int_equal(sconed_policy_url_parse("redis://store", host,
                                           sizeof(host), &port, err,
                                           sizeof(err)),
                   0);
  assert_int_equal(port, 6379);
  const char *bad[] = {"http://x:1", "redis://", "redis://h:0",
                       "redis://h:65536", "redis://h:1x", "redis://[::1",
                       "redis://[::1]x"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
    assert_int_equal(sconed_policy_url_parse(bad[i], host, sizeof(host),
                                             &port, err, sizeof(err)),
                     -1);
}

/* Sets an entry from "field", "value", ... pairs. */
static int set(sconed_policy_snapshot *s, int kind, const char *name,
               const char **fv, size_t n, char *err) {
  size_t fl[32];
  for (size_t i = 0; i < 2 * n; i++)
    fl[i] = strlen(fv[i]);
  return sconed_policy_snapshot_set(s, kind, name, strlen(name), fv, fl, n,
                                    err, 200);
}

static const char *gold[] = {"downlink", "2M", "action", "none"};
static const char *cell[] = {"rate", "50M"};
static const char *alice[] = {"prefixes", "10.0.0.1/32,2001:db8::/64",
                              "plan", "gold", "optin", "yes", "cell", "c1"};
static const char *bob[] = {"prefixes", "10.0.0.2", "plan", "gold"};

static sconed_policy_snapshot *sample(void) {
  sconed_policy_snapshot *s = sconed_policy_snapshot_new();
  char err[200];
  assert_non_null(s);
  assert_int_equal(set(s, SCONED_POLICY_PLAN, "gold", gold, 2, err), 0);
  assert_int_equal(set(s, SCONED_POLICY_CELL, "c1", cell, 1, err), 0);
  assert_int_equal(set(s, SCONED_POLICY_SUB, "imsi-alice", alice, 4, err), 0);
  assert_int_equal(set(s, SCONED_POLICY_SUB, "imsi-bob", bob, 2, err), 0);
  return s;
}

static void build(void **state) {
  (void)state;
  sconed_policy_snapshot *s = sample();
  char err[300];
  sconed_config *c = sconed_policy_build(s, NULL, NULL, err, sizeof(err));
  if (!c)
    fail_msg("%s", err);
  assert_int_equal(sconed_config_plan_count(c), 1);
  assert_int_equal(sconed_config_capacity_count(c), 1);
  /* Alice's two prefixes are two entries of the config. */
  assert_int_equal(sconed_config_subscriber_count(c), 3);
  size_t in, out;
  sconed_config_optin_counts(c, &in, &out);
  assert_int_equal(in, 2);
  assert_int_equal(out, 1);
  sconed_policy_snapshot_optin(s, &in, &out);
  assert_int_equal(in, 1);
  assert_int_equal(out, 1);
  sconed_plan_info pi;
  assert_int_equal(sconed_config_plan(c, 0, &pi), 0);
  assert_int_equal(pi.downlink_bps, 2000000);
  sconed_config_free(c);

  /* A change replaces the entry; a deletion (no fields) removes it. */
  const char *gold3[] = {"downlink", "3M"};
  assert_int_equal(set(s, SCONED_POLICY_PLAN, "gold", gold3, 1, err), 0);
  assert_int_equal(set(s, SCONED_POLICY_SUB, "imsi-bob", NULL, 0, err), 0);
  assert_int_equal(sconed_policy_snapshot_count(s, SCONED_POLICY_SUB), 1);
  c = sconed_policy_build(s, NULL, NULL, err, sizeof(err));
  assert_non_null(c);
  assert_int_equal(sconed_config_plan(c, 0, &pi), 0);
  assert_int_equal(pi.downlink_bps, 3000000);
  assert_int_equal(sconed_config_subscriber_count(c), 2);
  sconed_config_free(c);

  /* On top of a file: its [global] and plans stay, the store adds. */
  const char *base = "[global]\nperiod = 90s\n[plan file]\ndownlink = 1M";
  c = sconed_policy_build(s, base, "f.ini", err, sizeof(err));
  if (!c)
    fail_msg("%s", err);
  assert_int_equal(sconed_config_plan_count(c), 2);
  assert_int_equal(sconed_config_period(c), 90 * SCONE_SECONDS);
  sconed_config_free(c);
  /* The file's own errors are the file's, with its line. */
  c = sconed_policy_build(s, "[plan x]\ndownlink = fast\n", "f.ini", err,
                          sizeof(err));
  assert_null(c);
  assert_non_null(strstr(err, "f.ini:2: "));
  sconed_policy_snapshot_free(s);
}

/* No message names a subscriber id, a plan, a cell or a prefix. */
static void no_identifier(const char *err) {
  const char *ids[] = {"imsi-alice", "imsi-bob", "gold", "c1", "10.0.0",
                       "2001:db8", "ghost", "9.9.9.9"};
  for (size_t i = 0; i < sizeof(ids) / sizeof(*ids); i++)
    if (strstr(err, ids[i]))
      fail_msg("'%s' named in: %s", ids[i], err);
}

static void rejects(void **state) {
  (void)state;
  sconed_policy_snapshot *s = sample();
  char err[300];
  const char *unknown[] = {"downlink", "2M", "colour", "red"};
  const char *newline[] = {"downlink", "2M\n[plan evil]"};
  const char *spaced[] = {"downlink", "2 M"};
  const char *nocell[] = {"speed", "1M"};
  const char *twocell[] = {"rate", "1M", "rate", "2M"};
  const char *noplan[] = {"prefixes", "10.0.0.9/32"};
  const char *badpfx[] = {"prefixes", "9.9.9.9/8", "plan", "gold"};
  const char *badopt[] = {"prefixes", "10.0.0.9", "plan", "gold", "optin",
                          "maybe"};
  struct {
    int kind;
    const char *name;
    const char **fv;
    size_t n;
  } bad[] = {
      {SCONED_POLICY_PLAN, "gold", unknown, 2},
      {SCONED_POLICY_PLAN, "gold", newline, 1},
      {SCONED_POLICY_PLAN, "gold", spaced, 1},
      {SCONED_POLICY_CELL, "c1", nocell, 1},
      {SCONED_POLICY_CELL, "c1", twocell, 2},
      {SCONED_POLICY_SUB, "imsi-alice", noplan, 1},
      {SCONED_POLICY_SUB, "imsi-alice", badpfx, 2},
      {SCONED_POLICY_SUB, "imsi-alice", badopt, 3},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
    sconed_policy_snapshot *t = sample();
    size_t before = sconed_policy_snapshot_count(t, bad[i].kind);
    err[0] = '\0';
    assert_int_equal(set(t, bad[i].kind, bad[i].name, bad[i].fv, bad[i].n,
                         err),
                     -1);
    assert_true(err[0]);
    no_identifier(err);
    /* The bad entry is left out, the rest stays. */
    assert_int_equal(sconed_policy_snapshot_count(t, bad[i].kind),
                     before - 1);
    sconed_policy_snapshot_free(t);
  }
  /* Whole-build errors: a subscriber of no plan, a prefix twice, a plan
   * in both file and store. The reason names the kind only. */
  const char *ghost[] = {"prefixes", "10.0.0.7", "plan", "ghost"};
  assert_int_equal(set(s, SCONED_POLICY_SUB, "imsi-ghost", ghost, 2, err), 0);
  assert_null(sconed_policy_build(s, NULL, NULL, err, sizeof(err)));
  assert_non_null(strstr(err, "subscriber entry"));
  no_identifier(err);
  assert_int_equal(set(s, SCONED_POLICY_SUB, "imsi-ghost", NULL, 0, err), 0);
  const char *twice[] = {"prefixes", "10.0.0.2", "plan", "gold"};
  assert_int_equal(set(s, SCONED_POLICY_SUB, "imsi-bob2", twice, 2, err), 0);
  assert_null(sconed_policy_build(s, NULL, NULL, err, sizeof(err)));
  no_identifier(err);
  assert_int_equal(set(s, SCONED_POLICY_SUB, "imsi-bob2", NULL, 0, err), 0);
  assert_null(sconed_policy_build(s, "[plan gold]\ndownlink = 1M\n", "f.ini",
                                  err, sizeof(err)));
  assert_non_null(strstr(err, "plan entry"));
  no_identifier(err);
  sconed_policy_snapshot_free(s);
}

/* Run-time opt-in: a copy with one entry's flag changed; the original
 * stays as it was (the engine may still be using it). */
static void optin_clone(void **state) {
  (void)state;
  sconed_policy_snapshot *s = sample();
  char err[300];
  sconed_config *c = sconed_policy_build(s, NULL, NULL, err, sizeof(err));
  assert_non_null(c);
  sconed_config *d = sconed_config_clone(c);
  assert_non_null(d);
  const uint8_t bob_addr[4] = {10, 0, 0, 2}, none[4] = {192, 0, 2, 1};
  assert_int_equal(sconed_config_set_optin(d, 4, bob_addr, 1), 1);
  assert_int_equal(sconed_config_set_optin(d, 4, bob_addr, 1), 0);
  assert_int_equal(sconed_config_set_optin(d, 4, none, 1), -1);
  size_t in, out;
  sconed_config_optin_counts(d, &in, &out);
  assert_int_equal(in, 3);
  sconed_config_optin_counts(c, &in, &out);
  assert_int_equal(in, 2);
  sconed_config_free(c);
  sconed_config_free(d);
  sconed_policy_snapshot_free(s);
}

/* Many entries: the table grows and every one is found again. */
static void many(void **state) {
  (void)state;
  sconed_policy_snapshot *s = sconed_policy_snapshot_new();
  char err[200], name[32], pfx[32];
  assert_int_equal(set(s, SCONED_POLICY_PLAN, "gold", gold, 2, err), 0);
  for (int i = 0; i < 5000; i++) {
    snprintf(name, sizeof(name), "sub-%d", i);
    snprintf(pfx, sizeof(pfx), "10.1.%d.%d", i / 256, i % 256);
    const char *fv[] = {"prefixes", pfx, "plan", "gold", "optin",
                        i % 3 ? "no" : "yes"};
    assert_int_equal(set(s, SCONED_POLICY_SUB, name, fv, 3, err), 0);
  }
  for (int i = 0; i < 5000; i += 2) {
    snprintf(name, sizeof(name), "sub-%d", i);
    assert_int_equal(set(s, SCONED_POLICY_SUB, name, NULL, 0, err), 0);
  }
  assert_int_equal(sconed_policy_snapshot_count(s, SCONED_POLICY_SUB), 2500);
  sconed_config *c = sconed_policy_build(s, NULL, NULL, err, sizeof(err));
  assert_non_null(c);
  assert_int_equal(sconed_config_subscriber_count(c), 2500);
  size_t in, out;
  sconed_policy_snapshot_optin(s, &in, &out);
  size_t cin, cout;
  sconed_config_optin_counts(c, &cin, &cout);
  assert_int_equal(in, cin);
  assert_int_equal(out, cout);
  sconed_config_free(c);
  sconed_policy_snapshot_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(keys),    cmocka_unit_test(urls),
      cmocka_unit_test(build),   cmocka_unit_test(rejects),
      cmocka_unit_test(optin_clone), cmocka_unit_test(many),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
