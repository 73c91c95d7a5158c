/* Signalling: which SCONE packets the engine rewrites, and how often. */
#include "harness.h"

#include "classify.h"

static unsigned sig_of(uint64_t bps) {
  return scone_rate_to_signal(bps);
}

/* Only the signal bits and the UDP checksum may differ. */
static void assert_only_signal_changed(const h_pkt *k) {
  size_t iph = (k->b[0] >> 4) == 6 ? 40 : 20;
  for (size_t i = 0; i < k->len; i++) {
    if (i == iph + 6 || i == iph + 7 || i == iph + 8 || i == iph + 9)
      continue;
    if (k->b[i] != k->orig[i])
      fail_msg("byte %zu changed", i);
  }
  assert_int_equal(k->b[iph + 8] & 0xc0, k->orig[iph + 8] & 0xc0);
  assert_int_equal(k->b[iph + 9] & 0x7f, k->orig[iph + 9] & 0x7f);
  assert_true(pg_csum_ok(k->b, k->len));
}

static void first_packets_then_per_slot(void **state) {
  (void)state;
  sconed_engine *e = h_engine(NULL, 0); /* default: 5 Mbit/s, all opted in */
  unsigned t = sig_of(SCONED_DEFAULT_ADVICE_BPS);
  pg_flow f;
  pg_flow_make(&f, 0, 1, 50000);
  h_hello(e, &f, 1, T0);
  int rewritten[4] = {0};
  for (int s = 0; s < 4 * 67; s++) {
    h_pkt k;
    h_scone(e, &f, 0, SCONE_SIGNAL_UNKNOWN, 1200, T0 + SEC(s) + 1000, &k);
    assert_int_equal(k.v.action, SCONED_PASS);
    if (k.v.modified) {
      assert_int_equal(pg_signal(k.b, k.len), (int)t);
      assert_only_signal_changed(&k);
      rewritten[s / 67]++;
    } else {
      assert_memory_equal(k.b, k.orig, k.len);
    }
    if (s < 4)
      assert_true(k.v.modified); /* the first few, for early advice */
  }
  /* Period 0: 4 initial rewrites in slot 0, then one in each of the other
   * three slots. Later periods: one per slot, four per period: "at least
   * twice", "no more than a few". */
  assert_int_equal(rewritten[0], 7);
  for (int p = 1; p < 4; p++)
    assert_int_equal(rewritten[p], 4);
  sconed_plan_metrics m = h_plan(e, "default");
  assert_int_equal(m.rewrites, 7 + 12);
  assert_int_equal(m.scone_packets, 4 * 67);
  sconed_engine_free(e);
}

static void sparse_scone_packets_all_rewritten(void **state) {
  (void)state;
  sconed_engine *e = h_engine(NULL, 0);
  pg_flow f;
  pg_flow_make(&f, 1, 2, 50001);
  h_hello(e, &f, 1, T0);
  /* One SCONE packet every 25 s, as the draft suggests senders do: after
   * the first four, each lands in a fresh slot, so none is missed. */
  for (int i = 0; i < 4; i++) {
    h_pkt k;
    h_scone(e, &f, 0, SCONE_SIGNAL_UNKNOWN, 300, T0 + SEC(i * 0.1), &k);
    assert_true(k.v.modified);
  }
  for (int i = 1; i <= 12; i++) {
    h_pkt k;
    h_scone(e, &f, 0, SCONE_SIGNAL_UNKNOWN, 300, T0 + SEC(25 * i), &k);
    assert_true(k.v.modified);
    assert_only_signal_changed(&k);
  }
  sconed_engine_free(e);
}

