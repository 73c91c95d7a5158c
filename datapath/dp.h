/*
 * The context one running live datapath shares between its packet thread
 * (nfq.c or relay.c) and its control thread (control.c): the engine under
 * one lock, counters, config reload, signals and the log. The loops and
 * the control endpoint call into it; it calls none of them (the sconed
 * program starts them: sconed/runner.c).
 *
 * Serialization: the engine is not thread-safe. A packet thread (NFQUEUE
 * runs one per queue) holds `lock` while it judges one receive batch
 * (engine calls, verdict planning) and drops it to receive, send and
 * sleep in poll; the control thread takes it for a
 * capacity change, a config swap or a metrics snapshot. One uncontended
 * mutex per batch costs far less than the per-packet work, a control
 * request waits at most one batch, and (unlike a command queue) a control
 * reply can report the engine's answer, e.g. an unknown capacity name,
 * synchronously. Config files are parsed outside the lock so a slow disk
 * never stalls packets.
 */
#ifndef SCONED_DP_H
#define SCONED_DP_H

#include "engine.h"
#include "store.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* One packet through an element in place of the engine. */
typedef void (*sconed_process_fn)(void *arg, uint8_t *pkt, size_t len,
                                  scone_tstamp now, sconed_verdict *v);

/* A /metrics family read as a uint64_t at off in a stats struct (every
 * field of the stats structs is one): one table line per exported field. */
typedef struct sconed_counter_family {
  const char *name, *type, *help;
  size_t off;
} sconed_counter_family;

/* The most uint64_t fields an element's stats may have. */
#define SCONED_DP_HOOK_STATS_MAX 32

/* Another element in front of the engine (sconed --legacy-dpi). */
typedef struct sconed_dp_hooks {
  /* Packets go here instead of the engine. */
  sconed_process_fn process;
  /* Every config change goes here (it owns c, as sconed_engine_set_config
   * does). */
  int (*set_config)(void *arg, sconed_config *c);
  /* Its counters (under the lock, into at most SCONED_DP_HOOK_STATS_MAX
   * uint64_t), shown on /metrics as these families. */
  void (*stats)(void *arg, uint64_t *out);
  const sconed_counter_family *families;
  size_t nfamilies;
  void *arg;
} sconed_dp_hooks;

/* The datapath's own counters; written only with the lock held. */
typedef struct sconed_dp_counters {
  uint64_t rx;             /* packets or datagrams received */
  uint64_t modified;       /* forwarded with rewritten bytes */
  uint64_t dropped;        /* dropped on the engine's verdict */
  uint64_t delayed;        /* held for the shaper */
  uint64_t held_overflow;  /* shaper hold full: dropped instead */
  uint64_t batch_verdicts; /* NFQUEUE batch verdicts sent */
  uint64_t send_errors;
  uint64_t kernel_errors; /* netlink error replies */
  uint64_t truncated;     /* copied short: passed untouched */
  uint64_t reloads, reload_errors;
  uint64_t optin_changes; /* POST /optin that changed an entry */
  uint64_t relay_clients; /* gauge */
} sconed_dp_counters;

typedef struct sconed_dp {
  sconed_engine *engine;
  pthread_mutex_t lock;
  const char *config_path;
  const char *mode; /* "nfqueue" or "relay", for /state */
  int quiet;        /* no start-up lines (the bench) */
  sconed_dp_counters c;
  size_t held;            /* gauge: packets the shaper holds now */
  atomic_int ctl_waiting; /* control requests waiting for the lock */
  int sigfd;              /* signalfd for SIGINT/SIGTERM/SIGHUP, or -1 */
  int stopfd; /* eventfd that stops the loop (bench, tests), or -1 */
  scone_tstamp started;
  /* The service manager's view of the run (the sconed program hands these
   * to systemd); NULL: nobody asks. */
  void (*notify)(const char *state);
  /* NULL: the engine alone. */
  const sconed_dp_hooks *hooks;
  /* The shared store the config follows (docs/fleet.md), or NULL; a
   * reload then builds the file and the store's snapshot together. */
  sconed_policy_store *policy;
} sconed_dp;

