/*
 * The link emulator's model: rate, delay, trace volume, Mahimahi's
 * delivery rules, the drop-tail bound and seeded loss. Traces come from the
 * copies the lab ships (lab/traces/).
 */
#include <link.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define MS LAB_NS_PER_MS
#define SEC (1000 * MS)
#define T0 (5 * SEC) /* links start here: not at 0, to catch base errors */

static lab_trace parse(const char *text) {
  lab_trace t;
  lab_error err;
  assert_int_equal(lab_trace_parse(&t, text, strlen(text), &err), 0);
  return t;
}

static lab_link *rate_link(uint64_t bps, uint64_t delay, uint32_t qpk) {
  lab_link_settings s;
  lab_link_settings_default(&s);
  s.rate_bps = bps;
  s.delay_ns = delay;
  s.queue_packets = qpk;
  lab_link *l = lab_link_new(&s, T0);
  assert_non_null(l);
  return l;
}

static lab_link *trace_link(const lab_trace *t, uint64_t qbytes, uint32_t qpk) {
  lab_link_settings s;
  lab_link_settings_default(&s);
  s.trace = t;
  s.queue_bytes = qbytes;
  s.queue_packets = qpk;
  lab_link *l = lab_link_new(&s, T0);
  assert_non_null(l);
  return l;
}

static uint64_t deliver(lab_link *l, uint64_t now, uint32_t len) {
  uint64_t at = 0;
  assert_int_equal(lab_link_enqueue(l, now, len, &at), LAB_LINK_DELIVER);
  return at;
}

/* 5 Mbit/s, 20 ms, offered 6 Mbit/s of 1500-byte packets for 10 s: the
 * delivered rate (between the first and last delivery) and the delay of
 * a packet on the idle link. */
static void fixed_rate_and_delay(void **state) {
  (void)state;
  const uint64_t bps = 5000000, delay = 20 * MS;
  lab_link *l = rate_link(bps, delay, 100);
  uint64_t gap = 1500 * 8 * SEC / 6000000; /* 2 ms */
  uint64_t first = 0, last = 0, bytes = 0, drops = 0, min_owd = UINT64_MAX;
  for (uint64_t t = T0; t < T0 + 10 * SEC; t += gap) {
    uint64_t at;
    if (lab_link_enqueue(l, t, 1500, &at) != LAB_LINK_DELIVER) {
      drops++;
      continue;
    }
    if (!first)
      first = at;
    else
      bytes += 1500;
    last = at;
    if (at - t < min_owd)
      min_owd = at - t;
  }
  double rate = (double)bytes * 8 * SEC / (double)(last - first);
  printf("fixed rate: delivered %.0f bit/s of %llu (%+.3f%%), %llu dropped\n",
         rate, (unsigned long long)bps, (rate / bps - 1) * 100,
         (unsigned long long)drops);
  assert_true(rate > bps * 0.98 && rate < bps * 1.02);
  assert_true(drops > 0); /* it was saturated: the rate is the link's */
  /* No packet arrives sooner than delay plus its own serialization. */
  assert_int_equal(min_owd, delay + 1500 * 8 * SEC / bps);
  lab_link_free(l);

  /* On the idle link a packet takes the delay plus its serialization:
   * within 1 ms of the delay (0.16 ms for 100 bytes at 5 Mbit/s). */
  l = rate_link(bps, delay, 100);
  uint64_t t = T0 + 123456789;
  uint64_t owd = deliver(l, t, 100) - t;
  assert_int_equal(owd, delay + 100 * 8 * SEC / bps);
  assert_true(owd - delay < MS);
  lab_link_free(l);
}

/* The carried nanosecond remainder: 7 Mbit/s does not divide 1500-byte
 * packets into whole nanoseconds, yet n back-to-back packets take n times
 * the exact time, to the nanosecond. */
