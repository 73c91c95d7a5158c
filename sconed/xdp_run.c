#include "xdp_run.h"

#include "config.h"
#include "control.h"
#include "dp.h"
#include "runner.h"
#include "summary.h"
#include "xdp_mon.h"
#include "xdp_path.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>
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

/* The live path's state, shared by the monitoring loop and (under the
 * dp lock) the control thread. */
typedef struct xdp_live {
  sconed_engine *e;
  sconed_xdp *x;
  sconed_xdp_mon *mon;
  uint64_t advice_gen; /* of the advice last published */
  uint64_t publish_errors;
} xdp_live;

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
      sconed_dp_log("xdp: plans that shape are policed on this path (XDP "
                    "cannot hold packets)");
      return;
    }
  }
}

/* The engine's advice into the program's maps when it changed (a reload,
 * a capacity set on the control endpoint). Under the dp lock. */
static int publish_changed(xdp_live *l) {
  uint64_t gen = sconed_engine_advice_gen(l->e);
  if (gen == l->advice_gen)
    return 0;
  if (sconed_xdp_publish(l->x, l->e)) {
    l->publish_errors++;
    sconed_dp_log("xdp: cannot publish the advice");
    return -1;
  }
  l->advice_gen = gen;
  shaping_note(l->e);
  return 0;
}

/* Every config change (SIGHUP, POST /reload, POST /optin): the engine
 * derives the advice, published at once so a reload's reply is true. */
static int live_set_config(void *arg, sconed_config *c) {
  xdp_live *l = arg;
  if (sconed_engine_set_config(l->e, c))
    return -1;
  return publish_changed(l);
}

static void live_process(void *arg, uint8_t *pkt, size_t len, scone_tstamp now,
                         sconed_verdict *v) {
  /* No packet reaches user space on this path. */
  (void)arg, (void)pkt, (void)len, (void)now, (void)v;
}

/* /metrics families of the XDP path: the program's counters and the
 * monitoring loop's. Per-plan figures are not split out: the program
 * counts per flow, and flows carry no plan (docs/xdp.md). */
typedef struct xdp_metrics {
  uint64_t packets, udp, skipped, scone, rewrites, confirms, drops, new_flows,
      flow_full, enforced, sbucket_full;
  uint64_t reads, flows, advised, nonconforming, transitions, released,
      police_errors, publish_errors;
  uint64_t subs, subs_nc, sub_transitions, sub_released;
} xdp_metrics;

static const sconed_counter_family xdp_families[] = {
    {"sconed_xdp_packets_total", "counter", "Packets the XDP program saw.",
     offsetof(xdp_metrics, packets)},
    {"sconed_xdp_udp_total", "counter", "Whole UDP datagrams it parsed.",
     offsetof(xdp_metrics, udp)},
    {"sconed_xdp_skipped_total", "counter",
     "Packets passed untouched unparsed (not IP/UDP, fragments, malformed).",
     offsetof(xdp_metrics, skipped)},
    {"sconed_xdp_scone_packets_total", "counter",
     "SCONE packets on QUIC flows.", offsetof(xdp_metrics, scone)},
    {"sconed_xdp_rewrites_total", "counter",
     "SCONE packets whose signal it lowered.", offsetof(xdp_metrics, rewrites)},
    {"sconed_xdp_confirms_total", "counter",
     "SCONE packets already at or below the advice.",
     offsetof(xdp_metrics, confirms)},
    {"sconed_xdp_drops_total", "counter", "Packets the policer dropped.",
     offsetof(xdp_metrics, drops)},
    {"sconed_xdp_flows_created_total", "counter", "Flow entries created.",
     offsetof(xdp_metrics, new_flows)},
    {"sconed_xdp_flows_pushed_out_total", "counter",
     "Live flows pushed out of a full table.",
     offsetof(xdp_metrics, flow_full)},
    {"sconed_xdp_plan_enforced_total", "counter",
     "Packets of flows without advice charged to their subscriber's bucket "
     "at the plan's rate.",
     offsetof(xdp_metrics, enforced)},
    {"sconed_xdp_plan_bucket_full_total", "counter",
     "Packets passed unenforced: no room for their subscriber's bucket.",
     offsetof(xdp_metrics, sbucket_full)},
    {"sconed_xdp_monitor_reads_total", "counter",
     "Reads of the flow table by the monitoring loop.",
     offsetof(xdp_metrics, reads)},
    {"sconed_xdp_flows", "gauge", "Flows in the table at the last read.",
     offsetof(xdp_metrics, flows)},
    {"sconed_xdp_flows_advised", "gauge",
     "SCONE flows holding advice at the last read.",
     offsetof(xdp_metrics, advised)},
    {"sconed_xdp_flows_nonconforming", "gauge",
     "Flows over their advice, policed.", offsetof(xdp_metrics, nonconforming)},
    {"sconed_xdp_nonconforming_transitions_total", "counter",
     "Times a flow became non-conforming.", offsetof(xdp_metrics, transitions)},
    {"sconed_xdp_released_total", "counter",
     "Times a policed flow was released, conforming again.",
     offsetof(xdp_metrics, released)},
    {"sconed_xdp_police_errors_total", "counter",
     "Policer map updates that failed (map full).",
     offsetof(xdp_metrics, police_errors)},
    {"sconed_xdp_publish_errors_total", "counter",
     "Advice publications that failed.", offsetof(xdp_metrics, publish_errors)},
    {"sconed_xdp_subscribers", "gauge",
     "Subscribers with SCONE flows judged as a whole at the last read.",
     offsetof(xdp_metrics, subs)},
    {"sconed_xdp_subscribers_nonconforming", "gauge",
     "Subscribers over their advice together, policed on one bucket.",
     offsetof(xdp_metrics, subs_nc)},
    {"sconed_xdp_subscriber_transitions_total", "counter",
     "Times a subscriber became non-conforming (per direction).",
     offsetof(xdp_metrics, sub_transitions)},
    {"sconed_xdp_subscribers_released_total", "counter",
     "Times a policed subscriber was released, conforming again.",
     offsetof(xdp_metrics, sub_released)},
};
_Static_assert(sizeof(xdp_metrics) / sizeof(uint64_t) <=
                   SCONED_DP_HOOK_STATS_MAX,
               "the hook's stats buffer");

