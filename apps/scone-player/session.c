/*
 * scone-player's event loop: one poll() on the client's socket, woken by
 * the client's timers and the player core's wakeup. The core runs on the
 * client's clock (scone_quic_now), so its record and the advice share one
 * timeline.
 */
#include "session.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

/* The MPD parser refuses more; one byte past it shows a document too
 * large. */
#define MPD_MAX (1u << 20)
#define QOE_MAX (256 * 1024)

typedef struct session {
  const session_opts *o;
  session_result *res;
  scone_quic_client *cl;
  scone_video_player *p;
  char origin[600]; /* "https://host:port", what the connection reaches */
  char mpd_url[SCONE_VIDEO_URL_MAX + 1]; /* origin and path */
  /* The MPD while it arrives. */
  char *mpd;
  size_t mpd_len;
  int mpd_status, mpd_done, mpd_error;
  /* The one request in flight for the core: client index and core id. */
  int active;
  uint32_t index;
  uint64_t id;
  /* Advice that came before the core existed. */
  int have_advice;
  scone_advice advice;
} session;

static void why(session *s, int err, const char *fmt, const char *detail) {
  if (s->res->error == 0) {
    s->res->error = err;
    snprintf(s->res->why, sizeof(s->res->why), fmt, detail);
  }
}

static double rate_m(uint64_t bps) {
  return (double)bps / 1e6;
}

/* ------------------------------------------------------- client events */

static void on_advice(scone_quic_conn *conn, uint32_t path_id, scone_dir dir,
                      const scone_advice *adv, void *ud) {
  (void)conn;
  (void)dir;
  session *s = ud;
  if (path_id != 0)
    return;
  scone_tstamp now = scone_quic_now();
  if (s->o->live != NULL) {
    if (adv->signal == SCONE_SIGNAL_UNKNOWN)
      fprintf(s->o->live, "advice: none (expired)\n");
    else
      fprintf(s->o->live, "advice: %.2fM (signal %u)\n", rate_m(adv->bps),
              adv->signal);
  }
  s->advice = *adv;
  s->have_advice = 1;
  if (s->p != NULL)
    scone_video_player_on_advice(s->p, now, adv);
}

static int is_current(const session *s, uint32_t index) {
  return s->active && s->index == index;
}

static void on_headers(scone_quic_client *cl, uint32_t index, int status,
                       const scone_quic_header *h, size_t n, void *ud) {
  (void)cl;
  session *s = ud;
  if (s->p == NULL) {
    s->mpd_status = status;
    return;
  }
  if (!is_current(s, index))
    return;
  const char *cmsd = NULL;
  for (size_t i = 0; i < n; i++)
    if (strcmp(h[i].name, "cmsd-dynamic") == 0)
      cmsd = h[i].value;
  scone_video_player_on_headers(s->p, scone_quic_now(), s->id, status, cmsd,
                                cmsd != NULL ? strlen(cmsd) : 0);
}

static void on_body(scone_quic_client *cl, uint32_t index, const uint8_t *data,
                    size_t len, void *ud) {
  (void)cl;
  session *s = ud;
  if (s->p == NULL) {
    /* The MPD: kept up to one byte past what the parser takes. */
    size_t room = MPD_MAX + 1 - s->mpd_len;
    size_t take = len < room ? len : room;
    memcpy(s->mpd + s->mpd_len, data, take);
    s->mpd_len += take;
    return;
  }
  if (is_current(s, index))
    scone_video_player_on_data(s->p, scone_quic_now(), s->id, len);
}

static void on_done(scone_quic_client *cl, const scone_quic_response *r,
                    void *ud) {
  (void)cl;
  session *s = ud;
  if (s->p == NULL) {
    s->mpd_done = 1;
    s->mpd_error = r->error;
    return;
  }
  if (!is_current(s, r->request_index))
    return;
  s->active = 0;
  scone_video_player_on_done(s->p, scone_quic_now(), s->id, r->error != 0);
}

static void on_segment(const scone_video_segment_report *r, void *ud) {
  session *s = ud;
  if (r->skipped)
    s->res->missing++;
  if (r->failed)
    s->res->failed++;
  if (s->o->live == NULL)
    return;
  char line[256];
  if (scone_video_segment_report_line(line, sizeof(line), r) > 0)
    fprintf(s->o->live, "%s\n", line);
  fflush(s->o->live);
}

