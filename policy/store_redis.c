/*
 * The Redis side of the policy store: hiredis' blocking API on one thread
 * of our own, two connections (commands; the subscription), poll(2) on the
 * subscription so that stop, the version check and backoff need no
 * signals. See store.h for the protocol.
 */
#include "store.h"

#include <hiredis/hiredis.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define VERSION_CHECK_MS 1000
/* A writer bumps NS:version, then publishes: a check can see the version
 * before the message, which is on its way on the other connection. Only a
 * version still not covered this long after it was seen means a lost
 * message (or a writer that did not publish). */
#define VERSION_GRACE_MS 2000
#define POLL_MS 50
#define SCAN_COUNT "1000"
/* Opt-in changes applied in place in one batch; more rebuild. */
#define OPTIN_BATCH 256

struct sconed_policy_store {
  sconed_policy_store_settings s;
  char host[256];
  int port;
  char ns[SCONED_POLICY_NS_MAX];
  char chan[SCONED_POLICY_NS_MAX + 16];
  pthread_mutex_t mu; /* snap and the counters below */
  sconed_policy_snapshot *snap;
  sconed_policy_stats st;
  uint64_t in_step_at; /* monotonic ns; 0: never */
  int lost; /* a connection was lost: the next one reads everything */
  pthread_t th;
  int running;
  atomic_int stop;
  redisContext *cmd, *sub;
};

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void logf_(sconed_policy_store *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void logf_(sconed_policy_store *st, const char *fmt, ...) {
  if (!st->s.log)
    return;
  char line[600] = "policy: ";
  size_t n = strlen(line);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line + n, sizeof(line) - n, fmt, ap);
  va_end(ap);
  st->s.log(st->s.arg, line);
}

sconed_policy_store *
sconed_policy_store_new(const sconed_policy_store_settings *s, char *err,
                        size_t errlen) {
  const char *ns = s->ns ? s->ns : "scone";
  if (!sconed_policy_ns_valid(ns)) {
    snprintf(err, errlen, "--policy-ns '%s': 1 to 63 letters, digits, - _ .",
             ns);
    return NULL;
  }
  sconed_policy_store *st = calloc(1, sizeof(*st));
  if (!st) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  st->s = *s;
  if (sconed_policy_url_parse(s->url, st->host, sizeof(st->host), &st->port,
                              err, errlen) ||
      !(st->snap = sconed_policy_snapshot_new())) {
    if (st->snap == NULL && !*err)
      snprintf(err, errlen, "out of memory");
    sconed_policy_snapshot_free(st->snap);
    free(st);
    return NULL;
  }
  snprintf(st->ns, sizeof(st->ns), "%s", ns);
  snprintf(st->chan, sizeof(st->chan), "%s:changes", ns);
  st->st.version = -1;
  pthread_mutex_init(&st->mu, NULL);
  atomic_init(&st->stop, 0);
  return st;
}

static void disconnect(sconed_policy_store *st) {
  if (st->cmd)
    redisFree(st->cmd);
  if (st->sub)
    redisFree(st->sub);
  st->cmd = st->sub = NULL;
}

static redisContext *connect_one(sconed_policy_store *st, char *err,
                                 size_t errlen) {
  struct timeval tv = {1, 0};
  redisContext *c = redisConnectWithTimeout(st->host, st->port, tv);
  if (!c || c->err) {
    snprintf(err, errlen, "cannot connect to the store: %s",
             c ? c->errstr : "out of memory");
    if (c)
      redisFree(c);
    return NULL;
  }
  /* A store that stops answering mid-read must not hold the thread. */
  struct timeval rt = {2, 0};
  redisSetTimeout(c, rt);
  redisEnableKeepAlive(c);
  return c;
}

