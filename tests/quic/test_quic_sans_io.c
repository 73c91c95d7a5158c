/*
 * The connection logic without sockets or a clock: a client and a server
 * connection exchange datagrams through an in-memory wire with a fixed
 * one-way delay, on a virtual clock that only this test moves. The clock
 * starts far from CLOCK_MONOTONIC's reading, so anything in the library that
 * read the real clock would show up in the times it reports; minutes of an
 * idle connection take milliseconds to run.
 */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* About 116 days: no machine's monotonic clock is that far along, so a time
 * read from it falls before the start of the trace. */
#define T0 (10000000 * SCONE_SECONDS)
#define DELAY (20 * SCONE_MILLISECONDS)
#define MAX_DGRAMS 4096
#define MAX_STEPS 2000000

typedef struct dgram {
  scone_tstamp at; /* delivered then */
  h_dir dir;
  size_t len;
  uint8_t data[SQ_TX_HEADROOM + SCONE_QUIC_DEFAULT_MAX_UDP_PAYLOAD];
} dgram;

typedef struct world world;

/* Sees every datagram as it is sent (t: send time); may rewrite it. */
typedef void (*wire_hook)(world *w, dgram *d, scone_tstamp t);

typedef struct endpoint {
  world *w;
  h_dir dir; /* of what it sends */
} endpoint;

struct world {
  scone_tstamp t;
  dgram *q; /* in flight, in send order */
  size_t nq;
  endpoint ce, se;
  sq_addr caddr, saddr;
  gnutls_certificate_credentials_t ccred, scred;
  scone_quic_settings cs, ss;
  scone_quic_callbacks ccb;
  scone_quic_conn *client, *server;
  wire_hook hook;
  void *hook_arg;
  uint64_t sent[2];
  /* Client advice events, from the scone_event callback. */
  unsigned advice_signal;
  uint32_t advice_changes;
  scone_tstamp last_accepted_at, changed_at;
};

static int wire_send(void *ctx, const sq_addr *to, const uint8_t *data,
                     size_t len) {
  (void)to;
  endpoint *e = ctx;
  world *w = e->w;
  assert_true(w->nq < MAX_DGRAMS);
  assert_true(len <= sizeof(w->q[0].data));
  dgram *d = &w->q[w->nq++];
  d->at = w->t + DELAY;
  d->dir = e->dir;
  d->len = len;
  memcpy(d->data, data, len);
  w->sent[e->dir]++;
  if (w->hook != NULL)
    w->hook(w, d, w->t);
  return 0;
}

static void on_scone_event(scone_quic_conn *conn, const scone_app_qlog_ev *ev,
                           scone_tstamp now, void *user_data) {
  (void)conn;
  world *w = user_data;
  if (ev->type == SCONE_APP_QLOG_ADVICE_ACCEPTED) {
    w->last_accepted_at = now;
  } else if (ev->type == SCONE_APP_QLOG_ADVICE_CHANGED) {
    w->advice_signal = ev->signal;
    w->advice_changes++;
    w->changed_at = now;
  }
}

static void world_init(world *w, const h_env *e, const char *client_qlog) {
  memset(w, 0, sizeof(*w));
  w->t = T0;
  w->q = calloc(MAX_DGRAMS, sizeof(*w->q));
  assert_non_null(w->q);
  w->ce = (endpoint){w, H_C2S};
  w->se = (endpoint){w, H_S2C};
  h_loopback_addr(&w->caddr, 40000);
  h_loopback_addr(&w->saddr, 4433);
  w->advice_signal = SCONE_SIGNAL_UNKNOWN;
  h_settings(&w->cs);
  h_settings(&w->ss);
  w->cs.qlog_path = client_qlog;
  w->ccb.scone_event = on_scone_event;
  assert_int_equal(sq_tls_client_cred(&w->ccred, NULL, 0), 0);
  assert_int_equal(sq_tls_server_cred(&w->scred, e->cert, e->key), 0);
}

static void world_start(world *w) {
  sq_conn_params p = {0};
  p.settings = &w->cs;
  p.cb = &w->ccb;
  p.user_data = w;
  p.send = wire_send;
  p.send_ctx = &w->ce;
  p.local = &w->caddr;
  p.remote = &w->saddr;
  p.cred = w->ccred;
  p.now = w->t;
  assert_int_equal(sq_conn_client_new(&w->client, &p), 0);
}

