/*
 * Real QUIC Initials for the legacy element's tests and benchmark: the
 * first-flight datagram the project's own client (ngtcp2 + GnuTLS) sends
 * with a chosen server name, read off a local UDP socket, and variants made
 * from it (the ClientHello split over two Initial packets, another
 * version), re-protected with the RFC 9001 initial keys.
 */
#ifndef LEGACY_INITIALS_H
#define LEGACY_INITIALS_H

#include <stddef.h>
#include <stdint.h>

#define INITIALS_MAX 1500

/* The client's first datagram with SNI sni (NULL or "": none); its length,
 * or -1 when the client sent nothing within a second. */
int initials_capture(const char *sni, uint8_t *out, size_t cap);

/* From a captured first datagram: two datagrams of one Initial packet each,
 * the first carrying the ClientHello's first at bytes, the second the rest
 * (each padded to 1200 bytes). Returns 0, or -1 when dg is no v1 client
 * Initial. */
int initials_split(const uint8_t *dg, size_t len, size_t at, uint8_t *a,
                   size_t *alen, uint8_t *b, size_t *blen);

/* An IPv4/UDP packet around payload (checksum filled); its length. */
size_t initials_ip4(uint8_t *out, uint32_t src, uint16_t sport, uint32_t dst,
                    uint16_t dport, const uint8_t *payload, size_t len);

#endif
