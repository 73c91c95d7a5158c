/*
 * libscone: the SCONE protocol core (draft-ietf-scone-protocol).
 *
 * Sans-I/O: every function works on caller-owned byte buffers, takes the time
 * as an argument and never allocates, sleeps or touches a socket. Nothing on
 * the packet path (parse, rewrite, checksum) uses floating point.
 *
 * Conventions (ngtcp2's style):
 *   - functions returning int: 0 or a positive count on success, a negative
 *     SCONE_ERR_* on failure (scone_strerror() names it);
 *   - functions returning scone_ssize: a length on success, SCONE_ERR_* < 0;
 *   - times are scone_tstamp: nanoseconds on a clock the caller chooses
 *     (monotonic, pcap timestamps, a test's counter); only differences matter;
 *   - settings structs carry a version and have a *_default() initialiser, so
 *     fields can be added without breaking callers; as in ngtcp2, a library
 *     accepts the versions it knows and refuses any other.
 */
#ifndef SCONE_SCONE_H
#define SCONE_SCONE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int64_t scone_ssize;
typedef uint64_t scone_tstamp;
typedef uint64_t scone_duration;

#define SCONE_NANOSECONDS ((scone_duration)1)
#define SCONE_MILLISECONDS ((scone_duration)1000000ULL)
#define SCONE_SECONDS ((scone_duration)1000000000ULL)

/* ------------------------------------------------------------------ errors */

#define SCONE_ERR_TRUNCATED (-1)           /* input ends inside a field */
#define SCONE_ERR_NOT_SCONE (-2)           /* not a SCONE packet */
#define SCONE_ERR_INVALID_ARGUMENT (-3)    /* caller passed a bad value */
#define SCONE_ERR_NOBUF (-4)               /* output buffer too small */
#define SCONE_ERR_TRANSPORT_PARAMETER (-5) /* TRANSPORT_PARAMETER_ERROR */
#define SCONE_ERR_MALFORMED (-6)           /* input is not well formed */
#define SCONE_ERR_NOT_QUIC (-7)            /* not per QUIC invariants */
#define SCONE_ERR_NOT_UDP (-8)             /* an IP packet without UDP */
#define SCONE_ERR_FRAGMENT (-9) /* part of a fragmented UDP datagram */
#define SCONE_ERR_NOT_IP (-10)  /* a link-layer frame without IP (ARP) */

/* A short English description of a SCONE_ERR_* value ("unknown error" else). */
const char *scone_strerror(int err);

/* ---------------------------------------------------------- protocol facts */

/* The two SCONE versions differ only in the top bit, which is the low bit of
 * the rate signal. */
#define SCONE_VERSION_EVEN 0x6f7dc0fdU
#define SCONE_VERSION_ODD 0xef7dc0fdU
#define SCONE_VERSION_BITS 0x6f7dc0fdU /* (version & 0x7fffffff) */

#define SCONE_SIGNAL_MAX 126     /* highest advice value: 199.5 Gbit/s */
#define SCONE_SIGNAL_UNKNOWN 127 /* sent by endpoints; "no advice" */

/* The monitoring period over which advice applies. */
#define SCONE_PERIOD ((scone_duration)67 * SCONE_SECONDS)

/* The two directions advice is given for, as the subscriber sees them. */
typedef enum scone_dir {
  SCONE_DIR_UPLINK = 0,   /* client (subscriber) to server */
  SCONE_DIR_DOWNLINK = 1, /* server to client */
} scone_dir;

#define SCONE_TP_SCONE_SUPPORTED 0x219eU /* transport parameter id */

/* First-flight indication: the final two bytes of a client's datagrams. */
#define SCONE_INDICATION_BYTE0 0xc8U
#define SCONE_INDICATION_BYTE1 0x13U
#define SCONE_INDICATION_LEN 2

/* The invariants allow 0..255 bytes of CID in long headers. */
#define SCONE_MAX_CIDLEN 255

/* Smallest SCONE packet: first byte, version, two zero length bytes. */
#define SCONE_PACKET_MIN_LEN 7

