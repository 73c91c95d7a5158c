#include "control.h"

#include "addr.h"
#include "render.h"
#include "units.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* A stalled or greedy client must not hold the endpoint. MHD's timeout
 * only fires after that long without a byte, so a client that sends one
 * byte now and then (slowloris) would hold its connection for ever: each
 * request also gets a total deadline, and a new connection finding every
 * slot taken pushes out the oldest one still waiting for its request.
 * MHD itself accepts a few more than SLOTS so that the new one gets in. */
#define CONN_TIMEOUT_S 5U
#define REQUEST_DEADLINE_MS 5000U
#define SLOTS 16U
#define MHD_LIMIT 64U
#define SWEEP_MS 200U
#define MAX_TOKEN 4096U

/* One accepted connection, from MHD's start notice to its close notice.
 * fd is only shut down (never closed) here, and only under mu, which the
 * close notice also takes before MHD closes the fd: no reused fd is hit. */
typedef struct ctl_slot {
  int used;
  int fd;
  uint64_t start_ms; /* of the request being read */
  int answered;      /* a response is queued: MHD owns the socket */
  int evicted;
} ctl_slot;

struct sconed_control {
  sconed_dp *dp;
  struct MHD_Daemon *d;
  char *unix_path; /* unlinked on stop */
  char *token;     /* bearer token, or NULL: none asked */
  size_t token_len;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int stopping, sweeper_on;
  pthread_t sweeper;
  ctl_slot slot[MHD_LIMIT];
};

static uint64_t now_ms(void) {
  return sconed_dp_now() / (SCONE_SECONDS / 1000);
}

/* Answers 408 on a connection whose request is late, then ends it: MHD
 * sees the end, closes and frees the slot. Called with mu held. */
static void evict(ctl_slot *s) {
  static const char r408[] =
      "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
      "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 49\r\n"
      "\r\nthe request was not complete within its deadline\n";
  _Static_assert(sizeof("the request was not complete within its "
                        "deadline\n") -
                         1 ==
                     49,
                 "Content-Length");
  if (!s->answered)
    (void)send(s->fd, r408, sizeof(r408) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
  shutdown(s->fd, SHUT_RDWR);
  s->evicted = 1;
}

static void *sweep(void *arg) {
  sconed_control *c = arg;
  pthread_mutex_lock(&c->mu);
  while (!c->stopping) {
    uint64_t t = now_ms();
    for (unsigned i = 0; i < MHD_LIMIT; i++) {
      ctl_slot *s = &c->slot[i];
      if (s->used && !s->evicted && !s->answered &&
          t - s->start_ms >= REQUEST_DEADLINE_MS)
        evict(s);
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += (long)SWEEP_MS * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&c->cv, &c->mu, &ts);
  }
  pthread_mutex_unlock(&c->mu);
  return NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn,
                          void **socket_context,
                          enum MHD_ConnectionNotificationCode toe) {
  sconed_control *c = cls;
  pthread_mutex_lock(&c->mu);
  if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
    ctl_slot *s = *socket_context;
    if (s)
      memset(s, 0, sizeof(*s));
    *socket_context = NULL;
    pthread_mutex_unlock(&c->mu);
    return;
  }
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  ctl_slot *mine = NULL, *oldest = NULL;
  unsigned waiting = 0;
  for (unsigned i = 0; i < MHD_LIMIT; i++) {
    ctl_slot *s = &c->slot[i];
    if (!s->used) {
      if (!mine)
        mine = s;
      continue;
    }
    if (s->evicted || s->answered)
      continue;
    waiting++;
    if (!oldest || s->start_ms < oldest->start_ms)
      oldest = s;
  }
  if (mine && ci) {
    *mine = (ctl_slot){1, ci->connect_fd, now_ms(), 0, 0};
    *socket_context = mine;
    if (waiting >= SLOTS && oldest)
      evict(oldest);
  }
  pthread_mutex_unlock(&c->mu);
}

