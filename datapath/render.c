#include "render.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

typedef struct sbuf {
  char *p;
  size_t len, cap;
  int oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void sb_printf(sbuf *b, const char *fmt, ...) {
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = b->oom ? 0 : vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (b->oom || n < 0)
      return;
    if ((size_t)n < b->cap - b->len) {
      b->len += (size_t)n;
      return;
    }
    size_t cap = (b->cap + (size_t)n + 1) * 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
}

/* Prometheus label values escape backslash, quote and newline. */
static void sb_label(sbuf *b, const char *s) {
  for (; *s; s++) {
    if (*s == '\\' || *s == '"')
      sb_printf(b, "\\%c", *s);
    else if (*s == '\n')
      sb_printf(b, "\\n");
    else
      sb_printf(b, "%c", *s);
  }
}

/* One family per plan field: the engine's per-plan callback order is kept
 * in a small array first, since Prometheus wants each family together. */
typedef struct plan_row {
  char name[128];
  sconed_plan_metrics m;
} plan_row;

typedef struct plan_rows {
  plan_row *row;
  size_t n, cap;
} plan_rows;

static void collect(const sconed_plan_metrics *m, void *arg) {
  plan_rows *r = arg;
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 8;
    plan_row *p = realloc(r->row, cap * sizeof(*p));
    if (!p)
      return;
    r->row = p;
    r->cap = cap;
  }
  plan_row *row = &r->row[r->n++];
  snprintf(row->name, sizeof(row->name), "%s", m->plan ? m->plan : "");
  row->m = *m;
  row->m.plan = NULL;
}

/* A metric family read as a uint64_t (every field of the stats structs is
 * one) at off in its struct, so that each exported field is one table line
 * rather than one call. */
typedef sconed_counter_family family;

#define FAM(st, n, t, field, h)                                                \
  { n, t, h, offsetof(st, field) }
#define PF(n, t, field, h) FAM(sconed_plan_metrics, n, t, field, h)
#define COUNT(a) (sizeof(a) / sizeof(*(a)))

static uint64_t field_at(const void *st, const family *f) {
  uint64_t v;
  memcpy(&v, (const char *)st + f->off, sizeof(v));
  return v;
}

static const family plan_families[] = {
    PF("sconed_packets_total", "counter", packets,
       "UDP packets of the plan's subscribers."),
    PF("sconed_bytes_total", "counter", bytes, "Their bytes."),
    PF("sconed_scone_packets_total", "counter", scone_packets,
       "Of them, datagrams led by a SCONE packet."),
    PF("sconed_rewrites_total", "counter", rewrites,
       "SCONE packets whose rate signal this element lowered."),
    PF("sconed_confirms_total", "counter", confirms,
       "SCONE packets already at or below the advice."),
    PF("sconed_drops_total", "counter", drops,
       "Packets dropped by the policer or a full shaper."),
    PF("sconed_delays_total", "counter", delays, "Packets the shaper delayed."),
    PF("sconed_flows_admitted_total", "counter", flows_total,
       "Flows admitted since start."),
    PF("sconed_flows", "gauge", flows, "Flows in the table."),
    PF("sconed_scone_flows", "gauge", scone_flows, "SCONE-active flows."),
    PF("sconed_flows_conforming", "gauge", conforming,
       "SCONE-active flows judged to follow their advice."),
    PF("sconed_flows_nonconforming", "gauge", nonconforming,
       "Flows over their advice."),
    PF("sconed_nonconforming_transitions_total", "counter", transitions,
       "Times a flow became non-conforming."),
    PF("sconed_subscribers_nonconforming", "gauge", nonconforming_subscribers,
       "Subscribers whose flows together are over their advice."),
    PF("sconed_subscriber_nonconforming_transitions_total", "counter",
       subscriber_transitions, "Times a subscriber became non-conforming."),
};

static void plan_metrics(sbuf *b, const plan_rows *r) {
  for (size_t f = 0; f < COUNT(plan_families); f++) {
    const family *pf = &plan_families[f];
    sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", pf->name, pf->help, pf->name,
              pf->type);
    for (size_t i = 0; i < r->n; i++) {
      sb_printf(b, "%s{plan=\"", pf->name);
      sb_label(b, r->row[i].name);
      sb_printf(b, "\"} %llu\n",
                (unsigned long long)field_at(&r->row[i].m, pf));
    }
  }
  /* Prometheus' base unit for data is the byte, bits included: bit/s / 8,
   * printed exactly (eighths are three decimals). */
  sb_printf(b, "# HELP sconed_advice_bytes_per_second Advice of the plan "
               "(before capacities), 0 = none.\n# TYPE "
               "sconed_advice_bytes_per_second gauge\n");
  for (size_t i = 0; i < r->n; i++) {
    for (int d = 0; d < 2; d++) {
      uint64_t bps = d ? r->row[i].m.uplink_bps : r->row[i].m.downlink_bps;
      sb_printf(b, "sconed_advice_bytes_per_second{plan=\"");
      sb_label(b, r->row[i].name);
      sb_printf(b, "\",direction=\"%s\"} %llu", d ? "uplink" : "downlink",
                (unsigned long long)(bps / 8));
      if (bps % 8)
        sb_printf(b, ".%03u", (unsigned)(bps % 8 * 125));
      sb_printf(b, "\n");
    }
  }
}

