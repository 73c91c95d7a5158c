/*
 * sconed engine: the carrier's network element as a sans-I/O state machine.
 * A datagram, its arrival time and (for IP packets) its bytes go in; a
 * verdict comes out. Datapaths (pcap, NFQUEUE, UDP relay) are thin adapters.
 *
 * CONTRACT DRAFT: the engine owner may extend this header but should keep
 * these names and meanings so the datapaths keep building.
 */
#ifndef SCONED_ENGINE_H
#define SCONED_ENGINE_H

#include <scone/scone.h>

typedef struct sconed_engine sconed_engine;
typedef struct sconed_config sconed_config; /* parsed, immutable once built */

typedef enum sconed_action {
  SCONED_PASS = 0,  /* forward now (possibly modified: see .modified) */
  SCONED_DROP = 1,  /* policer said no */
  SCONED_DELAY = 2, /* shaper: forward at .release_at */
} sconed_action;

typedef struct sconed_verdict {
  sconed_action action;
  int modified;            /* bytes were rewritten (checksum already fixed) */
  scone_tstamp release_at; /* for SCONED_DELAY */
} sconed_verdict;

/* An address tuple as the adapter saw it (for the relay, which has no IP
 * header to hand: it fills this from socket addresses). */
typedef struct sconed_tuple {
  uint8_t ip_version; /* 4 or 6 */
  uint8_t src[16], dst[16];
  uint16_t sport, dport; /* host order */
} sconed_tuple;

/* Processes one IPv4/IPv6 packet in place. Non-UDP, malformed and truncated
 * packets get SCONED_PASS unmodified. */
void sconed_engine_process_ip(sconed_engine *e, uint8_t *pkt, size_t len,
                              scone_tstamp now, sconed_verdict *v);

/* Processes one UDP payload on a known tuple (no checksum to fix). */
void sconed_engine_process_udp(sconed_engine *e, const sconed_tuple *t,
                               uint8_t *payload, size_t len, scone_tstamp now,
                               sconed_verdict *v);

#endif