/* -------------------------------------------------------------- rate table */

/* Bits per second for a signal: round(100000 * 10^(n/20)) for n = 0..126.
 * Returns 0 for SCONE_SIGNAL_UNKNOWN and for anything above 127. */
uint64_t scone_rate_from_signal(unsigned signal);

/* The signal for a rate: the largest n whose rate does not exceed bps, since
 * advice is a ceiling. Below 100 kbit/s gives 0; above 199.5 Gbit/s gives
 * SCONE_SIGNAL_MAX. Never returns SCONE_SIGNAL_UNKNOWN. */
unsigned scone_rate_to_signal(uint64_t bps);

/* ------------------------------------------------------------ SCONE packet */

typedef struct scone_packet {
  uint8_t first_byte;  /* header form, reserved bit, high signal bits */
  uint8_t signal;      /* 7-bit rate signal, 0..127 */
  uint32_t version;    /* SCONE_VERSION_EVEN or SCONE_VERSION_ODD */
  const uint8_t *dcid; /* points into the parsed buffer */
  size_t dcidlen;
  const uint8_t *scid;
  size_t scidlen;
  size_t len; /* bytes the SCONE packet occupies: the next packet starts here */
} scone_packet;

/* Cheap test on the first five bytes: long header bit and a SCONE version.
 * Returns 1 or 0; never reads past len. */
int scone_packet_is_scone(const uint8_t *data, size_t len);

/* Reads the signal of a buffer already known to start with a SCONE packet
 * (at least 5 bytes). */
static inline unsigned scone_packet_signal(const uint8_t *data) {
  return (unsigned)(((data[0] & 0x3fU) << 1) | (data[1] >> 7));
}

/* Parses a SCONE packet at the start of data (a UDP payload) with full bounds
 * checks. Returns pkt->len (> 0), SCONE_ERR_NOT_SCONE when the first bytes are
 * not a SCONE header, or SCONE_ERR_TRUNCATED when a CID runs past datalen. */
scone_ssize scone_packet_parse(scone_packet *pkt, const uint8_t *data,
                               size_t datalen);

/* Flags for scone_packet_build(). */
#define SCONE_BUILD_FLAG_NONE 0x0U
/* Set the reserved bit (0x40); RFC 9287 lets it be greased. Clear otherwise. */
#define SCONE_BUILD_FLAG_RESERVED_BIT 0x1U

/* Writes a SCONE packet carrying signal (endpoints send SCONE_SIGNAL_UNKNOWN)
 * in whichever version the signal's low bit selects. Returns the length
 * written, SCONE_ERR_NOBUF, or SCONE_ERR_INVALID_ARGUMENT (signal > 127 or a
 * CID longer than 255 bytes). */
scone_ssize scone_packet_build(uint8_t *dst, size_t dstlen, unsigned signal,
                               const uint8_t *dcid, size_t dcidlen,
                               const uint8_t *scid, size_t scidlen,
                               uint32_t flags);

/* Lower-only rewrite in place of the SCONE packet at the start of data: the
 * signal becomes target if target is lower than the signal present; it is
 * never raised and never set to 127 (target >= 127 changes nothing). The
 * reserved bit and the CIDs are untouched. *old_signal (if not NULL) receives
 * the signal found. Returns 1 if the bytes changed, 0 if not,
 * SCONE_ERR_INVALID_ARGUMENT for a NULL buffer, or
 * SCONE_ERR_NOT_SCONE / SCONE_ERR_TRUNCATED (only the 5-byte header is
 * required: CIDs are not inspected, so a network element can rewrite packets
 * it only sees the start of). Only data[0] and data[1] are ever written. */
int scone_packet_rewrite(uint8_t *data, size_t datalen, unsigned target,
                         unsigned *old_signal);

/* -------------------------------------------------- QUIC invariants header */

