/*
 * Forwarding: an HTTP/1.1 request becomes an HTTP/3 request on the
 * origin's SCONE connection; its answer comes back with CMSD-Dynamic mb
 * (the advice less the overhead margin) and Access-Control-Expose-Headers
 * naming it, so that a page's player may read it.
 *
 * libmicrohttpd runs in external-epoll mode with suspend/resume: the
 * connection is suspended while the origin has not answered (and while its
 * body has no new bytes) and resumed from the HTTP/3 callbacks, so one
 * thread and one poll() serve both sides and a slow origin blocks nobody.
 */
#include "bridge.h"
#include "fields.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_FORWARDED 64

void breq_resume(breq *r) {
  if (r->suspended) {
    r->suspended = 0;
    MHD_resume_connection(r->conn);
  }
}

int breq_append(breq *r, const void *data, size_t len) {
  if (r->off > 0 && r->off == r->len)
    r->off = r->len = 0;
  if (r->len - r->off + len > BRIDGE_BUFFER_MAX)
    return -1;
  if (r->len + len > r->cap) {
    if (r->off > 0) {
      memmove(r->buf, r->buf + r->off, r->len - r->off);
      r->len -= r->off;
      r->off = 0;
    }
    size_t cap = r->cap > 0 ? r->cap : 16384;
    while (cap < r->len + len)
      cap *= 2;
    if (cap != r->cap) {
      uint8_t *nb = realloc(r->buf, cap);
      if (nb == NULL)
        return -1;
      r->buf = nb;
      r->cap = cap;
    }
  }
  memcpy(r->buf + r->len, data, len);
  r->len += len;
  return 0;
}

/* ------------------------------------------------------ the upstreams */

static breq *find_req(upstream *u, uint32_t index) {
  for (breq *r = u->reqs; r != NULL; r = r->next_up)
    if (r->index == index)
      return r;
  return NULL;
}

static void unlink_req(breq *r) {
  upstream *u = r->up;
  if (u == NULL)
    return;
  for (breq **p = &u->reqs; *p != NULL; p = &(*p)->next_up)
    if (*p == r) {
      *p = r->next_up;
      break;
    }
  r->up = NULL;
  r->next_up = NULL;
  r->outstanding = 0;
}

static char *dup_str(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d != NULL)
    memcpy(d, s, n);
  return d;
}

static void on_headers(scone_quic_client *cl, uint32_t index, int status,
                       const scone_quic_header *h, size_t n, void *ud) {
  (void)cl;
  breq *r = find_req(ud, index);
  if (r == NULL || r->state != BREQ_WAITING)
    return;
  r->hdrs = calloc(n > 0 ? n : 1, sizeof(*r->hdrs));
  for (size_t i = 0; r->hdrs != NULL && i < n; i++) {
    if (strcmp(h[i].name, "content-length") == 0) {
      char *end;
      unsigned long long v = strtoull(h[i].value, &end, 10);
      if (end != h[i].value && *end == '\0') {
        r->has_length = 1;
        r->length = v;
      }
    } else if (strcmp(h[i].name, "cmsd-dynamic") == 0 && r->cmsd_up == NULL) {
      r->cmsd_up = dup_str(h[i].value);
    } else if (strcmp(h[i].name, "access-control-expose-headers") == 0 &&
               r->expose_up == NULL) {
      r->expose_up = dup_str(h[i].value);
    }
    if (fields_response_drop(h[i].name) || !fields_value_ok(h[i].value))
      continue;
    r->hdrs[r->nhdrs].name = dup_str(h[i].name);
    r->hdrs[r->nhdrs].value = dup_str(h[i].value);
    r->nhdrs++;
  }
  r->status = status;
  r->state = BREQ_HEADERS;
  breq_resume(r);
}

static void on_body(scone_quic_client *cl, uint32_t index, const uint8_t *data,
                    size_t len, void *ud) {
  upstream *u = ud;
  breq *r = find_req(u, index);
  if (r == NULL || r->state == BREQ_WAITING)
    return;
  if (breq_append(r, data, len) != 0) {
    /* The browser does not keep up: give up on this one response. */
    scone_quic_client_cancel(cl, index);
    unlink_req(r);
    r->eof = r->failed = 1;
  }
  breq_resume(r);
}

static void on_done(scone_quic_client *cl, const scone_quic_response *resp,
                    void *ud) {
  (void)cl;
  breq *r = find_req(ud, resp->request_index);
  if (r == NULL)
    return;
  unlink_req(r);
  r->eof = 1;
  r->error = resp->error;
  if (resp->error != 0)
    r->failed = 1;
  if (r->state == BREQ_WAITING)
    r->state = BREQ_FAILED;
  breq_resume(r);
}

