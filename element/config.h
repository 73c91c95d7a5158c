/*
 * sconed configuration: subscribers, plans and named capacities (the
 * "shaping guidance control block" of the SCONEPRO sketch). A config is
 * parsed once, is immutable afterwards and is handed to the engine, which
 * then owns it. The file format is described in docs/sconed.md.
 */
#ifndef SCONED_CONFIG_H
#define SCONED_CONFIG_H

#include <scone/scone.h>

#include <stddef.h>
#include <stdint.h>

typedef struct sconed_config sconed_config;

/* What a plan does to flows that do not follow advice or do not speak
 * SCONE. */
typedef enum sconed_enforce {
  SCONED_ENFORCE_NONE = 0,   /* monitor and count only */
  SCONED_ENFORCE_POLICE = 1, /* token bucket: DROP over rate + burst */
  SCONED_ENFORCE_SHAPE = 2,  /* token bucket: DELAY, DROP past max_delay */
} sconed_enforce;

/* Defaults of the embedded configuration and of unset plan keys. */
#define SCONED_DEFAULT_ADVICE_BPS 5000000ULL /* 5 Mbit/s: HD video */
#define SCONED_DEFAULT_BURST_BYTES 125000ULL /* 200 ms at 5 Mbit/s */
#define SCONED_DEFAULT_MAX_DELAY (200 * SCONE_MILLISECONDS)
#define SCONED_DEFAULT_TOLERANCE_PCT 10
#define SCONED_DEFAULT_INITIAL_REWRITES 4
#define SCONED_DEFAULT_REWRITES_PER_PERIOD 4
/* Packets an announced flow (first datagram ends in 0xc8 0x13) is spared
 * enforcement while its server has the chance to send SCONE packets. */
#define SCONED_DEFAULT_ANNOUNCE_GRACE_PACKETS 64
/* A flow's packet count saturates at 255, so a grace of 255 would never
 * end. */
#define SCONED_MAX_ANNOUNCE_GRACE_PACKETS 254
/* 1 Tbit/s: the token refill multiplies rate by elapsed time in 64 bits,
 * which holds up to about 2 Tbit/s; no link a subscriber has is faster. */
#define SCONED_MAX_RATE_BPS 1000000000000ULL
/* 100 kbit/s: the lowest rate a SCONE signal can carry. */
#define SCONED_MIN_RATE_BPS 100000ULL
#define SCONED_DEFAULT_PLAN_NAME "default"

/* Parses an INI file. On failure returns NULL and writes
 * "FILE:LINE: reason" into err; LINE is 0 only for whole-file problems such
 * as a file that cannot be opened. Cross references (a subscriber naming an
 * undefined plan) are reported at the line that names them. */
sconed_config *sconed_config_load(const char *path, char *err, size_t errlen);

/* Same, from a NUL-terminated string; name stands for the file in errors. */
sconed_config *sconed_config_parse(const char *text, const char *name,
                                   char *err, size_t errlen);

/* The embedded default: every flow initiator is an opted-in subscriber of
 * one plan "default" with downlink advice advice_bps (0 means
 * SCONED_DEFAULT_ADVICE_BPS), no uplink advice, and the given enforcement
 * at the advice rate. Returns NULL only when out of memory. */
sconed_config *sconed_config_default(uint64_t advice_bps,
                                     sconed_enforce enforce);

void sconed_config_free(sconed_config *c);

/* Read-only views, for summaries, the control socket and tests. */
typedef struct sconed_plan_info {
  const char *name;
  uint64_t downlink_bps; /* advice; 0 = none */
  uint64_t uplink_bps;   /* advice; 0 = none (uplink not signalled) */
  sconed_enforce action;
  uint64_t rate_bps;        /* enforcement rate */
  uint64_t burst_bytes;     /* token bucket depth */
  scone_duration max_delay; /* shaper bound */
} sconed_plan_info;

size_t sconed_config_plan_count(const sconed_config *c);
/* Returns 0, or -1 when i is out of range. */
int sconed_config_plan(const sconed_config *c, size_t i, sconed_plan_info *out);
size_t sconed_config_capacity_count(const sconed_config *c);
/* Name and configured rate of capacity i; NULL when out of range. */
const char *sconed_config_capacity(const sconed_config *c, size_t i,
                                   uint64_t *bps);
size_t sconed_config_subscriber_count(const sconed_config *c);
/* The monitoring period, and whether it is a lab's shorter than the
 * draft's 67 s ([global] lab_short_period = yes): not draft-conforming. */
scone_duration sconed_config_period(const sconed_config *c);
int sconed_config_lab_period(const sconed_config *c);

/* The [dpi] section, which only the legacy DPI element (sconed
 * --legacy-dpi, legacy/) reads: server names (or suffixes after a dot)
 * whose flows count as video besides nDPI's own categories, and how many
 * packets of a flow go to nDPI before it gives up. */
#define SCONED_DPI_SNI_MAX 256 /* a DNS name, its NUL included */
#define SCONED_DPI_MAX_SNI 1024
#define SCONED_DEFAULT_DPI_MAX_PACKETS 8
#define SCONED_MAX_DPI_MAX_PACKETS 64
size_t sconed_config_dpi_sni_count(const sconed_config *c);
const char *sconed_config_dpi_sni(const sconed_config *c, size_t i);
uint32_t sconed_config_dpi_max_packets(const sconed_config *c);
/* An element that does not know SCONE grants announced flows no grace:
 * the legacy element sets 0 on the configs it runs. */
void sconed_config_set_announce_grace(sconed_config *c, uint32_t packets);

/* Subscriber entries opted in and out (counts only, for metrics). */
void sconed_config_optin_counts(const sconed_config *c, size_t *in,
                                size_t *out);

/* A deep copy, for a change that is built beside the running config and
 * then swapped in whole (run-time opt-in). NULL when out of memory. */
sconed_config *sconed_config_clone(const sconed_config *c);

/* Sets the opt-in of the subscriber entry whose prefix holds addr (family
 * 4 or 6, 4 or 16 bytes): the entry, not just the address, since the
 * entry is the subscriber. Returns 1 when it changed, 0 when it already
 * was so, -1 when no entry holds addr. */
int sconed_config_set_optin(sconed_config *c, int family, const uint8_t *addr,
                            int opt_in);

/* 1 when s is a prefix the config file takes ("10.0.0.0/8",
 * "2001:db8::/32", a bare address), else 0. */
int sconed_config_prefix_valid(const char *s);

const char *sconed_enforce_name(sconed_enforce e);
/* Returns 0 and sets *out, or -1 for anything but none/police/shape. */
int sconed_enforce_parse(const char *s, sconed_enforce *out);

#endif
