/*
 * The snapshot of the store: one entry per key, kept as the INI text it
 * stands for, in a chained hash table per kind. Building concatenates the
 * texts after the config file's and parses the whole with the config
 * parser, which is what a reload does with a file.
 */
#include "policy.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
  struct entry *next;
  char *text;   /* its INI lines */
  size_t tlen;  /* bytes of text */
  size_t lines; /* lines of text */
  uint8_t opt_in;
  size_t namelen;
  char name[]; /* not NUL-terminated for subscribers' ids */
} entry;

typedef struct table {
  entry **b;
  size_t nb, n;
  size_t bytes, lines, optin; /* sums over the entries */
} table;

struct sconed_policy_snapshot {
  table t[SCONED_POLICY_KINDS];
};

static uint64_t hash(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
  return h;
}

sconed_policy_snapshot *sconed_policy_snapshot_new(void) {
  return calloc(1, sizeof(sconed_policy_snapshot));
}

static void table_clear(table *t) {
  for (size_t i = 0; i < t->nb; i++)
    for (entry *e = t->b[i], *nx; e; e = nx) {
      nx = e->next;
      free(e->text);
      free(e);
    }
  free(t->b);
  memset(t, 0, sizeof(*t));
}

void sconed_policy_snapshot_clear(sconed_policy_snapshot *s) {
  for (int k = 0; k < SCONED_POLICY_KINDS; k++)
    table_clear(&s->t[k]);
}

void sconed_policy_snapshot_free(sconed_policy_snapshot *s) {
  if (!s)
    return;
  sconed_policy_snapshot_clear(s);
  free(s);
}

size_t sconed_policy_snapshot_count(const sconed_policy_snapshot *s,
                                    sconed_policy_kind k) {
  return k < SCONED_POLICY_KINDS ? s->t[k].n : 0;
}

static entry **find(table *t, const char *name, size_t n) {
  if (!t->nb)
    return NULL;
  entry **pp = &t->b[hash(name, n) & (t->nb - 1)];
  for (; *pp; pp = &(*pp)->next)
    if ((*pp)->namelen == n && !memcmp((*pp)->name, name, n))
      return pp;
  return pp;
}

static void remove_entry(table *t, const char *name, size_t n) {
  entry **pp = find(t, name, n);
  if (!pp || !*pp)
    return;
  entry *e = *pp;
  *pp = e->next;
  t->n--;
  t->bytes -= e->tlen;
  t->lines -= e->lines;
  t->optin -= e->opt_in;
  free(e->text);
  free(e);
}

static int grow(table *t) {
  if (t->n < t->nb)
    return 0;
  size_t nb = t->nb ? t->nb * 2 : 64;
  entry **b = calloc(nb, sizeof(*b));
  if (!b)
    return -1;
  for (size_t i = 0; i < t->nb; i++)
    for (entry *e = t->b[i], *nx; e; e = nx) {
      nx = e->next;
      size_t j = hash(e->name, e->namelen) & (nb - 1);
      e->next = b[j];
      b[j] = e;
    }
  free(t->b);
  t->b = b;
  t->nb = nb;
  return 0;
}

/* A growing text. */
typedef struct buf {
  char *p;
  size_t len, cap;
  int oom;
} buf;

