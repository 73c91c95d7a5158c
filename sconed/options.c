#include "options.h"

#include "units.h"

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
  OPT_LEGACY_DPI,
  OPT_HELP,
  OPT_NFQUEUE,
  OPT_NFQ_BATCH,
  OPT_NFQ_MAXLEN,
  OPT_NFQ_THREADS,
  OPT_NFQ_NO_KEEPER,
  OPT_RELAY,
  OPT_UPSTREAM,
  OPT_RELAY_IDLE,
  OPT_CONTROL,
  OPT_CONTROL_ANY,
  OPT_CONTROL_TOKEN_FILE,
  OPT_DATAPATH,
  OPT_XDP,
  OPT_XDP_GENERIC,
  OPT_POLICY_STORE,
  OPT_POLICY_NS,
};

static const char usage[] =
    "usage: sconed --pcap-in IN --pcap-out OUT [options]\n"
    "       sconed --nfqueue N[:M] | --relay LISTEN --upstream HOST:PORT "
    "[options]\n"
    "       sconed --check-config FILE\n"
    "\n"
    "SCONE network element: lowers the rate signal of SCONE packets to the\n"
    "subscriber's plan, monitors flows against it and enforces plans on\n"
    "flows that do not follow advice.\n"
    "\n"
    "  --config FILE       subscribers, plans, capacities (docs/sconed.md);\n"
    "                      without it every flow initiator is an opted-in\n"
    "                      subscriber of one plan\n"
    "  --policy-store redis://HOST:PORT  plans, subscribers, opt-ins and\n"
    "                      capacities from a shared store, followed live, on\n"
    "                      top of --config if given (docs/fleet.md)\n"
    "  --policy-ns NS      the store's key namespace (default scone)\n"
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
    "  --legacy-dpi        today's element instead: nDPI finds video flows\n"
    "                      (and the config's [dpi] sni names), which are\n"
    "                      policed or shaped at the plan rate; SCONE packets\n"
    "                      pass untouched (offline and --nfqueue only)\n"
    "  --check-config FILE parse FILE, print FILE:LINE: reason on error\n"
    "  --help\n"
    "\n"
    "Live datapaths:\n"
    "  --nfqueue N[:M]         inline: serve NFQUEUE queues N..M (a thread\n"
    "                          and socket per queue); see\n"
    "                          scripts/sconed-iptables.sh\n"
    "  --nfqueue-threads K     K threads (at most one per queue), each "
    "serving\n"
    "                          a share of the queues (default: one per\n"
    "                          queue, at most one per CPU)\n"
    "  --nfqueue-batch K       packets per receive (default 32; 1 = one at a\n"
    "                          time, single verdicts only)\n"
    "  --nfqueue-maxlen K      kernel queue length per queue (default 4096)\n"
    "  --nfqueue-no-keeper     no second process holding the queues: a\n"
    "                          sconed killed (kill -9, a crash) then loses\n"
    "                          what was queued\n"
    "  --relay ADDR:PORT       UDP relay: listen here ([::1]:4433 for IPv6)\n"
    "  --upstream HOST:PORT    ... and forward to this server\n"
    "  --relay-idle SEC        forget a silent relay client (default 60)\n"
    "  --control ADDR:PORT|PATH  HTTP control: GET /metrics, GET /state,\n"
    "                          POST /capacity?name=X&bps=N, POST /reload,\n"
    "                          POST /optin?addr=A&state=in|out;\n"
    "                          loopback only unless --control-any; a PATH\n"
    "                          is a Unix socket\n"
    "  --control-token-file F  every control request must carry\n"
    "                          Authorization: Bearer <F's first line>\n"
    "  --xdp IFACE[,IFACE...]  XDP fast path on these interfaces (native\n"
    "                          mode; --xdp-generic: skb mode); detaches\n"
    "                          when sconed exits (docs/xdp.md)\n"
    "  --datapath engine|xdp   offline: run the capture through the engine\n"
    "                          (default) or the XDP program\n";

static int bad(const char *msg) {
  fprintf(stderr, "sconed: %s\n", msg);
  return 2;
}

static int parse_queues(sconed_nfq_settings *s, const char *arg) {
  char lo[16];
  const char *colon = strchr(arg, ':');
  size_t n = colon ? (size_t)(colon - arg) : strlen(arg);
  if (n == 0 || n >= sizeof(lo))
    return -1;
  memcpy(lo, arg, n);
  lo[n] = 0;
  uint64_t a, b;
  if (sconed_parse_uint(lo, 65535, &a) < 0)
    return -1;
  b = a;
  if (colon && sconed_parse_uint(colon + 1, 65535, &b) < 0)
    return -1;
  if (b < a)
    return -1;
  s->queue_lo = (uint16_t)a;
  s->queue_hi = (uint16_t)b;
  return 0;
}

