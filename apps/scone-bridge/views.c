/*
 * The bridge's own resources: the advice of an origin's connection as a
 * Network-Information-like JSON view (/scone/netinfo), the same as
 * Server-Sent Events on each change (/scone/events), the connection's
 * WebTransport-stats-like JSON (/scone/stats) and the ES module that
 * wraps the first two (/scone/scone-netinfo.js).
 *
 * Which connection: the one of ?origin=HOST:PORT, or else the one the
 * latest forwarded request went over (a page plays from one origin at a
 * time). A view changes only when the connection's NetworkInformation
 * view fires (libscone_app's hysteresis: advice changes at once, estimate
 * and RTT moves of 10 % at most once a second) or the connection changes.
 */
#include "views.h"
#include "bridge.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PING_INTERVAL (15 * SCONE_SECONDS)

void bridge_local_fields(struct MHD_Response *resp) {
  MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
  MHD_add_response_header(resp, "Cache-Control", "no-store");
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status,
                              const char *type, const char *body) {
  struct MHD_Response *r = MHD_create_response_from_buffer(
      strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
  if (r == NULL)
    return MHD_NO;
  MHD_add_response_header(r, "Content-Type", type);
  bridge_local_fields(r);
  enum MHD_Result ok = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ok;
}

enum MHD_Result bridge_text(struct MHD_Connection *c, unsigned status,
                            const char *fmt, ...) {
  char body[1024];
  int n = snprintf(body, sizeof(body), "scone-bridge: ");
  va_list ap;
  va_start(ap, fmt);
  n += vsnprintf(body + n, sizeof(body) - (size_t)n - 1, fmt, ap);
  va_end(ap);
  if (n > (int)sizeof(body) - 2)
    n = (int)sizeof(body) - 2;
  body[n++] = '\n';
  body[n] = '\0';
  return answer(c, status, "text/plain; charset=utf-8", body);
}

/* The connection a view is about: key "" means the current one. *u is
 * NULL when that origin has no connection (yet). */
static void pick(bridge *b, const char *key, upstream **u, char *out,
                 size_t len) {
  *u = key[0] != '\0' ? bridge_find_upstream(b, key) : b->current;
  snprintf(out, len, "%s", key[0] != '\0' ? key : *u != NULL ? (*u)->key : "");
  if (*u != NULL && (*u)->cl == NULL)
    *u = NULL;
}

/* The view as JSON: libscone_app's NetworkInformation object, plus the
 * signal, the media cap, the margin and the origin. */
static int netinfo_json(bridge *b, const char *key, char *buf, size_t len) {
  upstream *u;
  char origin[BRIDGE_KEY_MAX];
  pick(b, key, &u, origin, sizeof(origin));
  scone_app_netinfo ni;
  if (u != NULL && u->have_ni)
    ni = u->ni;
  else
    scone_app_netinfo_compute(&ni, NULL, 0, 0, b->o.app.save_data);
  int n = scone_app_netinfo_to_json(&ni, buf, len);
  if (n < 2 || buf[n - 1] != '}')
    return -1;
  n--;
  int has = ni.advice_signal <= SCONE_SIGNAL_MAX;
  uint64_t cap = 0;
  if (has) {
    scone_advice a;
    memset(&a, 0, sizeof(a));
    a.signal = ni.advice_signal;
    a.bps = ni.advice_bps;
    scone_app_cmsd_dynamic d;
    if (scone_app_cmsd_from_advice(&d, &a, &b->o.app) == 0 && d.has_mb)
      cap = d.mb_kbps;
  }
  char sig[16] = "null", capt[24] = "null", org[BRIDGE_KEY_MAX + 2] = "null";
  if (has) {
    snprintf(sig, sizeof(sig), "%u", ni.advice_signal);
    snprintf(capt, sizeof(capt), "%llu", (unsigned long long)cap);
  }
  if (origin[0] != '\0')
    snprintf(org, sizeof(org), "\"%s\"", origin);
  int m = snprintf(buf + n, len - (size_t)n,
                   ", \"signal\": %s, \"mediaCap\": %s, "
                   "\"overheadMarginPct\": %u, \"origin\": %s}",
                   sig, capt, b->o.app.overhead_margin_pct, org);
  return m < 0 || (size_t)m >= len - (size_t)n ? -1 : n + m;
}

/* ?origin=HOST[:PORT] into a key; "" without it. 0, or -1 when bad. */
static int origin_arg(struct MHD_Connection *c, char *key, size_t len) {
  const char *o =
      MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "origin");
  key[0] = '\0';
  if (o == NULL || o[0] == '\0')
    return 0;
  char host[ROUTE_HOST_MAX + 1], port[ROUTE_PORT_MAX + 1];
  if (route_parse_origin(o, strlen(o), host, port) != ROUTE_OK ||
      route_origin_key(key, len, host, port) < 0)
    return -1;
  return 0;
}

static enum MHD_Result stats(bridge *b, breq *r, const char *key) {
  upstream *u;
  char origin[BRIDGE_KEY_MAX];
  pick(b, key, &u, origin, sizeof(origin));
  if (u == NULL)
    return bridge_text(r->conn, MHD_HTTP_NOT_FOUND, "no connection to %s yet",
                       origin[0] != '\0' ? origin : "any origin");
  scone_app_stats st;
  memset(&st, 0, sizeof(st));
  scone_quic_conn_get_stats(scone_quic_client_conn(u->cl), scone_quic_now(),
                            &st);
  char buf[2048];
  if (scone_app_stats_to_json(&st, buf, sizeof(buf)) < 0)
    return bridge_text(r->conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
                       "stats do not fit");
  return answer(r->conn, MHD_HTTP_OK, "application/json", buf);
}

