/*
 * The first-flight indication as the network sees it. "every" (the draft's,
 * the default): every client datagram ends in 0xc8 0x13 until a datagram
 * from the server has arrived, and none does afterwards. "once": the first
 * flight as first sent, not its retransmissions. "off": none, and SCONE is
 * negotiated all the same.
 */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#define T_GET (10 * SCONE_SECONDS)

/* Drops the first `drop` server datagrams, so the client's first flight
 * lasts through retransmissions. */
typedef struct dropper {
  int drop;
  int dropped;
} dropper;

static int drop_hook(h_fwd *f, h_dir dir, uint8_t *buf, size_t *len, size_t cap,
                     void *arg) {
  (void)f;
  (void)buf;
  (void)len;
  (void)cap;
  dropper *d = arg;
  if (dir == H_S2C && d->dropped < d->drop) {
    d->dropped++;
    return 1;
  }
  return 0;
}

static void run(int capable, scone_quic_indication mode, int drop) {
  h_env e;
  h_env_init(&e);
  scone_quic_settings cs;
  h_settings(&cs);
  cs.scone_capable = capable;
  cs.indication = mode;
  h_server s;
  h_server_start(&s, &e, NULL);
  dropper d = {drop, 0};
  h_fwd f;
  h_fwd_start(&f, h_server_port(&s), drop_hook, &d);
  h_client c;
  h_client_start(&c, h_fwd_port(&f), &cs, NULL);
  assert_int_equal(h_client_get(&c, "/bytes/100000", T_GET), 0);
  assert_int_equal(c.last_status, 200);
  scone_quic_counters cc;
  h_client_counters(&c, &cc);
  int negotiated = scone_quic_conn_peer_scone(scone_quic_client_conn(c.cl));
  h_client_free(&c);
  scone_quic_server_stats ss;
  h_server_stop(&s, &ss);
  h_fwd_stop(&f);

  assert_int_equal(d.dropped, drop);
  /* Retransmitted Initials count as first flight too. */
  assert_true(f.c2s_before_s2c >= (uint64_t)(1 + (drop > 0)));
  assert_true(f.c2s_after_s2c >= 5);
  assert_int_equal(negotiated, capable);
  if (capable && mode == SCONE_QUIC_INDICATION_ONCE) {
    /* The ClientHello fits one datagram: that one alone. */
    assert_int_equal(f.c2s_before_s2c_ind, 1);
    assert_int_equal(cc.indications_sent, 1);
    assert_true(f.c2s_after_s2c_ind <= 1); /* a tag ending in c8 13 */
    assert_int_equal(ss.datagrams_with_indication, 1);
    assert_true(cc.scone_sent >= SCONE_QUIC_DEFAULT_INITIAL_DATAGRAMS);
  } else if (capable && mode == SCONE_QUIC_INDICATION_EVERY) {
    assert_int_equal(f.c2s_before_s2c_ind, f.c2s_before_s2c);
    /* A datagram may already have been on its way when the server's first
     * one passed the forwarder; a random AEAD tag ending in c8 13 is a
     * 1-in-65536 event per datagram. */
    assert_true(f.c2s_after_s2c_ind <= 1);
    assert_true(cc.indications_sent >= f.c2s_before_s2c_ind);
    assert_true(cc.indications_sent <=
                f.c2s_before_s2c_ind + f.c2s_after_s2c_ind);
    assert_int_equal(ss.datagrams_with_indication, 1);
  } else {
    assert_int_equal(f.c2s_before_s2c_ind, 0);
    assert_int_equal(cc.indications_sent, 0);
    assert_int_equal(ss.datagrams_with_indication, 0);
    if (capable) /* off: negotiated by the parameter alone */
      assert_true(cc.scone_sent >= SCONE_QUIC_DEFAULT_INITIAL_DATAGRAMS);
  }
  h_server_free(&s);
  h_env_cleanup(&e);
}

static void test_indication_until_server_datagram(void **state) {
  (void)state;
  run(1, SCONE_QUIC_INDICATION_EVERY, 0);
}

static void test_indication_on_retransmitted_first_flight(void **state) {
  (void)state;
  run(1, SCONE_QUIC_INDICATION_EVERY, 2);
}

/* Two server datagrams lost: the client's first flight goes out again,
 * without the indication this time. */
static void test_indication_once_not_on_retransmissions(void **state) {
  (void)state;
  run(1, SCONE_QUIC_INDICATION_ONCE, 2);
}

static void test_indication_off(void **state) {
  (void)state;
  run(1, SCONE_QUIC_INDICATION_OFF, 0);
}

static void test_no_indication_without_scone(void **state) {
  (void)state;
  run(0, SCONE_QUIC_INDICATION_EVERY, 0);
}

/* A client that gives up before the server answered sends CONNECTION_CLOSE
 * in its first flight; that datagram may be the only one a network element
 * sees, so it ends in the indication too. */
static void test_indication_on_close_in_first_flight(void **state) {
  (void)state;
  h_env e;
  h_env_init(&e);
  scone_quic_settings cs;
  h_settings(&cs);
  h_server s;
  h_server_start(&s, &e, NULL);
  dropper d = {1000000, 0};
  h_fwd f;
  h_fwd_start(&f, h_server_port(&s), drop_hook, &d);
  h_client c;
  h_client_start(&c, h_fwd_port(&f), &cs, NULL);
  /* Exactly half a second (not a deadline the harness scales under
   * valgrind): the client must still be in its first flight. */
  int rc = h_client_get_for(&c, "/", SCONE_SECONDS / 2);
  scone_quic_counters before;
  h_client_counters(&c, &before);
  h_client_free(&c); /* sends CONNECTION_CLOSE */
  /* Lets the forwarder read the close before it stops. */
  struct timespec ts = {0, 200 * 1000 * 1000};
  nanosleep(&ts, NULL);
  h_fwd_stop(&f);
  h_server_stop(&s, NULL);

  /* Asserted once the forwarder has stopped: a failed assertion leaves
   * this frame, which the forwarder's f lives on. */
  assert_int_equal(rc, SCONE_QUIC_ERR_TIMEOUT);
  assert_int_equal(f.count[H_S2C], 0);
  assert_true(f.c2s_before_s2c > before.datagrams_sent);
  assert_int_equal(f.c2s_before_s2c_ind, f.c2s_before_s2c);
  h_server_free(&s);
  h_env_cleanup(&e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_indication_until_server_datagram),
      cmocka_unit_test(test_indication_on_close_in_first_flight),
      cmocka_unit_test(test_indication_on_retransmitted_first_flight),
      cmocka_unit_test(test_indication_once_not_on_retransmissions),
      cmocka_unit_test(test_indication_off),
      cmocka_unit_test(test_no_indication_without_scone),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
