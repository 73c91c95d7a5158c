/* The fast path is only a shortcut: one random packet sequence through an
 * engine as built and through one whose every packet takes the full path
 * gives the same verdicts, rewrites, counters and gauges. */
#include "harness.h"

#include "engine_internal.h"

#include <stdio.h>

#define P SCONE_PERIOD

/* Police, shape and no action; small rates so that monitoring, marking
 * and enforcement all happen; ties on the IPv6 catch-all. */
static const char *cfg = "[plan pol]\n"
                         "downlink = 600k\n"
                         "uplink = 300k\n"
                         "action = police\n"
                         "burst = 5k\n"
                         "[plan shp]\n"
                         "downlink = 800k\n"
                         "action = shape\n"
                         "max_delay = 100ms\n"
                         "[plan none]\n"
                         "downlink = 500k\n"
                         "[subscribers]\n"
                         "subscriber = 10.0.0.0/9 pol opt-in\n"
                         "subscriber = 10.128.0.0/9 shp opt-in\n"
                         "subscriber = 2001:db8::/32 none opt-in\n";

static uint64_t rng = 0x2545f4914f6cdd1dULL;
static uint64_t rnd(void) {
  return h_xorshift(&rng);
}

typedef struct pair {
  sconed_engine *e[2]; /* [1]: slow only */
} pair;

static void metrics_cb(const sconed_plan_metrics *m, void *arg) {
  sconed_plan_metrics *out = arg;
  for (; out->plan; out++)
    ;
  *out = *m;
  out->plan = "x"; /* the name is valid during the callback only */
}

static void same_state(pair *p) {
  sconed_engine_stats s[2];
  sconed_plan_metrics m[2][8];
  memset(m, 0, sizeof(m));
  for (int k = 0; k < 2; k++) {
    sconed_engine_stats_get(p->e[k], &s[k]);
    sconed_engine_metrics(p->e[k], metrics_cb, m[k]);
  }
  assert_memory_equal(&s[0], &s[1], sizeof(s[0]));
  assert_memory_equal(m[0], m[1], sizeof(m[0]));
}

/* One payload for flow i: an Initial (announced or not) first, then
 * short-header packets, SCONE packets with a random signal, or junk. */
static size_t payload(uint8_t *b, uint32_t seq, int scone_flow) {
  size_t len = 100 + rnd() % 1100;
  unsigned r = (unsigned)(rnd() % 16);
  if (seq == 0)
    return pg_initial(b, len, scone_flow);
  if (scone_flow && r < 4)
    return pg_scone(b, len, (unsigned)(rnd() % (SCONE_SIGNAL_MAX + 2)));
  if (r == 15) {
    for (size_t i = 0; i < len; i++)
      b[i] = (uint8_t)rnd();
    return len;
  }
  return pg_short(b, len);
}

