#include "config_internal.h" /* sconed_parse_uint, as the command line */
#include "datapath.h"

#include <stdio.h>
#include <string.h>

const char sconed_dp_usage[] =
    "Live datapaths:\n"
    "  --nfqueue N[:M]         inline: serve NFQUEUE queues N..M (one thread,\n"
    "                          one socket); see scripts/sconed-iptables.sh\n"
    "  --nfqueue-batch K       packets per receive (default 32; 1 = one at a\n"
    "                          time, single verdicts only)\n"
    "  --nfqueue-maxlen K      kernel queue length per queue (default 4096)\n"
    "  --relay ADDR:PORT       UDP relay: listen here ([::1]:4433 for IPv6)\n"
    "  --upstream HOST:PORT    ... and forward to this server\n"
    "  --relay-idle SEC        forget a silent relay client (default 60)\n"
    "  --control ADDR:PORT|PATH  HTTP control: GET /metrics, GET /state,\n"
    "                          POST /capacity?name=X&bps=N, POST /reload;\n"
    "                          loopback only unless --control-any; a PATH\n"
    "                          is a Unix socket\n";

void sconed_dp_options_default(sconed_dp_options *o) {
  memset(o, 0, sizeof(*o));
  o->batch = 32;
  o->batch_verdicts = 1;
  o->queue_maxlen = 4096;
  o->max_held = 16384;
  o->relay_idle_ms = 60000;
}

static int parse_queues(sconed_dp_options *o, const char *arg) {
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
  o->nfqueue = 1;
  o->queue_lo = (uint16_t)a;
  o->queue_hi = (uint16_t)b;
  return 0;
}

int sconed_dp_getopt(sconed_dp_options *o, int code, const char *arg) {
  uint64_t v;
  switch (code) {
  case SCONED_DP_OPT_NFQUEUE:
    if (parse_queues(o, arg) == 0)
      return 1;
    fprintf(stderr, "sconed: --nfqueue wants N or N:M (0..65535), not '%s'\n",
            arg);
    return -1;
  case SCONED_DP_OPT_RELAY:
    o->relay_listen = arg;
    return 1;
  case SCONED_DP_OPT_UPSTREAM:
    o->relay_upstream = arg;
    return 1;
  case SCONED_DP_OPT_CONTROL:
    o->control = arg;
    return 1;
  case SCONED_DP_OPT_CONTROL_ANY:
    o->control_any = 1;
    return 1;
  case SCONED_DP_OPT_NFQ_BATCH:
    if (sconed_parse_uint(arg, 1024, &v) == 0 && v > 0) {
      o->batch = (unsigned)v;
      o->batch_verdicts = v > 1;
      return 1;
    }
    fprintf(stderr, "sconed: --nfqueue-batch wants 1..1024\n");
    return -1;
  case SCONED_DP_OPT_NFQ_MAXLEN:
    if (sconed_parse_uint(arg, 1u << 20, &v) == 0 && v > 0) {
      o->queue_maxlen = (unsigned)v;
      return 1;
    }
    fprintf(stderr, "sconed: --nfqueue-maxlen wants 1..1048576\n");
    return -1;
  case SCONED_DP_OPT_RELAY_IDLE:
    if (sconed_parse_uint(arg, 86400, &v) == 0 && v > 0) {
      o->relay_idle_ms = (unsigned)v * 1000;
      return 1;
    }
    fprintf(stderr, "sconed: --relay-idle wants seconds, 1..86400\n");
    return -1;
  default:
    return 0;
  }
}

int sconed_dp_wanted(const sconed_dp_options *o) {
  return o->nfqueue || o->relay_listen || o->relay_upstream || o->control;
}

int sconed_dp_validate(const sconed_dp_options *o) {
  if (o->nfqueue && (o->relay_listen || o->relay_upstream)) {
    fprintf(stderr, "sconed: --nfqueue and --relay are separate modes\n");
    return -1;
  }
  if (!o->relay_listen != !o->relay_upstream) {
    fprintf(stderr, "sconed: --relay and --upstream go together\n");
    return -1;
  }
  if (o->control && !o->nfqueue && !o->relay_listen) {
    fprintf(stderr, "sconed: --control needs --nfqueue or --relay\n");
    return -1;
  }
  return 0;
}
