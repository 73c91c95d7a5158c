#include "control.h"

#include "addr.h"
#include "render.h"
#include "units.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* A stalled or greedy client must not hold the endpoint. */
#define CONN_TIMEOUT_S 10U
#define CONN_LIMIT 16U

struct sconed_control {
  sconed_dp *dp;
  struct MHD_Daemon *d;
  char *unix_path; /* unlinked on stop */
};

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
    return text(conn, MHD_HTTP_NOT_FOUND, "no subscriber entry holds %s", addr);
  if (r < 0)
    return text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
  /* The log keeps the count, not who: an address is an identifier. */
  if (r == 1)
    sconed_dp_log("control: a subscriber entry opted %s", in ? "in" : "out");
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

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
                              const char *url, const char *method,
                              const char *version, const char *upload,
                              size_t *upload_size, void **state) {
  (void)version;
  (void)upload;
  sconed_control *c = cls;
  /* MHD calls once for the headers, then for any body, then to answer:
   * the first call only marks the request as seen, and bodies (none of
   * ours takes one) are skipped. */
  static int seen;
  if (!*state) {
    *state = &seen;
    return MHD_YES;
  }
  if (*upload_size) {
    *upload_size = 0;
    return MHD_YES;
  }
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

sconed_control *sconed_control_start(sconed_dp *dp, const char *spec,
                                     int allow_any) {
  sconed_control *c = calloc(1, sizeof(*c));
  if (!c)
    return NULL;
  c->dp = dp;
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
  if (strchr(spec, '/')) {
    int fd = unix_listener(c, spec);
    if (fd >= 0)
      c->d = MHD_start_daemon(
          flags, 0, NULL, NULL, handle, c, MHD_OPTION_LISTEN_SOCKET, fd,
          MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT_S,
          MHD_OPTION_CONNECTION_LIMIT, CONN_LIMIT, MHD_OPTION_END);
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
      if (a.ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
      c->d = MHD_start_daemon(flags, sconed_addr_port(&a), NULL, NULL, handle,
                              c, MHD_OPTION_SOCK_ADDR, &a.ss,
                              MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT_S,
                              MHD_OPTION_CONNECTION_LIMIT, CONN_LIMIT,
                              MHD_OPTION_END);
    }
  }
  if (!c->d) {
    sconed_dp_log("control: cannot start on %s", spec);
    sconed_control_stop(c);
    return NULL;
  }
  sconed_dp_log("control: listening on %s", spec);
  return c;
}

void sconed_control_stop(sconed_control *c) {
  if (!c)
    return;
  if (c->d)
    MHD_stop_daemon(c->d);
  if (c->unix_path)
    unlink(c->unix_path);
  free(c->unix_path);
  free(c);
}