static void lower_existing_kept_higher_lowered(void **state) {
  (void)state;
  sconed_engine *e = h_engine(NULL, 0);
  unsigned t = sig_of(SCONED_DEFAULT_ADVICE_BPS);
  pg_flow f;
  pg_flow_make(&f, 0, 3, 50002);
  h_hello(e, &f, 0, T0);
  h_pkt k;
  /* Another element already signalled less: keep its value. */
  h_scone(e, &f, 0, t - 5, 500, T0 + SEC(1), &k);
  assert_false(k.v.modified);
  assert_memory_equal(k.b, k.orig, k.len);
  /* Equal: nothing to write either. */
  h_scone(e, &f, 0, t, 500, T0 + SEC(2), &k);
  assert_false(k.v.modified);
  /* Higher (and odd/even signals, both versions): lowered to ours. */
  for (unsigned s = t + 1; s < t + 3; s++) {
    h_scone(e, &f, 0, s, 500, T0 + SEC(3 + s - t), &k);
    assert_true(k.v.modified);
    assert_int_equal(pg_signal(k.b, k.len), (int)t);
    assert_only_signal_changed(&k);
  }
  sconed_plan_metrics m = h_plan(e, "default");
  assert_int_equal(m.confirms, 2);
  assert_int_equal(m.rewrites, 2);
  sconed_engine_free(e);
}

static void non_quic_flow_never_modified(void **state) {
  (void)state;
  sconed_engine *e = h_engine(NULL, 0);
  /* First datagram is not QUIC (no long header, no fixed bit): a game or
   * VPN protocol. Later datagrams that happen to start like a SCONE packet
   * stay, and so does one that even looks like a whole SCONE datagram
   * (the second would pick the flow up: greased_flow_picked_up). */
  pg_flow f;
  pg_flow_make(&f, 0, 4, 50003);
  uint8_t p[400];
  memset(p, 0x11, sizeof(p));
  h_pkt k;
  h_send(e, &f, 1, p, 200, T0, &k);
  for (int i = 0; i < 50; i++) {
    if (i == 25)
      pg_scone(p, 400, SCONE_SIGNAL_UNKNOWN);
    else
      pg_scone_lookalike(p, 400);
    h_send(e, &f, i & 1, p, 400, T0 + SEC(i), &k);
    assert_false(k.v.modified);
    assert_memory_equal(k.b, k.orig, k.len);
  }
  /* A long header whose CIDs break version 1's limits: not QUIC, and no
   * QUIC flow joined mid-way shows one, so even whole SCONE datagrams
   * later on are left alone. */
  pg_flow g;
  pg_flow_make(&g, 1, 5, 50004);
  pg_initial(p, 200, 1);
  p[5] = 40; /* DCID length 40 > 20 */
  h_send(e, &g, 1, p, 200, T0, &k);
  for (int i = 0; i < 10; i++) {
    h_scone(e, &g, 0, SCONE_SIGNAL_UNKNOWN, 400, T0 + SEC(i), &k);
    assert_false(k.v.modified);
  }
  sconed_engine_stats st;
  sconed_engine_stats_get(e, &st);
  assert_int_equal(st.not_quic_flows, 2);
  assert_int_equal(st.picked_up, 0);
  sconed_engine_free(e);
}

static void mid_flow_pickup(void **state) {
  (void)state;
  sconed_engine *e = h_engine(NULL, 0);
  unsigned t = sig_of(SCONED_DEFAULT_ADVICE_BPS);
  pg_flow f;
  pg_flow_make(&f, 0, 6, 50005);
  h_pkt k;
  /* sconed started while the flow ran: short headers first. The client
   * sends first here, so it is taken as the subscriber. */
  h_short(e, &f, 1, 60, T0, &k);
  h_short(e, &f, 0, 1200, T0 + 1, &k);
  /* Not classified yet: a SCONE packet now is left alone. */
  h_scone(e, &f, 0, SCONE_SIGNAL_UNKNOWN, 1200, T0 + 2, &k);
  assert_false(k.v.modified);
  /* The fourth datagram decides: 4 of 4 looked like QUIC. */
  h_short(e, &f, 1, 60, T0 + 3, &k);
  h_scone(e, &f, 0, SCONE_SIGNAL_UNKNOWN, 1200, T0 + 4, &k);
  assert_true(k.v.modified);
  assert_int_equal(pg_signal(k.b, k.len), (int)t);

  /* Mostly no fixed bit: not QUIC, and datagrams that merely start like
   * SCONE packets do not change that. */
  pg_flow g;
  pg_flow_make(&g, 0, 7, 50006);
  uint8_t p[100];
  pg_short(p, sizeof(p));
  h_send(e, &g, 1, p, sizeof(p), T0, &k);
  memset(p, 0x01, sizeof(p));
  h_send(e, &g, 0, p, sizeof(p), T0 + 1, &k);
  pg_scone_lookalike(p, sizeof(p));
  h_send(e, &g, 0, p, sizeof(p), T0 + 2, &k);
  memset(p, 0x01, sizeof(p));
  h_send(e, &g, 1, p, sizeof(p), T0 + 3, &k);
  for (int i = 0; i < 8; i++) {
    pg_scone_lookalike(p, sizeof(p));
    h_send(e, &g, 0, p, sizeof(p), T0 + SEC(i + 1), &k);
    assert_false(k.v.modified);
  }
  sconed_engine_free(e);
}

