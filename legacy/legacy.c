/*
 * The legacy element's per-packet path: flow lookup, nDPI until a verdict,
 * then the engine's enforcement for video flows (legacy.h).
 */
#include "legacy.h"

#include <ndpi_api.h>

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* A flow may sit in two windows of WINDOW consecutive slots, one from
 * each half of its hash: bounds a lookup at 2 * WINDOW slots, and (unlike
 * one longer window) keeps clusters from filling both. At a table loaded
 * to a fraction a, a new flow finds no slot with probability about
 * a^(2 * WINDOW) (a = 0.5: 1.5e-5) and passes untracked. */
#define WINDOW 8

enum { CLS_EMPTY = 0, CLS_CLASSIFYING = 1, CLS_VIDEO = 2, CLS_OTHER = 3 };

/* One flow slot: its tuple in a canonical order (lower address first), so
 * both directions find it. */
typedef struct lflow {
  uint64_t tag;       /* hash | 1 */
  uint32_t last_seen; /* now >> 20 (about ms) */
  uint8_t cls;
  uint8_t npkts;
  uint8_t v6;
  uint8_t proto;
  uint16_t port[2];
  uint8_t addr[2][16];
  struct ndpi_flow_struct *nf; /* while classifying */
} lflow;

struct legacy_dpi {
  sconed_engine *e;
  struct ndpi_detection_module_struct *ndpi;
  lflow *flows;
  uint32_t mask;
  uint64_t seed;
  uint32_t idle; /* idle_timeout >> 20 */
  uint32_t max_packets;
  char (*sni)[SCONED_DPI_SNI_MAX]; /* lower case */
  size_t nsni;
  legacy_dpi_stats st;
};

void legacy_dpi_settings_default(legacy_dpi_settings *s) {
  memset(s, 0, sizeof(*s));
  s->max_flows = 65536;
  s->idle_timeout = 120 * SCONE_SECONDS;
}

legacy_dpi *legacy_dpi_new(const legacy_dpi_settings *s, sconed_engine *e) {
  if (!s->max_flows || !e)
    return NULL;
  legacy_dpi *l = calloc(1, sizeof(*l));
  if (!l)
    return NULL;
  l->e = e;
  uint32_t n = 1;
  while (n < s->max_flows && n < (1U << 31))
    n <<= 1;
  l->mask = n - 1;
  l->flows = calloc(n, sizeof(*l->flows));
  l->seed = s->seed;
  if (!l->seed && getrandom(&l->seed, sizeof(l->seed), 0) != sizeof(l->seed))
    l->seed = 0;
  l->seed |= 1;
  uint64_t idle = s->idle_timeout >> 20;
  l->idle = idle > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)idle;
  l->max_packets = SCONED_DEFAULT_DPI_MAX_PACKETS;
  /* libgcrypt decrypts QUIC Initials; nDPI initialises it itself. */
  l->ndpi = l->flows ? ndpi_init_detection_module(ndpi_no_prefs) : NULL;
  if (!l->ndpi) {
    free(l->flows);
    free(l);
    return NULL;
  }
  NDPI_PROTOCOL_BITMASK all;
  NDPI_BITMASK_SET_ALL(all);
  ndpi_set_protocol_detection_bitmask2(l->ndpi, &all);
  ndpi_finalize_initialization(l->ndpi);
  l->st.max_flows = n;
  l->st.flow_bytes = sizeof(lflow);
  l->st.ndpi_flow_bytes = ndpi_detection_get_sizeof_ndpi_flow_struct();
  l->st.memory_bytes = (uint64_t)n * sizeof(lflow);
  return l;
}

static void drop_nf(lflow *f) {
  if (f->nf) {
    ndpi_free_flow(f->nf);
    f->nf = NULL;
  }
}

void legacy_dpi_reset(legacy_dpi *l) {
  for (uint32_t i = 0; i <= l->mask; i++)
    drop_nf(&l->flows[i]);
  memset(l->flows, 0, ((size_t)l->mask + 1) * sizeof(*l->flows));
  legacy_dpi_stats keep = l->st;
  memset(&l->st, 0, sizeof(l->st));
  l->st.max_flows = keep.max_flows;
  l->st.flow_bytes = keep.flow_bytes;
  l->st.ndpi_flow_bytes = keep.ndpi_flow_bytes;
  l->st.memory_bytes = keep.memory_bytes;
}

