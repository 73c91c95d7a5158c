/*
 * The HTTP/3 client API a player or a proxy builds on, against a real
 * scone-server on 127.0.0.1: request headers reach the server, response
 * headers reach their callback before the body, HEAD, a cancelled request
 * leaves the connection usable, failures are told apart from completion,
 * and an outside event loop drives the client through fd, timeout and
 * process.
 */
#include "harness.h"

#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define T_GET (10 * SCONE_SECONDS)

static void server_up(h_env *e, h_server *s) {
  h_env_init(e);
  scone_quic_server_config cfg;
  scone_quic_server_config_default(&cfg);
  h_server_start_cfg(s, e, &cfg);
}

static void server_down(h_env *e, h_server *s) {
  h_server_stop(s, NULL);
  h_server_free(s);
  h_env_cleanup(e);
}

/* Extra request headers (CMCD shards, Range, one a proxy would forward)
 * arrive at the server as sent, names in lowercase; the :path keeps its
 * query; the response headers come to their callback before any body
 * byte. */
static void test_request_and_response_headers(void **state) {
  (void)state;
  h_env e;
  h_server s;
  server_up(&e, &s);
  h_rec t;
  h_rec_start(&t, h_server_port(&s));
  const scone_quic_header h[] = {
      {"CMCD-Request", "bl=21300,mtp=4900"},
      {"CMCD-Object", "br=1050,d=2000,ot=v"},
      {"CMCD-Status", "rtp=1300"},
      {"CMCD-Session", "sf=d,sid=\"6e2f\",st=v"},
      {"Range", "bytes=100-1099"},
      {"X-Forwarded-For", "192.0.2.7"},
  };
  int idx = h_rec_request(&t, "GET", "/bytes/5000?x=1&y=2", h, 6);
  assert_int_equal(idx, 0);
  assert_int_equal(h_rec_run(&t, T_GET), 0);
  h_rec_seen *r = &t.r[0];
  assert_int_equal(r->done, 1);
  assert_int_equal(r->error, 0);
  assert_int_equal(r->headers_calls, 1);
  assert_int_equal(r->body_before_headers, 0);
  assert_int_equal(r->status, 206);
  assert_int_equal(r->body, 1000);
  assert_non_null(strstr(r->headers, "content-range: bytes 100-1099/5000\n"));
  assert_non_null(strstr(r->headers, "content-length: 1000\n"));
  assert_non_null(strstr(r->headers, "access-control-allow-origin: *\n"));
  /* The server read the CMCD (rtp) and answered with CMSD mb. */
  assert_non_null(strstr(r->headers, "cmsd-dynamic: \"scone-server\";mb=1300"));
  assert_non_null(strstr(r->headers, "cmsd-static: br=1050,d=2000,ot=v"));

  char log[32768];
  h_server_log(&s, log, sizeof(log));
  assert_non_null(strstr(log, "GET /bytes/5000?x=1&y=2 206 bytes=1000 "));
  assert_non_null(strstr(log, " rtp=1300 malformed=0\n"));
  assert_non_null(strstr(log, "  cmcd-request: bl=21300,mtp=4900\n"));
  assert_non_null(strstr(log, "  cmcd-session: sf=d,sid=\"6e2f\",st=v\n"));
  assert_non_null(strstr(log, "  range: bytes=100-1099\n"));
  assert_non_null(strstr(log, "  x-forwarded-for: 192.0.2.7\n"));
  assert_non_null(strstr(log, "  user-agent: scone-client\n"));
  h_rec_free(&t);
  server_down(&e, &s);
}

/* HEAD: the headers of the GET, no body, a complete response. */
static void test_head(void **state) {
  (void)state;
  h_env e;
  h_server s;
  server_up(&e, &s);
  h_rec t;
  h_rec_start(&t, h_server_port(&s));
  assert_int_equal(h_rec_request(&t, "HEAD", "/bytes/5000", NULL, 0), 0);
  assert_int_equal(h_rec_run(&t, T_GET), 0);
  assert_int_equal(t.r[0].status, 200);
  assert_non_null(strstr(t.r[0].headers, "content-length: 5000\n"));
  assert_int_equal(t.r[0].body, 0);
  assert_int_equal(t.r[0].done, 1);
  assert_int_equal(t.r[0].error, 0);
  h_rec_free(&t);
  server_down(&e, &s);
}

/* A request cancelled mid-body (from its body callback) gets no callback
 * after that, and the same connection then serves another request. */
