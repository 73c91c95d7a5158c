/*
 * The store adapter: a thread that reads the key layout of policy.h from
 * Redis (hiredis), keeps a snapshot, and hands each new config to the
 * caller's apply function.
 *
 *   start: connect, read everything (SCAN + pipelined HGETALL), apply,
 *          SUBSCRIBE NS:changes on a second connection.
 *   run:   each message names a key; it is read again, and once no more
 *          messages wait, the snapshot is built and applied (a burst of
 *          writes is one swap). Every second NS:version is compared with
 *          the last one read, so a message lost in transit costs at most a
 *          second and a full read.
 *   loss:  the running config stays (fail-static); reconnects back off
 *          from 100 ms to 5 s; a reconnect reads everything again.
 */
#ifndef SCONED_POLICY_STORE_H
#define SCONED_POLICY_STORE_H

#include "config.h"
#include "policy.h"

#include <stdint.h>

typedef struct sconed_policy_store sconed_policy_store;

/* Takes c (frees it on error). Returns 0 or -1. Called from the store's
 * thread; must serialise with the engine itself. */
typedef int (*sconed_policy_apply_fn)(void *arg, sconed_config *c);
/* One log line, never naming a subscriber, plan, cell or prefix. */
typedef void (*sconed_policy_log_fn)(void *arg, const char *msg);

typedef struct sconed_policy_store_settings {
  const char *url;         /* redis://HOST:PORT */
  const char *ns;          /* NULL: "scone" */
  const char *config_path; /* the INI file under the store, or NULL */
  sconed_policy_apply_fn apply;
  sconed_policy_log_fn log;
  void *arg;
} sconed_policy_store_settings;

typedef struct sconed_policy_stats {
  int up;                   /* connected and subscribed */
  uint64_t reconnects;      /* connections lost or refused, then retried */
  uint64_t full_syncs;      /* whole reads of the store */
  uint64_t updates_applied; /* configs swapped in */
  uint64_t updates_rejected; /* snapshots that did not build (kept the old) */
  uint64_t entries_rejected; /* entries left out as malformed */
  int64_t version;           /* NS:version at the last read, -1: none */
  double sync_age_s;         /* since the store was last known in step; -1 */
  uint64_t subscribers, opted_in; /* as the store has them: counts only */
} sconed_policy_stats;

/* Parses the URL and namespace; the thread starts with _run. Returns NULL
 * with a reason in err. */
sconed_policy_store *
sconed_policy_store_new(const sconed_policy_store_settings *s, char *err,
                        size_t errlen);
/* One full read and apply, in the caller's thread (start-up, the offline
 * path). Returns 0, or -1 with a reason in err. */
int sconed_policy_store_sync(sconed_policy_store *st, char *err,
                             size_t errlen);
/* Starts the thread. Returns 0 or -1. */
int sconed_policy_store_run(sconed_policy_store *st);
/* The config of the file and the snapshot now (for SIGHUP and POST
 * /reload, which then apply the file under the store). */
sconed_config *sconed_policy_store_build(sconed_policy_store *st, char *err,
                                         size_t errlen);
void sconed_policy_store_stats(sconed_policy_store *st, sconed_policy_stats *o);
/* Stops the thread, frees; NULL is fine. */
void sconed_policy_store_free(sconed_policy_store *st);

#endif
