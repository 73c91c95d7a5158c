/*
 * scone-bridge: a local HTTP/1.1 proxy that forwards over HTTP/3 with
 * SCONE, so that a browser's unmodified player gets the advice: as
 * CMSD-Dynamic mb on every response, and as a Network-Information-like
 * view under /scone/ (docs/bridge.md).
 */
#include "args.h"
#include "bridge.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_LISTEN "127.0.0.1:8480"

static bridge *g_bridge;

static void on_signal(int sig) {
  (void)sig;
  if (g_bridge != NULL)
    g_bridge->stop = 1;
}

static void usage(FILE *f) {
  fprintf(
      f,
      "usage: scone-bridge [options]\n"
      "  --listen ADDR:PORT    HTTP/1.1 address (default " DEFAULT_LISTEN ";\n"
      "                        [::1]:PORT for IPv6, port 0 picks one)\n"
      "  --allow-remote        allow a --listen address other than loopback\n"
      "  --upstream URL        the origin of requests that name none\n"
      "                        (https://HOST[:PORT])\n"
      "  --allow HOST[:PORT]   also forward to this origin (repeatable; '*':\n"
      "                        any origin)\n"
      "  --margin PCT          overhead margin taken off the advice for CMSD "
      "mb\n"
      "                        and mediaCap (default 10)\n"
      "  --timeout DUR         wait this long for an origin's response "
      "(default 10s)\n"
      "  --max-clients N       HTTP/1.1 connections at once (default 64)\n"
      "  --insecure            do not verify the origins' certificates\n"
      "  --ca FILE             trust this PEM CA instead of the system store\n"
      "  --no-scone            plain QUIC to the origins\n"
      "  --scone-interval DUR  SCONE packet interval (default 10s, +-20%%)\n"
      "  --access-log          one line per request and advice change on "
      "stdout\n"
      "  -h, --help            this help\n"
      "A page names the origin with /o/HOST:PORT/PATH, an absolute http:// "
      "URL\n"
      "(the bridge as the browser's HTTP proxy), or a bare /PATH for "
      "--upstream.\n"
      "/scone/netinfo, /scone/events, /scone/stats and "
      "/scone/scone-netinfo.js\n"
      "give the advice to the page.\n");
}

enum {
  OPT_LISTEN = 256,
  OPT_ALLOW_REMOTE,
  OPT_UPSTREAM,
  OPT_ALLOW,
  OPT_MARGIN,
  OPT_TIMEOUT,
  OPT_MAX_CLIENTS,
  OPT_INSECURE,
  OPT_CA,
  OPT_NO_SCONE,
  OPT_SCONE_INTERVAL,
  OPT_ACCESS_LOG,
};

static int add_allow(bridge_opts *o, const char *s) {
  if (strcmp(s, "*") == 0) {
    o->allow_any = 1;
    return 0;
  }
  char host[ROUTE_HOST_MAX + 1], port[ROUTE_PORT_MAX + 1];
  if (route_parse_origin(s, strlen(s), host, port) != ROUTE_OK)
    return -1;
  void *na = realloc(o->allow, (o->nallow + 1) * sizeof(*o->allow));
  if (na == NULL)
    return -1;
  o->allow = na;
  return route_origin_key(o->allow[o->nallow++], BRIDGE_KEY_MAX, host, port) < 0
             ? -1
             : 0;
}

static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out) {
  char *end;
  unsigned long v = strtoul(s, &end, 10);
  if (s[0] < '0' || s[0] > '9' || *end != '\0' || v < lo || v > hi)
    return -1;
  *out = (unsigned)v;
  return 0;
}