static void on_advice(scone_quic_conn *conn, uint32_t path_id, scone_dir dir,
                      const scone_advice *adv, void *ud) {
  (void)conn;
  (void)dir;
  upstream *u = ud;
  if (path_id != 0)
    return;
  u->advice = *adv;
  u->have_advice = adv->signal != SCONE_SIGNAL_UNKNOWN;
  u->b->views_dirty = 1;
  if (u->b->o.access_log) {
    if (u->have_advice)
      printf("advice %s: signal %u, %llu bit/s\n", u->key, adv->signal,
             (unsigned long long)adv->bps);
    else
      printf("advice %s: none\n", u->key);
    fflush(stdout);
  }
}

static void on_netinfo(scone_quic_conn *conn, const scone_app_netinfo *ni,
                       void *ud) {
  (void)conn;
  upstream *u = ud;
  u->ni = *ni;
  u->have_ni = 1;
  u->b->views_dirty = 1;
}

upstream *bridge_find_upstream(bridge *b, const char *key) {
  for (upstream *u = b->ups; u != NULL; u = u->next)
    if (strcmp(u->key, key) == 0)
      return u;
  return NULL;
}

/* The origin's upstream with a live connection, made when missing.
 * Returns a SCONE_QUIC_ERR_* when the connection cannot be started. */
static int get_upstream(bridge *b, const char *host, const char *port,
                        upstream **out) {
  char key[BRIDGE_KEY_MAX];
  if (route_origin_key(key, sizeof(key), host, port) < 0)
    return SCONE_ERR_INVALID_ARGUMENT;
  upstream *u = bridge_find_upstream(b, key);
  if (u == NULL) {
    u = calloc(1, sizeof(*u));
    if (u == NULL)
      return SCONE_QUIC_ERR_NOMEM;
    u->b = b;
    snprintf(u->key, sizeof(u->key), "%s", key);
    snprintf(u->host, sizeof(u->host), "%s", host);
    snprintf(u->port, sizeof(u->port), "%s", port);
    u->next = b->ups;
    b->ups = u;
  }
  if (u->cl == NULL) {
    scone_quic_client_config cfg;
    scone_quic_client_config_default(&cfg);
    cfg.host = u->host;
    cfg.port = u->port;
    cfg.insecure = b->o.insecure;
    cfg.ca_file = b->o.ca_file;
    cfg.quic.scone_capable = b->o.scone_capable;
    if (b->o.scone_interval > 0)
      cfg.quic.send_interval = b->o.scone_interval;
    scone_quic_callbacks scb = {.advice_changed = on_advice,
                                .netinfo_changed = on_netinfo};
    scone_quic_client_callbacks hcb = {
        .body = on_body, .response_done = on_done, .headers = on_headers};
    int rv = scone_quic_client_new(&u->cl, &cfg, &scb, &hcb, u);
    if (rv != 0) {
      u->cl = NULL;
      return rv;
    }
    u->generation++;
    u->have_ni = 0;
    u->have_advice = 0;
    b->views_dirty = 1;
  }
  *out = u;
  return 0;
}

static int origin_allowed(const bridge *b, const char *key) {
  if (b->o.allow_any)
    return 1;
  char def[BRIDGE_KEY_MAX];
  if (b->o.has_default &&
      route_origin_key(def, sizeof(def), b->o.default_host, b->o.default_port) >
          0 &&
      strcmp(def, key) == 0)
    return 1;
  for (size_t i = 0; i < b->o.nallow; i++)
    if (strcmp(b->o.allow[i], key) == 0)
      return 1;
  return 0;
}

void bridge_upstreams_step(bridge *b, scone_tstamp now) {
  for (upstream *u = b->ups; u != NULL; u = u->next) {
    if (u->cl == NULL)
      continue;
    int rv = scone_quic_client_process(u->cl, now);
    if (rv == 0)
      continue;
    /* Ended: every outstanding request was reported failed already. */
    if (b->o.access_log) {
      printf("upstream %s: connection ended (%s)\n", u->key,
             scone_quic_strerror(rv));
      fflush(stdout);
    }
    while (u->reqs != NULL) {
      breq *r = u->reqs;
      unlink_req(r);
      r->eof = r->failed = 1;
      r->error = rv;
      if (r->state == BREQ_WAITING)
        r->state = BREQ_FAILED;
      breq_resume(r);
    }
    scone_quic_client_del(u->cl);
    u->cl = NULL;
    u->have_advice = 0;
    u->have_ni = 0;
    b->views_dirty = 1;
  }
}