static void one(sbuf *b, const char *name, const char *type, const char *help,
                const char *labels, uint64_t v) {
  sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s%s %llu\n", name, help, name,
            type, name, labels, (unsigned long long)v);
}

static void families(sbuf *b, const family *f, size_t n, const void *st,
                     const char *labels) {
  for (size_t i = 0; i < n; i++)
    one(b, f[i].name, f[i].type, f[i].help, labels, field_at(st, &f[i]));
}

#define EF(n, t, field, h) FAM(sconed_engine_stats, n, t, field, h)

static const family engine_families[] = {
    EF("sconed_engine_packets_total", "counter", packets,
       "Packets offered to the engine."),
    EF("sconed_engine_not_udp_total", "counter", not_udp,
       "Passed untouched: not UDP."),
    EF("sconed_engine_malformed_total", "counter", malformed,
       "Passed untouched: truncated or bad lengths."),
    EF("sconed_engine_fragments_total", "counter", fragments,
       "Passed untouched: IP fragments."),
    EF("sconed_engine_gtpu_packets_total", "counter", gtpu_packets,
       "GTP-U G-PDUs whose inner UDP datagram was processed."),
    EF("sconed_engine_gtpu_malformed_total", "counter", gtpu_malformed,
       "Passed untouched: malformed or truncated GTP-U headers or inner "
       "packets."),
    EF("sconed_engine_gtpu_echo_total", "counter", gtpu_echo,
       "Passed untouched: GTP-U echo requests and responses."),
    EF("sconed_engine_gtpu_other_types_total", "counter", gtpu_other,
       "Passed untouched: GTP-U messages other than G-PDU and echo."),
    EF("sconed_engine_gtpu_not_udp_total", "counter", gtpu_not_udp,
       "Passed untouched: G-PDUs whose inner packet is not a whole UDP "
       "datagram."),
    EF("sconed_engine_gtpu_fragments_total", "counter", gtpu_fragments,
       "Passed untouched: first fragments of GTP-U datagrams (also in "
       "fragments)."),
    EF("sconed_engine_unadmitted_total", "counter", unadmitted,
       "Packets of flows a full table turned away."),
    EF("sconed_engine_picked_up_total", "counter", picked_up,
       "Flows taken for QUIC mid-way by their SCONE packets."),
    EF("sconed_engine_over_quota_total", "counter", over_quota,
       "Of them, flows whose subscriber (or the no-subscriber pool) held "
       "its whole share of the table."),
    EF("sconed_engine_admitted_reserve_total", "counter", admitted_reserve,
       "New flows admitted from the reserve for owners that took no "
       "admission in the last second."),
    EF("sconed_engine_flows", "gauge", flows, "Flows in the table."),
    EF("sconed_engine_max_flows", "gauge", max_flows, "Flow table size."),
    EF("sconed_engine_subscribers", "gauge", subscribers,
       "Subscriber states in use."),
    EF("sconed_engine_max_subscribers", "gauge", max_subscribers,
       "Subscriber state slots."),
    EF("sconed_engine_subscriber_slot_bytes", "gauge", subscriber_bytes,
       "Bytes of state per subscriber slot."),
    EF("sconed_engine_untracked_subscriber_flows_total", "counter",
       untracked_subscriber_flows,
       "Flows whose subscriber found no free state slot."),
};

#define DF(n, t, field, h) FAM(sconed_dp_counters, n, t, field, h)

/* Labelled with the path: "nfqueue" or "relay". */
static const family dp_families[] = {
    DF("sconed_datapath_received_total", "counter", rx,
       "Packets or datagrams the datapath received."),
    DF("sconed_datapath_modified_total", "counter", modified,
       "Forwarded with rewritten bytes."),
    DF("sconed_datapath_dropped_total", "counter", dropped,
       "Dropped on the engine's verdict."),
    DF("sconed_datapath_delayed_total", "counter", delayed,
       "Held back for the shaper."),
    DF("sconed_datapath_hold_overflow_total", "counter", held_overflow,
       "Dropped because the shaper's hold was full."),
    DF("sconed_datapath_send_errors_total", "counter", send_errors,
       "Failed sends of verdicts or datagrams."),
    DF("sconed_datapath_kernel_errors_total", "counter", kernel_errors,
       "Verdicts the kernel refused (NFQUEUE)."),
    DF("sconed_datapath_truncated_total", "counter", truncated,
       "Packets copied short, passed untouched (NFQUEUE)."),
    DF("sconed_datapath_batch_verdicts_total", "counter", batch_verdicts,
       "Batch verdicts sent for runs of untouched packets (NFQUEUE)."),
    DF("sconed_datapath_relay_clients", "gauge", relay_clients,
       "Relay client entries (relay)."),
};

