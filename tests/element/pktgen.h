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

/* 1 if the UDP checksum of an IP packet is right (or IPv4's zero). */
int pg_csum_ok(const uint8_t *ip, size_t len);
/* The signal of the SCONE packet at the start of the UDP payload, or -1. */
int pg_signal(const uint8_t *ip, size_t len);

#endif