static void fixed_rate_exact(void **state) {
  (void)state;
  lab_link *l = rate_link(7000000, 0, 0);
  uint64_t at = 0;
  for (int i = 0; i < 7000; i++)
    at = deliver(l, T0, 1500);
  assert_int_equal(at - T0, 7000ULL * 1500 * 8 * SEC / 7000000);
  lab_link_free(l);
}

static void unlimited(void **state) {
  (void)state;
  lab_link *l = rate_link(0, 7 * MS, 0);
  for (int i = 0; i < 100; i++)
    assert_int_equal(deliver(l, T0 + (uint64_t)i, 1500), T0 + i + 7 * MS);
  lab_link_free(l);
}

/* One opportunity per ms: a packet leaves at the first opportunity strictly
 * after its arrival; the opportunities of an idle link are not saved up. */
static void trace_idle_wastes(void **state) {
  (void)state;
  lab_trace t = parse("1\n");
  lab_link *l = trace_link(&t, 0, 0);
  assert_int_equal(deliver(l, T0 + MS / 2, 1500), T0 + 1 * MS);
  /* Idle from 1 to 5.5 ms: four opportunities gone. */
  assert_int_equal(deliver(l, T0 + 5 * MS + MS / 2, 1500), T0 + 6 * MS);
  assert_int_equal(deliver(l, T0 + 5 * MS + MS / 2, 1500), T0 + 7 * MS);
  /* Arriving exactly at an opportunity: that one is already past. */
  assert_int_equal(deliver(l, T0 + 20 * MS, 1500), T0 + 21 * MS);
  lab_link_free(l);
  lab_trace_free(&t);
}

/* An opportunity carries 1500 bytes, several small packets; a large one
 * spans two; leftover bytes go unused once the queue is empty. */
static void trace_bytes(void **state) {
  (void)state;
  lab_trace t = parse("1\n");
  lab_link *l = trace_link(&t, 0, 0);
  uint64_t a = T0 + MS / 4;
  assert_int_equal(deliver(l, a, 700), T0 + 1 * MS);
  assert_int_equal(deliver(l, a, 700), T0 + 1 * MS);
  /* 100 bytes left at 1 ms, 600 more at 2 ms (900 left there). */
  assert_int_equal(deliver(l, a, 700), T0 + 2 * MS);
  assert_int_equal(deliver(l, a, 900), T0 + 2 * MS);
  /* A 3000-byte packet: all of 3 and 4 ms. */
  assert_int_equal(deliver(l, a, 3000), T0 + 4 * MS);
  /* 4 ms was used up exactly: the next starts on 5 ms. */
  assert_int_equal(deliver(l, a, 1), T0 + 5 * MS);
  /* 1499 bytes left at 5 ms, wasted: the link is idle after 5 ms. */
  assert_int_equal(deliver(l, T0 + 5 * MS, 1000), T0 + 6 * MS);
  lab_link_free(l);
  lab_trace_free(&t);
}

/* Repeated offsets are several opportunities in one millisecond; the trace
 * repeats with the period of its last line, offset 0 landing on it. */
static void trace_repeats(void **state) {
  (void)state;
  lab_trace t = parse("0\n3\n3\n3\n10\n");
  assert_int_equal(t.period_ms, 10);
  lab_link *l = trace_link(&t, 0, 0);
  uint64_t want[] = {3, 3, 3, 10, 10, 13, 13, 13, 20, 20, 23};
  for (size_t i = 0; i < sizeof want / sizeof *want; i++)
    assert_int_equal(deliver(l, T0 + 1, 1500), T0 + want[i] * MS);
  /* Idle for thousands of periods: the next packet lands on the right
   * opportunity of the right cycle. */
  uint64_t far = T0 + 123456 * 10 * MS + 5 * MS;
  assert_int_equal(deliver(l, far, 1500), far + 5 * MS);
  assert_int_equal(deliver(l, far, 1500), far + 5 * MS);
  assert_int_equal(deliver(l, far, 1500), far + 8 * MS);
  lab_link_free(l);
  lab_trace_free(&t);
}

