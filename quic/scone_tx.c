/*
 * The send side of SCONE: where SCONE packets go and when.
 *
 * ngtcp2 writes each datagram after headroom kept at the front of the
 * buffer, big enough for any SCONE packet. Only once the datagram
 * exists is it known whether it needs one (ngtcp2 may have put a
 * PATH_CHALLENGE or PATH_RESPONSE in it) and which CIDs the first packet
 * carries, so the SCONE packet is then built into the gap, right before it.
 */
#include "internal.h"

size_t sq_tx_front_room(const scone_quic_conn *c) {
  if (!c->peer_scone || !c->s.scone_capable)
    return 0;
  const ngtcp2_cid *dcid = ngtcp2_conn_get_dcid(c->qc);
  /* Long headers carry our SCID; short ones do not, but which one ngtcp2
   * writes is only known afterwards. */
  return SCONE_PACKET_MIN_LEN + dcid->datalen + SQ_SCIDLEN;
}

static int due(scone_quic_conn *c, const sq_path *path, scone_tstamp now) {
  return path->initial_left > 0 || now >= path->next_due || c->tx_path_frame;
}

/* Whether the datagram at dg may lead with a SCONE packet. By default only
 * 1-RTT (short header) packets once the handshake is confirmed: picoquic,
 * for one, takes a SCONE packet only before a short header and drops the
 * whole datagram otherwise, which during the handshake costs a PTO. The
 * draft also permits them before Initial and Handshake packets. */
static int placement_allows(const scone_quic_conn *c, const uint8_t *dg) {
  if (c->s.scone_placement == SCONE_QUIC_PLACEMENT_HANDSHAKE)
    return 1;
  return c->hs_confirmed && (dg[0] & 0x80) == 0;
}

static size_t path_max(const scone_quic_conn *c) {
  return ngtcp2_conn_get_path_max_tx_udp_payload_size(c->qc);
}

size_t sq_tx_write_cap(scone_quic_conn *c, size_t cap, size_t front,
                       scone_tstamp now) {
  /* Before confirmation the write may carry Initial packets, which must fill
   * 1200 bytes; ngtcp2 gets the whole budget and sq_tx_finish leaves the
   * SCONE packet out of any datagram it would push past 1200 (a later one
   * takes it), so the handshake never depends on more than 1200 bytes. */
  if (front == 0 || !c->hs_confirmed)
    return cap;
  /* ngtcp2 fills datagrams up to the size PMTUD confirmed for the path (1200
   * until it has confirmed more); a SCONE packet in front of a full one
   * would make it bigger than anything known to get through (1245 bytes
   * would not cross an IPv6 minimum-MTU path), and a PMTUD probe would test
   * the wrong size. So ngtcp2 is asked for less when one is due, which also
   * holds probes back until the next datagram. */
  sq_addr local, remote;
  sq_addrs_of(ngtcp2_conn_get_path(c->qc), &local, &remote);
  /* A path not seen yet gets its initial SCONE packets once written on. */
  const sq_path *path = sq_path_find(c, &local, &remote);
  /* A PATH_RESPONSE answering a full-size challenge is padded to the
   * path's size, so it is made room for in the next few writes too. */
  if (path != NULL && path->initial_left == 0 && now < path->next_due &&
      c->path_response_due == 0)
    return cap;
  size_t limit = path_max(c) - front; /* >= 1200 - 45 */
  return limit < cap ? limit : cap;
}

static void schedule_next(scone_quic_conn *c, sq_path *path, scone_tstamp now) {
  if (path->initial_left > 0) {
    path->initial_left--;
    if (path->initial_left > 0)
      return;
  } else if (now < path->next_due) {
    return; /* an extra one for a path probe: the schedule stands */
  }
  path->next_due = now + sq_jittered_interval(c);
}

static size_t short_dcidlen(const scone_quic_conn *c) {
  return ngtcp2_conn_get_dcid(c->qc)->datalen;
}

/* Builds the SCONE packet right before the datagram at dg; returns its
 * length or 0 when none fits. */
static size_t prepend_scone(scone_quic_conn *c, uint8_t *dg, size_t len,
                            size_t room, scone_tstamp now) {
  scone_quic_hdr h;
  if (scone_quic_hdr_parse(&h, dg, len, short_dcidlen(c)) < 0)
    return 0;
  const uint8_t *scid = h.is_long ? h.scid : NULL;
  size_t scidlen = h.is_long ? h.scidlen : 0;
  size_t need = SCONE_PACKET_MIN_LEN + h.dcidlen + scidlen;
  if (need > room) {
    c->ctr.scone_skipped_room++;
    return 0;
  }
  scone_ssize n =
      scone_packet_build(dg - need, need, SCONE_SIGNAL_UNKNOWN, h.dcid,
                         h.dcidlen, scid, scidlen, SCONE_BUILD_FLAG_NONE);
  if (n < 0)
    return 0;
  scone_packet pkt;
  if (scone_packet_parse(&pkt, dg - need, (size_t)n) > 0)
    sq_event_packet(c, SCONE_APP_QLOG_PACKET_SENT, &pkt, now);
  return (size_t)n;
}

uint8_t *sq_tx_finish(scone_quic_conn *c, sq_path *path, uint8_t *dg,
                      size_t len, size_t *outlen, scone_tstamp now) {
  size_t total = len;
  if (sq_tx_front_room(c) > 0 && len > 0 && placement_allows(c, dg) &&
      due(c, path, now)) {
    /* ngtcp2 keeps its own packets within our max_udp_payload and the
     * peer's max_udp_payload_size; the SCONE packet must too. */
    size_t limit = c->s.max_udp_payload;
    if (c->indicating)
      limit -= SCONE_INDICATION_LEN;
    const ngtcp2_transport_params *rp =
        ngtcp2_conn_get_remote_transport_params(c->qc);
    if (rp != NULL && rp->max_udp_payload_size < limit)
      limit = (size_t)rp->max_udp_payload_size;
    /* A scheduled one also stays within the confirmed path size, for which
     * sq_tx_write_cap made room. A path frame's is decided only now: ngtcp2
     * pads PATH_CHALLENGE / PATH_RESPONSE datagrams to 1200 bytes, and the
     * SCONE packet rides on top (the datagram probes a path whose size is
     * not known anyway), unless the datagram is fuller than that. */
    size_t pmax = path_max(c);
    if (!c->tx_path_frame || len > NGTCP2_MAX_UDP_PAYLOAD_SIZE)
      limit = pmax < limit ? pmax : limit;
    size_t room = limit > len ? limit - len : 0;
    if (room > SQ_TX_HEADROOM)
      room = SQ_TX_HEADROOM;
    size_t n = prepend_scone(c, dg, len, room, now);
    if (n > 0) {
      dg -= n;
      total += n;
      schedule_next(c, path, now);
    }
  }
  if (c->indicating) {
    /* The caller kept SCONE_INDICATION_LEN bytes free after the datagram. */
    scone_ssize n =
        scone_indication_append(dg, total, total + SCONE_INDICATION_LEN);
    if (n > 0) {
      total = (size_t)n;
      c->ctr.indications_sent++;
    }
  }
  *outlen = total;
  return dg;
}