/* The slot of the request being answered: its deadline no longer runs. */
static void mark(sconed_control *c, struct MHD_Connection *conn, int answered) {
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  if (!ci || !ci->socket_context)
    return;
  pthread_mutex_lock(&c->mu);
  ctl_slot *s = ci->socket_context;
  s->answered = answered;
  if (!answered)
    s->start_ms = now_ms(); /* a kept-alive connection's next request */
  pthread_mutex_unlock(&c->mu);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **state,
                         enum MHD_RequestTerminationCode toe) {
  (void)state;
  (void)toe;
  mark(cls, conn, 0);
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status,
                             const char *type, char *body, size_t len,
                             int owned) {
  struct MHD_Response *r = MHD_create_response_from_buffer(
      len, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
  if (!r) {
    if (owned)
      free(body);
    return MHD_NO;
  }
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  enum MHD_Result ret = MHD_queue_response(conn, status, r);
  MHD_destroy_response(r);
  return ret;
}

static enum MHD_Result text(struct MHD_Connection *conn, unsigned status,
                            const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum MHD_Result text(struct MHD_Connection *conn, unsigned status,
                            const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
  va_end(ap);
  size_t len = n < 0                          ? 0
               : (size_t)n >= sizeof(buf) - 1 ? sizeof(buf) - 2
                                              : (size_t)n;
  buf[len++] = '\n';
  return reply(conn, status, "text/plain; charset=utf-8", buf, len, 0);
}

static enum MHD_Result set_capacity(sconed_control *c,
                                    struct MHD_Connection *conn) {
  const char *name =
      MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "name");
  const char *bps_s =
      MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "bps");
  uint64_t bps;
  if (!name || !*name || !bps_s || sconed_parse_bps(bps_s, &bps) < 0)
    return text(conn, MHD_HTTP_BAD_REQUEST,
                "want /capacity?name=NAME&bps=RATE (e.g. 2000000 or 2M; at "
                "least 100k, or 0 for no ceiling)");
  sconed_dp_lock_ctl(c->dp);
  int r = sconed_engine_set_capacity(c->dp->engine, name, bps, sconed_dp_now());
  sconed_dp_unlock_ctl(c->dp);
  if (r == -2)
    return text(conn, MHD_HTTP_BAD_REQUEST,
                "capacity %s: from 100k to 1000G (1 Tbit/s), or 0 for no "
                "ceiling",
                name);
  if (r < 0)
    return text(conn, MHD_HTTP_NOT_FOUND, "no capacity named '%s'", name);
  sconed_dp_log("control: capacity %s set to %llu bit/s", name,
                (unsigned long long)bps);
  return text(conn, MHD_HTTP_OK, "capacity %s = %llu bit/s", name,
              (unsigned long long)bps);
}

static enum MHD_Result set_optin(sconed_control *c,
                                 struct MHD_Connection *conn) {
  const char *addr =
      MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "addr");
  const char *state =
      MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "state");
  uint8_t a[16];
  int family = 0;
  if (addr && inet_pton(AF_INET, addr, a) == 1)
    family = 4;
  else if (addr && inet_pton(AF_INET6, addr, a) == 1)
    family = 6;
  int in = state && (!strcmp(state, "in") || !strcmp(state, "yes"));
  int out = state && (!strcmp(state, "out") || !strcmp(state, "no"));
  if (!family || (!in && !out))
    return text(conn, MHD_HTTP_BAD_REQUEST,
                "want /optin?addr=ADDRESS&state=in|out");
  int r = sconed_dp_set_optin(c->dp, family, a, in);
  if (r == -1)
    return text(conn, MHD_HTTP_NOT_FOUND, "no subscriber entry holds %s",
                addr);
  if (r < 0)
    return text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
  /* The log keeps the count, not who: an address is an identifier. */
  if (r == 1)
    sconed_dp_log("control: a subscriber entry opted %s",
                  in ? "in" : "out");
  return text(conn, MHD_HTTP_OK, "%s", r == 1 ? "changed" : "unchanged");
}

static enum MHD_Result reload(sconed_control *c, struct MHD_Connection *conn) {
  char err[512];
  if (sconed_dp_reload(c->dp, err, sizeof(err)) < 0) {
    sconed_dp_log("control: reload failed, keeping the running config: %s",
                  err);
    return text(conn, MHD_HTTP_BAD_REQUEST, "%s", err);
  }
  sconed_dp_log("control: reloaded %s", c->dp->config_path);
  return text(conn, MHD_HTTP_OK, "reloaded %s", c->dp->config_path);
}

