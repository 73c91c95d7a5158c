/*
 * TLS over TCP for the legacy element's tests: a real ClientHello from
 * GnuTLS with a chosen server name (the bytes its first handshake step
 * writes), and IPv4/TCP segments around payloads, so that nDPI sees a TCP
 * flow as it would on the wire: handshake, ClientHello, data.
 */
#ifndef LEGACY_TLS_TCP_H
#define LEGACY_TLS_TCP_H

#include <stddef.h>
#include <stdint.h>

#define TLS_TCP_HELLO_MAX 4096

/* The TLS record(s) GnuTLS sends first as a client with SNI sni (NULL or
 * "": none); their length, or -1 on a GnuTLS error. */
int tls_client_hello(const char *sni, uint8_t *out, size_t cap);

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_PSH 0x08
#define TCP_ACK 0x10

/* An IPv4/TCP segment around payload (both checksums filled); its
 * length. */
size_t tls_tcp_ip4(uint8_t *out, uint32_t src, uint16_t sport, uint32_t dst,
                   uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                   const uint8_t *payload, size_t len);

/* IPv4 with a 4-byte option (Router Alert: a 24-byte header). */
#define TLS_TCP_IP4_OPT 0x44
/* The same in family 4, TLS_TCP_IP4_OPT or 6: IPv6 (no extension
 * headers) between the addresses NAT64 writes for src and dst
 * (64:ff9b::/96 and the IPv4 address). */
size_t tls_tcp_ip(int family, uint8_t *out, uint32_t src, uint16_t sport,
                  uint32_t dst, uint16_t dport, uint32_t seq, uint32_t ack,
                  uint8_t flags, const uint8_t *payload, size_t len);

/* One TCP connection client:cport <-> server:443 as a test writes it, with
 * the sequence numbers kept. */
typedef struct tcp_conn {
  uint32_t client, server;
  uint16_t cport;
  int family;          /* tls_tcp_ip's; 4 after tcp_conn_init */
  uint32_t cseq, sseq; /* next sequence number of each side */
} tcp_conn;

void tcp_conn_init(tcp_conn *c, uint32_t client, uint32_t server,
                   uint16_t cport);
/* The next segment: the 3-way handshake's (step 0 SYN, 1 SYN-ACK, 2 ACK,
 * payload ignored), or data from the client (up) or the server. Its
 * length in out. */
size_t tcp_conn_syn(tcp_conn *c, int step, uint8_t *out);
size_t tcp_conn_data(tcp_conn *c, int up, const uint8_t *pl, size_t n,
                     uint8_t *out);

#endif
