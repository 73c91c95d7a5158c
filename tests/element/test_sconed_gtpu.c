/*
 * GTP-U: the engine applies SCONE to the subscriber packet a G-PDU
 * carries (both outer and both inner families, with and without sequence
 * numbers and extension headers), fixes the inner and the outer UDP
 * checksum and nothing else, keeps a flow across TEID changes (or, with
 * gtpu_teid, keeps TEIDs apart), and passes every other message untouched
 * and counted.
 */
#include "harness.h"

#include "gtpu.h"

/* The subscribers are the inner addresses; the tunnel's ends (192.0.2.10,
 * .20, fd00:6::10, ::20) and the servers are nobody's. */
static const char cfg[] = "[plan p]\n"
                          "downlink = 2M\n"
                          "[subscribers]\n"
                          "subscriber = 10.0.0.0/8 p opt-in\n"
                          "subscriber = 2001:db8::/48 p opt-in\n";
static const char cfg_teid[] = "[global]\n"
                               "gtpu_teid = yes\n"
                               "[plan p]\n"
                               "downlink = 2M\n"
                               "[subscribers]\n"
                               "subscriber = 10.0.0.0/8 p opt-in\n"
                               "subscriber = 2001:db8::/48 p opt-in\n";

typedef struct g_pkt {
  uint8_t b[1700], orig[1700];
  size_t len, inner_off, inner_len;
  sconed_verdict v;
} g_pkt;

/* The inner packet of flow f (to_server: uplink) with payload, through
 * tunnel t. */
static void g_send(sconed_engine *e, const pg_tunnel *t, const pg_flow *f,
                   int to_server, const uint8_t *payload, size_t plen,
                   scone_tstamp now, g_pkt *k) {
  uint8_t inner[1500];
  k->inner_len = pg_ip(inner, sizeof(inner), f, to_server, payload, plen, 1);
  assert_true(k->inner_len > 0);
  k->len = pg_gtpu(k->b, sizeof(k->b), t, to_server, inner, k->inner_len,
                   &k->inner_off);
  assert_true(k->len > 0);
  memcpy(k->orig, k->b, k->len);
  sconed_engine_process_ip(e, k->b, k->len, now, &k->v);
}

static void g_hello(sconed_engine *e, const pg_tunnel *t, const pg_flow *f,
                    scone_tstamp now) {
  uint8_t p[1200];
  pg_initial(p, sizeof(p), 1);
  g_pkt k;
  g_send(e, t, f, 1, p, sizeof(p), now, &k);
  assert_int_equal(k.v.action, SCONED_PASS);
  assert_false(k.v.modified);
}

static void g_scone(sconed_engine *e, const pg_tunnel *t, const pg_flow *f,
                    unsigned signal, scone_tstamp now, g_pkt *k) {
  uint8_t p[1000];
  pg_scone(p, sizeof(p), signal);
  g_send(e, t, f, 0, p, sizeof(p), now, k);
  assert_int_equal(k->v.action, SCONED_PASS);
}

/* A rewritten G-PDU: the inner signal and checksum and the outer checksum
 * changed, nothing else, and both checksums are right (a zero outer one
 * stays zero). */
static void assert_tunnel_rewrite(const g_pkt *k, unsigned want) {
  assert_true(k->v.modified);
  const uint8_t *in = k->b + k->inner_off;
  size_t ih = (in[0] >> 4) == 6 ? 40 : 20;
  size_t oh = (k->b[0] >> 4) == 6 ? 40 : 20;
  size_t may[6] = {oh + 6,
                   oh + 7,
                   k->inner_off + ih + 6,
                   k->inner_off + ih + 7,
                   k->inner_off + ih + 8,
                   k->inner_off + ih + 9};
  for (size_t i = 0; i < k->len; i++) {
    int ok = 0;
    for (int j = 0; j < 6; j++)
      ok |= i == may[j];
    if (!ok && k->b[i] != k->orig[i])
      fail_msg("byte %zu changed", i);
  }
  assert_int_equal(pg_signal(in, k->inner_len), (int)want);
  assert_true(pg_csum_ok(in, k->inner_len));
  if (!k->orig[oh + 6] && !k->orig[oh + 7]) {
    assert_int_equal(k->b[oh + 6] | k->b[oh + 7], 0);
  } else {
    assert_true(pg_csum_ok(k->b, k->len));
  }
}

