/*
 * The legacy element: video throttling as carriers do it today, by deep
 * packet inspection, as the baseline SCONE is measured against.
 *
 * Every new UDP and TCP flow goes to nDPI (libndpi) until it is classified
 * or a bounded number of its packets has gone by. A flow nDPI puts in a
 * video category, or whose server name (the SNI of its QUIC Initial or TLS
 * ClientHello) is on the config's [dpi] list, is enforced at its
 * subscriber's plan rate by the sconed engine's own policer or shaper (the
 * engine given at creation, fed only those flows' packets; TCP ones
 * through its TCP entry, never rewritten); everything
 * else passes untouched, and so does every datagram led by a SCONE packet.
 *
 * Sans-I/O as the engine is: packets and their time in, verdicts out. Not
 * thread-safe; one caller at a time, as for the engine.
 */
#ifndef LEGACY_DPI_H
#define LEGACY_DPI_H

#include <scone/scone.h>

#include "config.h"
#include "engine.h"

#include <stddef.h>
#include <stdint.h>

typedef struct legacy_dpi legacy_dpi;

typedef struct legacy_dpi_settings {
  uint32_t max_flows; /* flow slots, preallocated; default 65536 */
  /* A flow with no packet for this long is forgotten; default 120 s. */
  scone_duration idle_timeout;
  uint64_t seed; /* of the table's hash; 0: from getrandom(2) */
} legacy_dpi_settings;

void legacy_dpi_settings_default(legacy_dpi_settings *s);

/* e enforces the video flows (not owned; it must outlive the element).
 * Returns NULL when out of memory, on max_flows 0, or when nDPI fails to
 * start. The element runs the [dpi] defaults until legacy_dpi_set_config. */
legacy_dpi *legacy_dpi_new(const legacy_dpi_settings *s, sconed_engine *e);
void legacy_dpi_free(legacy_dpi *l);

/* Takes the [dpi] section of c and hands c to the engine (which owns it
 * afterwards, even on error), with no grace for announced flows: today's
 * element does not know SCONE. Flows already decided keep their verdict.
 * Returns 0, or -1 when c is NULL. */
int legacy_dpi_set_config(legacy_dpi *l, sconed_config *c);

/* One IPv4/IPv6 packet, in place (only the engine rewrites, and only a
 * video flow's). Anything it cannot parse passes untouched. */
void legacy_dpi_process_ip(legacy_dpi *l, uint8_t *pkt, size_t len,
                           scone_tstamp now, sconed_verdict *v);

/* Forgets every flow (nDPI state included); counters to zero. */
void legacy_dpi_reset(legacy_dpi *l);

typedef struct legacy_dpi_stats {
  uint64_t packets;          /* everything offered */
  uint64_t untracked;        /* passed untouched: not TCP/UDP, fragments,
                                malformed, or no flow slot free */
  uint64_t scone_packets;    /* datagrams led by a SCONE packet: untouched */
  uint64_t dpi_packets;      /* packets nDPI looked at */
  uint64_t enforced_packets; /* packets of video flows given to the engine */
  uint64_t flows_total;      /* flows seen */
  uint64_t flows_classified; /* flows nDPI named (any protocol) */
  uint64_t video_flows;      /* of all flows, decided video */
  uint64_t sni_matches;      /* of them, by the [dpi] sni list */
  uint64_t gave_up;          /* flows still unknown after max_packets */
  uint64_t flows; /* gauge: slots holding a flow (an idle one until reused) */
  uint64_t classifying; /* gauge: flows nDPI still holds state for */
  uint64_t max_flows;
  uint64_t flow_bytes;      /* table bytes per flow slot */
  uint64_t ndpi_flow_bytes; /* nDPI's state per flow while classifying */
  uint64_t memory_bytes;    /* the table (nDPI's flows come on top) */
} legacy_dpi_stats;

void legacy_dpi_stats_get(const legacy_dpi *l, legacy_dpi_stats *st);

/* What the element decided for the flow of this packet (for tests):
 * 0 unknown flow, 1 still classifying, 2 video, 3 not video. */
int legacy_dpi_flow_class(const legacy_dpi *l, const uint8_t *pkt, size_t len,
                          scone_tstamp now);

#endif