/* Equal in time independent of where the two differ. */
static int same_secret(const char *a, size_t alen, const char *b, size_t blen) {
  unsigned char d = alen != blen;
  for (size_t i = 0; i < blen; i++)
    d |= (unsigned char)(b[i] ^ (i < alen ? a[i] : 0));
  return d == 0;
}

static int authorized(const sconed_control *c, struct MHD_Connection *conn) {
  const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                              MHD_HTTP_HEADER_AUTHORIZATION);
  if (!h || strncasecmp(h, "Bearer ", 7) != 0)
    return 0;
  h += 7;
  while (*h == ' ')
    h++;
  return same_secret(h, strlen(h), c->token, c->token_len);
}

static enum MHD_Result unauthorized(struct MHD_Connection *conn) {
  static const char msg[] = "a bearer token is required "
                            "(Authorization: Bearer TOKEN)\n";
  struct MHD_Response *r = MHD_create_response_from_buffer(
      sizeof(msg) - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
  if (!r)
    return MHD_NO;
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                          "text/plain; charset=utf-8");
  MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                          "Bearer realm=\"sconed\"");
  enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_UNAUTHORIZED, r);
  MHD_destroy_response(r);
  return ret;
}

/* A body announced by length or by chunks. */
static int has_body(struct MHD_Connection *conn) {
  const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                               MHD_HTTP_HEADER_CONTENT_LENGTH);
  const char *te = MHD_lookup_connection_value(
      conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
  if (te)
    return 1;
  if (!cl)
    return 0;
  while (*cl == ' ' || *cl == '0')
    cl++;
  return *cl != 0;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
                              const char *url, const char *method,
                              const char *version, const char *upload,
                              size_t *upload_size, void **state) {
  (void)version;
  (void)upload;
  (void)upload_size;
  sconed_control *c = cls;
  /* MHD calls once the headers are in: everything is answered then, so
   * no body (none of ours takes one) is ever read. */
  (void)state;
  mark(c, conn, 1);
  if (c->token && !authorized(c, conn))
    return unauthorized(conn);
  if (has_body(conn))
    return text(conn, MHD_HTTP_CONTENT_TOO_LARGE,
                "no request here takes a body");
  int get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
  size_t len = 0;
  if (strcmp(url, "/metrics") == 0 && get) {
    char *body = sconed_render_metrics(c->dp, &len);
    return body
               ? reply(conn, MHD_HTTP_OK,
                       "text/plain; version=0.0.4; charset=utf-8", body, len, 1)
               : text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
  }
  if (strcmp(url, "/state") == 0 && get) {
    char *body = sconed_render_state(c->dp, &len);
    return body ? reply(conn, MHD_HTTP_OK, "application/json", body, len, 1)
                : text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
  }
  if (strcmp(url, "/capacity") == 0 && post)
    return set_capacity(c, conn);
  if (strcmp(url, "/reload") == 0 && post)
    return reload(c, conn);
  if (strcmp(url, "/optin") == 0 && post)
    return set_optin(c, conn);
  if (!strcmp(url, "/metrics") || !strcmp(url, "/state") ||
      !strcmp(url, "/capacity") || !strcmp(url, "/reload") ||
      !strcmp(url, "/optin"))
    return text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
  return text(conn, MHD_HTTP_NOT_FOUND,
              "GET /metrics, GET /state, POST /capacity?name=X&bps=N, "
              "POST /reload, POST /optin?addr=A&state=in|out");
}

static int unix_listener(sconed_control *c, const char *path) {
  struct sockaddr_un sun = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof(sun.sun_path)) {
    sconed_dp_log("control: socket path too long: %s", path);
    return -1;
  }
  strcpy(sun.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  /* A stale socket from an earlier run goes; anything else at the path
   * (a typo naming the config file, say) is the operator's and stays. */
  struct stat st;
  if (lstat(path, &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      sconed_dp_log("control: %s exists and is not a socket", path);
      close(fd);
      return -1;
    }
    unlink(path);
  }
  if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
      listen(fd, 16) < 0) {
    sconed_dp_log("control: cannot listen on %s: %s", path, strerror(errno));
    close(fd);
    return -1;
  }
  c->unix_path = strdup(path);
  return fd;
}

/* The token file's first line, without its line end; refused when empty,
 * too long or readable by everyone (then it guards nothing). */