static const char *cfg_subs =
    "[plan gold]\n"
    "downlink = 50M\n"
    "uplink = 1M\n"
    "[plan silver]\n"
    "downlink = 5M\n"
    "[capacity cell-1]\n"
    "rate = 20M\n"
    "[subscribers]\n"
    "subscriber = 10.0.0.0/24 gold opt-in capacity=cell-1\n"
    "subscriber = 10.0.0.8/29 silver opt-out\n"
    "subscriber = 2001:db8::/64 silver opt-in\n";

static void opt_out_and_strangers_untouched(void **state) {
  (void)state;
  sconed_engine *e = h_engine(cfg_subs, 0);
  h_pkt k;
  pg_flow f; /* 10.0.0.9: silver, opted out */
  pg_flow_make(&f, 0, 9, 50010);
  h_hello(e, &f, 1, T0);
  for (int i = 0; i < 10; i++) {
    h_scone(e, &f, 0, SCONE_SIGNAL_UNKNOWN, 500, T0 + SEC(i), &k);
    assert_false(k.v.modified);
  }
  pg_flow g; /* 10.1.0.1: nobody's subscriber */
  pg_flow_make(&g, 0, 0x10001, 50011);
  h_hello(e, &g, 1, T0);
  for (int i = 0; i < 10; i++) {
    h_scone(e, &g, 0, SCONE_SIGNAL_UNKNOWN, 500, T0 + SEC(i), &k);
    assert_false(k.v.modified);
  }
  sconed_plan_metrics m = h_plan(e, "silver");
  assert_int_equal(m.scone_packets, 10);
  assert_int_equal(m.rewrites, 0);
  sconed_engine_stats st;
  sconed_engine_stats_get(e, &st);
  assert_int_equal(st.no_subscriber, 11);
  sconed_engine_free(e);
}