/* GET NS:version: 0 when unset. *ok 0 on a lost connection. */
static int64_t get_version(sconed_policy_store *st, redisContext *c, int *ok) {
  redisReply *r = redisCommand(c, "GET %s:version", st->ns);
  *ok = r != NULL && r->type != REDIS_REPLY_ERROR;
  int64_t v = 0;
  if (r && r->type == REDIS_REPLY_STRING)
    v = strtoll(r->str, NULL, 10);
  if (r)
    freeReplyObject(r);
  return v;
}

/* Sets one entry from an HGETALL reply (NULL or not an array: gone).
 * Returns 1 when the entry was malformed and left out, else 0. */
static int set_entry(sconed_policy_store *st, sconed_policy_snapshot *snap,
                     int kind, const char *name, size_t namelen,
                     const redisReply *r, int quiet) {
  enum { MAX_FIELDS = 16 };
  const char *f[2 * MAX_FIELDS];
  size_t fl[2 * MAX_FIELDS];
  size_t n = 0;
  char err[200];
  int bad = 0;
  if (r && r->type == REDIS_REPLY_ARRAY) {
    if (r->elements > 2 * MAX_FIELDS || r->elements % 2) {
      bad = 1;
    } else {
      for (size_t i = 0; i < r->elements; i++) {
        const redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_STRING) {
          bad = 1;
          break;
        }
        f[i] = e->str;
        fl[i] = e->len;
      }
      n = r->elements / 2;
    }
  } else if (r && r->type == REDIS_REPLY_ERROR) {
    bad = 1; /* WRONGTYPE: not a hash */
  }
  if (bad) {
    sconed_policy_snapshot_set(snap, kind, name, namelen, NULL, NULL, 0, NULL,
                               0);
    snprintf(err, sizeof(err), "an entry is not a hash of at most %d fields",
             MAX_FIELDS);
  } else if (sconed_policy_snapshot_set(snap, kind, name, namelen, f, fl, n,
                                        err, sizeof(err)) == 0) {
    return 0;
  }
  if (!quiet)
    logf_(st, "left out: %s", err);
  return 1;
}

/* Reads every key of the namespace into a new snapshot and swaps it in.
 * Returns 0, 1 when the store was empty and the old snapshot stays, or
 * -1 when the connection failed. */