static sconed_engine_stats stats(const sconed_engine *e) {
  sconed_engine_stats st;
  sconed_engine_stats_get(e, &st);
  return st;
}

/* Both outer families x both inner families x header options x outer
 * checksum: each tunnel's subscriber flow gets the plan's advice. */
static void every_shape_rewritten(void **state) {
  (void)state;
  unsigned want = scone_rate_to_signal(2000000);
  int n = 0;
  for (int ov6 = 0; ov6 < 2; ov6++)
    for (int iv6 = 0; iv6 < 2; iv6++)
      for (int opt = 0; opt < 4; opt++)
        for (int csum = 0; csum < 2; csum++) {
          sconed_engine *e = h_engine(cfg, 0);
          pg_tunnel t;
          pg_tunnel_make(&t, ov6, 0x1000u + (uint32_t)n);
          t.seq = (opt & 1) ? 77 : -1;
          t.qfi = (opt & 2) ? 9 : -1;
          t.csum = csum;
          pg_flow f;
          pg_flow_make(&f, iv6, 5, 50000);
          g_hello(e, &t, &f, T0);
          g_pkt k;
          g_scone(e, &t, &f, SCONE_SIGNAL_UNKNOWN, T0 + SEC(0.01), &k);
          assert_tunnel_rewrite(&k, want);
          /* Already below the advice: untouched. */
          g_scone(e, &t, &f, 3, T0 + SEC(0.02), &k);
          assert_false(k.v.modified);
          assert_memory_equal(k.b, k.orig, k.len);
          sconed_engine_stats st = stats(e);
          assert_int_equal(st.gtpu_packets, 3);
          assert_int_equal(st.no_subscriber, 0);
          assert_int_equal(st.flows, 1);
          sconed_plan_metrics m = h_plan(e, "p");
          assert_int_equal(m.rewrites, 1);
          assert_int_equal(m.confirms, 1);
          assert_int_equal(m.packets, 3);
          sconed_engine_free(e);
          n++;
        }
}

/* The same inner tuple in a tunnel and plain: two flows; the tunnel's
 * packets are never taken for flows between the tunnel's ends. */
static void tunnelled_apart_from_plain(void **state) {
  (void)state;
  sconed_engine *e = h_engine(cfg, 0);
  pg_tunnel t;
  pg_tunnel_make(&t, 0, 7);
  pg_flow f;
  pg_flow_make(&f, 0, 5, 50000);
  g_hello(e, &t, &f, T0);
  h_hello(e, &f, 1, T0 + 1);
  assert_int_equal(sconed_engine_flow_count(e), 2);
  sconed_engine_free(e);
}

/* A flow whose tunnel changes TEID (a handover, a path switch) is the
 * same flow: it keeps its advice and rewrite budget, so a packet past the
 * initial rewrites within one slot is not rewritten again. With
 * gtpu_teid each TEID is its own: the moved flow starts afresh. */
