/*
 * The HTTP/3 client endpoint: one connection, requests with their own
 * headers, response headers and bodies as they arrive, cancellation, and
 * an event loop that is either ours (scone_quic_client_run) or the
 * caller's (fd, timeout, process).
 */
#include "h3.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Fields a request carries besides the caller's: the four pseudo-headers
 * and user-agent. */
#define SQ_REQ_FIXED_FIELDS 5
#define SQ_MAX_PATH 8192
#define SQ_MAX_METHOD 16

/* One outstanding request. Requests are freed once finished or cancelled,
 * so the list only ever holds what is in flight. */
typedef struct sq_request {
  struct sq_request *next;
  uint32_t index;
  int64_t stream_id; /* -1 until submitted */
  int cancelled;     /* the caller gave it up; its stream is reset next */
  char *path;
  /* The request's fields for nghttp3, held until submitted; names and
   * values point into strings. */
  nghttp3_nv *nva;
  size_t nnv;
  char *strings;
  int status;
  uint64_t body;
  scone_tstamp started;
  sq_h3_fields fields; /* the response header section as it arrives */
} sq_request;

struct scone_quic_client {
  char *host, *port, *authority, *sni;
  scone_quic_callbacks scb;
  scone_quic_client_callbacks hcb;
  void *user_data;
  int fd;
  sq_addr local, remote;
  gnutls_certificate_credentials_t cred;
  scone_quic_conn *conn;
  sq_h3 h3;
  sq_request *head, *tail; /* outstanding, in submission order */
  uint32_t next_index, outstanding;
  int want_write;  /* a request or cancel waits to go out */
  int icmp_error;  /* the socket reported the server's address unreachable */
  int unreachable; /* ... before the handshake: the connection is over */
};

void scone_quic_client_config_default(scone_quic_client_config *cfg) {
  memset(cfg, 0, sizeof(*cfg));
  cfg->version = SCONE_QUIC_CLIENT_CONFIG_V1;
  scone_quic_settings_default(&cfg->quic);
}

void scone_quic_request_default(scone_quic_request *req) {
  memset(req, 0, sizeof(*req));
  req->version = SCONE_QUIC_REQUEST_V1;
  req->method = "GET";
}

static char *dup_or_null(const char *s) {
  return s != NULL ? strdup(s) : NULL;
}

static int is_address(const char *host) {
  uint8_t b[16];
  return inet_pton(AF_INET, host, b) == 1 || inet_pton(AF_INET6, host, b) == 1;
}

/* ---------------------------------------------------------- requests */

static void req_free(sq_request *r) {
  free(r->path);
  free(r->nva);
  free(r->strings);
  sq_h3_fields_free(&r->fields);
  free(r);
}

static void unlink_req(scone_quic_client *cl, sq_request *r) {
  sq_request *prev = NULL;
  for (sq_request *p = cl->head; p != NULL; prev = p, p = p->next) {
    if (p != r)
      continue;
    if (prev != NULL)
      prev->next = r->next;
    else
      cl->head = r->next;
    if (cl->tail == r)
      cl->tail = prev;
    cl->outstanding--;
    return;
  }
}

static sq_request *find_req(scone_quic_client *cl, uint32_t index) {
  for (sq_request *r = cl->head; r != NULL; r = r->next)
    if (r->index == index)
      return r;
  return NULL;
}

static void report(scone_quic_client *cl, const sq_request *r, int error,
                   uint64_t app_error_code) {
  if (cl->hcb.response_done == NULL)
    return;
  scone_quic_response resp;
  memset(&resp, 0, sizeof(resp));
  resp.request_index = r->index;
  resp.path = r->path;
  resp.status = r->status;
  resp.body_bytes = r->body;
  resp.started_at = r->started;
  resp.finished_at = cl->conn->now;
  resp.error = error;
  resp.app_error_code = app_error_code;
  cl->hcb.response_done(cl, &resp, cl->user_data);
}

