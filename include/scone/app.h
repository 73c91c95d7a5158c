/*
 * libscone_app: how a QUIC endpoint hands SCONE throughput advice to its
 * application (draft-eddy-scone-api, draft-eddy-sconepro-api).
 *
 * The QUIC glue owns the connection; these helpers turn what it knows (the
 * advice in force from scone_advice_tracker, counters, RTT, a throughput
 * estimate) into the shapes applications already consume:
 *   - a WebTransportConnectionStats-like snapshot (polled state),
 *   - a W3C NetworkInformation-like view with change events,
 *   - CMCD (CTA-5004) and CMSD-Dynamic (CTA-5006) values for video players,
 *   - qlog-style events for SCONE packets and advice.
 *
 * Sans-I/O like the core: callers pass time in and own every buffer. The JSON
 * formatters allocate transiently (jansson) and free before returning.
 *
 * Advice is about bytes on the wire: QUIC, UDP and IP headers,
 * retransmissions and SCONE packets all count. A media bitrate chosen against
 * it therefore needs headroom; scone_app_settings.overhead_margin_pct is that
 * headroom and scone_app_media_cap_bps() applies it.
 *
 * Direction: SCONE advice is about the path a SCONE packet travelled, so the
 * advice an endpoint learns from packets it receives limits what it receives
 * (for a client, the downlink). Advice for what it sends can only come from
 * its peer, by some application means (e.g. CMCD rtp).
 *
 * Returns follow scone.h: the *_to_json / *_render functions return the
 * length written (a NUL is written after it, not counted), SCONE_ERR_NOBUF
 * when buf cannot hold the text and its NUL (also on allocation failure),
 * or SCONE_ERR_INVALID_ARGUMENT.
 */
#ifndef SCONE_APP_H
#define SCONE_APP_H

#include <scone/scone.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- settings */

/* The struct's layout version, as ngtcp2 numbers its own: the functions
 * taking settings reject any other with SCONE_ERR_INVALID_ARGUMENT, which
 * also catches a struct that did not go through
 * scone_app_settings_default(). */
#define SCONE_APP_SETTINGS_V1 1

/* Default headroom for transport overhead between wire advice and media
 * bitrate. Full-size QUIC packets spend roughly 5% on IP/UDP/QUIC headers,
 * AEAD tags and frame headers; loss recovery and ACK-eliciting control
 * traffic add a few percent more. */
#define SCONE_APP_DEFAULT_OVERHEAD_MARGIN_PCT 10
/* Highest margin honoured; larger values are treated as this. */
#define SCONE_APP_MAX_OVERHEAD_MARGIN_PCT 90

typedef struct scone_app_settings {
  uint32_t version;             /* SCONE_APP_SETTINGS_V1 */
  uint32_t overhead_margin_pct; /* share of the advice kept for overhead;
                                   default 10 */
  /* NetworkInformation hysteresis (see scone_app_netinfo_update). */
  uint32_t netinfo_change_pct;         /* relative change that counts for
                                          downlink and rtt; default 10 */
  scone_duration netinfo_min_interval; /* least time between events caused by
                                          estimate or rtt changes; default 1 s
                                        */
  int save_data; /* reported as NetworkInformation.saveData; default 0 */
} scone_app_settings;

void scone_app_settings_default(scone_app_settings *s);

/* ---------------------------------------------- WebTransport-like stats */

/* A snapshot modelled on WebTransportConnectionStats, filled by the QUIC
 * glue. Zero-initialise it so that fields added later read as unknown. */
typedef struct scone_app_stats {
  uint64_t bytes_sent, packets_sent;
  uint64_t bytes_lost, packets_lost;
  uint64_t bytes_received, packets_received;
  scone_duration smoothed_rtt, rtt_variation, min_rtt;
  uint64_t estimated_send_rate; /* bit/s from congestion control; 0 unknown */
  /* Advice for the direction this endpoint receives, from SCONE packets. */
  int has_throughput_advice;
  uint64_t throughput_advice_bps;
  /* Advice for the direction this endpoint sends, if its peer relayed it. */
  int has_send_throughput_advice;
  uint64_t send_throughput_advice_bps;
  int scone_negotiated; /* both sides sent scone_supported */
  uint64_t scone_packets_sent, scone_packets_received;
  uint64_t scone_advice_accepted, scone_advice_rejected;
} scone_app_stats;

