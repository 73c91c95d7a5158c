/*
 * SCONE events: every one is counted, written to the qlog as a scone:* event
 * (formatted by scone_app_qlog_event) and handed to the application's
 * callbacks.
 */
#include "internal.h"

#include <stdio.h>

/* ts on the trace's clock: ngtcp2 counts qlog time from its initial_ts, in
 * whole milliseconds (it truncates), so ours are truncated too: a scone:*
 * event at 5.768 ms before ngtcp2's events of the same read at "5" would
 * run the trace's time backwards, which qlog forbids (qvis warns and
 * re-sorts the trace). */
static scone_tstamp trace_time(const scone_quic_conn *c, scone_tstamp ts) {
  scone_tstamp t = ts >= c->qlog_ref ? ts - c->qlog_ref : 0;
  return t - t % SCONE_MILLISECONDS;
}

/* ev's times are on the clock of now, as the callback gets them; only the
 * trace counts from qlog_ref. */
static void emit(scone_quic_conn *c, const scone_app_qlog_ev *ev,
                 scone_tstamp now) {
  if (c->qlog != NULL) {
    scone_app_qlog_ev rel = *ev;
    if (rel.expires_at != 0)
      rel.expires_at = trace_time(c, rel.expires_at);
    /* ngtcp2 writes JSON-SEQ: each record starts with RS (0x1e). */
    char line[1024];
    line[0] = 0x1e;
    int n = scone_app_qlog_event(line + 1, sizeof(line) - 1, trace_time(c, now),
                                 &rel);
    if (n > 0)
      sq_qlog_line(c, line, (size_t)n + 1);
  }
  if (c->cb.scone_event != NULL)
    c->cb.scone_event(c, ev, now, c->user_data);
}

void sq_event_packet(scone_quic_conn *c, scone_app_qlog_type type,
                     const scone_packet *pkt, scone_tstamp now) {
  if (type == SCONE_APP_QLOG_PACKET_SENT)
    c->ctr.scone_sent++;
  else
    c->ctr.scone_received++;
  scone_app_qlog_ev ev = {0};
  ev.type = type;
  ev.signal = pkt->signal;
  ev.version = pkt->version;
  ev.dcid = pkt->dcid;
  ev.dcidlen = pkt->dcidlen;
  ev.scid = pkt->scid;
  ev.scidlen = pkt->scidlen;
  ev.length = pkt->len;
  emit(c, &ev, now);
}

void sq_event_accepted(scone_quic_conn *c, sq_path *path, unsigned signal,
                       scone_tstamp now) {
  c->ctr.advice_accepted++;
  path->accepted++;
  path->last_signal = signal;
  scone_app_qlog_ev ev = {0};
  ev.type = SCONE_APP_QLOG_ADVICE_ACCEPTED;
  ev.signal = signal;
  emit(c, &ev, now);
}

void sq_event_rejected(scone_quic_conn *c, unsigned signal,
                       scone_app_reject reason, scone_tstamp now) {
  c->ctr.advice_rejected++;
  if ((size_t)reason < sizeof(c->ctr.rejected) / sizeof(c->ctr.rejected[0]))
    c->ctr.rejected[reason]++;
  scone_app_qlog_ev ev = {0};
  ev.type = SCONE_APP_QLOG_ADVICE_REJECTED;
  ev.signal = signal;
  ev.reason = reason;
  emit(c, &ev, now);
}

static void refresh_netinfo(scone_quic_conn *c, const scone_advice *adv,
                            scone_tstamp now) {
  ngtcp2_conn_stat st;
  ngtcp2_conn_get_conn_stat(c->qc, &st);
  uint64_t estimate = st.delivery_rate_sec * 8;
  scone_duration rtt =
      st.first_rtt_sample_ts == UINT64_MAX ? 0 : st.smoothed_rtt;
  if (scone_app_netinfo_update(&c->ni, adv, estimate, rtt, now) &&
      c->cb.netinfo_changed != NULL) {
    scone_app_netinfo ni;
    scone_app_netinfo_get(&c->ni, &ni);
    c->cb.netinfo_changed(c, &ni, c->user_data);
  }
}

void sq_event_advice_changed(scone_quic_conn *c, sq_path *path,
                             unsigned old_signal, scone_app_trigger trigger,
                             scone_tstamp now) {
  scone_advice adv;
  scone_advice_tracker_get(&path->tracker, now, &adv);
  scone_app_qlog_ev ev = {0};
  ev.type = SCONE_APP_QLOG_ADVICE_CHANGED;
  ev.signal = adv.signal;
  ev.old_signal = old_signal;
  ev.trigger = trigger;
  ev.expires_at = adv.expires_at;
  emit(c, &ev, now);
  if (c->cb.advice_changed != NULL)
    c->cb.advice_changed(c, sq_path_id(c, path), sq_conn_rx_dir(c), &adv,
                         c->user_data);
  /* The NetworkInformation view describes the connection's main path. */
  if (sq_path_id(c, path) == 0)
    refresh_netinfo(c, &adv, now);
}

void sq_netinfo_tick(scone_quic_conn *c, scone_tstamp now) {
  if (c->npaths == 0)
    return;
  scone_advice adv;
  scone_advice_tracker_get(&c->paths[0].tracker, now, &adv);
  refresh_netinfo(c, &adv, now);
}

/* scone:parameters_set, in the shape of ngtcp2's transport:parameters_set:
 * what this endpoint offered (with its flow type) or what the peer did. */
void sq_event_parameters(scone_quic_conn *c, int local, int supported,
                         scone_tstamp now) {
  if (c->qlog == NULL)
    return;
  char line[256];
  int n = snprintf(line, sizeof(line),
                   "\x1e{\"time\":%.3f,\"name\":\"scone:parameters_set\","
                   "\"data\":{\"owner\":\"%s\",\"scone_supported\":%s",
                   (double)trace_time(c, now) / 1e6, local ? "local" : "remote",
                   supported ? "true" : "false");
  /* flow_type holds only characters that need no JSON escaping. */
  if (local && c->flow_type[0] != '\0' && n > 0 && (size_t)n < sizeof(line))
    n += snprintf(line + n, sizeof(line) - (size_t)n, ",\"flow_type\":\"%s\"",
                  c->flow_type);
  if (n > 0 && (size_t)n < sizeof(line))
    n += snprintf(line + n, sizeof(line) - (size_t)n, "}}\n");
  if (n > 0 && (size_t)n < sizeof(line))
    sq_qlog_line(c, line, (size_t)n);
}
