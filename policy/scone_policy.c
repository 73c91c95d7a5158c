/*
 * scone-policy: writes plans, cells, subscribers and opt-ins into the
 * store in the key layout of policy.h and announces each change. Every
 * entry is checked with the parser the elements use before it is written,
 * so what it writes, they take. docs/fleet.md.
 */
#include "policy.h"

#include <hiredis/hiredis.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: scone-policy [--store redis://HOST:PORT] [--ns NS] COMMAND\n"
    "  plan NAME FIELD=VALUE...   set a plan (downlink=5M action=none ...)\n"
    "  cell NAME RATE             set a cell's capacity (e.g. 20M)\n"
    "  sub ID prefixes=P[,P...] plan=NAME [optin=yes|no] [cell=NAME]\n"
    "                             set a subscriber\n"
    "  optin ID yes|no            opt a subscriber in or out\n"
    "  del plan|cell|sub NAME     remove an entry\n"
    "  resync                     tell every element to read everything\n"
    "  bench-load N [PIPELINE]    write N subscribers bench-0.. (10.x.y.z)\n"
    "  bench-optin N [PIPELINE]   N opt-in changes with their announcements\n"
    "Defaults: redis://127.0.0.1:6379, namespace scone.\n";

static redisContext *rc;
static const char *ns = "scone";

static int die(const char *what) {
  fprintf(stderr, "scone-policy: %s%s%s\n", what, rc && rc->err ? ": " : "",
          rc && rc->err ? rc->errstr : "");
  return 1;
}

/* Runs a command given as argv; 0 unless it failed or answered an error. */
static int cmd(int argc, const char **argv) {
  redisReply *r = redisCommandArgv(rc, argc, argv, NULL);
  int bad = !r || r->type == REDIS_REPLY_ERROR;
  if (r && r->type == REDIS_REPLY_ERROR)
    fprintf(stderr, "scone-policy: %s: %s\n", argv[0], r->str);
  if (r)
    freeReplyObject(r);
  return bad ? -1 : 0;
}

static const char *const kinds[] = {"plan", "cell", "sub"};

/* Replaces entry KIND:NAME by the field/value pairs f[0..2n) in one
 * transaction with the version, then announces it. */
static int write_entry(int kind, const char *name, const char **f, size_t n) {
  char key[512], msg[512], ver[128];
  snprintf(key, sizeof(key), "%s:%s:%s", ns, kinds[kind], name);
  snprintf(msg, sizeof(msg), "%s:%s", kinds[kind], name);
  snprintf(ver, sizeof(ver), "%s:version", ns);
  const char *key_name;
  size_t klen;
  if (sconed_policy_key_parse(ns, key, strlen(key), &key_name, &klen) != kind)
    return die("bad name (plans and cells: letters, digits, - _ .)");
  if (n) {
    sconed_policy_snapshot *s = sconed_policy_snapshot_new();
    size_t fl[64];
    char err[200];
    for (size_t i = 0; i < 2 * n; i++)
      fl[i] = strlen(f[i]);
    int r = s ? sconed_policy_snapshot_set(s, kind, key_name, klen, f, fl, n,
                                           err, sizeof(err))
              : -1;
    sconed_policy_snapshot_free(s);
    if (r)
      return die(s ? err : "out of memory");
  }
  const char *multi[] = {"MULTI"}, *del[] = {"DEL", key},
             *incr[] = {"INCR", ver}, *exec[] = {"EXEC"};
  const char *hset[2 + 64] = {"HSET", key};
  for (size_t i = 0; i < 2 * n; i++)
    hset[2 + i] = f[i];
  char chan[128];
  snprintf(chan, sizeof(chan), "%s:changes", ns);
  const char *pub[] = {"PUBLISH", chan, msg};
  /* The announcement in the same transaction: a writer that dies after
   * EXEC has published, and no element sees the version without it. */
  if (cmd(1, multi) || cmd(2, del) || (n && cmd(2 + (int)(2 * n), hset)) ||
      cmd(2, incr) || cmd(3, pub) || cmd(1, exec))
    return die("write failed");
  return 0;
}