/* Copies the advice in force (NULL or unknown signal: none) into the receive
 * direction fields. */
void scone_app_stats_set_advice(scone_app_stats *st, const scone_advice *adv);

/* One JSON object with WebTransport's camelCase keys: bytesSent, packetsSent,
 * bytesLost, packetsLost, bytesReceived, packetsReceived, smoothedRtt,
 * rttVariation, minRtt (milliseconds as numbers, microsecond precision),
 * estimatedSendRate (bit/s or null), and the SCONE extensions
 * throughputAdvice and sendThroughputAdvice (bit/s or null), sconeNegotiated
 * (boolean), sconePacketsSent, sconePacketsReceived, sconeAdviceAccepted,
 * sconeAdviceRejected. Counters above 2^63-1 are clamped. */
int scone_app_stats_to_json(const scone_app_stats *st, char *buf, size_t len);

/* ------------------------------------------ NetworkInformation-like view */

typedef enum scone_app_effective_type {
  SCONE_APP_ECT_UNKNOWN = 0, /* neither downlink nor rtt known; JSON null */
  SCONE_APP_ECT_SLOW_2G = 1,
  SCONE_APP_ECT_2G = 2,
  SCONE_APP_ECT_3G = 3,
  SCONE_APP_ECT_4G = 4,
} scone_app_effective_type;

/* "slow-2g", "2g", "3g", "4g", or NULL for SCONE_APP_ECT_UNKNOWN. */
const char *scone_app_effective_type_name(scone_app_effective_type t);

typedef struct scone_app_netinfo {
  /* min(estimate, advice), rounded to the nearest 25 kbit/s as W3C asks but
   * never above the advice (rounding down then), in Mbit/s. */
  int has_downlink;
  double downlink_mbps;
  uint64_t downlink_bps; /* the same rounded value in bit/s */
  /* The advice in Mbit/s, unrounded (it is already coarse and is a ceiling);
   * INFINITY when no advice is in force, as W3C reports an unknown max. */
  double downlink_max_mbps;
  int has_rtt;
  uint64_t rtt_ms; /* rounded to the nearest 25 ms */
  scone_app_effective_type
      effective_type; /* from the rounded values, W3C table */
  int save_data;
  unsigned advice_signal; /* SCONE_SIGNAL_UNKNOWN when none */
  uint64_t advice_bps;    /* 0 when none */
} scone_app_netinfo;

/* The view for these inputs, without hysteresis. advice NULL or with signal
 * SCONE_SIGNAL_UNKNOWN means no advice; estimate_bps 0 and rtt 0 mean
 * unknown. */
void scone_app_netinfo_compute(scone_app_netinfo *out,
                               const scone_advice *advice,
                               uint64_t estimate_bps, scone_duration rtt,
                               int save_data);

typedef struct scone_app_netinfo_state {
  scone_app_settings s;
  int reported_once;
  scone_app_netinfo reported; /* what the last change event announced */
  scone_tstamp last_event;
} scone_app_netinfo_state;

/* settings NULL means defaults. Returns 0, or SCONE_ERR_INVALID_ARGUMENT
 * for settings of a version the library does not know (st then holds the
 * defaults). */
int scone_app_netinfo_state_init(scone_app_netinfo_state *st,
                                 const scone_app_settings *settings);

/* Recomputes the view and returns 1 when a change event should fire (the
 * reported view is then replaced), else 0. Hysteresis, so that a noisy
 * estimate does not flood the application:
 *   - the first update always fires;
 *   - a change of advice (signal) fires at once: it is an explicit network
 *     signal, rare by design, and the application must not miss it;
 *   - otherwise nothing fires within netinfo_min_interval of the last event;
 *     after it, an event fires when downlink or rtt became known/unknown,
 *     the effective type changed, or the rounded downlink or rtt moved by at
 *     least netinfo_change_pct percent of the reported value.
 * Comparisons are against the last reported view, so slow drift still fires
 * once it adds up. */
int scone_app_netinfo_update(scone_app_netinfo_state *st,
                             const scone_advice *advice, uint64_t estimate_bps,
                             scone_duration rtt, scone_tstamp now);

/* The last reported view (as W3C attributes, it changes only with events). */
void scone_app_netinfo_get(const scone_app_netinfo_state *st,
                           scone_app_netinfo *out);

