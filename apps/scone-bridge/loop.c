/*
 * The bridge's one thread: libmicrohttpd in external-epoll mode (its
 * epoll descriptor is one more descriptor in our poll()) beside the UDP
 * sockets of the HTTP/3 connections. Each turn processes the connections
 * first, whose callbacks resume the HTTP/1.1 requests they feed, then lets
 * libmicrohttpd write those out.
 */
#include "bridge.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define MAX_POLL 256

/* libmicrohttpd hands the request target over as received (before it
 * unescapes it and splits off the query), which is what is forwarded. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c) {
  bridge *b = cls;
  breq *r = calloc(1, sizeof(*r));
  if (r == NULL)
    return NULL;
  size_t n = strlen(uri);
  r->target = malloc(n + 1);
  if (r->target == NULL) {
    free(r);
    return NULL;
  }
  memcpy(r->target, uri, n + 1);
  r->b = b;
  r->conn = c;
  r->next_all = b->all;
  b->all = r;
  return r;
}

static void log_request(bridge *b, breq *r, const char *how) {
  if (!b->o.access_log)
    return;
  printf("%s %s %d %llu bytes%s%s\n", r->method, r->target, r->status,
         (unsigned long long)r->sent, how[0] != '\0' ? " " : "", how);
  fflush(stdout);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  (void)c;
  bridge *b = cls;
  breq *r = *con_cls;
  if (r == NULL)
    return;
  if (r->via != NULL)
    log_request(b, r,
                toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? ""
                : r->failed                                ? "(origin failed)"
                            : "(client went away)");
  bridge_request_done(b, r);
  *con_cls = NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls) {
  (void)url;
  (void)version;
  (void)upload;
  bridge *b = cls;
  breq *r = *con_cls;
  if (r == NULL)
    return MHD_NO;
  if (*upload_size > 0) {
    /* A body: nothing forwards one (refused below); drain it. */
    *upload_size = 0;
    return MHD_YES;
  }
  if (r->state != BREQ_NEW)
    return bridge_resume_answer(b, r);
  snprintf(r->method, sizeof(r->method), "%s", method);
  if (strlen(method) >= sizeof(r->method))
    return bridge_text(c, MHD_HTTP_NOT_IMPLEMENTED, "unknown method");
  if (strcmp(method, "CONNECT") == 0)
    return bridge_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
                       "CONNECT is not supported: name the origin with "
                       "/o/HOST:PORT/ or an absolute http:// URL");
  route rt;
  int rv = route_parse(&rt, r->target, strlen(r->target));
  if (rv != ROUTE_OK) {
    r->state = BREQ_ANSWERED;
    return bridge_text(c,
                       rv == ROUTE_ERR_TOO_LONG    ? MHD_HTTP_URI_TOO_LONG
                       : rv == ROUTE_ERR_AUTHORITY ? MHD_HTTP_METHOD_NOT_ALLOWED
                                                   : MHD_HTTP_BAD_REQUEST,
                       "%s", route_strerror(rv));
  }
  if (rt.kind == ROUTE_LOCAL)
    return bridge_local(b, r, &rt);
  enum MHD_Result ok = bridge_forward(b, r, &rt);
  if (r->state == BREQ_NEW)
    r->state = BREQ_ANSWERED;
  return ok;
}

/* ADDR:PORT or [V6]:PORT into a socket address. */
static int parse_listen(const char *s, struct sockaddr_storage *ss,
                        socklen_t *sl, int *loopback) {
  char host[64];
  const char *port;
  if (s[0] == '[') {
    const char *e = strchr(s, ']');
    if (e == NULL || e[1] != ':' || (size_t)(e - s - 1) >= sizeof(host))
      return -1;
    memcpy(host, s + 1, (size_t)(e - s - 1));
    host[e - s - 1] = '\0';
    port = e + 2;
  } else {
    const char *e = strrchr(s, ':');
    if (e == NULL || (size_t)(e - s) >= sizeof(host))
      return -1;
    memcpy(host, s, (size_t)(e - s));
    host[e - s] = '\0';
    port = e + 1;
  }
  char *end;
  unsigned long p = strtoul(port, &end, 10);
  if (port[0] == '\0' || *end != '\0' || p > 65535)
    return -1;
  memset(ss, 0, sizeof(*ss));
  struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)p);
    *sl = sizeof(*a4);
    *loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
    return 0;
  }
  if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)p);
    *sl = sizeof(*a6);
    *loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
    return 0;
  }
  return -1;
}