void legacy_dpi_free(legacy_dpi *l) {
  if (!l)
    return;
  for (uint32_t i = 0; i <= l->mask; i++)
    drop_nf(&l->flows[i]);
  free(l->flows);
  free(l->sni);
  ndpi_exit_detection_module(l->ndpi);
  free(l);
}

int legacy_dpi_set_config(legacy_dpi *l, sconed_config *c) {
  if (!c)
    return -1;
  size_t n = sconed_config_dpi_sni_count(c);
  void *sni = n ? calloc(n, SCONED_DPI_SNI_MAX) : NULL;
  if (n && !sni) {
    sconed_config_free(c);
    return -1;
  }
  for (size_t i = 0; i < n; i++)
    strcpy(((char(*)[SCONED_DPI_SNI_MAX])sni)[i], sconed_config_dpi_sni(c, i));
  free(l->sni);
  l->sni = sni;
  l->nsni = n;
  l->max_packets = sconed_config_dpi_max_packets(c);
  sconed_config_set_announce_grace(c, 0);
  return sconed_engine_set_config(l->e, c);
}

/* ------------------------------------------------------------- parsing */

typedef struct tuple {
  uint8_t v6, proto;
  uint8_t swapped; /* the packet's source is addr[1], port[1] */
  uint16_t port[2];
  uint8_t addr[2][16];
  const uint8_t *l4; /* payload after the UDP/TCP header */
  size_t l4len;
  size_t iplen; /* the IP packet's length (its header's) */
} tuple;

/* The flow of a packet, in canonical order (swapped says whether that is
 * the packet's); 0 when it is no whole first fragment of a TCP or UDP
 * packet (those pass untouched). */
static int parse(const uint8_t *p, size_t len, tuple *t) {
  size_t hl, tot;
  memset(t, 0, sizeof(*t));
  const uint8_t *src, *dst;
  if (len < 1)
    return 0;
  if ((p[0] >> 4) == 4) {
    if (len < 20)
      return 0;
    hl = (size_t)(p[0] & 15) * 4;
    tot = (size_t)p[2] << 8 | p[3];
    if (hl < 20 || tot < hl || tot > len)
      return 0;
    if ((p[6] & 0x3f) || p[7]) /* MF or an offset: a fragment */
      return 0;
    t->proto = p[9];
    src = p + 12;
    dst = p + 16;
    memcpy(t->addr[0], src, 4);
    memcpy(t->addr[1], dst, 4);
  } else if ((p[0] >> 4) == 6) {
    if (len < 40)
      return 0;
    hl = 40;
    tot = 40 + ((size_t)p[4] << 8 | p[5]);
    if (tot > len)
      return 0;
    t->v6 = 1;
    t->proto = p[6]; /* extension headers: not followed, passed */
    memcpy(t->addr[0], p + 8, 16);
    memcpy(t->addr[1], p + 24, 16);
  } else {
    return 0;
  }
  const uint8_t *q = p + hl;
  size_t ql = tot - hl;
  if (t->proto == IPPROTO_UDP) {
    if (ql < 8)
      return 0;
    size_t ul = (size_t)q[4] << 8 | q[5];
    if (ul < 8 || ul > ql)
      return 0;
    t->l4 = q + 8;
    t->l4len = ul - 8;
  } else if (t->proto == IPPROTO_TCP) {
    if (ql < 20 || (size_t)(q[12] >> 4) * 4 < 20 ||
        (size_t)(q[12] >> 4) * 4 > ql)
      return 0;
    t->l4 = q + (q[12] >> 4) * 4;
    t->l4len = ql - (size_t)(q[12] >> 4) * 4;
  } else {
    return 0;
  }
  t->iplen = tot;
  t->port[0] = (uint16_t)(q[0] << 8 | q[1]);
  t->port[1] = (uint16_t)(q[2] << 8 | q[3]);
  size_t al = t->v6 ? 16 : 4;
  int c = memcmp(t->addr[0], t->addr[1], al);
  if (c > 0 || (c == 0 && t->port[0] > t->port[1])) {
    uint8_t a[16];
    memcpy(a, t->addr[0], 16);
    memcpy(t->addr[0], t->addr[1], 16);
    memcpy(t->addr[1], a, 16);
    uint16_t x = t->port[0];
    t->port[0] = t->port[1];
    t->port[1] = x;
    t->swapped = 1;
  }
  return 1;
}