/* {"downlink": Mbit/s or null, "downlinkMax": Mbit/s or null (no advice;
 * JSON has no Infinity), "rtt": ms or null, "effectiveType": "4g" or null,
 * "saveData": bool, "throughputAdvice": bit/s or null}. */
int scone_app_netinfo_to_json(const scone_app_netinfo *ni, char *buf,
                              size_t len);

/* --------------------------------------------------------------- callbacks */

/* What the QUIC glue calls when SCONE state changes (the "callback" style of
 * draft-eddy-scone-api); the same state can be polled instead. Any member may
 * be NULL. The glue calls these from its own event processing, never
 * re-entrantly. */
typedef struct scone_app_callbacks {
  /* The advice in force for the direction this endpoint receives changed:
   * lower advice arrived, a higher one took over as the lowest aged out, or
   * advice expired (advice->signal == SCONE_SIGNAL_UNKNOWN). */
  void (*advice_changed)(const scone_advice *advice, scone_tstamp now,
                         void *user_data);
  /* scone_app_netinfo_update() returned 1; ni is the new reported view. */
  void (*netinfo_changed)(const scone_app_netinfo *ni, scone_tstamp now,
                          void *user_data);
} scone_app_callbacks;

/* ---------------------------------------------------------- video players */

/* The media bitrate cap for an advice: advice * (100 - margin) / 100, in
 * bit/s, into *cap_bps; 0 when there is no advice (no cap). settings NULL
 * means defaults. Returns 0, or SCONE_ERR_INVALID_ARGUMENT (and *cap_bps 0)
 * for settings of a version the library does not know. */
int scone_app_media_cap_bps(uint64_t *cap_bps, const scone_advice *advice,
                            const scone_app_settings *settings);

/* Index of the highest rendition of an ascending (non-decreasing) bitrate
 * ladder whose bitrate is <= cap_bps; cap_bps 0 (no cap) picks the top. When
 * nothing fits, 0: the lowest rendition is the closest a player can get.
 * SCONE_ERR_INVALID_ARGUMENT for an empty, NULL or unsorted ladder. */
int scone_app_ladder_pick(const uint64_t *ladder_bps, size_t n,
                          uint64_t cap_bps);

/* CTA-5004 rounding for mtp and rtp: kbit/s to the nearest 100 (halves up),
 * e.g. 4,949,000 bit/s -> 4900. */
uint64_t scone_app_cmcd_round_kbps(uint64_t bps);

typedef struct scone_app_cmcd {
  int has_mtp;
  uint64_t mtp_kbps; /* measured throughput, CMCD-Request shard */
  int has_rtp;
  uint64_t rtp_kbps; /* requested maximum throughput, CMCD-Status shard */
} scone_app_cmcd;

/* rtp: the media cap, rounded; at least 100 when there is advice, since 0
 * would ask for nothing. mtp: the measured throughput (0 unknown), capped by
 * the media cap because that is what the player's next ABR decision uses,
 * rounded. Either is absent when its inputs are unknown. Returns 0, or
 * SCONE_ERR_INVALID_ARGUMENT (both absent) for settings of a version the
 * library does not know. */
int scone_app_cmcd_from_advice(scone_app_cmcd *out, const scone_advice *advice,
                               uint64_t measured_bps,
                               const scone_app_settings *settings);

typedef enum scone_app_cmcd_shard {
  SCONE_APP_CMCD_ALL = 0,     /* "mtp=4900,rtp=5000": query-argument form */
  SCONE_APP_CMCD_REQUEST = 1, /* value of the CMCD-Request header: "mtp=4900" */
  SCONE_APP_CMCD_STATUS = 2,  /* value of the CMCD-Status header: "rtp=5000" */
  SCONE_APP_CMCD_OBJECT = 3,  /* value of the CMCD-Object header */
  SCONE_APP_CMCD_SESSION = 4, /* value of the CMCD-Session header */
} scone_app_cmcd_shard;

/* Keys in alphabetical order, comma-separated, absent keys left out; an empty
 * string (return 0) means there is no header to send. URL-encoding the query
 * form is the caller's job. */
int scone_app_cmcd_render(char *buf, size_t len, const scone_app_cmcd *c,
                          scone_app_cmcd_shard shard);

