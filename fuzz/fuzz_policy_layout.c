/*
 * The policy store's key layout on any input: keys, fields and values as a
 * store could hold them, into a snapshot, then built into a config. A bad
 * key or entry is refused with a reason naming no entry; whatever builds
 * is a config the engine takes.
 * Input: records split by '\n'; in each, the key, then field and value
 * pairs, split by '\t'. Ids holding '#' must never show in a reason (no
 * fixed message holds one). Each record is also taken as the store's URL
 * and as a namespace.
 */
#include "fuzz.h"

#include "engine.h"
#include "policy.h"

#include <string.h>

#define MAX_PARTS 33

static void check_reason(const char *err, size_t errlen, const char *const *ids,
                         const size_t *idl, size_t nids) {
  FUZZ_CHECK(memchr(err, 0, errlen) != NULL);
  FUZZ_CHECK(err[0] != 0);
  for (size_t i = 0; i < nids; i++)
    if (idl[i] >= 3 && memchr(ids[i], '#', idl[i])) {
      /* The whole id, found anywhere in the reason, is a leak. */
      for (const char *p = err; *p; p++)
        FUZZ_CHECK(strncmp(p, ids[i], idl[i]) != 0);
    }
}

/* The store's URL (--policy-store) and namespace, from the same text: a
 * URL is taken with a host that is in it, non-empty and bounded, and a
 * port in range, or refused naming the store; a namespace is valid
 * exactly when it is 1 to 63 letters, digits, '-', '_' or '.'. */
static void check_url_ns(const char *rec) {
  char host[64], err[128];
  int port = -1;
  memset(err, 'x', sizeof(err));
  if (sconed_policy_url_parse(rec, host, sizeof(host), &port, err,
                              sizeof(err)) == 0) {
    size_t n = strnlen(host, sizeof(host));
    FUZZ_CHECK(n > 0 && n < sizeof(host));
    FUZZ_CHECK(strncmp(rec, "redis://", 8) == 0 && strstr(rec + 8, host));
    FUZZ_CHECK(port >= 1 && port <= 65535);
  } else {
    FUZZ_CHECK(memchr(err, 0, sizeof(err)) != NULL);
    FUZZ_CHECK(strncmp(err, "policy store '", 14) == 0);
  }
  size_t n = strlen(rec), ok = n > 0 && n < SCONED_POLICY_NS_MAX;
  for (size_t i = 0; i < n && ok; i++)
    ok = (rec[i] >= 'a' && rec[i] <= 'z') || (rec[i] >= 'A' && rec[i] <= 'Z') ||
         (rec[i] >= '0' && rec[i] <= '9') || strchr("-_.", rec[i]);
  FUZZ_CHECK(sconed_policy_ns_valid(rec) == (int)ok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = (char *)fuzz_dup(data, size, 1);
  text[size] = 0;
  sconed_policy_snapshot *s = sconed_policy_snapshot_new();
  FUZZ_CHECK(s != NULL);
  const char *ids[256];
  size_t idl[256], nids = 0;
  char err[256];
  char *save = NULL;
  for (char *rec = strtok_r(text, "\n", &save); rec;
       rec = strtok_r(NULL, "\n", &save)) {
    check_url_ns(rec);
    const char *part[MAX_PARTS];
    size_t plen[MAX_PARTS], n = 0;
    for (char *p = rec; n < MAX_PARTS;) {
      char *tab = strchr(p, '\t');
      part[n] = p;
      plen[n++] = tab ? (size_t)(tab - p) : strlen(p);
      if (!tab)
        break;
      p = tab + 1;
    }
    const char *name;
    size_t nl;
    int kind = sconed_policy_key_parse("scone", part[0], plen[0], &name, &nl);
    if (kind < 0)
      continue;
    FUZZ_CHECK(kind < SCONED_POLICY_KINDS);
    FUZZ_CHECK(name > part[0] && name + nl == part[0] + plen[0] && nl > 0);
    if (nids < 256) {
      ids[nids] = name;
      idl[nids++] = nl;
    }
    size_t pairs = (n - 1) / 2;
    memset(err, 'x', sizeof(err));
    if (sconed_policy_snapshot_set(s, kind, name, nl, part + 1, plen + 1, pairs,
                                   err, sizeof(err)) < 0)
      check_reason(err, sizeof(err), ids, idl, nids);
  }
  memset(err, 'x', sizeof(err));
  sconed_config *c = sconed_policy_build(s, NULL, NULL, err, sizeof(err));
  if (!c) {
    check_reason(err, sizeof(err), ids, idl, nids);
  } else {
    /* Every subscriber entry is at least one prefix of the config. */
    FUZZ_CHECK(sconed_config_subscriber_count(c) >=
               sconed_policy_snapshot_count(s, SCONED_POLICY_SUB));
    /* One engine per process, each config taken as a reload (a new
     * engine per input costs more than the input). */
    static sconed_engine *e;
    if (!e) {
      sconed_engine_settings es;
      sconed_engine_settings_default(&es);
      es.seed_source = SCONED_SEED_FIXED;
      es.max_flows = 8;
      es.max_subscribers = 4;
      e = sconed_engine_new(&es);
      FUZZ_CHECK(e != NULL);
    }
    FUZZ_CHECK(sconed_engine_set_config(e, c) == 0);
  }
  sconed_policy_snapshot_free(s);
  free(text);
  return 0;
}
