/*
 * sconed: the command line. Builds the config and the engine, then hands
 * them to one datapath: the offline pcap path here, or the live ones from
 * datapath/ (NFQUEUE, UDP relay, control socket) when they are built in.
 */
#include "config_internal.h" /* sconed_parse_uint: numbers as in the config */
#include "engine.h"
#include "pcap_path.h"
#include "summary.h"

#ifdef SCONED_HAVE_DATAPATH
#include "datapath.h"
#endif

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  OPT_PCAP_IN = 0x100,
  OPT_PCAP_OUT,
  OPT_CONFIG,
  OPT_ADVICE,
  OPT_ENFORCE,
  OPT_JSON,
  OPT_LOG_ADDRESSES,
  OPT_MAX_FLOWS,
  OPT_MAX_SUBSCRIBERS,
  OPT_SEED,
  OPT_CHECK_CONFIG,
  OPT_QUIET,
  OPT_HELP,
};

static const char usage[] =
    "usage: sconed --pcap-in IN --pcap-out OUT [options]\n"
    "       sconed --check-config FILE\n"
#ifdef SCONED_HAVE_DATAPATH
    "       sconed --nfqueue N[:M] | --relay LISTEN --upstream HOST:PORT "
    "[options]\n"
#endif
    "\n"
    "SCONE network element: lowers the rate signal of SCONE packets to the\n"
    "subscriber's plan, monitors flows against it and enforces plans on\n"
    "flows that do not follow advice.\n"
    "\n"
    "  --config FILE       subscribers, plans, capacities (docs/sconed.md);\n"
    "                      without it every flow initiator is an opted-in\n"
    "                      subscriber of one plan\n"
    "  --advice BPS        downlink advice of that built-in plan (default 5M)\n"
    "  --enforce MODE      police|shape flows that do not follow advice or do\n"
    "                      not speak SCONE (built-in plan; default: off)\n"
    "  --pcap-in FILE      offline: read packets, packet times are the clock\n"
    "  --pcap-out FILE     ... and write what would be forwarded\n"
    "  --json              offline summary as JSON\n"
    "  --max-flows N       flow table size, preallocated (default 65536)\n"
    "  --max-subscribers N subscriber states for per-subscriber monitoring,\n"
    "                      preallocated (default 65536; 0: off)\n"
    "  --seed N            fixed hash key (offline runs use 0 unless given;\n"
    "                      live runs draw a random key)\n"
    "  --log-addresses     log messages may show IP addresses\n"
    "  --quiet             no per-flow log lines\n"
    "  --check-config FILE parse FILE, print FILE:LINE: reason on error\n"
    "  --help\n";

static int quiet;

static void log_stderr(void *arg, int level, const char *msg) {
  (void)arg;
  if (quiet && level > SCONED_LOG_ERROR)
    return;
  fprintf(stderr, "sconed: %s\n", msg);
}

