#include "xdp_run.h"

#include "config.h"
#include "summary.h"
#include "xdp_path.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static size_t max_flows(const sconed_options *o) {
  return o->engine.max_flows ? o->engine.max_flows : 65536;
}

int sconed_xdp_offline(sconed_engine *e, const sconed_options *o) {
  char err[512];
  sconed_xdp *x = sconed_xdp_open(e, max_flows(o), err, sizeof(err));
  if (!x) {
    fprintf(stderr, "sconed: %s\n", err);
    return 1;
  }
  sconed_pcap_counts counts;
  int rc = sconed_xdp_pcap_run(x, o->pcap_in, o->pcap_out, &counts, err,
                               sizeof(err));
  if (rc) {
    fprintf(stderr, "sconed: %s\n", err);
    sconed_xdp_close(x);
    return 1;
  }
  sconed_xdp_counts c;
  sconed_xdp_counts_get(x, &c);
  if (o->json)
    printf("{\"datapath\":\"xdp\",\"read\":%llu,\"written\":%llu,"
           "\"modified\":%llu,\"dropped\":%llu,\"udp\":%llu,\"skipped\":%llu,"
           "\"scone_packets\":%llu,\"rewrites\":%llu,\"confirms\":%llu,"
           "\"flows\":%llu}\n",
           (unsigned long long)counts.read, (unsigned long long)counts.written,
           (unsigned long long)counts.modified,
           (unsigned long long)counts.dropped, (unsigned long long)c.udp,
           (unsigned long long)c.skipped, (unsigned long long)c.scone,
           (unsigned long long)c.rewrites, (unsigned long long)c.confirms,
           (unsigned long long)c.new_flows);
  else
    printf("datapath xdp: %llu packets read, %llu written, %llu modified, "
           "%llu dropped; %llu UDP, %llu passed unparsed, %llu SCONE "
           "packets, %llu rewrites, %llu confirms, %llu flows\n",
           (unsigned long long)counts.read, (unsigned long long)counts.written,
           (unsigned long long)counts.modified,
           (unsigned long long)counts.dropped, (unsigned long long)c.udp,
           (unsigned long long)c.skipped, (unsigned long long)c.scone,
           (unsigned long long)c.rewrites, (unsigned long long)c.confirms,
           (unsigned long long)c.new_flows);
  sconed_xdp_close(x);
  return 0;
}

/* SIGHUP: the config file again, its advice published; a file that does
 * not parse is reported and the running config stays. */
static void reload(sconed_engine *e, sconed_xdp *x, const sconed_options *o) {
  char err[512];
  if (!o->config) {
    fprintf(stderr, "sconed: reload: no config file (started without one)\n");
    return;
  }
  sconed_config *c = sconed_config_load(o->config, err, sizeof(err));
  if (!c) {
    fprintf(stderr, "sconed: reload failed: %s\n", err);
    return;
  }
  if (sconed_engine_set_config(e, c) || sconed_xdp_publish(x, e))
    fprintf(stderr, "sconed: reload failed: cannot publish the advice\n");
  else
    fprintf(stderr, "sconed: reloaded %s\n", o->config);
}

int sconed_xdp_live(sconed_engine *e, const sconed_options *o) {
  char err[512];
  /* Signals are taken synchronously (sigwaitinfo), blocked from here on. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigprocmask(SIG_BLOCK, &set, NULL);
  sconed_xdp *x = sconed_xdp_open(e, max_flows(o), err, sizeof(err));
  if (!x) {
    fprintf(stderr, "sconed: %s\n", err);
    return 1;
  }
  if (sconed_xdp_attach(x, o->xdp_ifaces, o->xdp_generic, err, sizeof(err))) {
    fprintf(stderr, "sconed: %s\n", err);
    sconed_xdp_close(x);
    return 1;
  }
  fprintf(stderr, "sconed: xdp fast path on %s (%s mode)\n", o->xdp_ifaces,
          o->xdp_generic ? "generic" : "native");
  fflush(stderr);
  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&set, &si);
    if (sig == SIGHUP) {
      reload(e, x, o);
      fflush(stderr);
    } else if (sig == SIGINT || sig == SIGTERM) {
      break;
    }
  }
  sconed_xdp_counts c;
  sconed_xdp_counts_get(x, &c);
  fprintf(stderr,
          "sconed: xdp: %llu packets, %llu UDP, %llu SCONE packets, %llu "
          "rewrites, %llu drops, %llu flows\n",
          (unsigned long long)c.packets, (unsigned long long)c.udp,
          (unsigned long long)c.scone, (unsigned long long)c.rewrites,
          (unsigned long long)c.drops, (unsigned long long)c.new_flows);
  sconed_xdp_close(x);
  return 0;
}
