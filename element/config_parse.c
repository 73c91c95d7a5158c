/*
 * INI parsing of the sconed config with libinih. inih reports only the line
 * of the first handler failure, and cross references (a subscriber naming
 * a plan defined further down) can only be checked at the end, so a line
 * counting reader tells every handler call its own line.
 */
#include "config_internal.h"

#include <ini.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  PLAN_DOWN = 1,
  PLAN_UP = 2,
  PLAN_ACTION = 4,
  PLAN_RATE = 8,
  PLAN_URATE = 16,
  PLAN_BURST = 32,
  PLAN_DELAY = 64
};
enum {
  G_PERIOD = 1,
  G_TOL = 2,
  G_INIT = 4,
  G_RPP = 8,
  G_GRACE = 16,
  G_LAB = 32,
  G_TEID = 64,
  G_DPI_MAXPKT = 128
};

typedef struct pending_plan {
  unsigned seen;   /* PLAN_* bits */
  int action_line; /* where a missing rate is reported */
} pending_plan;

typedef struct pending_sub {
  char plan[SCONED_NAME_MAX];
  char capacity[SCONED_NAME_MAX];
  int line;
} pending_sub;

typedef struct parser {
  sconed_config *c;
  const char *name;
  const char *text;
  size_t pos;
  int lineno;
  int too_long_line;
  int err_line; /* 0: no error yet */
  char err[200];
  unsigned global_seen;
  /* Where a short period is reported without the switch, and as what. */
  int period_line;
  char period_text[32];
  /* What the parse alone needs, one per plan, capacity and subscriber of
   * the config (grown with them). */
  pending_plan *pplan;
  unsigned *cap_seen;
  pending_sub *pend;
} parser;

static char *read_line(char *str, int num, void *stream) {
  parser *p = stream;
  if (!p->text[p->pos])
    return NULL;
  const char *s = p->text + p->pos;
  const char *nl = strchr(s, '\n');
  size_t len = nl ? (size_t)(nl - s) + 1 : strlen(s);
  p->pos += len;
  p->lineno++;
  /* inih needs room for the newline and NUL; a longer line would be split
   * into two by inih and silently misread. */
  if (len + 1 > (size_t)num) {
    if (!p->too_long_line)
      p->too_long_line = p->lineno;
    len = (size_t)num - 2;
    memcpy(str, s, len);
    str[len++] = '\n';
  } else {
    memcpy(str, s, len);
  }
  str[len] = '\0';
  return str;
}

static int fail(parser *p, int line, const char *fmt, ...) {
  if (p->err_line == 0 || line < p->err_line) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, sizeof(p->err), fmt, ap);
    va_end(ap);
    p->err_line = line;
  }
  return 0;
}

/* Room for entry n of a config array *arr and of its parser array *side,
 * which share the capacity *cap; new entries are zeroed. Returns 0 or -1. */
static int grow(void **arr, size_t *cap, size_t n, size_t elem, void **side,
                size_t side_elem) {
  if (n < *cap)
    return 0;
  size_t nc = *cap ? *cap * 2 : 8;
  /* The side array first: should the other then fail, it is only roomier
   * than *cap says. */
  void *b = realloc(*side, nc * side_elem);
  if (!b)
    return -1;
  memset((char *)b + *cap * side_elem, 0, (nc - *cap) * side_elem);
  *side = b;
  void *a = realloc(*arr, nc * elem);
  if (!a)
    return -1;
  memset((char *)a + *cap * elem, 0, (nc - *cap) * elem);
  *arr = a;
  *cap = nc;
  return 0;
}