typedef struct scone_quic_hdr {
  int is_long; /* 1: long header (0x80 set); 0: short header */
  uint8_t first_byte;
  uint32_t version; /* long headers only; 0 means Version Negotiation */
  const uint8_t *dcid;
  size_t dcidlen;
  const uint8_t *scid; /* long headers only */
  size_t scidlen;
  size_t hdrlen; /* bytes covered by the invariant fields */
} scone_quic_hdr;

/* Parses the version-independent fields (RFC 8999). A short header carries no
 * DCID length, so the caller gives short_dcidlen (the length it expects, e.g.
 * the CID it issued; 0 is fine when unknown). Returns hdr->hdrlen,
 * SCONE_ERR_TRUNCATED, or SCONE_ERR_NOT_QUIC for an empty buffer. */
scone_ssize scone_quic_hdr_parse(scone_quic_hdr *hdr, const uint8_t *data,
                                 size_t datalen, size_t short_dcidlen);

/* --------------------------------------------- QUIC variable-length ints */

/* Decodes a QUIC varint; returns bytes read or SCONE_ERR_TRUNCATED. */
scone_ssize scone_varint_get(uint64_t *v, const uint8_t *p, size_t len);
/* Encodes in the shortest form; returns bytes written, SCONE_ERR_NOBUF, or
 * SCONE_ERR_INVALID_ARGUMENT for v >= 2^62. */
scone_ssize scone_varint_put(uint8_t *p, size_t len, uint64_t v);
/* Encoded length of v (1, 2, 4 or 8). */
size_t scone_varint_len(uint64_t v);

/* -------------------------------------- scone_supported transport parameter */

/* Appends the (empty) scone_supported parameter: id 0x219e, length 0. Returns
 * the bytes written (3) or SCONE_ERR_NOBUF. */
scone_ssize scone_tp_encode(uint8_t *dst, size_t dstlen);

/* Looks for scone_supported in an encoded transport-parameters blob (a
 * sequence of id, length, value). Returns 1 if present and empty, 0 if
 * absent, SCONE_ERR_TRANSPORT_PARAMETER if present with a value or more than
 * once, SCONE_ERR_MALFORMED if the blob does not parse. */
int scone_tp_find(const uint8_t *params, size_t paramslen);

/* ------------------------------------------------ first-flight indication */

/* Appends 0xc8 0x13 to a datagram of len bytes in a buffer of cap bytes.
 * Returns the new length or SCONE_ERR_NOBUF. */
scone_ssize scone_indication_append(uint8_t *dgram, size_t len, size_t cap);

/* 1 if the datagram's final two bytes are the indication, else 0. */
int scone_indication_present(const uint8_t *dgram, size_t len);

/* ---------------------------------------------------------- UDP checksums */

/* The rewrite functions update the checksum of what they change themselves
 * (RFC 1624, with UDP's zero corners: lib/internal.h).
 *
 * Computes a UDP checksum from scratch over the pseudo-header and the UDP
 * header + payload (whose checksum field is treated as zero). addrlen is 4 or
 * 16. Returns the value to store (0xffff in place of a computed 0). */
uint16_t scone_udp_csum_compute(const uint8_t *src, const uint8_t *dst,
                                size_t addrlen, const uint8_t *udp,
                                size_t udplen);

/* RFC 1624 update of a UDP checksum for one 16-bit word of the data it
 * covers changing from old_word to new_word (both as read big-endian at an
 * even offset from the UDP header), with UDP's zero corners: 0 (no
 * checksum) stays 0, and a computed 0 is returned as 0xffff. For a
 * checksum over bytes another layer rewrote, such as the outer UDP header
 * of a tunnel whose inner packet changed. */
uint16_t scone_udp_csum_update(uint16_t csum, uint16_t old_word,
                               uint16_t new_word);

/* -------------------------------------------------- IP/UDP datagram view */