/* ------------------------------------------------------------- requests */

/* The CMCD of the MPD request, as the core sends it for segments:
 * object type m, the session's keys, startup. */
static int mpd_request(session *s) {
  const scone_video_player_settings *ps = &s->o->ps;
  scone_app_cmcd_data d;
  memset(&d, 0, sizeof(d));
  d.present = SCONE_APP_CMCD_OT | SCONE_APP_CMCD_SF | SCONE_APP_CMCD_ST |
              SCONE_APP_CMCD_SID | SCONE_APP_CMCD_SU;
  d.ot = SCONE_APP_OT_M;
  d.sf = SCONE_APP_SF_D;
  d.st = SCONE_APP_ST_V;
  if (ps->session_id[0] != '\0')
    snprintf(d.sid, sizeof(d.sid), "%s", ps->session_id);
  else
    scone_video_session_id(ps->seed, d.sid);
  static const scone_app_cmcd_shard shards[] = {
      SCONE_APP_CMCD_REQUEST, SCONE_APP_CMCD_OBJECT, SCONE_APP_CMCD_STATUS,
      SCONE_APP_CMCD_SESSION};
  char vals[4][256], path[8192];
  scone_quic_header h[4];
  size_t nh = 0;
  snprintf(path, sizeof(path), "%s", s->o->path);
  if (ps->cmcd == SCONE_VIDEO_CMCD_HEADERS) {
    for (size_t i = 0; i < 4; i++)
      if (scone_app_cmcd_encode(vals[i], sizeof(vals[i]), &d, shards[i]) > 0) {
        h[nh].name = scone_app_cmcd_header_name(shards[i]);
        h[nh].value = vals[i];
        nh++;
      }
  } else if (ps->cmcd == SCONE_VIDEO_CMCD_QUERY) {
    size_t n = strlen(path);
    path[n++] = strchr(path, '?') != NULL ? '&' : '?';
    if (scone_app_cmcd_encode_query(path + n, sizeof(path) - n, &d) <= 0)
      path[n - 1] = '\0';
  }
  scone_quic_request req;
  scone_quic_request_default(&req);
  req.path = path;
  req.headers = h;
  req.nheaders = nh;
  return scone_quic_client_request(s->cl, &req);
}

/* A request of the core: on this connection when its URL is on our
 * origin; anything else is answered here as a misdirected request (the
 * core counts it missing), since one connection reaches one server. */
static void send_request(session *s, const scone_video_request *vr,
                         scone_tstamp now) {
  size_t ol = strlen(s->origin);
  int ours = strncmp(vr->url, s->origin, ol) == 0 &&
             (vr->url[ol] == '/' || vr->url[ol] == '?');
  int idx = SCONE_ERR_INVALID_ARGUMENT;
  if (ours) {
    scone_quic_header h[5];
    size_t nh = 0;
    for (size_t i = 0; i < vr->nheaders; i++) {
      h[nh].name = vr->headers[i].name;
      h[nh].value = vr->headers[i].value;
      nh++;
    }
    char range[48];
    if (vr->has_range) {
      snprintf(range, sizeof(range), "bytes=%llu-",
               (unsigned long long)vr->range_first);
      h[nh].name = "range";
      h[nh].value = range;
      nh++;
    }
    scone_quic_request req;
    scone_quic_request_default(&req);
    req.path = vr->path;
    req.headers = h;
    req.nheaders = nh;
    idx = scone_quic_client_request(s->cl, &req);
  }
  if (idx < 0) {
    fprintf(stderr, "scone-player: not fetched (%s): %s\n",
            ours ? scone_quic_strerror(idx) : "another origin", vr->url);
    scone_video_player_on_headers(s->p, now, vr->id, 421, NULL, 0);
    scone_video_player_on_done(s->p, now, vr->id, 0);
    return;
  }
  s->active = 1;
  s->index = (uint32_t)idx;
  s->id = vr->id;
}

