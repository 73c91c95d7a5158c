/* The flow table: budget, idle eviction, floods, reloads, bad input. */
#include "harness.h"

#include <stdlib.h>

static void establish(sconed_engine *e, const pg_flow *f, scone_tstamp t) {
  h_hello(e, f, 1, t);
  h_pkt k;
  for (int i = 0; i < 4; i++)
    h_short(e, f, i & 1, 100, t + 1 + (scone_tstamp)i, &k);
}

static void budget_and_memory(void **state) {
  (void)state;
  sconed_engine *e = h_engine(NULL, 1000);
  sconed_engine_stats st;
  sconed_engine_stats_get(e, &st);
  assert_int_equal(st.flow_bytes, 64);
  assert_int_equal(st.max_flows, 1000);
  uint64_t mem = st.memory_bytes;
  assert_true(mem >= 1000 * 64);
  for (uint32_t i = 0; i < 5000; i++) {
    pg_flow f;
    pg_flow_make(&f, i & 1, i, (uint16_t)(1024 + i));
    h_hello(e, &f, 1, T0 + i);
  }
  sconed_engine_stats_get(e, &st);
  assert_true(st.flows <= 1000);
  assert_true(st.flows >= 900); /* two-choice buckets fill the table */
  assert_int_equal(st.memory_bytes, mem);
  assert_int_equal(sconed_engine_flow_count(e), st.flows);
  sconed_engine_free(e);
}

static void idle_flows_evicted(void **state) {
  (void)state;
  sconed_engine *e = h_engine(NULL, 64);
  for (uint32_t i = 0; i < 64; i++) {
    pg_flow f;
    pg_flow_make(&f, 0, i, 2000);
    establish(e, &f, T0);
  }
  size_t n = sconed_engine_flow_count(e);
  assert_true(n > 48);
  sconed_engine_stats before;
  sconed_engine_stats_get(e, &before);
  /* Two minutes later every one of them is idle: new flows take their
   * slots, and the sweep clears the rest. */
  for (uint32_t i = 0; i < 64; i++) {
    pg_flow f;
    pg_flow_make(&f, 0, 1000 + i, 2000);
    h_hello(e, &f, 1, T0 + SEC(121) + i);
  }
  sconed_engine_stats st;
  sconed_engine_stats_get(e, &st);
  uint64_t admitted = 64 - (st.unadmitted - before.unadmitted);
  assert_true(admitted >= 48);
  /* All old flows are gone (taken over or swept), all new ones are in. */
  assert_int_equal(st.evicted_idle, n);
  assert_int_equal(st.flows, admitted);
  sconed_plan_metrics m = h_plan(e, "default");
  assert_int_equal(m.flows, st.flows);
  assert_int_equal(m.flows_total, n + admitted);
  sconed_engine_free(e);
}

static void flood_keeps_established_flows(void **state) {
  (void)state;
  sconed_engine_settings s;
  h_settings(&s);
  s.max_flows = 1024;
  s.admit_per_second = 100;
  /* The IPv6 flows below all belong to one subscriber (2001:db8::/64). */
  s.max_flows_per_subscriber = 1024;
  sconed_engine *e = h_engine_with(&s, NULL);
  enum { EST = 700 };
  pg_flow est[EST];
  for (uint32_t i = 0; i < EST; i++) {
    pg_flow_make(&est[i], i & 1, i, 3000);
    establish(e, &est[i], T0);
    /* Their first SCONE packets use up the early-rewrite budget. */
    for (int j = 0; j < 4; j++) {
      h_pkt k;
      h_scone(e, &est[i], 0, SCONE_SIGNAL_UNKNOWN, 100, T0 + 10 + j, &k);
      assert_true(k.v.modified);
    }
  }
  sconed_engine_stats st;
  sconed_engine_stats_get(e, &st);
  uint64_t mem = st.memory_bytes;
  assert_int_equal(st.flows, EST);
  /* 200,000 fake SCONE packets from random tuples over 10 s. */
  srand(7);
  for (int i = 0; i < 200000; i++) {
    pg_flow f;
    pg_flow_make(&f, i & 1, (uint32_t)rand(), (uint16_t)rand());
    f.sport = (uint16_t)rand();
    h_pkt k;
    h_scone(e, &f, 0, SCONE_SIGNAL_UNKNOWN, 100,
            T0 + SEC(1) + (scone_tstamp)i * 50000, &k);
    assert_int_equal(k.v.action, SCONED_PASS);
  }
  sconed_engine_stats_get(e, &st);
  assert_int_equal(st.memory_bytes, mem);
  assert_true(st.flows <= 1024);
  assert_true(st.unadmitted > 150000);
  /* Young fakes displace young fakes at the admission rate and its
   * reserve (half as much again, shared out among owners), no faster. */
  assert_true(st.evicted_young <= 150 + 150 * 11);
  /* Every established flow is still there: still within its period slot,
   * a further SCONE packet is not rewritten (a new flow's would be). */
  for (uint32_t i = 0; i < EST; i++) {
    h_pkt k;
    h_scone(e, &est[i], 0, SCONE_SIGNAL_UNKNOWN, 100, T0 + SEC(12), &k);
    assert_false(k.v.modified);
  }
  /* Every admitted flow is either in the table or was evicted. */
  sconed_plan_metrics m = h_plan(e, "default");
  assert_int_equal(m.flows_total,
                   st.flows + st.evicted_young + st.evicted_idle);
  assert_int_equal(m.flows, st.flows);
  sconed_engine_free(e);
}

