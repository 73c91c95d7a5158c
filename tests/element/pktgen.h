/*
 * Test packet builders for the sconed tests: IPv4/IPv6 UDP datagrams with
 * real checksums, QUIC-looking payloads and SCONE packets.
 */
#ifndef SCONED_TEST_PKTGEN_H
#define SCONED_TEST_PKTGEN_H

#include <scone/scone.h>

#include <stddef.h>
#include <stdint.h>

typedef struct pg_flow {
  int v6;
  uint8_t cli[16], srv[16]; /* client (subscriber) and server addresses */
  uint16_t cport, sport;
} pg_flow;

/* A flow from client 10.0.0.x / 2001:db8::x to a server on port 443. */
void pg_flow_make(pg_flow *f, int v6, uint32_t client_id, uint16_t cport);

/* An IP/UDP packet; to_server picks the direction. csum 0 writes a zero
 * UDP checksum (IPv4's "none"). Returns the length. */
size_t pg_ip(uint8_t *buf, size_t cap, const pg_flow *f, int to_server,
             const uint8_t *payload, size_t plen, int csum);

/* Payloads. Each fills exactly len bytes (len >= the minimum noted). */
/* A QUIC v1 long-header Initial, optionally ending in 0xc8 0x13 (>= 32). */
size_t pg_initial(uint8_t *p, size_t len, int announce);
/* A short-header (1-RTT-looking) packet with the fixed bit (>= 21). */
size_t pg_short(uint8_t *p, size_t len);
/* A SCONE packet with the given signal, then a 1-RTT-looking packet
 * (>= 7 + 21). */
size_t pg_scone(uint8_t *p, size_t len, unsigned signal);

/* A datagram that starts like a SCONE packet (8-byte DCID) but whose next
 * packet does not match it: another protocol's bytes that look like SCONE
 * by chance (>= 40). */
size_t pg_scone_lookalike(uint8_t *p, size_t len);

/* A GTP-U tunnel between a base station (gNB) and the core (UPF), both
 * on port 2152: 192.0.2.10 and 192.0.2.20, or fd00:6::10 and fd00:6::20. */
typedef struct pg_tunnel {
  pg_flow outer; /* cli: the gNB, srv: the UPF */
  uint32_t teid; /* of the messages sent, either way */
  int seq;       /* >= 0: the S flag and this sequence number */
  int qfi;       /* >= 0: a PDU session container with this QFI */
  int csum;      /* outer UDP checksum: 1 computed, 0 left zero */
} pg_tunnel;

void pg_tunnel_make(pg_tunnel *t, int outer_v6, uint32_t teid);

/* A GTP-U message of the given type carrying body, uplink (gNB to UPF) or
 * downlink, in an outer IP/UDP packet. *body_off (if not NULL) is where
 * body starts in buf. Returns the length, 0 when it does not fit. */
size_t pg_gtpu_msg(uint8_t *buf, size_t cap, const pg_tunnel *t, int uplink,
                   uint8_t type, const uint8_t *body, size_t blen,
                   size_t *body_off);
/* A G-PDU carrying the IP packet inner. */
size_t pg_gtpu(uint8_t *buf, size_t cap, const pg_tunnel *t, int uplink,
               const uint8_t *inner, size_t ilen, size_t *inner_off);

/* 1 if the UDP checksum of an IP packet is right (or IPv4's zero). */
int pg_csum_ok(const uint8_t *ip, size_t len);
/* The signal of the SCONE packet at the start of the UDP payload, or -1. */
int pg_signal(const uint8_t *ip, size_t len);

#endif
