/*
 * The HTTP/3 server endpoint: one UDP socket, connections found by the
 * Destination Connection ID of the first QUIC packet (after any SCONE
 * packet), requests answered from content.c.
 */
#include "h3.h"
#include "pace.h"
#include "respond.h"
#include "test_hooks.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How long poll may sleep before looking at the stop flag again. */
#define STOP_POLL (100 * SCONE_MILLISECONDS)

struct sq_sconn;

/* One request stream and its answer. */
typedef struct sq_stream {
  struct sq_stream *next;
  struct sq_sconn *sc;
  int64_t id;
  int blocked;         /* paced: waits for the pacer */
  uint64_t sent;       /* body bytes handed to nghttp3 */
  int stalled;         /* stopped by the test hooks */
  sq_h3_fields fields; /* every field but the pseudo-headers */
  sq_request_in in;
  sq_response_out out;
} sq_stream;

typedef struct sq_sconn {
  scone_quic_conn *conn;
  sq_h3 h3;
  struct scone_quic_server *srv;
  sq_stream *streams;
  sq_pace pace;           /* the responses paced to the client's rtp */
  scone_tstamp resume_at; /* a paused one may go on; UINT64_MAX: none */
  struct sq_sconn *next;
} sq_sconn;

struct scone_quic_server {
  scone_quic_settings settings;
  char *qlog_dir;
  int rootfd;
  int cmsd, pace;
  scone_quic_callbacks scb;
  scone_quic_server_callbacks hcb;
  void *user_data;
  int fd;
  sq_addr local;
  gnutls_certificate_credentials_t cred;
  sq_sconn *conns;
  atomic_int stop;
  scone_quic_server_stats stats;
  uint32_t test_stalls; /* responses the test hooks stalled */
};

void scone_quic_server_config_default(scone_quic_server_config *cfg) {
  memset(cfg, 0, sizeof(*cfg));
  cfg->version = SCONE_QUIC_SERVER_CONFIG_V1;
  scone_quic_settings_default(&cfg->quic);
  cfg->listen = "127.0.0.1:4433";
  cfg->cmsd = 1;
}

/* ---------------------------------------------------------- requests */

static int on_header(sq_h3 *h, int64_t stream_id, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen,
                     void *sud) {
  sq_sconn *sc = h->user;
  sq_stream *st = sud;
  if (st == NULL) {
    st = calloc(1, sizeof(*st));
    if (st == NULL)
      return NGHTTP3_ERR_CALLBACK_FAILURE;
    st->id = stream_id;
    st->sc = sc;
    st->next = sc->streams;
    sc->streams = st;
    nghttp3_conn_set_stream_user_data(h->h3, stream_id, st);
  }
  sq_request_in_field(&st->in, name, namelen, value, valuelen);
  if (namelen > 0 && name[0] != ':')
    sq_h3_fields_add(&st->fields, name, namelen, value, valuelen);
  return 0;
}

/* The stall of the test hooks: a response stops for good when it reaches
 * byte stall_after_bytes of its object (one resumed past it sends
 * nothing), the connection alive; with stall_once only the first response
 * to get there stops. Returns 1 when it stalls now; else may lower max to
 * stop right there. */
static int test_stall(sq_stream *st, uint64_t *max) {
  const struct scone_quic_test_hooks *hk = st->sc->conn->hooks;
  scone_quic_server *srv = st->sc->srv;
  uint64_t at = st->out.body.offset;
  if (st->stalled)
    return 1;
  if (hk->stall_once && srv->test_stalls > 0)
    return 0;
  if (at >= hk->stall_after_bytes) {
    st->stalled = 1;
    srv->test_stalls++;
    return 1;
  }
  if (hk->stall_after_bytes - at < *max)
    *max = hk->stall_after_bytes - at;
  return 0;
}

/* nghttp3's read_data: the next pieces of the body, as far as the pacer
 * lets them go now. */