/* What server.c does with a datagram for no known connection. */
static void accept_server(world *w, const dgram *d) {
  const uint8_t *pkt = d->data;
  size_t len = d->len;
  scone_packet sp;
  if (scone_packet_is_scone(pkt, len) && scone_packet_parse(&sp, pkt, len) > 0)
    pkt += sp.len, len -= sp.len;
  ngtcp2_pkt_hd hd;
  assert_int_equal(ngtcp2_accept(&hd, pkt, len), 0);
  sq_conn_params p = {0};
  p.settings = &w->ss;
  p.send = wire_send;
  p.send_ctx = &w->se;
  p.local = &w->saddr;
  p.remote = &w->caddr;
  p.cred = w->scred;
  p.hd = &hd;
  p.now = w->t;
  assert_int_equal(sq_conn_server_new(&w->server, &p), 0);
}

static void deliver(world *w, const dgram *d) {
  if (d->dir == H_C2S) {
    if (w->server == NULL)
      accept_server(w, d);
    sq_conn_read(w->server, &w->saddr, &w->caddr, d->data, d->len, w->t);
  } else {
    sq_conn_read(w->client, &w->caddr, &w->saddr, d->data, d->len, w->t);
  }
}

static scone_tstamp expiry(const scone_quic_conn *c) {
  if (c == NULL || c->state == SQ_STATE_DEAD)
    return UINT64_MAX;
  return sq_conn_expiry(c);
}

static void service(scone_quic_conn *c, scone_tstamp t) {
  if (c != NULL && c->state != SQ_STATE_DEAD && sq_conn_expiry(c) <= t)
    sq_conn_handle_expiry(c, t);
}

/* Runs until the virtual clock reaches until or done(w) holds. */
static void run(world *w, scone_tstamp until, int (*done)(const world *)) {
  for (long step = 0;; step++) {
    assert_true(step < MAX_STEPS);
    sq_conn_write(w->client, w->t);
    if (w->server != NULL)
      sq_conn_write(w->server, w->t);
    if (done != NULL && done(w))
      return;
    scone_tstamp next = w->nq > 0 ? w->q[0].at : UINT64_MAX;
    scone_tstamp ec = expiry(w->client), es = expiry(w->server);
    if (ec < next)
      next = ec;
    if (es < next)
      next = es;
    if (next > until) {
      w->t = until;
      return;
    }
    if (next > w->t)
      w->t = next;
    /* Sent in order with one delay: the first due are the first queued. */
    size_t n = 0;
    while (n < w->nq && w->q[n].at <= w->t)
      n++;
    dgram *due = malloc(n * sizeof(*due) + 1);
    assert_non_null(due);
    memcpy(due, w->q, n * sizeof(*due));
    memmove(w->q, w->q + n, (w->nq - n) * sizeof(*w->q));
    w->nq -= n;
    for (size_t i = 0; i < n; i++)
      deliver(w, &due[i]);
    free(due);
    service(w->client, w->t);
    service(w->server, w->t);
  }
}

static int both_confirmed(const world *w) {
  return w->client->hs_confirmed && w->server != NULL &&
         w->server->hs_confirmed;
}

static void world_free(world *w) {
  sq_conn_del(w->client);
  sq_conn_del(w->server);
  gnutls_certificate_free_credentials(w->ccred);
  gnutls_certificate_free_credentials(w->scred);
  free(w->q);
}

/* The time, in ms from the trace start, of the first event named name whose
 * text holds also (NULL: any); -1 when there is none. */
static double qlog_time(const char *path, const char *name, const char *also) {
  char *log = h_read_file(path, NULL);
  assert_non_null(log);
  double t = -1;
  char key[128];
  snprintf(key, sizeof(key), "\"name\":\"%s\"", name);
  for (char *rec = strtok(log, "\x1e"); rec != NULL; rec = strtok(NULL, "\x1e"))
    if (strstr(rec, key) != NULL && (also == NULL || strstr(rec, also)) &&
        sscanf(rec, "{\"time\":%lf", &t) == 1)
      break;
  free(log);
  return t;
}

static void test_handshake_on_virtual_clock(void **state) {
  (void)state;
  h_env e;
  h_env_init(&e);
  world w;
  world_init(&w, &e, e.qlog);
  world_start(&w);
  run(&w, T0 + 5 * SCONE_SECONDS, both_confirmed);

  assert_true(both_confirmed(&w));
  assert_true(w.client->peer_scone);
  assert_true(w.server->peer_scone);
  /* The client learns of confirmation from HANDSHAKE_DONE: two round trips
   * on this wire, and nothing in between waits on a timer. */
  assert_int_equal(w.t, T0 + 4 * DELAY);
  sq_conn_close(w.client, w.t);
  world_free(&w);

  /* The server's parameters reached the client a round trip after the
   * start, on the trace's clock too: the time was the one passed in. */
  double at = qlog_time(e.qlog, "scone:parameters_set", "\"owner\":\"remote\"");
  assert_true(at >= 2 * DELAY / 1e6 - 0.001);
  assert_true(at <= 2 * DELAY / 1e6 + 0.001);
  h_env_cleanup(&e);
}