static void capacity_and_uplink(void **state) {
  (void)state;
  sconed_engine *e = h_engine(cfg_subs, 0);
  h_pkt k;
  pg_flow f; /* 10.0.0.2: gold in cell-1, 50M plan under a 20M cell */
  pg_flow_make(&f, 0, 2, 50020);
  h_hello(e, &f, 1, T0);
  /* The server sends first? No: the subscriber side is matched by prefix,
   * whichever end speaks first. */
  for (int i = 0; i < 6; i++) {
    h_scone(e, &f, 0, SCONE_SIGNAL_UNKNOWN, 500, T0 + SEC(0.1 * i), &k);
    if (i < 4) {
      assert_true(k.v.modified);
      assert_int_equal(pg_signal(k.b, k.len), (int)sig_of(20000000));
    } else {
      assert_false(k.v.modified); /* slot budget spent */
    }
  }
  /* The cell shrinks: the very next SCONE packet carries it, and a few
   * more may follow at once. */
  assert_int_equal(sconed_engine_set_capacity(e, "cell-1", 2000000, T0), 0);
  assert_int_equal(sconed_engine_set_capacity(e, "nope", 2000000, T0), -1);
  for (int i = 0; i < 6; i++) {
    h_scone(e, &f, 0, SCONE_SIGNAL_UNKNOWN, 500, T0 + SEC(1 + 0.1 * i), &k);
    if (i < 4) {
      assert_true(k.v.modified);
      assert_int_equal(pg_signal(k.b, k.len), (int)sig_of(2000000));
    } else {
      assert_false(k.v.modified);
    }
  }
  /* Uplink advice goes into client-to-server SCONE packets. */
  h_scone(e, &f, 1, SCONE_SIGNAL_UNKNOWN, 500, T0 + SEC(2), &k);
  assert_true(k.v.modified);
  assert_int_equal(pg_signal(k.b, k.len), (int)sig_of(1000000));
  /* A plan without uplink advice leaves them alone. */
  pg_flow g;
  pg_flow_make(&g, 1, 1, 50021); /* 2001:db8::1, silver opt-in */
  h_hello(e, &g, 1, T0);
  h_scone(e, &g, 1, SCONE_SIGNAL_UNKNOWN, 500, T0 + SEC(3), &k);
  assert_false(k.v.modified);
  h_scone(e, &g, 0, SCONE_SIGNAL_UNKNOWN, 500, T0 + SEC(3), &k);
  assert_true(k.v.modified);
  assert_int_equal(pg_signal(k.b, k.len), (int)sig_of(5000000));
  sconed_engine_free(e);
}

static void subscriber_side_by_prefix(void **state) {
  (void)state;
  sconed_engine *e = h_engine(cfg_subs, 0);
  h_pkt k;
  pg_flow f;
  pg_flow_make(&f, 0, 3, 50030);
  /* The server's packet is seen first (capture started mid-flow), yet the
   * subscriber is the side in a subscriber prefix: downlink stays toward
   * it and gets the downlink advice. */
  for (int i = 0; i < 4; i++)
    h_short(e, &f, i & 1, 100, T0 + (scone_tstamp)i, &k);
  h_scone(e, &f, 0, SCONE_SIGNAL_UNKNOWN, 500, T0 + SEC(1), &k);
  assert_true(k.v.modified);
  assert_int_equal(pg_signal(k.b, k.len), (int)sig_of(20000000));
  sconed_engine_free(e);
}

static void udp_path(void **state) {
  (void)state;
  sconed_engine *e = h_engine(NULL, 0);
  sconed_tuple t;
  memset(&t, 0, sizeof(t));
  t.ip_version = 4;
  uint8_t a[4] = {10, 0, 0, 1}, b[4] = {192, 0, 2, 1};
  memcpy(t.src, a, 4);
  memcpy(t.dst, b, 4);
  t.sport = 40000;
  t.dport = 443;
  uint8_t p[1200];
  pg_initial(p, sizeof(p), 1);
  sconed_verdict v;
  sconed_engine_process_udp(e, &t, p, sizeof(p), T0, &v);
  assert_false(v.modified);
  sconed_tuple r = t;
  memcpy(r.src, b, 4);
  memcpy(r.dst, a, 4);
  r.sport = 443;
  r.dport = 40000;
  pg_scone(p, 800, SCONE_SIGNAL_UNKNOWN);
  sconed_engine_process_udp(e, &r, p, 800, T0 + 1, &v);
  assert_true(v.modified);
  assert_int_equal(scone_packet_signal(p), sig_of(SCONED_DEFAULT_ADVICE_BPS));
  sconed_engine_process_udp(e, NULL, p, 800, T0 + 2, &v);
  assert_int_equal(v.action, SCONED_PASS);
  sconed_engine_free(e);
}

/* A SCONE header whose CIDs run past the datagram is malformed: the
 * datagram passes untouched and is not counted as a SCONE packet, on a
 * flow already SCONE-active (fast path) and on a new one (full path). */