static void test_cancel_keeps_connection(void **state) {
  (void)state;
  h_env e;
  h_server s;
  server_up(&e, &s);
  h_rec t;
  h_rec_start(&t, h_server_port(&s));
  t.cancel_at_body = 200000;
  assert_int_equal(scone_quic_client_get(t.cl, "/bytes/1G"), 0);
  assert_int_equal(h_rec_run(&t, T_GET), 0);
  assert_true(t.cancelled);
  assert_int_equal(t.r[0].done, 0);
  uint64_t at_cancel = t.r[0].body;
  assert_true(at_cancel >= 200000);
  assert_int_equal(scone_quic_client_outstanding(t.cl), 0);
  /* A second cancel of the same request is refused. */
  assert_int_equal(scone_quic_client_cancel(t.cl, 0),
                   SCONE_ERR_INVALID_ARGUMENT);

  assert_int_equal(scone_quic_client_get(t.cl, "/bytes/3000"), 1);
  assert_int_equal(h_rec_run(&t, T_GET), 0);
  assert_int_equal(t.r[1].done, 1);
  assert_int_equal(t.r[1].error, 0);
  assert_int_equal(t.r[1].status, 200);
  assert_int_equal(t.r[1].body, 3000);
  /* Nothing more of the cancelled one was reported, even while the
   * connection runs on. */
  scone_quic_client_run(t.cl, scone_quic_now() + 300 * SCONE_MILLISECONDS, 0);
  assert_int_equal(t.r[0].body, at_cancel);
  assert_int_equal(t.r[0].done, 0);
  h_rec_free(&t);
  server_down(&e, &s);
}

/* A request outstanding when the server goes away fails with
 * SCONE_QUIC_ERR_CLOSED instead of completing, and new requests are
 * refused. */
static void test_connection_closed_fails_requests(void **state) {
  (void)state;
  h_env e;
  h_server s;
  server_up(&e, &s);
  h_rec t;
  h_rec_start(&t, h_server_port(&s));
  assert_int_equal(scone_quic_client_get(t.cl, "/bytes/1000"), 0);
  assert_int_equal(h_rec_run(&t, T_GET), 0);
  assert_int_equal(scone_quic_client_get(t.cl, "/bytes/1G"), 1);
  /* Until some of the body is in. */
  scone_tstamp end = scone_quic_now() + T_GET;
  while (t.r[1].body < 100000 && scone_quic_now() < end)
    scone_quic_client_run(t.cl, scone_quic_now() + 10 * SCONE_MILLISECONDS, 0);
  assert_true(t.r[1].body >= 100000);
  h_server_stop(&s, NULL); /* closes its connections */
  assert_int_equal(h_rec_run(&t, T_GET), SCONE_QUIC_ERR_CLOSED);
  assert_int_equal(t.r[1].done, 1);
  assert_int_equal(t.r[1].error, SCONE_QUIC_ERR_CLOSED);
  assert_int_equal(scone_quic_client_get(t.cl, "/bytes/1"),
                   SCONE_QUIC_ERR_CLOSED);
  h_rec_free(&t);
  h_server_free(&s);
  h_env_cleanup(&e);
}

/* Nothing listening at the address: the request fails at once with
 * SCONE_QUIC_ERR_UNREACHABLE (the ICMP error), not after the handshake
 * timeout. */
static void test_unreachable(void **state) {
  (void)state;
  /* A port just freed: nothing listens there. */
  h_env e;
  h_server s;
  server_up(&e, &s);
  uint16_t port = h_server_port(&s);
  server_down(&e, &s);
  h_rec t;
  h_rec_start(&t, port);
  assert_int_equal(scone_quic_client_get(t.cl, "/bytes/1"), 0);
  scone_tstamp t0 = scone_quic_now();
  assert_int_equal(h_rec_run(&t, T_GET), SCONE_QUIC_ERR_UNREACHABLE);
  assert_true(scone_quic_now() - t0 < 2 * SCONE_SECONDS);
  assert_int_equal(t.r[0].done, 1);
  assert_int_equal(t.r[0].error, SCONE_QUIC_ERR_UNREACHABLE);
  h_rec_free(&t);
}

/* An outside event loop: poll() on the client's fd until its timeout,
 * process with the time passed in; three requests at once complete. */
static void test_outside_event_loop(void **state) {
  (void)state;
  h_env e;
  h_server s;
  server_up(&e, &s);
  h_rec t;
  h_rec_start(&t, h_server_port(&s));
  int fd = scone_quic_client_fd(t.cl);
  assert_true(fd >= 0);
  for (int i = 0; i < 3; i++) {
    char path[32];
    snprintf(path, sizeof(path), "/bytes/%d", 100000 * (i + 1));
    assert_int_equal(scone_quic_client_get(t.cl, path), i);
  }
  /* Work is waiting: the timeout is due now. */
  assert_true(scone_quic_client_timeout(t.cl) <= scone_quic_now());
  scone_tstamp end = scone_quic_now() + T_GET;
  uint32_t loops = 0;
  while (scone_quic_client_outstanding(t.cl) > 0 && scone_quic_now() < end) {
    scone_tstamp now = scone_quic_now();
    scone_tstamp wake = scone_quic_client_timeout(t.cl);
    int ms = wake <= now ? 0 : (int)((wake - now) / SCONE_MILLISECONDS) + 1;
    struct pollfd p = {fd, POLLIN, 0};
    poll(&p, 1, ms > 1000 ? 1000 : ms);
    assert_int_equal(scone_quic_client_process(t.cl, scone_quic_now()), 0);
    loops++;
  }
  for (int i = 0; i < 3; i++) {
    assert_int_equal(t.r[i].done, 1);
    assert_int_equal(t.r[i].error, 0);
    assert_int_equal(t.r[i].body, 100000 * (uint64_t)(i + 1));
  }
  assert_true(loops > 3);
  /* With nothing waiting to go out the timeout is ngtcp2's timer, no
   * longer the "at once" (0) of a fresh submission. */
  assert_true(scone_quic_client_timeout(t.cl) != 0);
  h_rec_free(&t);
  server_down(&e, &s);
}