/* The request is over, complete (error 0) or failed: reported and freed.
 * The stream forgets it, so nothing later can name it. */
static void finish(scone_quic_client *cl, sq_request *r, int error,
                   uint64_t app_error_code) {
  unlink_req(cl, r);
  sq_h3_forget_stream(&cl->h3, r->stream_id);
  report(cl, r, error, app_error_code);
  req_free(r);
}

/* Every outstanding request failed with err: the connection is over. The
 * head is taken afresh each time, since a callback may cancel others. */
static void fail_all(scone_quic_client *cl, int err) {
  while (cl->head != NULL) {
    sq_request *r = cl->head;
    if (r->cancelled) {
      unlink_req(cl, r);
      req_free(r);
      continue;
    }
    finish(cl, r, err, 0);
  }
}

/* Cancelled requests leave here, outside any nghttp3 callback. */
static void apply_cancels(scone_quic_client *cl) {
  for (sq_request *r = cl->head, *next; r != NULL; r = next) {
    next = r->next;
    if (!r->cancelled)
      continue;
    sq_h3_cancel_stream(&cl->h3, r->stream_id, NGHTTP3_H3_REQUEST_CANCELLED);
    unlink_req(cl, r);
    req_free(r);
  }
}

/* A live request behind a stream's user data, or NULL. */
static sq_request *req_of(void *stream_user_data) {
  sq_request *r = stream_user_data;
  return r != NULL && !r->cancelled ? r : NULL;
}

/* ---------------------------------------------------------- HTTP events */

static int on_header(sq_h3 *h, int64_t stream_id, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen,
                     void *sud) {
  (void)h;
  (void)stream_id;
  sq_request *r = req_of(sud);
  if (r == NULL)
    return 0;
  if (namelen == 7 && memcmp(name, ":status", 7) == 0) {
    int status = 0;
    for (size_t i = 0; i < valuelen && i < 3; i++)
      if (value[i] >= '0' && value[i] <= '9')
        status = status * 10 + (value[i] - '0');
    r->status = status;
    return 0;
  }
  if (namelen > 0 && name[0] == ':')
    return 0;
  /* Only the final response's fields are kept; a 1xx's are dropped when
   * its section ends. */
  sq_h3_fields_add(&r->fields, name, namelen, value, valuelen);
  return 0;
}

static int on_end_headers(sq_h3 *h, int64_t stream_id, void *sud) {
  (void)stream_id;
  scone_quic_client *cl = h->user;
  sq_request *r = req_of(sud);
  if (r == NULL)
    return 0;
  if (r->fields.overflow) {
    /* Reported failed now; its stream is reset on the way out, as a
     * cancelled request's is. */
    report(cl, r, SCONE_QUIC_ERR_HEADERS, 0);
    r->cancelled = 1;
    cl->want_write = 1;
    return 0;
  }
  if (r->status >= 100 && r->status < 200) {
    sq_h3_fields_clear(&r->fields);
    return 0;
  }
  if (cl->hcb.headers != NULL) {
    scone_quic_header list[SCONE_QUIC_MAX_HEADERS];
    size_t n = sq_h3_fields_list(&r->fields, list);
    cl->hcb.headers(cl, r->index, r->status, list, n, cl->user_data);
  }
  sq_h3_fields_free(&r->fields);
  return 0;
}

static int on_data(sq_h3 *h, int64_t stream_id, const uint8_t *data, size_t len,
                   void *sud) {
  (void)stream_id;
  scone_quic_client *cl = h->user;
  sq_request *r = req_of(sud);
  if (r == NULL)
    return 0;
  r->body += len;
  if (cl->hcb.body != NULL)
    cl->hcb.body(cl, r->index, data, len, cl->user_data);
  return 0;
}

static int on_end_stream(sq_h3 *h, int64_t stream_id, void *sud) {
  (void)stream_id;
  scone_quic_client *cl = h->user;
  sq_request *r = req_of(sud);
  if (r != NULL)
    finish(cl, r, 0, 0);
  return 0;
}

