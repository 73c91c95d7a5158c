/*
 * SCONE alongside path validation. With the initial burst and the periodic
 * schedule both out of the way, the only SCONE packets left are those sent
 * because a datagram carries PATH_CHALLENGE or PATH_RESPONSE (seen through
 * ngtcp2's qlog "transport:packet_sent" frames). A NAT rebinding in the
 * forwarder makes the server validate the client's new address.
 */
#include "harness.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The path table is exercised directly: ngtcp2 0.12 hardly lets a test
 * drive five paths through one connection. */
#include "internal.h"

#define T_GET (10 * SCONE_SECONDS)

typedef struct counter {
  atomic_int phase; /* 0 before the rebinding, 1 after */
  uint64_t scone[2][2];
} counter;

static int count_hook(h_fwd *f, h_dir dir, uint8_t *buf, size_t *len,
                      size_t cap, void *arg) {
  (void)f;
  (void)cap;
  counter *k = arg;
  if (scone_packet_is_scone(buf, *len))
    k->scone[atomic_load(&k->phase)][dir]++;
  return 0;
}

/* The server's qlog: the one .sqlog in the directory that is not ours. */
static void server_qlog(const h_env *e, char *out, size_t len) {
  DIR *d = opendir(e->dir);
  assert_non_null(d);
  struct dirent *de;
  out[0] = '\0';
  while ((de = readdir(d)) != NULL) {
    size_t n = strlen(de->d_name);
    if (n > 6 && strcmp(de->d_name + n - 6, ".sqlog") == 0 &&
        strcmp(de->d_name, "client.sqlog") != 0)
      snprintf(out, len, "%s/%s", e->dir, de->d_name);
  }
  closedir(d);
  assert_true(out[0] != '\0');
}

static void test_scone_with_path_validation(void **state) {
  (void)state;
  h_env e;
  h_env_init(&e);
  scone_quic_settings st;
  h_settings(&st);
  st.initial_scone_datagrams = 0;
  st.send_interval = 600 * SCONE_SECONDS;
  h_server s;
  h_server_start(&s, &e, &st);
  counter k;
  memset(&k, 0, sizeof(k));
  atomic_init(&k.phase, 0);
  h_fwd f;
  h_fwd_start(&f, h_server_port(&s), count_hook, &k);
  h_client c;
  h_client_start(&c, h_fwd_port(&f), &st, e.qlog);
  assert_int_equal(h_client_get(&c, "/bytes/100000", T_GET), 0);
  assert_true(scone_quic_conn_peer_scone(scone_quic_client_conn(c.cl)));
  scone_quic_counters before;
  h_client_counters(&c, &before);

  atomic_store(&k.phase, 1);
  atomic_store(&f.rebind, 1);
  assert_int_equal(h_client_idle(&c, 100 * SCONE_MILLISECONDS), 0);
  assert_int_equal(h_client_get(&c, "/bytes/100000", T_GET), 0);
  assert_int_equal(c.last_status, 200);
  assert_int_equal(h_client_idle(&c, 300 * SCONE_MILLISECONDS), 0);
  scone_quic_counters after;
  h_client_counters(&c, &after);
  h_client_free(&c);
  h_server_stop(&s, NULL);
  h_fwd_stop(&f);

  assert_int_equal(f.rebinds, 1);
  /* Nothing was due before the rebinding. */
  assert_int_equal(before.scone_sent, 0);
  assert_int_equal(k.scone[0][H_C2S], 0);
  assert_int_equal(k.scone[0][H_S2C], 0);
  /* The server's PATH_CHALLENGE datagrams lead with SCONE packets, and so
   * does the client's PATH_RESPONSE. */
  assert_true(k.scone[1][H_S2C] >= 1);
  assert_true(k.scone[1][H_C2S] >= 1);
  assert_int_equal(after.scone_sent, k.scone[1][H_C2S]);
  char sq[600];
  server_qlog(&e, sq, sizeof(sq));
  assert_true(h_count_in_file(sq, "\"frame_type\":\"path_challenge\"") >= 1);
  assert_true(h_count_in_file(e.qlog, "\"frame_type\":\"path_response\"") >= 1);
  h_server_free(&s);
  h_env_cleanup(&e);
}

typedef struct advice_log {
  uint32_t n;
  uint32_t path_id;
  unsigned signal;
} advice_log;

static void log_advice(scone_quic_conn *conn, uint32_t path_id, scone_dir dir,
                       const scone_advice *adv, void *user_data) {
  (void)conn;
  (void)dir;
  advice_log *l = user_data;
  l->n++;
  l->path_id = path_id;
  l->signal = adv->signal;
}

/* A fifth path takes the slot of the least recently used one (never path
 * 0); the advice held for that slot's id is gone, and the application
 * hears so: advice_changed with no advice for that id. */
static void test_recycled_path_reports_advice_gone(void **state) {
  (void)state;
  scone_quic_conn *c = calloc(1, sizeof(*c));
  assert_non_null(c);
  advice_log l = {0};
  c->is_server = 1;
  c->s.send_interval = SCONE_SECONDS;
  c->s.advice_period = SCONE_PERIOD;
  c->rng = 1;
  c->cb.advice_changed = log_advice;
  c->user_data = &l;
  sq_addr local, remote[SQ_MAX_PATHS + 2];
  h_loopback_addr(&local, 443);
  for (uint16_t i = 0; i < SQ_MAX_PATHS + 2; i++)
    h_loopback_addr(&remote[i], (uint16_t)(1000 + i));
  scone_tstamp now = SCONE_SECONDS;
  for (uint32_t i = 0; i < SQ_MAX_PATHS; i++)
    assert_int_equal(
        sq_path_id(c, sq_path_find_or_add(c, &local, &remote[i], now++)), i);
  /* Advice on path 1, the least recently used after path 0. */
  sq_path *p1 = &c->paths[1];
  unsigned old = p1->tracker.current;
  assert_true(scone_advice_tracker_on_signal(&p1->tracker, 40, now));
  sq_event_advice_changed(c, p1, old, SCONE_APP_TRIGGER_SIGNAL, now);
  assert_int_equal(l.n, 1);
  assert_int_equal(l.signal, 40);

  sq_path *p = sq_path_find_or_add(c, &local, &remote[SQ_MAX_PATHS], ++now);
  assert_ptr_equal(p, p1);
  assert_int_equal(l.n, 2);
  assert_int_equal(l.path_id, 1);
  assert_int_equal(l.signal, SCONE_SIGNAL_UNKNOWN);
  assert_int_equal(c->npaths, SQ_MAX_PATHS);

  /* Path 2 held no advice: nothing changes for its id. */
  p = sq_path_find_or_add(c, &local, &remote[SQ_MAX_PATHS + 1], ++now);
  assert_int_equal(sq_path_id(c, p), 2);
  assert_int_equal(l.n, 2);
  free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scone_with_path_validation),
      cmocka_unit_test(test_recycled_path_reports_advice_gone),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