static void cids_past_the_datagram_untouched(void **state) {
  (void)state;
  sconed_engine *e = h_engine(NULL, 0);
  for (int active = 0; active < 2; active++) {
    scone_tstamp t0 = T0 + (scone_tstamp)active * SCONE_PERIOD;
    pg_flow f;
    pg_flow_make(&f, active, 7, (uint16_t)(50000 + active));
    h_hello(e, &f, 1, t0);
    h_pkt k;
    if (active) { /* the first SCONE packets take their rewrites */
      for (int i = 0; i < 6; i++)
        h_scone(e, &f, 0, SCONE_SIGNAL_UNKNOWN, 300, t0 + 1 + (unsigned)i, &k);
      assert_false(k.v.modified); /* this slot's budget is spent */
    }
    uint64_t before = h_plan(e, "default").scone_packets;
    for (unsigned cut = 0; cut < 2; cut++) {
      uint8_t p[40];
      assert_true(pg_scone(p, sizeof(p), SCONE_SIGNAL_UNKNOWN) == sizeof(p));
      if (cut == 0)
        p[5] = 34; /* DCID to the last byte: no room for the SCID length */
      else
        p[6 + p[5]] = (uint8_t)(sizeof(p) - 6 - p[5]); /* SCID one too long */
      h_send(e, &f, 0, p, sizeof(p), t0 + SEC(20) + cut, &k);
      assert_int_equal(k.v.action, SCONED_PASS);
      assert_false(k.v.modified);
      assert_memory_equal(k.b, k.orig, k.len);
    }
    assert_int_equal(h_plan(e, "default").scone_packets, before);
    /* One byte more and it is a SCONE packet again, rewritten (a new
     * slot, for the active flow). */
    uint8_t p[40];
    pg_scone(p, sizeof(p), SCONE_SIGNAL_UNKNOWN);
    p[6 + p[5]] = (uint8_t)(sizeof(p) - 7 - p[5]);
    h_send(e, &f, 0, p, sizeof(p), t0 + SEC(20) + 2, &k);
    assert_true(k.v.modified);
    assert_int_equal(h_plan(e, "default").scone_packets, before + 1);
  }
  sconed_engine_free(e);
}

/* sconed started mid-flow and the server's datagram came first: downlink
 * advice must still go toward the client (built-in catch-all, a tie). */
static void mid_flow_server_first(void **state) {
  (void)state;
  sconed_engine *e = h_engine(NULL, 0);
  unsigned t = sig_of(SCONED_DEFAULT_ADVICE_BPS);
  pg_flow f;
  pg_flow_make(&f, 0, 3, 50003);
  h_pkt k;
  for (int i = 0; i < 4; i++)
    h_short(e, &f, i & 1, 300, T0 + (scone_tstamp)i, &k);
  h_scone(e, &f, 0, SCONE_SIGNAL_UNKNOWN, 300, T0 + 10, &k);
  assert_true(k.v.modified);
  assert_int_equal(pg_signal(k.b, k.len), (int)t);
  /* The built-in plan has no uplink advice. */
  h_scone(e, &f, 1, SCONE_SIGNAL_UNKNOWN, 300, T0 + 11, &k);
  assert_false(k.v.modified);

  /* A SCONE packet first is no handshake: the port decides too. It is
   * not enough to take the flow for QUIC either; the second is. */
  pg_flow g;
  pg_flow_make(&g, 0, 4, 50004);
  h_scone(e, &g, 0, SCONE_SIGNAL_UNKNOWN, 300, T0 + 20, &k);
  assert_false(k.v.modified);
  h_scone(e, &g, 0, SCONE_SIGNAL_UNKNOWN, 300, T0 + 21, &k);
  assert_true(k.v.modified);
  h_scone(e, &g, 1, SCONE_SIGNAL_UNKNOWN, 300, T0 + 22, &k);
  assert_false(k.v.modified);

  /* No well-known port on either end and no handshake seen: which end is
   * the client is unknown, so nothing is written either way. */
  pg_flow u;
  pg_flow_make(&u, 0, 5, 50005);
  u.sport = 50006;
  for (int i = 0; i < 4; i++)
    h_short(e, &u, i & 1, 300, T0 + 30 + (scone_tstamp)i, &k);
  for (int i = 0; i < 4; i++) {
    h_scone(e, &u, i & 1, SCONE_SIGNAL_UNKNOWN, 300, T0 + 40 + (scone_tstamp)i,
            &k);
    assert_false(k.v.modified);
  }

  /* Same ports but the client's Initial seen first: it is the client. */
  pg_flow h;
  pg_flow_make(&h, 0, 6, 50007);
  h.sport = 50008;
  h_hello(e, &h, 0, T0 + 50);
  h_scone(e, &h, 0, SCONE_SIGNAL_UNKNOWN, 300, T0 + 51, &k);
  assert_true(k.v.modified);
  h_scone(e, &h, 1, SCONE_SIGNAL_UNKNOWN, 300, T0 + 52, &k);
  assert_false(k.v.modified);
  sconed_engine_free(e);
}