void bridge_upstreams_free(bridge *b) {
  while (b->ups != NULL) {
    upstream *u = b->ups;
    b->ups = u->next;
    if (u->cl != NULL) {
      scone_quic_client_close(u->cl);
      scone_quic_client_del(u->cl);
    }
    free(u);
  }
}

/* ------------------------------------------------------- the requests */

typedef struct fwd_fields {
  scone_quic_header h[MAX_FORWARDED];
  size_t n;
  const char *connection;
} fwd_fields;

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind,
                               const char *key, const char *value) {
  (void)kind;
  fwd_fields *f = cls;
  if (value == NULL || key[0] == '\0' ||
      fields_request_drop(key, f->connection) || !fields_value_ok(value))
    return MHD_YES;
  if (f->n < MAX_FORWARDED) {
    f->h[f->n].name = key;
    f->h[f->n].value = value;
    f->n++;
  }
  return MHD_YES;
}

enum MHD_Result bridge_forward(bridge *b, breq *r, const route *rt) {
  const char *host = rt->host, *port = rt->port;
  if (rt->kind == ROUTE_DEFAULT) {
    if (!b->o.has_default)
      return bridge_text(r->conn, MHD_HTTP_NOT_FOUND,
                         "no origin named: use /o/HOST:PORT%s or start the "
                         "bridge with --upstream",
                         rt->path);
    host = b->o.default_host;
    port = b->o.default_port;
  }
  char key[BRIDGE_KEY_MAX];
  if (route_origin_key(key, sizeof(key), host, port) < 0)
    return bridge_text(r->conn, MHD_HTTP_BAD_REQUEST, "origin too long");
  if (!origin_allowed(b, key))
    return bridge_text(r->conn, MHD_HTTP_FORBIDDEN,
                       "origin %s is not allowed (start the bridge with "
                       "--allow %s)",
                       key, key);
  if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0 &&
      strcmp(r->method, "OPTIONS") != 0)
    return bridge_text(r->conn, MHD_HTTP_METHOD_NOT_ALLOWED,
                       "only GET, HEAD and OPTIONS are forwarded");
  upstream *u;
  int rv = get_upstream(b, host, port, &u);
  if (rv != 0)
    return bridge_text(r->conn, MHD_HTTP_BAD_GATEWAY, "cannot reach %s: %s",
                       key, scone_quic_strerror(rv));
  fwd_fields f;
  f.n = 0;
  f.connection = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                             MHD_HTTP_HEADER_CONNECTION);
  MHD_get_connection_values(r->conn, MHD_HEADER_KIND, collect, &f);
  scone_quic_request req;
  scone_quic_request_default(&req);
  req.method = r->method;
  req.path = rt->path;
  req.headers = f.h;
  req.nheaders = f.n;
  int idx = scone_quic_client_request(u->cl, &req);
  if (idx < 0)
    return bridge_text(r->conn,
                       idx == SCONE_ERR_INVALID_ARGUMENT ? MHD_HTTP_BAD_REQUEST
                                                         : MHD_HTTP_BAD_GATEWAY,
                       "cannot forward to %s: %s", key,
                       scone_quic_strerror(idx));
  r->up = u;
  r->via = u;
  r->index = (uint32_t)idx;
  r->outstanding = 1;
  r->next_up = u->reqs;
  u->reqs = r;
  u->requests++;
  r->state = BREQ_WAITING;
  r->deadline = scone_quic_now() + b->o.timeout;
  if (b->current != u)
    b->views_dirty = 1;
  b->current = u;
  r->suspended = 1;
  MHD_suspend_connection(r->conn);
  return MHD_YES;
}

/* The advice's media cap in kbit/s, 0 when there is none. */
uint64_t bridge_mb_kbps(const bridge *b, const upstream *u) {
  scone_app_cmsd_dynamic d;
  if (u == NULL || !u->have_advice ||
      scone_app_cmsd_from_advice(&d, &u->advice, &b->o.app) != 0 || !d.has_mb)
    return 0;
  return d.mb_kbps;
}

ssize_t bridge_read_buffer(void *cls, uint64_t pos, char *buf, size_t max) {
  (void)pos;
  breq *r = cls;
  if (r->off < r->len) {
    size_t n = r->len - r->off;
    if (n > max)
      n = max;
    memcpy(buf, r->buf + r->off, n);
    r->off += n;
    r->sent += n;
    return (ssize_t)n;
  }
  if (r->eof)
    return r->failed ? MHD_CONTENT_READER_END_WITH_ERROR
                     : MHD_CONTENT_READER_END_OF_STREAM;
  r->suspended = 1;
  MHD_suspend_connection(r->conn);
  return 0;
}