/* What the options given ask to run: returns 0 with o->mode set, or 2. */
static int settle_mode(sconed_options *o, int have_plan_options, int nfqueue) {
  if (o->check_config) {
    o->mode = SCONED_MODE_CHECK_CONFIG;
    return 0;
  }
  if ((o->config || o->policy_store) && have_plan_options)
    return bad("--advice and --enforce set the built-in plan; with "
               "--config or --policy-store, set them in the file or store");
  if (o->policy_ns && !o->policy_store)
    return bad("--policy-ns needs --policy-store");
  int offline = o->pcap_in || o->pcap_out;
  int relay = o->relay.listen || o->relay.upstream;
  if (offline && (!o->pcap_in || !o->pcap_out))
    return bad("--pcap-in and --pcap-out go together");
  if (offline && (nfqueue || relay || o->control))
    return bad("--pcap-in is an offline mode of its own");
  if (nfqueue && relay)
    return bad("--nfqueue and --relay are separate modes");
  if (!o->relay.listen != !o->relay.upstream)
    return bad("--relay and --upstream go together");
  if (o->control_token_file && !o->control)
    return bad("--control-token-file needs --control");
  if (o->control && !nfqueue && !relay && !o->xdp_ifaces)
    return bad("--control needs --nfqueue, --relay or --xdp");
  if (o->legacy_dpi && (relay || o->xdp_ifaces || o->datapath_xdp))
    return bad(
        "--legacy-dpi runs offline or with --nfqueue, not --relay or XDP");
  if (o->xdp_ifaces && (offline || nfqueue || relay))
    return bad("--xdp is a live mode of its own");
  if (o->datapath_xdp && !offline)
    return bad("--datapath xdp is for --pcap-in (live: --xdp IFACE)");
  if (o->xdp_ifaces)
    o->mode = SCONED_MODE_XDP;
  else if (offline)
    o->mode = SCONED_MODE_OFFLINE;
  else if (nfqueue)
    o->mode = SCONED_MODE_NFQUEUE;
  else if (relay)
    o->mode = SCONED_MODE_RELAY;
  else {
    fputs(usage, stderr);
    return 2;
  }
  return 0;
}

