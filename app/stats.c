/*
 * WebTransportConnectionStats-shaped JSON with SCONE's additions.
 */
#include "internal.h"

void scone_app_stats_set_advice(scone_app_stats *st, const scone_advice *adv) {
  st->has_throughput_advice = scone_app_advice_known(adv);
  st->throughput_advice_bps = st->has_throughput_advice ? adv->bps : 0;
}

int scone_app_stats_to_json(const scone_app_stats *st, char *buf, size_t len) {
  if (!st || !buf)
    return SCONE_ERR_INVALID_ARGUMENT;
  json_t *o = json_object();
  if (!o)
    return SCONE_ERR_NOBUF;
  /* Key order follows the WebTransport dictionary, then SCONE's fields. */
  int err = 0;
  err |= scone_app_json_set(o, "bytesSent", scone_app_json_u64(st->bytes_sent));
  err |= scone_app_json_set(o, "packetsSent",
                            scone_app_json_u64(st->packets_sent));
  err |= scone_app_json_set(o, "bytesLost", scone_app_json_u64(st->bytes_lost));
  err |= scone_app_json_set(o, "packetsLost",
                            scone_app_json_u64(st->packets_lost));
  err |= scone_app_json_set(o, "bytesReceived",
                            scone_app_json_u64(st->bytes_received));
  err |= scone_app_json_set(o, "packetsReceived",
                            scone_app_json_u64(st->packets_received));
  err |=
      scone_app_json_set(o, "smoothedRtt", scone_app_json_ms(st->smoothed_rtt));
  err |= scone_app_json_set(o, "rttVariation",
                            scone_app_json_ms(st->rtt_variation));
  err |= scone_app_json_set(o, "minRtt", scone_app_json_ms(st->min_rtt));
  /* WebTransport makes an unknown send rate null, not 0. */
  err |= scone_app_json_set(
      o, "estimatedSendRate",
      scone_app_json_u64_or_null(st->estimated_send_rate != 0,
                                 st->estimated_send_rate));
  err |=
      scone_app_json_set(o, "throughputAdvice",
                         scone_app_json_u64_or_null(st->has_throughput_advice,
                                                    st->throughput_advice_bps));
  err |= scone_app_json_set(
      o, "sendThroughputAdvice",
      scone_app_json_u64_or_null(st->has_send_throughput_advice,
                                 st->send_throughput_advice_bps));
  err |= scone_app_json_set(o, "sconeNegotiated",
                            json_boolean(st->scone_negotiated));
  err |= scone_app_json_set(o, "sconePacketsSent",
                            scone_app_json_u64(st->scone_packets_sent));
  err |= scone_app_json_set(o, "sconePacketsReceived",
                            scone_app_json_u64(st->scone_packets_received));
  err |= scone_app_json_set(o, "sconeAdviceAccepted",
                            scone_app_json_u64(st->scone_advice_accepted));
  err |= scone_app_json_set(o, "sconeAdviceRejected",
                            scone_app_json_u64(st->scone_advice_rejected));
  if (err) {
    json_decref(o);
    return SCONE_ERR_NOBUF;
  }
  return scone_app_json_dump(o, buf, len, 0);
}
