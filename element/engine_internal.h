/*
 * Engine state shared by the engine's source files (hot path, config and
 * metrics); adapters use engine.h.
 */
#ifndef SCONED_ENGINE_INTERNAL_H
#define SCONED_ENGINE_INTERNAL_H

#include "config_internal.h"
#include "engine.h"
#include "flow_table.h"
#include "monitor.h"
#include "sub_table.h"

#define SCONED_MAX_STAT_SLOTS 1024
/* A sink slot after the real ones: flows of no plan count there, so the
 * packet path needs no branch. Never reported. */
#define SCONED_NO_STAT SCONED_MAX_STAT_SLOTS
#define SCONED_ADMIT_TOUCHED 64
#define SCONED_YOUNG_PACKETS 4

_Static_assert(SCONED_MAX_SUBSCRIBERS < (1U << 22), "sconed_flow.sub bits");
_Static_assert(SCONED_NO_STAT < (1U << 11), "sconed_flow.stat bits");

/* What a config subscriber entry means right now, derived from its plan
 * and capacity so the per-packet path reads one cache line (and finds it
 * with a shift). */
typedef struct sconed_sub_rt {
  uint8_t sig[2]; /* advice signal per scone_dir; SCONE_SIGNAL_UNKNOWN: none */
  uint8_t advise[2]; /* opted in and sig[d] known: advice is given */
  uint8_t action;    /* sconed_enforce */
  uint16_t stat;
  int32_t burst;
  uint64_t rate_fp[2]; /* enforcement: bytes per (1 << 20) ns, 16.16 fixed
                          point; 0: none in that direction */
  uint64_t ns_per_byte_fp[2]; /* 16.16 fixed point */
  scone_duration max_delay;
  /* &stats[stat].m: saves the per-packet index arithmetic (the stats
   * array never moves). */
  sconed_plan_metrics *m;
} sconed_sub_rt;

_Static_assert(sizeof(sconed_sub_rt) == 64, "one cache line per subscriber");

typedef struct sconed_stat_slot {
  char name[SCONED_NAME_MAX];
  int used;
  sconed_plan_metrics m; /* m.plan unused here */
} sconed_stat_slot;

/* What the per-packet path knows about a packet. */
typedef struct sconed_pkt {
  int ipv6;
  const uint8_t *src, *dst;
  uint16_t sport, dport;
  uint8_t *payload;
  size_t plen;
  uint8_t *ip;  /* NULL on the UDP path: no checksum to fix */
  size_t iplen; /* the bytes charged: the IP packet's, else the payload's */
  scone_tstamp now;
  /* GTP-U: the outer UDP header, whose checksum covers the inner packet
   * (ip above); NULL for a packet that is not tunnelled. */
  uint8_t *outer_udp;
  /* Mixed into the subscriber's key: the TEID with gtpu_teid, else 0. */
  uint64_t sub_salt;
} sconed_pkt;

struct sconed_engine {
  sconed_engine_settings s;
  sconed_table t;
  sconed_ssub_table ss;
  sconed_config *cfg;
  uint16_t gen;
  uint64_t advice_gen; /* bumped by every config or capacity change */
  sconed_sub_rt *subs;
  uint64_t *cap_bps; /* run-time capacities of cfg, by index */
  uint16_t *plan_stat;
  sconed_stat_slot *stats;
  sconed_engine_stats st;