static int full_read(sconed_policy_store *st, redisContext *c, char *err,
                     size_t errlen) {
  int ok;
  int64_t version = get_version(st, c, &ok);
  if (!ok) {
    snprintf(err, errlen, "store read failed: %s",
             c->err ? c->errstr : "error reply");
    return -1;
  }
  sconed_policy_snapshot *snap = sconed_policy_snapshot_new();
  if (!snap) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  uint64_t rejected = 0;
  char cursor[32] = "0";
  char pattern[SCONED_POLICY_NS_MAX + 4];
  snprintf(pattern, sizeof(pattern), "%s:*", st->ns);
  int failed = 0;
  do {
    redisReply *r =
        redisCommand(c, "SCAN %s MATCH %s COUNT " SCAN_COUNT, cursor, pattern);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_STRING ||
        r->element[1]->type != REDIS_REPLY_ARRAY) {
      if (r)
        freeReplyObject(r);
      failed = 1;
      break;
    }
    snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
    redisReply *keys = r->element[1];
    /* Pipelined: one round trip per SCAN batch, not per key. */
    for (size_t i = 0; i < keys->elements; i++) {
      const redisReply *k = keys->element[i];
      const char *name;
      size_t nl;
      if (k->type != REDIS_REPLY_STRING ||
          sconed_policy_key_parse(st->ns, k->str, k->len, &name, &nl) < 0)
        continue;
      const char *argv[2] = {"HGETALL", k->str};
      size_t argl[2] = {7, k->len};
      redisAppendCommandArgv(c, 2, argv, argl);
    }
    for (size_t i = 0; i < keys->elements && !failed; i++) {
      const redisReply *k = keys->element[i];
      const char *name;
      size_t nl;
      int kind;
      if (k->type != REDIS_REPLY_STRING ||
          (kind = sconed_policy_key_parse(st->ns, k->str, k->len, &name, &nl)) <
              0)
        continue;
      redisReply *h = NULL;
      if (redisGetReply(c, (void **)&h) != REDIS_OK) {
        failed = 1;
        break;
      }
      rejected += (uint64_t)set_entry(st, snap, kind, name, nl, h, 1);
      freeReplyObject(h);
    }
    freeReplyObject(r);
  } while (!failed && strcmp(cursor, "0"));
  if (failed) {
    sconed_policy_snapshot_free(snap);
    snprintf(err, errlen, "store read failed: %s",
             c->err ? c->errstr : "bad reply");
    return -1;
  }
  size_t had = 0, has = 0;
  for (int k = 0; k < SCONED_POLICY_KINDS; k++) {
    had += sconed_policy_snapshot_count(st->snap, k);
    has += sconed_policy_snapshot_count(snap, k);
  }
  if (had && !has) {
    /* A store that comes back empty has lost its data (a replica
     * promoted before it synced, a restart without persistence) or is the
     * wrong one: applying it would drop every subscriber at once. */
    sconed_policy_snapshot_free(snap);
    pthread_mutex_lock(&st->mu);
    st->st.version = version;
    st->st.updates_rejected++;
    pthread_mutex_unlock(&st->mu);
    logf_(st, "the store holds no policy; keeping the running one");
    return 1;
  }
  pthread_mutex_lock(&st->mu);
  sconed_policy_snapshot_free(st->snap);
  st->snap = snap;
  st->st.version = version;
  st->st.full_syncs++;
  st->st.entries_rejected += rejected;
  st->in_step_at = now_ns();
  pthread_mutex_unlock(&st->mu);
  if (rejected)
    logf_(st, "%llu malformed entries left out", (unsigned long long)rejected);
  return 0;
}

static char *read_text(const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "%s:0: cannot open: %s", path, strerror(errno));
    return NULL;
  }
  char *b = NULL;
  size_t n = 0, cap = 0;
  for (;;) {
    if (n + 65536 + 1 > cap) {
      cap = (n + 65536 + 1) * 2;
      char *p = cap > (64u << 20) ? NULL : realloc(b, cap);
      if (!p) {
        free(b);
        fclose(f);
        snprintf(err, errlen, "%s:0: too large or out of memory", path);
        return NULL;
      }
      b = p;
    }
    size_t r = fread(b + n, 1, cap - n - 1, f);
    n += r;
    if (r == 0)
      break;
  }
  fclose(f);
  b[n] = '\0';
  return b;
}

sconed_config *sconed_policy_store_build(sconed_policy_store *st, char *err,
                                         size_t errlen) {
  char *base = NULL;
  if (st->s.config_path && !(base = read_text(st->s.config_path, err, errlen)))
    return NULL;
  pthread_mutex_lock(&st->mu);
  sconed_config *c =
      sconed_policy_build(st->snap, base, st->s.config_path, err, errlen);
  pthread_mutex_unlock(&st->mu);
  free(base);
  return c;
}

/* Builds and applies; a failure keeps the running config. */
static int apply(sconed_policy_store *st) {
  char err[600];
  sconed_config *c = sconed_policy_store_build(st, err, sizeof(err));
  int r = c ? st->s.apply(st->s.arg, c) : -1;
  pthread_mutex_lock(&st->mu);
  if (r == 0) {
    st->st.updates_applied++;
    st->in_step_at = now_ns();
  } else {
    st->st.updates_rejected++;
  }
  pthread_mutex_unlock(&st->mu);
  if (!c)
    logf_(st, "update rejected, keeping the running policy: %s", err);
  return r;
}

static int connect_all(sconed_policy_store *st, char *err, size_t errlen) {
  st->cmd = connect_one(st, err, errlen);
  if (!st->cmd)
    return -1;
  int fr = full_read(st, st->cmd, err, errlen);
  if (fr < 0)
    disconnect(st);
  return fr;
}

