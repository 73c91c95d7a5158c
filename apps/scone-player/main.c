/*
 * scone-player: a DASH player without decoding, over HTTP/3 with SCONE.
 * It fetches the MPD, then plays it in real time with libscone_video's
 * player core (ABR under the advice cap, the advice budget, CMCD on every
 * request), printing a line per segment and, at the end, the session's QoE
 * record as one JSON line.
 *
 * Exit status: 0 when the session played to its end with every segment;
 * 1 when it failed (unreachable server, bad MPD, lost connection, a
 * segment that failed all its retries) or played with missing segments;
 * 2 for a usage error.
 */
#include "args.h"
#include "session.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
  fprintf(
      f,
      "usage: scone-player [options] https://HOST:PORT/PATH/manifest.mpd\n"
      "  --scone               follow SCONE advice when the path gives it "
      "(default):\n"
      "                        cap the ladder, keep every 67 s within the "
      "advice,\n"
      "                        send CMCD rtp\n"
      "  --ignore-advice       behave as players without SCONE do\n"
      "  --no-scone            plain QUIC: SCONE not even negotiated\n"
      "  --duration DUR        play this much media (default: all of it)\n"
      "  --seed N              CMCD session id and anything random (default "
      "1)\n"
      "  --json FILE           also write the QoE record to FILE\n"
      "  --quiet               no per-segment lines\n"
      "  --insecure            do not verify the server certificate\n"
      "  --ca FILE             trust this PEM CA instead of the system store\n"
      "  --sni NAME            TLS server name to send (default: the URL's "
      "host if\n"
      "                        a name), e.g. a video CDN's, as DPI sees it; "
      "the\n"
      "                        player still connects to the URL's address\n"
      "  --qlog FILE           write the connection's qlog\n"
      "  --cmcd MODE           headers (default), query or none\n"
      "  --request-timeout DUR give up on a transfer without progress "
      "(default 5s;\n"
      "                        it is resumed with a byte range, 3 retries)\n"
      "  --connect-timeout DUR for the MPD to arrive (default 10s)\n"
      "  --stop-on-missing     end at the first missing segment (default: "
      "skip it)\n"
      "  --max-buffer DUR      buffer ahead at most this much (default 30s)\n"
      "  --budget-period DUR   the advice budget's window (default the "
      "draft's 67s);\n"
      "                        for labs whose element runs a shorter "
      "period\n"
      "  -h, --help            print this and exit\n"
      "stdout: a line per segment (time, rung, size, buffer, throughput, "
      "advice),\n"
      "advice changes, then the QoE record as one JSON line. Exit status 0: "
      "played\n"
      "in full; 1: failed, or played with missing segments; 2: usage.\n"
      "DUR: 10s, 500ms, 2m, ...; a bare number is seconds.\n");
}

static int cmcd_mode(const char *s, scone_video_cmcd_mode *out) {
  if (strcmp(s, "headers") == 0)
    *out = SCONE_VIDEO_CMCD_HEADERS;
  else if (strcmp(s, "query") == 0)
    *out = SCONE_VIDEO_CMCD_QUERY;
  else if (strcmp(s, "none") == 0)
    *out = SCONE_VIDEO_CMCD_NONE;
  else
    return -1;
  return 0;
}

static int write_json(const char *path, const char *json) {
  FILE *f = fopen(path, "w");
  if (f == NULL)
    return -1;
  int ok = fprintf(f, "%s\n", json) > 0;
  return fclose(f) == 0 && ok ? 0 : -1;
}

enum {
  OPT_SCONE = 256,
  OPT_IGNORE,
  OPT_NO_SCONE,
  OPT_DURATION,
  OPT_SEED,
  OPT_JSON,
  OPT_QUIET,
  OPT_INSECURE,
  OPT_CA,
  OPT_QLOG,
  OPT_CMCD,
  OPT_REQ_TIMEOUT,
  OPT_CONN_TIMEOUT,
  OPT_STOP_MISSING,
  OPT_MAX_BUFFER,
  OPT_BUDGET_PERIOD,
  OPT_SNI,
};

