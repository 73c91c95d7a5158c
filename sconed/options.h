/*
 * sconed's command line: which mode to run (check a config, the offline
 * pcap path, or a live datapath) and the settings of the engine and the
 * datapath it runs. Parsing only: nothing here opens a file or a socket.
 */
#ifndef SCONED_OPTIONS_H
#define SCONED_OPTIONS_H

#include "engine.h"
#include "nfq.h"
#include "relay.h"

#include <stdint.h>

typedef enum sconed_mode {
  SCONED_MODE_HELP = 0,     /* --help: the usage went to stdout */
  SCONED_MODE_CHECK_CONFIG, /* --check-config FILE */
  SCONED_MODE_OFFLINE,      /* --pcap-in IN --pcap-out OUT */
  SCONED_MODE_NFQUEUE,      /* --nfqueue N[:M] */
  SCONED_MODE_RELAY,        /* --relay LISTEN --upstream HOST:PORT */
  SCONED_MODE_XDP,          /* --xdp IFACE[,IFACE...] */
} sconed_mode;

typedef struct sconed_options {
  sconed_mode mode;
  const char *check_config;
  /* The config file, or NULL for the built-in plan of advice_bps (0: the
   * default) and enforce. */
  const char *config;
  uint64_t advice_bps;
  sconed_enforce enforce;
  const char *pcap_in, *pcap_out;
  int json;  /* offline summary as JSON */
  int quiet; /* no per-flow log lines */
  /* Today's DPI-targeted video throttling (legacy/) in front of the
   * engine's enforcement instead of SCONE: offline and NFQUEUE only. */
  int legacy_dpi;
  /* Seed source, flow and subscriber budgets and log_addresses are set
   * here; the log callback is the caller's. */
  sconed_engine_settings engine;
  sconed_nfq_settings nfq;
  sconed_relay_settings relay;
  const char *control; /* ADDR:PORT or a Unix socket path; NULL: none */
  int control_any;     /* a non-loopback control address is allowed */
  const char *control_token_file; /* bearer token for the control; NULL */
  int datapath_xdp;    /* --datapath xdp: offline through the XDP program */
  const char *xdp_ifaces; /* --xdp: attach to these */
  int xdp_generic;        /* --xdp-generic: skb mode instead of native */
  /* redis://HOST:PORT of the shared policy store, and its namespace
   * (NULL: "scone"); NULL: none (docs/fleet.md). */
  const char *policy_store, *policy_ns;
} sconed_options;

/* Parses argv into o. Returns 0 (o->mode says what to run), or 2 for a
 * usage error, whose reason went to stderr. */
int sconed_options_parse(sconed_options *o, int argc, char **argv);

#endif