int sconed_policy_store_sync(sconed_policy_store *st, char *err,
                             size_t errlen) {
  int fr = connect_all(st, err, errlen);
  if (fr < 0)
    return -1;
  disconnect(st);
  size_t np = sconed_policy_snapshot_count(st->snap, SCONED_POLICY_PLAN);
  size_t nc = sconed_policy_snapshot_count(st->snap, SCONED_POLICY_CELL);
  size_t ns = sconed_policy_snapshot_count(st->snap, SCONED_POLICY_SUB);
  if (apply(st) < 0) {
    snprintf(err, errlen, "the store's policy does not apply (see above)");
    return -1;
  }
  logf_(st, "read %zu plans, %zu cells, %zu subscribers (version %lld)", np, nc,
        ns, (long long)st->st.version);
  return 0;
}

/* Opt-in changes of one batch, applied in place of a rebuild when the
 * batch holds nothing else. */
typedef struct optin_batch {
  char pfx[OPTIN_BATCH][64];
  uint8_t in[OPTIN_BATCH];
  size_t n;
  int other; /* something else changed: rebuild */
} optin_batch;

static void note_change(sconed_policy_store *st, optin_batch *ob) {
  const char *text;
  size_t len;
  int in;
  if (ob->other ||
      !sconed_policy_snapshot_last_optin(st->snap, &text, &len, &in)) {
    ob->other = 1;
    return;
  }
  static const char lead[] = "subscriber = ";
  for (const char *p = text, *end = text + len; p < end;) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *sp;
    if (!nl || (size_t)(nl - p) < sizeof(lead) ||
        memcmp(p, lead, sizeof(lead) - 1) ||
        !(sp = memchr(p + sizeof(lead) - 1, ' ', (size_t)(nl - p))) ||
        (size_t)(sp - p) - (sizeof(lead) - 1) >= 64 || ob->n == OPTIN_BATCH) {
      ob->other = 1;
      return;
    }
    size_t pl = (size_t)(sp - p) - (sizeof(lead) - 1);
    memcpy(ob->pfx[ob->n], p + sizeof(lead) - 1, pl);
    ob->pfx[ob->n][pl] = '\0';
    ob->in[ob->n++] = (uint8_t)in;
    p = nl + 1;
  }
}

/* Applies a batch: opt-in flips in place when that is all it holds and
 * the running config has every prefix, else a rebuild. */
static void apply_batch(sconed_policy_store *st, optin_batch *ob) {
  int done = 0;
  if (!ob->other && ob->n && st->s.optin) {
    const char *p[OPTIN_BATCH];
    for (size_t i = 0; i < ob->n; i++)
      p[i] = ob->pfx[i];
    done = st->s.optin(st->s.arg, p, ob->in, ob->n) == 0;
    if (done) {
      pthread_mutex_lock(&st->mu);
      st->st.updates_applied++;
      st->st.updates_in_place++;
      st->in_step_at = now_ns();
      pthread_mutex_unlock(&st->mu);
    }
  }
  if (!done)
    apply(st);
  ob->n = 0;
  ob->other = 0;
}

/* One message of the subscription. Returns 1 when the snapshot changed,
 * 2 when everything must be read again, 0 otherwise. */
