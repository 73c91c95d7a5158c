/*
 * The parsed config, shared by the parser, the prefix matcher and the
 * engine. Not part of the engine API: adapters use config.h.
 */
#ifndef SCONED_CONFIG_INTERNAL_H
#define SCONED_CONFIG_INTERNAL_H

#include "config.h"
#include "lpm.h"
#include "units.h"

#define SCONED_NAME_MAX 64
/* Bounds that keep per-config arrays and the engine's 16-bit indices
 * small; a carrier's plan catalogue is far below them. */
#define SCONED_MAX_PLANS 256
#define SCONED_MAX_CAPACITIES 65535
#define SCONED_MAX_SUBSCRIBERS 4000000
#define SCONED_NO_CAPACITY 0xffffU

typedef struct sconed_plan {
  char name[SCONED_NAME_MAX];
  uint64_t downlink_bps;
  uint64_t uplink_bps;
  sconed_enforce action;
  uint64_t rate_bps;        /* 0: the subscriber's downlink advice */
  uint64_t uplink_rate_bps; /* 0: the uplink advice, or no uplink policy */
  uint64_t burst_bytes;
  scone_duration max_delay;
  int line;
} sconed_plan;

typedef struct sconed_capacity {
  char name[SCONED_NAME_MAX];
  uint64_t bps;
  int line;
} sconed_capacity;

typedef struct sconed_subscriber {
  uint16_t plan;
  uint16_t capacity; /* SCONED_NO_CAPACITY when none */
  uint8_t opt_in;
} sconed_subscriber;

/* The draft's floor on a network element's monitoring period, and the
 * shortest period the lab switch (lab_short_period) lets through. */
#define SCONED_MIN_PERIOD SCONE_PERIOD
#define SCONED_MIN_LAB_PERIOD SCONE_SECONDS
#define SCONED_MAX_PERIOD (3600 * SCONE_SECONDS)

struct sconed_config {
  scone_duration period;
  /* 1: the period may be shorter than the draft's 67 s (labs only). */
  int lab_short_period;
  /* 1: a GTP-U subscriber is its inner address and its tunnel's TEID, and
   * the TEID is part of a tunnelled flow's identity (docs/gtpu.md). */
  int gtpu_teid;
  uint32_t tolerance_pct;
  uint32_t initial_rewrites;
  uint32_t rewrites_per_period;
  uint32_t announce_grace; /* packets */
  sconed_plan *plans;
  size_t nplans, plans_cap;
  sconed_capacity *caps;
  size_t ncaps, caps_cap;
  sconed_subscriber *subs;
  size_t nsubs, subs_cap;
  sconed_lpm lpm; /* address -> index into subs */
  /* [dpi]: read by the legacy DPI element only (legacy/), which throttles
   * flows by their server name; sconed's own engine ignores it. */
  char (*dpi_sni)[SCONED_DPI_SNI_MAX];
  size_t ndpi_sni;
  uint32_t dpi_max_packets;
};

/* The config with global defaults and nothing else. */
sconed_config *sconed_config_new_empty(void);
/* Index of a plan or capacity by name, or -1. */
long sconed_config_find_plan(const sconed_config *c, const char *name);
long sconed_config_find_capacity(const sconed_config *c, const char *name);

#endif
