/*
 * scone-server: an HTTP/3 server with SCONE. Serves files under --root (a
 * DASH presentation: content types, byte ranges, CMCD read and CMSD
 * answered, CORS) and generated bodies at /bytes/<N>[K|M|G]. Without
 * --cert/--key it makes a self-signed certificate in its state directory
 * on first run.
 */
#include "args.h"

#include <scone/quic.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static scone_quic_server *g_server;

static void on_signal(int sig) {
  (void)sig;
  if (g_server != NULL)
    scone_quic_server_stop(g_server);
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: scone-server [options]\n"
          "  --listen ADDR:PORT    UDP address to serve on (default "
          "127.0.0.1:4433;\n"
          "                        [::]:PORT for IPv6, port 0 picks one)\n"
          "  --root DIR            serve files below DIR (nothing outside it:\n"
          "                        no \"..\", no symbolic link leading out)\n"
          "  --pace on|off         pace a response to the rate its request's "
          "CMCD\n"
          "                        asks for (rtp); default off\n"
          "  --no-cmsd             no CMSD-Static / CMSD-Dynamic headers\n"
          "  --access-log          one line per request on stdout (status, "
          "bytes,\n"
          "                        CMCD rtp and bl, pacing)\n"
          "  --cert FILE --key FILE  PEM certificate and key\n"
          "  --state-dir DIR       where the self-signed certificate is kept\n"
          "                        (default $XDG_STATE_HOME/scone-server or\n"
          "                        ~/.local/state/scone-server)\n"
          "  --no-scone            plain QUIC: no scone_supported, no SCONE "
          "packets\n"
          "  --uplink-log          print advice received from the client "
          "direction\n"
          "  --qlog-dir DIR        one qlog per connection (DIR is made if "
          "missing)\n"
          "  --flow-type TAG       application flow type tag\n"
          "  --scone-interval DUR  SCONE packet interval (default 10s, "
          "+-20%%)\n" ARGS_PLACEMENT_HELP "  -h, --help            this help\n"
          "Generated bodies: GET /bytes/N returns N bytes (K, M, G suffixes "
          "= 10^3, 10^6,\n"
          "10^9), byte i being 'a' + i %% 26.\n");
}

static void on_uplink(scone_quic_conn *conn, uint32_t path_id, scone_dir dir,
                      const scone_advice *adv, void *user_data) {
  (void)conn;
  (void)dir;
  (void)user_data;
  if (adv->signal == SCONE_SIGNAL_UNKNOWN)
    printf("[%9.3f] uplink advice path=%u signal=127 rate=unknown "
           "(expired)\n",
           args_elapsed(), path_id);
  else
    printf("[%9.3f] uplink advice path=%u signal=%u rate=%llu bit/s (%.3f "
           "Mbit/s)\n",
           args_elapsed(), path_id, adv->signal, (unsigned long long)adv->bps,
           (double)adv->bps / 1e6);
  fflush(stdout);
}

static const char *ot_name(scone_app_cm_ot ot) {
  static const char *const names[] = {"m", "a",  "v", "av", "i",
                                      "c", "tt", "k", "o"};
  return (unsigned)ot < sizeof(names) / sizeof(names[0]) ? names[ot] : "?";
}

static void on_request(scone_quic_server *srv,
                       const scone_quic_server_request *r, void *user_data) {
  (void)srv;
  (void)user_data;
  const scone_app_cmcd_data *c = r->cmcd;
  char cmcd[96] = "";
  int n = 0;
  if (c->present & SCONE_APP_CMCD_OT)
    n += snprintf(cmcd + n, sizeof(cmcd) - (size_t)n, " ot=%s", ot_name(c->ot));
  if ((c->present & SCONE_APP_CMCD_BL) && n < (int)sizeof(cmcd))
    n += snprintf(cmcd + n, sizeof(cmcd) - (size_t)n, " bl=%llu",
                  (unsigned long long)c->bl_ms);
  if ((c->present & SCONE_APP_CMCD_RTP) && n < (int)sizeof(cmcd))
    snprintf(cmcd + n, sizeof(cmcd) - (size_t)n, " rtp=%llu",
             (unsigned long long)c->rtp_kbps);
  printf("[%9.3f] %s %s %d %llu bytes%s%s%s\n", args_elapsed(), r->method,
         r->target, r->status, (unsigned long long)r->body_bytes, cmcd,
         r->cmcd_malformed ? " cmcd=malformed" : "",
         r->paced_bps ? " paced" : "");
  fflush(stdout);
}