/* Everything the core wants done now; 1 once it is done. */
static int drive(session *s) {
  scone_video_action a;
  for (;;) {
    scone_tstamp now = scone_quic_now();
    switch (scone_video_player_poll(s->p, now, &a)) {
    case SCONE_VIDEO_ACTION_NONE:
      return 0;
    case SCONE_VIDEO_ACTION_REQUEST:
      send_request(s, &a.req, now);
      break;
    case SCONE_VIDEO_ACTION_CANCEL:
      if (s->active && s->id == a.cancel_id) {
        scone_quic_client_cancel(s->cl, s->index);
        s->active = 0;
      }
      break;
    case SCONE_VIDEO_ACTION_DONE:
      if (a.error != 0)
        why(s, a.error, "%s", scone_video_strerror(a.error));
      return 1;
    }
  }
}

/* ------------------------------------------------------------ the loop */

/* Waits for the socket or until wake, then lets the client work. Returns
 * the client's verdict (0 while the connection lives). */
static int step(session *s, scone_tstamp wake) {
  scone_tstamp now = scone_quic_now();
  scone_tstamp t = scone_quic_client_timeout(s->cl);
  if (t < wake)
    wake = t;
  int ms = 0;
  if (wake > now) {
    scone_duration d = wake - now;
    /* Rounded up: waking a hair early only spins. */
    ms = d >= 1000 * SCONE_MILLISECONDS
             ? 1000
             : (int)((d + SCONE_MILLISECONDS - 1) / SCONE_MILLISECONDS);
  }
  struct pollfd p = {scone_quic_client_fd(s->cl), POLLIN, 0};
  if (poll(&p, 1, ms) < 0 && errno != EINTR)
    return SCONE_QUIC_ERR_SOCKET;
  return scone_quic_client_process(s->cl, scone_quic_now());
}

static const char *ended_how(session *s, int rv, char *buf, size_t len) {
  scone_quic_conn *c = scone_quic_client_conn(s->cl);
  int remote, app;
  uint64_t code;
  if (rv == SCONE_QUIC_ERR_UNREACHABLE)
    snprintf(buf, len, "nothing answers at %s:%s", s->o->host, s->o->port);
  else if (scone_quic_conn_timed_out(c))
    snprintf(buf, len, "no answer from %s:%s (timed out)", s->o->host,
             s->o->port);
  else if (scone_quic_conn_get_close_error(c, &remote, &app, &code) == 0)
    snprintf(buf, len, "closed by %s with %s error 0x%llx",
             remote ? "the server" : "us", app ? "HTTP/3" : "QUIC",
             (unsigned long long)code);
  else
    snprintf(buf, len, "%s", scone_quic_strerror(rv));
  return buf;
}

static int fetch_mpd(session *s) {
  int idx = mpd_request(s);
  if (idx < 0) {
    why(s, idx, "MPD request: %s", scone_quic_strerror(idx));
    return idx;
  }
  scone_tstamp deadline = scone_quic_now() + s->o->connect_timeout;
  while (!s->mpd_done) {
    if (scone_quic_now() >= deadline) {
      why(s, SCONE_QUIC_ERR_TIMEOUT, "no MPD from %s within the timeout",
          s->o->url);
      return SCONE_QUIC_ERR_TIMEOUT;
    }
    int rv = step(s, deadline);
    if (rv != 0 && !s->mpd_done) {
      char buf[256];
      why(s, rv, "cannot fetch the MPD: %s",
          ended_how(s, rv, buf, sizeof(buf)));
      return rv;
    }
  }
  if (s->mpd_error == SCONE_QUIC_ERR_CLOSED ||
      s->mpd_error == SCONE_QUIC_ERR_UNREACHABLE) {
    char buf[256];
    why(s, s->mpd_error, "cannot fetch the MPD: %s",
        ended_how(s, s->mpd_error, buf, sizeof(buf)));
    return s->mpd_error;
  }
  if (s->mpd_error != 0) {
    why(s, s->mpd_error, "MPD transfer failed: %s",
        scone_quic_strerror(s->mpd_error));
    return s->mpd_error;
  }
  if (s->mpd_status != 200) {
    char st[16];
    snprintf(st, sizeof(st), "%d", s->mpd_status);
    why(s, SCONE_VIDEO_ERR_NO_MEDIA, "MPD: HTTP status %s", st);
    return SCONE_VIDEO_ERR_NO_MEDIA;
  }
  return 0;
}