static nghttp3_ssize read_body(nghttp3_conn *conn, int64_t stream_id,
                               nghttp3_vec *vec, size_t veccnt,
                               uint32_t *pflags, void *conn_user_data,
                               void *stream_user_data) {
  (void)conn;
  (void)stream_id;
  (void)conn_user_data;
  sq_stream *st = stream_user_data;
  sq_sconn *sc = st->sc;
  scone_tstamp now = sc->conn->now;
  uint64_t max = UINT64_MAX;
  if (st->out.pace_bps != 0) {
    max = sq_pace_available(&sc->pace, now);
    if (max == 0) {
      st->blocked = 1;
      scone_tstamp t = sq_pace_next(&sc->pace, now);
      if (t < sc->resume_at)
        sc->resume_at = t;
      return NGHTTP3_ERR_WOULDBLOCK;
    }
  }
  if (sc->conn->hooks != NULL && sc->conn->hooks->stall_after_bytes != 0 &&
      test_stall(st, &max))
    return NGHTTP3_ERR_WOULDBLOCK;
  int eof;
  size_t n = sq_content_next(&st->out.body, vec, veccnt, max, &eof);
  if (st->out.pace_bps != 0) {
    uint64_t sent = 0;
    for (size_t i = 0; i < n; i++)
      sent += vec[i].len;
    sq_pace_consume(&sc->pace, sent, now);
  }
  if (eof)
    *pflags |= NGHTTP3_DATA_FLAG_EOF;
  return (nghttp3_ssize)n;
}

static void tell(sq_sconn *sc, const sq_stream *st) {
  scone_quic_server *srv = sc->srv;
  if (srv->hcb.request == NULL)
    return;
  const sq_response_out *o = &st->out;
  scone_quic_server_request r;
  memset(&r, 0, sizeof(r));
  scone_quic_header list[SCONE_QUIC_MAX_HEADERS];
  r.method = st->in.method;
  r.target = st->in.target;
  r.headers = list;
  r.nheaders = sq_h3_fields_list(&st->fields, list);
  r.status = o->status;
  r.body_bytes = o->send_body ? o->body.end - o->body.offset : 0;
  r.cmcd = &o->cmcd;
  r.cmcd_malformed = o->cmcd_keys < 0;
  r.paced_bps = o->pace_bps;
  r.cmsd_static = o->cmsd_static[0] != '\0' ? o->cmsd_static : NULL;
  r.cmsd_dynamic = o->cmsd_dynamic[0] != '\0' ? o->cmsd_dynamic : NULL;
  srv->hcb.request(srv, &r, srv->user_data);
}

static int respond(sq_sconn *sc, sq_stream *st) {
  scone_quic_server *srv = sc->srv;
  sq_respond_opts opts;
  memset(&opts, 0, sizeof(opts));
  opts.rootfd = srv->rootfd;
  opts.cmsd = srv->cmsd;
  opts.pace = srv->pace;
  ngtcp2_conn_stat cs;
  ngtcp2_conn_get_conn_stat(sc->conn->qc, &cs);
  opts.has_rtt = cs.smoothed_rtt > 0;
  opts.rtt_ms = (cs.smoothed_rtt + SCONE_MILLISECONDS / 2) / SCONE_MILLISECONDS;
  if (st->fields.overflow)
    st->in.too_long = 1;
  sq_respond(&st->in, &opts, &st->out);
  if (st->out.pace_bps != 0) {
    sq_pace_set_rate(&sc->pace, st->out.pace_bps);
    srv->stats.responses_paced++;
  }
  nghttp3_data_reader dr = {read_body};
  int rv =
      nghttp3_conn_submit_response(sc->h3.h3, st->id, st->out.nva, st->out.nnv,
                                   st->out.send_body ? &dr : NULL);
  if (rv != 0)
    return rv;
  srv->stats.requests_served++;
  tell(sc, st);
  return 0;
}

static int on_end_stream(sq_h3 *h, int64_t stream_id, void *sud) {
  (void)stream_id;
  sq_stream *st = sud;
  if (st == NULL)
    return 0; /* a request without headers: nghttp3 rejects it anyway */
  return respond(h->user, st) == 0 ? 0 : NGHTTP3_ERR_CALLBACK_FAILURE;
}

static void stream_free(sq_stream *st) {
  sq_content_close(&st->out.body);
  sq_h3_fields_free(&st->fields);
  free(st);
}

static int on_stream_close(sq_h3 *h, int64_t stream_id, uint64_t code,
                           void *sud) {
  (void)stream_id;
  (void)code;
  sq_sconn *sc = h->user;
  sq_stream *st = sud;
  for (sq_stream **pp = &sc->streams; *pp != NULL; pp = &(*pp)->next) {
    if (*pp == st) {
      *pp = st->next;
      stream_free(st);
      break;
    }
  }
  return 0;
}

static const sq_h3_events server_events = {
    .recv_header = on_header,
    .end_stream = on_end_stream,
    .stream_close = on_stream_close,
};