static int mkdirs(char *path) {
  for (char *p = path + 1; *p != '\0'; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    int rv = mkdir(path, 0700);
    *p = '/';
    if (rv != 0 && errno != EEXIST)
      return -1;
  }
  if (mkdir(path, 0700) == 0)
    return 0;
  /* Something already there must be a directory. */
  struct stat st;
  if (errno != EEXIST || stat(path, &st) != 0)
    return -1;
  if (!S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    return -1;
  }
  return 0;
}

static int default_state_dir(char *buf, size_t len) {
  const char *xdg = getenv("XDG_STATE_HOME");
  const char *home = getenv("HOME");
  int n;
  if (xdg != NULL && xdg[0] == '/')
    n = snprintf(buf, len, "%s/scone-server", xdg);
  else if (home != NULL && home[0] != '\0')
    n = snprintf(buf, len, "%s/.local/state/scone-server", home);
  else
    n = snprintf(buf, len, ".scone-server");
  return n > 0 && (size_t)n < len ? 0 : -1;
}

/* Uses the pair in dir, making it on first run. */
static int ensure_cert(const char *dir, char *cert, char *key, size_t len) {
  char d[4096];
  if (snprintf(d, sizeof(d), "%s", dir) >= (int)sizeof(d) || mkdirs(d) != 0)
    return -1;
  snprintf(cert, len, "%s/cert.pem", dir);
  snprintf(key, len, "%s/key.pem", dir);
  if (access(cert, R_OK) == 0 && access(key, R_OK) == 0)
    return 0;
  fprintf(stderr, "scone-server: making a self-signed certificate in %s\n",
          dir);
  return scone_quic_make_self_signed(cert, key, NULL) == 0 ? 0 : -1;
}

enum {
  OPT_LISTEN = 256,
  OPT_ROOT,
  OPT_CERT,
  OPT_KEY,
  OPT_STATE_DIR,
  OPT_NO_SCONE,
  OPT_UPLINK_LOG,
  OPT_QLOG_DIR,
  OPT_FLOW_TYPE,
  OPT_SCONE_INTERVAL,
  OPT_SCONE_PLACEMENT,
  OPT_PACE,
  OPT_NO_CMSD,
  OPT_ACCESS_LOG,
};