static int load_token(sconed_control *c, const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    sconed_dp_log("control: token file %s: %s", path, strerror(errno));
    if (fd >= 0)
      close(fd);
    return -1;
  }
  if (st.st_mode & S_IROTH) {
    sconed_dp_log("control: token file %s is readable by everyone "
                  "(chmod o-r)",
                  path);
    close(fd);
    return -1;
  }
  char buf[MAX_TOKEN + 2];
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n < 0 || (size_t)n > MAX_TOKEN) {
    sconed_dp_log("control: token file %s: %s", path,
                  n < 0 ? strerror(errno) : "longer than 4096 bytes");
    return -1;
  }
  buf[n] = 0;
  buf[strcspn(buf, "\r\n")] = 0;
  size_t len = strlen(buf);
  for (size_t i = 0; i < len; i++)
    if (buf[i] <= ' ' || buf[i] > '~') {
      len = 0;
      break;
    }
  if (len == 0) {
    sconed_dp_log("control: token file %s: want one line of printable "
                  "characters, no spaces",
                  path);
    return -1;
  }
  c->token = strdup(buf);
  c->token_len = len;
  memset(buf, 0, sizeof(buf));
  return c->token ? 0 : -1;
}

static struct MHD_Daemon *start_daemon(sconed_control *c, unsigned flags,
                                       uint16_t port, int listen_fd,
                                       const struct sockaddr_storage *ss) {
  flags |= MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
  return MHD_start_daemon(
      flags, port, NULL, NULL, handle, c, MHD_OPTION_LISTEN_SOCKET,
      listen_fd >= 0 ? listen_fd : MHD_INVALID_SOCKET, MHD_OPTION_SOCK_ADDR,
      listen_fd >= 0 ? NULL : ss, MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT_S,
      MHD_OPTION_CONNECTION_LIMIT, MHD_LIMIT, MHD_OPTION_NOTIFY_CONNECTION,
      on_connection, c, MHD_OPTION_NOTIFY_COMPLETED, on_completed, c,
      MHD_OPTION_END);
}

sconed_control *sconed_control_start(sconed_dp *dp, const char *spec,
                                     int allow_any, const char *token_file) {
  sconed_control *c = calloc(1, sizeof(*c));
  if (!c)
    return NULL;
  c->dp = dp;
  pthread_mutex_init(&c->mu, NULL);
  pthread_cond_init(&c->cv, NULL);
  if (token_file && load_token(c, token_file) < 0) {
    sconed_control_stop(c);
    return NULL;
  }
  if (strchr(spec, '/')) {
    int fd = unix_listener(c, spec);
    if (fd >= 0)
      c->d = start_daemon(c, 0, 0, fd, NULL);
    if (fd >= 0 && !c->d)
      close(fd);
  } else {
    sconed_addr a;
    char err[256];
    if (sconed_addr_parse(spec, &a, err, sizeof(err)) < 0) {
      sconed_dp_log("control: %s", err);
    } else if (!allow_any && !sconed_addr_is_loopback(&a)) {
      sconed_dp_log("control: %s is not a loopback address (--control-any "
                    "allows it)",
                    spec);
    } else {
      c->d = start_daemon(c, a.ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0,
                          sconed_addr_port(&a), -1, &a.ss);
    }
  }
  if (c->d && pthread_create(&c->sweeper, NULL, sweep, c) == 0)
    c->sweeper_on = 1;
  if (!c->sweeper_on) {
    sconed_dp_log("control: cannot start on %s", spec);
    sconed_control_stop(c);
    return NULL;
  }
  sconed_dp_log("control: listening on %s%s", spec,
                c->token ? " (bearer token required)" : "");
  return c;
}

void sconed_control_stop(sconed_control *c) {
  if (!c)
    return;
  if (c->sweeper_on) {
    pthread_mutex_lock(&c->mu);
    c->stopping = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->sweeper, NULL);
  }
  if (c->d)
    MHD_stop_daemon(c->d);
  if (c->unix_path)
    unlink(c->unix_path);
  if (c->token)
    memset(c->token, 0, c->token_len);
  free(c->token);
  pthread_mutex_destroy(&c->mu);
  pthread_cond_destroy(&c->cv);
  free(c->unix_path);
  free(c);
}