/* KEY=VALUE words into field/value pairs. */
static int pairs(int argc, char **argv, const char **f, size_t *n) {
  if (argc > 32)
    return -1;
  for (int i = 0; i < argc; i++) {
    char *eq = strchr(argv[i], '=');
    if (!eq)
      return -1;
    *eq = '\0';
    f[2 * i] = argv[i];
    f[2 * i + 1] = eq + 1;
  }
  *n = (size_t)argc;
  return 0;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Pipelined writes in the layout, PIPELINE commands in flight: the load
 * a provisioning system puts on the store (docs/fleet.md). */
static int bench(int optin, long n, long pipeline) {
  char key[128], pfx[32], chan[128], ver[128], msg[128];
  snprintf(chan, sizeof(chan), "%s:changes", ns);
  snprintf(ver, sizeof(ver), "%s:version", ns);
  double t0 = now_s();
  long pending = 0;
  for (long i = 0; i < n; i++) {
    snprintf(key, sizeof(key), "%s:sub:bench-%ld", ns, i);
    if (optin) {
      snprintf(msg, sizeof(msg), "sub:bench-%ld", i);
      redisAppendCommand(rc, "HSET %s optin %s", key, i & 1 ? "yes" : "no");
      redisAppendCommand(rc, "INCR %s", ver);
      redisAppendCommand(rc, "PUBLISH %s %s", chan, msg);
      pending += 3;
    } else {
      snprintf(pfx, sizeof(pfx), "10.%ld.%ld.%ld/32", (i >> 16) & 255,
               (i >> 8) & 255, i & 255);
      redisAppendCommand(rc, "HSET %s prefixes %s plan bench optin %s", key,
                         pfx, i & 1 ? "yes" : "no");
      pending++;
    }
    if (pending >= pipeline || i == n - 1) {
      for (; pending > 0; pending--) {
        redisReply *r;
        if (redisGetReply(rc, (void **)&r) != REDIS_OK)
          return die("bench write failed");
        freeReplyObject(r);
      }
    }
  }
  double dt = now_s() - t0;
  if (!optin) {
    const char *f[] = {"downlink", "5M", "action", "none"};
    if (write_entry(0, "bench", f, 2))
      return 1;
    const char *pub[] = {"PUBLISH", chan, "*"};
    if (cmd(3, pub))
      return die("publish failed");
  }
  printf("%s=%ld pipeline=%ld seconds=%.3f per_second=%.0f\n",
         optin ? "optin_changes" : "subscribers", n, pipeline, dt,
         dt > 0 ? (double)n / dt : 0.0);
  return 0;
}

int main(int argc, char **argv) {
  const char *url = "redis://127.0.0.1:6379";
  int i = 1;
  for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
    if (!strcmp(argv[i], "--store"))
      url = argv[i + 1];
    else if (!strcmp(argv[i], "--ns"))
      ns = argv[i + 1];
    else
      break;
  }
  if (i >= argc || argv[i][0] == '-') {
    fputs(usage, i < argc && !strcmp(argv[i], "--help") ? stdout : stderr);
    return i < argc && !strcmp(argv[i], "--help") ? 0 : 2;
  }
  char host[256], err[300];
  int port;
  if (!sconed_policy_ns_valid(ns))
    return die("--ns: 1 to 63 letters, digits, - _ .");
  if (sconed_policy_url_parse(url, host, sizeof(host), &port, err, sizeof(err)))
    return die(err);
  struct timeval tv = {2, 0};
  rc = redisConnectWithTimeout(host, port, tv);
  if (!rc || rc->err)
    return die("cannot connect to the store");
  const char *c = argv[i++];
  int left = argc - i;
  char **a = argv + i;
  const char *f[64];
  size_t n = 0;
  int r = 2;
  if (!strcmp(c, "plan") && left >= 2 && !pairs(left - 1, a + 1, f, &n)) {
    r = write_entry(0, a[0], f, n);
  } else if (!strcmp(c, "cell") && left == 2) {
    const char *cf[] = {"rate", a[1]};
    r = write_entry(1, a[0], cf, 1);
  } else if (!strcmp(c, "sub") && left >= 2 && !pairs(left - 1, a + 1, f, &n)) {
    r = write_entry(2, a[0], f, n);
  } else if (!strcmp(c, "optin") && left == 2 &&
             (!strcmp(a[1], "yes") || !strcmp(a[1], "no"))) {
    /* Only the one field, so that a concurrent change of the plan or
     * prefixes is not undone. */
    char key[512], ver[128], chan[128], msg[512];
    snprintf(key, sizeof(key), "%s:sub:%s", ns, a[0]);
    snprintf(ver, sizeof(ver), "%s:version", ns);
    snprintf(chan, sizeof(chan), "%s:changes", ns);
    snprintf(msg, sizeof(msg), "sub:%s", a[0]);
    const char *ex[] = {"EXISTS", key};
    redisReply *e = redisCommandArgv(rc, 2, ex, NULL);
    int there = e && e->type == REDIS_REPLY_INTEGER && e->integer == 1;
    if (e)
      freeReplyObject(e);
    const char *hs[] = {"HSET", key, "optin", a[1]}, *in[] = {"INCR", ver},
               *pub[] = {"PUBLISH", chan, msg}, *multi[] = {"MULTI"},
               *exec[] = {"EXEC"};
    r = !there ? die("no such subscriber")
        : cmd(1, multi) || cmd(4, hs) || cmd(2, in) || cmd(3, pub) ||
                cmd(1, exec)
            ? die("write failed")
            : 0;
  } else if (!strcmp(c, "del") && left == 2) {
    for (int k = 0; k < 3; k++)
      if (!strcmp(a[0], kinds[k]))
        r = write_entry(k, a[1], NULL, 0);
  } else if (!strcmp(c, "resync") && left == 0) {
    char chan[128];
    snprintf(chan, sizeof(chan), "%s:changes", ns);
    const char *pub[] = {"PUBLISH", chan, "*"};
    r = cmd(3, pub) ? die("publish failed") : 0;
  } else if ((!strcmp(c, "bench-load") || !strcmp(c, "bench-optin")) &&
             (left == 1 || left == 2)) {
    long cnt = atol(a[0]), pl = left == 2 ? atol(a[1]) : 1000;
    if (cnt > 0 && cnt <= 16777216 && pl > 0)
      r = bench(c[6] == 'o', cnt, pl);
  }
  if (r == 2)
    fputs(usage, stderr);
  redisFree(rc);
  return r;
}