/* What HTTP/3 cannot carry, or a client must not send, is refused before
 * anything goes out. */
static void test_bad_requests_refused(void **state) {
  (void)state;
  h_env e;
  h_server s;
  server_up(&e, &s);
  h_rec t;
  h_rec_start(&t, h_server_port(&s));
  const scone_quic_header crlf = {"x-a", "b\r\nx-evil: 1"};
  const scone_quic_header conn = {"Connection", "keep-alive"};
  const scone_quic_header host = {"Host", "example.com"};
  const scone_quic_header te = {"TE", "gzip"};
  const scone_quic_header pseudo = {":authority", "example.com"};
  const scone_quic_header space = {"x a", "b"};
  const scone_quic_header padded = {"x-a", " b"};
  const scone_quic_header trailers = {"te", "trailers"};
  assert_int_equal(h_rec_request(&t, "get", "/", NULL, 0),
                   SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(h_rec_request(&t, "GET", "bytes/1", NULL, 0),
                   SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(h_rec_request(&t, "GET", "/a b", NULL, 0),
                   SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(h_rec_request(&t, "GET", "/", &crlf, 1),
                   SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(h_rec_request(&t, "GET", "/", &conn, 1),
                   SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(h_rec_request(&t, "GET", "/", &host, 1),
                   SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(h_rec_request(&t, "GET", "/", &te, 1),
                   SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(h_rec_request(&t, "GET", "/", &pseudo, 1),
                   SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(h_rec_request(&t, "GET", "/", &space, 1),
                   SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(h_rec_request(&t, "GET", "/", &padded, 1),
                   SCONE_ERR_INVALID_ARGUMENT);
  scone_quic_request bad;
  scone_quic_request_default(&bad);
  bad.path = "/";
  bad.version = 0;
  assert_int_equal(scone_quic_client_request(t.cl, &bad),
                   SCONE_ERR_INVALID_ARGUMENT);
  assert_int_equal(scone_quic_client_outstanding(t.cl), 0);
  /* The allowed form goes through, and takes the first index. */
  assert_int_equal(h_rec_request(&t, "GET", "/bytes/10", &trailers, 1), 0);
  assert_int_equal(h_rec_run(&t, T_GET), 0);
  assert_int_equal(t.r[0].status, 200);
  h_rec_free(&t);
  server_down(&e, &s);
}

/* More requests on one connection than the server's initial stream limit
 * (100): each closed request stream earns the client a new one, so the
 * 250th completes like the first. */
#define MANY_REQUESTS 250

typedef struct many_seen {
  int done, failed;
  uint64_t body;
} many_seen;

static void many_done(scone_quic_client *cl, const scone_quic_response *resp,
                      void *ud) {
  (void)cl;
  many_seen *m = ud;
  m->done++;
  if (resp->error != 0 || resp->status != 200)
    m->failed++;
  m->body += resp->body_bytes;
}

static void test_more_requests_than_stream_limit(void **state) {
  (void)state;
  h_env e;
  h_server s;
  server_up(&e, &s);
  many_seen m = {0};
  scone_quic_client_callbacks cb = {.response_done = many_done};
  scone_quic_client *cl = h_http_client(h_server_port(&s), &cb, &m);
  for (int i = 0; i < MANY_REQUESTS; i++) {
    scone_quic_request req;
    scone_quic_request_default(&req);
    req.path = "/bytes/100";
    assert_int_equal(scone_quic_client_request(cl, &req), i);
  }
  assert_int_equal(scone_quic_client_run(cl, scone_quic_now() + 3 * T_GET, 1),
                   0);
  assert_int_equal(m.done, MANY_REQUESTS);
  assert_int_equal(m.failed, 0);
  assert_int_equal(m.body, 100 * MANY_REQUESTS);
  scone_quic_client_close(cl);
  scone_quic_client_del(cl);
  server_down(&e, &s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_request_and_response_headers),
      cmocka_unit_test(test_head),
      cmocka_unit_test(test_cancel_keeps_connection),
      cmocka_unit_test(test_connection_closed_fails_requests),
      cmocka_unit_test(test_unreachable),
      cmocka_unit_test(test_outside_event_loop),
      cmocka_unit_test(test_bad_requests_refused),
      cmocka_unit_test(test_more_requests_than_stream_limit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