static int parse_args(int argc, char **argv, bridge_opts *o) {
  static const struct option opts[] = {
      {"listen", required_argument, NULL, OPT_LISTEN},
      {"allow-remote", no_argument, NULL, OPT_ALLOW_REMOTE},
      {"upstream", required_argument, NULL, OPT_UPSTREAM},
      {"allow", required_argument, NULL, OPT_ALLOW},
      {"margin", required_argument, NULL, OPT_MARGIN},
      {"timeout", required_argument, NULL, OPT_TIMEOUT},
      {"max-clients", required_argument, NULL, OPT_MAX_CLIENTS},
      {"insecure", no_argument, NULL, OPT_INSECURE},
      {"ca", required_argument, NULL, OPT_CA},
      {"no-scone", no_argument, NULL, OPT_NO_SCONE},
      {"scone-interval", required_argument, NULL, OPT_SCONE_INTERVAL},
      {"access-log", no_argument, NULL, OPT_ACCESS_LOG},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    const char *bad = NULL;
    args_url u;
    unsigned v;
    switch (c) {
    case OPT_LISTEN:
      o->listen = optarg;
      break;
    case OPT_ALLOW_REMOTE:
      o->allow_remote = 1;
      break;
    case OPT_UPSTREAM: {
      char key[BRIDGE_KEY_MAX];
      if (args_url_parse(optarg, &u) != 0 || strcmp(u.path, "/") != 0 ||
          route_origin_key(key, sizeof(key), u.host, u.port) < 0 ||
          route_parse_origin(key, strlen(key), o->default_host,
                             o->default_port) != ROUTE_OK)
        bad = "--upstream takes https://HOST[:PORT] (no path, port 1 to "
              "65535)";
      o->has_default = 1;
      break;
    }
    case OPT_ALLOW:
      if (add_allow(o, optarg) != 0)
        bad = "--allow takes HOST[:PORT], [IPV6][:PORT] or '*'";
      break;
    case OPT_MARGIN:
      if (parse_uint(optarg, 0, SCONE_APP_MAX_OVERHEAD_MARGIN_PCT, &v) != 0)
        bad = "--margin takes a percentage from 0 to 90";
      else
        o->app.overhead_margin_pct = v;
      break;
    case OPT_TIMEOUT:
      if (args_duration(optarg, &o->timeout) != 0 || o->timeout == 0)
        bad = "--timeout takes a duration (10s, 500ms)";
      break;
    case OPT_MAX_CLIENTS:
      if (parse_uint(optarg, 1, 4096, &o->max_clients) != 0)
        bad = "--max-clients takes 1 to 4096";
      break;
    case OPT_INSECURE:
      o->insecure = 1;
      break;
    case OPT_CA:
      o->ca_file = optarg;
      break;
    case OPT_NO_SCONE:
      o->scone_capable = 0;
      break;
    case OPT_SCONE_INTERVAL:
      if (args_duration(optarg, &o->scone_interval) != 0 ||
          o->scone_interval == 0)
        bad = "--scone-interval takes a duration";
      break;
    case OPT_ACCESS_LOG:
      o->access_log = 1;
      break;
    case 'h':
      usage(stdout);
      exit(0);
    default:
      usage(stderr);
      return -1;
    }
    if (bad != NULL) {
      fprintf(stderr, "scone-bridge: %s\n", bad);
      return -1;
    }
  }
  if (optind != argc) {
    fprintf(stderr, "scone-bridge: unexpected argument %s\n", argv[optind]);
    usage(stderr);
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  static bridge b;
  b.o.listen = DEFAULT_LISTEN;
  b.o.scone_capable = 1;
  b.o.timeout = 10 * SCONE_SECONDS;
  b.o.max_clients = 64;
  scone_app_settings_default(&b.o.app);
  if (parse_args(argc, argv, &b.o) != 0)
    return 2;
  if (bridge_start(&b) != 0)
    return 1;
  g_bridge = &b;
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  char def[BRIDGE_KEY_MAX] = "none";
  if (b.o.has_default)
    route_origin_key(def, sizeof(def), b.o.default_host, b.o.default_port);
  fprintf(stderr,
          "scone-bridge: listening on port %u (upstream %s, SCONE %s, margin "
          "%u%%)\n",
          b.port, def, b.o.scone_capable ? "on" : "off",
          b.o.app.overhead_margin_pct);
  bridge_run(&b);
  g_bridge = NULL;
  bridge_free(&b);
  free(b.o.allow);
  fprintf(stderr, "scone-bridge: stopped\n");
  return 0;
}
