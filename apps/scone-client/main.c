/*
 * scone-client: HTTP/3 GETs over one SCONE-capable QUIC connection.
 *
 * stdout: one line per advice change as it happens, then one JSON line with
 * the connection's stats (scone_app_stats_to_json). stderr: one line per
 * response and errors. Exit status 0 when every response was a complete 200.
 */
#include "args.h"

#include <scone/quic.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct client_app {
  FILE *out; /* --output: bodies appended here */
  int failures;
  int quiet;
} client_app;

static void usage(FILE *f) {
  fprintf(f, "usage: scone-client [options] https://HOST:PORT/PATH\n"
             "  --no-scone            plain QUIC: no scone_supported, no "
             "indication,\n"
             "                        no SCONE packets\n"
             "  --insecure            do not verify the server certificate "
             "(self-signed\n"
             "                        test servers; anyone on the path can "
             "then\n"
             "                        impersonate the server)\n"
             "  --ca FILE             trust this PEM CA instead of the system "
             "store\n"
             "  --repeat N            GET the URL N times on the connection "
             "(default 1)\n"
             "  --interval DUR        pause between GETs, connection kept "
             "open (default 1s)\n"
             "  --linger DUR          keep the connection open after the last "
             "response\n"
             "  --timeout DUR         give up on a response after DUR "
             "(default 30s)\n"
             "  --qlog FILE           write the connection's qlog (JSON-SEQ, "
             "with scone:*\n"
             "                        events)\n"
             "  --flow-type TAG       application flow type tag (e.g. video)\n"
             "  --scone-interval DUR  SCONE packet interval (default 10s, "
             "+-20%%)\n" ARGS_PLACEMENT_HELP
             "  --indication MODE     0xc8 0x13 at the end of first-flight "
             "datagrams:\n"
             "                        every (default, the draft), once (not "
             "on\n"
             "                        retransmissions) or off\n"
             "  --output FILE         append response bodies to FILE\n"
             "  --quiet               no per-response lines on stderr\n"
             "  --sni NAME            TLS server name to send (default: the "
             "URL's host if\n"
             "                        a name), e.g. a video CDN's, as DPI "
             "sees it\n"
             "  -h, --help            this help\n"
             "DUR: 10s, 500ms, 2m, ...; a bare number is seconds.\n");
}

static int indication(const char *s, scone_quic_indication *out) {
  if (strcmp(s, "every") == 0)
    *out = SCONE_QUIC_INDICATION_EVERY;
  else if (strcmp(s, "once") == 0)
    *out = SCONE_QUIC_INDICATION_ONCE;
  else if (strcmp(s, "off") == 0)
    *out = SCONE_QUIC_INDICATION_OFF;
  else
    return -1;
  return 0;
}

static void on_advice(scone_quic_conn *conn, uint32_t path_id, scone_dir dir,
                      const scone_advice *adv, void *user_data) {
  (void)conn;
  (void)user_data;
  if (adv->signal == SCONE_SIGNAL_UNKNOWN)
    printf("[%9.3f] advice path=%u dir=%s signal=127 rate=unknown "
           "(expired)\n",
           args_elapsed(), path_id,
           dir == SCONE_DIR_DOWNLINK ? "downlink" : "uplink");
  else
    printf("[%9.3f] advice path=%u dir=%s signal=%u rate=%llu bit/s "
           "(%.3f Mbit/s)\n",
           args_elapsed(), path_id,
           dir == SCONE_DIR_DOWNLINK ? "downlink" : "uplink", adv->signal,
           (unsigned long long)adv->bps, (double)adv->bps / 1e6);
  fflush(stdout);
}

static void on_body(scone_quic_client *cl, uint32_t idx, const uint8_t *data,
                    size_t len, void *user_data) {
  (void)cl;
  (void)idx;
  client_app *app = user_data;
  if (app->out != NULL)
    fwrite(data, 1, len, app->out);
}

static void on_done(scone_quic_client *cl, const scone_quic_response *r,
                    void *user_data) {
  (void)cl;
  client_app *app = user_data;
  if (r->status != 200 || r->error != 0)
    app->failures++;
  if (!app->quiet) {
    double secs = (double)(r->finished_at - r->started_at) / 1e9;
    fprintf(stderr,
            "[%9.3f] GET %s #%u: status %d, %llu bytes in %.3f s (%.3f "
            "Mbit/s)%s%s\n",
            args_elapsed(), r->path, r->request_index, r->status,
            (unsigned long long)r->body_bytes, secs,
            secs > 0 ? (double)r->body_bytes * 8 / secs / 1e6 : 0.0,
            r->error != 0 ? ", failed: " : "",
            r->error != 0 ? scone_quic_strerror(r->error) : "");
  }
}

static void print_stats(scone_quic_client *cl) {
  scone_app_stats st;
  char json[2048];
  scone_quic_conn_get_stats(scone_quic_client_conn(cl), scone_quic_now(), &st);
  if (scone_app_stats_to_json(&st, json, sizeof(json)) > 0)
    printf("%s\n", json);
}

enum {
  OPT_NO_SCONE = 256,
  OPT_INSECURE,
  OPT_CA,
  OPT_REPEAT,
  OPT_INTERVAL,
  OPT_LINGER,
  OPT_TIMEOUT,
  OPT_QLOG,
  OPT_FLOW_TYPE,
  OPT_SCONE_INTERVAL,
  OPT_SCONE_PLACEMENT,
  OPT_INDICATION,
  OPT_OUTPUT,
  OPT_QUIET,
  OPT_SNI,
};

