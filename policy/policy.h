/*
 * Live policy from a shared store, the sans-I/O half: the key layout
 * (docs/fleet.md) turned into the element's config. The store adapter
 * (store.h) feeds it what it read; nothing here does I/O.
 *
 * Key layout, under a namespace NS (default "scone"):
 *   NS:plan:NAME   hash: the keys of an INI [plan NAME] section
 *                  (downlink, uplink, action, rate, uplink_rate, burst,
 *                  max_delay)
 *   NS:cell:NAME   hash: rate (an INI [capacity NAME])
 *   NS:sub:ID      hash: prefixes (space or comma separated), plan,
 *                  optin (yes/no, 1/0, in/out; default no), cell
 *   NS:version     integer, raised by every writer
 *   NS:changes     pub/sub channel; a message is the changed key without
 *                  "NS:" ("sub:ID"), or "*" for "read everything again"
 *
 * A snapshot holds the entries; building renders them as INI text after
 * the config file's and hands the whole to the config parser, so plans,
 * rates and prefixes have one parser and one set of rules. No message
 * from here names a subscriber, plan, cell or prefix.
 */
#ifndef SCONED_POLICY_H
#define SCONED_POLICY_H

#include "config.h"

#include <stddef.h>

typedef enum sconed_policy_kind {
  SCONED_POLICY_PLAN = 0,
  SCONED_POLICY_CELL = 1,
  SCONED_POLICY_SUB = 2,
  SCONED_POLICY_KINDS = 3,
} sconed_policy_kind;

#define SCONED_POLICY_NS_MAX 64
#define SCONED_POLICY_ID_MAX 256

/* Whether ns is a usable namespace: 1..63 of letters, digits, - _ . */
int sconed_policy_ns_valid(const char *ns);

/* Splits "NS:KIND:NAME" (len bytes, no NUL needed). Returns the kind and
 * points *name (of *namelen bytes) into key, or -1 for a key of another namespace or
 * kind, or a name that is empty, too long or holds a control byte. */
int sconed_policy_key_parse(const char *ns, const char *key, size_t len,
                            const char **name, size_t *namelen);

/* redis:// HOST:PORT or [V6]:PORT after the scheme (port default 6379). Returns
 * 0, or -1 with the reason in err. */
int sconed_policy_url_parse(const char *url, char *host, size_t hostlen,
                            int *port, char *err, size_t errlen);

typedef struct sconed_policy_snapshot sconed_policy_snapshot;

sconed_policy_snapshot *sconed_policy_snapshot_new(void);
void sconed_policy_snapshot_free(sconed_policy_snapshot *s);
void sconed_policy_snapshot_clear(sconed_policy_snapshot *s);
size_t sconed_policy_snapshot_count(const sconed_policy_snapshot *s,
                                    sconed_policy_kind k);

/* Sets entry (kind, name) from the n field/value pairs of its hash
 * (f[2i] the field, f[2i+1] the value, lengths in flen). n == 0 deletes it
 * (Redis has no empty hash). A bad entry (unknown field, a value with
 * bytes no config value has, no plan for a subscriber) is removed, so the
 * rest of the store still applies, and -1 returns with a reason that
 * names no entry. Returns 0 or -1 (also when out of memory). */
int sconed_policy_snapshot_set(sconed_policy_snapshot *s, sconed_policy_kind k,
                               const char *name, size_t namelen,
                               const char *const *f, const size_t *flen,
                               size_t n, char *err, size_t errlen);

/* Counts of subscriber entries opted in and out, as the store has them. */
void sconed_policy_snapshot_optin(const sconed_policy_snapshot *s, size_t *in,
                                  size_t *out);

/* The config of base (the INI file's text, or NULL for none) followed by
 * the snapshot. Precedence: the store adds to the file; a plan, capacity
 * or prefix in both is a conflict and fails the build (docs/fleet.md).
 * Returns NULL with a reason in err that names the generated line's kind
 * but no entry (the file's own errors are reported as the file's). */
sconed_config *sconed_policy_build(const sconed_policy_snapshot *s,
                                   const char *base, const char *base_name,
                                   char *err, size_t errlen);

#endif
