/*
 * GTP-U (3GPP TS 29.281), the user-plane tunnel of mobile cores (N3, N9,
 * S1-U): the view of one message the engine needs to reach the subscriber
 * packet inside. Only GTPv1 with PT 1 is GTP-U; a G-PDU (message type 255)
 * carries one T-PDU, here an IPv4 or IPv6 packet, after the mandatory 8
 * bytes, the optional 4 (sequence number, N-PDU number, next extension
 * header type: present when any of E, S, PN is set) and the extension
 * headers the E flag chains (each a length in 4-byte units, its content
 * and the next type; 0 ends the chain).
 */
#ifndef SCONED_GTPU_H
#define SCONED_GTPU_H

#include <stddef.h>
#include <stdint.h>

/* The registered GTP-U port (TS 29.281 4.4.2): the destination of every
 * G-PDU and the source of echo requests. */
#define SCONED_GTPU_PORT 2152

#define SCONED_GTPU_ECHO_REQUEST 1
#define SCONED_GTPU_ECHO_RESPONSE 2
#define SCONED_GTPU_GPDU 255
/* The PDU session container (TS 38.415), which carries the QoS flow. */
#define SCONED_GTPU_EXT_PDU_SESSION 0x85

typedef enum sconed_gtpu_kind {
  SCONED_GTPU_TPDU = 0,      /* a G-PDU: inner_off, inner_len are set */
  SCONED_GTPU_ECHO = 1,      /* an echo request or response */
  SCONED_GTPU_OTHER = 2,     /* another message type (error indication,
                                end marker, unknown) */
  SCONED_GTPU_MALFORMED = 3, /* not GTPv1-U, truncated, a length that does
                                not fit, a broken extension chain */
} sconed_gtpu_kind;

typedef struct sconed_gtpu {
  uint8_t type;
  uint32_t teid;
  int has_seq; /* the S flag: seq is valid */
  uint16_t seq;
  int qfi; /* of a PDU session container, or -1 */
  unsigned ext_headers;
  /* The T-PDU, from the start of the GTP header: what the length field
   * says is left after the headers (bytes past it in the UDP payload are
   * not the tunnel's). */
  size_t inner_off, inner_len;
} sconed_gtpu;

/* Parses the UDP payload p of len bytes as a GTP-U message; the fields of
 * *g are valid (those of the header that could be read) whatever the
 * result. */
sconed_gtpu_kind sconed_gtpu_parse(sconed_gtpu *g, const uint8_t *p,
                                   size_t len);

/* Rewrites the SCONE packet at payload, the start of the UDP payload of
 * the inner IP packet inner (inner_len bytes) of a G-PDU whose outer UDP
 * header is outer_udp, as scone_ipudp_rewrite does (lower only, the inner
 * UDP checksum fixed), and fixes the outer UDP checksum for the two words
 * that changed unless it is zero. Same returns as scone_ipudp_rewrite. */
int sconed_gtpu_rewrite(uint8_t *outer_udp, uint8_t *inner, size_t inner_len,
                        const uint8_t *payload, unsigned target);

#endif
