/* One subscriber whose flows are judged on two packet threads at once (as
 * NFQUEUE's --queue-balance spreads them over two queues, each served by
 * its own thread) gets the same advice, monitoring, non-conformance
 * verdict and policing as on one thread: both threads go through
 * sconed_dp_judge under the run's lock, as nfq.c's threads do. Built once
 * more with ThreadSanitizer by `make tsan-test`. */
#include "harness.h"

#include "dp.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define P SCONE_PERIOD
#define FLOWS 4
#define PER_TICK 2 /* datagrams per flow per tick */
#define SIZE 1200

static const char *cfg_police = "[plan p]\n"
                                "downlink = 5M\n"
                                "action = police\n"
                                "burst = 125k\n"
                                "[subscribers]\n"
                                "subscriber = 10.0.0.0/8 p opt-in\n";

typedef struct totals {
  uint64_t sent, dropped, modified, rewritten_to_advice;
} totals;

typedef struct run {
  sconed_dp dp;
  pg_flow f[FLOWS];
  scone_tstamp from, to;
  scone_duration gap;
  pthread_barrier_t tick; /* both threads finish a tick before the next */
  int threads;
} run;

typedef struct worker {
  run *r;
  int first, count; /* the flows this thread's queue received */
  totals t;
} worker;

/* A tick's datagrams of flows first..first+count-1 at time t, as one
 * receive batch: each flow leads with a SCONE packet once a second. */
static void tick(worker *w, scone_tstamp t) {
  run *r = w->r;
  enum { MAX = FLOWS * PER_TICK };
  _Static_assert(MAX <= 16, "one batch");
  uint8_t buf[MAX][1600];
  uint8_t *pkts[MAX];
  size_t lens[MAX];
  sconed_verdict v[MAX];
  size_t n = 0;
  int scone_now = (t - r->from) % SCONE_SECONDS < r->gap;
  for (int i = w->first; i < w->first + w->count; i++)
    for (int k = 0; k < PER_TICK; k++) {
      uint8_t p[SIZE];
      if (k == 0 && scone_now)
        pg_scone(p, SIZE, SCONE_SIGNAL_UNKNOWN);
      else
        pg_short(p, SIZE);
      lens[n] = pg_ip(buf[n], sizeof(buf[n]), &r->f[i], 0, p, SIZE, 1);
      pkts[n] = buf[n];
      n++;
    }
  sconed_dp_lock_pkt(&r->dp);
  sconed_dp_judge(&r->dp, pkts, lens, n, t, v);
  sconed_dp_unlock_pkt(&r->dp);
  for (size_t i = 0; i < n; i++) {
    w->t.sent++;
    w->t.dropped += v[i].action == SCONED_DROP;
    w->t.modified += v[i].modified;
    /* 5 Mbit/s is signal 33 (scone rate --bps 5000000). */
    w->t.rewritten_to_advice +=
        v[i].modified &&
        pg_signal(pkts[i], lens[i]) == (int)scone_rate_to_signal(5000000);
  }
}

static void *work(void *arg) {
  worker *w = arg;
  for (scone_tstamp t = w->r->from; t < w->r->to; t += w->r->gap) {
    tick(w, t);
    if (w->r->threads > 1)
      pthread_barrier_wait(&w->r->tick);
  }
  return NULL;
}

/* The scenario on `threads` threads: FLOWS flows of 10.0.0.7 at 1.5 Mbit/s
 * each (6 in all, over the plan's 5 and its 10%), two periods to learn and
 * one in which the subscriber, and no single flow, is over. */
static void scenario(int threads, totals *out, sconed_plan_metrics *m,
                     sconed_engine_stats *st) {
  sconed_engine_settings s;
  h_settings(&s);
  s.max_flows = 256;
  sconed_engine *e = h_engine_with(&s, cfg_police);
  run *r = calloc(1, sizeof(*r));
  assert_non_null(r);
  sconed_dp_init(&r->dp, e, NULL);
  r->threads = threads;
  for (int i = 0; i < FLOWS; i++) {
    pg_flow_make(&r->f[i], 0, 7, (uint16_t)(40000 + i));
    h_hello(e, &r->f[i], 1, T0);
  }
  r->from = T0 + 1;
  r->to = T0 + 3 * P;
  r->gap =
      (scone_duration)((uint64_t)SIZE * 8 * PER_TICK * SCONE_SECONDS / 1500000);
  worker w[2] = {{r, 0, FLOWS, {0}}, {r, 0, 0, {0}}};
  if (threads == 1) {
    work(&w[0]);
  } else {
    w[0].count = w[1].first = w[1].count = FLOWS / 2;
    pthread_barrier_init(&r->tick, NULL, 2);
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
      assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    for (int i = 0; i < 2; i++)
      pthread_join(th[i], NULL);
    pthread_barrier_destroy(&r->tick);
  }
  memset(out, 0, sizeof(*out));
  for (int i = 0; i < 2; i++) {
    out->sent += w[i].t.sent;
    out->dropped += w[i].t.dropped;
    out->modified += w[i].t.modified;
    out->rewritten_to_advice += w[i].t.rewritten_to_advice;
  }
  *m = h_plan(e, "p");
  sconed_engine_stats_get(e, st);
  sconed_dp_destroy(&r->dp);
  free(r);
  sconed_engine_free(e);
}

static void two_threads_as_one(void **state) {
  (void)state;
  totals one, two;
  sconed_plan_metrics m1, m2;
  sconed_engine_stats s1, s2;
  scenario(1, &one, &m1, &s1);
  scenario(2, &two, &m2, &s2);
  printf("one thread:  sent %llu dropped %llu modified %llu advised %llu\n",
         (unsigned long long)one.sent, (unsigned long long)one.dropped,
         (unsigned long long)one.modified,
         (unsigned long long)one.rewritten_to_advice);
  printf("two threads: sent %llu dropped %llu modified %llu advised %llu\n",
         (unsigned long long)two.sent, (unsigned long long)two.dropped,
         (unsigned long long)two.modified,
         (unsigned long long)two.rewritten_to_advice);
  /* The scenario does what it should on one thread... */
  assert_true(one.modified > 0);
  assert_int_equal(one.modified, one.rewritten_to_advice);
  assert_true(one.dropped > 0);
  assert_int_equal(m1.nonconforming_subscribers, 1);
  assert_int_equal(m1.subscriber_transitions, 1);
  assert_int_equal(m1.nonconforming, 0); /* no flow over on its own */
  assert_int_equal(s1.subscribers, 1);
  /* ...and the same on two: one budget of rewrites, one window of bytes,
   * one verdict, one bucket. */
  assert_int_equal(two.sent, one.sent);
  assert_int_equal(two.modified, one.modified);
  assert_int_equal(two.rewritten_to_advice, one.rewritten_to_advice);
  assert_int_equal(two.dropped, one.dropped);
  assert_int_equal(m2.packets, m1.packets);
  assert_int_equal(m2.bytes, m1.bytes);
  assert_int_equal(m2.rewrites, m1.rewrites);
  assert_int_equal(m2.drops, m1.drops);
  assert_int_equal(m2.nonconforming_subscribers, 1);
  assert_int_equal(m2.subscriber_transitions, 1);
  assert_int_equal(m2.nonconforming, 0);
  assert_int_equal(s2.subscribers, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(two_threads_as_one),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