static void teid_moves(void **state) {
  (void)state;
  for (int teid_mode = 0; teid_mode < 2; teid_mode++) {
    sconed_engine *e = h_engine(teid_mode ? cfg_teid : cfg, 0);
    pg_tunnel up, down;
    pg_tunnel_make(&up, 1, 0x100);
    pg_tunnel_make(&down, 1, 0x200);
    pg_flow f;
    pg_flow_make(&f, 0, 9, 40000);
    g_hello(e, &up, &f, T0);
    g_pkt k;
    /* With gtpu_teid the downlink tunnel is a flow of its own, whose
     * first SCONE packet only starts the pickup. */
    if (teid_mode)
      g_scone(e, &down, &f, SCONE_SIGNAL_UNKNOWN, T0 + SEC(0.005), &k);
    for (int i = 0; i < SCONED_DEFAULT_INITIAL_REWRITES; i++) {
      g_scone(e, &down, &f, SCONE_SIGNAL_UNKNOWN, T0 + SEC(0.01 * (i + 1)), &k);
      assert_true(k.v.modified);
    }
    g_scone(e, &down, &f, SCONE_SIGNAL_UNKNOWN, T0 + SEC(0.1), &k);
    assert_false(k.v.modified); /* this slot's budget is spent */
    down.teid = 0x201;
    g_scone(e, &down, &f, SCONE_SIGNAL_UNKNOWN, T0 + SEC(0.2), &k);
    if (teid_mode) {
      /* A flow of its own, first seen mid-way: taken for QUIC by its
       * second SCONE packet (one is never enough) and advised then. */
      assert_false(k.v.modified);
      assert_int_equal(sconed_engine_flow_count(e), 3);
      g_scone(e, &down, &f, SCONE_SIGNAL_UNKNOWN, T0 + SEC(0.3), &k);
      assert_tunnel_rewrite(&k, scone_rate_to_signal(2000000));
    } else {
      assert_false(k.v.modified);
      assert_memory_equal(k.b, k.orig, k.len);
      assert_int_equal(sconed_engine_flow_count(e), 1);
      assert_int_equal(h_plan(e, "p").flows_total, 1);
    }
    sconed_engine_free(e);
  }
}

/* Two sessions with one UE address in different tunnels (overlapping
 * address pools): one subscriber state by default, two with gtpu_teid. */
static void teid_keys_subscribers(void **state) {
  (void)state;
  for (int teid_mode = 0; teid_mode < 2; teid_mode++) {
    sconed_engine *e = h_engine(teid_mode ? cfg_teid : cfg, 0);
    for (uint32_t s = 0; s < 2; s++) {
      pg_tunnel t;
      pg_tunnel_make(&t, 0, 0x500 + s);
      pg_flow f;
      pg_flow_make(&f, 0, 9, (uint16_t)(40000 + s));
      /* Both directions in one tunnel here, so that the flow is heard
       * from both ends and ties to its subscriber. */
      g_hello(e, &t, &f, T0);
      g_pkt k;
      g_scone(e, &t, &f, SCONE_SIGNAL_UNKNOWN, T0 + SEC(0.01), &k);
      assert_tunnel_rewrite(&k, scone_rate_to_signal(2000000));
    }
    assert_int_equal(stats(e).subscribers, teid_mode ? 2 : 1);
    sconed_engine_free(e);
  }
}

static const uint8_t echo_body[2] = {14, 0}; /* Recovery IE */

/* Builders of messages that must pass untouched; each returns the length
 * and says which counter it lands in. */
enum { C_MALFORMED, C_ECHO, C_OTHER, C_NOT_UDP, C_FRAGMENT };

static size_t inner_scone(uint8_t *inner, int v6) {
  pg_flow f;
  pg_flow_make(&f, v6, 5, 50000);
  uint8_t p[200];
  pg_scone(p, sizeof(p), SCONE_SIGNAL_UNKNOWN);
  return pg_ip(inner, 1500, &f, 0, p, sizeof(p), 1);
}

