/* The HTTP/3 client endpoint: one connection, GET requests, an event loop. */
#include "h3.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct sq_request {
  char *path;
  int status;
  uint64_t body;
  scone_tstamp started, finished;
  int done, reset;
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
  sq_request *reqs;
  uint32_t nreqs, cap, next_submit, outstanding;
};

void scone_quic_client_config_default(scone_quic_client_config *cfg) {
  memset(cfg, 0, sizeof(*cfg));
  cfg->version = SCONE_QUIC_CLIENT_CONFIG_V1;
  scone_quic_settings_default(&cfg->quic);
}

static char *dup_or_null(const char *s) {
  return s != NULL ? strdup(s) : NULL;
}

static int is_address(const char *host) {
  uint8_t b[16];
  return inet_pton(AF_INET, host, b) == 1 || inet_pton(AF_INET6, host, b) == 1;
}

/* ---------------------------------------------------------- HTTP events */

static void finish(scone_quic_client *cl, sq_request *r, int reset) {
  if (r->done)
    return;
  r->done = 1;
  r->reset = reset;
  r->finished = cl->conn->now;
  cl->outstanding--;
  if (cl->hcb.response_done != NULL) {
    scone_quic_response resp;
    resp.request_index = (uint32_t)(r - cl->reqs);
    resp.path = r->path;
    resp.status = r->status;
    resp.body_bytes = r->body;
    resp.started_at = r->started;
    resp.finished_at = r->finished;
    resp.reset = reset;
    cl->hcb.response_done(cl, &resp, cl->user_data);
  }
}

/* Requests live in a growable array, so streams carry an index. */
static sq_request *req_of(scone_quic_client *cl, void *stream_user_data) {
  uintptr_t i = (uintptr_t)stream_user_data;
  return i >= 1 && i <= cl->nreqs ? &cl->reqs[i - 1] : NULL;
}

static int on_header(sq_h3 *h, int64_t stream_id, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen,
                     void *sud) {
  (void)stream_id;
  sq_request *r = req_of(h->user, sud);
  if (r != NULL && namelen == 7 && memcmp(name, ":status", 7) == 0) {
    int status = 0;
    for (size_t i = 0; i < valuelen && value[i] >= '0' && value[i] <= '9'; i++)
      status = status * 10 + (value[i] - '0');
    r->status = status;
  }
  return 0;
}

static int on_data(sq_h3 *h, int64_t stream_id, const uint8_t *data, size_t len,
                   void *sud) {
  (void)stream_id;
  scone_quic_client *cl = h->user;
  sq_request *r = req_of(cl, sud);
  if (r == NULL)
    return 0;
  r->body += len;
  if (cl->hcb.body != NULL)
    cl->hcb.body(cl, (uint32_t)(r - cl->reqs), data, len, cl->user_data);
  return 0;
}

static int on_end_stream(sq_h3 *h, int64_t stream_id, void *sud) {
  (void)stream_id;
  scone_quic_client *cl = h->user;
  sq_request *r = req_of(cl, sud);
  if (r != NULL)
    finish(cl, r, 0);
  return 0;
}

static int on_stream_close(sq_h3 *h, int64_t stream_id, uint64_t code,
                           void *sud) {
  (void)stream_id;
  (void)code;
  scone_quic_client *cl = h->user;
  sq_request *r = req_of(cl, sud);
  if (r != NULL)
    finish(cl, r, 1);
  return 0;
}

static int submit_pending(sq_h3 *h) {
  scone_quic_client *cl = h->user;
  ngtcp2_conn *qc = cl->conn->qc;
  while (cl->next_submit < cl->nreqs &&
         ngtcp2_conn_get_streams_bidi_left(qc) > 0) {
    sq_request *r = &cl->reqs[cl->next_submit];
    int64_t sid;
    if (ngtcp2_conn_open_bidi_stream(qc, &sid, NULL) != 0)
      break;
    nghttp3_nv nva[] = {
        sq_h3_nv(":method", "GET"),
        sq_h3_nv(":scheme", "https"),
        sq_h3_nv(":authority", cl->authority),
        sq_h3_nv(":path", r->path),
        sq_h3_nv("user-agent", "scone-client"),
    };
    void *sud = (void *)(uintptr_t)(cl->next_submit + 1);
    if (nghttp3_conn_submit_request(
            h->h3, sid, nva, sizeof(nva) / sizeof(nva[0]), NULL, sud) != 0) {
      sq_conn_set_app_error(cl->conn, NGHTTP3_H3_INTERNAL_ERROR);
      return -1;
    }
    r->started = cl->conn->now;
    cl->next_submit++;
  }
  return 0;
}

