/* `scone rate`: the signal <-> bit/s mapping of the SCONE rate table. */
#include "cli.h"
#include "decode_print.h"
#include "fmt.h"

#include <scone/scone.h>

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char rate_usage[] =
    "usage: scone rate [--json] SIGNAL\n"
    "       scone rate [--json] --bps RATE\n"
    "       scone rate [--json] --table\n"
    "\n"
    "Shows the throughput a SCONE rate signal advises (0..126; 127 means\n"
    "unknown), the signal a network element would send for a rate limit of\n"
    "RATE bit/s (the highest signal not above RATE, or 0 for any RATE below\n"
    "the scale's 100 kbit/s; a k, M or G suffix multiplies by 10^3, 10^6,\n"
    "10^9), or the whole table.\n"
    "\n"
    "  --bps RATE  signal for a rate in bit/s\n"
    "  --table     all 128 signals\n"
    "  --json      JSON instead of text\n"
    "  -h, --help  this help\n";

/* Accepts "1500000", "1500k", "10M", "2G". */
static int parse_bps(const char *s, unsigned long long *out) {
  char digits[32];
  size_t n = strlen(s);
  unsigned long long mult = 1;
  if (n > 0 && n < sizeof digits && strchr("kKmMgG", s[n - 1])) {
    switch (s[n - 1]) {
    case 'k':
    case 'K':
      mult = 1000ULL;
      break;
    case 'm':
    case 'M':
      mult = 1000000ULL;
      break;
    default:
      mult = 1000000000ULL;
    }
    memcpy(digits, s, n - 1);
    digits[n - 1] = '\0';
    s = digits;
  }
  unsigned long long v;
  /* JSON integers are signed 64-bit. */
  if (cli_parse_u64(s, &v) || v > INT64_MAX / mult)
    return -1;
  *out = v * mult;
  return 0;
}

static json_t *signal_json(unsigned signal) {
  json_t *o = json_object();
  json_set_signal(o, signal); /* a NULL o stays NULL: emit_json reports it */
  return o;
}

static void print_signal(unsigned signal) {
  if (signal > SCONE_SIGNAL_MAX) {
    printf("%u unknown (no throughput advice)\n", signal);
    return;
  }
  char rate[FMT_RATE_LEN];
  uint64_t bps = scone_rate_from_signal(signal);
  printf("%u %llu bit/s (%s)\n", signal, (unsigned long long)bps,
         fmt_rate(bps, rate, sizeof rate));
}

static int emit_json(json_t *j) {
  if (!j || json_dumpf(j, stdout, JSON_INDENT(2)) < 0) {
    json_decref(j);
    cli_error("rate", "cannot write JSON");
    return CLI_EXIT_DATA;
  }
  json_decref(j);
  putchar('\n');
  return CLI_EXIT_OK;
}

int rate_cmd(int argc, char **argv) {
  enum { OPT_BPS = 256, OPT_TABLE, OPT_JSON };
  static const struct option opts[] = {{"bps", required_argument, 0, OPT_BPS},
                                       {"table", no_argument, 0, OPT_TABLE},
                                       {"json", no_argument, 0, OPT_JSON},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *bps_arg = NULL;
  int table = 0, json = 0, c;
  opterr = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (c) {
    case OPT_BPS:
      bps_arg = optarg;
      break;
    case OPT_TABLE:
      table = 1;
      break;
    case OPT_JSON:
      json = 1;
      break;
    case 'h':
      fputs(rate_usage, stdout);
      return CLI_EXIT_OK;
    default:
      return cli_bad_option("rate", argv, c);
    }
  }
  int npos = argc - optind;
  if ((bps_arg != NULL) + table + (npos > 0) != 1 || npos > 1)
    return cli_usage_error("rate",
                           "give exactly one of SIGNAL, --bps RATE, --table");

  if (table) {
    json_t *arr = json ? json_array() : NULL;
    for (unsigned s = 0; s <= SCONE_SIGNAL_UNKNOWN; s++) {
      if (json)
        json_array_append_new(arr, signal_json(s));
      else
        print_signal(s);
    }
    return json ? emit_json(arr) : CLI_EXIT_OK;
  }

  if (bps_arg) {
    unsigned long long bps;
    if (parse_bps(bps_arg, &bps))
      return cli_usage_error("rate",
                             "invalid rate '%s' (want bit/s, e.g. "
                             "1500000 or 1500k)",
                             bps_arg);
    unsigned s = scone_rate_to_signal(bps);
    if (!json) {
      print_signal(s);
      return CLI_EXIT_OK;
    }
    json_t *j = signal_json(s);
    json_object_set_new(j, "requested_bps", json_integer((json_int_t)bps));
    return emit_json(j);
  }

  unsigned long long s;
  if (cli_parse_u64(argv[optind], &s) || s > SCONE_SIGNAL_UNKNOWN)
    return cli_usage_error("rate", "invalid signal '%s' (want 0..127)",
                           argv[optind]);
  if (json)
    return emit_json(signal_json((unsigned)s));
  print_signal((unsigned)s);
  return CLI_EXIT_OK;
}