/* Queues one event (the view when it changed, else a comment when the
 * stream was quiet for long) on a subscriber. */
static void sse_push(bridge *b, breq *r, scone_tstamp now, int force) {
  char view[sizeof(r->last)];
  if (netinfo_json(b, r->origin, view, sizeof(view)) < 0)
    return;
  char line[sizeof(view) + 32];
  int n = 0;
  if (force || strcmp(view, r->last) != 0) {
    snprintf(r->last, sizeof(r->last), "%s", view);
    n = snprintf(line, sizeof(line), "event: change\ndata: %s\n\n", view);
  } else if (now - r->last_write >= PING_INTERVAL) {
    n = snprintf(line, sizeof(line), ": ping\n\n");
  }
  if (n <= 0)
    return;
  if (breq_append(r, line, (size_t)n) != 0) {
    /* A subscriber that reads nothing for this long is gone. */
    r->eof = r->failed = 1;
  }
  r->last_write = now;
  breq_resume(r);
}

static enum MHD_Result events(bridge *b, breq *r, const char *key) {
  if (b->subscribers >= VIEWS_MAX_SUBSCRIBERS)
    return bridge_text(r->conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                       "too many /scone/events subscribers (%d)",
                       VIEWS_MAX_SUBSCRIBERS);
  struct MHD_Response *resp = MHD_create_response_from_callback(
      MHD_SIZE_UNKNOWN, 4096, bridge_read_buffer, r, NULL);
  if (resp == NULL)
    return MHD_NO;
  MHD_add_response_header(resp, "Content-Type", "text/event-stream");
  bridge_local_fields(resp);
  r->sse = 1;
  b->subscribers++;
  snprintf(r->origin, sizeof(r->origin), "%s", key);
  static const char retry[] = "retry: 2000\n\n";
  breq_append(r, retry, sizeof(retry) - 1);
  sse_push(b, r, scone_quic_now(), 1);
  r->state = BREQ_ANSWERED;
  enum MHD_Result ok = MHD_queue_response(r->conn, MHD_HTTP_OK, resp);
  MHD_destroy_response(resp);
  return ok;
}

void bridge_views_tick(bridge *b, scone_tstamp now) {
  int dirty = b->views_dirty;
  b->views_dirty = 0;
  for (breq *r = b->all; r != NULL; r = r->next_all)
    if (r->sse && r->state == BREQ_ANSWERED && !r->eof &&
        (dirty || now - r->last_write >= PING_INTERVAL))
      sse_push(b, r, now, 0);
}

static const char index_text[] =
    "scone-bridge: an HTTP/1.1 proxy to HTTP/3 with SCONE.\n"
    "  /o/HOST:PORT/PATH        forwards to https://HOST:PORT/PATH over "
    "HTTP/3\n"
    "  /scone/netinfo           the advice as NetworkInformation JSON\n"
    "  /scone/events            the same as Server-Sent Events on change\n"
    "  /scone/stats             the connection's WebTransport-like stats\n"
    "  /scone/scone-netinfo.js  navigator.connection-shaped ES module\n"
    "  ?origin=HOST:PORT        (on the last four) one origin's connection\n";

enum MHD_Result bridge_local(bridge *b, breq *r, const route *rt) {
  size_t pl = strcspn(rt->path, "?");
  char path[64];
  if (pl >= sizeof(path))
    return bridge_text(r->conn, MHD_HTTP_NOT_FOUND, "no such resource");
  memcpy(path, rt->path, pl);
  path[pl] = '\0';
  r->state = BREQ_ANSWERED;
  if (strcmp(r->method, "OPTIONS") == 0) {
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
      return MHD_NO;
    bridge_local_fields(resp);
    MHD_add_response_header(resp, "Access-Control-Allow-Methods",
                            "GET, HEAD, OPTIONS");
    enum MHD_Result ok = MHD_queue_response(r->conn, MHD_HTTP_NO_CONTENT, resp);
    MHD_destroy_response(resp);
    return ok;
  }
  if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
    return bridge_text(r->conn, MHD_HTTP_METHOD_NOT_ALLOWED,
                       "%s: only GET, HEAD and OPTIONS", path);
  char key[BRIDGE_KEY_MAX];
  if (origin_arg(r->conn, key, sizeof(key)) != 0)
    return bridge_text(r->conn, MHD_HTTP_BAD_REQUEST,
                       "origin= takes HOST[:PORT] or [IPV6][:PORT]");
  if (strcmp(path, "/scone") == 0 || strcmp(path, "/scone/") == 0)
    return answer(r->conn, MHD_HTTP_OK, "text/plain; charset=utf-8",
                  index_text);
  if (strcmp(path, "/scone/netinfo") == 0) {
    char buf[512];
    if (netinfo_json(b, key, buf, sizeof(buf)) < 0)
      return bridge_text(r->conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
                         "view does not fit");
    return answer(r->conn, MHD_HTTP_OK, "application/json", buf);
  }
  if (strcmp(path, "/scone/stats") == 0)
    return stats(b, r, key);
  if (strcmp(path, "/scone/events") == 0)
    return events(b, r, key);
  if (strcmp(path, "/scone/scone-netinfo.js") == 0)
    return answer(r->conn, MHD_HTTP_OK, "text/javascript; charset=utf-8",
                  bridge_netinfo_js);
  return bridge_text(r->conn, MHD_HTTP_NOT_FOUND, "no such resource: %s", path);
}