static int check_name(parser *p, const char *name, const char *what) {
  size_t n = strlen(name);
  if (n == 0)
    return fail(p, p->lineno, "%s section needs a name", what);
  if (n >= SCONED_NAME_MAX)
    return fail(p, p->lineno, "%s name longer than %d characters", what,
                SCONED_NAME_MAX - 1);
  for (const char *s = name; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
          (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
      return fail(p, p->lineno, "%s name '%s': use letters, digits, - _ .",
                  what, name);
  return 1;
}

static int once(parser *p, unsigned *seen, unsigned bit, const char *key) {
  if (*seen & bit)
    return fail(p, p->lineno, "duplicate key '%s'", key);
  *seen |= bit;
  return 1;
}

static int yes_no(parser *p, const char *k, const char *v, int *out) {
  if (strcmp(v, "yes") && strcmp(v, "no"))
    return fail(p, p->lineno, "%s '%s': yes or no", k, v);
  *out = v[0] == 'y';
  return 1;
}

static int on_global(parser *p, const char *k, const char *v) {
  sconed_config *c = p->c;
  uint64_t x;
  if (!strcmp(k, "period")) {
    if (!once(p, &p->global_seen, G_PERIOD, k))
      return 0;
    /* Below 67 s only with lab_short_period, which may come later in
     * the section: checked in finish(). */
    if (sconed_parse_duration(v, &x) || x < SCONED_MIN_LAB_PERIOD ||
        x > SCONED_MAX_PERIOD)
      return fail(p, p->lineno,
                  "period '%s': a duration from 67s to 3600s (e.g. 67s)", v);
    c->period = x;
    p->period_line = p->lineno;
    snprintf(p->period_text, sizeof(p->period_text), "%s", v);
  } else if (!strcmp(k, "lab_short_period")) {
    if (!once(p, &p->global_seen, G_LAB, k))
      return 0;
    if (!yes_no(p, k, v, &c->lab_short_period))
      return 0;
  } else if (!strcmp(k, "gtpu_teid")) {
    if (!once(p, &p->global_seen, G_TEID, k))
      return 0;
    if (!yes_no(p, k, v, &c->gtpu_teid))
      return 0;
  } else if (!strcmp(k, "tolerance")) {
    if (!once(p, &p->global_seen, G_TOL, k))
      return 0;
    size_t n = strlen(v);
    char buf[32];
    if (n && n < sizeof(buf) && v[n - 1] == '%') {
      memcpy(buf, v, n - 1);
      buf[n - 1] = '\0';
      v = buf;
    }
    if (sconed_parse_uint(v, 1000, &x))
      return fail(p, p->lineno, "tolerance '%s': a percentage from 0 to 1000",
                  v);
    c->tolerance_pct = (uint32_t)x;
  } else if (!strcmp(k, "initial_rewrites")) {
    if (!once(p, &p->global_seen, G_INIT, k))
      return 0;
    if (sconed_parse_uint(v, 16, &x))
      return fail(p, p->lineno, "initial_rewrites '%s': 0 to 16", v);
    c->initial_rewrites = (uint32_t)x;
  } else if (!strcmp(k, "rewrites_per_period")) {
    if (!once(p, &p->global_seen, G_RPP, k))
      return 0;
    /* Two is the floor the draft asks for to keep advice from expiring;
     * more than a few per period is what "Damage to Other Protocols"
     * forbids. */
    if (sconed_parse_uint(v, 8, &x) || x < 2)
      return fail(p, p->lineno, "rewrites_per_period '%s': 2 to 8", v);
    c->rewrites_per_period = (uint32_t)x;
  } else if (!strcmp(k, "announce_grace")) {
    if (!once(p, &p->global_seen, G_GRACE, k))
      return 0;
    if (sconed_parse_uint(v, SCONED_MAX_ANNOUNCE_GRACE_PACKETS, &x))
      return fail(p, p->lineno, "announce_grace '%s': 0 to %d packets", v,
                  SCONED_MAX_ANNOUNCE_GRACE_PACKETS);
    c->announce_grace = (uint32_t)x;
  } else {
    return fail(p, p->lineno, "unknown key '%s' in [global]", k);
  }
  return 1;
}

static long plan_slot(parser *p, const char *name) {
  sconed_config *c = p->c;
  long i = sconed_config_find_plan(c, name);
  if (i >= 0)
    return i;
  if (c->nplans >= SCONED_MAX_PLANS) {
    fail(p, p->lineno, "more than %d plans", SCONED_MAX_PLANS);
    return -1;
  }
  if (grow((void **)&c->plans, &c->plans_cap, c->nplans, sizeof(*c->plans),
           (void **)&p->pplan, sizeof(*p->pplan))) {
    fail(p, p->lineno, "out of memory");
    return -1;
  }
  sconed_plan *pl = &c->plans[c->nplans];
  strcpy(pl->name, name);
  pl->burst_bytes = SCONED_DEFAULT_BURST_BYTES;
  pl->max_delay = SCONED_DEFAULT_MAX_DELAY;
  pl->line = p->lineno;
  p->pplan[c->nplans].action_line = p->lineno;
  return (long)c->nplans++;
}

static int rate_value(parser *p, const char *k, const char *v, uint64_t *out) {
  if (sconed_parse_bps(v, out))
    return fail(p, p->lineno, "%s '%s': a rate in bit/s such as 5M or 800k", k,
                v);
  if (*out < SCONED_MIN_RATE_BPS)
    return fail(p, p->lineno,
                "%s '%s': below 100k, the lowest rate SCONE can signal", k, v);
  if (*out > SCONED_MAX_RATE_BPS)
    return fail(p, p->lineno,
                "%s '%s': above 1000G (1 Tbit/s), the most sconed takes", k, v);
  return 1;
}

static int on_plan(parser *p, const char *name, const char *k, const char *v) {
  if (!check_name(p, name, "plan"))
    return 0;
  long i = plan_slot(p, name);
  if (i < 0)
    return 0;
  sconed_plan *pl = &p->c->plans[i];
  unsigned *seen = &p->pplan[i].seen;
  uint64_t x;
  if (!strcmp(k, "downlink")) {
    if (!once(p, seen, PLAN_DOWN, k) || !rate_value(p, k, v, &x))
      return 0;
    pl->downlink_bps = x;
  } else if (!strcmp(k, "uplink")) {
    if (!once(p, seen, PLAN_UP, k) || !rate_value(p, k, v, &x))
      return 0;
    pl->uplink_bps = x;
  } else if (!strcmp(k, "action")) {
    if (!once(p, seen, PLAN_ACTION, k))
      return 0;
    if (sconed_enforce_parse(v, &pl->action))
      return fail(p, p->lineno, "action '%s': none, police or shape", v);
    p->pplan[i].action_line = p->lineno;
  } else if (!strcmp(k, "rate")) {
    if (!once(p, seen, PLAN_RATE, k) || !rate_value(p, k, v, &x))
      return 0;
    pl->rate_bps = x;
  } else if (!strcmp(k, "uplink_rate")) {
    if (!once(p, seen, PLAN_URATE, k) || !rate_value(p, k, v, &x))
      return 0;
    pl->uplink_rate_bps = x;
  } else if (!strcmp(k, "burst")) {
    if (!once(p, seen, PLAN_BURST, k))
      return 0;
    /* The shaper's token count is 32-bit signed. */
    if (sconed_parse_bytes(v, &x) || x < 1500 || x > 100000000)
      return fail(p, p->lineno,
                  "burst '%s': bytes from 1500 to 100M (e.g. 125k)", v);
    pl->burst_bytes = x;
  } else if (!strcmp(k, "max_delay")) {
    if (!once(p, seen, PLAN_DELAY, k))
      return 0;
    if (sconed_parse_duration(v, &x) || x == 0 || x > 10 * SCONE_SECONDS)
      return fail(p, p->lineno,
                  "max_delay '%s': a duration up to 10s (e.g. 200ms)", v);
    pl->max_delay = x;
  } else {
    return fail(p, p->lineno, "unknown key '%s' in [plan %s]", k, name);
  }
  return 1;
}

static int on_capacity(parser *p, const char *name, const char *k,
                       const char *v) {
  sconed_config *c = p->c;
  if (!check_name(p, name, "capacity"))
    return 0;
  long i = sconed_config_find_capacity(c, name);
  if (i < 0) {
    if (c->ncaps >= SCONED_MAX_CAPACITIES)
      return fail(p, p->lineno, "more than %d capacities",
                  SCONED_MAX_CAPACITIES);
    if (grow((void **)&c->caps, &c->caps_cap, c->ncaps, sizeof(*c->caps),
             (void **)&p->cap_seen, sizeof(*p->cap_seen)))
      return fail(p, p->lineno, "out of memory");
    i = (long)c->ncaps++;
    strcpy(c->caps[i].name, name);
    c->caps[i].line = p->lineno;
  }
  if (strcmp(k, "rate"))
    return fail(p, p->lineno, "unknown key '%s' in [capacity %s]", k, name);
  if (!once(p, &p->cap_seen[i], 1, k))
    return 0;
  uint64_t x;
  if (!rate_value(p, k, v, &x))
    return 0;
  c->caps[i].bps = x;
  return 1;
}

/* subscriber = PREFIX PLAN [opt-in|opt-out] [capacity=NAME]
 * The prefix is in the value because inih splits a line at its first ':'
 * as well as '=', so an IPv6 address cannot be a key. */
static int on_subscriber(parser *p, const char *k, const char *v) {
  sconed_config *c = p->c;
  if (strcmp(k, "subscriber"))
    return fail(p, p->lineno,
                "unknown key '%s' in [subscribers] (expected: subscriber = "
                "PREFIX PLAN [opt-in|opt-out] [capacity=NAME])",
                k);
  char buf[256];
  if (strlen(v) >= sizeof(buf))
    return fail(p, p->lineno, "value too long");
  strcpy(buf, v);
  char *save = NULL;
  char *prefix = strtok_r(buf, " \t", &save);
  int family;
  uint8_t addr[16];
  unsigned plen;
  if (!prefix || sconed_prefix_parse(prefix, &family, addr, &plen))
    return fail(p, p->lineno,
                "'%s' is not an address or prefix (10.0.0.0/8, 2001:db8::/32; "
                "host bits must be zero)",
                prefix ? prefix : "");
  if (c->nsubs >= SCONED_MAX_SUBSCRIBERS)
    return fail(p, p->lineno, "more than %d subscribers",
                SCONED_MAX_SUBSCRIBERS);
  if (grow((void **)&c->subs, &c->subs_cap, c->nsubs, sizeof(*c->subs),
           (void **)&p->pend, sizeof(*p->pend)))
    return fail(p, p->lineno, "out of memory");
  pending_sub *ps = &p->pend[c->nsubs];
  ps->line = p->lineno;
  sconed_subscriber *s = &c->subs[c->nsubs];
  s->opt_in = 0;
  int have_optin = 0, ntok = 0;
  for (char *t = strtok_r(NULL, " \t", &save); t;
       t = strtok_r(NULL, " \t", &save), ntok++) {
    if (ntok == 0) {
      if (strlen(t) >= SCONED_NAME_MAX)
        return fail(p, p->lineno, "plan name '%s' too long", t);
      strcpy(ps->plan, t);
    } else if (!strcmp(t, "opt-in") || !strcmp(t, "opt-out")) {
      if (have_optin++)
        return fail(p, p->lineno, "opt-in/opt-out given twice");
      s->opt_in = t[4] == 'i';
    } else if (!strncmp(t, "capacity=", 9)) {
      if (ps->capacity[0])
        return fail(p, p->lineno, "capacity given twice");
      if (!t[9] || strlen(t + 9) >= SCONED_NAME_MAX)
        return fail(p, p->lineno, "bad capacity name in '%s'", t);
      strcpy(ps->capacity, t + 9);
    } else {
      return fail(p, p->lineno,
                  "unknown word '%s' (expected: PREFIX PLAN [opt-in|opt-out] "
                  "[capacity=NAME])",
                  t);
    }
  }
  if (ntok == 0)
    return fail(p, p->lineno, "subscriber %s needs a plan", prefix);
  if (sconed_lpm_add(&c->lpm, family, addr, plen, (uint32_t)c->nsubs))
    return fail(p, p->lineno, "out of memory");
  c->nsubs++;
  return 1;
}

/* [dpi]: "sni = NAME" (repeatable: a server name, or with a leading dot
 * every name under it) and "max_packets = N". */
static int on_dpi(parser *p, const char *k, const char *v) {
  sconed_config *c = p->c;
  if (!strcmp(k, "max_packets")) {
    uint64_t x;
    if (!once(p, &p->global_seen, G_DPI_MAXPKT, k))
      return 0;
    if (sconed_parse_uint(v, SCONED_MAX_DPI_MAX_PACKETS, &x) || x < 1)
      return fail(p, p->lineno, "max_packets '%s': 1 to %d", v,
                  SCONED_MAX_DPI_MAX_PACKETS);
    c->dpi_max_packets = (uint32_t)x;
    return 1;
  }
  if (strcmp(k, "sni"))
    return fail(p, p->lineno,
                "unknown key '%s' in [dpi] (expected sni or max_packets)", k);
  size_t n = strlen(v);
  if (n == 0 || n >= SCONED_DPI_SNI_MAX)
    return fail(p, p->lineno, "sni '%s': a name of 1 to %d characters", v,
                SCONED_DPI_SNI_MAX - 1);
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)v[i];
    if (!(ch == '.' || ch == '-' || (ch >= '0' && ch <= '9') ||
          (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')))
      return fail(p, p->lineno, "sni '%s': letters, digits, '-' and '.' only",
                  v);
  }
  if (c->ndpi_sni >= SCONED_DPI_MAX_SNI)
    return fail(p, p->lineno, "more than %d sni names", SCONED_DPI_MAX_SNI);
  void *nb = realloc(c->dpi_sni, (c->ndpi_sni + 1) * sizeof(*c->dpi_sni));
  if (!nb)
    return fail(p, p->lineno, "out of memory");
  c->dpi_sni = nb;
  for (size_t i = 0; i <= n; i++) /* names compare case-blind */
    c->dpi_sni[c->ndpi_sni][i] =
        (char)((v[i] >= 'A' && v[i] <= 'Z') ? v[i] + 32 : v[i]);
  c->ndpi_sni++;
  return 1;
}

static int handler(void *user, const char *section, const char *k,
                   const char *v) {
  parser *p = user;
  if (p->err_line && p->err_line <= p->lineno)
    return 0; /* keep the first error: later lines may be fallout */
  if (!strcmp(section, "global"))
    return on_global(p, k, v);
  if (!strncmp(section, "plan ", 5))
    return on_plan(p, section + 5, k, v);
  if (!strncmp(section, "capacity ", 9))
    return on_capacity(p, section + 9, k, v);
  if (!strcmp(section, "subscribers"))
    return on_subscriber(p, k, v);
  if (!strcmp(section, "dpi"))
    return on_dpi(p, k, v);
  if (!*section)
    return fail(p, p->lineno, "key '%s' before any [section]", k);
  return fail(p, p->lineno,
              "unknown section [%s] (expected [global], [plan NAME], "
              "[capacity NAME], [subscribers] or [dpi])",
              section);
}

/* Checks that need the whole file: references and plan consistency. */
static void finish(parser *p) {
  sconed_config *c = p->c;
  /* The draft: "Network elements can monitor and apply limits to send
   * rates using time period of at least 67 seconds." */
  if (c->period < SCONED_MIN_PERIOD && !c->lab_short_period)
    fail(p, p->period_line,
         "period '%s': a duration from 67s to 3600s (e.g. 67s); shorter, "
         "from 1s, only for a lab with lab_short_period = yes",
         p->period_text);
  for (size_t i = 0; i < c->nplans; i++) {
    const sconed_plan *pl = &c->plans[i];
    if (pl->action != SCONED_ENFORCE_NONE && !pl->rate_bps && !pl->downlink_bps)
      fail(p, p->pplan[i].action_line,
           "plan %s: action %s needs a rate or a downlink advice", pl->name,
           sconed_enforce_name(pl->action));
  }
  for (size_t i = 0; i < c->ncaps; i++)
    if (!(p->cap_seen[i] & 1))
      fail(p, c->caps[i].line, "capacity %s has no rate", c->caps[i].name);
  for (size_t i = 0; i < c->nsubs; i++) {
    const pending_sub *ps = &p->pend[i];
    long pl = sconed_config_find_plan(c, ps->plan);
    if (pl < 0) {
      fail(p, ps->line, "unknown plan '%s'", ps->plan);
      continue;
    }
    c->subs[i].plan = (uint16_t)pl;
    c->subs[i].capacity = SCONED_NO_CAPACITY;
    if (ps->capacity[0]) {
      long cp = sconed_config_find_capacity(c, ps->capacity);
      if (cp < 0) {
        fail(p, ps->line, "unknown capacity '%s'", ps->capacity);
        continue;
      }
      c->subs[i].capacity = (uint16_t)cp;
    }
  }
  size_t dup = sconed_lpm_build(&c->lpm);
  if (dup)
    fail(p, p->pend[dup - 1].line, "subscriber prefix given twice");
}

sconed_config *sconed_config_parse(const char *text, const char *name,
                                   char *err, size_t errlen) {
  parser p;
  memset(&p, 0, sizeof(p));
  p.name = name ? name : "<config>";
  p.text = text;
  p.c = sconed_config_new_empty();
  if (!p.c) {
    snprintf(err, errlen, "%s:0: out of memory", p.name);
    return NULL;
  }
  int rc = ini_parse_stream(read_line, &p, handler, &p);
  if (p.too_long_line)
    fail(&p, p.too_long_line, "line longer than %d characters",
         INI_MAX_LINE - 3);
  if (rc > 0 && (p.err_line == 0 || rc < p.err_line))
    fail(&p, rc, "syntax error (expected [section] or key = value)");
  else if (rc < 0)
    fail(&p, 0, "out of memory");
  if (!p.err_line)
    finish(&p);
  free(p.pplan);
  free(p.cap_seen);
  free(p.pend);
  if (p.err_line) {
    if (err && errlen)
      snprintf(err, errlen, "%s:%d: %s", p.name, p.err_line, p.err);
    sconed_config_free(p.c);
    return NULL;
  }
  return p.c;
}

sconed_config *sconed_config_load(const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "%s:0: cannot open: %s", path, strerror(errno));
    return NULL;
  }
  /* Configs are small; a cap keeps a mistaken path (a disk image, a log)
   * from being read whole. */
  enum { MAX_CONFIG = 64 << 20 };
  char *buf = NULL;
  size_t n = 0, cap = 0;
  int bad = 0;
  for (;;) {
    if (n + 1 >= cap) {
      size_t nc = cap ? cap * 2 : 65536;
      char *b = nc > (size_t)MAX_CONFIG + 2 ? NULL : realloc(buf, nc);
      if (!b) {
        bad = cap ? 2 : 1;
        break;
      }
      buf = b;
      cap = nc;
    }
    size_t r = fread(buf + n, 1, cap - n - 1, f);
    n += r;
    if (r == 0)
      break;
  }
  if (!bad && ferror(f))
    bad = 3;
  fclose(f);
  if (!bad && memchr(buf, '\0', n))
    bad = 4;
  if (bad) {
    static const char *const why[] = {"", "out of memory", "larger than 64 MiB",
                                      "read error",
                                      "not a text file (NUL byte)"};
    snprintf(err, errlen, "%s:0: %s", path, why[bad]);
    free(buf);
    return NULL;
  }
  buf[n] = '\0';
  sconed_config *c = sconed_config_parse(buf, path, err, errlen);
  free(buf);
  return c;
}