static int on_stream_close(sq_h3 *h, int64_t stream_id, uint64_t code,
                           void *sud) {
  (void)stream_id;
  scone_quic_client *cl = h->user;
  sq_request *r = req_of(sud);
  /* Closed before the response ended: the server reset it. */
  if (r != NULL)
    finish(cl, r, SCONE_QUIC_ERR_RESET, code);
  return 0;
}

static int submit_one(scone_quic_client *cl, sq_h3 *h, sq_request *r) {
  int64_t sid;
  if (ngtcp2_conn_open_bidi_stream(cl->conn->qc, &sid, NULL) != 0)
    return 1; /* no stream credit now; later */
  r->nva[2] = sq_h3_nv(":authority", cl->authority);
  if (nghttp3_conn_submit_request(h->h3, sid, r->nva, r->nnv, NULL, r) != 0) {
    sq_conn_set_app_error(cl->conn, NGHTTP3_H3_INTERNAL_ERROR);
    return -1;
  }
  r->stream_id = sid;
  r->started = cl->conn->now;
  /* nghttp3 encoded the fields: the copies are no longer needed. */
  free(r->nva);
  free(r->strings);
  r->nva = NULL;
  r->strings = NULL;
  return 0;
}

static int submit_pending(sq_h3 *h) {
  scone_quic_client *cl = h->user;
  for (sq_request *r = cl->head; r != NULL; r = r->next) {
    if (r->stream_id >= 0 || r->cancelled)
      continue;
    int rv = submit_one(cl, h, r);
    if (rv != 0)
      return rv < 0 ? -1 : 0;
  }
  return 0;
}

static const sq_h3_events client_events = {
    .recv_header = on_header,
    .end_headers = on_end_headers,
    .recv_data = on_data,
    .end_stream = on_end_stream,
    .stream_close = on_stream_close,
    .before_pull = submit_pending,
};

/* ------------------------------------------------ building a request */

static int is_tchar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

static int valid_method(const char *m) {
  size_t n = m != NULL ? strlen(m) : 0;
  if (n == 0 || n >= SQ_MAX_METHOD)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (m[i] < 'A' || m[i] > 'Z')
      return 0;
  return 1;
}

static int valid_path(const char *p) {
  if (p == NULL || p[0] != '/' || strlen(p) > SQ_MAX_PATH)
    return 0;
  for (; *p != '\0'; p++)
    if (*p <= 0x20 || *p >= 0x7f)
      return 0;
  return 1;
}

/* RFC 9114 4.2: fields HTTP/3 does not carry; Host gives way to
 * :authority. */
static int forbidden_field(const char *name, const char *value) {
  static const char *const names[] = {
      "connection",        "keep-alive", "proxy-connection",
      "transfer-encoding", "upgrade",    "host",
  };
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (strcasecmp(name, names[i]) == 0)
      return 1;
  return strcasecmp(name, "te") == 0 && strcmp(value, "trailers") != 0;
}

static int valid_field(const scone_quic_header *f) {
  if (f->name == NULL || f->value == NULL || f->name[0] == '\0')
    return 0;
  for (const char *p = f->name; *p != '\0'; p++)
    if (!is_tchar(*p))
      return 0;
  /* RFC 9114 4.2: no CR, LF or NUL, and no whitespace at either end. */
  size_t n = strlen(f->value);
  if (strpbrk(f->value, "\r\n") != NULL ||
      (n > 0 && (strchr(" \t", f->value[0]) || strchr(" \t", f->value[n - 1]))))
    return 0;
  return !forbidden_field(f->name, f->value);
}

/* Copies the request's fields into one block the nva points into. Slot 2
 * (:authority) is filled at submission. */