/* Saturated for whole periods, each shipped trace delivers exactly its
 * opportunities: as many 1500-byte packets, or the same bytes as 500-byte
 * ones. */
static void trace_volume(void **state) {
  (void)state;
  static const char *const names[] = {
      "ATT-LTE-driving-2016.down", "ATT-LTE-driving-2016.up",
      "Verizon-LTE-short.down",    "Verizon-LTE-short.up",
      "TMobile-LTE-short.down",    "TMobile-LTE-short.up"};
  for (size_t f = 0; f < sizeof names / sizeof *names; f++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/lab/traces/%s", SCONE_SOURCE_DIR, names[f]);
    lab_trace t;
    lab_error err;
    assert_int_equal(lab_trace_load(&t, path, &err), 0);
    for (uint32_t len = 500; len <= 1500; len += 1000) {
      lab_link *l = trace_link(&t, 0, 0);
      const int periods = 2;
      uint64_t end = T0 + periods * (uint64_t)t.period_ms * MS;
      uint64_t bytes = 0, at;
      /* Everything queued at the start: the queue never runs dry. */
      do {
        at = deliver(l, T0, len);
        if (at <= end)
          bytes += len;
      } while (at <= end);
      printf("%s, %u-byte packets: %llu bytes in %d periods, trace %zu x "
             "1500\n",
             names[f], len, (unsigned long long)bytes, periods, t.n);
      assert_int_equal(bytes, (uint64_t)periods * t.n * LAB_LINK_MTU);
      lab_link_free(l);
    }
    lab_trace_free(&t);
  }
}

/* The README's mean rates come out of the parsed traces. */
static void trace_mean(void **state) {
  (void)state;
  char path[1024];
  snprintf(path, sizeof path, "%s/lab/traces/ATT-LTE-driving-2016.down",
           SCONE_SOURCE_DIR);
  lab_trace t;
  lab_error err;
  assert_int_equal(lab_trace_load(&t, path, &err), 0);
  assert_int_equal(t.n, 45604);
  assert_int_equal(t.period_ms, 120002);
  assert_true(lab_trace_mean_bps(&t) > 4.555e6 &&
              lab_trace_mean_bps(&t) < 4.565e6);
  lab_trace_free(&t);
}

/* Drop-tail: the bound counts waiting packets, not the one on the wire. */
static void drop_tail(void **state) {
  (void)state;
  /* Fixed rate: the first packet starts at once, ten wait. */
  lab_link *l = rate_link(5000000, 0, 10);
  int ok = 0;
  uint64_t at;
  for (int i = 0; i < 100; i++)
    ok += lab_link_enqueue(l, T0, 1500, &at) == LAB_LINK_DELIVER;
  assert_int_equal(ok, 11);
  uint64_t p, b;
  lab_link_backlog(l, T0, &p, &b);
  assert_int_equal(p, 10);
  assert_int_equal(b, 15000);
  /* After two packets' time, two places are free again. */
  uint64_t later = T0 + 2 * 2400000;
  lab_link_backlog(l, later, &p, &b);
  assert_int_equal(p, 8);
  ok = 0;
  for (int i = 0; i < 5; i++)
    ok += lab_link_enqueue(l, later, 1500, &at) == LAB_LINK_DELIVER;
  assert_int_equal(ok, 2);
  lab_link_stats st;
  lab_link_stats_get(l, &st);
  assert_int_equal(st.queue_drops, 92);
  assert_int_equal(st.peak_queue_packets, 10);
  lab_link_free(l);

  /* Trace: nothing is on the wire before the first opportunity, so all
   * of the bound waits; in bytes, 10000 holds six 1600-byte packets. */
  lab_trace t = parse("1\n");
  l = trace_link(&t, 0, 10);
  ok = 0;
  for (int i = 0; i < 50; i++)
    ok += lab_link_enqueue(l, T0 + MS / 2, 1500, &at) == LAB_LINK_DELIVER;
  assert_int_equal(ok, 10);
  lab_link_free(l);
  l = trace_link(&t, 10000, 0);
  ok = 0;
  for (int i = 0; i < 50; i++)
    ok += lab_link_enqueue(l, T0 + MS / 2, 1600, &at) == LAB_LINK_DELIVER;
  assert_int_equal(ok, 6);
  lab_link_free(l);
  lab_trace_free(&t);
}