static int parse_mpd(session *s, scone_video_mpd *m) {
  scone_video_mpd_error e;
  memset(&e, 0, sizeof(e));
  int rv = scone_video_mpd_parse(m, s->mpd, s->mpd_len, NULL, &e);
  if (rv != 0) {
    char detail[400];
    if (e.line > 0)
      snprintf(detail, sizeof(detail), "line %d: %s (%s)", e.line, e.what,
               scone_video_strerror(rv));
    else
      snprintf(detail, sizeof(detail), "%s (%s)", e.what,
               scone_video_strerror(rv));
    why(s, rv, "MPD refused: %s", detail);
  }
  return rv;
}

static void record(session *s) {
  s->res->qoe_json = malloc(QOE_MAX);
  if (s->res->qoe_json != NULL &&
      scone_video_player_qoe_json(s->p, scone_quic_now(), s->res->qoe_json,
                                  QOE_MAX) < 0) {
    free(s->res->qoe_json);
    s->res->qoe_json = NULL;
  }
}

static int play(session *s, scone_video_mpd *m) {
  scone_video_player_callbacks cb = {on_segment};
  scone_tstamp now = scone_quic_now();
  int rv = scone_video_player_new(&s->p, m, s->mpd_url, &s->o->ps, &cb, s, now);
  if (rv != 0) {
    why(s, rv, "cannot play: %s", scone_video_strerror(rv));
    return rv;
  }
  scone_video_player_note_bytes(s->p, now, s->mpd_len);
  if (s->have_advice)
    scone_video_player_on_advice(s->p, now, &s->advice);
  int conn_rv = 0;
  while (!drive(s)) {
    if (conn_rv == 0) {
      conn_rv = step(s, scone_video_player_wakeup(s->p));
      if (conn_rv != 0) {
        char buf[256];
        why(s, SCONE_VIDEO_ERR_CONNECTION, "connection lost: %s",
            ended_how(s, conn_rv, buf, sizeof(buf)));
        scone_video_player_abort(s->p, scone_quic_now(),
                                 SCONE_VIDEO_ERR_CONNECTION);
      }
    }
  }
  record(s);
  return s->res->error;
}

int session_run(const session_opts *o, session_result *r) {
  memset(r, 0, sizeof(*r));
  session s;
  memset(&s, 0, sizeof(s));
  s.o = o;
  s.res = r;
  int v6 = strchr(o->host, ':') != NULL;
  snprintf(s.origin, sizeof(s.origin), v6 ? "https://[%s]:%s" : "https://%s:%s",
           o->host, o->port);
  if ((size_t)snprintf(s.mpd_url, sizeof(s.mpd_url), "%s%s", s.origin,
                       o->path) >= sizeof(s.mpd_url)) {
    why(&s, SCONE_ERR_INVALID_ARGUMENT, "%s", "the MPD URL is too long");
    return r->error;
  }
  s.mpd = malloc(MPD_MAX + 1);
  scone_video_mpd *m = malloc(sizeof(*m));
  if (s.mpd == NULL || m == NULL) {
    free(s.mpd);
    free(m);
    why(&s, SCONE_ERR_NOBUF, "%s", "out of memory");
    return r->error;
  }
  scone_quic_client_config cfg;
  scone_quic_client_config_default(&cfg);
  cfg.host = o->host;
  cfg.port = o->port;
  cfg.insecure = o->insecure;
  cfg.ca_file = o->ca_file;
  cfg.sni = o->sni;
  cfg.quic.qlog_path = o->qlog;
  cfg.quic.scone_capable = o->scone_capable;
  cfg.quic.flow_type = "video";
  scone_quic_callbacks scb = {.advice_changed = on_advice};
  scone_quic_client_callbacks hcb = {
      .body = on_body, .response_done = on_done, .headers = on_headers};
  int rv = scone_quic_client_new(&s.cl, &cfg, &scb, &hcb, &s);
  if (rv != 0)
    why(&s, rv, "cannot connect: %s", scone_quic_strerror(rv));
  else if ((rv = fetch_mpd(&s)) == 0 && (rv = parse_mpd(&s, m)) == 0)
    rv = play(&s, m);
  if (s.cl != NULL) {
    scone_quic_client_close(s.cl);
    scone_quic_client_del(s.cl);
  }
  scone_video_player_del(s.p);
  free(s.mpd);
  free(m);
  return rv != 0 ? rv : r->error;
}

void session_result_free(session_result *r) {
  free(r->qoe_json);
  r->qoe_json = NULL;
}
