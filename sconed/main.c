/*
 * sconed, the SCONE network element: reads the command line (options.c),
 * builds the config and the engine, then runs one datapath: the offline
 * pcap path with its summary (summary.c), or a live one (runner.c).
 */
#include "config.h"
#include "engine.h"
#include "legacy.h"
#include "nfq.h"
#include "options.h"
#include "pcap_path.h"
#include "runner.h"
#include "store.h"
#include "summary.h"
#include "xdp_run.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int quiet;

static void log_stderr(void *arg, int level, const char *msg) {
  (void)arg;
  if (quiet && level > SCONED_LOG_ERROR)
    return;
  fprintf(stderr, "sconed: %s\n", msg);
}

static int check_config(const char *path) {
  char err[512];
  sconed_config *cfg = sconed_config_load(path, err, sizeof(err));
  if (!cfg) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  printf("%s: ok (%zu plans, %zu capacities, %zu subscribers)%s\n", path,
         sconed_config_plan_count(cfg), sconed_config_capacity_count(cfg),
         sconed_config_subscriber_count(cfg),
         sconed_config_lab_period(cfg)
             ? "; a lab's period below 67 s: not draft-conforming"
             : "");
  sconed_config_free(cfg);
  return 0;
}

/* --legacy-dpi: the legacy element in front of the engine. */
static void legacy_fn(void *arg, uint8_t *pkt, size_t len, scone_tstamp now,
                      sconed_verdict *v) {
  legacy_dpi_process_ip(arg, pkt, len, now, v);
}

static int legacy_set_config(void *arg, sconed_config *c) {
  return legacy_dpi_set_config(arg, c);
}

/* The legacy element's own counters after the engine's summary (which
 * counts only the video flows it was given); with --json, as a "dpi"
 * member of the same object. */
static void legacy_print(const legacy_dpi *l, const char *summary, int json) {
  legacy_dpi_stats s;
  legacy_dpi_stats_get(l, &s);
  size_t n = strlen(summary);
  if (json) /* the summary object ends in "}\n": reopen it */
    while (n && summary[n - 1] != '}')
      n--;
  fwrite(summary, 1, json && n ? n - 1 : n, stdout);
  printf(
      json ? "  ,\"dpi\": {\"packets\": %llu, \"untracked\": %llu, "
             "\"scone_packets\": %llu, \"inspected_packets\": %llu, "
             "\"enforced_packets\": %llu, \"flows\": %llu, "
             "\"flows_classified\": %llu, \"video_flows\": %llu, "
             "\"sni_matches\": %llu, \"gave_up\": %llu}\n}\n"
           : "dpi: %llu packets (%llu untracked, %llu SCONE untouched, "
             "%llu inspected, %llu enforced); %llu flows: %llu "
             "classified, %llu video (%llu by sni), %llu given up\n",
      (unsigned long long)s.packets, (unsigned long long)s.untracked,
      (unsigned long long)s.scone_packets, (unsigned long long)s.dpi_packets,
      (unsigned long long)s.enforced_packets, (unsigned long long)s.flows_total,
      (unsigned long long)s.flows_classified, (unsigned long long)s.video_flows,
      (unsigned long long)s.sni_matches, (unsigned long long)s.gave_up);
}

static void legacy_stats(void *arg, uint64_t *out) {
  _Static_assert(sizeof(legacy_dpi_stats) <=
                     SCONED_DP_HOOK_STATS_MAX * sizeof(uint64_t),
                 "legacy_dpi_stats fits the datapath's stats buffer");
  legacy_dpi_stats s;
  legacy_dpi_stats_get(arg, &s);
  memcpy(out, &s, sizeof(s));
}

#define DF(n, t, field, h)                                                     \
  { n, t, h, offsetof(legacy_dpi_stats, field) }
static const sconed_counter_family legacy_families[] = {
    DF("sconed_dpi_packets_total", "counter", packets,
       "Packets the legacy element was offered."),
    DF("sconed_dpi_untracked_total", "counter", untracked,
       "Passed untouched: no TCP/UDP flow, or no free slot."),
    DF("sconed_dpi_scone_packets_total", "counter", scone_packets,
       "Datagrams led by a SCONE packet, passed untouched."),
    DF("sconed_dpi_inspected_packets_total", "counter", dpi_packets,
       "Packets nDPI looked at."),
    DF("sconed_dpi_enforced_packets_total", "counter", enforced_packets,
       "Packets of video flows given to the enforcement."),
    DF("sconed_dpi_flows_total", "counter", flows_total, "Flows seen."),
    DF("sconed_dpi_flows_classified_total", "counter", flows_classified,
       "Flows nDPI named."),
    DF("sconed_dpi_video_flows_total", "counter", video_flows,
       "Flows decided video (and throttled)."),
    DF("sconed_dpi_sni_matches_total", "counter", sni_matches,
       "Of them, by the [dpi] sni list alone."),
    DF("sconed_dpi_gave_up_total", "counter", gave_up,
       "Flows still unknown after max_packets."),
    DF("sconed_dpi_flows", "gauge", flows,
       "Slots holding a flow (an idle one until reused)."),
};
#undef DF