static size_t build_bad(int which, uint8_t *b, size_t cap, int *counter) {
  pg_tunnel t;
  pg_tunnel_make(&t, which & 1, 0x42);
  uint8_t inner[1500];
  size_t il = inner_scone(inner, 0), off, n;
  switch (which >> 1) {
  case 0: /* echo request, echo response */
  case 1:
    t.seq = 1;
    *counter = C_ECHO;
    return pg_gtpu_msg(b, cap, &t, which >> 1 == 0, (uint8_t)(1 + (which >> 1)),
                       echo_body, sizeof(echo_body), NULL);
  case 2: /* end marker */
    *counter = C_OTHER;
    return pg_gtpu_msg(b, cap, &t, 0, 254, NULL, 0, NULL);
  case 3: /* an unknown type carrying what looks like a T-PDU */
    *counter = C_OTHER;
    return pg_gtpu_msg(b, cap, &t, 0, 200, inner, il, NULL);
  case 4: /* GTP version 2 */
    *counter = C_MALFORMED;
    n = pg_gtpu(b, cap, &t, 0, inner, il, &off);
    b[off - 8] = (uint8_t)((b[off - 8] & 0x1f) | 0x40);
    return n;
  case 5: /* GTP' (PT 0) */
    *counter = C_MALFORMED;
    n = pg_gtpu(b, cap, &t, 0, inner, il, &off);
    b[off - 8] &= (uint8_t)~0x10;
    return n;
  case 6: /* the GTP length runs past the datagram */
    *counter = C_MALFORMED;
    n = pg_gtpu(b, cap, &t, 0, inner, il, &off);
    b[off - 6] = 0xff;
    return n;
  case 7: /* an extension header of length 0 */
    *counter = C_MALFORMED;
    t.qfi = 1;
    n = pg_gtpu(b, cap, &t, 0, inner, il, &off);
    b[off - 4] = 0;
    return n;
  case 8: /* an extension chain that runs into the T-PDU and past it */
    *counter = C_MALFORMED;
    t.qfi = 1;
    n = pg_gtpu(b, cap, &t, 0, inner, il, &off);
    b[off - 1] = 0x85;
    b[off] = 0xff;
    return n;
  case 9: /* a G-PDU shorter than its mandatory header */
    *counter = C_MALFORMED;
    n = pg_gtpu(b, cap, &t, 0, inner, il, &off);
    return off - 8 + 7;
  case 10: /* the inner packet cut short (its IP length says more) */
    *counter = C_MALFORMED;
    return pg_gtpu(b, cap, &t, 0, inner, 30, NULL);
  case 11: /* inner TCP */
    *counter = C_NOT_UDP;
    inner[9] = 6;
    return pg_gtpu(b, cap, &t, 0, inner, il, NULL);
  case 12: /* an inner first fragment */
    *counter = C_NOT_UDP;
    inner[6] = 0x20;
    return pg_gtpu(b, cap, &t, 0, inner, il, NULL);
  case 13: /* an outer first fragment (MF) of a G-PDU */
  default:
    *counter = C_FRAGMENT;
    t.outer.v6 = 0;
    pg_tunnel_make(&t, 0, 0x42);
    n = pg_gtpu(b, cap, &t, 0, inner, il, NULL);
    b[6] = 0x20;
    return n;
  }
}

static void others_pass_untouched_and_counted(void **state) {
  (void)state;
  for (int which = 0; which < 28; which++) {
    sconed_engine *e = h_engine(cfg, 0);
    uint8_t b[1700], orig[1700];
    int counter;
    size_t n = build_bad(which, b, sizeof(b), &counter);
    assert_true(n > 0);
    memcpy(orig, b, n);
    for (int rep = 0; rep < 6; rep++) {
      sconed_verdict v;
      sconed_engine_process_ip(e, b, n, T0 + SEC(rep), &v);
      assert_int_equal(v.action, SCONED_PASS);
      assert_false(v.modified);
      assert_memory_equal(b, orig, n);
    }
    sconed_engine_stats st = stats(e);
    uint64_t got[5] = {st.gtpu_malformed, st.gtpu_echo, st.gtpu_other,
                       st.gtpu_not_udp, st.gtpu_fragments};
    for (int c = 0; c < 5; c++)
      if (got[c] != (c == counter ? 6U : 0U))
        fail_msg("case %d: counter %d is %llu", which, c,
                 (unsigned long long)got[c]);
    assert_int_equal(st.gtpu_packets, 0);
    assert_int_equal(st.flows, 0);
    assert_int_equal(st.fragments, counter == C_FRAGMENT ? 6 : 0);
    sconed_engine_free(e);
  }
}

