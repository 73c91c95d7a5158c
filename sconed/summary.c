#include "summary.h"

#include <inttypes.h>

typedef struct plan_out {
  FILE *f;
  int json;
  int n;
} plan_out;

static void print_plan(const sconed_plan_metrics *m, void *arg) {
  plan_out *o = arg;
  FILE *f = o->f;
  if (o->json) {
    /* Plan names are restricted to [A-Za-z0-9._-] by the config parser,
     * so they need no escaping. */
    fprintf(f,
            "%s\n    {\"plan\": \"%s\", \"downlink_bps\": %" PRIu64
            ", \"uplink_bps\": %" PRIu64 ", \"packets\": %" PRIu64
            ", \"bytes\": %" PRIu64 ", \"scone_packets\": %" PRIu64
            ", \"rewrites\": %" PRIu64 ", \"confirms\": %" PRIu64
            ", \"drops\": %" PRIu64 ", \"delays\": %" PRIu64
            ", \"flows_total\": %" PRIu64 ", \"flows\": %" PRIu64
            ", \"scone_flows\": %" PRIu64 ", \"conforming\": %" PRIu64
            ", \"nonconforming\": %" PRIu64 ", \"transitions\": %" PRIu64
            ", \"nonconforming_subscribers\": %" PRIu64
            ", \"subscriber_transitions\": %" PRIu64 "}",
            o->n ? "," : "", m->plan, m->downlink_bps, m->uplink_bps,
            m->packets, m->bytes, m->scone_packets, m->rewrites, m->confirms,
            m->drops, m->delays, m->flows_total, m->flows, m->scone_flows,
            m->conforming, m->nonconforming, m->transitions,
            m->nonconforming_subscribers, m->subscriber_transitions);
  } else {
    fprintf(f,
            "plan %s: downlink %" PRIu64 " bit/s, uplink %" PRIu64
            " bit/s\n  packets %" PRIu64 " bytes %" PRIu64
            " scone_packets %" PRIu64 " rewrites %" PRIu64 " confirms %" PRIu64
            "\n  drops %" PRIu64 " delays %" PRIu64 " flows_total %" PRIu64
            " flows %" PRIu64 " scone_flows %" PRIu64 " conforming %" PRIu64
            " nonconforming %" PRIu64 " transitions %" PRIu64
            "\n  nonconforming_subscribers %" PRIu64
            " subscriber_transitions %" PRIu64 "\n",
            m->plan, m->downlink_bps, m->uplink_bps, m->packets, m->bytes,
            m->scone_packets, m->rewrites, m->confirms, m->drops, m->delays,
            m->flows_total, m->flows, m->scone_flows, m->conforming,
            m->nonconforming, m->transitions, m->nonconforming_subscribers,
            m->subscriber_transitions);
  }
  o->n++;
}

void sconed_summary_print(FILE *f, const sconed_engine *e,
                          const sconed_pcap_counts *c, int json) {
  sconed_engine_stats st;
  sconed_engine_stats_get(e, &st);
  plan_out o = {f, json, 0};
  if (json) {
    fprintf(f,
            "{\n  \"pcap\": {\"linktype\": \"%s\", \"read\": %" PRIu64
            ", \"written\": %" PRIu64 ", \"not_ip\": %" PRIu64
            ", \"modified\": %" PRIu64 ", \"dropped\": %" PRIu64
            ", \"delayed\": %" PRIu64 ", \"overflow\": %" PRIu64
            ", \"max_held\": %" PRIu64 "},\n",
            c->linktype ? c->linktype : "", c->read, c->written, c->not_ip,
            c->modified, c->dropped, c->delayed, c->overflow, c->max_held);
    fprintf(f,
            "  \"engine\": {\"packets\": %" PRIu64 ", \"not_udp\": %" PRIu64
            ", \"malformed\": %" PRIu64 ", \"fragments\": %" PRIu64
            ", \"no_subscriber\": %" PRIu64 ", \"not_quic_flows\": %" PRIu64
            ", \"unadmitted\": %" PRIu64 ", \"evicted_idle\": %" PRIu64
            ", \"evicted_young\": %" PRIu64 ", \"flows\": %" PRIu64
            ", \"max_flows\": %" PRIu64 ", \"memory_bytes\": %" PRIu64
            ", \"flow_bytes\": %" PRIu64 ", \"subscribers\": %" PRIu64
            ", \"max_subscribers\": %" PRIu64
            ", \"untracked_subscriber_flows\": %" PRIu64 "},\n",
            st.packets, st.not_udp, st.malformed, st.fragments,
            st.no_subscriber, st.not_quic_flows, st.unadmitted, st.evicted_idle,
            st.evicted_young, st.flows, st.max_flows, st.memory_bytes,
            st.flow_bytes, st.subscribers, st.max_subscribers,
            st.untracked_subscriber_flows);
    fprintf(f,
            "  \"gtpu\": {\"packets\": %" PRIu64 ", \"malformed\": %" PRIu64
            ", \"echo\": %" PRIu64 ", \"other_types\": %" PRIu64
            ", \"not_udp\": %" PRIu64 ", \"fragments\": %" PRIu64
            "},\n  \"plans\": [",
            st.gtpu_packets, st.gtpu_malformed, st.gtpu_echo, st.gtpu_other,
            st.gtpu_not_udp, st.gtpu_fragments);
    sconed_engine_metrics(e, print_plan, &o);
    fprintf(f, "\n  ]\n}\n");
    return;
  }
  fprintf(f,
          "pcap: linktype %s, read %" PRIu64 ", written %" PRIu64
          ", not_ip %" PRIu64 ", modified %" PRIu64 ", dropped %" PRIu64
          ", delayed %" PRIu64 ", overflow %" PRIu64 ", max_held %" PRIu64 "\n",
          c->linktype ? c->linktype : "", c->read, c->written, c->not_ip,
          c->modified, c->dropped, c->delayed, c->overflow, c->max_held);
  fprintf(f,
          "engine: packets %" PRIu64 ", not_udp %" PRIu64 ", malformed %" PRIu64
          ", fragments %" PRIu64 ", no_subscriber %" PRIu64
          ", not_quic_flows %" PRIu64 ", unadmitted %" PRIu64
          ", evicted_idle %" PRIu64 ", evicted_young %" PRIu64
          ", flows %" PRIu64 "/%" PRIu64 ", subscribers %" PRIu64 "/%" PRIu64
          " (untracked flows %" PRIu64 "), memory %" PRIu64 " bytes (%" PRIu64
          " per flow)\n",
          st.packets, st.not_udp, st.malformed, st.fragments, st.no_subscriber,
          st.not_quic_flows, st.unadmitted, st.evicted_idle, st.evicted_young,
          st.flows, st.max_flows, st.subscribers, st.max_subscribers,
          st.untracked_subscriber_flows, st.memory_bytes, st.flow_bytes);
  if (st.gtpu_packets || st.gtpu_malformed || st.gtpu_echo || st.gtpu_other ||
      st.gtpu_not_udp || st.gtpu_fragments)
    fprintf(f,
            "gtpu: packets %" PRIu64 ", malformed %" PRIu64 ", echo %" PRIu64
            ", other_types %" PRIu64 ", not_udp %" PRIu64 ", fragments %" PRIu64
            "\n",
            st.gtpu_packets, st.gtpu_malformed, st.gtpu_echo, st.gtpu_other,
            st.gtpu_not_udp, st.gtpu_fragments);
  sconed_engine_metrics(e, print_plan, &o);
}