int main(int argc, char **argv) {
  static const struct option opts[] = {
      {"pcap-in", required_argument, 0, OPT_PCAP_IN},
      {"pcap-out", required_argument, 0, OPT_PCAP_OUT},
      {"config", required_argument, 0, OPT_CONFIG},
      {"advice", required_argument, 0, OPT_ADVICE},
      {"enforce", required_argument, 0, OPT_ENFORCE},
      {"json", no_argument, 0, OPT_JSON},
      {"log-addresses", no_argument, 0, OPT_LOG_ADDRESSES},
      {"max-flows", required_argument, 0, OPT_MAX_FLOWS},
      {"max-subscribers", required_argument, 0, OPT_MAX_SUBSCRIBERS},
      {"seed", required_argument, 0, OPT_SEED},
      {"check-config", required_argument, 0, OPT_CHECK_CONFIG},
      {"quiet", no_argument, 0, OPT_QUIET},
      {"help", no_argument, 0, OPT_HELP},
#ifdef SCONED_HAVE_DATAPATH
      SCONED_DP_LONGOPTS,
#endif
      {0, 0, 0, 0}};
  const char *pcap_in = NULL, *pcap_out = NULL, *config_path = NULL;
  const char *check = NULL;
  uint64_t advice = 0, n;
  int have_advice = 0, have_enforce = 0, json = 0, have_seed = 0;
  sconed_enforce enforce = SCONED_ENFORCE_NONE;
  sconed_engine_settings es;
  sconed_engine_settings_default(&es);
#ifdef SCONED_HAVE_DATAPATH
  sconed_dp_options dpo;
  sconed_dp_options_default(&dpo);
#endif
  int c;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case OPT_PCAP_IN:
      pcap_in = optarg;
      break;
    case OPT_PCAP_OUT:
      pcap_out = optarg;
      break;
    case OPT_CONFIG:
      config_path = optarg;
      break;
    case OPT_ADVICE:
      if (sconed_parse_bps(optarg, &advice) || advice < SCONED_MIN_RATE_BPS ||
          advice > SCONED_MAX_RATE_BPS) {
        fprintf(stderr, "sconed: --advice wants a rate from 100k to 1000G "
                        "(e.g. 5M, 800k)\n");
        return 2;
      }
      have_advice = 1;
      break;
    case OPT_ENFORCE:
      if (sconed_enforce_parse(optarg, &enforce)) {
        fprintf(stderr, "sconed: --enforce wants police, shape or none\n");
        return 2;
      }
      have_enforce = 1;
      break;
    case OPT_JSON:
      json = 1;
      break;
    case OPT_LOG_ADDRESSES:
      es.log_addresses = 1;
      break;
    case OPT_MAX_FLOWS:
      if (sconed_parse_uint(optarg, 1U << 28, &n) || n == 0) {
        fprintf(stderr, "sconed: --max-flows wants 1..268435456\n");
        return 2;
      }
      es.max_flows = (uint32_t)n;
      break;
    case OPT_MAX_SUBSCRIBERS:
      if (sconed_parse_uint(optarg, 16777200, &n)) {
        fprintf(stderr, "sconed: --max-subscribers wants 0..16777200\n");
        return 2;
      }
      es.max_subscribers = (uint32_t)n;
      break;
    case OPT_SEED: {
      char *end;
      unsigned long long v = strtoull(optarg, &end, 0);
      if (*optarg == '-' || *end) {
        fprintf(stderr, "sconed: --seed wants a number\n");
        return 2;
      }
      es.seed = v;
      have_seed = 1;
      break;
    }
    case OPT_CHECK_CONFIG:
      check = optarg;
      break;
    case OPT_QUIET:
      quiet = 1;
      break;
    case OPT_HELP:
      fputs(usage, stdout);
#ifdef SCONED_HAVE_DATAPATH
      fputs("\n", stdout);
      fputs(sconed_dp_usage, stdout);
#endif
      return 0;
    default: {
#ifdef SCONED_HAVE_DATAPATH
      int r = sconed_dp_getopt(&dpo, c, optarg);
      if (r == 1)
        break;
      if (r < 0)
        return 2;
#endif
      fputs(usage, stderr);
      return 2;
    }
    }
  }
  if (optind < argc) {
    fprintf(stderr, "sconed: unexpected argument '%s'\n", argv[optind]);
    return 2;
  }
  char err[512];
  if (check) {
    sconed_config *cfg = sconed_config_load(check, err, sizeof(err));
    if (!cfg) {
      fprintf(stderr, "%s\n", err);
      return 1;
    }
    printf("%s: ok (%zu plans, %zu capacities, %zu subscribers)\n", check,
           sconed_config_plan_count(cfg), sconed_config_capacity_count(cfg),
           sconed_config_subscriber_count(cfg));
    sconed_config_free(cfg);
    return 0;
  }
  if (config_path && (have_advice || have_enforce)) {
    fprintf(stderr, "sconed: --advice and --enforce set the built-in plan; "
                    "with --config, set them in the file\n");
    return 2;
  }
  int offline = pcap_in || pcap_out;
  if (offline && (!pcap_in || !pcap_out)) {
    fprintf(stderr, "sconed: --pcap-in and --pcap-out go together\n");
    return 2;
  }
#ifdef SCONED_HAVE_DATAPATH
  if (offline && sconed_dp_wanted(&dpo)) {
    fprintf(stderr, "sconed: --pcap-in is an offline mode of its own\n");
    return 2;
  }
  if (!offline && !sconed_dp_wanted(&dpo)) {
#else
  if (!offline) {
#endif
    fputs(usage, stderr);
    return 2;
  }

  sconed_config *cfg = config_path
                           ? sconed_config_load(config_path, err, sizeof(err))
                           : sconed_config_default(advice, enforce);
  if (!cfg) {
    fprintf(stderr, "%s\n", config_path ? err : "sconed: out of memory");
    return 1;
  }
  /* Offline runs are reproducible: the same capture gives the same output
   * byte for byte, which a random hash key would not promise once the
   * table is full. */
  if (offline || have_seed)
    es.seed_source = SCONED_SEED_FIXED;
  es.log = log_stderr;
  sconed_engine *e = sconed_engine_new(&es);
  if (!e || sconed_engine_set_config(e, cfg)) {
    fprintf(stderr, "sconed: cannot create the engine (memory, or no "
                    "random source)\n");
    if (!e)
      sconed_config_free(cfg);
    sconed_engine_free(e);
    return 1;
  }
  int rc;
  if (offline) {
    sconed_pcap_counts counts;
    if (sconed_pcap_run(e, pcap_in, pcap_out, &counts, err, sizeof(err))) {
      fprintf(stderr, "sconed: %s\n", err);
      rc = 1;
    } else {
      sconed_summary_print(stdout, e, &counts, json);
      rc = 0;
    }
  } else {
#ifdef SCONED_HAVE_DATAPATH
    rc = sconed_dp_validate(&dpo) ? 2 : sconed_dp_run(e, &dpo, config_path);
#else
    rc = 2;
#endif
  }
  sconed_engine_free(e);
  return rc;
}
