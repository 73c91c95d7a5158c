#include "xdp_run.h"

#include "config.h"
#include "summary.h"
#include "xdp_mon.h"
#include "xdp_path.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
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

/* The program's clock (bpf_ktime_get_coarse_ns), which the monitoring
 * loop's period numbers must match. */
static uint64_t coarse_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* XDP cannot hold a packet: a plan that shapes is policed on this path
 * (docs/xdp.md, Shaping). Said once per config, without the plan. */
static void shaping_note(const sconed_engine *e) {
  size_t n = sconed_engine_prefix_count(e);
  for (size_t i = 0; i < n; i++) {
    sconed_engine_prefix p;
    if (sconed_engine_prefix_get(e, i, &p) == 0 &&
        p.action == SCONED_ENFORCE_SHAPE) {
      fprintf(stderr, "sconed: xdp: plans that shape are policed on this "
                      "path (XDP cannot hold packets)\n");
      return;
    }
  }
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
  sconed_xdp_mon *mon = sconed_xdp_mon_new(x, err, sizeof(err));
  if (!mon) {
    fprintf(stderr, "sconed: %s\n", err);
    sconed_xdp_close(x);
    return 1;
  }
  fprintf(stderr, "sconed: xdp fast path on %s (%s mode)\n", o->xdp_ifaces,
          o->xdp_generic ? "generic" : "native");
  shaping_note(e);
  fflush(stderr);
  uint64_t next = 0;
  for (;;) {
    uint64_t now = coarse_now();
    if (now >= next) {
      sconed_xdp_mon_scan(mon, e, now);
      fflush(stderr);
      sconed_engine_timing t;
      sconed_engine_timing_get(e, &t);
      next = now + sconed_xdp_mon_interval(t.period);
    }
    uint64_t wait = next > now ? next - now : 0;
    struct timespec ts = {(time_t)(wait / 1000000000ULL),
                          (long)(wait % 1000000000ULL)};
    siginfo_t si;
    int sig = sigtimedwait(&set, &si, &ts);
    if (sig == SIGHUP) {
      reload(e, x, o);
      shaping_note(e);
      fflush(stderr);
    } else if (sig == SIGINT || sig == SIGTERM) {
      break;
    }
  }
  sconed_xdp_mon_stats ms;
  sconed_xdp_mon_stats_get(mon, &ms);
  fprintf(stderr,
          "sconed: xdp monitoring: %llu reads, %llu flows made "
          "non-conforming and policed, %llu released\n",
          (unsigned long long)ms.scans, (unsigned long long)ms.transitions,
          (unsigned long long)ms.forgiven);
  sconed_xdp_mon_free(mon);
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