typedef struct scone_ipudp {
  int ip_version;     /* 4 or 6 */
  const uint8_t *src; /* 4 or 16 bytes */
  const uint8_t *dst;
  uint16_t sport, dport; /* host order */
  size_t udp_off;        /* offset of the UDP header within the IP packet */
  size_t payload_off;    /* offset of the UDP payload */
  size_t payload_len;    /* from the UDP length field, bounded by the capture */
  uint8_t tos;           /* IPv4 TOS / IPv6 traffic class */
  int is_fragment;       /* a fragment of a UDP datagram: with result 0 the
                            first one, whose payload is incomplete; later
                            ones give SCONE_ERR_FRAGMENT */
} scone_ipudp;

/* Parses an IPv4 or IPv6 packet carrying UDP (IPv6 extension headers
 * hop-by-hop, routing, destination options and fragment are walked). Returns
 * 0 (also for a first fragment: see is_fragment), SCONE_ERR_TRUNCATED,
 * SCONE_ERR_MALFORMED, SCONE_ERR_NOT_UDP when the packet carries another
 * protocol, or SCONE_ERR_FRAGMENT for a later fragment of a UDP datagram,
 * which has no UDP header (the caller passes such packets on untouched).
 * v->is_fragment is valid whatever the result: 1 with SCONE_ERR_FRAGMENT. */
int scone_ipudp_parse(scone_ipudp *v, const uint8_t *pkt, size_t len);

/* Rewrites the SCONE packet at the start of the UDP payload of an IP packet
 * (lower only) and fixes the UDP checksum incrementally. Same returns as
 * scone_packet_rewrite(); also SCONE_ERR_NOT_UDP for packets of another
 * protocol and SCONE_ERR_FRAGMENT for any fragment (a first one too: the
 * checksum covers bytes it does not hold). */
int scone_ipudp_rewrite(uint8_t *pkt, size_t len, unsigned target,
                        unsigned *old_signal);

/* ------------------------------------------------------ link-layer frames */

/* pcap link types, as plain ints so that callers need no libpcap headers.
 * These are the LINKTYPE_* values of the file formats, which are also what
 * pcap_datalink() returns, except that raw IP comes back as DLT_RAW (12 on
 * most systems), which is therefore accepted as well. */
#define SCONE_LINK_NULL 0         /* BSD loopback, family in host order */
#define SCONE_LINK_ETHERNET 1     /* Ethernet II, any 802.1Q/802.1ad tags */
#define SCONE_LINK_DLT_RAW 12     /* raw IPv4/IPv6 (DLT_RAW of libpcap) */
#define SCONE_LINK_RAW 101        /* raw IPv4/IPv6 (LINKTYPE_RAW) */
#define SCONE_LINK_LOOP 108       /* BSD loopback, family in network order */
#define SCONE_LINK_LINUX_SLL 113  /* Linux cooked capture v1 */
#define SCONE_LINK_IPV4 228       /* raw IP, announced as IPv4 */
#define SCONE_LINK_IPV6 229       /* raw IP, announced as IPv6 */
#define SCONE_LINK_LINUX_SLL2 276 /* Linux cooked capture v2 */

/* 1 if frames of this link type can be walked by scone_link_ip_offset(),
 * else 0: lets a reader refuse a whole capture up front. */
int scone_link_supported(int linktype);

/* Finds the IPv4/IPv6 packet in a captured frame of len bytes and sets
 * *ip_off to its offset, before len. The EtherType (after any VLAN tags)
 * or the cooked protocol field must announce IPv4/IPv6; for loopback the
 * address family must be an IP one and, as for raw IP, the version nibble
 * 4 or 6. Returns 0, SCONE_ERR_TRUNCATED when the capture ends inside the
 * link header (or right after it), SCONE_ERR_NOT_IP when the frame
 * carries something other than IP (ARP, LLC, ...: to be passed on
 * untouched), or SCONE_ERR_INVALID_ARGUMENT for an unsupported link type or
 * a NULL pointer. *ip_off is written only on success. */
int scone_link_ip_offset(int linktype, const uint8_t *frame, size_t len,
                         size_t *ip_off);

/* ------------------------------------------------- bucketed sliding window */

#define SCONE_WINDOW_MAX_BUCKETS 68