static int on_message(sconed_policy_store *st, redisReply *m, optin_batch *ob) {
  if (m->type != REDIS_REPLY_ARRAY || m->elements != 3 ||
      m->element[0]->type != REDIS_REPLY_STRING ||
      strcmp(m->element[0]->str, "message") ||
      m->element[2]->type != REDIS_REPLY_STRING)
    return 0; /* the subscribe confirmation, or something else */
  const redisReply *p = m->element[2];
  if (p->len == 1 && p->str[0] == '*')
    return 2;
  char key[SCONED_POLICY_NS_MAX + SCONED_POLICY_ID_MAX + 16];
  size_t nl = strlen(st->ns);
  if (p->len + nl + 2 > sizeof(key))
    return 0;
  memcpy(key, st->ns, nl);
  key[nl] = ':';
  memcpy(key + nl + 1, p->str, p->len);
  size_t klen = nl + 1 + p->len;
  const char *name;
  size_t namelen;
  int kind = sconed_policy_key_parse(st->ns, key, klen, &name, &namelen);
  if (kind < 0)
    return 0;
  const char *argv[2] = {"HGETALL", key};
  size_t argl[2] = {7, klen};
  redisReply *h = redisCommandArgv(st->cmd, 2, argv, argl);
  if (!h)
    return -1;
  pthread_mutex_lock(&st->mu);
  st->st.entries_rejected +=
      (uint64_t)set_entry(st, st->snap, kind, name, namelen, h, 0);
  note_change(st, ob);
  pthread_mutex_unlock(&st->mu);
  freeReplyObject(h);
  return 1;
}

static void sleep_ms(sconed_policy_store *st, int ms) {
  for (int t = 0; t < ms && !atomic_load(&st->stop); t += POLL_MS) {
    struct timespec ts = {0, POLL_MS * 1000000L};
    nanosleep(&ts, NULL);
  }
}

/* Runs one connection until it is lost or stop. */
static void serve(sconed_policy_store *st) {
  char err[300];
  redisReply *r = redisCommand(st->sub, "SUBSCRIBE %s", st->chan);
  if (!r) {
    logf_(st, "subscribe failed: %s", st->sub->errstr);
    return;
  }
  freeReplyObject(r);
  /* Subscribed first, then read: a change between the two is in both.
   * A store still at the version of the snapshot in hand (the start-up
   * read a moment ago) has nothing new: with millions of entries, a
   * second read would cost seconds. */
  int ok;
  int64_t ver = get_version(st, st->cmd, &ok);
  if (!ok)
    return;
  pthread_mutex_lock(&st->mu);
  int same = st->st.full_syncs > 0 && ver == st->st.version && !st->lost;
  pthread_mutex_unlock(&st->mu);
  int fr = same ? 2 : full_read(st, st->cmd, err, sizeof(err));
  if (fr < 0) {
    logf_(st, "%s", err);
    return;
  }
  if (fr == 0)
    apply(st);
  pthread_mutex_lock(&st->mu);
  st->st.up = 1;
  if (same)
    st->in_step_at = now_ns();
  int64_t v = st->st.version;
  pthread_mutex_unlock(&st->mu);
  logf_(st, "store up: %zu plans, %zu cells, %zu subscribers (version %lld)",
        sconed_policy_snapshot_count(st->snap, SCONED_POLICY_PLAN),
        sconed_policy_snapshot_count(st->snap, SCONED_POLICY_CELL),
        sconed_policy_snapshot_count(st->snap, SCONED_POLICY_SUB),
        (long long)v);
  uint64_t next_check = now_ns() + VERSION_CHECK_MS * 1000000ULL;
  int dirty = 0;
  uint64_t ahead_at = 0; /* when a version ahead of ours was seen; 0: none */
  int64_t ahead_ver = 0;
  optin_batch *ob = calloc(1, sizeof(*ob));
  if (!ob)
    return;
  int lost = 0;
  while (!atomic_load(&st->stop)) {
    void *m = NULL;
    int resync = 0;
    while (redisGetReplyFromReader(st->sub, &m) == REDIS_OK && m) {
      int k = on_message(st, m, ob);
      freeReplyObject(m);
      m = NULL;
      if (k < 0) {
        lost = 1;
        break;
      }
      dirty |= k == 1;
      resync |= k == 2;
    }
    if (lost)
      break;
    if (resync) {
      int fr = full_read(st, st->cmd, err, sizeof(err));
      if (fr < 0)
        break;
      dirty |= fr == 0;
      ob->other = 1;
    }
    if (dirty) {
      /* Everything that had arrived is in: one swap for the burst. The
       * version now covers it (a write after the reads above has its
       * message still to come, on this same live connection). */
      int ok;
      int64_t ver = get_version(st, st->cmd, &ok);
      if (!ok)
        break;
      pthread_mutex_lock(&st->mu);
      st->st.version = ver;
      pthread_mutex_unlock(&st->mu);
      apply_batch(st, ob);
      dirty = 0;
    }
    struct pollfd pfd = {.fd = st->sub->fd, .events = POLLIN};
    int n = poll(&pfd, 1, POLL_MS);
    if (n > 0 && redisBufferRead(st->sub) != REDIS_OK)
      break;
    if (now_ns() >= next_check) {
      int ok;
      int64_t ver = get_version(st, st->cmd, &ok);
      if (!ok)
        break;
      uint64_t t = now_ns();
      pthread_mutex_lock(&st->mu);
      int64_t have = st->st.version;
      if (ver == have)
        st->in_step_at = t;
      pthread_mutex_unlock(&st->mu);
      /* Ahead: wait for its message, unless one seen earlier is still
       * not covered after the grace. Behind: the store went back (a
       * flush, another server): read it now. */
      if (ver > have && (!ahead_at || have >= ahead_ver)) {
        ahead_ver = ver;
        ahead_at = t;
      } else if (ver == have) {
        ahead_at = 0;
      }
      if (ver < have ||
          (ahead_at && t - ahead_at >= VERSION_GRACE_MS * 1000000ULL)) {
        ahead_at = 0;
        int fr = full_read(st, st->cmd, err, sizeof(err));
        if (fr < 0)
          break;
        if (fr == 0)
          apply(st);
      }
      next_check = t + VERSION_CHECK_MS * 1000000ULL;
    }
  }
  free(ob);
}