static uint64_t loss_pattern(uint64_t seed, double loss, int n, int *lost) {
  lab_link_settings s;
  lab_link_settings_default(&s);
  s.loss = loss;
  s.seed = seed;
  lab_link *l = lab_link_new(&s, T0);
  assert_non_null(l);
  uint64_t h = 1469598103934665603ULL; /* FNV-1a over the verdicts */
  *lost = 0;
  for (int i = 0; i < n; i++) {
    uint64_t at;
    lab_link_verdict v = lab_link_enqueue(l, T0 + (uint64_t)i, 1200, &at);
    *lost += v == LAB_LINK_DROP_LOSS;
    h = (h ^ (uint64_t)v) * 1099511628211ULL;
  }
  lab_link_free(l);
  return h;
}

static void loss_seeded(void **state) {
  (void)state;
  const int n = 200000;
  int a, b, c;
  uint64_t ha = loss_pattern(42, 0.05, n, &a);
  uint64_t hb = loss_pattern(42, 0.05, n, &b);
  uint64_t hc = loss_pattern(43, 0.05, n, &c);
  printf("loss 5%%: seed 42 lost %d of %d (%.3f%%), seed 43 %d\n", a, n,
         a * 100.0 / n, c);
  assert_int_equal(ha, hb);
  assert_int_equal(a, b);
  assert_true(ha != hc);
  /* Binomial sd is 0.049% of n here: 0.5% is ten of them. */
  assert_true(a > n * 0.045 && a < n * 0.055);
  assert_true(c > n * 0.045 && c < n * 0.055);
  loss_pattern(1, 0, n, &a);
  assert_int_equal(a, 0);
  loss_pattern(1, 1, 1000, &a);
  assert_int_equal(a, 1000);
  lab_link_settings s;
  lab_link_settings_default(&s);
  s.loss = 1.5;
  assert_null(lab_link_new(&s, T0));
}

/* Time that goes backwards is read as the latest seen. */
static void time_backwards(void **state) {
  (void)state;
  lab_link *l = rate_link(12000000, 0, 0);
  assert_int_equal(deliver(l, T0 + SEC, 1500), T0 + SEC + MS);
  assert_int_equal(deliver(l, T0, 1500), T0 + SEC + 2 * MS);
  lab_link_free(l);
}

/* ------------------------------------------------------------------------
 * Against a reference written the way Mahimahi runs its link: every
 * opportunity is an event; before each arrival all opportunities up to it
 * are played, each serving the queue's head byte by byte. */

typedef struct ref_pkt {
  uint64_t arrive;
  uint32_t len;
  int64_t left;     /* bytes still to send */
  uint64_t depart;  /* by the reference */
  uint64_t modeled; /* by lab_link_enqueue */
  int dropped;
} ref_pkt;

typedef struct ref {
  const lab_trace *t;
  size_t k;
  uint64_t base;
  ref_pkt **q; /* waiting (not in transit) */
  size_t qh, qn;
  ref_pkt *transit;
  uint64_t qbytes;
} ref;

static uint64_t ref_opp(const ref *r) {
  return r->base + (uint64_t)r->t->ms[r->k] * MS;
}

