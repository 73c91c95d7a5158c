/*
 * sconed engine: the carrier's network element as a sans-I/O state machine.
 * A datagram, its arrival time and (for IP packets) its bytes go in; a
 * verdict comes out. Datapaths (pcap, NFQUEUE, UDP relay) are thin adapters.
 *
 * Threading: an engine is not thread-safe. Every call on one engine
 * (process, set_config, set_capacity, metrics) must be serialized by the
 * caller; all of them are short (metrics is O(plans), not O(flows)).
 *
 * Time: scone_tstamp in nanoseconds on any clock the adapter chooses, but
 * non-decreasing across calls on one engine (a packet stamped earlier than
 * one already seen is treated as arriving at the later time).
 */
#ifndef SCONED_ENGINE_H
#define SCONED_ENGINE_H

#include <scone/scone.h>

#include "config.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sconed_engine sconed_engine;

typedef enum sconed_action {
  SCONED_PASS = 0,  /* forward now (possibly modified: see .modified) */
  SCONED_DROP = 1,  /* policer said no, or the shaper queue is too long */
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

/* Log levels of the optional log callback. */
#define SCONED_LOG_ERROR 0
#define SCONED_LOG_INFO 1
#define SCONED_LOG_DEBUG 2

/* msg is one line without newline, valid for the call only. It never holds
 * a subscriber identifier, and holds addresses only with log_addresses. */
typedef void (*sconed_log_fn)(void *arg, int level, const char *msg);

typedef enum sconed_seed_source {
  SCONED_SEED_GETRANDOM = 0, /* getrandom(2) at engine creation */
  SCONED_SEED_FIXED = 1,     /* .seed: deterministic runs and tests */
} sconed_seed_source;

/* The struct's layout version, as ngtcp2 numbers its own: the engine
 * refuses any other (sconed_engine_new gives NULL), which also catches a
 * struct that did not go through sconed_engine_settings_default(). */
#define SCONED_ENGINE_SETTINGS_V1 1
typedef struct sconed_engine_settings {
  uint32_t version;   /* SCONED_ENGINE_SETTINGS_V1 */
  uint32_t max_flows; /* hard budget, preallocated; default 65536 */
  /* A flow with no packet for this long is gone; default 120 s (above
   * QUIC's usual idle timeouts, like a NAT's UDP binding). */
  scone_duration idle_timeout;
  /* A flow that never got past its first packets (see docs) may be pushed
   * out after this long without traffic; default 2 s. */
  scone_duration young_timeout;
  /* When the table is full, new flows that displace a young or idle flow
   * are admitted at most this often per second; default 1000. */
  uint32_t admit_per_second;
  sconed_seed_source seed_source;
  uint64_t seed;     /* for SCONED_SEED_FIXED */
  int log_addresses; /* 1: log messages may show addresses */
  sconed_log_fn log; /* NULL: no logging */
  void *log_arg;
  /* Per-subscriber monitoring: state slots, preallocated; default 65536,
   * at most 16,777,200; 0 turns it off. When every slot is taken, new
   * subscribers are not tracked (their flows are still monitored one by
   * one and their traffic passes as before). */
  uint32_t max_subscribers;
  /* An IPv6 subscriber is this long a prefix of its address (3GPP gives a
   * /64 per session); default 64, 1..128. A config entry longer than this
   * names a subscriber of its own length. IPv4: the whole address. */
  uint8_t subscriber_prefix_v6;
  /* Flow slots one subscriber may hold, so that a subscriber flooding new
   * flows (or a flood aimed at one) cannot deny others theirs; 0 (the
   * default): max_flows / 32, at least 64. Flows with no subscriber side
   * share max_flows / 8 (at least 16). */
  uint32_t max_flows_per_subscriber;
} sconed_engine_settings;

void sconed_engine_settings_default(sconed_engine_settings *s);

/* Allocates everything up front (memory never grows afterwards). The
 * engine starts with the embedded default config (enforcement off) until
 * sconed_engine_set_config. Returns NULL on a bad settings version, on
 * max_flows == 0, on max_subscribers or subscriber_prefix_v6 out of range,
 * when getrandom fails, or when out of memory. */
sconed_engine *sconed_engine_new(const sconed_engine_settings *s);
void sconed_engine_free(sconed_engine *e);

/* Back to the state of a new engine given the running config: no flows,
 * no subscriber states, counters at zero, capacities as the config has
 * them, clock unset; the allocations, hash key and config stay. Plans
 * only in earlier configs are dropped. For fuzzers and tests, which run
 * many short sequences on one engine; it costs a pass over the flow and
 * subscriber tables. */
void sconed_engine_reset(sconed_engine *e);

/* Swaps in a new config; the engine takes ownership of c (even on error)
 * and frees the old one. Flows keep their state and re-resolve their
 * subscriber lazily on their next packet. Named capacities reset to the
 * values in the new file. Returns 0, or -1 when c is NULL (the running
 * config stays). */
int sconed_engine_set_config(sconed_engine *e, sconed_config *c);
/* The running config (owned by the engine; valid until the next
 * set_config). */
const sconed_config *sconed_engine_config(const sconed_engine *e);

/* Sets a named capacity (e.g. a cell) at run time. Advice for subscribers
 * in it becomes min(plan advice, bps) at once, and their flows may be
 * rewritten again right away. bps 0 removes the ceiling. Returns 0, -1
 * for an unknown name, or -2 for bps outside SCONED_MIN_RATE_BPS ..
 * SCONED_MAX_RATE_BPS (100 kbit/s .. 1 Tbit/s; nothing changes). */
int sconed_engine_set_capacity(sconed_engine *e, const char *name, uint64_t bps,
                               scone_tstamp now);

/* Processes one IPv4/IPv6 packet in place. Non-UDP, malformed and truncated
 * packets get SCONED_PASS unmodified. A UDP datagram to or from port 2152
 * is GTP-U: the IPv4/IPv6 UDP packet a G-PDU carries is processed as the
 * subscriber's (docs/gtpu.md), its UDP checksum and the outer one (when
 * not zero) fixed on a rewrite; other GTP-U messages pass unmodified. */
void sconed_engine_process_ip(sconed_engine *e, uint8_t *pkt, size_t len,
                              scone_tstamp now, sconed_verdict *v);

/* Same for n packets received together at one time: verdicts in v[i].
 * Equivalent to n calls in order, but overlaps the table's cache misses
 * (prefetch), which matters once the table outgrows the CPU caches. */
void sconed_engine_process_ip_batch(sconed_engine *e, uint8_t *const *pkts,
                                    const size_t *lens, size_t n,
                                    scone_tstamp now, sconed_verdict *v);

/* Processes one UDP payload on a known tuple (no checksum to fix). */
void sconed_engine_process_udp(sconed_engine *e, const sconed_tuple *t,
                               uint8_t *payload, size_t len, scone_tstamp now,
                               sconed_verdict *v);

/* Enforces one IPv4/IPv6 TCP packet (process_ip passes TCP untouched) as
 * a flow that does not speak SCONE: charged (iplen, its IP length) to its
 * subscriber's bucket at the plan's rate, policed or shaped as a UDP flow
 * would be; never rewritten. t is the packet's tuple as on the wire
 * (source first): the direction and the subscriber follow from it. For an
 * element in front that has parsed the packet already and chose the flow
 * (legacy/: TCP video flows). A NULL tuple or one of another IP version
 * passes (counted as malformed). TCP flows are flows of the table and
 * count as not QUIC. */
void sconed_engine_process_tcp(sconed_engine *e, const sconed_tuple *t,
                               size_t iplen, scone_tstamp now,
                               sconed_verdict *v);

/* Per-plan counters. Counters survive a reload for plans that keep their
 * name; gauges (flows, conforming, nonconforming) are current values. */
typedef struct sconed_plan_metrics {
  const char *plan;      /* valid during the callback only */
  uint64_t downlink_bps; /* advice now (before capacities) */
  uint64_t uplink_bps;
  uint64_t packets;       /* UDP packets of this plan's subscribers */
  uint64_t bytes;         /* their IP (or UDP payload) bytes */
  uint64_t scone_packets; /* of them, starting with a SCONE packet */
  uint64_t rewrites;      /* SCONE packets whose signal this element lowered */
  uint64_t confirms;      /* SCONE packets already at or below the advice */
  uint64_t drops;         /* policer drops and shaper overflows */
  uint64_t delays;        /* packets the shaper delayed */
  uint64_t flows_total;   /* flows admitted since start */
  uint64_t flows;         /* gauge: flows in the table */
  uint64_t scone_flows;   /* gauge: SCONE-active flows */
  uint64_t conforming;    /* gauge: SCONE-active flows judged conforming */
  uint64_t nonconforming; /* gauge: flows over their advice */
  uint64_t transitions;   /* times a flow became non-conforming */
  /* gauge: subscribers whose flows' aggregate is over their advice */
  uint64_t nonconforming_subscribers;
  uint64_t subscriber_transitions; /* times a subscriber became so */
} sconed_plan_metrics;

typedef void (*sconed_metrics_cb)(const sconed_plan_metrics *m, void *arg);

/* Calls cb once per plan of the running config, in config order, then once
 * per plan only in earlier configs that counted something (whose gauges
 * are then zero); a plan dropped before it counted anything, such as the
 * embedded default the engine runs until its first config, is not
 * reported. */
void sconed_engine_metrics(const sconed_engine *e, sconed_metrics_cb cb,
                           void *arg);

/* Engine-wide counters, for the summary and /metrics. */
typedef struct sconed_engine_stats {
  uint64_t packets;        /* everything offered */
  uint64_t not_udp;        /* passed untouched: not UDP (fragments of
                              other protocols too) */
  uint64_t malformed;      /* passed untouched: truncated, bad lengths */
  uint64_t fragments;      /* passed untouched: fragments of UDP datagrams,
                              first or later */
  uint64_t no_subscriber;  /* packets of flows whose side is no subscriber */
  uint64_t not_quic_flows; /* flows classified as not QUIC (untouched
                              unless picked up) */
  uint64_t unadmitted;     /* packets of flows the full table turned away */
  uint64_t evicted_idle;   /* flows removed after idle_timeout */
  uint64_t evicted_young;  /* young flows pushed out by new ones */
  uint64_t flows;          /* gauge */
  uint64_t max_flows;
  uint64_t memory_bytes; /* all engine allocations, fixed at creation */
  uint64_t flow_bytes;   /* bytes of table state per flow slot */
  uint64_t subscribers;  /* gauge: subscriber states in use */
  uint64_t max_subscribers;
  uint64_t subscriber_bytes; /* bytes of state per subscriber slot */
  /* Flows (SCONE flows to be monitored, or others to be enforced on the
   * subscriber's bucket) whose subscriber found no free slot (table
   * full) */
  uint64_t untracked_subscriber_flows;
  /* Packets of new flows turned away because their subscriber (or the
   * pool of flows with no subscriber) held its whole share of the table;
   * also counted in unadmitted. */
  uint64_t over_quota;
  /* New flows that displaced another with the reserve kept for owners
   * that took no admission in the last second (a flood of many owners
   * used up the shared allowance). */
  uint64_t admitted_reserve;
  /* Flows taken for QUIC mid-way by two SCONE packets consistent with the
   * packets coalesced after them (sconed started after their handshake,
   * and their endpoints grease the fixed bit). */
  uint64_t picked_up;
  /* GTP-U (UDP port 2152): G-PDUs whose inner UDP datagram was
   * processed, and those passed untouched: malformed or truncated GTP-U
   * headers or inner packets; echo requests and responses; other message
   * types; G-PDUs whose inner packet is not a whole UDP datagram (other
   * protocols, inner fragments). Outer first fragments of GTP-U datagrams
   * count in gtpu_fragments as well as in fragments (a later fragment has
   * no UDP header to tell). */
  uint64_t gtpu_packets;
  uint64_t gtpu_malformed;
  uint64_t gtpu_echo;
  uint64_t gtpu_other;
  uint64_t gtpu_not_udp;
  uint64_t gtpu_fragments;
} sconed_engine_stats;

void sconed_engine_stats_get(const sconed_engine *e, sconed_engine_stats *st);
size_t sconed_engine_flow_count(const sconed_engine *e);

/* For a datapath that applies the engine's advice outside it (the XDP
 * program, xdp/): each subscriber prefix of the running config with what
 * the engine derives for it now (plan, capacity, opt-in), and the timing
 * of its rewrite budget. */
typedef struct sconed_engine_prefix {
  uint8_t family; /* 4 or 6 */
  uint8_t plen;
  uint8_t addr[16];
  uint32_t entry;      /* the config's subscriber entry */
  uint8_t sig[2];      /* advice per scone_dir; SCONE_SIGNAL_UNKNOWN: none */
  uint8_t advise[2];   /* advice is given in that direction */
  uint8_t action;      /* sconed_enforce */
  int32_t burst;       /* enforcement bucket, bytes */
  uint64_t rate_fp[2]; /* enforcement: bytes per 2^20 ns, 16.16 */
  /* Leading bits of a subscriber's address that key its per-subscriber
   * state: 32 for IPv4; for IPv6 the subscriber prefix or this entry's
   * longer one. */
  uint8_t key_plen;
} sconed_engine_prefix;

size_t sconed_engine_prefix_count(const sconed_engine *e);
/* Returns 0, or -1 when i is out of range. */
int sconed_engine_prefix_get(const sconed_engine *e, size_t i,
                             sconed_engine_prefix *out);

typedef struct sconed_engine_timing {
  uint64_t period;  /* ns */
  uint64_t slot_ns; /* one rewrite per slot after the early ones */
  uint32_t initial_rewrites;
  uint64_t idle_timeout;   /* ns: a flow quiet this long is forgotten */
  uint64_t seed;           /* the settings' hash seed */
  int seed_fixed;          /* seed is the key (offline runs, tests) */
  uint32_t announce_grace; /* packets an announced QUIC flow goes
                              unenforced */
} sconed_engine_timing;

void sconed_engine_timing_get(const sconed_engine *e, sconed_engine_timing *t);

/* Changes with every config swap and capacity change: a datapath holding
 * a copy of the advice publishes it again when this moves. */
uint64_t sconed_engine_advice_gen(const sconed_engine *e);

/* The monitoring allowance per signal value: bytes/16 a period allows a
 * flow advised that signal (tolerance included), for a datapath that
 * judges byte counts outside the engine (bytemon.h). */
void sconed_engine_allowance(const sconed_engine *e,
                             uint64_t allow16[SCONE_SIGNAL_MAX + 1]);

#endif