static void reload_re_resolves_lazily(void **state) {
  (void)state;
  sconed_engine *e = h_engine("[plan a]\ndownlink = 5M\n"
                              "[subscribers]\n"
                              "subscriber = 10.0.0.0/8 a opt-in\n",
                              0);
  pg_flow f;
  pg_flow_make(&f, 0, 1, 4000);
  establish(e, &f, T0);
  h_pkt k;
  h_scone(e, &f, 0, SCONE_SIGNAL_UNKNOWN, 200, T0 + 100, &k);
  assert_int_equal(pg_signal(k.b, k.len), (int)scone_rate_to_signal(5000000));
  assert_int_equal(h_plan(e, "a").flows, 1);
  /* A failed reload leaves the running config. */
  assert_int_equal(sconed_engine_set_config(e, NULL), -1);
  char err[256];
  sconed_config *c = sconed_config_parse("[plan b]\ndownlink = 1M\n"
                                         "[subscribers]\n"
                                         "subscriber = 10.0.0.0/8 b opt-in\n",
                                         "new.ini", err, sizeof(err));
  assert_non_null(c);
  assert_int_equal(sconed_engine_set_config(e, c), 0);
  /* The flow keeps its state and moves to plan b on its next packet; the
   * advice change allows early rewrites again. */
  h_scone(e, &f, 0, SCONE_SIGNAL_UNKNOWN, 200, T0 + 200, &k);
  assert_true(k.v.modified);
  assert_int_equal(pg_signal(k.b, k.len), (int)scone_rate_to_signal(1000000));
  assert_int_equal(h_plan(e, "b").flows, 1);
  sconed_plan_metrics a = h_plan(e, "a"); /* reported with zero gauges */
  assert_int_equal(a.flows, 0);
  assert_int_equal(a.scone_packets, 1);
  assert_int_equal(sconed_engine_flow_count(e), 1);
  sconed_engine_free(e);
}

/* A server's 328-byte SCONE datagram of flow f into b (400 bytes). */
static size_t scone_datagram(uint8_t *b, pg_flow *f) {
  uint8_t pl[300];
  pg_flow_make(f, 0, 1, 5000);
  pg_scone(pl, sizeof(pl), SCONE_SIGNAL_UNKNOWN);
  return pg_ip(b, 400, f, 0, pl, sizeof(pl), 1);
}