static int run_offline_legacy(sconed_engine *e, legacy_dpi *l,
                              const sconed_options *o) {
  char err[512];
  sconed_pcap_counts counts;
  if (sconed_pcap_run_fn(legacy_fn, l, o->pcap_in, o->pcap_out, &counts, err,
                         sizeof(err))) {
    fprintf(stderr, "sconed: %s\n", err);
    return 1;
  }
  char *sum = NULL;
  size_t sumlen = 0;
  FILE *m = open_memstream(&sum, &sumlen);
  if (!m) {
    fprintf(stderr, "sconed: out of memory\n");
    return 1;
  }
  sconed_summary_print(m, e, &counts, o->json);
  fclose(m);
  legacy_print(l, sum, o->json);
  free(sum);
  return 0;
}

static int apply_offline(void *arg, sconed_config *c) {
  return sconed_engine_set_config(arg, c);
}

static void log_policy(void *arg, const char *msg) {
  (void)arg;
  fprintf(stderr, "sconed: %s\n", msg);
}

/* Offline, one read of the store before the capture (a capture has no
 * "later" to follow), swapped in through apply as the live paths do. */
static int read_store_once(const sconed_options *o,
                           int (*apply)(void *arg, sconed_config *c),
                           void *arg) {
  char err[512];
  sconed_policy_store_settings ps = {.url = o->policy_store,
                                     .ns = o->policy_ns,
                                     .config_path = o->config,
                                     .apply = apply,
                                     .log = log_policy,
                                     .arg = arg};
  sconed_policy_store *st = sconed_policy_store_new(&ps, err, sizeof(err));
  int r = st ? sconed_policy_store_sync(st, err, sizeof(err)) : -1;
  sconed_policy_store_free(st);
  if (r < 0)
    fprintf(stderr, "sconed: %s\n", err);
  return r;
}

static int run_offline(sconed_engine *e, const sconed_options *o) {
  if (o->datapath_xdp)
    return sconed_xdp_offline(e, o);
  char err[512];
  sconed_pcap_counts counts;
  if (sconed_pcap_run(e, o->pcap_in, o->pcap_out, &counts, err, sizeof(err))) {
    fprintf(stderr, "sconed: %s\n", err);
    return 1;
  }
  sconed_summary_print(stdout, e, &counts, o->json);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], SCONED_NFQ_KEEPER_ARG))
    return sconed_nfq_keeper_main(argc, argv);
  sconed_options o;
  int rc = sconed_options_parse(&o, argc, argv);
  if (rc != 0 || o.mode == SCONED_MODE_HELP)
    return rc;
  if (o.mode == SCONED_MODE_CHECK_CONFIG)
    return check_config(o.check_config);

  char err[512];
  /* With a store and no file, nobody is a subscriber until the store
   * says who is: the built-in "everyone" plan would advise strangers. */
  sconed_config *cfg =
      o.config         ? sconed_config_load(o.config, err, sizeof(err))
      : o.policy_store ? sconed_config_parse("", "<store>", err, sizeof(err))
                       : sconed_config_default(o.advice_bps, o.enforce);
  if (!cfg) {
    fprintf(stderr, "%s\n", o.config ? err : "sconed: out of memory");
    return 1;
  }
  quiet = o.quiet;
  o.engine.log = log_stderr;
  sconed_engine *e = sconed_engine_new(&o.engine);
  legacy_dpi *l = NULL;
  if (e && o.legacy_dpi) {
    legacy_dpi_settings ls;
    legacy_dpi_settings_default(&ls);
    ls.max_flows = o.engine.max_flows;
    if (o.engine.seed_source == SCONED_SEED_FIXED)
      ls.seed = o.engine.seed;
    l = legacy_dpi_new(&ls, e);
    if (!l) {
      fprintf(stderr, "sconed: cannot start nDPI (memory)\n");
      sconed_config_free(cfg);
      sconed_engine_free(e);
      return 1;
    }
  }
  if (!e ||
      (l ? legacy_dpi_set_config(l, cfg) : sconed_engine_set_config(e, cfg))) {
    fprintf(stderr, "sconed: cannot create the engine (memory, or no "
                    "random source)\n");
    if (!e)
      sconed_config_free(cfg);
    sconed_engine_free(e);
    return 1;
  }
  if (o.mode == SCONED_MODE_OFFLINE && o.policy_store &&
      read_store_once(&o, l ? legacy_set_config : apply_offline,
                      l ? (void *)l : (void *)e) < 0)
    rc = 1;
  else if (l)
    rc = o.mode == SCONED_MODE_OFFLINE
             ? run_offline_legacy(e, l, &o)
             : sconed_runner_run_with(
                   e, &o,
                   &(const sconed_dp_hooks){
                       legacy_fn, legacy_set_config, legacy_stats,
                       legacy_families,
                       sizeof(legacy_families) / sizeof(*legacy_families), l});
  else
    rc = o.mode == SCONED_MODE_OFFLINE ? run_offline(e, &o)
         : o.mode == SCONED_MODE_XDP   ? sconed_xdp_live(e, &o)
                                       : sconed_runner_run(e, &o);
  legacy_dpi_free(l);
  sconed_engine_free(e);
  return rc;
}