/* The sender budget's window (below), which embeds it. Sum of byte counts
 * over a sliding window of nbuckets buckets of bucket_ns each. The window sum
 * covers the current (partial) bucket and the previous nbuckets - 1, so it
 * covers at least (nbuckets - 1) * bucket_ns. */
typedef struct scone_window {
  scone_duration bucket_ns;
  uint32_t nbuckets;
  uint32_t head;     /* index of the current bucket */
  uint64_t head_idx; /* absolute bucket number (now / bucket_ns) of head */
  uint64_t sum;
  uint64_t bytes[SCONE_WINDOW_MAX_BUCKETS];
} scone_window;

/* nbuckets is clamped to 2..SCONE_WINDOW_MAX_BUCKETS. */
void scone_window_init(scone_window *w, scone_duration bucket_ns,
                       uint32_t nbuckets);
void scone_window_add(scone_window *w, scone_tstamp now, uint64_t bytes);
uint64_t scone_window_sum(scone_window *w, scone_tstamp now);

/* --------------------------------------------- advice tracker (endpoints) */

/* The advice in force on one path and direction: the lowest signal received
 * within the last monitoring period: advice received at t is in force for
 * t <= now < t + period. Advice expires when a period passes with no advice.
 * A monotone deque keeps this exact in constant memory: at most one entry per
 * distinct signal value. */
typedef struct scone_advice {
  unsigned signal;          /* SCONE_SIGNAL_UNKNOWN when no advice in force */
  uint64_t bps;             /* 0 when unknown */
  scone_tstamp received_at; /* last time any advice was accepted */
  scone_tstamp expires_at;  /* when this advice lapses (or changes upward)
                               unless renewed; 0 when unknown */
} scone_advice;

typedef struct scone_advice_tracker {
  scone_duration period;
  uint32_t head, count;
  struct {
    uint8_t signal;
    scone_tstamp at;
  } q[SCONE_SIGNAL_MAX + 1];
  unsigned current; /* last reported signal */
  scone_tstamp last_rx;
} scone_advice_tracker;

/* period 0 means SCONE_PERIOD. */
void scone_advice_tracker_init(scone_advice_tracker *t, scone_duration period);

/* Records an accepted signal (127 is ignored: unknown is no advice). Returns 1
 * if the advice in force changed, else 0. */
int scone_advice_tracker_on_signal(scone_advice_tracker *t, unsigned signal,
                                   scone_tstamp now);

/* Ages out old advice. Returns 1 if the advice in force changed (rose to a
 * higher remembered value, or expired to unknown), else 0. */
int scone_advice_tracker_expire(scone_advice_tracker *t, scone_tstamp now);

/* The advice in force at now (call _expire first to get change reports). */
void scone_advice_tracker_get(const scone_advice_tracker *t, scone_tstamp now,
                              scone_advice *out);

/* When the advice in force next changes without new input (for a timer);
 * UINT64_MAX when no advice is held. */
scone_tstamp scone_advice_tracker_next_expiry(const scone_advice_tracker *t);

/* ------------------------------------------------ sender budget (endpoint) */

/* How many bytes a sender may send now so that no window of one monitoring
 * period carries more than advice * period. The bucketed window counts the
 * current bucket and enough previous ones to cover a whole period, so it errs
 * on the side of sending less. */
typedef struct scone_budget {
  uint64_t bps; /* 0: no advice, no limit */
  scone_duration period;
  scone_window win;
} scone_budget;

/* nbuckets 0 means 67 (one-second buckets for the default period). */
void scone_budget_init(scone_budget *b, scone_duration period,
                       uint32_t nbuckets);
void scone_budget_set_rate(scone_budget *b, uint64_t bps);
/* Bytes that may be sent now; UINT64_MAX when no advice is set. */
uint64_t scone_budget_available(scone_budget *b, scone_tstamp now);
void scone_budget_consume(scone_budget *b, scone_tstamp now, uint64_t bytes);

#ifdef __cplusplus
}
#endif

#endif /* SCONE_SCONE_H */