static void malformed_pass_untouched(void **state) {
  (void)state;
  sconed_engine *e = h_engine(NULL, 0);
  pg_flow f;
  uint8_t b[400], orig[400];
  size_t n = scone_datagram(b, &f);
  sconed_verdict v;
  /* Every truncation of a SCONE datagram, and garbage of every length. */
  srand(3);
  for (size_t cut = 0; cut < n; cut++) {
    uint8_t tmp[400];
    memcpy(tmp, b, cut);
    sconed_engine_process_ip(e, tmp, cut, T0 + cut, &v);
    assert_int_equal(v.action, SCONED_PASS);
    if (cut < 28 + 5)
      assert_false(v.modified);
    if (!v.modified && cut)
      assert_memory_equal(tmp, b, cut);
  }
  for (int i = 0; i < 20000; i++) {
    size_t len = (size_t)rand() % sizeof(b);
    for (size_t j = 0; j < len; j++)
      b[j] = (uint8_t)rand();
    if (i & 1)
      b[0] = (uint8_t)((b[0] & 0x0f) | (i & 2 ? 0x40 : 0x60));
    sconed_engine_process_ip(e, b, len, T0 + SEC(1) + (scone_tstamp)i, &v);
    assert_int_equal(v.action, SCONED_PASS);
  }
  /* A packet claiming more UDP bytes than the IP packet holds. */
  n = scone_datagram(b, &f);
  b[20 + 4] = 0xff;
  memcpy(orig, b, n);
  sconed_engine_process_ip(e, b, n, T0 + SEC(2), &v);
  assert_false(v.modified);
  assert_memory_equal(b, orig, n);
  sconed_engine_stats st;
  sconed_engine_stats_get(e, &st);
  assert_true(st.malformed > 0);
  assert_true(st.not_udp > 0);
  /* Time going backwards is taken as "now" and breaks nothing. */
  h_pkt k;
  h_scone(e, &f, 0, SCONE_SIGNAL_UNKNOWN, 200, T0, &k);
  assert_int_equal(k.v.action, SCONED_PASS);
  sconed_engine_free(e);
}

/* What is not a whole UDP datagram passes untouched and is counted for
 * what it is: a first or later fragment, or another protocol (a later
 * fragment of a TCP segment among them). */
static void fragments_and_other_protocols_counted_apart(void **state) {
  (void)state;
  sconed_engine *e = h_engine(NULL, 0);
  pg_flow f;
  uint8_t b[400], orig[400];
  /* IPv4 flags and fragment offset: MF; offset 1480; MF and offset; and
   * the last two again on TCP. */
  const struct {
    uint16_t frag;
    uint8_t proto;
  } cases[] = {{0x2000, 17}, {0x00b9, 17}, {0x20b9, 17}, {0x00b9, 6}, {0, 6}};
  sconed_verdict v;
  for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
    size_t n = scone_datagram(b, &f);
    b[6] = (uint8_t)(cases[i].frag >> 8);
    b[7] = (uint8_t)cases[i].frag;
    b[9] = cases[i].proto;
    memcpy(orig, b, n);
    sconed_engine_process_ip(e, b, n, T0 + (scone_tstamp)i, &v);
    assert_int_equal(v.action, SCONED_PASS);
    assert_false(v.modified);
    assert_memory_equal(b, orig, n);
  }
  sconed_engine_stats st;
  sconed_engine_stats_get(e, &st);
  assert_int_equal(st.fragments, 3);
  assert_int_equal(st.not_udp, 2);
  assert_int_equal(st.malformed, 0);
  assert_int_equal(st.flows, 0);
  sconed_engine_free(e);
}

/* Non-QUIC datagrams both ways (4 packets, so "established"). */
static void fake_flow(sconed_engine *e, uint32_t id, scone_tstamp t) {
  pg_flow f;
  pg_flow_make(&f, 0, 1000 + id, (uint16_t)(20000 + id));
  uint8_t p[64];
  memset(p, 0, sizeof(p));
  h_pkt k;
  for (int i = 0; i < 4; i++)
    h_send(e, &f, i & 1, p, sizeof(p), t, &k);
}

/* An established SCONE flow: handshake, SCONE packets, both ends. */
static void scone_flow(sconed_engine *e, const pg_flow *f, scone_tstamp t) {
  h_pkt k;
  h_hello(e, f, 0, t);
  h_short(e, f, 0, 300, t, &k);
  h_scone(e, f, 0, SCONE_SIGNAL_UNKNOWN, 300, t, &k);
  h_short(e, f, 1, 100, t, &k);
}

static sconed_engine_stats stats(const sconed_engine *e) {
  sconed_engine_stats st;
  sconed_engine_stats_get(e, &st);
  return st;
}