int main(int argc, char **argv) {
  static const struct option opts[] = {
      {"listen", required_argument, NULL, OPT_LISTEN},
      {"root", required_argument, NULL, OPT_ROOT},
      {"cert", required_argument, NULL, OPT_CERT},
      {"key", required_argument, NULL, OPT_KEY},
      {"state-dir", required_argument, NULL, OPT_STATE_DIR},
      {"no-scone", no_argument, NULL, OPT_NO_SCONE},
      {"uplink-log", no_argument, NULL, OPT_UPLINK_LOG},
      {"qlog-dir", required_argument, NULL, OPT_QLOG_DIR},
      {"flow-type", required_argument, NULL, OPT_FLOW_TYPE},
      {"scone-interval", required_argument, NULL, OPT_SCONE_INTERVAL},
      {"scone-placement", required_argument, NULL, OPT_SCONE_PLACEMENT},
      {"pace", required_argument, NULL, OPT_PACE},
      {"no-cmsd", no_argument, NULL, OPT_NO_CMSD},
      {"access-log", no_argument, NULL, OPT_ACCESS_LOG},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  scone_quic_server_config cfg;
  scone_quic_server_config_default(&cfg);
  const char *state_dir = NULL;
  int uplink_log = 0, access_log = 0;
  args_elapsed();

  int o;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    int bad = 0;
    switch (o) {
    case OPT_LISTEN:
      cfg.listen = optarg;
      break;
    case OPT_ROOT:
      cfg.root = optarg;
      break;
    case OPT_CERT:
      cfg.cert_file = optarg;
      break;
    case OPT_KEY:
      cfg.key_file = optarg;
      break;
    case OPT_STATE_DIR:
      state_dir = optarg;
      break;
    case OPT_NO_SCONE:
      cfg.quic.scone_capable = 0;
      break;
    case OPT_UPLINK_LOG:
      uplink_log = 1;
      break;
    case OPT_QLOG_DIR:
      cfg.qlog_dir = optarg;
      break;
    case OPT_FLOW_TYPE:
      cfg.quic.flow_type = optarg;
      break;
    case OPT_SCONE_INTERVAL:
      bad = args_duration(optarg, &cfg.quic.send_interval) != 0 ||
            cfg.quic.send_interval == 0;
      break;
    case OPT_SCONE_PLACEMENT:
      bad = args_placement(optarg, &cfg.quic.scone_placement) != 0;
      break;
    case OPT_PACE:
      bad = args_on_off(optarg, &cfg.pace) != 0;
      break;
    case OPT_NO_CMSD:
      cfg.cmsd = 0;
      break;
    case OPT_ACCESS_LOG:
      access_log = 1;
      break;
    case 'h':
      usage(stdout);
      return 0;
    default:
      bad = 1;
    }
    if (bad || optind > argc) {
      usage(stderr);
      return 2;
    }
  }
  if (optind != argc || (cfg.cert_file == NULL) != (cfg.key_file == NULL)) {
    usage(stderr);
    return 2;
  }
  char cert[4200], key[4200], sdir[4096];
  if (cfg.cert_file == NULL) {
    if (state_dir == NULL) {
      if (default_state_dir(sdir, sizeof(sdir)) != 0)
        return 1;
      state_dir = sdir;
    }
    if (ensure_cert(state_dir, cert, key, sizeof(cert)) != 0) {
      fprintf(stderr, "scone-server: cannot make a certificate in %s\n",
              state_dir);
      return 1;
    }
    cfg.cert_file = cert;
    cfg.key_file = key;
  }

  char qdir[4096];
  if (cfg.qlog_dir != NULL &&
      (snprintf(qdir, sizeof(qdir), "%s", cfg.qlog_dir) >= (int)sizeof(qdir) ||
       mkdirs(qdir) != 0)) {
    fprintf(stderr, "scone-server: --qlog-dir %s: %s\n", cfg.qlog_dir,
            strerror(errno));
    return 1;
  }

  scone_quic_callbacks scb = {0};
  if (uplink_log)
    scb.advice_changed = on_uplink;
  scone_quic_server_callbacks hcb = {0};
  if (access_log)
    hcb.request = on_request;
  scone_quic_server *srv;
  int rv = scone_quic_server_new(&srv, &cfg, &scb, &hcb, NULL);
  if (rv == SCONE_QUIC_ERR_QLOG) {
    fprintf(stderr, "scone-server: --qlog-dir %s: %s there\n", cfg.qlog_dir,
            scone_quic_strerror(rv));
    return 1;
  }
  if (rv == SCONE_QUIC_ERR_ROOT) {
    fprintf(stderr, "scone-server: --root %s: %s\n", cfg.root,
            scone_quic_strerror(rv));
    return 1;
  }
  if (rv == SCONE_QUIC_ERR_SOCKET) {
    fprintf(stderr, "scone-server: %s: %s: %s\n", cfg.listen,
            scone_quic_strerror(rv), strerror(errno));
    return 1;
  }
  if (rv != 0) {
    fprintf(stderr, "scone-server: %s: %s\n", cfg.listen,
            scone_quic_strerror(rv));
    return 1;
  }
  g_server = srv;
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  fprintf(stderr,
          "scone-server: listening on port %u (SCONE %s, CMSD %s, pacing "
          "%s)\n",
          scone_quic_server_port(srv), cfg.quic.scone_capable ? "on" : "off",
          cfg.cmsd ? "on" : "off", cfg.pace ? "on" : "off");
  rv = scone_quic_server_run(srv);
  scone_quic_server_stats st;
  scone_quic_server_get_stats(srv, &st);
  fprintf(stderr,
          "scone-server: %llu connections, %llu requests (%llu paced), %llu "
          "SCONE sent, %llu received, %llu advice accepted\n",
          (unsigned long long)st.connections_accepted,
          (unsigned long long)st.requests_served,
          (unsigned long long)st.responses_paced,
          (unsigned long long)st.scone.scone_sent,
          (unsigned long long)st.scone.scone_received,
          (unsigned long long)st.scone.advice_accepted);
  if (st.qlog_failures > 0)
    fprintf(stderr, "scone-server: %llu connections served without a qlog\n",
            (unsigned long long)st.qlog_failures);
  if (st.compat_mode_rejected > 0)
    fprintf(stderr,
            "scone-server: %llu connections closed: TLS compatibility mode\n",
            (unsigned long long)st.compat_mode_rejected);
  g_server = NULL;
  scone_quic_server_del(srv);
  return rv == 0 ? 0 : 1;
}