/* The parser's view: TEID, sequence number, QFI and the T-PDU's place. */
static void parser_fields(void **state) {
  (void)state;
  pg_tunnel t;
  pg_tunnel_make(&t, 0, 0xdeadbeef);
  t.seq = 4242;
  t.qfi = 37;
  uint8_t inner[1500], b[1700];
  size_t il = inner_scone(inner, 1), off;
  size_t n = pg_gtpu(b, sizeof(b), &t, 1, inner, il, &off);
  sconed_gtpu g;
  assert_int_equal(sconed_gtpu_parse(&g, b + 28, n - 28), SCONED_GTPU_TPDU);
  assert_int_equal(g.teid, 0xdeadbeef);
  assert_true(g.has_seq);
  assert_int_equal(g.seq, 4242);
  assert_int_equal(g.qfi, 37);
  assert_int_equal(g.ext_headers, 1);
  assert_int_equal(28 + g.inner_off, off);
  assert_int_equal(g.inner_len, il);
  /* Trailing bytes past the GTP length are not the tunnel's. */
  assert_int_equal(sconed_gtpu_parse(&g, b + 28, n - 28 + 0), SCONED_GTPU_TPDU);
  /* Every cut of the header is malformed, never read past. */
  for (size_t cut = 0; cut < off - 28; cut++)
    assert_int_equal(sconed_gtpu_parse(&g, b + 28, cut), SCONED_GTPU_MALFORMED);
}

/* One packet per call and the batch call give the same verdicts, bytes
 * and counters on a mix of tunnelled and plain packets. */
static void batch_matches_single(void **state) {
  (void)state;
  sconed_engine *e[2] = {h_engine(cfg, 0), h_engine(cfg, 0)};
  enum { N = 24 };
  static uint8_t b[2][N][1700];
  uint8_t *pk[N];
  size_t len[N];
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < N; i++) {
      pg_tunnel t;
      pg_tunnel_make(&t, i & 1, (uint32_t)(i % 3));
      t.qfi = i % 5 == 0 ? 5 : -1;
      pg_flow f;
      pg_flow_make(&f, (i >> 1) & 1, (uint32_t)(i % 4), 50000);
      uint8_t p[1200], inner[1500];
      size_t pl;
      if (round == 0 && i < 8) {
        pl = pg_initial(p, 1200, 1);
      } else {
        pl = pg_scone(p, 600, SCONE_SIGNAL_UNKNOWN);
      }
      int up = round == 0 && i < 8;
      size_t il = pg_ip(inner, sizeof(inner), &f, up, p, pl, 1);
      len[i] = i % 7 == 6 ? pg_ip(b[0][i], 1700, &f, up, p, pl, 1)
                          : pg_gtpu(b[0][i], 1700, &t, up, inner, il, NULL);
      memcpy(b[1][i], b[0][i], len[i]);
      pk[i] = b[0][i];
    }
    sconed_verdict v[2][N];
    scone_tstamp now = T0 + SEC(round * 30);
    sconed_engine_process_ip_batch(e[0], pk, len, N, now, v[0]);
    for (int i = 0; i < N; i++)
      sconed_engine_process_ip(e[1], b[1][i], len[i], now, &v[1][i]);
    for (int i = 0; i < N; i++) {
      assert_int_equal(v[0][i].action, v[1][i].action);
      assert_int_equal(v[0][i].modified, v[1][i].modified);
      assert_memory_equal(b[0][i], b[1][i], len[i]);
    }
  }
  sconed_engine_stats s0 = stats(e[0]), s1 = stats(e[1]);
  assert_memory_equal(&s0, &s1, sizeof(s0));
  assert_true(s0.gtpu_packets > 0);
  assert_true(h_plan(e[0], "p").rewrites > 0);
  sconed_engine_free(e[0]);
  sconed_engine_free(e[1]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_shape_rewritten),
      cmocka_unit_test(tunnelled_apart_from_plain),
      cmocka_unit_test(teid_moves),
      cmocka_unit_test(teid_keys_subscribers),
      cmocka_unit_test(others_pass_untouched_and_counted),
      cmocka_unit_test(parser_fields),
      cmocka_unit_test(batch_matches_single),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