/* Paused responses whose pacer has room again go on. */
static void resume_paced(sq_sconn *sc, scone_tstamp now) {
  if (sc->resume_at > now || sc->h3.h3 == NULL)
    return;
  sc->resume_at = UINT64_MAX;
  for (sq_stream *st = sc->streams; st != NULL; st = st->next) {
    if (!st->blocked)
      continue;
    st->blocked = 0;
    nghttp3_conn_resume_stream(sc->h3.h3, st->id);
  }
}

/* ------------------------------------------------------- connections */

_Static_assert(sizeof(scone_quic_counters) % sizeof(uint64_t) == 0,
               "scone_quic_counters holds uint64_t fields only");

static void add_counters(scone_quic_counters *sum,
                         const scone_quic_counters *c) {
  uint64_t *d = (uint64_t *)sum;
  const uint64_t *s = (const uint64_t *)c;
  for (size_t i = 0; i < sizeof(*c) / sizeof(uint64_t); i++)
    d[i] += s[i];
}

/* Adds what one connection contributes to the server's totals. */
static void account(const sq_sconn *sc, scone_quic_server_stats *st) {
  scone_quic_counters ctr;
  scone_quic_conn_get_counters(sc->conn, &ctr);
  add_counters(&st->scone, &ctr);
  int remote, app;
  uint64_t code;
  if (scone_quic_conn_get_close_error(sc->conn, &remote, &app, &code) == 0 &&
      code != 0 && !(app && code == NGHTTP3_H3_NO_ERROR))
    st->connections_closed_with_error++;
  if (sc->conn->tp_error)
    st->transport_parameter_errors++;
  if (sc->conn->compat_mode)
    st->compat_mode_rejected++;
}

static void sconn_free(scone_quic_server *srv, sq_sconn *sc) {
  account(sc, &srv->stats);
  while (sc->streams != NULL) {
    sq_stream *st = sc->streams;
    sc->streams = st->next;
    stream_free(st);
  }
  sq_h3_free(&sc->h3);
  sq_conn_del(sc->conn);
  free(sc);
}

static sq_sconn *find_conn(scone_quic_server *srv, const uint8_t *dcid,
                           size_t dcidlen) {
  for (sq_sconn *sc = srv->conns; sc != NULL; sc = sc->next) {
    const scone_quic_conn *c = sc->conn;
    for (size_t i = 0; i < c->ncids; i++)
      if (c->cids[i].datalen == dcidlen &&
          memcmp(c->cids[i].data, dcid, dcidlen) == 0)
        return sc;
  }
  return NULL;
}

static void qlog_name(char *buf, size_t len, const char *dir,
                      const ngtcp2_cid *odcid) {
  int n = snprintf(buf, len, "%s/", dir);
  for (size_t i = 0; i < odcid->datalen && n > 0 && (size_t)n + 3 < len; i++)
    n += snprintf(buf + n, len - (size_t)n, "%02x", odcid->data[i]);
  if (n > 0 && (size_t)n < len)
    snprintf(buf + n, len - (size_t)n, ".sqlog");
}

static int send_udp(void *ctx, const sq_addr *to, const uint8_t *data,
                    size_t len) {
  const scone_quic_server *srv = ctx;
  return sq_udp_send(srv->fd, to, data, len);
}

static sq_sconn *accept_conn(scone_quic_server *srv, const sq_addr *from,
                             const uint8_t *pkt, size_t pktlen,
                             const uint8_t *dgram, size_t dglen,
                             scone_tstamp now) {
  ngtcp2_pkt_hd hd;
  if (ngtcp2_accept(&hd, pkt, pktlen) != 0)
    return NULL;
  sq_sconn *sc = calloc(1, sizeof(*sc));
  if (sc == NULL)
    return NULL;
  char qlog[4096];
  scone_quic_settings s = srv->settings;
  if (srv->qlog_dir != NULL) {
    qlog_name(qlog, sizeof(qlog), srv->qlog_dir, &hd.dcid);
    s.qlog_path = qlog;
  }
  sq_conn_params p = {0};
  p.settings = &s;
  p.cb = &srv->scb;
  p.user_data = srv->user_data;
  p.send = send_udp;
  p.send_ctx = srv;
  p.local = &srv->local;
  p.remote = from;
  p.cred = srv->cred;
  p.hd = &hd;
  p.now = now;
  int rv = sq_conn_server_new(&sc->conn, &p);
  if (rv == SCONE_QUIC_ERR_QLOG) {
    /* The directory took a file at start-up; the client is not turned
     * away for a trace that cannot be written now. */
    srv->stats.qlog_failures++;
    s.qlog_path = NULL;
    rv = sq_conn_server_new(&sc->conn, &p);
  }
  if (rv != 0) {
    free(sc);
    return NULL;
  }
  sc->srv = srv;
  sq_pace_init(&sc->pace);
  sc->resume_at = UINT64_MAX;
  sq_h3_init(&sc->h3, sc->conn, &server_events, sc);
  sq_conn_set_app(sc->conn, &sq_h3_app_ops, &sc->h3);
  sc->next = srv->conns;
  srv->conns = sc;
  srv->stats.connections_accepted++;
  if (scone_indication_present(dgram, dglen))
    srv->stats.datagrams_with_indication++;
  return sc;
}