static unsigned failure_status(const breq *r, char *why, size_t len) {
  switch (r->error) {
  case SCONE_QUIC_ERR_TIMEOUT:
    snprintf(why, len, "no response from the origin within the timeout");
    return MHD_HTTP_GATEWAY_TIMEOUT;
  case SCONE_QUIC_ERR_UNREACHABLE:
    snprintf(why, len,
             "the origin refuses QUIC (nothing listens on its UDP "
             "port)");
    return MHD_HTTP_BAD_GATEWAY;
  case SCONE_QUIC_ERR_RESET:
    snprintf(why, len, "the origin reset the request");
    return MHD_HTTP_BAD_GATEWAY;
  case SCONE_QUIC_ERR_HEADERS:
    snprintf(why, len, "the origin's header section is too large");
    return MHD_HTTP_BAD_GATEWAY;
  default:
    snprintf(why, len, "the HTTP/3 connection to the origin failed: %s",
             scone_quic_strerror(r->error));
    return MHD_HTTP_BAD_GATEWAY;
  }
}

enum MHD_Result bridge_resume_answer(bridge *b, breq *r) {
  if (r->state == BREQ_WAITING) {
    r->suspended = 1;
    MHD_suspend_connection(r->conn);
    return MHD_YES;
  }
  if (r->state == BREQ_FAILED) {
    char why[160];
    unsigned st = failure_status(r, why, sizeof(why));
    r->state = BREQ_ANSWERED;
    return bridge_text(r->conn, st, "%s", why);
  }
  if (r->state != BREQ_HEADERS)
    return MHD_NO;
  r->state = BREQ_ANSWERED;
  int bodyless =
      r->status == 204 || r->status == 304 || strcmp(r->method, "HEAD") == 0;
  struct MHD_Response *resp;
  if (bodyless && !r->has_length)
    resp =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
  else
    resp = MHD_create_response_from_callback(
        r->has_length ? r->length : MHD_SIZE_UNKNOWN, 64 * 1024,
        bridge_read_buffer, r, NULL);
  if (resp == NULL)
    return MHD_NO;
  for (size_t i = 0; i < r->nhdrs; i++)
    MHD_add_response_header(resp, r->hdrs[i].name, r->hdrs[i].value);
  char v[1024];
  uint64_t mb = bridge_mb_kbps(b, r->via);
  if (fields_cmsd(v, sizeof(v), r->cmsd_up, mb > 0, mb) > 0)
    MHD_add_response_header(resp, "CMSD-Dynamic", v);
  if (fields_expose(v, sizeof(v), r->expose_up) > 0)
    MHD_add_response_header(resp, "Access-Control-Expose-Headers", v);
  int status = r->status >= 200 && r->status <= 599 ? r->status : 502;
  enum MHD_Result ok = MHD_queue_response(r->conn, (unsigned)status, resp);
  MHD_destroy_response(resp);
  return ok;
}

void bridge_request_done(bridge *b, breq *r) {
  if (r->outstanding && r->up != NULL && r->up->cl != NULL)
    scone_quic_client_cancel(r->up->cl, r->index);
  unlink_req(r);
  for (breq **p = &b->all; *p != NULL; p = &(*p)->next_all)
    if (*p == r) {
      *p = r->next_all;
      break;
    }
  if (r->sse && b->subscribers > 0)
    b->subscribers--;
  for (size_t i = 0; i < r->nhdrs; i++) {
    free(r->hdrs[i].name);
    free(r->hdrs[i].value);
  }
  free(r->hdrs);
  free(r->cmsd_up);
  free(r->expose_up);
  free(r->buf);
  free(r->target);
  free(r);
}

void bridge_check_deadlines(bridge *b, scone_tstamp now) {
  for (breq *r = b->all; r != NULL; r = r->next_all) {
    if (r->state != BREQ_WAITING || now < r->deadline)
      continue;
    if (r->up != NULL && r->up->cl != NULL)
      scone_quic_client_cancel(r->up->cl, r->index);
    unlink_req(r);
    r->state = BREQ_FAILED;
    r->error = SCONE_QUIC_ERR_TIMEOUT;
    breq_resume(r);
  }
}

scone_tstamp bridge_next_wake(bridge *b, scone_tstamp now) {
  scone_tstamp wake = now + SCONE_SECONDS;
  for (upstream *u = b->ups; u != NULL; u = u->next)
    if (u->cl != NULL) {
      scone_tstamp t = scone_quic_client_timeout(u->cl);
      if (t < wake)
        wake = t;
    }
  for (breq *r = b->all; r != NULL; r = r->next_all)
    if (r->state == BREQ_WAITING && r->deadline < wake)
      wake = r->deadline;
  return wake;
}