static void run(int batch) {
  pair p;
  for (int k = 0; k < 2; k++)
    p.e[k] = h_engine(cfg, 512); /* smaller than the flows: admission */
  sconed_engine_slow_only(p.e[1], 1);
  enum { FLOWS = 600, N = 200000, B = 16 };
  static pg_flow fl[FLOWS];
  static uint32_t seq[FLOWS];
  for (uint32_t i = 0; i < FLOWS; i++) {
    /* 4 flows per subscriber, both IPv4 plans and IPv6. */
    uint32_t sub = i / 4;
    int v6 = sub % 3 == 2;
    pg_flow_make(&fl[i], v6, v6 ? sub : (sub % 2 ? 0x800000U : 0) | sub,
                 (uint16_t)(40000 + i));
    seq[i] = 0;
  }
  static uint8_t pk[2][B][1300];
  size_t len[B];
  scone_tstamp now = T0;
  for (int n = 0; n < N; n += B) {
    /* Mostly microseconds apart, now and then a jump over a rewrite slot,
     * a period or the idle timeout. */
    unsigned r = (unsigned)(rnd() % 10000);
    now += r < 9992 ? 1 + rnd() % 200000 : SEC(1) + rnd() % (P / 2);
    if (n == N / 2)
      now += 2 * P;
    for (int j = 0; j < B; j++) {
      uint32_t f = (uint32_t)(rnd() % FLOWS);
      uint8_t pl[1300];
      size_t plen = payload(pl, seq[f], f % 2 == 0);
      int to_server = seq[f]++ == 0 || rnd() % 3 == 0;
      len[j] =
          pg_ip(pk[0][j], sizeof(pk[0][j]), &fl[f], to_server, pl, plen, 1);
      /* Now and then a truncated datagram (down to nothing): the batch
       * sorts packets by their first byte before parsing. */
      if (rnd() % 64 == 0)
        len[j] = rnd() % 60;
      memcpy(pk[1][j], pk[0][j], len[j]);
    }
    sconed_verdict v[2][B];
    for (int k = 0; k < 2; k++) {
      if (batch) {
        uint8_t *ptr[B];
        for (int j = 0; j < B; j++)
          ptr[j] = pk[k][j];
        sconed_engine_process_ip_batch(p.e[k], ptr, len, B, now, v[k]);
      } else {
        for (int j = 0; j < B; j++)
          sconed_engine_process_ip(p.e[k], pk[k][j], len[j], now + (unsigned)j,
                                   &v[k][j]);
      }
    }
    for (int j = 0; j < B; j++) {
      assert_int_equal(v[0][j].action, v[1][j].action);
      assert_int_equal(v[0][j].modified, v[1][j].modified);
      assert_true(v[0][j].release_at == v[1][j].release_at);
      assert_memory_equal(pk[0][j], pk[1][j], len[j]);
    }
    if (n % 4096 == 0)
      same_state(&p);
  }
  same_state(&p);
  sconed_engine_stats st;
  sconed_engine_stats_get(p.e[0], &st);
  /* The sequence must have reached the interesting paths at all. */
  assert_true(st.evicted_young + st.evicted_idle > 0);
  assert_true(st.not_quic_flows > 0);
  sconed_plan_metrics m[8];
  memset(m, 0, sizeof(m));
  sconed_engine_metrics(p.e[0], metrics_cb, m);
  assert_true(m[0].drops > 0 && m[0].rewrites > 0 && m[0].confirms > 0);
  for (int k = 0; k < 2; k++)
    sconed_engine_free(p.e[k]);
}

static void single(void **state) {
  (void)state;
  run(0);
}

static void batched(void **state) {
  (void)state;
  run(1);
}

/* One seeded random sequence (the generator above, with a period jump)
 * through e: a digest of every verdict and output byte, and the counters
 * and metrics afterwards. */
typedef struct outcome {
  uint64_t digest;
  sconed_engine_stats st;
  sconed_plan_metrics m[8];
} outcome;

static outcome sequence(sconed_engine *e, uint64_t seed, int n) {
  enum { FLOWS = 300 };
  static pg_flow fl[FLOWS];
  static uint32_t seq[FLOWS];
  rng = seed;
  for (uint32_t i = 0; i < FLOWS; i++) {
    uint32_t sub = i / 4;
    int v6 = sub % 3 == 2;
    pg_flow_make(&fl[i], v6, v6 ? sub : (sub % 2 ? 0x800000U : 0) | sub,
                 (uint16_t)(40000 + i));
    seq[i] = 0;
  }
  outcome o;
  memset(&o, 0, sizeof(o));
  o.digest = 14695981039346656037ULL;
  scone_tstamp now = T0;
  for (int i = 0; i < n; i++) {
    now += rnd() % 10000 < 9990 ? 1 + rnd() % 200000 : SEC(1) + rnd() % P;
    if (i == n / 2)
      now += 2 * P;
    uint32_t f = (uint32_t)(rnd() % FLOWS);
    uint8_t pl[1300], pk[1400];
    size_t plen = payload(pl, seq[f], f % 2 == 0);
    int to_server = seq[f]++ == 0 || rnd() % 3 == 0;
    size_t len = pg_ip(pk, sizeof(pk), &fl[f], to_server, pl, plen, 1);
    sconed_verdict v;
    sconed_engine_process_ip(e, pk, len, now, &v);
    uint64_t words[3] = {(uint64_t)v.action, (uint64_t)v.modified,
                         v.release_at};
    for (size_t b = 0; b < sizeof(words) + len; b++) {
      uint8_t x =
          b < sizeof(words) ? ((uint8_t *)words)[b] : pk[b - sizeof(words)];
      o.digest = (o.digest ^ x) * 1099511628211ULL;
    }
  }
  sconed_engine_stats_get(e, &o.st);
  sconed_engine_metrics(e, metrics_cb, o.m);
  return o;
}