static inline scone_tstamp sconed_dp_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (scone_tstamp)ts.tv_sec * SCONE_SECONDS + (scone_tstamp)ts.tv_nsec;
}

/* The packet thread re-takes the lock at once after each batch, and a
 * mutex does not queue waiters fairly, so under load the control thread
 * could starve. It announces itself; the packet thread steps aside. */
static inline void sconed_dp_lock_ctl(sconed_dp *dp) {
  atomic_fetch_add(&dp->ctl_waiting, 1);
  pthread_mutex_lock(&dp->lock);
  atomic_fetch_sub(&dp->ctl_waiting, 1);
}

static inline void sconed_dp_unlock_ctl(sconed_dp *dp) {
  pthread_mutex_unlock(&dp->lock);
}

static inline void sconed_dp_lock_pkt(sconed_dp *dp) {
  while (atomic_load_explicit(&dp->ctl_waiting, memory_order_relaxed))
    sched_yield();
  pthread_mutex_lock(&dp->lock);
}

static inline void sconed_dp_unlock_pkt(sconed_dp *dp) {
  pthread_mutex_unlock(&dp->lock);
}

/* Judges n packets at now into v, through the hooks' element when there is
 * one, else the engine's batch call. The caller holds the lock: every
 * packet thread goes through here, so one subscriber's flows on several
 * threads meet one engine's state. */
void sconed_dp_judge(sconed_dp *dp, uint8_t *const *pkts, const size_t *lens,
                     size_t n, scone_tstamp now, sconed_verdict *v);

/* Initialises dp around e; sigfd and stopfd start at -1. Returns 0. */
int sconed_dp_init(sconed_dp *dp, sconed_engine *e, const char *config_path);
void sconed_dp_destroy(sconed_dp *dp);

/* Swaps c in under the lock (the store's apply). Returns 0 or -1. */
int sconed_dp_apply(sconed_dp *dp, sconed_config *c);

/* Opts the subscriber entry holding addr in or out: a copy of the running
 * config with the one flag changed, swapped in as a reload is. Returns 1
 * changed, 0 already so, -1 no subscriber entry holds addr, -2 out of
 * memory. */
int sconed_dp_set_optin(sconed_dp *dp, int family, const uint8_t *addr,
                        int opt_in);

/* The store's opt-in changes: the running config's entries of exactly
 * these prefixes set, all in one copy and one swap. Returns 0, or -1 (and
 * nothing changes) when a prefix has no entry or memory is short. */
int sconed_dp_set_optin_prefixes(sconed_dp *dp, const char *const *prefixes,
                                 const uint8_t *opt_in, size_t n);

/* Loads dp->config_path and swaps it in (takes the lock for the swap
 * only). Returns 0, or -1 with "FILE:LINE: reason" in err. */
int sconed_dp_reload(sconed_dp *dp, char *err, size_t errlen);

/* Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (threads created
 * later inherit it) and opens dp->sigfd for them. Returns 0 or -1. */
int sconed_dp_signals_open(sconed_dp *dp);

/* Reads pending signals from dp->sigfd (and dp->stopfd); handles SIGHUP by
 * reloading. Returns 1 when the loop should stop, else 0. */
int sconed_dp_signals_handle(sconed_dp *dp);

/* Tells dp->notify, if any, what the run does, in sd_notify(3)'s words:
 * "READY=1" once the loop's sockets are bound (the loops say it), then
 * "RELOADING=1" and "READY=1" around a SIGHUP reload, with a "STATUS=" line
 * when it fails, and "STOPPING=1" on a stop signal. */
void sconed_dp_notify(sconed_dp *dp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The packet loops (nfq.h, relay.h) run until a signal (sigfd) or stopfd
 * says stop, then forward what the shaper holds; each returns 0 after a
 * clean stop, -1 when it could not start (the reason went to stderr). */

/* A line on stderr, "sconed: " first. */
void sconed_dp_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
