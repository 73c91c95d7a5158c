/*
 * qlog-style events for SCONE, one JSON object per line. Field names follow
 * the qlog QUIC schema where one exists (header, raw.length, hex versions
 * and connection IDs) so that existing viewers show them next to the QUIC
 * events of the same trace.
 */
#include "internal.h"

#include <stdio.h>

static const char *const event_names[] = {
    [SCONE_APP_QLOG_PACKET_SENT] = "scone:packet_sent",
    [SCONE_APP_QLOG_PACKET_RECEIVED] = "scone:packet_received",
    [SCONE_APP_QLOG_ADVICE_ACCEPTED] = "scone:advice_accepted",
    [SCONE_APP_QLOG_ADVICE_REJECTED] = "scone:advice_rejected",
    [SCONE_APP_QLOG_ADVICE_CHANGED] = "scone:advice_changed",
};

static const char *const reject_names[] = {
    [SCONE_APP_REJECT_DCID_MISMATCH] = "dcid_mismatch",
    [SCONE_APP_REJECT_UNKNOWN_SIGNAL] = "unknown_signal",
    [SCONE_APP_REJECT_NOT_PROCESSED] = "not_processed",
    [SCONE_APP_REJECT_DUPLICATE_SCONE] = "duplicate_scone",
    [SCONE_APP_REJECT_PEER_NOT_CAPABLE] = "peer_not_capable",
};

static const char *const trigger_names[] = {
    [SCONE_APP_TRIGGER_SIGNAL] = "signal",
    [SCONE_APP_TRIGGER_EXPIRY] = "expiry",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *scone_app_qlog_name(scone_app_qlog_type type) {
  return (unsigned)type < COUNT(event_names) ? event_names[type] : NULL;
}

const char *scone_app_reject_name(scone_app_reject reason) {
  return (unsigned)reason < COUNT(reject_names) ? reject_names[reason] : NULL;
}

static const char *trigger_name(scone_app_trigger trigger) {
  return (unsigned)trigger < COUNT(trigger_names) ? trigger_names[trigger]
                                                  : NULL;
}

static json_t *hex(const uint8_t *p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  char s[2 * SCONE_MAX_CIDLEN + 1];
  for (size_t i = 0; i < n; i++) {
    s[2 * i] = digits[p[i] >> 4];
    s[2 * i + 1] = digits[p[i] & 0xf];
  }
  s[2 * n] = '\0';
  return json_string(s);
}

/* {"rate_signal": n, "throughput_advice": bit/s or null (127)}. */
static json_t *advice_obj(unsigned signal) {
  json_t *o = json_object();
  if (!o)
    return NULL;
  int err = scone_app_json_set(o, "rate_signal", json_integer(signal));
  err |= scone_app_json_set(
      o, "throughput_advice",
      scone_app_json_u64_or_null(signal <= SCONE_SIGNAL_MAX,
                                 scone_rate_from_signal(signal)));
  if (err) {
    json_decref(o);
    return NULL;
  }
  return o;
}

static int packet_data(json_t *data, const scone_app_qlog_ev *ev) {
  uint32_t version = ev->version;
  if (version == 0) /* the version carries the signal's low bit */
    version = (ev->signal & 1) ? SCONE_VERSION_ODD : SCONE_VERSION_EVEN;
  char vhex[9];
  snprintf(vhex, sizeof vhex, "%08x", (unsigned)version);

  json_t *hdr = json_object();
  if (!hdr)
    return -1;
  int err = scone_app_json_set(hdr, "packet_type", json_string("scone"));
  err |= scone_app_json_set(hdr, "version", json_string(vhex));
  if (ev->dcid)
    err |= scone_app_json_set(hdr, "dcid", hex(ev->dcid, ev->dcidlen));
  if (ev->scid)
    err |= scone_app_json_set(hdr, "scid", hex(ev->scid, ev->scidlen));
  err |= scone_app_json_set(data, "header", hdr);
  if (ev->length) {
    json_t *raw = json_object();
    if (raw)
      err |= scone_app_json_set(raw, "length", scone_app_json_u64(ev->length));
    err |= scone_app_json_set(data, "raw", raw);
  }
  err |= scone_app_json_set(data, "rate_signal", json_integer(ev->signal));
  return err;
}

static int event_data(json_t *data, scone_tstamp t,
                      const scone_app_qlog_ev *ev) {
  switch (ev->type) {
  case SCONE_APP_QLOG_PACKET_SENT:
  case SCONE_APP_QLOG_PACKET_RECEIVED:
    return packet_data(data, ev);
  case SCONE_APP_QLOG_ADVICE_ACCEPTED:
    return json_object_update_new(data, advice_obj(ev->signal));
  case SCONE_APP_QLOG_ADVICE_REJECTED:
    return scone_app_json_set(data, "rate_signal", json_integer(ev->signal)) |
           scone_app_json_set(data, "reason",
                              json_string(scone_app_reject_name(ev->reason)));
  case SCONE_APP_QLOG_ADVICE_CHANGED: {
    int err = scone_app_json_set(data, "old", advice_obj(ev->old_signal));
    err |= scone_app_json_set(data, "new", advice_obj(ev->signal));
    err |= scone_app_json_set(data, "trigger",
                              json_string(trigger_name(ev->trigger)));
    if (ev->expires_at)
      err |= scone_app_json_set(
          data, "expires_in",
          scone_app_json_ms(ev->expires_at > t ? ev->expires_at - t : 0));
    return err;
  }
  }
  return -1;
}

static int valid(const scone_app_qlog_ev *ev) {
  if (!scone_app_qlog_name(ev->type) || ev->signal > SCONE_SIGNAL_UNKNOWN)
    return 0;
  if ((ev->dcid && ev->dcidlen > SCONE_MAX_CIDLEN) ||
      (ev->scid && ev->scidlen > SCONE_MAX_CIDLEN))
    return 0;
  switch (ev->type) {
  case SCONE_APP_QLOG_ADVICE_REJECTED:
    return scone_app_reject_name(ev->reason) != NULL;
  case SCONE_APP_QLOG_ADVICE_CHANGED:
    return ev->old_signal <= SCONE_SIGNAL_UNKNOWN &&
           trigger_name(ev->trigger) != NULL;
  default:
    return 1;
  }
}

int scone_app_qlog_event(char *buf, size_t len, scone_tstamp t,
                         const scone_app_qlog_ev *ev) {
  if (!buf || !ev || !valid(ev))
    return SCONE_ERR_INVALID_ARGUMENT;
  json_t *o = json_object();
  json_t *data = json_object();
  if (!o || !data) {
    json_decref(o);
    json_decref(data);
    return SCONE_ERR_NOBUF;
  }
  int err = scone_app_json_set(o, "time", scone_app_json_ms(t));
  err |=
      scone_app_json_set(o, "name", json_string(scone_app_qlog_name(ev->type)));
  err |= event_data(data, t, ev);
  err |= scone_app_json_set(o, "data", data);
  if (err) {
    json_decref(o);
    return SCONE_ERR_NOBUF;
  }
  return scone_app_json_dump(o, buf, len, 1);
}