/* splitmix64's finaliser over each word, keyed by the seed. */
static uint64_t mix(uint64_t h, uint64_t x) {
  h ^= x;
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

static uint64_t hash(const legacy_dpi *l, const tuple *t) {
  uint64_t h = l->seed, w[4];
  memcpy(w, t->addr, 32); /* addr[0] is w[0..1], addr[1] w[2..3] */
  h = mix(h, w[0]);
  h = mix(h, w[2]);
  if (t->v6) {
    h = mix(h, w[1]);
    h = mix(h, w[3]);
  }
  h = mix(h, (uint64_t)t->port[0] << 32 | (uint64_t)t->port[1] << 16 |
                 (uint64_t)t->proto << 8 | t->v6);
  return h | 1;
}

static int same(const lflow *f, const tuple *t) {
  return f->v6 == t->v6 && f->proto == t->proto && f->port[0] == t->port[0] &&
         f->port[1] == t->port[1] && !memcmp(f->addr, t->addr, sizeof(f->addr));
}

static int expired(const legacy_dpi *l, const lflow *f, uint32_t nowu) {
  return f->cls == CLS_EMPTY || nowu - f->last_seen > l->idle;
}

/* The slot of t's flow, or NULL; *free_slot: a free or expired slot in
 * its probe window, for a new flow. */
static lflow *find(legacy_dpi *l, const tuple *t, uint64_t h, uint32_t nowu,
                   lflow **free_slot) {
  *free_slot = NULL;
  for (uint32_t i = 0; i < 2 * WINDOW; i++) {
    uint64_t base = i < WINDOW ? h : h >> 32;
    lflow *f = &l->flows[(base + i % WINDOW) & l->mask];
    if (f->cls != CLS_EMPTY && f->tag == h && same(f, t) &&
        !expired(l, f, nowu))
      return f;
    if (!*free_slot && expired(l, f, nowu))
      *free_slot = f;
  }
  return NULL;
}

/* ---------------------------------------------------------- the verdict */

static int sni_listed(const legacy_dpi *l, const char *name) {
  size_t n = strlen(name);
  for (size_t i = 0; i < l->nsni; i++) {
    const char *s = l->sni[i];
    size_t m = strlen(s);
    if (s[0] == '.' ? (n > m && !strcasecmp(name + n - m, s))
                    : (n == m && !strcasecmp(name, s)))
      return 1;
  }
  return 0;
}

static int video_category(ndpi_protocol_category_t c) {
  return c == NDPI_PROTOCOL_CATEGORY_MEDIA ||
         c == NDPI_PROTOCOL_CATEGORY_STREAMING ||
         c == NDPI_PROTOCOL_CATEGORY_VIDEO;
}

static void decide(legacy_dpi *l, lflow *f, ndpi_protocol pr, int gave_up) {
  int named = pr.app_protocol != NDPI_PROTOCOL_UNKNOWN ||
              pr.master_protocol != NDPI_PROTOCOL_UNKNOWN;
  if (named)
    l->st.flows_classified++;
  else if (gave_up)
    l->st.gave_up++;
  int listed = f->nf->host_server_name[0] &&
               sni_listed(l, (const char *)f->nf->host_server_name);
  f->cls = (video_category(pr.category) || listed) ? CLS_VIDEO : CLS_OTHER;
  if (f->cls == CLS_VIDEO) {
    l->st.video_flows++;
    if (listed && !video_category(pr.category))
      l->st.sni_matches++;
  }
  drop_nf(f);
  l->st.classifying--;
}

/* nDPI has named the flow for good: a named protocol whose dissection
 * could still learn a server name (a QUIC or TLS flow before its
 * ClientHello) is not final yet. */
static int final(legacy_dpi *l, lflow *f, ndpi_protocol pr) {
  if (pr.app_protocol == NDPI_PROTOCOL_UNKNOWN &&
      pr.master_protocol == NDPI_PROTOCOL_UNKNOWN)
    return 0;
  return f->nf->host_server_name[0] ||
         !ndpi_extra_dissection_possible(l->ndpi, f->nf);
}

/* A TCP video packet to the engine, on the tuple parse read (no second
 * parse of its headers), in the packet's own direction: the engine finds
 * the subscriber and the link direction from it. */
static void enforce_tcp(legacy_dpi *l, const tuple *t, scone_tstamp now,
                        sconed_verdict *v) {
  sconed_tuple w;
  int s = t->swapped;
  w.ip_version = t->v6 ? 6 : 4;
  memcpy(w.src, t->addr[s], sizeof(w.src));
  memcpy(w.dst, t->addr[!s], sizeof(w.dst));
  w.sport = t->port[s];
  w.dport = t->port[!s];
  sconed_engine_process_tcp(l->e, &w, t->iplen, now, v);
}

void legacy_dpi_process_ip(legacy_dpi *l, uint8_t *pkt, size_t len,
                           scone_tstamp now, sconed_verdict *v) {
  v->action = SCONED_PASS;
  v->modified = 0;
  v->release_at = 0;
  l->st.packets++;
  tuple t;
  if (!parse(pkt, len, &t)) {
    l->st.untracked++;
    return;
  }
  if (t.proto == IPPROTO_UDP && scone_packet_is_scone(t.l4, t.l4len)) {
    l->st.scone_packets++;
    return;
  }
  uint32_t nowu = (uint32_t)(now >> 20);
  uint64_t h = hash(l, &t);
  lflow *slot, *f = find(l, &t, h, nowu, &slot);
  if (!f) {
    if (!slot) {
      l->st.untracked++;
      return;
    }
    f = slot;
    if (f->cls == CLS_EMPTY)
      l->st.flows++;
    else if (f->nf)
      l->st.classifying--;
    drop_nf(f);
    f->nf = calloc(1, l->st.ndpi_flow_bytes);
    if (!f->nf) {
      f->cls = CLS_EMPTY;
      l->st.flows--;
      l->st.untracked++;
      return;
    }
    f->tag = h;
    f->v6 = t.v6;
    f->proto = t.proto;
    memcpy(f->port, t.port, sizeof(f->port));
    memcpy(f->addr, t.addr, sizeof(f->addr));
    f->cls = CLS_CLASSIFYING;
    f->npkts = 0;
    l->st.flows_total++;
    l->st.classifying++;
  }
  f->last_seen = nowu;
  if (f->cls == CLS_CLASSIFYING) {
    l->st.dpi_packets++;
    size_t n = len > 65535 ? 65535 : len;
    ndpi_protocol pr = ndpi_detection_process_packet(
        l->ndpi, f->nf, pkt, (unsigned short)n, now / SCONE_MILLISECONDS);
    f->npkts++;
    if (final(l, f, pr)) {
      decide(l, f, pr, 0);
    } else if (f->npkts >= l->max_packets) {
      uint8_t guessed = 0;
      decide(l, f, ndpi_detection_giveup(l->ndpi, f->nf, 0, &guessed), 1);
    }
  }
  if (f->cls == CLS_VIDEO) {
    l->st.enforced_packets++;
    if (t.proto == IPPROTO_TCP)
      enforce_tcp(l, &t, now, v);
    else
      sconed_engine_process_ip(l->e, pkt, len, now, v);
  }
}

int legacy_dpi_flow_class(const legacy_dpi *l, const uint8_t *pkt, size_t len,
                          scone_tstamp now) {
  tuple t;
  if (!parse(pkt, len, &t))
    return 0;
  lflow *slot;
  lflow *f =
      find((legacy_dpi *)l, &t, hash(l, &t), (uint32_t)(now >> 20), &slot);
  return f ? f->cls : 0;
}

void legacy_dpi_stats_get(const legacy_dpi *l, legacy_dpi_stats *st) {
  *st = l->st;
}