int sconed_options_parse(sconed_options *o, int argc, char **argv) {
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
      {"legacy-dpi", no_argument, 0, OPT_LEGACY_DPI},
      {"help", no_argument, 0, OPT_HELP},
      {"nfqueue", required_argument, 0, OPT_NFQUEUE},
      {"nfqueue-batch", required_argument, 0, OPT_NFQ_BATCH},
      {"nfqueue-maxlen", required_argument, 0, OPT_NFQ_MAXLEN},
      {"nfqueue-threads", required_argument, 0, OPT_NFQ_THREADS},
      {"nfqueue-no-keeper", no_argument, 0, OPT_NFQ_NO_KEEPER},
      {"relay", required_argument, 0, OPT_RELAY},
      {"upstream", required_argument, 0, OPT_UPSTREAM},
      {"relay-idle", required_argument, 0, OPT_RELAY_IDLE},
      {"control", required_argument, 0, OPT_CONTROL},
      {"control-any", no_argument, 0, OPT_CONTROL_ANY},
      {"control-token-file", required_argument, 0, OPT_CONTROL_TOKEN_FILE},
      {"datapath", required_argument, 0, OPT_DATAPATH},
      {"xdp", required_argument, 0, OPT_XDP},
      {"xdp-generic", no_argument, 0, OPT_XDP_GENERIC},
      {"policy-store", required_argument, 0, OPT_POLICY_STORE},
      {"policy-ns", required_argument, 0, OPT_POLICY_NS},
      {0, 0, 0, 0}};
  memset(o, 0, sizeof(*o));
  sconed_engine_settings_default(&o->engine);
  sconed_nfq_settings_default(&o->nfq);
  /* sconed's main() runs the keeper's command line (nfq.h). */
  o->nfq.keeper = 1;
  sconed_relay_settings_default(&o->relay);
  int have_plan_options = 0, have_seed = 0, nfqueue = 0;
  uint64_t n;
  /* 0 restarts getopt's scan, so argv can be parsed more than once. */
  optind = 0;
  int c;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case OPT_PCAP_IN:
      o->pcap_in = optarg;
      break;
    case OPT_PCAP_OUT:
      o->pcap_out = optarg;
      break;
    case OPT_CONFIG:
      o->config = optarg;
      break;
    case OPT_ADVICE:
      if (sconed_parse_bps(optarg, &o->advice_bps) ||
          o->advice_bps < SCONED_MIN_RATE_BPS ||
          o->advice_bps > SCONED_MAX_RATE_BPS)
        return bad("--advice wants a rate from 100k to 1000G (e.g. 5M, "
                   "800k)");
      have_plan_options = 1;
      break;
    case OPT_ENFORCE:
      if (sconed_enforce_parse(optarg, &o->enforce))
        return bad("--enforce wants police, shape or none");
      have_plan_options = 1;
      break;
    case OPT_JSON:
      o->json = 1;
      break;
    case OPT_LOG_ADDRESSES:
      o->engine.log_addresses = 1;
      break;
    case OPT_MAX_FLOWS:
      if (sconed_parse_uint(optarg, 1U << 28, &n) || n == 0)
        return bad("--max-flows wants 1..268435456");
      o->engine.max_flows = (uint32_t)n;
      break;
    case OPT_MAX_SUBSCRIBERS:
      if (sconed_parse_uint(optarg, 16777200, &n))
        return bad("--max-subscribers wants 0..16777200");
      o->engine.max_subscribers = (uint32_t)n;
      break;
    case OPT_SEED: {
      char *end;
      unsigned long long v = strtoull(optarg, &end, 0);
      if (*optarg == '-' || *end)
        return bad("--seed wants a number");
      o->engine.seed = v;
      have_seed = 1;
      break;
    }
    case OPT_CHECK_CONFIG:
      o->check_config = optarg;
      break;
    case OPT_QUIET:
      o->quiet = 1;
      break;
    case OPT_LEGACY_DPI:
      o->legacy_dpi = 1;
      break;
    case OPT_HELP:
      fputs(usage, stdout);
      o->mode = SCONED_MODE_HELP;
      return 0;
    case OPT_NFQUEUE:
      if (parse_queues(&o->nfq, optarg)) {
        fprintf(stderr,
                "sconed: --nfqueue wants N or N:M (0..65535), not '%s'\n",
                optarg);
        return 2;
      }
      nfqueue = 1;
      break;
    case OPT_NFQ_BATCH:
      if (sconed_parse_uint(optarg, 1024, &n) || n == 0)
        return bad("--nfqueue-batch wants 1..1024");
      o->nfq.batch = (unsigned)n;
      o->nfq.batch_verdicts = n > 1;
      break;
    case OPT_NFQ_MAXLEN:
      if (sconed_parse_uint(optarg, 1U << 20, &n) || n == 0)
        return bad("--nfqueue-maxlen wants 1..1048576");
      o->nfq.queue_maxlen = (unsigned)n;
      break;
    case OPT_NFQ_THREADS:
      if (sconed_parse_uint(optarg, 1024, &n) || n == 0)
        return bad("--nfqueue-threads wants 1..1024");
      o->nfq.threads = (unsigned)n;
      break;
    case OPT_NFQ_NO_KEEPER:
      o->nfq.keeper = 0;
      break;
    case OPT_RELAY:
      o->relay.listen = optarg;
      break;
    case OPT_UPSTREAM:
      o->relay.upstream = optarg;
      break;
    case OPT_RELAY_IDLE:
      if (sconed_parse_uint(optarg, 86400, &n) || n == 0)
        return bad("--relay-idle wants seconds, 1..86400");
      o->relay.idle_ms = (unsigned)n * 1000;
      break;
    case OPT_CONTROL:
      o->control = optarg;
      break;
    case OPT_CONTROL_ANY:
      o->control_any = 1;
      break;
    case OPT_CONTROL_TOKEN_FILE:
      o->control_token_file = optarg;
      break;
    case OPT_DATAPATH:
      if (strcmp(optarg, "xdp") && strcmp(optarg, "engine"))
        return bad("--datapath wants engine or xdp");
      o->datapath_xdp = !strcmp(optarg, "xdp");
      break;
    case OPT_XDP:
      o->xdp_ifaces = optarg;
      break;
    case OPT_XDP_GENERIC:
      o->xdp_generic = 1;
      break;
    case OPT_POLICY_STORE:
      o->policy_store = optarg;
      break;
    case OPT_POLICY_NS:
      o->policy_ns = optarg;
      break;
    default:
      fputs(usage, stderr);
      return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "sconed: unexpected argument '%s'\n", argv[optind]);
    return 2;
  }
  int rc = settle_mode(o, have_plan_options, nfqueue);
  /* Offline runs are reproducible: the same capture gives the same output
   * byte for byte, which a random hash key would not promise once the
   * table is full. */
  if (rc == 0 && (o->mode == SCONED_MODE_OFFLINE || have_seed))
    o->engine.seed_source = SCONED_SEED_FIXED;
  return rc;
}