/* An element that lowers the first `limit` downlink signals to 40. */
typedef struct element {
  uint64_t limit, rewritten;
  scone_tstamp scone_at[256]; /* send times of downlink SCONE packets */
  size_t n;
} element;

static void element_hook(world *w, dgram *d, scone_tstamp t) {
  element *el = w->hook_arg;
  if (d->dir != H_S2C || !scone_packet_is_scone(d->data, d->len))
    return;
  if (el->n < sizeof(el->scone_at) / sizeof(el->scone_at[0]))
    el->scone_at[el->n++] = t;
  if (el->rewritten < el->limit &&
      scone_packet_rewrite(d->data, d->len, 40, NULL) == 1)
    el->rewritten++;
}

/* Ten idle minutes: advice taken, held for exactly one period from the last
 * signal, then expired; SCONE packets kept coming on the schedule. */
static void test_idle_minutes_on_virtual_clock(void **state) {
  (void)state;
  h_env e;
  h_env_init(&e);
  world w;
  world_init(&w, &e, NULL);
  element el = {.limit = 3};
  w.hook = element_hook;
  w.hook_arg = &el;
  world_start(&w);
  run(&w, T0 + 600 * SCONE_SECONDS, NULL);

  assert_int_equal(w.client->state, SQ_STATE_OPEN);
  assert_int_equal(el.rewritten, 3);
  assert_int_equal(w.advice_changes, 2);
  assert_int_equal(w.advice_signal, SCONE_SIGNAL_UNKNOWN);
  assert_int_equal(w.changed_at, w.last_accepted_at + SCONE_PERIOD);

  /* At least three per 67 s period, and never a gap longer than an
   * interval plus its jitter plus half an interval of keep-alive. */
  scone_duration max_gap = 0;
  for (size_t i = 1; i < el.n; i++)
    if (el.scone_at[i] - el.scone_at[i - 1] > max_gap)
      max_gap = el.scone_at[i] - el.scone_at[i - 1];
  assert_true(el.n >= 600 / 67 * 3);
  assert_true(max_gap <= SCONE_QUIC_DEFAULT_SEND_INTERVAL * 17 / 10 + DELAY);
  sq_conn_close(w.client, w.t);
  world_free(&w);
  h_env_cleanup(&e);
}

/* Send times of the first SCONE packet each way. */
typedef struct first_scone {
  scone_tstamp at[2];
} first_scone;

static void first_scone_hook(world *w, dgram *d, scone_tstamp t) {
  first_scone *fs = w->hook_arg;
  if (fs->at[d->dir] == 0 && scone_packet_is_scone(d->data, d->len))
    fs->at[d->dir] = t;
}

static void first_scone_times(scone_quic_placement placement, first_scone *fs) {
  h_env e;
  h_env_init(&e);
  world w;
  world_init(&w, &e, NULL);
  w.cs.scone_placement = w.ss.scone_placement = placement;
  memset(fs, 0, sizeof(*fs));
  w.hook = first_scone_hook;
  w.hook_arg = fs;
  world_start(&w);
  run(&w, T0 + SCONE_SECONDS, NULL);
  assert_true(fs->at[H_C2S] != 0 && fs->at[H_S2C] != 0);
  sq_conn_close(w.client, w.t);
  world_free(&w);
  h_env_cleanup(&e);
}

/* Where the first SCONE packets go, in round trips (two delays) on the
 * virtual wire. The server is confirmed once the client's Finished arrives
 * (1.5 round trips) and its first flight before that is all Initial
 * packets, padded to 1200 bytes with no room for one: its first goes then
 * either way. The client is confirmed by HANDSHAKE_DONE (2 round trips);
 * with the handshake placement its Finished flight (1 round trip) already
 * carries one. */
static void test_placement_timing_on_virtual_clock(void **state) {
  (void)state;
  first_scone confirmed, handshake;
  first_scone_times(SCONE_QUIC_PLACEMENT_CONFIRMED, &confirmed);
  first_scone_times(SCONE_QUIC_PLACEMENT_HANDSHAKE, &handshake);
  assert_int_equal(confirmed.at[H_S2C], T0 + 3 * DELAY);
  assert_int_equal(handshake.at[H_S2C], T0 + 3 * DELAY);
  assert_true(confirmed.at[H_C2S] >= T0 + 4 * DELAY);
  assert_int_equal(handshake.at[H_C2S], T0 + 2 * DELAY);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_handshake_on_virtual_clock),
      cmocka_unit_test(test_idle_minutes_on_virtual_clock),
      cmocka_unit_test(test_placement_timing_on_virtual_clock),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