typedef struct scone_app_cmsd_dynamic {
  int has_mb;
  uint64_t mb_kbps; /* max suggested bitrate */
  int has_etp;
  uint64_t etp_kbps; /* estimated throughput */
  int du;            /* duress (Boolean, sent only when set) */
  int has_rd;
  uint64_t rd_ms; /* response delay */
  int has_rtt;
  uint64_t rtt_ms; /* round-trip time */
} scone_app_cmsd_dynamic;

/* mb: the media cap in whole kbit/s, rounded down (it is a ceiling); absent
 * without advice. The other keys are left absent. Returns 0, or
 * SCONE_ERR_INVALID_ARGUMENT (nothing present) for settings of a version
 * the library does not know. */
int scone_app_cmsd_from_advice(scone_app_cmsd_dynamic *out,
                               const scone_advice *advice,
                               const scone_app_settings *settings);

/* The value of a CMSD-Dynamic header (a Structured Field list member):
 * "<server_id>";du;etp=..;mb=..;rd=..;rtt=.. with present keys in
 * alphabetical order, e.g.
 * "\"scone\";mb=4000". server_id must be printable ASCII (it is quoted and
 * escaped). With no key present, the bare server string is still rendered. */
int scone_app_cmsd_dynamic_render(char *buf, size_t len, const char *server_id,
                                  const scone_app_cmsd_dynamic *d);

/* -------------------------------------------------------------- qlog events */

typedef enum scone_app_qlog_type {
  SCONE_APP_QLOG_PACKET_SENT = 0,     /* "scone:packet_sent" */
  SCONE_APP_QLOG_PACKET_RECEIVED = 1, /* "scone:packet_received" */
  SCONE_APP_QLOG_ADVICE_ACCEPTED = 2, /* "scone:advice_accepted" */
  SCONE_APP_QLOG_ADVICE_REJECTED = 3, /* "scone:advice_rejected" */
  SCONE_APP_QLOG_ADVICE_CHANGED = 4,  /* "scone:advice_changed" */
} scone_app_qlog_type;

/* Why a received signal was not used (draft-ietf-scone-protocol section
 * "Endpoint Processing of SCONE Packets"). */
typedef enum scone_app_reject {
  SCONE_APP_REJECT_DCID_MISMATCH = 0,    /* "dcid_mismatch" */
  SCONE_APP_REJECT_UNKNOWN_SIGNAL = 1,   /* "unknown_signal": 127 */
  SCONE_APP_REJECT_NOT_PROCESSED = 2,    /* "not_processed": no other packet
                                            of the datagram was processed */
  SCONE_APP_REJECT_DUPLICATE_SCONE = 3,  /* "duplicate_scone": more than one
                                            SCONE packet in the datagram */
  SCONE_APP_REJECT_PEER_NOT_CAPABLE = 4, /* "peer_not_capable": we did not
                                            offer scone_supported */
} scone_app_reject;

#define SCONE_APP_REJECT_COUNT 5 /* number of scone_app_reject values */

typedef enum scone_app_trigger {
  SCONE_APP_TRIGGER_SIGNAL = 0, /* "signal": new lower advice arrived */
  SCONE_APP_TRIGGER_EXPIRY = 1, /* "expiry": the lowest advice aged out */
} scone_app_trigger;

typedef struct scone_app_qlog_ev {
  scone_app_qlog_type type;
  /* packet_*, advice_accepted, advice_rejected: the rate signal seen;
   * advice_changed: the new signal in force (127: none). */
  unsigned signal;
  unsigned old_signal;       /* advice_changed: previous (127: none) */
  scone_app_reject reason;   /* advice_rejected */
  scone_app_trigger trigger; /* advice_changed */
  /* packet_*: header fields; version 0 derives it from signal, NULL CIDs and
   * length 0 are left out. */
  uint32_t version;
  const uint8_t *dcid;
  size_t dcidlen;
  const uint8_t *scid;
  size_t scidlen;
  size_t length;
  /* advice_changed: when the new advice lapses unless renewed, on the clock
   * of t; 0 leaves "expires_in" out. */
  scone_tstamp expires_at;
} scone_app_qlog_ev;

/* Event names ("scone:packet_sent", ...) and reason strings; NULL when out of
 * range. */
const char *scone_app_qlog_name(scone_app_qlog_type type);
const char *scone_app_reject_name(scone_app_reject reason);