static void send_version_negotiation(scone_quic_server *srv,
                                     const sq_addr *from,
                                     const ngtcp2_version_cid *vc) {
  uint8_t buf[256];
  uint8_t unused;
  uint32_t sv[] = {NGTCP2_PROTO_VER_V1};
  if (sq_random_bytes(&unused, 1) != 0)
    return;
  /* The client's SCID becomes our DCID and vice versa. */
  ngtcp2_ssize n = ngtcp2_pkt_write_version_negotiation(
      buf, sizeof(buf), unused, vc->scid, vc->scidlen, vc->dcid, vc->dcidlen,
      sv, 1);
  if (n > 0)
    sq_udp_send(srv->fd, from, buf, (size_t)n);
}

static void on_datagram(scone_quic_server *srv, const sq_addr *from,
                        const uint8_t *data, size_t len, scone_tstamp now) {
  /* Routing looks past a leading SCONE packet to the QUIC packet. */
  const uint8_t *pkt = data;
  size_t pktlen = len;
  scone_packet sp;
  if (scone_packet_is_scone(data, len) &&
      scone_packet_parse(&sp, data, len) > 0) {
    pkt += sp.len;
    pktlen -= sp.len;
  }
  ngtcp2_version_cid vc;
  int rv = ngtcp2_pkt_decode_version_cid(&vc, pkt, pktlen, SQ_SCIDLEN);
  if (rv == NGTCP2_ERR_VERSION_NEGOTIATION) {
    send_version_negotiation(srv, from, &vc);
    return;
  }
  if (rv != 0)
    return;
  sq_sconn *sc = find_conn(srv, vc.dcid, vc.dcidlen);
  if (sc == NULL &&
      (sc = accept_conn(srv, from, pkt, pktlen, data, len, now)) == NULL)
    return;
  sq_conn_read(sc->conn, &srv->local, from, data, len, now);
}

static void read_socket(scone_quic_server *srv) {
  static _Thread_local uint8_t buf[65536];
  for (int i = 0; i < 256; i++) {
    sq_addr from;
    ssize_t n = sq_udp_recv(srv->fd, buf, sizeof(buf), &from);
    if (n < 0)
      return;
    on_datagram(srv, &from, buf, (size_t)n, scone_quic_now());
  }
}

/* Timers, sending, and freeing connections that are done. */
static scone_tstamp service(scone_quic_server *srv, scone_tstamp now) {
  scone_tstamp wake = UINT64_MAX;
  for (sq_sconn **pp = &srv->conns; *pp != NULL;) {
    sq_sconn *sc = *pp;
    if (sc->conn->state != SQ_STATE_DEAD && sq_conn_expiry(sc->conn) <= now)
      sq_conn_handle_expiry(sc->conn, now);
    resume_paced(sc, now);
    sq_conn_write(sc->conn, now);
    if (sc->conn->state == SQ_STATE_DEAD) {
      *pp = sc->next;
      sconn_free(srv, sc);
      continue;
    }
    scone_tstamp e = sq_conn_expiry(sc->conn);
    if (e < wake)
      wake = e;
    if (sc->resume_at < wake)
      wake = sc->resume_at;
    pp = &sc->next;
  }
  return wake;
}

/* ------------------------------------------------------------------ API */

/* A qlog directory that cannot take a file would cost every trace; found
 * out at start-up by making (and removing) one. */
static int qlog_dir_writable(const char *dir) {
  char probe[4096];
  int n = snprintf(probe, sizeof(probe), "%s/.scone-qlog-XXXXXX", dir);
  if (n < 0 || (size_t)n >= sizeof(probe))
    return SCONE_QUIC_ERR_QLOG;
  int fd = mkstemp(probe);
  if (fd < 0)
    return SCONE_QUIC_ERR_QLOG;
  close(fd);
  unlink(probe);
  return 0;
}

/* The root as a directory descriptor that lookups stay beneath. */
static int open_root(const char *root) {
  int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return SCONE_QUIC_ERR_ROOT;
  if (!sq_content_beneath_ok(fd)) {
    close(fd);
    return SCONE_QUIC_ERR_ROOT;
  }
  return fd;
}