static const sq_h3_events client_events = {
    .recv_header = on_header,
    .recv_data = on_data,
    .end_stream = on_end_stream,
    .stream_close = on_stream_close,
    .before_pull = submit_pending,
};

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

static int send_udp(void *ctx, const sq_addr *to, const uint8_t *data,
                    size_t len) {
  const scone_quic_client *cl = ctx;
  return sq_udp_send(cl->fd, to, data, len);
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
  *pclient = cl;
  return 0;
fail:
  scone_quic_client_del(cl);
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
  for (uint32_t i = 0; i < cl->nreqs; i++)
    free(cl->reqs[i].path);
  free(cl->reqs);
  free(cl->host);
  free(cl->port);
  free(cl->authority);
  free(cl->sni);
  free(cl);
}

scone_quic_conn *scone_quic_client_conn(scone_quic_client *cl) {
  return cl->conn;
}

int scone_quic_client_get(scone_quic_client *cl, const char *path) {
  if (path == NULL || path[0] != '/')
    return SCONE_ERR_INVALID_ARGUMENT;
  if (cl->nreqs == cl->cap) {
    uint32_t cap = cl->cap ? cl->cap * 2 : 8;
    sq_request *r = realloc(cl->reqs, cap * sizeof(*r));
    if (r == NULL)
      return SCONE_QUIC_ERR_NOMEM;
    cl->reqs = r;
    cl->cap = cap;
  }
  sq_request *r = &cl->reqs[cl->nreqs];
  memset(r, 0, sizeof(*r));
  r->path = strdup(path);
  if (r->path == NULL)
    return SCONE_QUIC_ERR_NOMEM;
  cl->outstanding++;
  return (int)cl->nreqs++;
}

static void read_socket(scone_quic_client *cl) {
  uint8_t buf[65536];
  sq_addr from;
  ssize_t n;
  /* Until EAGAIN, or an ICMP error surfacing: QUIC then times out. */
  while ((n = sq_udp_recv(cl->fd, buf, sizeof(buf), &from)) >= 0)
    if (sq_conn_read(cl->conn, &cl->local, &from, buf, (size_t)n,
                     scone_quic_now()) != 0)
      return;
}

int scone_quic_client_run(scone_quic_client *cl, scone_tstamp deadline,
                          int until_idle) {
  for (;;) {
    scone_tstamp now = scone_quic_now();
    if (until_idle && cl->outstanding == 0)
      return 0;
    if (cl->conn->state != SQ_STATE_OPEN)
      return SCONE_QUIC_ERR_CLOSED;
    if (now >= deadline)
      return until_idle ? SCONE_QUIC_ERR_TIMEOUT : 0;
    sq_conn_write(cl->conn, now);
    if (cl->conn->state != SQ_STATE_OPEN)
      continue;

    scone_tstamp wake = sq_conn_expiry(cl->conn);
    if (wake > deadline)
      wake = deadline;
    int r = sq_udp_wait(cl->fd, wake > now ? wake - now : 0);
    if (r < 0)
      return r;
    if (r > 0)
      read_socket(cl);
    now = scone_quic_now();
    if (cl->conn->state != SQ_STATE_DEAD && sq_conn_expiry(cl->conn) <= now)
      sq_conn_handle_expiry(cl->conn, now);
  }
}

void scone_quic_client_close(scone_quic_client *cl) {
  if (cl->conn->state != SQ_STATE_OPEN)
    return;
  sq_conn_set_app_error(cl->conn, NGHTTP3_H3_NO_ERROR);
  sq_conn_close(cl->conn, scone_quic_now());
}