/* One qlog event as a JSON line ending in '\n' (JSON-lines; prefix 0x1e
 * yourself for JSON-SEQ):
 *   {"time": ms, "name": "scone:...", "data": {...}}
 * time is t in milliseconds (microsecond precision); pass t relative to the
 * trace's reference_time if the trace declares one. data holds, by type:
 *   packet_*: header {packet_type "scone", version (hex), dcid, scid (hex)},
 *             raw {length}, rate_signal;
 *   advice_accepted: rate_signal, throughput_advice (bit/s);
 *   advice_rejected: rate_signal, reason;
 *   advice_changed: old {rate_signal, throughput_advice (bit/s or null)},
 *                   new {...}, trigger, expires_in (ms, when known). */
int scone_app_qlog_event(char *buf, size_t len, scone_tstamp t,
                         const scone_app_qlog_ev *ev);

/* --------------------------------------- CMCD payloads (CTA-5004), codec */

/* The CTA-5004 version 1 keys, as bits of scone_app_cmcd_data.present, in
 * alphabetical order (the order they are sent in). Each key's header shard
 * is scone_app_cmcd_key_shard(). */
#define SCONE_APP_CMCD_BL (1u << 0)  /* buffer length, ms; Request */
#define SCONE_APP_CMCD_BR (1u << 1)  /* encoded bitrate, kbit/s; Object */
#define SCONE_APP_CMCD_BS (1u << 2)  /* buffer starvation, Boolean; Status */
#define SCONE_APP_CMCD_CID (1u << 3) /* content ID, String; Session */
#define SCONE_APP_CMCD_D (1u << 4)   /* object duration, ms; Object */
#define SCONE_APP_CMCD_DL (1u << 5)  /* deadline, ms; Request */
/* measured throughput, kbit/s; Request */
#define SCONE_APP_CMCD_MTP (1u << 6)
/* next object request, String; Request */
#define SCONE_APP_CMCD_NOR (1u << 7)
#define SCONE_APP_CMCD_NRR (1u << 8) /* next range request, String; Request */
#define SCONE_APP_CMCD_OT (1u << 9)  /* object type, Token; Object */
#define SCONE_APP_CMCD_PR (1u << 10) /* playback rate, Decimal; Session */
#define SCONE_APP_CMCD_RTP                                                     \
  (1u << 11)                          /* requested max throughput, kbit/s;     \
                                         Status */
#define SCONE_APP_CMCD_SF (1u << 12)  /* streaming format, Token; Session */
#define SCONE_APP_CMCD_SID (1u << 13) /* session ID, String; Session */
#define SCONE_APP_CMCD_ST (1u << 14)  /* stream type, Token; Session */
#define SCONE_APP_CMCD_SU (1u << 15)  /* startup, Boolean; Request */
#define SCONE_APP_CMCD_TB (1u << 16)  /* top bitrate, kbit/s; Object */
#define SCONE_APP_CMCD_V (1u << 17)   /* version, Integer; Session */
#define SCONE_APP_CMCD_KEY_COUNT 18

/* Object types (ot), shared with CMSD-Static. */
typedef enum scone_app_cm_ot {
  SCONE_APP_OT_M = 0,  /* "m": manifest or playlist */
  SCONE_APP_OT_A = 1,  /* "a": audio only */
  SCONE_APP_OT_V = 2,  /* "v": video only */
  SCONE_APP_OT_AV = 3, /* "av": muxed audio and video */
  SCONE_APP_OT_I = 4,  /* "i": init segment */
  SCONE_APP_OT_C = 5,  /* "c": caption or subtitle */
  SCONE_APP_OT_TT = 6, /* "tt": ISOBMFF timed text */
  SCONE_APP_OT_K = 7,  /* "k": key, license or certificate */
  SCONE_APP_OT_O = 8,  /* "o": other */
} scone_app_cm_ot;

typedef enum scone_app_cm_sf {
  SCONE_APP_SF_D = 0, /* "d": MPEG-DASH */
  SCONE_APP_SF_H = 1, /* "h": HLS */
  SCONE_APP_SF_S = 2, /* "s": Smooth Streaming */
  SCONE_APP_SF_O = 3, /* "o": other */
} scone_app_cm_sf;

typedef enum scone_app_cm_st {
  SCONE_APP_ST_V = 0, /* "v": all segments available (VOD) */
  SCONE_APP_ST_L = 1, /* "l": segments become available over time (live) */
} scone_app_cm_st;