static void two_way_flood_admission(void **state) {
  (void)state;
  sconed_engine_settings s;
  h_settings(&s);
  s.max_flows = 16; /* two buckets: every flow may use both */
  s.admit_per_second = 5;
  sconed_engine *e = h_engine_with(&s, NULL);

  pg_flow real[2];
  for (int i = 0; i < 2; i++) {
    pg_flow_make(&real[i], 0, 1 + (uint32_t)i, (uint16_t)(40100 + i));
    scone_flow(e, &real[i], T0);
  }
  for (uint32_t i = 0; i < 64; i++)
    fake_flow(e, i, T0 + SEC(0.5));
  assert_int_equal(stats(e).flows, 16);

  /* The real flows stay active; the fakes fall quiet for 2 s. */
  scone_tstamp t = T0 + SEC(3);
  uint64_t total = h_plan(e, "default").flows_total;
  for (int i = 0; i < 2; i++) {
    h_pkt k;
    h_short(e, &real[i], 0, 300, t, &k);
  }
  assert_int_equal(h_plan(e, "default").flows_total, total);

  /* New real flows get in, at the bounded rate: the shared allowance
   * and, as these are 20 owners none of which took one, the reserve. */
  uint64_t before = stats(e).evicted_young;
  for (int i = 0; i < 20; i++) {
    pg_flow n;
    pg_flow_make(&n, 0, 100 + (uint32_t)i, (uint16_t)(41000 + i));
    h_hello(e, &n, 0, t + 1);
  }
  uint32_t bound = s.admit_per_second + s.admit_per_second / 2;
  assert_int_equal(stats(e).evicted_young - before, bound);
  pg_flow later;
  pg_flow_make(&later, 0, 200, 42000);
  h_hello(e, &later, 0, t + SEC(1) + 2);
  assert_int_equal(stats(e).evicted_young - before, bound + 1);

  /* The SCONE flows kept their slots (and state). */
  total = h_plan(e, "default").flows_total;
  uint64_t unadmitted = stats(e).unadmitted;
  for (int i = 0; i < 2; i++) {
    h_pkt k;
    h_scone(e, &real[i], 0, SCONE_SIGNAL_UNKNOWN, 300, t + SEC(2), &k);
  }
  assert_int_equal(h_plan(e, "default").flows_total, total);
  assert_int_equal(stats(e).unadmitted, unadmitted);
  sconed_engine_free(e);
}

/* A fake-SCONE flood from six addresses with random ports (a SCONE
 * packet with two random CIDs, a short header and random bytes), in one
 * of four shapes, while another subscriber opens a session every half
 * second: each session is admitted and gets its advice, and the flood
 * holds no more than its owners' shares of the table. Before slot shares,
 * the flood filled the table and took nearly every admission, and no
 * session got advice. */
enum {
  FLOOD_UP,
  FLOOD_BOTH,
  FLOOD_AT_VICTIM,
  FLOOD_NO_SUB,
  /* From 200 subscribers, each within its share of slots: together they
   * fill the table and would take every shared admission token. */
  FLOOD_MANY,
  FLOOD_KINDS
};

static void flood_packet(sconed_engine *e, int kind, uint64_t *rng,
                         scone_tstamp t) {
  pg_flow f;
  memset(&f, 0, sizeof(f));
  uint8_t who = (uint8_t)(1 + h_xorshift(rng) % 6);
  uint8_t sub[4] = {10, 0, 0, who}, srv[4] = {192, 0, 2, 1};
  if (kind == FLOOD_MANY) {
    sub[2] = 1;
    sub[3] = (uint8_t)(1 + h_xorshift(rng) % 200);
  }
  uint8_t ext[4] = {198, 51, 100, who}, victim[4] = {10, 0, 0, 50};
  uint8_t far[4] = {203, 0, 113, who};
  /* cli is the end that sends to_server packets. */
  memcpy(f.cli,
         kind == FLOOD_AT_VICTIM ? victim
         : kind == FLOOD_NO_SUB  ? far
                                 : sub,
         4);
  memcpy(f.srv, kind == FLOOD_AT_VICTIM || kind == FLOOD_NO_SUB ? ext : srv, 4);
  f.cport = (uint16_t)(1024 + h_xorshift(rng) % 64000);
  f.sport = kind == FLOOD_UP || kind == FLOOD_BOTH || kind == FLOOD_MANY
                ? 443
                : (uint16_t)(1024 + h_xorshift(rng) % 64000);
  uint8_t p[120];
  for (size_t i = 0; i < sizeof(p); i++)
    p[i] = (uint8_t)h_xorshift(rng);
  assert_true(scone_packet_build(p, sizeof(p), SCONE_SIGNAL_UNKNOWN, p + 60, 8,
                                 p + 70, 8, 0) == 23);
  p[23] &= 0x7f; /* the short header after it */
  h_pkt k;
  int to_server = kind != FLOOD_AT_VICTIM;
  h_send(e, &f, to_server, p, sizeof(p), t, &k);
  assert_int_equal(k.v.action, SCONED_PASS);
  if (kind == FLOOD_BOTH)
    h_send(e, &f, !to_server, p, sizeof(p), t, &k);
}