int main(int argc, char **argv) {
  static const struct option opts[] = {
      {"no-scone", no_argument, NULL, OPT_NO_SCONE},
      {"insecure", no_argument, NULL, OPT_INSECURE},
      {"ca", required_argument, NULL, OPT_CA},
      {"repeat", required_argument, NULL, OPT_REPEAT},
      {"interval", required_argument, NULL, OPT_INTERVAL},
      {"linger", required_argument, NULL, OPT_LINGER},
      {"timeout", required_argument, NULL, OPT_TIMEOUT},
      {"qlog", required_argument, NULL, OPT_QLOG},
      {"flow-type", required_argument, NULL, OPT_FLOW_TYPE},
      {"scone-interval", required_argument, NULL, OPT_SCONE_INTERVAL},
      {"scone-placement", required_argument, NULL, OPT_SCONE_PLACEMENT},
      {"indication", required_argument, NULL, OPT_INDICATION},
      {"output", required_argument, NULL, OPT_OUTPUT},
      {"quiet", no_argument, NULL, OPT_QUIET},
      {"sni", required_argument, NULL, OPT_SNI},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  scone_quic_client_config cfg;
  scone_quic_client_config_default(&cfg);
  client_app app = {0};
  long repeat = 1;
  scone_duration interval = SCONE_SECONDS, linger = 0,
                 timeout = 30 * SCONE_SECONDS;
  const char *output = NULL;
  args_elapsed();

  int o;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    int bad = 0;
    switch (o) {
    case OPT_NO_SCONE:
      cfg.quic.scone_capable = 0;
      break;
    case OPT_INSECURE:
      cfg.insecure = 1;
      break;
    case OPT_CA:
      cfg.ca_file = optarg;
      break;
    case OPT_REPEAT:
      repeat = strtol(optarg, NULL, 10);
      bad = repeat < 1;
      break;
    case OPT_INTERVAL:
      bad = args_duration(optarg, &interval) != 0;
      break;
    case OPT_LINGER:
      bad = args_duration(optarg, &linger) != 0;
      break;
    case OPT_TIMEOUT:
      bad = args_duration(optarg, &timeout) != 0;
      break;
    case OPT_QLOG:
      cfg.quic.qlog_path = optarg;
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
    case OPT_INDICATION:
      bad = indication(optarg, &cfg.quic.indication) != 0;
      break;
    case OPT_OUTPUT:
      output = optarg;
      break;
    case OPT_QUIET:
      app.quiet = 1;
      break;
    case OPT_SNI:
      cfg.sni = optarg;
      break;
    case 'h':
      usage(stdout);
      return 0;
    default:
      bad = 1;
    }
    if (bad) {
      usage(stderr);
      return 2;
    }
  }
  args_url url;
  if (optind != argc - 1 || args_url_parse(argv[optind], &url) != 0) {
    usage(stderr);
    return 2;
  }
  cfg.host = url.host;
  cfg.port = url.port;
  if (output != NULL && (app.out = fopen(output, "ab")) == NULL) {
    perror(output);
    return 1;
  }

  scone_quic_callbacks scb = {.advice_changed = on_advice};
  scone_quic_client_callbacks hcb = {.body = on_body, .response_done = on_done};
  scone_quic_client *cl;
  int rv = scone_quic_client_new(&cl, &cfg, &scb, &hcb, &app);
  if (rv == SCONE_QUIC_ERR_QLOG) {
    fprintf(stderr, "scone-client: --qlog %s: %s\n", cfg.quic.qlog_path,
            scone_quic_strerror(rv));
    return 1;
  }
  if (rv == SCONE_QUIC_ERR_SOCKET) {
    fprintf(stderr, "scone-client: %s: %s\n", scone_quic_strerror(rv),
            strerror(errno));
    return 1;
  }
  if (rv != 0) {
    fprintf(stderr, "scone-client: %s\n", scone_quic_strerror(rv));
    return 1;
  }
  for (long i = 0; i < repeat && rv == 0; i++) {
    scone_quic_client_get(cl, url.path);
    rv = scone_quic_client_run(cl, scone_quic_now() + timeout, 1);
    if (rv == 0 && i + 1 < repeat)
      rv = scone_quic_client_run(cl, scone_quic_now() + interval, 0);
  }
  if (rv == 0 && linger > 0)
    rv = scone_quic_client_run(cl, scone_quic_now() + linger, 0);
  if (rv != 0) {
    fprintf(stderr, "scone-client: %s\n", scone_quic_strerror(rv));
    int remote, is_app;
    uint64_t code;
    scone_quic_conn *conn = scone_quic_client_conn(cl);
    if (scone_quic_conn_timed_out(conn))
      fprintf(stderr, "scone-client: no answer from the server (timed out)\n");
    else if (scone_quic_conn_get_close_error(conn, &remote, &is_app, &code) ==
             0)
      fprintf(stderr, "scone-client: closed by %s, %s error 0x%llx\n",
              remote ? "server" : "client",
              is_app ? "application" : "transport", (unsigned long long)code);
  }
  scone_quic_client_close(cl);
  print_stats(cl);
  scone_quic_client_del(cl);
  if (app.out != NULL)
    fclose(app.out);
  return rv == 0 && app.failures == 0 ? 0 : 1;
}