static int build_fields(sq_request *r, const scone_quic_request *req) {
  int has_ua = 0;
  size_t total = strlen(req->method) + 1;
  for (size_t i = 0; i < req->nheaders; i++) {
    total += strlen(req->headers[i].name) + strlen(req->headers[i].value) + 2;
    has_ua |= strcasecmp(req->headers[i].name, "user-agent") == 0;
  }
  r->nva = calloc(req->nheaders + SQ_REQ_FIXED_FIELDS, sizeof(*r->nva));
  r->strings = malloc(total);
  if (r->nva == NULL || r->strings == NULL)
    return SCONE_QUIC_ERR_NOMEM;
  char *s = r->strings;
  strcpy(s, req->method);
  r->nva[0] = sq_h3_nv(":method", s);
  s += strlen(s) + 1;
  r->nva[1] = sq_h3_nv(":scheme", "https");
  r->nva[3] = sq_h3_nv(":path", r->path);
  size_t n = 4;
  if (!has_ua)
    r->nva[n++] = sq_h3_nv("user-agent", "scone-client");
  for (size_t i = 0; i < req->nheaders; i++) {
    char *name = s;
    for (const char *p = req->headers[i].name; *p != '\0'; p++)
      *s++ = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    *s++ = '\0';
    char *value = s;
    strcpy(s, req->headers[i].value);
    s += strlen(s) + 1;
    r->nva[n++] = sq_h3_nv(name, value);
  }
  r->nnv = n;
  return 0;
}

int scone_quic_client_request(scone_quic_client *cl,
                              const scone_quic_request *req) {
  if (req == NULL || req->version != SCONE_QUIC_REQUEST_V1 ||
      !valid_method(req->method) || !valid_path(req->path) ||
      req->nheaders > SCONE_QUIC_MAX_HEADERS ||
      (req->nheaders > 0 && req->headers == NULL))
    return SCONE_ERR_INVALID_ARGUMENT;
  for (size_t i = 0; i < req->nheaders; i++)
    if (!valid_field(&req->headers[i]))
      return SCONE_ERR_INVALID_ARGUMENT;
  if (cl->conn->state != SQ_STATE_OPEN)
    return SCONE_QUIC_ERR_CLOSED;
  if (cl->next_index > INT32_MAX)
    return SCONE_ERR_INVALID_ARGUMENT; /* the index would not fit an int */
  sq_request *r = calloc(1, sizeof(*r));
  if (r == NULL)
    return SCONE_QUIC_ERR_NOMEM;
  r->stream_id = -1;
  r->path = strdup(req->path);
  if (r->path == NULL || build_fields(r, req) != 0) {
    req_free(r);
    return SCONE_QUIC_ERR_NOMEM;
  }
  r->index = cl->next_index++;
  if (cl->tail != NULL)
    cl->tail->next = r;
  else
    cl->head = r;
  cl->tail = r;
  cl->outstanding++;
  cl->want_write = 1;
  return (int)r->index;
}

int scone_quic_client_get(scone_quic_client *cl, const char *path) {
  scone_quic_request req;
  scone_quic_request_default(&req);
  req.path = path;
  return scone_quic_client_request(cl, &req);
}

int scone_quic_client_cancel(scone_quic_client *cl, uint32_t index) {
  sq_request *r = find_req(cl, index);
  if (r == NULL || r->cancelled)
    return SCONE_ERR_INVALID_ARGUMENT;
  r->cancelled = 1;
  cl->want_write = 1;
  return 0;
}

uint32_t scone_quic_client_outstanding(const scone_quic_client *cl) {
  uint32_t n = 0;
  for (const sq_request *r = cl->head; r != NULL; r = r->next)
    n += !r->cancelled;
  return n;
}

/* ------------------------------------------------------------------ API */

static int make_authority(scone_quic_client *cl) {
  size_t n = strlen(cl->host) + strlen(cl->port) + 4;
  cl->authority = malloc(n);
  if (cl->authority == NULL)
    return SCONE_QUIC_ERR_NOMEM;
  int v6 = strchr(cl->host, ':') != NULL;
  snprintf(cl->authority, n, v6 ? "[%s]:%s" : "%s:%s", cl->host, cl->port);
  return 0;
}