/* sconed_engine_reset gives a new engine: a used one, reset, runs a
 * sequence exactly as a fresh one does, fast path and all. */
static void reset_is_fresh(void **state) {
  (void)state;
  sconed_engine *fresh = h_engine(cfg, 256);
  outcome a = sequence(fresh, 11, 30000);
  sconed_engine_free(fresh);
  /* It reached the table's limits and signalled. */
  assert_true(a.st.unadmitted > 0 && a.st.evicted_young > 0 &&
              a.m[0].rewrites > 0);

  sconed_engine *used = h_engine(cfg, 256);
  for (int round = 0; round < 2; round++) {
    sequence(used, 12 + (uint64_t)round, 20000); /* other traffic first */
    sconed_engine_reset(used);
    outcome b = sequence(used, 11, 30000);
    assert_true(a.digest == b.digest);
    assert_memory_equal(&a.st, &b.st, sizeof(a.st));
    assert_memory_equal(a.m, b.m, sizeof(a.m));
  }
  /* The reset clears the admission state it kept track of (the few
   * owners that drew on it), and all of it once more owners than
   * SCONED_ADMIT_TOUCHED did (made to look so here: the generator's
   * subscribers are fewer). */
  for (int full = 0; full < 2; full++) {
    sconed_engine_reset(used);
    sequence(used, 14, 2000);
    assert_true(used->nadmit_touched > 0 &&
                used->nadmit_touched <= SCONED_ADMIT_TOUCHED);
    if (full) {
      for (size_t i = 0; i < SCONED_OWNERS; i += 7)
        used->owner_admit[i] = T0;
      used->nadmit_touched = SCONED_ADMIT_TOUCHED + 1;
    }
    sconed_engine_reset(used);
    for (size_t i = 0; i < SCONED_OWNERS; i++)
      assert_true(used->owner_admit[i] == 0);
    outcome b = sequence(used, 11, 30000);
    assert_true(a.digest == b.digest);
    assert_memory_equal(&a.st, &b.st, sizeof(a.st));
  }
  sconed_engine_free(used);

  /* Capacities go back to the config's. */
  sconed_engine *e = h_engine("[plan p]\ndownlink = 5M\n[capacity c]\n"
                              "rate = 2M\n[subscribers]\n"
                              "subscriber = 10.0.0.0/8 p opt-in capacity=c\n",
                              0);
  assert_int_equal(sconed_engine_set_capacity(e, "c", 500000, T0), 0);
  sconed_engine_reset(e);
  pg_flow f;
  pg_flow_make(&f, 0, 1, 40000);
  h_hello(e, &f, 1, T0);
  h_pkt k;
  h_scone(e, &f, 0, SCONE_SIGNAL_UNKNOWN, 300, T0 + 1, &k);
  assert_int_equal(pg_signal(k.b, k.len), (int)scone_rate_to_signal(2000000));
  sconed_engine_free(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(single),
      cmocka_unit_test(batched),
      cmocka_unit_test(reset_is_fresh),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
