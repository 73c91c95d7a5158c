/*
 * Shared helpers of the engine tests: an engine on a fixed hash key and a
 * synthetic clock, and one-call packet senders.
 */
#ifndef SCONED_TEST_HARNESS_H
#define SCONED_TEST_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the four above first. */
#include <cmocka.h>

#include "engine.h"
#include "pktgen.h"

#include <string.h>

/* A period boundary, so "second s of period k" is easy to write. */
#define T0 ((scone_tstamp)1000 * SCONE_PERIOD)
#define SEC(s) ((scone_tstamp)((s) * (double)SCONE_SECONDS))

/* Default settings on the fixed hash key, for tests to adjust. */
static inline void h_settings(sconed_engine_settings *s) {
  sconed_engine_settings_default(s);
  s->seed_source = SCONED_SEED_FIXED;
  s->seed = 42;
}

/* An engine on the given settings and, unless NULL, this configuration. */
static inline sconed_engine *h_engine_with(const sconed_engine_settings *s,
                                           const char *cfg_text) {
  sconed_engine *e = sconed_engine_new(s);
  assert_non_null(e);
  if (cfg_text) {
    char err[256] = "";
    sconed_config *c =
        sconed_config_parse(cfg_text, "test.ini", err, sizeof(err));
    if (!c)
      fail_msg("config: %s", err);
    assert_int_equal(sconed_engine_set_config(e, c), 0);
  }
  return e;
}

static inline sconed_engine *h_engine(const char *cfg_text, uint32_t max) {
  sconed_engine_settings s;
  h_settings(&s);
  if (max)
    s.max_flows = max;
  return h_engine_with(&s, cfg_text);
}

typedef struct h_pkt {
  uint8_t b[1600];
  size_t len;
  uint8_t orig[1600];
  sconed_verdict v;
} h_pkt;

/* Runs one packet with the given payload through the engine. */
static inline void h_send(sconed_engine *e, const pg_flow *f, int to_server,
                          const uint8_t *payload, size_t plen, scone_tstamp now,
                          h_pkt *out) {
  out->len = pg_ip(out->b, sizeof(out->b), f, to_server, payload, plen, 1);
  assert_true(out->len > 0);
  memcpy(out->orig, out->b, out->len);
  sconed_engine_process_ip(e, out->b, out->len, now, &out->v);
}

/* A SCONE datagram of len bytes with the given signal. */
static inline void h_scone(sconed_engine *e, const pg_flow *f, int to_server,
                           unsigned signal, size_t len, scone_tstamp now,
                           h_pkt *out) {
  uint8_t p[1500];
  assert_true(pg_scone(p, len, signal) == len);
  h_send(e, f, to_server, p, len, now, out);
}

static inline void h_short(sconed_engine *e, const pg_flow *f, int to_server,
                           size_t len, scone_tstamp now, h_pkt *out) {
  uint8_t p[1500];
  pg_short(p, len);
  h_send(e, f, to_server, p, len, now, out);
}

/* The client's first datagram: a QUIC Initial, announced or not. */
static inline void h_hello(sconed_engine *e, const pg_flow *f, int announce,
                           scone_tstamp now) {
  uint8_t p[1200];
  pg_initial(p, sizeof(p), announce);
  h_pkt k;
  h_send(e, f, 1, p, sizeof(p), now, &k);
  assert_int_equal(k.v.action, SCONED_PASS);
  assert_int_equal(k.v.modified, 0);
}

typedef struct h_find {
  const char *plan;
  sconed_plan_metrics m;
  int found;
} h_find;

static inline void h_metrics_cb(const sconed_plan_metrics *m, void *arg) {
  h_find *f = arg;
  if (!strcmp(m->plan, f->plan)) {
    f->m = *m;
    f->found = 1;
  }
}

static inline sconed_plan_metrics h_plan(sconed_engine *e, const char *plan) {
  h_find f = {plan, {0}, 0};
  sconed_engine_metrics(e, h_metrics_cb, &f);
  assert_true(f.found);
  return f.m;
}

/* xorshift64: the tests' repeatable random numbers. */
static inline uint64_t h_xorshift(uint64_t *state) {
  uint64_t x = *state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *state = x;
}

#endif
