/*
 * The receive side of SCONE: a leading SCONE packet is taken off the
 * datagram, the rest goes to ngtcp2, and the signal counts only if ngtcp2
 * then processed a packet of that datagram (draft-ietf-scone-protocol,
 * "Endpoint Processing of SCONE Packets"): without that check anyone able to
 * send a datagram toward us could set our advice.
 */
#include "internal.h"

#include <string.h>

/* The SCONE packet's DCID must be the one the next packet carries. Short
 * headers do not say how long theirs is; ours are all SQ_SCIDLEN long. */
static int dcid_matches(const scone_packet *sp, const uint8_t *rest,
                        size_t restlen) {
  scone_quic_hdr h;
  if (scone_quic_hdr_parse(&h, rest, restlen, SQ_SCIDLEN) < 0)
    return 0;
  return h.dcidlen == sp->dcidlen && memcmp(h.dcid, sp->dcid, sp->dcidlen) == 0;
}

static void accept_signal(scone_quic_conn *c, sq_path *path, unsigned signal,
                          scone_tstamp now) {
  sq_event_accepted(c, path, signal, now);
  unsigned old = path->tracker.current;
  if (scone_advice_tracker_on_signal(&path->tracker, signal, now))
    sq_event_advice_changed(c, path, old, SCONE_APP_TRIGGER_SIGNAL, now);
}

int sq_rx_datagram(scone_quic_conn *c, sq_path *path, const ngtcp2_path *np,
                   const uint8_t *data, size_t len, scone_tstamp now) {
  const uint8_t *pkt = data;
  size_t pktlen = len;
  int candidate = 0; /* a signal waiting for ngtcp2's verdict */
  unsigned signal = SCONE_SIGNAL_UNKNOWN;

  /* An empty UDP datagram holds no packet, and ngtcp2 takes one as a
   * caller's error (NGTCP2_ERR_INVALID_ARGUMENT), which would close the
   * connection: anyone able to spoof the peer's address could end it. */
  if (len == 0)
    return 0;

  if (c->s.scone_capable && scone_packet_is_scone(data, len)) {
    scone_packet sp;
    if (scone_packet_parse(&sp, data, len) < 0) {
      c->ctr.scone_malformed++;
      return 0; /* CIDs run past the end: there is no QUIC packet either */
    }
    sq_event_packet(c, SCONE_APP_QLOG_PACKET_RECEIVED, &sp, now);
    signal = sp.signal;
    pkt = data + sp.len;
    pktlen = len - sp.len;
    if (scone_packet_is_scone(pkt, pktlen)) {
      /* A sender may not put two in one datagram; we take the MAY and drop
       * the whole datagram rather than guess which one an element wrote. */
      sq_event_rejected(c, signal, SCONE_APP_REJECT_DUPLICATE_SCONE, now);
      return 0;
    }
    if (pktlen == 0) {
      sq_event_rejected(c, signal, SCONE_APP_REJECT_NOT_PROCESSED, now);
      return 0;
    }
    if (!dcid_matches(&sp, pkt, pktlen))
      sq_event_rejected(c, signal, SCONE_APP_REJECT_DCID_MISMATCH, now);
    else if (signal == SCONE_SIGNAL_UNKNOWN)
      sq_event_rejected(c, signal, SCONE_APP_REJECT_UNKNOWN_SIGNAL, now);
    else
      candidate = 1;
  }

  ngtcp2_pkt_info pi = {0};
  c->rx_processed = 0;
  int rv = ngtcp2_conn_read_pkt(c->qc, np, &pi, pkt, pktlen, now);
  if (candidate) {
    if (c->rx_processed)
      accept_signal(c, path, signal, now);
    else
      sq_event_rejected(c, signal, SCONE_APP_REJECT_NOT_PROCESSED, now);
  }
  return rv;
}