static void ref_play_until(ref *r, uint64_t now) {
  while (ref_opp(r) <= now) {
    uint64_t t = ref_opp(r);
    if (++r->k == r->t->n) {
      r->k = 0;
      r->base += (uint64_t)r->t->period_ms * MS;
    }
    int64_t bytes = LAB_LINK_MTU;
    while (bytes > 0) {
      if (!r->transit) {
        if (r->qn == 0)
          break;
        r->transit = r->q[r->qh++];
        r->qn--;
        r->qbytes -= r->transit->len;
      }
      r->transit->left -= bytes;
      bytes = 0;
      if (r->transit->left <= 0) {
        bytes = -r->transit->left;
        r->transit->depart = t;
        r->transit = NULL;
      }
    }
  }
}

static uint64_t xs(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static void against_reference(void **state) {
  (void)state;
  uint64_t seed = 0x1234567;
  for (int round = 0; round < 300; round++) {
    /* A small random trace, with repeats and gaps. */
    char text[512];
    size_t len = 0;
    int n = 1 + (int)(xs(&seed) % 12), ms = (int)(xs(&seed) % 3);
    for (int i = 0; i < n; i++) {
      ms += (int)(xs(&seed) % 4);
      if (i == n - 1 && ms == 0)
        ms = 1;
      len += (size_t)snprintf(text + len, sizeof text - len, "%d\n", ms);
    }
    lab_trace t = parse(text);
    uint32_t qpk = (uint32_t)(xs(&seed) % 6);
    uint64_t qby = xs(&seed) % 3 ? 0 : 1000 + xs(&seed) % 6000;
    lab_link *l = trace_link(&t, qby, qpk);
    enum { NP = 400 };
    static ref_pkt pk[NP];
    static ref_pkt *qarr[NP];
    ref r = {.t = &t, .base = T0, .q = qarr};
    uint64_t now = T0;
    for (int i = 0; i < NP; i++) {
      /* Arrivals on whole milliseconds too, where ties decide. */
      uint64_t step = xs(&seed) % 4;
      now += step == 0   ? 0
             : step == 1 ? (xs(&seed) % 3) * MS
                         : xs(&seed) % (2 * MS);
      uint32_t plen = 1 + (uint32_t)(xs(&seed) % 3200);
      pk[i] = (ref_pkt){.arrive = now, .len = plen, .left = plen};
      ref_play_until(&r, now);
      int fits = (!qpk || r.qn + 1 <= qpk) && (!qby || r.qbytes + plen <= qby);
      if (fits) {
        r.q[r.qh + r.qn++] = &pk[i];
        r.qbytes += plen;
      } else {
        pk[i].dropped = 1;
      }
      uint64_t at = 0;
      lab_link_verdict v = lab_link_enqueue(l, now, plen, &at);
      if (v != (fits ? LAB_LINK_DELIVER : LAB_LINK_DROP_QUEUE))
        fail_msg("round %d packet %d: verdict %d, reference %s", round, i, v,
                 fits ? "deliver" : "drop");
      pk[i].modeled = at;
    }
    /* Play the reference to the end and compare departures. */
    while (r.qn > 0 || r.transit)
      ref_play_until(&r, ref_opp(&r));
    for (int i = 0; i < NP; i++)
      if (!pk[i].dropped && pk[i].depart != pk[i].modeled)
        fail_msg("round %d (trace %s) packet %d: departs at %llu, reference "
                 "%llu",
                 round, text, i, (unsigned long long)(pk[i].modeled - T0),
                 (unsigned long long)(pk[i].depart - T0));
    lab_link_free(l);
    lab_trace_free(&t);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(fixed_rate_and_delay),
      cmocka_unit_test(fixed_rate_exact),
      cmocka_unit_test(unlimited),
      cmocka_unit_test(trace_idle_wastes),
      cmocka_unit_test(trace_bytes),
      cmocka_unit_test(trace_repeats),
      cmocka_unit_test(trace_volume),
      cmocka_unit_test(trace_mean),
      cmocka_unit_test(drop_tail),
      cmocka_unit_test(loss_seeded),
      cmocka_unit_test(time_backwards),
      cmocka_unit_test(against_reference),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