#define SCONE_APP_CMCD_ID_MAX 64   /* cid and sid: CTA-5004's maximum */
#define SCONE_APP_CMCD_NOR_MAX 256 /* nor, URL-encoded; this codec's bound */
#define SCONE_APP_CMCD_NRR_MAX 64  /* nrr: "<start>-<end>" and variants */

/* One CMCD payload. Values are in the key's unit, unrounded: encoding
 * applies CTA-5004's rounding (bl and dl to the nearest 100 ms, mtp and rtp
 * to the nearest 100 kbit/s, halves up; an rtp that would round to 0 is sent
 * as 100, since 0 would ask for nothing). Booleans (bs, su) are their bit in
 * present. */
typedef struct scone_app_cmcd_data {
  uint32_t present; /* SCONE_APP_CMCD_* bits */
  uint64_t bl_ms, br_kbps, d_ms, dl_ms, mtp_kbps, rtp_kbps, tb_kbps;
  uint32_t pr_milli; /* playback rate in thousandths; 1000 is not sent */
  uint32_t v;        /* 1 is not sent (its absence means version 1) */
  scone_app_cm_ot ot;
  scone_app_cm_sf sf;
  scone_app_cm_st st;
  char cid[SCONE_APP_CMCD_ID_MAX + 1];
  char sid[SCONE_APP_CMCD_ID_MAX + 1];
  char nor[SCONE_APP_CMCD_NOR_MAX + 1]; /* URL-encoded relative path */
  char nrr[SCONE_APP_CMCD_NRR_MAX + 1];
  /* Set by decoding: keys not taken. */
  uint32_t unknown_keys;   /* not a version 1 key (custom "x-y" keys too) */
  uint32_t invalid_keys;   /* a known key whose value has the wrong type,
                              is negative, too long, or not a listed token */
  uint32_t misplaced_keys; /* taken, but sent in another key's header */
} scone_app_cmcd_data;

/* The header shard of one key bit; SCONE_APP_CMCD_ALL for an unknown bit. */
scone_app_cmcd_shard scone_app_cmcd_key_shard(uint32_t key);

/* "CMCD-Request", "CMCD-Object", "CMCD-Status", "CMCD-Session"; NULL for
 * SCONE_APP_CMCD_ALL and out-of-range values. */
const char *scone_app_cmcd_header_name(scone_app_cmcd_shard shard);

/* Sets nor from a relative path, percent-encoding every byte but RFC 3986
 * unreserved characters ("../a b" -> "..%2Fa%20b"), as CTA-5004 asks nor
 * to be URL-encoded and as its examples (and encodeURIComponent) do.
 * Returns 0 or SCONE_ERR_NOBUF (nor is then left unset). */
int scone_app_cmcd_set_nor(scone_app_cmcd_data *c, const char *path);

/* The keys present that belong to shard (all of them for
 * SCONE_APP_CMCD_ALL) as a Structured Field dictionary in alphabetical
 * order: strings quoted and escaped, tokens bare, true Booleans as bare keys,
 * e.g. "bl=21300,br=3200,bs,ot=v,sid=\"6e2f\"". An empty string (return 0)
 * means no header to send. SCONE_ERR_INVALID_ARGUMENT for a string that is
 * not printable ASCII, a number past an sf-integer, or an out-of-range
 * token; SCONE_ERR_NOBUF leaves buf empty. */
int scone_app_cmcd_encode(char *buf, size_t len, const scone_app_cmcd_data *c,
                          scone_app_cmcd_shard shard);

/* The query-argument form: "CMCD=" and the whole payload URL-encoded
 * (every byte but RFC 3986 unreserved characters as %XX), to append after
 * '?' or '&'. Empty (return 0) when no key is present. */
int scone_app_cmcd_encode_query(char *buf, size_t len,
                                const scone_app_cmcd_data *c);

/* Reads one CMCD field (a header value for shard, or a decoded query value
 * with SCONE_APP_CMCD_ALL) into c, on top of what it holds: zero c first,
 * then decode each header received. Tolerant where CTA-5004 lets receivers
 * be: unknown and custom keys are skipped, a known key with a bad value is
 * skipped (both counted in c), a key in another shard's header is taken
 * (counted), false Booleans ("bs=?0") read as absent, and a repeated key
 * keeps its last value as RFC 8941 says. Strict where it is not: a field
 * that is not a valid Structured Field dictionary is ignored whole, leaving
 * c untouched. Returns the number of keys taken, SCONE_ERR_MALFORMED, or
 * SCONE_ERR_INVALID_ARGUMENT. */