/* An ICMP error on the connected socket surfaces on whichever call comes
 * next, a send or a receive. */
static int refused(int err) {
  return err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH;
}

static int send_udp(void *ctx, const sq_addr *to, const uint8_t *data,
                    size_t len) {
  scone_quic_client *cl = ctx;
  int rv = sq_udp_send(cl->fd, to, data, len);
  if (rv != 0 && refused(errno))
    cl->icmp_error = 1;
  return rv;
}

int scone_quic_client_new(scone_quic_client **pclient,
                          const scone_quic_client_config *cfg,
                          const scone_quic_callbacks *scone_cb,
                          const scone_quic_client_callbacks *http_cb,
                          void *user_data) {
  if (cfg == NULL || cfg->version != SCONE_QUIC_CLIENT_CONFIG_V1 ||
      !sq_settings_valid(&cfg->quic) || cfg->host == NULL || cfg->port == NULL)
    return SCONE_ERR_INVALID_ARGUMENT;
  scone_quic_client *cl = calloc(1, sizeof(*cl));
  if (cl == NULL)
    return SCONE_QUIC_ERR_NOMEM;
  cl->fd = -1;
  cl->user_data = user_data;
  if (scone_cb != NULL)
    cl->scb = *scone_cb;
  if (http_cb != NULL)
    cl->hcb = *http_cb;
  int rv = SCONE_QUIC_ERR_NOMEM;
  cl->host = strdup(cfg->host);
  cl->port = strdup(cfg->port);
  cl->sni = dup_or_null(cfg->sni != NULL        ? cfg->sni
                        : is_address(cfg->host) ? NULL
                                                : cfg->host);
  if (cl->host == NULL || cl->port == NULL)
    goto fail;
  if (cfg->authority != NULL ? (cl->authority = strdup(cfg->authority)) == NULL
                             : make_authority(cl) != 0)
    goto fail;

  if ((rv = sq_addr_resolve(&cl->remote, cl->host, cl->port)) != 0)
    goto fail;
  rv = SCONE_QUIC_ERR_SOCKET;
  cl->fd = sq_udp_socket(cl->remote.sa.ss_family, NULL, NULL);
  if (cl->fd < 0)
    goto fail;
  /* connect() makes the kernel pick the local address now (ngtcp2 needs it
   * for the path) and filters out datagrams from anyone else. */
  if (connect(cl->fd, (struct sockaddr *)&cl->remote.sa, cl->remote.len) != 0)
    goto fail;
  cl->local.len = sizeof(cl->local.sa);
  if (getsockname(cl->fd, (struct sockaddr *)&cl->local.sa, &cl->local.len) !=
      0)
    goto fail;

  if ((rv = sq_tls_client_cred(&cl->cred, cfg->ca_file, !cfg->insecure)) != 0)
    goto fail;
  sq_conn_params p = {0};
  p.settings = &cfg->quic;
  p.cb = &cl->scb;
  p.user_data = user_data;
  p.send = send_udp;
  p.send_ctx = cl;
  p.local = &cl->local;
  p.remote = &cl->remote;
  p.cred = cl->cred;
  p.sni = cl->sni;
  p.verify = !cfg->insecure;
  p.verify_host = cl->host;
  p.now = scone_quic_now();
  if ((rv = sq_conn_client_new(&cl->conn, &p)) != 0)
    goto fail;
  sq_h3_init(&cl->h3, cl->conn, &client_events, cl);
  sq_conn_set_app(cl->conn, &sq_h3_app_ops, &cl->h3);
  cl->want_write = 1; /* the first flight */
  *pclient = cl;
  return 0;
fail:;
  int e = errno; /* for the caller's message on a socket error */
  scone_quic_client_del(cl);
  errno = e;
  return rv;
}