/* A datagram of a connection whose endpoints grease the fixed bit (RFC
 * 9287), as ngtcp2 does on every short header: the short header has 0x40
 * (and 0x80) clear and carries the connection's 8-byte DCID; with scone,
 * a SCONE packet with the same DCID leads it. */
static size_t greased(uint8_t *p, size_t len, const uint8_t dcid[8], int scone,
                      uint64_t *rng) {
  for (size_t i = 0; i < len; i++)
    p[i] = (uint8_t)h_xorshift(rng);
  size_t n = 0;
  if (scone)
    n = (size_t)scone_packet_build(p, len, SCONE_SIGNAL_UNKNOWN, dcid, 8, NULL,
                                   0, 0);
  p[n] &= 0x3f;
  memcpy(p + n + 1, dcid, 8);
  return len;
}

/* sconed restarted under a connection whose endpoints grease the fixed
 * bit: its short headers do not look like QUIC, so it is not QUIC at
 * first; its second SCONE packet whose DCID is that of the short header
 * after it picks it up, and is rewritten. */
static void greased_flow_picked_up(void **state) {
  (void)state;
  sconed_engine *e = h_engine(NULL, 0);
  unsigned t = sig_of(SCONED_DEFAULT_ADVICE_BPS);
  uint64_t rng = 99;
  static const uint8_t dcid[8] = {0xd1, 0xd2, 0xd3, 0xd4,
                                  0xd5, 0xd6, 0xd7, 0xd8};
  pg_flow f;
  pg_flow_make(&f, 0, 8, 50100);
  uint8_t p[1200];
  h_pkt k;
  scone_tstamp now = T0;
  for (int i = 0; i < 20; i++) {
    greased(p, sizeof(p), dcid, 0, &rng);
    h_send(e, &f, i % 3 == 0, p, i % 3 == 0 ? 60 : sizeof(p), now += 1000, &k);
    assert_false(k.v.modified);
  }
  sconed_engine_stats st;
  sconed_engine_stats_get(e, &st);
  assert_int_equal(st.not_quic_flows, 1);
  /* The first SCONE packet is not enough. */
  greased(p, sizeof(p), dcid, 1, &rng);
  h_send(e, &f, 0, p, sizeof(p), now += 1000, &k);
  assert_false(k.v.modified);
  greased(p, sizeof(p), dcid, 0, &rng);
  h_send(e, &f, 0, p, sizeof(p), now += 1000, &k);
  /* The second is rewritten, and so are the early ones after it. */
  for (int i = 0; i < 5; i++) {
    greased(p, sizeof(p), dcid, 1, &rng);
    h_send(e, &f, 0, p, sizeof(p), now += 1000, &k);
    assert_int_equal(k.v.modified, i < 4);
    if (i < 4) {
      assert_int_equal(pg_signal(k.b, k.len), (int)t);
      assert_only_signal_changed(&k);
    }
  }
  sconed_engine_stats_get(e, &st);
  assert_int_equal(st.picked_up, 1);
  assert_int_equal(h_plan(e, "default").scone_flows, 1);

  /* SCONE packets whose DCID is not the short header's after them (any
   * number): never picked up. */
  pg_flow g;
  pg_flow_make(&g, 0, 9, 50101);
  for (int i = 0; i < 10; i++) {
    greased(p, sizeof(p), dcid, 1, &rng);
    p[15 + 1 + 7] ^= 1; /* the short header's DCID, last byte */
    h_send(e, &g, 0, p, sizeof(p), now += 1000, &k);
    assert_false(k.v.modified);
  }
  /* Random UDP that starts with a SCONE datagram once, then never again. */
  pg_flow u;
  pg_flow_make(&u, 0, 10, 50102);
  pg_scone(p, 300, SCONE_SIGNAL_UNKNOWN);
  h_send(e, &u, 0, p, 300, now += 1000, &k);
  assert_false(k.v.modified);
  for (int i = 0; i < 100; i++) {
    for (size_t j = 0; j < 300; j++)
      p[j] = (uint8_t)h_xorshift(&rng);
    h_send(e, &u, i & 1, p, 300, now += 1000, &k);
    assert_false(k.v.modified);
    assert_memory_equal(k.b, k.orig, k.len);
  }
  sconed_engine_stats_get(e, &st);
  assert_int_equal(st.picked_up, 1);
  sconed_engine_free(e);
}

