#include "harness.h"
#include "internal.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The tests are cmocka executables, but the harness must also fail loudly on
 * its own set-up errors, before any assertion could. */
#define H_CHECK(cond)                                                          \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: harness: %s failed\n", __FILE__, __LINE__,       \
              #cond);                                                          \
      abort();                                                                 \
    }                                                                          \
  } while (0)

/* ------------------------------------------------------------ temp dir */

void h_env_init(h_env *e) {
  const char *tmp = getenv("TMPDIR");
  snprintf(e->dir, sizeof(e->dir), "%s/scone-quic-test-XXXXXX",
           tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
  H_CHECK(mkdtemp(e->dir) != NULL);
  snprintf(e->cert, sizeof(e->cert), "%s/cert.pem", e->dir);
  snprintf(e->key, sizeof(e->key), "%s/key.pem", e->dir);
  snprintf(e->qlog, sizeof(e->qlog), "%s/client.sqlog", e->dir);
  H_CHECK(scone_quic_make_self_signed(e->cert, e->key, NULL) == 0);
}

void h_env_cleanup(h_env *e) {
  DIR *d = opendir(e->dir);
  if (d != NULL) {
    struct dirent *de;
    char p[600];
    while ((de = readdir(d)) != NULL) {
      if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
        continue;
      snprintf(p, sizeof(p), "%s/%s", e->dir, de->d_name);
      unlink(p);
    }
    closedir(d);
  }
  rmdir(e->dir);
}

char *h_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return NULL;
  size_t cap = 65536, n = 0;
  char *buf = malloc(cap + 1);
  size_t r;
  while (buf != NULL && (r = fread(buf + n, 1, cap - n, f)) > 0) {
    n += r;
    if (n == cap) {
      char *nb = realloc(buf, cap * 2 + 1);
      if (nb == NULL) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
  }
  fclose(f);
  if (buf == NULL)
    return NULL;
  buf[n] = '\0';
  if (len != NULL)
    *len = n;
  return buf;
}

size_t h_count_in_file(const char *path, const char *needle) {
  size_t len, count = 0, nl = strlen(needle);
  char *buf = h_read_file(path, &len);
  if (buf == NULL)
    return 0;
  for (char *p = buf; (p = memmem(p, len - (size_t)(p - buf), needle, nl));
       p += nl)
    count++;
  free(buf);
  return count;
}

/* ------------------------------------------ recording HTTP/3 client */

static void rec_headers(scone_quic_client *cl, uint32_t idx, int status,
                        const scone_quic_header *h, size_t n, void *ud) {
  (void)cl;
  h_rec *t = ud;
  H_CHECK(idx < H_REC_MAX);
  h_rec_seen *r = &t->r[idx];
  r->headers_calls++;
  r->status = status;
  size_t len = 0;
  for (size_t i = 0; i < n && len < sizeof(r->headers); i++)
    len += (size_t)snprintf(r->headers + len, sizeof(r->headers) - len,
                            "%s: %s\n", h[i].name, h[i].value);
}

static void rec_body(scone_quic_client *cl, uint32_t idx, const uint8_t *data,
                     size_t len, void *ud) {
  h_rec *t = ud;
  H_CHECK(idx < H_REC_MAX);
  h_rec_seen *r = &t->r[idx];
  if (r->headers_calls == 0)
    r->body_before_headers += len;
  if (r->body == 0)
    r->first_byte_at = scone_quic_now();
  for (size_t i = 0; i < len && r->body + i < H_REC_BODY; i++)
    r->data[r->body + i] = data[i];
  r->body += len;
  if (idx == 0 && t->cancel_at_body && !t->cancelled &&
      r->body >= t->cancel_at_body) {
    H_CHECK(scone_quic_client_cancel(cl, 0) == 0);
    t->cancelled = 1;
  }
}

static void rec_done(scone_quic_client *cl, const scone_quic_response *resp,
                     void *ud) {
  (void)cl;
  h_rec *t = ud;
  H_CHECK(resp->request_index < H_REC_MAX);
  h_rec_seen *r = &t->r[resp->request_index];
  r->done++;
  r->error = resp->error;
  r->done_at = scone_quic_now();
}

scone_quic_client *h_http_client(uint16_t port,
                                 const scone_quic_client_callbacks *cb,
                                 void *user_data) {
  scone_quic_client_config cfg;
  scone_quic_client_config_default(&cfg);
  char portstr[8];
  snprintf(portstr, sizeof(portstr), "%u", port);
  cfg.host = "127.0.0.1";
  cfg.port = portstr;
  cfg.insecure = 1;
  scone_quic_client *cl = NULL;
  H_CHECK(scone_quic_client_new(&cl, &cfg, NULL, cb, user_data) == 0);
  return cl;
}

void h_rec_start(h_rec *t, uint16_t port) {
  memset(t, 0, sizeof(*t));
  scone_quic_client_callbacks hcb = {
      .body = rec_body, .response_done = rec_done, .headers = rec_headers};
  t->cl = h_http_client(port, &hcb, t);
}

void h_rec_free(h_rec *t) {
  scone_quic_client_close(t->cl);
  scone_quic_client_del(t->cl);
  t->cl = NULL;
}

int h_rec_request(h_rec *t, const char *method, const char *path,
                  const scone_quic_header *h, size_t n) {
  scone_quic_request req;
  scone_quic_request_default(&req);
  req.method = method;
  req.path = path;
  req.headers = h;
  req.nheaders = n;
  return scone_quic_client_request(t->cl, &req);
}

/* now + timeout, times SCONE_TEST_TIME_SCALE (default 1): a deadline for
 * work to finish, which valgrind (scripts/memcheck.py sets 30) makes 20 to
 * 50 times slower. Waits that observe a span are not scaled. */
static scone_tstamp deadline(scone_duration timeout) {
  const char *e = getenv("SCONE_TEST_TIME_SCALE");
  long k = e ? strtol(e, NULL, 10) : 1;
  return scone_quic_now() +
         timeout * (scone_duration)(k >= 1 && k <= 1000 ? k : 1);
}

int h_rec_run(h_rec *t, scone_duration timeout) {
  return scone_quic_client_run(t->cl, deadline(timeout), 1);
}

void h_settings(scone_quic_settings *s) {
  scone_quic_settings_default(s);
}

void h_loopback_addr(sq_addr *a, uint16_t port) {
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sq_addr_set(a, (const struct sockaddr *)&sin, sizeof(sin));
}

/* ---------------------------------------------------------- server thread */

static void server_advice(scone_quic_conn *conn, uint32_t path_id,
                          scone_dir dir, const scone_advice *adv,
                          void *user_data) {
  (void)conn;
  (void)path_id;
  h_server *s = user_data;
  s->advice_signal = adv->signal;
  s->advice_bps = adv->bps;
  s->advice_dir = dir;
  s->advice_events++;
}

static void log_printf(h_server *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (s->loglen < sizeof(s->log)) {
    int n = vsnprintf(s->log + s->loglen, sizeof(s->log) - s->loglen, fmt, ap);
    if (n > 0)
      s->loglen += (size_t)n;
    if (s->loglen >= sizeof(s->log))
      s->loglen = sizeof(s->log) - 1;
  }
  va_end(ap);
}

static void server_request(scone_quic_server *srv,
                           const scone_quic_server_request *r,
                           void *user_data) {
  (void)srv;
  h_server *s = user_data;
  pthread_mutex_lock(&s->mu);
  log_printf(s, "%s %s %d bytes=%llu paced=%llu", r->method, r->target,
             r->status, (unsigned long long)r->body_bytes,
             (unsigned long long)r->paced_bps);
  if (r->cmcd->present & SCONE_APP_CMCD_RTP)
    log_printf(s, " rtp=%llu", (unsigned long long)r->cmcd->rtp_kbps);
  else
    log_printf(s, " rtp=-");
  log_printf(s, " malformed=%d\n", r->cmcd_malformed);
  for (size_t i = 0; i < r->nheaders; i++)
    log_printf(s, "  %s: %s\n", r->headers[i].name, r->headers[i].value);
  if (r->cmsd_static != NULL)
    log_printf(s, "  > cmsd-static: %s\n", r->cmsd_static);
  if (r->cmsd_dynamic != NULL)
    log_printf(s, "  > cmsd-dynamic: %s\n", r->cmsd_dynamic);
  pthread_mutex_unlock(&s->mu);
}

void h_server_log(h_server *s, char *buf, size_t cap) {
  pthread_mutex_lock(&s->mu);
  snprintf(buf, cap, "%.*s", (int)s->loglen, s->log);
  pthread_mutex_unlock(&s->mu);
}

static void *server_main(void *arg) {
  h_server *s = arg;
  s->rv = scone_quic_server_run(s->srv);
  return NULL;
}

void h_server_start_cfg(h_server *s, const h_env *e,
                        scone_quic_server_config *cfg) {
  memset(s, 0, sizeof(*s));
  H_CHECK(pthread_mutex_init(&s->mu, NULL) == 0);
  s->advice_signal = SCONE_SIGNAL_UNKNOWN;
  cfg->listen = "127.0.0.1:0";
  cfg->cert_file = e->cert;
  cfg->key_file = e->key;
  cfg->qlog_dir = e->dir;
  scone_quic_callbacks cb = {.advice_changed = server_advice};
  scone_quic_server_callbacks hcb = {.request = server_request};
  H_CHECK(scone_quic_server_new(&s->srv, cfg, &cb, &hcb, s) == 0);
  H_CHECK(pthread_create(&s->th, NULL, server_main, s) == 0);
}

void h_server_start(h_server *s, const h_env *e,
                    const scone_quic_settings *settings) {
  scone_quic_server_config cfg;
  scone_quic_server_config_default(&cfg);
  if (settings != NULL)
    cfg.quic = *settings;
  h_server_start_cfg(s, e, &cfg);
}

uint16_t h_server_port(const h_server *s) {
  return scone_quic_server_port(s->srv);
}

void h_server_stop(h_server *s, scone_quic_server_stats *stats) {
  scone_quic_server_stop(s->srv);
  pthread_join(s->th, NULL);
  if (stats != NULL)
    scone_quic_server_get_stats(s->srv, stats);
}

void h_server_free(h_server *s) {
  scone_quic_server_del(s->srv);
  s->srv = NULL;
  pthread_mutex_destroy(&s->mu);
}

/* ------------------------------------------------------------- forwarder */

static int udp_bound(void) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  H_CHECK(fd >= 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  H_CHECK(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
  return fd;
}

static void count_c2s(h_fwd *f, const uint8_t *d, size_t len) {
  int ind = scone_indication_present(d, len);
  if (f->count[H_S2C] == 0) {
    f->c2s_before_s2c++;
    f->c2s_before_s2c_ind += (uint64_t)ind;
  } else {
    f->c2s_after_s2c++;
    f->c2s_after_s2c_ind += (uint64_t)ind;
  }
}

static void relay(h_fwd *f, h_dir dir) {
  uint8_t buf[65536];
  int from_fd = dir == H_C2S ? f->cfd : f->sfd;
  for (;;) {
    struct sockaddr_in src;
    socklen_t sl = sizeof(src);
    /* Room is left for a hook that lengthens the datagram. */
    ssize_t n = recvfrom(from_fd, buf, sizeof(buf) - 512, 0,
                         (struct sockaddr *)&src, &sl);
    if (n < 0)
      return;
    size_t len = (size_t)n;
    if (dir == H_C2S) {
      f->client = src;
      f->have_client = 1;
      count_c2s(f, buf, len);
    }
    if (f->hook != NULL && f->hook(f, dir, buf, &len, sizeof(buf), f->arg))
      continue;
    f->count[dir]++;
    f->scone[dir] += (uint64_t)scone_packet_is_scone(buf, len);
    if (len > f->max_len[dir])
      f->max_len[dir] = len;
    if (dir == H_C2S)
      sendto(f->sfd, buf, len, 0, (struct sockaddr *)&f->server,
             sizeof(f->server));
    else if (f->have_client)
      sendto(f->cfd, buf, len, 0, (struct sockaddr *)&f->client,
             sizeof(f->client));
  }
}

static void *fwd_main(void *arg) {
  h_fwd *f = arg;
  while (!atomic_load(&f->stop)) {
    if (atomic_exchange(&f->rebind, 0)) {
      /* The server now sees the client at a new address: a NAT rebinding. */
      close(f->sfd);
      f->sfd = udp_bound();
      f->rebinds++;
    }
    struct pollfd p[2] = {{f->cfd, POLLIN, 0}, {f->sfd, POLLIN, 0}};
    if (poll(p, 2, 20) <= 0)
      continue;
    if (p[0].revents & POLLIN)
      relay(f, H_C2S);
    if (p[1].revents & POLLIN)
      relay(f, H_S2C);
  }
  return NULL;
}

void h_fwd_start(h_fwd *f, uint16_t server_port, h_fwd_hook hook, void *arg) {
  memset(f, 0, sizeof(*f));
  f->cfd = udp_bound();
  f->sfd = udp_bound();
  f->server.sin_family = AF_INET;
  f->server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  f->server.sin_port = htons(server_port);
  f->hook = hook;
  f->arg = arg;
  atomic_init(&f->stop, 0);
  atomic_init(&f->rebind, 0);
  H_CHECK(pthread_create(&f->th, NULL, fwd_main, f) == 0);
}

uint16_t h_fwd_port(const h_fwd *f) {
  struct sockaddr_in a;
  socklen_t l = sizeof(a);
  H_CHECK(getsockname(f->cfd, (struct sockaddr *)&a, &l) == 0);
  return ntohs(a.sin_port);
}

void h_fwd_stop(h_fwd *f) {
  atomic_store(&f->stop, 1);
  pthread_join(f->th, NULL);
  close(f->cfd);
  close(f->sfd);
}

void h_fwd_to_client(h_fwd *f, const uint8_t *data, size_t len) {
  if (f->have_client)
    sendto(f->cfd, data, len, 0, (struct sockaddr *)&f->client,
           sizeof(f->client));
}

/* ---------------------------------------------------------------- client */

static void client_advice(scone_quic_conn *conn, uint32_t path_id,
                          scone_dir dir, const scone_advice *adv,
                          void *user_data) {
  (void)conn;
  h_client *c = user_data;
  c->advice_events++;
  c->advice_signal = adv->signal;
  c->advice_bps = adv->bps;
  c->advice_path = path_id;
  c->advice_dir = dir;
}

static void client_event(scone_quic_conn *conn, const scone_app_qlog_ev *ev,
                         scone_tstamp now, void *user_data) {
  (void)conn;
  h_client *c = user_data;
  if (ev->type == SCONE_APP_QLOG_ADVICE_CHANGED) {
    c->changed_at = now;
    c->changed_expires_at = ev->expires_at;
  }
}

static void client_body(scone_quic_client *cl, uint32_t idx,
                        const uint8_t *data, size_t len, void *user_data) {
  (void)cl;
  (void)idx;
  h_client *c = user_data;
  for (size_t i = 0; i < len; i++)
    if (data[i] != (uint8_t)('a' + (c->body_offset + i) % 26))
      c->body_ok = 0;
  c->body_offset += len;
}

static void client_done(scone_quic_client *cl, const scone_quic_response *r,
                        void *user_data) {
  (void)cl;
  h_client *c = user_data;
  c->responses++;
  c->last_status = r->error != 0 ? -1 : r->status;
  c->last_body = r->body_bytes;
}

void h_client_start(h_client *c, uint16_t port,
                    const scone_quic_settings *settings, const char *qlog) {
  memset(c, 0, sizeof(*c));
  c->advice_signal = SCONE_SIGNAL_UNKNOWN;
  scone_quic_client_config cfg;
  scone_quic_client_config_default(&cfg);
  if (settings != NULL)
    cfg.quic = *settings;
  cfg.quic.qlog_path = qlog;
  char portstr[8];
  snprintf(portstr, sizeof(portstr), "%u", port);
  cfg.host = "127.0.0.1";
  cfg.port = portstr;
  cfg.insecure = 1;
  scone_quic_callbacks scb = {.advice_changed = client_advice,
                              .scone_event = client_event};
  scone_quic_client_callbacks hcb = {.body = client_body,
                                     .response_done = client_done};
  H_CHECK(scone_quic_client_new(&c->cl, &cfg, &scb, &hcb, c) == 0);
}

static int client_get_until(h_client *c, const char *path, scone_tstamp until) {
  c->body_ok = 1;
  c->body_offset = 0;
  c->last_status = 0;
  H_CHECK(scone_quic_client_get(c->cl, path) >= 0);
  return scone_quic_client_run(c->cl, until, 1);
}

int h_client_get(h_client *c, const char *path, scone_duration timeout) {
  return client_get_until(c, path, deadline(timeout));
}

int h_client_get_for(h_client *c, const char *path, scone_duration span) {
  return client_get_until(c, path, scone_quic_now() + span);
}

int h_client_idle(h_client *c, scone_duration d) {
  return scone_quic_client_run(c->cl, scone_quic_now() + d, 0);
}

void h_client_counters(h_client *c, scone_quic_counters *out) {
  scone_quic_conn_get_counters(scone_quic_client_conn(c->cl), out);
}

void h_client_free(h_client *c) {
  scone_quic_client_close(c->cl);
  scone_quic_client_del(c->cl);
  c->cl = NULL;
}