int scone_app_cmcd_decode(scone_app_cmcd_data *c, scone_app_cmcd_shard shard,
                          const char *text, size_t len);

/* Finds the CMCD query argument in a request target or query string
 * ("/seg.m4s?a=1&CMCD=bl%3D21300", "CMCD=..."), URL-decodes it ('+' reads
 * as a space) and decodes it into c. Returns the number of keys taken, 0
 * when there is no CMCD argument, SCONE_ERR_MALFORMED for a bad escape, a
 * payload past 4096 bytes or a malformed dictionary (c untouched). */
int scone_app_cmcd_decode_query(scone_app_cmcd_data *c, const char *target,
                                size_t len);

/* ------------------------------------------------- CMSD (CTA-5006), codec */

/* CMSD-Static keys, as bits of scone_app_cmsd_static.present. */
#define SCONE_APP_CMSD_AT (1u << 0)  /* availability time, ms since epoch */
#define SCONE_APP_CMSD_BR (1u << 1)  /* encoded bitrate, kbit/s */
#define SCONE_APP_CMSD_D (1u << 2)   /* object duration, ms */
#define SCONE_APP_CMSD_HT (1u << 3)  /* held time, ms */
#define SCONE_APP_CMSD_N (1u << 4)   /* intermediary identifier, String */
#define SCONE_APP_CMSD_NOR (1u << 5) /* next object response, String */
#define SCONE_APP_CMSD_NRR (1u << 6) /* next range response, String */
#define SCONE_APP_CMSD_OT (1u << 7)  /* object type, Token */
#define SCONE_APP_CMSD_SF (1u << 8)  /* streaming format, Token */
#define SCONE_APP_CMSD_ST (1u << 9)  /* stream type, Token */
#define SCONE_APP_CMSD_SU (1u << 10) /* startup, Boolean */
#define SCONE_APP_CMSD_V (1u << 11)  /* version, Integer (1 is not sent) */

#define SCONE_APP_CMSD_ID_MAX 64

typedef struct scone_app_cmsd_static {
  uint32_t present; /* SCONE_APP_CMSD_* bits */
  uint64_t at_ms, br_kbps, d_ms, ht_ms;
  char n[SCONE_APP_CMSD_ID_MAX + 1];
  char nor[SCONE_APP_CMCD_NOR_MAX + 1];
  char nrr[SCONE_APP_CMCD_NRR_MAX + 1];
  scone_app_cm_ot ot;
  scone_app_cm_sf sf;
  scone_app_cm_st st;
  uint32_t v;
} scone_app_cmsd_static;

/* The value of a CMSD-Static header: a Structured Field dictionary of the
 * present keys in alphabetical order ("br=3200,d=2000,ot=v,sf=d,st=v").
 * Returns as scone_app_cmcd_encode. */
int scone_app_cmsd_static_encode(char *buf, size_t len,
                                 const scone_app_cmsd_static *s);

/* One member of a CMSD-Dynamic list: who wrote it, and its keys. */
typedef struct scone_app_cmsd_entry {
  char server[SCONE_APP_CMSD_ID_MAX + 1]; /* a String or a Token */
  scone_app_cmsd_dynamic d;
} scone_app_cmsd_entry;

/* Reads a CMSD-Dynamic header: a Structured Field list whose members are
 * the writers' identifiers, each with the keys as parameters. The first max
 * members go into entries. Tolerant as the CMCD decoder: unknown parameters
 * and known ones of the wrong type are skipped, a member that is not a
 * String or Token (or whose identifier is too long) is stored with an empty
 * server. Returns the number of members in the header (possibly more than
 * max), or SCONE_ERR_MALFORMED when the header is not a valid list. */
int scone_app_cmsd_dynamic_decode(const char *text, size_t len,
                                  scone_app_cmsd_entry *entries, size_t max);

/* The lowest mb among entries (every writer's suggestion is a ceiling):
 * 1 with *mb_kbps set, or 0 when none carries mb. */
int scone_app_cmsd_dynamic_min_mb(const scone_app_cmsd_entry *entries, size_t n,
                                  uint64_t *mb_kbps);

#ifdef __cplusplus
}
#endif

#endif /* SCONE_APP_H */