static void *thread_main(void *arg) {
  sconed_policy_store *st = arg;
  int backoff = BACKOFF_MIN_MS;
  int first = 1;
  while (!atomic_load(&st->stop)) {
    char err[300];
    st->cmd = connect_one(st, err, sizeof(err));
    st->sub = st->cmd ? connect_one(st, err, sizeof(err)) : NULL;
    if (st->sub) {
      serve(st);
      backoff = BACKOFF_MIN_MS;
    }
    int was_up = st->st.up;
    disconnect(st);
    pthread_mutex_lock(&st->mu);
    st->st.up = 0;
    st->lost = 1;
    if (!first || was_up)
      st->st.reconnects++;
    pthread_mutex_unlock(&st->mu);
    first = 0;
    if (atomic_load(&st->stop))
      break;
    if (was_up)
      logf_(st, "store lost, keeping the running policy; reconnecting");
    sleep_ms(st, backoff);
    backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
  }
  return NULL;
}

int sconed_policy_store_run(sconed_policy_store *st) {
  if (pthread_create(&st->th, NULL, thread_main, st))
    return -1;
  st->running = 1;
  return 0;
}

void sconed_policy_store_stats(sconed_policy_store *st,
                               sconed_policy_stats *o) {
  pthread_mutex_lock(&st->mu);
  *o = st->st;
  o->sync_age_s =
      st->in_step_at ? (double)(now_ns() - st->in_step_at) / 1e9 : -1.0;
  size_t in, out;
  sconed_policy_snapshot_optin(st->snap, &in, &out);
  o->subscribers = in + out;
  o->opted_in = in;
  pthread_mutex_unlock(&st->mu);
}

void sconed_policy_store_free(sconed_policy_store *st) {
  if (!st)
    return;
  atomic_store(&st->stop, 1);
  if (st->running)
    pthread_join(st->th, NULL);
  disconnect(st);
  sconed_policy_snapshot_free(st->snap);
  pthread_mutex_destroy(&st->mu);
  free(st);
}