int scone_quic_server_new(scone_quic_server **pserver,
                          const scone_quic_server_config *cfg,
                          const scone_quic_callbacks *scone_cb,
                          const scone_quic_server_callbacks *http_cb,
                          void *user_data) {
  if (cfg == NULL || cfg->version != SCONE_QUIC_SERVER_CONFIG_V1 ||
      !sq_settings_valid(&cfg->quic) || cfg->cert_file == NULL ||
      cfg->key_file == NULL)
    return SCONE_ERR_INVALID_ARGUMENT;
  scone_quic_server *srv = calloc(1, sizeof(*srv));
  if (srv == NULL)
    return SCONE_QUIC_ERR_NOMEM;
  srv->fd = -1;
  srv->rootfd = -1;
  srv->cmsd = cfg->cmsd;
  srv->pace = cfg->pace;
  if (http_cb != NULL)
    srv->hcb = *http_cb;
  srv->settings = cfg->quic;
  srv->settings.qlog_path = NULL;
  srv->user_data = user_data;
  if (scone_cb != NULL)
    srv->scb = *scone_cb;
  atomic_init(&srv->stop, 0);
  int rv = SCONE_QUIC_ERR_NOMEM;
  if (cfg->qlog_dir != NULL && (srv->qlog_dir = strdup(cfg->qlog_dir)) == NULL)
    goto fail;
  if (cfg->root != NULL && (rv = srv->rootfd = open_root(cfg->root)) < 0)
    goto fail;
  if (srv->qlog_dir != NULL && (rv = qlog_dir_writable(srv->qlog_dir)) != 0)
    goto fail;
  if ((rv = sq_tls_server_cred(&srv->cred, cfg->cert_file, cfg->key_file)) != 0)
    goto fail;
  sq_addr want;
  if ((rv = sq_addr_parse(&want, cfg->listen)) != 0)
    goto fail;
  srv->fd = sq_udp_socket(want.sa.ss_family, &want, &srv->local);
  if (srv->fd < 0) {
    rv = srv->fd;
    srv->fd = -1;
    goto fail;
  }
  *pserver = srv;
  return 0;
fail:;
  int e = errno; /* for the caller's message on a socket error */
  scone_quic_server_del(srv);
  errno = e;
  return rv;
}

void scone_quic_server_del(scone_quic_server *srv) {
  if (srv == NULL)
    return;
  while (srv->conns != NULL) {
    sq_sconn *sc = srv->conns;
    srv->conns = sc->next;
    sconn_free(srv, sc);
  }
  if (srv->cred != NULL)
    gnutls_certificate_free_credentials(srv->cred);
  if (srv->fd >= 0)
    close(srv->fd);
  if (srv->rootfd >= 0)
    close(srv->rootfd);
  free(srv->qlog_dir);
  free(srv);
}

uint16_t scone_quic_server_port(const scone_quic_server *srv) {
  if (srv->local.sa.ss_family == AF_INET6)
    return ntohs(((const struct sockaddr_in6 *)&srv->local.sa)->sin6_port);
  return ntohs(((const struct sockaddr_in *)&srv->local.sa)->sin_port);
}

int scone_quic_server_run(scone_quic_server *srv) {
  while (!atomic_load(&srv->stop)) {
    scone_tstamp now = scone_quic_now();
    scone_tstamp wake = service(srv, now);
    if (wake > now + STOP_POLL)
      wake = now + STOP_POLL;
    int r = sq_udp_wait(srv->fd, wake > now ? wake - now : 0);
    if (r < 0)
      return r;
    if (r > 0)
      read_socket(srv);
  }
  /* Tell every client we are going, so they need not time out. */
  scone_tstamp now = scone_quic_now();
  for (sq_sconn *sc = srv->conns; sc != NULL; sc = sc->next) {
    /* One already closing keeps the error it closed with. */
    if (sc->conn->state != SQ_STATE_OPEN)
      continue;
    sq_conn_set_app_error(sc->conn, NGHTTP3_H3_NO_ERROR);
    sq_conn_close(sc->conn, now);
  }
  return 0;
}

void scone_quic_server_stop(scone_quic_server *srv) {
  atomic_store(&srv->stop, 1);
}

void scone_quic_server_get_stats(const scone_quic_server *srv,
                                 scone_quic_server_stats *out) {
  *out = srv->stats;
  for (const sq_sconn *sc = srv->conns; sc != NULL; sc = sc->next)
    account(sc, out);
}
