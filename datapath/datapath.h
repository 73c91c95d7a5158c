/*
 * sconed's live datapaths: thin adapters that feed the sans-I/O engine from
 * the network and carry its verdicts out.
 *
 *   --nfqueue N[:M]            inline on a router: the kernel queues UDP
 *                              packets (scripts/sconed-iptables.sh) and one
 *                              thread serves queues N..M on one socket
 *   --relay LISTEN --upstream HOST:PORT
 *                              unprivileged UDP relay in front of a server
 *   --control ADDR:PORT|PATH   HTTP control and Prometheus metrics (off by
 *                              default; ADDR must be loopback unless
 *                              --control-any is given; PATH is a Unix socket)
 *
 * The engine is single-threaded, so the packet thread and the control
 * thread share it under one mutex that the packet thread takes once per
 * receive batch (see dp.h).
 *
 * sconed_main.c wiring: put SCONED_DP_LONGOPTS in its getopt_long table,
 * hand unknown option codes to sconed_dp_getopt(), and when
 * sconed_dp_wanted() call sconed_dp_run() with the configured engine.
 */
#ifndef SCONED_DATAPATH_H
#define SCONED_DATAPATH_H

#include "engine.h"

#include <stdint.h>

typedef struct sconed_dp_options {
  int nfqueue; /* 1 when --nfqueue was given */
  uint16_t queue_lo, queue_hi;
  const char *relay_listen;   /* "127.0.0.1:4433", "[::1]:4433" */
  const char *relay_upstream; /* "HOST:PORT" */
  const char *control;        /* "127.0.0.1:9100", "[::1]:9100" or a path */
  int control_any;            /* allow a non-loopback control address */
  /* NFQUEUE tuning (the bench varies them). */
  unsigned batch;         /* messages per receive; 1 = one at a time */
  int batch_verdicts;     /* accept runs of untouched packets at once */
  unsigned queue_maxlen;  /* kernel queue length per queue */
  unsigned max_held;      /* packets the shaper may hold, all paths */
  unsigned relay_idle_ms; /* a silent relay client is forgotten after this */
} sconed_dp_options;

void sconed_dp_options_default(sconed_dp_options *o);

/* getopt_long codes of the datapath's options, clear of any short option. */
enum {
  SCONED_DP_OPT_NFQUEUE = 0x4400,
  SCONED_DP_OPT_RELAY,
  SCONED_DP_OPT_UPSTREAM,
  SCONED_DP_OPT_CONTROL,
  SCONED_DP_OPT_CONTROL_ANY,
  SCONED_DP_OPT_NFQ_BATCH,
  SCONED_DP_OPT_NFQ_MAXLEN,
  SCONED_DP_OPT_RELAY_IDLE,
};

/* struct option initialisers for getopt_long (needs <getopt.h>). */
#define SCONED_DP_LONGOPTS                                                     \
  {"nfqueue", required_argument, 0, SCONED_DP_OPT_NFQUEUE},                    \
      {"relay", required_argument, 0, SCONED_DP_OPT_RELAY},                    \
      {"upstream", required_argument, 0, SCONED_DP_OPT_UPSTREAM},              \
      {"control", required_argument, 0, SCONED_DP_OPT_CONTROL},                \
      {"control-any", no_argument, 0, SCONED_DP_OPT_CONTROL_ANY},              \
      {"nfqueue-batch", required_argument, 0, SCONED_DP_OPT_NFQ_BATCH},        \
      {"nfqueue-maxlen", required_argument, 0, SCONED_DP_OPT_NFQ_MAXLEN}, {    \
    "relay-idle", required_argument, 0, SCONED_DP_OPT_RELAY_IDLE               \
  }

/* Usage text for the options above, for --help. */
extern const char sconed_dp_usage[];

/* Applies one option. Returns 1 if code is a datapath option (applied), 0
 * if it is not one, -1 for a bad argument (a message went to stderr). */
int sconed_dp_getopt(sconed_dp_options *o, int code, const char *arg);

/* 1 when any live-datapath option was given (then call sconed_dp_run,
 * which also rejects incomplete combinations such as --control alone). */
int sconed_dp_wanted(const sconed_dp_options *o);

/* Checks the combination (one datapath, --upstream with --relay, ...);
 * returns 0 or -1 with a message on stderr. */
int sconed_dp_validate(const sconed_dp_options *o);

/* Runs the live datapath on e until SIGINT or SIGTERM; SIGHUP and POST
 * /reload load config_path (NULL: reload is refused) and swap it in
 * atomically, keeping the old config on any error. The engine stays the
 * caller's. Returns a process exit status. */
int sconed_dp_run(sconed_engine *e, const sconed_dp_options *o,
                  const char *config_path);

#endif