static void put(buf *b, const char *s, size_t n) {
  if (b->oom)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = (b->len + n + 1) * 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void puts_(buf *b, const char *s) {
  put(b, s, strlen(s));
}

/* A field or value as the config file would have it: 1..63 bytes of
 * letters, digits, - _ . (rates, durations, sizes, actions, names). Keeps
 * the INI text to one key per line whatever the store holds. */
static int word(const char *v, size_t n, char *out) {
  if (n == 0 || n >= 64)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = v[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
      return 0;
  }
  memcpy(out, v, n);
  out[n] = '\0';
  return 1;
}

static const char *const plan_fields[] = {
    "downlink", "uplink", "action", "rate", "uplink_rate", "burst",
    "max_delay"};

static int bad(char *err, size_t errlen, const char *fmt, const char *what) {
  if (err && errlen)
    snprintf(err, errlen, fmt, what);
  return -1;
}

static int render_plan(buf *b, const char *name, size_t namelen,
                       const char *const *f, const size_t *flen, size_t n,
                       char *err, size_t errlen) {
  puts_(b, "[plan ");
  put(b, name, namelen);
  puts_(b, "]\n");
  char k[64], v[64];
  for (size_t i = 0; i < n; i++) {
    if (!word(f[2 * i], flen[2 * i], k) ||
        !word(f[2 * i + 1], flen[2 * i + 1], v))
      return bad(err, errlen, "a %s entry has a field or value that is not "
                              "a word (letters, digits, - _ .)",
                 "plan");
    int known = 0;
    for (size_t j = 0; j < sizeof(plan_fields) / sizeof(*plan_fields); j++)
      known |= !strcmp(k, plan_fields[j]);
    if (!known)
      return bad(err, errlen, "a %s entry has an unknown field", "plan");
    puts_(b, k);
    puts_(b, " = ");
    puts_(b, v);
    puts_(b, "\n");
  }
  return 0;
}

static int render_cell(buf *b, const char *name, size_t namelen,
                       const char *const *f, const size_t *flen, size_t n,
                       char *err, size_t errlen) {
  char k[64], v[64];
  if (n != 1 || !word(f[0], flen[0], k) || strcmp(k, "rate") ||
      !word(f[1], flen[1], v))
    return bad(err, errlen, "a %s entry needs exactly one field: rate",
               "cell");
  puts_(b, "[capacity ");
  put(b, name, namelen);
  puts_(b, "]\nrate = ");
  puts_(b, v);
  puts_(b, "\n");
  return 0;
}

static int optin_value(const char *v, int *out) {
  static const char *const yes[] = {"yes", "1", "in", "true"};
  static const char *const no[] = {"no", "0", "out", "false"};
  for (size_t i = 0; i < 4; i++) {
    if (!strcmp(v, yes[i]))
      return *out = 1, 0;
    if (!strcmp(v, no[i]))
      return *out = 0, 0;
  }
  return -1;
}

static int render_sub(buf *b, const char *const *f, const size_t *flen,
                      size_t n, uint8_t *opt_in, char *err, size_t errlen) {
  char plan[64] = "", cell[64] = "", pfx[16][64];
  size_t npfx = 0;
  int in = 0;
  for (size_t i = 0; i < n; i++) {
    char k[64];
    const char *v = f[2 * i + 1];
    size_t vl = flen[2 * i + 1];
    if (!word(f[2 * i], flen[2 * i], k))
      return bad(err, errlen, "a %s entry has a field that is not a word",
                 "subscriber");
    if (!strcmp(k, "prefixes")) {
      /* Prefixes hold ':' and '/', so they are checked as prefixes. */
      npfx = 0;
      size_t j = 0;
      while (j < vl) {
        while (j < vl && (v[j] == ' ' || v[j] == ','))
          j++;
        size_t s = j;
        while (j < vl && v[j] != ' ' && v[j] != ',')
          j++;
        if (j == s)
          break;
        if (npfx == 16 || j - s >= 64)
          return bad(err, errlen, "a %s entry has more than 16 prefixes or "
                                  "one too long",
                     "subscriber");
        memcpy(pfx[npfx], v + s, j - s);
        pfx[npfx][j - s] = '\0';
        if (!sconed_config_prefix_valid(pfx[npfx]))
          return bad(err, errlen, "a %s entry has a bad prefix",
                     "subscriber");
        npfx++;
      }
    } else if (!strcmp(k, "plan")) {
      if (!word(v, vl, plan))
        return bad(err, errlen, "a %s entry has a bad plan name", "subscriber");
    } else if (!strcmp(k, "cell")) {
      if (!word(v, vl, cell))
        return bad(err, errlen, "a %s entry has a bad cell name", "subscriber");
    } else if (!strcmp(k, "optin")) {
      char w[64];
      if (!word(v, vl, w) || optin_value(w, &in))
        return bad(err, errlen, "a %s entry's optin is not yes/no/1/0/in/out",
                   "subscriber");
    } else {
      return bad(err, errlen, "a %s entry has an unknown field",
                 "subscriber");
    }
  }
  if (!plan[0] || !npfx)
    return bad(err, errlen, "a %s entry needs prefixes and a plan",
               "subscriber");
  for (size_t i = 0; i < npfx; i++) {
    puts_(b, "subscriber = ");
    puts_(b, pfx[i]);
    puts_(b, " ");
    puts_(b, plan);
    puts_(b, in ? " opt-in" : " opt-out");
    if (cell[0]) {
      puts_(b, " capacity=");
      puts_(b, cell);
    }
    puts_(b, "\n");
  }
  *opt_in = (uint8_t)in;
  return 0;
}

int sconed_policy_snapshot_set(sconed_policy_snapshot *s, sconed_policy_kind k,
                               const char *name, size_t namelen,
                               const char *const *f, const size_t *flen,
                               size_t n, char *err, size_t errlen) {
  if (k >= SCONED_POLICY_KINDS)
    return bad(err, errlen, "%s", "unknown kind");
  table *t = &s->t[k];
  remove_entry(t, name, namelen);
  if (n == 0)
    return 0;
  buf b = {0};
  uint8_t opt_in = 0;
  int r = k == SCONED_POLICY_PLAN ? render_plan(&b, name, namelen, f, flen, n,
                                                err, errlen)
          : k == SCONED_POLICY_CELL
              ? render_cell(&b, name, namelen, f, flen, n, err, errlen)
              : render_sub(&b, f, flen, n, &opt_in, err, errlen);
  if (r == 0 && (b.oom || grow(t)))
    r = bad(err, errlen, "%s", "out of memory");
  entry *e = r ? NULL : malloc(sizeof(*e) + namelen);
  if (!r && !e)
    r = bad(err, errlen, "%s", "out of memory");
  if (r) {
    free(b.p);
    return -1;
  }
  e->text = b.p;
  e->tlen = b.len;
  e->lines = 0;
  for (size_t i = 0; i < b.len; i++)
    e->lines += b.p[i] == '\n';
  e->opt_in = opt_in;
  e->namelen = namelen;
  memcpy(e->name, name, namelen);
  entry **pp = find(t, name, namelen);
  e->next = NULL;
  *pp = e;
  t->n++;
  t->bytes += e->tlen;
  t->lines += e->lines;
  t->optin += e->opt_in;
  return 0;
}

void sconed_policy_snapshot_optin(const sconed_policy_snapshot *s, size_t *in,
                                  size_t *out) {
  const table *t = &s->t[SCONED_POLICY_SUB];
  *in = t->optin;
  *out = t->n - t->optin;
}

static void put_table(buf *b, const table *t) {
  for (size_t i = 0; i < t->nb; i++)
    for (const entry *e = t->b[i]; e; e = e->next)
      put(b, e->text, e->tlen);
}

sconed_config *sconed_policy_build(const sconed_policy_snapshot *s,
                                   const char *base, const char *base_name,
                                   char *err, size_t errlen) {
  buf b = {0};
  size_t base_lines = 0;
  if (base && *base) {
    puts_(&b, base);
    for (const char *p = base; *p; p++)
      base_lines += *p == '\n';
    if (b.len && b.p[b.len - 1] != '\n') {
      puts_(&b, "\n");
      base_lines++;
    }
  }
  size_t total = b.len + 16;
  for (int k = 0; k < SCONED_POLICY_KINDS; k++)
    total += s->t[k].bytes;
  /* One allocation up front: a million subscribers are tens of MB. */
  if (!b.oom && total + 1 > b.cap) {
    char *p = realloc(b.p, total + 1);
    if (p) {
      b.p = p;
      b.cap = total + 1;
      b.p[b.len] = '\0';
    } else {
      b.oom = 1;
    }
  }
  size_t end_plans = base_lines + s->t[SCONED_POLICY_PLAN].lines;
  size_t end_cells = end_plans + s->t[SCONED_POLICY_CELL].lines;
  put_table(&b, &s->t[SCONED_POLICY_PLAN]);
  put_table(&b, &s->t[SCONED_POLICY_CELL]);
  if (s->t[SCONED_POLICY_SUB].n)
    puts_(&b, "[subscribers]\n");
  put_table(&b, &s->t[SCONED_POLICY_SUB]);
  if (b.oom || !b.p) {
    free(b.p);
    if (!b.oom && !b.p) /* nothing at all: an empty config */
      return sconed_config_parse("", base_name ? base_name : "<store>", err,
                                 errlen);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  char perr[512];
  sconed_config *c = sconed_config_parse(
      b.p, base_name ? base_name : "<store>", perr, sizeof(perr));
  free(b.p);
  if (c)
    return c;
  /* "NAME:LINE: reason": the file's lines are the file's to report; a
   * line of the store's part is told by its kind only, since its reason
   * may quote a name or prefix. */
  const char *colon = strrchr(perr, ':');
  unsigned long line = 0;
  const char *p = perr;
  if (base_name && !strncmp(perr, base_name, strlen(base_name)))
    p = perr + strlen(base_name);
  else if (!base_name && !strncmp(perr, "<store>", 7))
    p = perr + 7;
  if (*p == ':')
    line = strtoul(p + 1, NULL, 10);
  (void)colon;
  if (line && line <= base_lines) {
    snprintf(err, errlen, "%s", perr);
  } else if (line == 0) {
    snprintf(err, errlen, "the store's policy does not build");
  } else {
    const char *kind = line <= end_plans   ? "plan"
                       : line <= end_cells ? "cell"
                                           : "subscriber";
    snprintf(err, errlen,
             "the store's policy does not build: a %s entry is "
             "invalid, or conflicts with the config file or another entry "
             "(a missing plan or cell, a repeated prefix)",
             kind);
  }
  return NULL;
}