/* Process-wide: no path label. */
static const family reload_families[] = {
    DF("sconed_reloads_total", "counter", reloads,
       "Successful config reloads."),
    DF("sconed_reload_errors_total", "counter", reload_errors,
       "Failed config reloads."),
};

/* Counts, never identities: which entries opted in is the carrier's. */
static void optin_metrics(sbuf *b, size_t in, size_t out, uint64_t changes) {
  sb_printf(b,
            "# HELP sconed_optin_subscribers Subscriber entries of the "
            "running config by opt-in.\n# TYPE sconed_optin_subscribers "
            "gauge\nsconed_optin_subscribers{state=\"in\"} %zu\n"
            "sconed_optin_subscribers{state=\"out\"} %zu\n",
            in, out);
  one(b, "sconed_optin_changes_total", "counter",
      "Opt-in changes made through POST /optin.", "", changes);
}

static void policy_metrics(sbuf *b, sconed_policy_store *ps) {
  sconed_policy_stats s;
  sconed_policy_store_stats(ps, &s);
  one(b, "sconed_policy_store_up", "gauge",
      "1: connected to the policy store and following its changes.", "",
      (uint64_t)s.up);
  one(b, "sconed_policy_store_reconnects_total", "counter",
      "Connections to the policy store lost or refused, then retried.", "",
      s.reconnects);
  one(b, "sconed_policy_full_syncs_total", "counter",
      "Whole reads of the policy store.", "", s.full_syncs);
  one(b, "sconed_policy_updates_applied_total", "counter",
      "Configs from the policy store swapped in.", "", s.updates_applied);
  one(b, "sconed_policy_updates_in_place_total", "counter",
      "Of them, opt-in changes made on a copy of the running config, "
      "without a rebuild.",
      "", s.updates_in_place);
  one(b, "sconed_policy_updates_rejected_total", "counter",
      "Store snapshots that did not build; the running policy stayed.", "",
      s.updates_rejected);
  one(b, "sconed_policy_entries_rejected_total", "counter",
      "Malformed store entries left out.", "", s.entries_rejected);
  sb_printf(b,
            "# HELP sconed_policy_version NS:version at the last read, -1: "
            "none.\n# TYPE sconed_policy_version gauge\n"
            "sconed_policy_version %lld\n",
            (long long)s.version);
  sb_printf(b,
            "# HELP sconed_policy_sync_age_seconds Since the element was "
            "last known in step with the store, -1: never.\n# TYPE "
            "sconed_policy_sync_age_seconds gauge\n"
            "sconed_policy_sync_age_seconds %.3f\n",
            s.sync_age_s);
  one(b, "sconed_policy_store_subscribers", "gauge",
      "Subscriber entries the store holds for this element.", "",
      s.subscribers);
  one(b, "sconed_policy_store_opted_in", "gauge", "Of them, opted in.", "",
      s.opted_in);
}