void scone_quic_client_del(scone_quic_client *cl) {
  if (cl == NULL)
    return;
  sq_h3_free(&cl->h3);
  sq_conn_del(cl->conn);
  if (cl->cred != NULL)
    gnutls_certificate_free_credentials(cl->cred);
  if (cl->fd >= 0)
    close(cl->fd);
  while (cl->head != NULL) {
    sq_request *r = cl->head;
    cl->head = r->next;
    req_free(r);
  }
  free(cl->host);
  free(cl->port);
  free(cl->authority);
  free(cl->sni);
  free(cl);
}

scone_quic_conn *scone_quic_client_conn(scone_quic_client *cl) {
  return cl->conn;
}

int scone_quic_client_fd(const scone_quic_client *cl) {
  return cl->fd;
}

static void read_socket(scone_quic_client *cl, scone_tstamp now) {
  uint8_t buf[65536];
  sq_addr from;
  ssize_t n;
  /* Until EAGAIN, or an ICMP error surfacing: once the handshake is done
   * QUIC's own timers judge the path; before it, nobody listening there
   * is an answer worth taking at once. */
  while ((n = sq_udp_recv(cl->fd, buf, sizeof(buf), &from)) >= 0)
    if (sq_conn_read(cl->conn, &cl->local, &from, buf, (size_t)n, now) != 0)
      return;
  if (refused(errno))
    cl->icmp_error = 1;
}

/* The connection's end, once it has one: every request still out fails. */
static int check_closed(scone_quic_client *cl) {
  if (cl->icmp_error && cl->conn->state == SQ_STATE_OPEN &&
      !ngtcp2_conn_get_handshake_completed(cl->conn->qc)) {
    sq_conn_drop(cl->conn);
    cl->unreachable = 1;
  }
  cl->icmp_error = 0;
  if (cl->conn->state == SQ_STATE_OPEN)
    return 0;
  int err =
      cl->unreachable ? SCONE_QUIC_ERR_UNREACHABLE : SCONE_QUIC_ERR_CLOSED;
  fail_all(cl, err);
  return err;
}

int scone_quic_client_process(scone_quic_client *cl, scone_tstamp now) {
  if (cl->conn->state != SQ_STATE_DEAD) {
    read_socket(cl, now);
    if (cl->conn->state != SQ_STATE_DEAD && sq_conn_expiry(cl->conn) <= now)
      sq_conn_handle_expiry(cl->conn, now);
    apply_cancels(cl);
    cl->want_write = 0;
    sq_conn_write(cl->conn, now);
  }
  return check_closed(cl);
}

scone_tstamp scone_quic_client_timeout(const scone_quic_client *cl) {
  if (cl->conn->state == SQ_STATE_DEAD)
    return UINT64_MAX;
  if (cl->want_write || cl->icmp_error)
    return 0;
  return sq_conn_expiry(cl->conn);
}

int scone_quic_client_run(scone_quic_client *cl, scone_tstamp deadline,
                          int until_idle) {
  for (;;) {
    scone_tstamp now = scone_quic_now();
    int rv = scone_quic_client_process(cl, now);
    if (rv != 0)
      return rv;
    if (until_idle && scone_quic_client_outstanding(cl) == 0)
      return 0;
    if (now >= deadline)
      return until_idle ? SCONE_QUIC_ERR_TIMEOUT : 0;
    scone_tstamp wake = scone_quic_client_timeout(cl);
    if (wake > deadline)
      wake = deadline;
    int r = sq_udp_wait(cl->fd, wake > now ? wake - now : 0);
    if (r < 0)
      return r;
  }
}

void scone_quic_client_close(scone_quic_client *cl) {
  if (cl->conn->state != SQ_STATE_OPEN)
    return;
  sq_conn_set_app_error(cl->conn, NGHTTP3_H3_NO_ERROR);
  sq_conn_close(cl->conn, scone_quic_now());
  fail_all(cl, SCONE_QUIC_ERR_CLOSED);
}