static void flood_leaves_room_for_others(void **state) {
  (void)state;
  for (int kind = 0; kind < FLOOD_KINDS; kind++) {
    sconed_engine_settings s;
    h_settings(&s);
    s.max_flows = 4096; /* shares: 128 per subscriber, 512 in the pool */
    sconed_engine *e = h_engine_with(&s, "[plan p]\ndownlink = 5M\n"
                                         "[subscribers]\n"
                                         "subscriber = 10.0.0.0/8 p opt-in\n");
    uint64_t rng = 0x5eed + (uint64_t)kind;
    unsigned sig = scone_rate_to_signal(5000000);
    int sessions = 0, advised = 0, early = 0;
    /* 10,000 flood datagrams a second for 6 s; the table is full of them
     * within half a second. */
    for (int i = 0; i < 60000; i++) {
      scone_tstamp t = T0 + (scone_tstamp)i * 100000;
      flood_packet(e, kind, &rng, t);
      if (i % 5000 != 4999)
        continue;
      /* A session of subscriber 10.0.0.200: its handshake, then the
       * server's first SCONE packets, each to carry the advice. */
      pg_flow g;
      pg_flow_make(&g, 0, 200, (uint16_t)(50000 + sessions++));
      h_hello(e, &g, 1, t + 1);
      int ok = 1;
      for (int j = 0; j < 4; j++) {
        h_pkt k;
        h_scone(e, &g, 0, SCONE_SIGNAL_UNKNOWN, 300, t + 2 + (unsigned)j, &k);
        ok &= k.v.modified && pg_signal(k.b, k.len) == (int)sig;
      }
      /* With many owners the table is full of flows that are all young
       * (under young_timeout, 2 s, so nobody's to push out) for the
       * flood's first 2 s; what the reserve must give is every session
       * after that. */
      if (kind == FLOOD_MANY && i < 25000) {
        early++;
        continue;
      }
      advised += ok;
    }
    sconed_engine_stats st;
    sconed_engine_stats_get(e, &st);
    if (advised != sessions - early)
      fail_msg("flood kind %d: %d of %d sessions got advice (flows %llu, "
               "over quota %llu)",
               kind, advised, sessions - early, (unsigned long long)st.flows,
               (unsigned long long)st.over_quota);
    /* The flood holds its owners' shares, no more: six subscribers', a
     * victim's, or the pool's. */
    if (kind == FLOOD_MANY) {
      /* The sessions came in by the reserve. */
      assert_true(st.admitted_reserve >= (uint64_t)sessions);
      sconed_engine_free(e);
      continue;
    }
    uint64_t flood_max = kind == FLOOD_NO_SUB      ? 512
                         : kind == FLOOD_AT_VICTIM ? 128
                                                   : 6 * 128;
    assert_true(st.flows <= flood_max + (uint64_t)sessions);
    assert_true(st.over_quota > 40000);
    sconed_engine_free(e);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(budget_and_memory),
      cmocka_unit_test(idle_flows_evicted),
      cmocka_unit_test(flood_keeps_established_flows),
      cmocka_unit_test(two_way_flood_admission),
      cmocka_unit_test(flood_leaves_room_for_others),
      cmocka_unit_test(reload_re_resolves_lazily),
      cmocka_unit_test(malformed_pass_untouched),
      cmocka_unit_test(fragments_and_other_protocols_counted_apart),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