char *sconed_render_metrics(sconed_dp *dp, size_t *len) {
  plan_rows rows = {0};
  sconed_engine_stats st;
  sconed_dp_counters c;
  size_t held;
  sconed_dp_lock_ctl(dp);
  sconed_engine_metrics(dp->engine, collect, &rows);
  sconed_engine_stats_get(dp->engine, &st);
  const sconed_config *cfg = sconed_engine_config(dp->engine);
  scone_duration period = sconed_config_period(cfg);
  int lab_period = sconed_config_lab_period(cfg);
  size_t opted_in = 0, opted_out = 0;
  sconed_config_optin_counts(cfg, &opted_in, &opted_out);
  c = dp->c;
  held = dp->held;
  sconed_dp_unlock_ctl(dp);

  sbuf b = {0};
  sb_printf(&b,
            "# HELP sconed_monitoring_period_seconds The monitoring period "
            "in use.\n# TYPE sconed_monitoring_period_seconds gauge\n"
            "sconed_monitoring_period_seconds %.3f\n",
            (double)period / SCONE_SECONDS);
  one(&b, "sconed_lab_short_period", "gauge",
      "1: a lab's period shorter than the draft's 67 s (lab_short_period), "
      "not draft-conforming.",
      "", (uint64_t)lab_period);
  /* The element's own cost (user + system, every thread): what a lab
   * divides by the bytes it carried to compare SCONE with enforcement. */
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) == 0)
    sb_printf(&b,
              "# HELP sconed_cpu_seconds_total CPU time sconed used, user "
              "and system (getrusage).\n# TYPE sconed_cpu_seconds_total "
              "counter\nsconed_cpu_seconds_total %.6f\n",
              (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                  (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
  plan_metrics(&b, &rows);
  free(rows.row);
  char lbl[64];
  snprintf(lbl, sizeof(lbl), "{path=\"%s\"}", dp->mode ? dp->mode : "");
  families(&b, engine_families, COUNT(engine_families), &st, "");
  families(&b, dp_families, COUNT(dp_families), &c, lbl);
  one(&b, "sconed_datapath_held", "gauge", "Packets held for the shaper now.",
      lbl, held);
  families(&b, reload_families, COUNT(reload_families), &c, "");
  optin_metrics(&b, opted_in, opted_out, c.optin_changes);
  if (dp->policy)
    policy_metrics(&b, dp->policy);
  if (dp->hooks) {
    uint64_t hs[SCONED_DP_HOOK_STATS_MAX] = {0};
    sconed_dp_lock_ctl(dp);
    dp->hooks->stats(dp->hooks->arg, hs);
    sconed_dp_unlock_ctl(dp);
    families(&b, dp->hooks->families, dp->hooks->nfamilies, hs, "");
  }
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  *len = b.len;
  return b.p;
}

char *sconed_render_state(sconed_dp *dp, size_t *len) {
  json_t *root = json_object();
  json_t *plans = json_array();
  json_t *caps = json_array();
  sconed_engine_stats st;
  sconed_dp_counters c;
  size_t held;
  sconed_dp_lock_ctl(dp);
  const sconed_config *cfg = sconed_engine_config(dp->engine);
  for (size_t i = 0; cfg && i < sconed_config_plan_count(cfg); i++) {
    sconed_plan_info pi;
    if (sconed_config_plan(cfg, i, &pi) < 0)
      continue;
    json_array_append_new(
        plans, json_pack("{s:s, s:I, s:I, s:s, s:I}", "name", pi.name,
                         "downlink_bps", (json_int_t)pi.downlink_bps,
                         "uplink_bps", (json_int_t)pi.uplink_bps, "action",
                         sconed_enforce_name(pi.action), "rate_bps",
                         (json_int_t)pi.rate_bps));
  }
  for (size_t i = 0; cfg && i < sconed_config_capacity_count(cfg); i++) {
    uint64_t bps = 0;
    const char *name = sconed_config_capacity(cfg, i, &bps);
    if (name)
      json_array_append_new(caps, json_pack("{s:s, s:I}", "name", name,
                                            "configured_bps", (json_int_t)bps));
  }
  size_t subscribers = cfg ? sconed_config_subscriber_count(cfg) : 0;
  json_int_t period_ms =
      cfg ? (json_int_t)(sconed_config_period(cfg) / SCONE_MILLISECONDS) : 0;
  int lab_period = cfg && sconed_config_lab_period(cfg);
  sconed_engine_stats_get(dp->engine, &st);
  c = dp->c;
  held = dp->held;
  sconed_dp_unlock_ctl(dp);

  scone_tstamp now = sconed_dp_now();
  json_object_set_new(root, "path", json_string(dp->mode ? dp->mode : ""));
  json_object_set_new(
      root, "uptime_ms",
      json_integer((json_int_t)((now - dp->started) / SCONE_MILLISECONDS)));
  json_object_set_new(root, "config",
                      dp->config_path ? json_string(dp->config_path)
                                      : json_null());
  json_object_set_new(root, "plans", plans);
  json_object_set_new(root, "capacities", caps);
  json_object_set_new(root, "subscribers",
                      json_integer((json_int_t)subscribers));
  json_object_set_new(root, "period_ms", json_integer(period_ms));
  json_object_set_new(root, "lab_short_period", json_boolean(lab_period));
  json_object_set_new(root, "engine",
                      json_pack("{s:I, s:I, s:I, s:I}", "packets",
                                (json_int_t)st.packets, "flows",
                                (json_int_t)st.flows, "max_flows",
                                (json_int_t)st.max_flows, "memory_bytes",
                                (json_int_t)st.memory_bytes));
  json_object_set_new(
      root, "datapath",
      json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "received",
                (json_int_t)c.rx, "modified", (json_int_t)c.modified, "dropped",
                (json_int_t)c.dropped, "delayed", (json_int_t)c.delayed, "held",
                (json_int_t)held, "reloads", (json_int_t)c.reloads,
                "reload_errors", (json_int_t)c.reload_errors, "relay_clients",
                (json_int_t)c.relay_clients, "batch_verdicts",
                (json_int_t)c.batch_verdicts));
  char *s = json_dumps(root, JSON_INDENT(2));
  json_decref(root);
  if (s)
    *len = strlen(s);
  return s;
}