int main(int argc, char **argv) {
  static const struct option opts[] = {
      {"scone", no_argument, NULL, OPT_SCONE},
      {"ignore-advice", no_argument, NULL, OPT_IGNORE},
      {"no-scone", no_argument, NULL, OPT_NO_SCONE},
      {"duration", required_argument, NULL, OPT_DURATION},
      {"seed", required_argument, NULL, OPT_SEED},
      {"json", required_argument, NULL, OPT_JSON},
      {"quiet", no_argument, NULL, OPT_QUIET},
      {"insecure", no_argument, NULL, OPT_INSECURE},
      {"ca", required_argument, NULL, OPT_CA},
      {"qlog", required_argument, NULL, OPT_QLOG},
      {"cmcd", required_argument, NULL, OPT_CMCD},
      {"request-timeout", required_argument, NULL, OPT_REQ_TIMEOUT},
      {"connect-timeout", required_argument, NULL, OPT_CONN_TIMEOUT},
      {"stop-on-missing", no_argument, NULL, OPT_STOP_MISSING},
      {"max-buffer", required_argument, NULL, OPT_MAX_BUFFER},
      {"budget-period", required_argument, NULL, OPT_BUDGET_PERIOD},
      {"sni", required_argument, NULL, OPT_SNI},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  session_opts o;
  memset(&o, 0, sizeof(o));
  o.scone_capable = 1;
  o.connect_timeout = 10 * SCONE_SECONDS;
  o.live = stdout;
  scone_video_player_settings_default(&o.ps);
  o.ps.seed = 1;
  /* A segment that fails all its retries means the server is not
   * serving: the session ends rather than skipping through the rest. */
  o.ps.stop_on_failure = 1;
  const char *json = NULL;

  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    int bad = 0;
    char *end;
    switch (c) {
    case OPT_SCONE:
      o.ps.use_advice = 1;
      break;
    case OPT_IGNORE:
      o.ps.use_advice = 0;
      break;
    case OPT_NO_SCONE:
      o.scone_capable = 0;
      break;
    case OPT_DURATION:
      bad =
          args_duration(optarg, &o.ps.play_limit) != 0 || o.ps.play_limit == 0;
      break;
    case OPT_SEED:
      o.ps.seed = strtoull(optarg, &end, 10);
      bad = *optarg == '\0' || *end != '\0';
      break;
    case OPT_JSON:
      json = optarg;
      break;
    case OPT_QUIET:
      o.live = NULL;
      break;
    case OPT_INSECURE:
      o.insecure = 1;
      break;
    case OPT_CA:
      o.ca_file = optarg;
      break;
    case OPT_SNI:
      o.sni = optarg;
      bad = *optarg == '\0';
      break;
    case OPT_QLOG:
      o.qlog = optarg;
      break;
    case OPT_CMCD:
      bad = cmcd_mode(optarg, &o.ps.cmcd) != 0;
      break;
    case OPT_REQ_TIMEOUT:
      bad = args_duration(optarg, &o.ps.request_timeout) != 0 ||
            o.ps.request_timeout == 0;
      break;
    case OPT_CONN_TIMEOUT:
      bad = args_duration(optarg, &o.connect_timeout) != 0 ||
            o.connect_timeout == 0;
      break;
    case OPT_STOP_MISSING:
      o.ps.stop_on_missing = 1;
      break;
    case OPT_MAX_BUFFER:
      bad = args_duration(optarg, &o.ps.buffer.max) != 0 ||
            o.ps.buffer.max < o.ps.buffer.startup;
      break;
    case OPT_BUDGET_PERIOD:
      /* At least a second: the budget's 67 buckets need some width. */
      bad = args_duration(optarg, &o.ps.budget_period) != 0 ||
            o.ps.budget_period < SCONE_SECONDS;
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
  static args_url url;
  if (optind != argc - 1 || args_url_parse(argv[optind], &url) != 0) {
    usage(stderr);
    return 2;
  }
  o.host = url.host;
  o.port = url.port;
  o.path = url.path;
  o.url = argv[optind];

  session_result r;
  int rv = session_run(&o, &r);
  if (r.qoe_json == NULL) {
    /* Failed before playing: a record that says so, for whoever collects
     * them. */
    json_t *j = json_pack("{s:b,s:s}", "started", 0, "error",
                          r.why[0] != '\0' ? r.why : "session failed");
    r.qoe_json = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
  }
  if (r.qoe_json != NULL) {
    printf("%s\n", r.qoe_json);
    if (json != NULL && write_json(json, r.qoe_json) != 0) {
      fprintf(stderr, "scone-player: cannot write %s\n", json);
      rv = rv != 0 ? rv : -1;
    }
  }
  fflush(stdout);
  if (rv != 0)
    fprintf(stderr, "scone-player: %s\n",
            r.why[0] != '\0' ? r.why : "session failed");
  else if (r.missing > 0)
    fprintf(stderr, "scone-player: played with %u segments missing\n",
            r.missing);
  int status = rv != 0 || r.missing > 0 ? 1 : 0;
  session_result_free(&r);
  return status;
}