/* What counts as a SCONE packet consistent with the packet after it. */
static void scone_coalesced_rules(void **state) {
  (void)state;
  static const uint8_t d[8] = {1, 2, 3, 4, 5, 6, 7, 8}, s[4] = {9, 9, 9, 9};
  uint8_t p[200];
  uint64_t rng = 5;
  /* Before a short header: its DCID, with room for a packet number and a
   * header-protection sample; no SCID in the SCONE packet. */
  greased(p, sizeof(p), d, 1, &rng);
  assert_true(sconed_scone_coalesced(p, sizeof(p)));
  assert_true(sconed_scone_coalesced(p, 15 + 1 + 8 + 20));
  assert_false(sconed_scone_coalesced(p, 15 + 1 + 8 + 19));
  p[16] ^= 0x80;
  assert_false(sconed_scone_coalesced(p, sizeof(p))); /* DCID differs */
  size_t n = (size_t)scone_packet_build(p, sizeof(p), 127, d, 8, s, 4, 0);
  p[n] = 0x40;
  memcpy(p + n + 1, d, 8);
  assert_false(sconed_scone_coalesced(p, sizeof(p))); /* SCID before it */
  /* Before a long header: the same DCID and SCID. */
  p[n] = 0xc0;
  memcpy(p + n + 1, "\0\0\0\1", 4);
  p[n + 5] = 8;
  memcpy(p + n + 6, d, 8);
  p[n + 14] = 4;
  memcpy(p + n + 15, s, 4);
  assert_true(sconed_scone_coalesced(p, sizeof(p)));
  p[n + 15] = 0;
  assert_false(sconed_scone_coalesced(p, sizeof(p)));
  /* Two SCONE packets in one datagram are not what the draft sends. */
  assert_true(scone_packet_build(p + n, sizeof(p) - n, 127, d, 8, s, 4, 0) > 0);
  assert_false(sconed_scone_coalesced(p, sizeof(p)));
  /* Nothing after it. */
  assert_false(sconed_scone_coalesced(p, n));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(first_packets_then_per_slot),
      cmocka_unit_test(sparse_scone_packets_all_rewritten),
      cmocka_unit_test(lower_existing_kept_higher_lowered),
      cmocka_unit_test(non_quic_flow_never_modified),
      cmocka_unit_test(mid_flow_pickup),
      cmocka_unit_test(mid_flow_server_first),
      cmocka_unit_test(greased_flow_picked_up),
      cmocka_unit_test(scone_coalesced_rules),
      cmocka_unit_test(opt_out_and_strangers_untouched),
      cmocka_unit_test(capacity_and_uplink),
      cmocka_unit_test(subscriber_side_by_prefix),
      cmocka_unit_test(udp_path),
      cmocka_unit_test(cids_past_the_datagram_untouched),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