int bridge_start(bridge *b) {
  struct sockaddr_storage ss;
  socklen_t sl;
  int loopback;
  if (parse_listen(b->o.listen, &ss, &sl, &loopback) != 0) {
    fprintf(stderr, "scone-bridge: --listen %s: want ADDR:PORT or [V6]:PORT\n",
            b->o.listen);
    return -1;
  }
  if (!loopback && !b->o.allow_remote) {
    fprintf(stderr,
            "scone-bridge: --listen %s is not a loopback address; the "
            "bridge would forward for anyone who reaches it (add "
            "--allow-remote if that is meant)\n",
            b->o.listen);
    return -1;
  }
  unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                   MHD_USE_ERROR_LOG |
                   (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
  b->d = MHD_start_daemon(
      flags, 0, NULL, NULL, on_request, b, MHD_OPTION_SOCK_ADDR,
      (struct sockaddr *)&ss, MHD_OPTION_URI_LOG_CALLBACK, on_uri, b,
      MHD_OPTION_NOTIFY_COMPLETED, on_completed, b, MHD_OPTION_CONNECTION_LIMIT,
      b->o.max_clients,
      /* The whole request head must fit: a larger one is answered 431
       * (or 414 for the target) by libmicrohttpd. */
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
      /* A client that sends nothing for this long is dropped. */
      MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
  if (b->d == NULL) {
    fprintf(stderr, "scone-bridge: cannot listen on %s: %s\n", b->o.listen,
            strerror(errno));
    return -1;
  }
  const union MHD_DaemonInfo *li =
      MHD_get_daemon_info(b->d, MHD_DAEMON_INFO_LISTEN_FD);
  struct sockaddr_storage got;
  socklen_t gl = sizeof(got);
  if (li != NULL &&
      getsockname(li->listen_fd, (struct sockaddr *)&got, &gl) == 0)
    b->port = ntohs(got.ss_family == AF_INET6
                        ? ((struct sockaddr_in6 *)&got)->sin6_port
                        : ((struct sockaddr_in *)&got)->sin_port);
  return 0;
}

void bridge_run(bridge *b) {
  const union MHD_DaemonInfo *ei =
      MHD_get_daemon_info(b->d, MHD_DAEMON_INFO_EPOLL_FD);
  int efd = ei != NULL ? ei->epoll_fd : -1;
  struct pollfd pf[MAX_POLL];
  while (!b->stop) {
    scone_tstamp now = scone_quic_now();
    scone_tstamp wake = bridge_next_wake(b, now);
    MHD_UNSIGNED_LONG_LONG mt;
    if (MHD_get_timeout(b->d, &mt) == MHD_YES &&
        now + mt * SCONE_MILLISECONDS < wake)
      wake = now + mt * SCONE_MILLISECONDS;
    int ms = 0;
    if (wake > now)
      ms = (int)((wake - now + SCONE_MILLISECONDS - 1) / SCONE_MILLISECONDS);
    nfds_t n = 0;
    pf[n++] = (struct pollfd){efd, POLLIN, 0};
    for (upstream *u = b->ups; u != NULL && n < MAX_POLL; u = u->next)
      if (u->cl != NULL)
        pf[n++] = (struct pollfd){scone_quic_client_fd(u->cl), POLLIN, 0};
    if (poll(pf, n, ms) < 0 && errno != EINTR)
      break;
    now = scone_quic_now();
    bridge_upstreams_step(b, now);
    bridge_check_deadlines(b, now);
    bridge_views_tick(b, now);
    MHD_run(b->d);
  }
}

void bridge_free(bridge *b) {
  if (b->d != NULL) {
    /* Suspended requests must be resumed before the daemon stops. */
    for (breq *r = b->all; r != NULL; r = r->next_all) {
      r->eof = r->failed = 1;
      if (r->state == BREQ_WAITING) {
        r->state = BREQ_FAILED;
        r->error = SCONE_QUIC_ERR_CLOSED;
      }
      breq_resume(r);
    }
    MHD_run(b->d);
    MHD_stop_daemon(b->d);
    b->d = NULL;
  }
  bridge_upstreams_free(b);
}