static void live_stats(void *arg, uint64_t *out) {
  xdp_live *l = arg;
  sconed_xdp_counts c;
  sconed_xdp_counts_get(l->x, &c);
  sconed_xdp_mon_stats ms;
  sconed_xdp_mon_stats_get(l->mon, &ms);
  xdp_metrics m = {c.packets,
                   c.udp,
                   c.skipped,
                   c.scone,
                   c.rewrites,
                   c.confirms,
                   c.drops,
                   c.new_flows,
                   c.flow_full,
                   c.enforced,
                   c.sbucket_full,
                   ms.scans,
                   ms.flows,
                   ms.judged,
                   ms.nonconforming,
                   ms.transitions,
                   ms.forgiven,
                   ms.police_errors,
                   l->publish_errors,
                   ms.subs,
                   ms.subs_nonconforming,
                   ms.sub_transitions,
                   ms.sub_released};
  memcpy(out, &m, sizeof(m));
}

static void notify_systemd(const char *state) {
  (void)sd_notify(0, state);
}

int sconed_xdp_live(sconed_engine *e, const sconed_options *o) {
  char err[512];
  xdp_live l = {.e = e};
  sconed_dp_hooks hooks = {.process = live_process,
                           .set_config = live_set_config,
                           .stats = live_stats,
                           .families = xdp_families,
                           .nfamilies =
                               sizeof(xdp_families) / sizeof(xdp_families[0]),
                           .arg = &l};
  sconed_dp dp;
  sconed_dp_init(&dp, e, o->config);
  dp.mode = "xdp";
  dp.notify = notify_systemd;
  dp.hooks = &hooks;
  /* Before the control thread exists, so that it inherits the mask and
   * every signal reaches this thread's signalfd. */
  if (sconed_dp_signals_open(&dp) < 0) {
    sconed_dp_log("signals: %s", strerror(errno));
    sconed_dp_destroy(&dp);
    return 1;
  }
  int rc = 1;
  sconed_control *ctl = NULL;
  l.x = sconed_xdp_open(e, max_flows(o), err, sizeof(err));
  if (!l.x) {
    fprintf(stderr, "sconed: %s\n", err);
    goto out;
  }
  l.advice_gen = sconed_engine_advice_gen(e);
  if (sconed_xdp_attach(l.x, o->xdp_ifaces, o->xdp_generic, err, sizeof(err))) {
    fprintf(stderr, "sconed: %s\n", err);
    goto out;
  }
  l.mon = sconed_xdp_mon_new(l.x, err, sizeof(err));
  if (!l.mon) {
    fprintf(stderr, "sconed: %s\n", err);
    goto out;
  }
  /* The store's changes come through dp's one swap, live_set_config,
   * which publishes them at once, as a reload is; so the program must be
   * loaded first. */
  if (o->policy_store && !(dp.policy = sconed_runner_start_store(&dp, o)))
    goto out;
  if (o->control &&
      !(ctl = sconed_control_start(&dp, o->control, o->control_any,
                                   o->control_token_file)))
    goto out;
  fprintf(stderr, "sconed: xdp fast path on %s (%s mode)\n", o->xdp_ifaces,
          o->xdp_generic ? "generic" : "native");
  shaping_note(e);
  fflush(stderr);
  sconed_dp_notify(&dp, "READY=1");
  uint64_t next = 0;
  for (;;) {
    uint64_t now = coarse_now();
    if (now >= next) {
      sconed_dp_lock_pkt(&dp);
      publish_changed(&l);
      sconed_xdp_mon_scan(l.mon, e, now);
      sconed_engine_timing t;
      sconed_engine_timing_get(e, &t);
      sconed_dp_unlock_pkt(&dp);
      fflush(stderr);
      next = now + sconed_xdp_mon_interval(t.period);
    }
    uint64_t wait_ns = next > now ? next - now : 0;
    struct pollfd pfd = {.fd = dp.sigfd, .events = POLLIN};
    int n = poll(&pfd, 1, (int)(wait_ns / 1000000) + 1);
    if (n > 0 && sconed_dp_signals_handle(&dp))
      break;
    fflush(stderr);
  }
  rc = 0;
  sconed_xdp_counts c;
  sconed_xdp_counts_get(l.x, &c);
  fprintf(stderr,
          "sconed: xdp: %llu packets, %llu UDP, %llu SCONE packets, %llu "
          "rewrites, %llu drops, %llu flows\n",
          (unsigned long long)c.packets, (unsigned long long)c.udp,
          (unsigned long long)c.scone, (unsigned long long)c.rewrites,
          (unsigned long long)c.drops, (unsigned long long)c.new_flows);
  sconed_xdp_mon_stats ms;
  sconed_xdp_mon_stats_get(l.mon, &ms);
  fprintf(stderr,
          "sconed: xdp monitoring: %llu reads, %llu flows made "
          "non-conforming and policed, %llu released\n",
          (unsigned long long)ms.scans, (unsigned long long)ms.transitions,
          (unsigned long long)ms.forgiven);
out:
  sconed_control_stop(ctl);
  sconed_policy_store_free(dp.policy);
  sconed_xdp_mon_free(l.mon);
  sconed_xdp_close(l.x);
  sconed_dp_destroy(&dp);
  return rc;
}