  /* Clock: time only moves forward; the period and rewrite slot of "now"
   * are advanced incrementally to keep divisions off the packet path, and
   * a packet before next_tick (the nearest of: next period, next slot,
   * next sweep step) needs no clock work at all. */
  int clock_set;
  scone_tstamp last_now;
  scone_tstamp next_tick;
  uint32_t epoch; /* sconed_flow_epoch of a flow that is up to date */
  scone_duration period;
  uint64_t p_idx;
  scone_tstamp p_start;
  /* The monitor counts bytes by half-periods (monitor.h): h_idx is
   * 2 * p_idx, plus 1 from half_ns into the period on. */
  uint64_t h_idx;
  scone_duration half_ns;
  scone_duration slot_ns;
  uint64_t slot_idx;
  scone_tstamp slot_start;
  /* Allowance per advice signal: bytes/16 over a period plus tolerance,
   * capped at 2^33 (above any counter). */
  uint64_t allow16[SCONE_SIGNAL_MAX + 1];
  /* The period and tolerance allow16 was made for (0: not yet): the clock
   * resets after every quiet spell and sconed_engine_reset, and the table
   * changes only with them. */
  scone_duration allow_period;
  uint32_t allow_tolerance;

  uint32_t idle_units, young_units; /* timeouts in 2^20 ns units */
  /* The idle sweep visits one flow bucket (and one subscriber bucket) per
   * sweep_step of time, so it walks the whole table once per idle
   * timeout however fast packets come. */
  scone_tstamp next_sweep;
  scone_duration sweep_step;
  int64_t admit_tokens; /* admissions that may displace */
  scone_tstamp admit_last;
  /* The reserve shared out fairly among owners (engine.c,
   * take_admission), and each owner's place in it (a virtual time). */
  int64_t reserve_tokens;
  scone_tstamp reserve_last;
  scone_tstamp *owner_admit;
  /* The owners whose owner_admit entry left 0 since the last reset, so
   * that sconed_engine_reset clears a few entries instead of the whole
   * array (a fuzz target resets per input); past SCONED_ADMIT_TOUCHED
   * the reset clears it all. */
  uint32_t admit_touched[SCONED_ADMIT_TOUCHED];
  uint32_t nadmit_touched;
  /* One past the highest stats slot ever used: the loops over slots stop
   * there. */
  uint16_t stat_top;
  /* Flows in the table per slot owner (sconed_flow_owner), and how many
   * one owner may hold: a subscriber (owner_cap) or the pool of flows
   * with no subscriber side (pool_cap). */
  uint32_t *owner_flows;
  uint32_t owner_cap, pool_cap;
  /* Tests only: every packet takes the full path, to compare the fast
   * path against it (sconed_engine_slow_only). */
  int slow_only;
};

/* The rate and burst at which one owner may draw on the admission
 * reserve. */
#define SCONED_OWNER_ADMIT_PER_S 2U
#define SCONED_OWNER_ADMIT_BURST 4U

/* Off the per-packet path: kept out of line so the common case stays
 * small. */
#define SCONED_COLD __attribute__((noinline, cold))

/* Recomputes the period, rewrite slot and allowances for e->last_now. */
void sconed_engine_clock_reset(sconed_engine *e);
/* Recomputes what the fast path compares with: next_tick, epoch. */
void sconed_engine_next_tick(sconed_engine *e);
/* Tests only: on (1), no packet takes the fast path; results must not
 * change, as the fast path is only a shortcut. */
void sconed_engine_slow_only(sconed_engine *e, int on);

/* Per-subscriber monitoring (engine_subs.c). */
/* Ties a SCONE flow to the state of its subscriber, whose address is
 * addr (in p, which also gives the key's salt), if there is room. */
void sconed_subs_attach(sconed_engine *e, sconed_flow *f, const sconed_pkt *p,
                        const uint8_t *addr);
void sconed_subs_detach(sconed_engine *e, sconed_flow *f);
/* Brings a subscriber's history to the current period. */
void sconed_subs_roll(sconed_engine *e, sconed_ssub *s);
/* Marks direction d non-conforming (the window is over the allowance). */
void sconed_subs_mark(sconed_engine *e, sconed_ssub *s, int d, uint16_t stat);
/* Frees one bucket's spent subscribers. */
void sconed_subs_sweep(sconed_engine *e);

/* The log callback, for a line without addresses. */
void sconed_engine_log(sconed_engine *e, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
