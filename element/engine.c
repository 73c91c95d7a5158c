/*
 * The per-packet path: find or admit the flow, classify it, signal advice
 * into SCONE packets, monitor (per flow and per subscriber), enforce.
 * Everything a packet needs sits in its 64-byte flow record, its
 * subscriber's config record and state line, and the engine; nothing here
 * allocates.
 *
 * The common packet (see handle_fast) runs through one inlined function
 * without a call; everything else (new flows, classification, period
 * roll-over, rewrites, marking, policing) takes handle_slow, which can
 * take any packet.
 */
#include "engine_internal.h"

#include "classify.h"
#include "fastparse.h"
#include "gtpu.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define COLD SCONED_COLD
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

#define NC_FLAG(d) ((uint16_t)(FL_NC_UP << (d)))
#define NC_ANY (FL_NC_UP | FL_NC_DOWN)

/* ------------------------------------------------------------- logging */

void sconed_engine_log(sconed_engine *e, int level, const char *fmt, ...) {
  if (!e->s.log)
    return;
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  e->s.log(e->s.log_arg, level, msg);
}

COLD static void logf_flow(sconed_engine *e, int level, const sconed_pkt *p,
                           const char *what, const char *plan, int dir) {
  if (!e->s.log)
    return;
  const char *fam = p->ipv6 ? "ipv6" : "ipv4";
  const char *dn = dir ? "downlink" : "uplink";
  if (e->s.log_addresses) {
    char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
    int af = p->ipv6 ? AF_INET6 : AF_INET;
    inet_ntop(af, p->src, a, sizeof(a));
    inet_ntop(af, p->dst, b, sizeof(b));
    sconed_engine_log(e, level, "flow %s %s plan=%s dir=%s src=%s:%u dst=%s:%u",
                      what, fam, plan, dn, a, p->sport, b, p->dport);
  } else {
    sconed_engine_log(e, level, "flow %s %s plan=%s dir=%s", what, fam, plan,
                      dn);
  }
}

/* ------------------------------------------------------------- gauges */

/* Removes (sign -1) or adds (+1) a flow's contribution to its plan's
 * gauges. */
static void gauges(sconed_engine *e, const sconed_flow *f, int sign) {
  sconed_plan_metrics *m = &e->stats[f->stat].m;
  m->flows += (uint64_t)(int64_t)sign;
  if (f->flags & FL_SCONE)
    m->scone_flows += (uint64_t)(int64_t)sign;
  if (f->flags & NC_ANY)
    m->nonconforming += (uint64_t)(int64_t)sign;
}

static void evict(sconed_engine *e, size_t slot) {
  sconed_flow *f = &e->t.flows[slot];
  e->owner_flows[sconed_flow_owner(f)]--;
  gauges(e, f, -1);
  if (f->ssub != SCONED_NO_SSUB)
    sconed_subs_detach(e, f);
  e->t.tags[slot] = 0;
  e->t.count--;
}

/* --------------------------------------------------------- admission */

static inline int idle(const sconed_engine *e, const sconed_flow *f,
                       uint32_t nowu) {
  return nowu - f->last_seen >= e->idle_units;
}

static inline int young(const sconed_flow *f) {
  return (f->flags & (FL_SEEN_A | FL_SEEN_B)) != (FL_SEEN_A | FL_SEEN_B) ||
         f->npkts < SCONED_YOUNG_PACKETS;
}

/* May a flow quiet for young_timeout give its slot to a new one? Young
 * ones, and those that never showed they are QUIC (not classified QUIC,
 * no SCONE packet): otherwise spoofed datagrams both ways would fill both
 * buckets with "established" fakes and lock new flows out for a whole
 * idle timeout. A flow that showed QUIC keeps its slot until idle. */
static inline int replaceable(const sconed_flow *f) {
  return young(f) || !(f->flags & (FL_QUIC | FL_SCONE));
}

static void sweep_flows(sconed_engine *e, uint32_t nowu) {
  size_t b = e->t.sweep;
  e->t.sweep =
      b + SCONED_BUCKET_SLOTS == e->t.nslots ? 0 : b + SCONED_BUCKET_SLOTS;
  for (size_t i = b; i < b + SCONED_BUCKET_SLOTS; i++)
    if (e->t.tags[i] && idle(e, &e->t.flows[i], nowu)) {
      evict(e, i);
      e->st.evicted_idle++;
    }
}

static int take_token(int64_t *tokens, scone_tstamp *last, uint64_t rate,
                      scone_tstamp now) {
  if (rate == 0)
    return 0;
  if (now > *last) {
    unsigned __int128 add =
        (unsigned __int128)(now - *last) * rate / SCONE_SECONDS;
    uint64_t t = (uint64_t)*tokens + (add > rate ? rate : (uint64_t)add);
    *tokens = (int64_t)(t > rate ? rate : t);
    /* Keep the remainder of a partial token by only moving the clock by
     * what was credited. */
    *last = add >= rate ? now : *last + (uint64_t)add * SCONE_SECONDS / rate;
  }
  if (*tokens <= 0)
    return 0;
  (*tokens)--;
  return 1;
}

/* An admission token for owner. Many owners flooding new flows, each
 * within its slot share, would take every token of the shared allowance
 * as it appears, so a subscriber opening one session would almost never
 * get one. A reserve of half the rate more is shared out fairly: an owner
 * may draw on it at SCONED_OWNER_ADMIT_PER_S a second with a burst of
 * SCONED_OWNER_ADMIT_BURST (a virtual-time rule, GCRA), its shared tokens
 * counted too, so a subscriber opening a few sessions gets them while
 * fewer than admit_per_second / 4 owners flood. */
static int take_admission(sconed_engine *e, unsigned owner, scone_tstamp now) {
  const scone_duration step = SCONE_SECONDS / SCONED_OWNER_ADMIT_PER_S;
  scone_tstamp *tat = &e->owner_admit[owner];
  if (*tat == 0 && e->nadmit_touched++ < SCONED_ADMIT_TOUCHED)
    e->admit_touched[e->nadmit_touched - 1] = owner;
  if (*tat < now)
    *tat = now;
  if (take_token(&e->admit_tokens, &e->admit_last, e->s.admit_per_second,
                 now)) {
    *tat += step;
    return 1;
  }
  if (*tat - now > (SCONED_OWNER_ADMIT_BURST - 1) * step)
    return 0;
  if (!take_token(&e->reserve_tokens, &e->reserve_last,
                  e->s.admit_per_second / 2, now))
    return 0;
  *tat += step;
  e->st.admitted_reserve++;
  return 1;
}

/* A slot for a new flow, or -1 when the flow is not admitted: a free slot
 * in its first bucket, else in its second, else an idle flow's, else (at a
 * bounded rate) the slot of the quietest replaceable flow. Established
 * QUIC flows are never pushed out. Filling the
 * first bucket first keeps most flows there (over 90% at 80% load), so a
 * lookup mostly reads one bucket and prefetching that one is enough. */
static long admit(sconed_engine *e, uint64_t fp, unsigned owner, uint32_t nowu,
                  scone_tstamp now) {
  size_t b[2] = {sconed_bucket1(&e->t, fp) * SCONED_BUCKET_SLOTS,
                 sconed_bucket2(&e->t, fp) * SCONED_BUCKET_SLOTS};
  for (int k = 0; k < 2; k++)
    for (unsigned i = 0; i < SCONED_BUCKET_SLOTS; i++)
      if (!e->t.tags[b[k] + i])
        return (long)(b[k] + i);
  for (int k = 0; k < 2; k++)
    for (unsigned i = 0; i < SCONED_BUCKET_SLOTS; i++) {
      size_t s = b[k] + i;
      if (idle(e, &e->t.flows[s], nowu)) {
        evict(e, s);
        e->st.evicted_idle++;
        return (long)s;
      }
    }
  /* Both full: move one resident to its other bucket if that has room (one
   * cuckoo step), which lets the table fill well past 90%. */
  for (int k = 0; k < 2; k++)
    for (unsigned i = 0; i < SCONED_BUCKET_SLOTS; i++) {
      size_t s = b[k] + i;
      uint64_t tg = e->t.tags[s];
      size_t alt = sconed_bucket1(&e->t, tg) * SCONED_BUCKET_SLOTS;
      if (alt == b[k])
        alt = sconed_bucket2(&e->t, tg) * SCONED_BUCKET_SLOTS;
      if (alt == b[k])
        continue;
      for (unsigned j = 0; j < SCONED_BUCKET_SLOTS; j++)
        if (!e->t.tags[alt + j]) {
          e->t.tags[alt + j] = tg;
          e->t.flows[alt + j] = e->t.flows[s];
          e->t.tags[s] = 0;
          return (long)s;
        }
    }
  long victim = -1;
  uint32_t victim_age = 0;
  for (int k = 0; k < 2; k++)
    for (unsigned i = 0; i < SCONED_BUCKET_SLOTS; i++) {
      size_t s = b[k] + i;
      const sconed_flow *f = &e->t.flows[s];
      uint32_t age = nowu - f->last_seen;
      if (replaceable(f) && age >= e->young_units && age >= victim_age) {
        victim = (long)s;
        victim_age = age;
      }
    }
  if (victim < 0 || !take_admission(e, owner, now))
    return -1;
  evict(e, (size_t)victim);
  e->st.evicted_young++;
  return victim;
}

/* ----------------------------------------------------------- the clock */

/* Runs at most once per rewrite slot, period or sweep step (and on the
 * first packet): the per-packet path only compares now with next_tick. */
COLD static void tick(sconed_engine *e, scone_tstamp now) {
  if (!e->clock_set) {
    e->clock_set = 1;
    sconed_engine_clock_reset(e);
    e->next_sweep = now + e->sweep_step;
  } else if (now - e->p_start >= 4 * e->period) {
    sconed_engine_clock_reset(e);
  } else {
    while (now - e->p_start >= e->period) {
      e->p_start += e->period;
      e->p_idx++;
    }
    e->h_idx = 2 * e->p_idx + (now - e->p_start >= e->half_ns);
    while (now - e->slot_start >= e->slot_ns) {
      e->slot_start += e->slot_ns;
      e->slot_idx++;
    }
  }
  if (now >= e->next_sweep) {
    sweep_flows(e, (uint32_t)(now >> 20));
    sconed_subs_sweep(e);
    /* After a quiet spell, catch up one bucket per packet, but never owe
     * more than one round of the table. */
    e->next_sweep += e->sweep_step;
    if (now > e->next_sweep && now - e->next_sweep > e->s.idle_timeout)
      e->next_sweep = now - e->s.idle_timeout;
  }
  sconed_engine_next_tick(e);
}

/* ------------------------------------------------------ subscribers */

/* Ports QUIC servers commonly listen on: the privileged range (443 above
 * all) and the usual unprivileged HTTPS/QUIC test ports. Clients send
 * from ephemeral ports, which are above these. */
static int server_port(uint16_t port) {
  return port < 1024 || port == 4433 || port == 8443;
}

/* When both ends match equally: is the subscriber (the client) the sender
 * of p (1), its receiver (0), or unknown (-1)? Only a flow's first
 * datagram with a long header that is a handshake (not a SCONE packet,
 * not a server's Version Negotiation) shows the client; a short header
 * may come from either end when sconed starts mid-flow, and then only a
 * server port on exactly one end tells. */
static int tie_side(const sconed_pkt *p, int first) {
  if (first && p->plen >= 5 && (p->payload[0] & 0x80) &&
      sconed_be32(p->payload + 1) != 0 &&
      !scone_packet_is_scone(p->payload, p->plen))
    return 1;
  int ss = server_port(p->sport), ds = server_port(p->dport);
  return ss != ds ? ds : -1;
}

/* Which end of a flow is the subscriber side, and its config entry. */
typedef struct flow_side {
  int any;          /* 0: neither end is a subscriber */
  int src;          /* the sender of p is the subscriber side (or stands in) */
  unsigned unknown; /* FL_DIR_UNKNOWN: the sender only stands in */
  uint32_t entry;   /* the subscriber side's config entry */
  unsigned plen;    /* and its prefix length */
} flow_side;

/* The side whose address matches the longer prefix; on a tie (e.g. the
 * default catch-all) the side the flow already has (f), or for a new flow
 * (f NULL) what tie_side says. When that is unknown the sender stands in
 * (enforcement needs a side) but no advice is written. */
static flow_side find_side(const sconed_engine *e, const sconed_flow *f,
                           const sconed_pkt *p, int src_is_a) {
  const sconed_config *c = e->cfg;
  int fam = p->ipv6 ? 6 : 4;
  uint32_t vs = 0, vd = 0;
  unsigned ls = 0, ld = 0;
  int ms = sconed_lpm_lookup(&c->lpm, fam, p->src, &vs, &ls) == 0;
  int md = sconed_lpm_lookup(&c->lpm, fam, p->dst, &vd, &ld) == 0;
  flow_side r = {ms || md, 0, 0, 0, 0};
  if (!r.any)
    return r;
  if (ms && md && ls == ld && (!f || (f->flags & FL_NO_SUB))) {
    int t = tie_side(p, !f);
    r.src = t != 0;
    r.unknown = t < 0 ? FL_DIR_UNKNOWN : 0;
  } else if (ms && md && ls == ld) {
    r.src = !!(f->flags & FL_INIT_A) == src_is_a;
    r.unknown = f->flags & FL_DIR_UNKNOWN;
  } else {
    r.src = ms && (!md || ls > ld);
  }
  r.entry = r.src ? vs : vd;
  r.plen = r.src ? ls : ld;
  return r;
}

/* Sets the flow's subscriber side and entry (as find_side found them for
 * p) and its plan. */
static void resolve(sconed_engine *e, sconed_flow *f, int src_is_a, int fresh,
                    const flow_side *sd) {
  if (!fresh) {
    gauges(e, f, -1);
    /* The subscriber may be another now: the flow ties itself again on
     * its next SCONE packet (to the same state if it is the same). */
    if (f->ssub != SCONED_NO_SSUB)
      sconed_subs_detach(e, f);
  }
  if (!sd->any) {
    f->flags |= FL_NO_SUB;
    f->stat = SCONED_NO_STAT;
  } else {
    int init_a = sd->src ? src_is_a : !src_is_a;
    unsigned keep = ~(unsigned)(FL_INIT_A | FL_NO_SUB | FL_DIR_UNKNOWN);
    f->flags =
        (uint16_t)((f->flags & keep) | (init_a ? FL_INIT_A : 0) | sd->unknown);
    f->sub = sd->entry;
    uint16_t stat = e->subs[f->sub].stat;
    if (fresh || stat != f->stat) {
      e->stats[stat].m.flows_total++;
      f->tokens[0] = f->tokens[1] = e->subs[f->sub].burst;
    }
    f->stat = stat;
  }
  f->gen = e->gen;
  gauges(e, f, +1);
}

static void init_flow(sconed_engine *e, sconed_flow *f, uint32_t nowu) {
  memset(f, 0, sizeof(*f));
  f->last_seen = nowu;
  f->ssub = SCONED_NO_SSUB;
  f->pidx = (uint16_t)e->h_idx;
  memset(f->max_sig, SCONE_SIGNAL_UNKNOWN, sizeof(f->max_sig));
  f->target[0] = f->target[1] = SCONE_SIGNAL_UNKNOWN;
  /* Half the slot counter away: no rewrite has happened "in this slot". */
  f->slot[0] = f->slot[1] = (uint8_t)(e->slot_idx + 128);
}

/* The owner a new flow's slot is charged to: its subscriber (the same key
 * as its per-subscriber state: an IPv4 address, an IPv6 /64 or its config
 * entry's longer prefix), hashed with the subscriber table's key, or the
 * pool of flows with no subscriber side. */
static unsigned owner_of(const sconed_engine *e, const sconed_pkt *p,
                         const flow_side *sd) {
  if (!sd->any)
    return SCONED_OWNER_POOL;
  unsigned plen = 32;
  if (p->ipv6)
    plen = sd->plen > e->s.subscriber_prefix_v6 ? sd->plen
                                                : e->s.subscriber_prefix_v6;
  uint64_t h =
      sconed_ssub_salted(&e->ss,
                         sconed_ssub_hash(&e->ss, p->ipv6 ? 6 : 4,
                                          sd->src ? p->src : p->dst, plen),
                         p->sub_salt);
  return (unsigned)(((h >> 32) * SCONED_OWNER_POOL) >> 32);
}

/* A slot for a new flow of an owner that holds its whole share: only one
 * of its own flows in the new flow's buckets that could be pushed out
 * anyway (idle, or replaceable and quiet for young_timeout), and no
 * admission token. So it churns its own share and no one else's. */
static long admit_within(sconed_engine *e, uint64_t fp, unsigned owner,
                         uint32_t nowu) {
  size_t b[2] = {sconed_bucket1(&e->t, fp) * SCONED_BUCKET_SLOTS,
                 sconed_bucket2(&e->t, fp) * SCONED_BUCKET_SLOTS};
  for (int k = 0; k < 2; k++)
    for (unsigned i = 0; i < SCONED_BUCKET_SLOTS; i++) {
      size_t s = b[k] + i;
      const sconed_flow *f = &e->t.flows[s];
      if (!e->t.tags[s] || sconed_flow_owner(f) != owner)
        continue;
      if (idle(e, f, nowu)) {
        evict(e, s);
        e->st.evicted_idle++;
        return (long)s;
      }
      if (replaceable(f) && nowu - f->last_seen >= e->young_units) {
        evict(e, s);
        e->st.evicted_young++;
        return (long)s;
      }
    }
  return -1;
}

COLD static sconed_flow *new_flow(sconed_engine *e, const sconed_pkt *p,
                                  uint64_t fp, int src_is_a, uint32_t nowu) {
  flow_side sd = find_side(e, NULL, p, src_is_a);
  unsigned owner = owner_of(e, p, &sd);
  uint32_t cap = owner == SCONED_OWNER_POOL ? e->pool_cap : e->owner_cap;
  long slot;
  if (e->owner_flows[owner] < cap) {
    slot = admit(e, fp, owner, nowu, p->now);
  } else {
    slot = admit_within(e, fp, owner, nowu);
    e->st.over_quota += slot < 0;
  }
  if (slot < 0) {
    e->st.unadmitted++;
    return NULL;
  }
  e->t.tags[slot] = fp;
  e->t.count++;
  e->owner_flows[owner]++;
  sconed_flow *f = &e->t.flows[slot];
  init_flow(e, f, nowu);
  sconed_flow_set_owner(f, owner);
  resolve(e, f, src_is_a, 1, &sd);
  return f;
}

/* ------------------------------------------------------ classification */

/* initial[0] before a flow is QUIC: datagrams that may pick it up (0, 1),
 * or never (an implausible long header came first). */
#define PICKUP_NEVER 0xff

/* Taken for QUIC: the pickup count (pickup) is done with. */
static void set_quic(sconed_flow *f) {
  f->flags =
      (uint16_t)((f->flags & ~(FL_NOT_QUIC | FL_QUICISH_MASK)) | FL_QUIC);
  f->initial[0] = 0;
}

static void classify(sconed_engine *e, sconed_flow *f, const sconed_pkt *p) {
  /* A datagram led by a SCONE packet is no evidence on its own: pickup
   * judges those. */
  int scone = sconed_scone_whole(p->payload, p->plen);
  if (f->npkts == 0 && p->plen > 0 && (p->payload[0] & 0x80) && !scone) {
    if (sconed_plausible_long(p->payload, p->plen)) {
      set_quic(f);
      if (scone_indication_present(p->payload, p->plen))
        f->flags |= FL_ANNOUNCED;
    } else {
      /* No QUIC flow, even one sconed joins mid-way, shows such a
       * datagram: never picked up. */
      f->flags |= FL_NOT_QUIC;
      f->initial[0] = PICKUP_NEVER;
      e->st.not_quic_flows++;
    }
    return;
  }
  int q = !scone && sconed_looks_quic(p->payload, p->plen);
  if (f->npkts == 0 && !q) {
    f->flags |= FL_NOT_QUIC;
    e->st.not_quic_flows++;
    return;
  }
  unsigned quicish =
      ((f->flags & FL_QUICISH_MASK) >> FL_QUICISH_SHIFT) + (unsigned)q;
  if (f->npkts + 1 < SCONED_CLASSIFY_PACKETS) {
    _Static_assert(SCONED_CLASSIFY_PACKETS - 1 <=
                       (FL_QUICISH_MASK >> FL_QUICISH_SHIFT),
                   "the count kept must not spill into FL_DIR_UNKNOWN");
    f->flags = (uint16_t)((f->flags & ~FL_QUICISH_MASK) |
                          (quicish << FL_QUICISH_SHIFT));
  } else {
    f->flags &= (uint16_t)~FL_QUICISH_MASK;
    if (quicish >= SCONED_CLASSIFY_NEEDED) {
      set_quic(f);
    } else {
      f->flags |= FL_NOT_QUIC;
      e->st.not_quic_flows++;
    }
  }
}

/* A flow not taken for QUIC (so far) whose datagram is led by a SCONE
 * packet: sconed started after the flow's handshake and its endpoints
 * grease the fixed bit (RFC 9287; not an invariant, RFC 8999), so its
 * short headers did not look like QUIC. The second datagram whose SCONE
 * packet is consistent with the packet coalesced after it (same DCID,
 * classify.h) makes it QUIC, and is signalled in at once; one is never
 * enough, so a flow of another protocol that looks like SCONE once is
 * left alone. initial[0], unused until a flow is QUIC, counts them.
 * Returns the flow's flags. */
COLD static unsigned pickup(sconed_engine *e, sconed_flow *f,
                            const sconed_pkt *p) {
  if (f->initial[0] == PICKUP_NEVER ||
      !sconed_scone_coalesced(p->payload, p->plen))
    return f->flags;
  if (!f->initial[0]) {
    f->initial[0] = 1;
    return f->flags;
  }
  set_quic(f);
  e->st.picked_up++;
  return f->flags;
}

/* ------------------------------------------------------------ monitor */

/* Moves the flow's history to the engine's current half-period. */
static void roll(sconed_engine *e, sconed_flow *f) {
  uint64_t hgap = (uint16_t)((uint16_t)e->h_idx - f->pidx);
  uint64_t pgap = mon_periods_back(e->h_idx, hgap);
  unsigned nc = ((unsigned)f->flags >> FL_MON_SHIFT) & 15U;
  int was_nc = (nc & MON_NC_ANY) != 0;
  for (int d = 0; d < 2; d++)
    nc = mon_roll_dir(e->allow16, &f->cur[d], &f->prev[d], f->max_sig[d], nc, d,
                      hgap, pgap, f->pidx & 1);
  f->flags =
      (uint16_t)((f->flags & ~(15U << FL_MON_SHIFT)) | (nc << FL_MON_SHIFT));
  if (pgap) {
    /* A new period: a full subscriber table may have room again, and an
     * advice change may reopen the early rewrites once more (before
     * classification these bits count datagrams instead). */
    f->flags &= (uint16_t)~FL_SSUB_FULL;
    if (f->flags & (FL_QUIC | FL_NOT_QUIC))
      f->flags &= (uint16_t) ~(FL_REBURST_UP | FL_REBURST_DOWN);
  }
  if (was_nc && !(nc & MON_NC_ANY))
    e->stats[f->stat].m.nonconforming--;
  f->pidx = (uint16_t)e->h_idx;
}

/* Everything a packet of a known flow may need before the common path:
 * re-resolving after a reload, classification, a new period. */
COLD static unsigned catch_up(sconed_engine *e, sconed_flow *f,
                              const sconed_pkt *p, int src_is_a) {
  if (f->gen != e->gen) {
    flow_side sd = find_side(e, f, p, src_is_a);
    resolve(e, f, src_is_a, 0, &sd);
  }
  if (!(f->flags & (FL_QUIC | FL_NOT_QUIC)))
    classify(e, f, p);
  if (f->pidx != (uint16_t)e->h_idx)
    roll(e, f);
  return f->flags;
}

COLD static void mark_flow(sconed_engine *e, sconed_flow *f, int d,
                           const sconed_pkt *p) {
  sconed_plan_metrics *m = &e->stats[f->stat].m;
  if (!(f->flags & NC_ANY))
    m->nonconforming++;
  f->flags |= NC_FLAG(d);
  m->transitions++;
  logf_flow(e, SCONED_LOG_INFO, p, "non-conforming", e->stats[f->stat].name, d);
}

/* ---------------------------------------------------------- signalling */

/* New advice may be rewritten at once ("MAY update more often
 * immediately after a change"), but only once per period and direction:
 * advice that keeps changing (a flapping capacity) would otherwise make
 * every SCONE packet a rewrite, where the draft allows a few per period.
 * Later changes in the period wait for the next rewrite slot. */
static void advice_changed(sconed_flow *f, int d, unsigned t) {
  uint16_t once = (uint16_t)(FL_REBURST_UP << d);
  if (f->target[d] == SCONE_SIGNAL_UNKNOWN || f->target[d] == t ||
      (f->flags & once))
    return;
  f->flags |= once;
  f->initial[d] = 0;
}

static void apply_advice(sconed_engine *e, sconed_flow *f, int d,
                         const sconed_sub_rt *s, const sconed_pkt *p,
                         sconed_verdict *v) {
  unsigned t = s->sig[d];
  sconed_plan_metrics *m = &e->stats[f->stat].m;
  advice_changed(f, d, t);
  uint8_t slot = (uint8_t)e->slot_idx;
  unsigned old = scone_packet_signal(p->payload);
  if (old <= t) {
    /* Already at or below our advice (another element's, or ours): the
     * endpoint has our advice, and nothing is written. */
    m->confirms++;
  } else if (f->initial[d] < e->cfg->initial_rewrites || f->slot[d] != slot) {
    int rc = p->outer_udp ? sconed_gtpu_rewrite(p->outer_udp, p->ip, p->iplen,
                                                p->payload, t)
             : p->ip      ? scone_ipudp_rewrite(p->ip, p->iplen, t, NULL)
                          : scone_packet_rewrite(p->payload, p->plen, t, NULL);
    if (rc < 0)
      return;
    if (f->initial[d] < e->cfg->initial_rewrites)
      f->initial[d]++;
    f->slot[d] = slot;
    if (rc == 1) {
      v->modified = 1;
      m->rewrites++;
    }
  } else {
    return; /* rewrite budget for this slot spent: leave the packet */
  }
  f->target[d] = (uint8_t)t;
  uint8_t *cur = &f->max_sig[d][0];
  if (*cur == SCONE_SIGNAL_UNKNOWN || t > *cur)
    *cur = (uint8_t)t;
  if (f->ssub != SCONED_NO_SSUB) {
    /* The subscriber's advice is the highest applied to any of its
     * flows. */
    uint8_t *sc = &e->ss.s[f->ssub].max_sig[d][0];
    if (*sc == SCONE_SIGNAL_UNKNOWN || t > *sc)
      *sc = (uint8_t)t;
  }
}

/* A long-header datagram on a QUIC flow: is it a SCONE packet? Returns
 * the flow's flags afterwards. */
COLD static unsigned long_header(sconed_engine *e, sconed_flow *f, int d,
                                 const sconed_sub_rt *s, const sconed_pkt *p,
                                 sconed_verdict *v) {
  if (!sconed_scone_whole(p->payload, p->plen))
    return f->flags;
  sconed_plan_metrics *m = &e->stats[f->stat].m;
  m->scone_packets++;
  if (!(f->flags & FL_SCONE)) {
    f->flags |= FL_SCONE;
    m->scone_flows++;
  }
  /* Without a known direction, advice could land on the wrong end. */
  if (!s->advise[d] || (f->flags & FL_DIR_UNKNOWN))
    return f->flags;
  /* Subscribers are tracked once a flow carries advice and has heard from
   * both ends (spoofed one-way floods never get that far). */
  if (f->ssub == SCONED_NO_SSUB &&
      (f->flags & (FL_SEEN_A | FL_SEEN_B)) == (FL_SEEN_A | FL_SEEN_B))
    sconed_subs_attach(e, f, p, d == SCONE_DIR_UPLINK ? p->src : p->dst);
  if (f->ssub != SCONED_NO_SSUB) {
    sconed_ssub *ss = &e->ss.s[f->ssub];
    if (ss->pidx != (uint32_t)e->h_idx)
      sconed_subs_roll(e, ss);
  }
  apply_advice(e, f, d, s, p, v);
  return f->flags;
}

/* --------------------------------------------------------- enforcement */

static inline void refill(int32_t tokens[2], const sconed_sub_rt *s,
                          uint32_t dt) {
  for (int d = 0; d < 2; d++) {
    if (!s->rate_fp[d])
      continue;
    int64_t t = tokens[d];
    if (dt >= (1U << 20))
      t = s->burst;
    else
      t += (int64_t)(((uint64_t)dt * s->rate_fp[d]) >> 16);
    tokens[d] = (int32_t)(t > s->burst ? s->burst : t);
  }
}

/* Charges bytes to the bucket *tokens; police or shape when it is short. */
static void enforce(sconed_engine *e, uint16_t stat, int32_t *tokens, int d,
                    const sconed_sub_rt *s, size_t bytes, scone_tstamp now,
                    sconed_verdict *v) {
  sconed_plan_metrics *m = &e->stats[stat].m;
  int64_t tok = *tokens;
  if (tok >= (int64_t)bytes) {
    *tokens = (int32_t)(tok - (int64_t)bytes);
    return;
  }
  if (s->action == SCONED_ENFORCE_SHAPE) {
    uint64_t deficit = (uint64_t)((int64_t)bytes - tok);
    uint64_t wait = (deficit * s->ns_per_byte_fp[d]) >> 16;
    if (wait <= s->max_delay && tok - (int64_t)bytes > INT32_MIN) {
      *tokens = (int32_t)(tok - (int64_t)bytes);
      v->action = SCONED_DELAY;
      v->release_at = now + wait;
      m->delays++;
      return;
    }
  }
  v->action = SCONED_DROP;
  m->drops++;
}

/* A flow that is not exempt from its plan's enforcement. A subscriber
 * over its advice is enforced on its aggregate: all its SCONE flows draw
 * from one bucket at the plan's rate. */
COLD static void enforce_flow(sconed_engine *e, sconed_flow *f, int d,
                              const sconed_sub_rt *s, sconed_ssub *ss,
                              const sconed_pkt *p, sconed_verdict *v) {
  size_t bytes = p->iplen;
  if (ss) {
    uint32_t nowu = (uint32_t)(p->now >> 20);
    refill(ss->tokens, s, nowu - ss->tok_time);
    ss->tok_time = nowu;
    enforce(e, f->stat, &ss->tokens[d], d, s, bytes, p->now, v);
  } else {
    enforce(e, f->stat, &f->tokens[d], d, s, bytes, p->now, v);
  }
}

/* The bucket a flow that does not speak SCONE is enforced on: its
 * subscriber's aggregate, as plans are enforced today, once both ends
 * have been heard (spoofed one-way floods never tie up subscriber state)
 * and the subscriber's side is known (an unknown one could be a server,
 * whose clients would then share one bucket). NULL: the flow's own
 * bucket (no such state, or no room for it). */
static sconed_ssub *subscriber_bucket(sconed_engine *e, sconed_flow *f, int d,
                                      const sconed_pkt *p) {
  if (f->flags & (FL_SCONE | FL_DIR_UNKNOWN))
    return NULL;
  if (f->ssub == SCONED_NO_SSUB &&
      (f->flags & (FL_SEEN_A | FL_SEEN_B)) == (FL_SEEN_A | FL_SEEN_B))
    sconed_subs_attach(e, f, p, d == SCONE_DIR_UPLINK ? p->src : p->dst);
  return f->ssub == SCONED_NO_SSUB ? NULL : &e->ss.s[f->ssub];
}

/* ----------------------------------------------------------- the path */

/* Every packet can take this path; the fast path below takes the common
 * ones. slot: where the batch path found the flow, or -1. */
__attribute__((noinline)) static void handle_slow(sconed_engine *e,
                                                  sconed_pkt *p, uint64_t fp,
                                                  int src_is_a, long slot,
                                                  sconed_verdict *v) {
  if (p->now < e->last_now)
    p->now = e->last_now;
  e->last_now = p->now;
  if (UNLIKELY(p->now >= e->next_tick))
    tick(e, p->now);
  uint32_t nowu = (uint32_t)(p->now >> 20);

  /* The batch path found the slot already; earlier packets of the batch
   * may have moved flows since, which the tag check catches. */
  if (slot < 0 || e->t.tags[slot] != fp)
    slot = sconed_table_find(&e->t, fp);
  sconed_flow *f;
  uint32_t dt;
  if (UNLIKELY(slot < 0)) {
    f = new_flow(e, p, fp, src_is_a, nowu);
    if (!f)
      return;
    dt = 0;
  } else {
    f = &e->t.flows[slot];
    dt = nowu - f->last_seen;
    f->last_seen = nowu;
  }
  unsigned flags = f->flags | (src_is_a ? FL_SEEN_A : FL_SEEN_B);
  f->flags = (uint16_t)flags;
  if (UNLIKELY(f->gen != e->gen || !(flags & (FL_QUIC | FL_NOT_QUIC)) ||
               f->pidx != (uint16_t)e->h_idx))
    flags = catch_up(e, f, p, src_is_a);
  if (f->npkts != 255)
    f->npkts++;
  if (flags & FL_NO_SUB) {
    e->st.no_subscriber++;
    return;
  }

  const sconed_sub_rt *s = &e->subs[f->sub];
  sconed_plan_metrics *m = &e->stats[f->stat].m;
  /* Downlink is toward the subscriber (initiator) side. */
  int d = (!!(flags & FL_INIT_A) == src_is_a) ? SCONE_DIR_UPLINK
                                              : SCONE_DIR_DOWNLINK;
  m->packets++;
  m->bytes += p->iplen;
  if (s->action != SCONED_ENFORCE_NONE)
    refill(f->tokens, s, dt);

  if (UNLIKELY(!(flags & FL_QUIC) && sconed_scone_whole(p->payload, p->plen)))
    flags = pickup(e, f, p);
  if (UNLIKELY((flags & FL_QUIC) && p->plen >= 5 && (p->payload[0] & 0x80)))
    flags = long_header(e, f, d, s, p, v);

  /* Advised: the endpoint holds advice from us for this direction, given
   * within the lookback. Such flows are left alone unless monitoring finds
   * them (or their subscriber) over it. */
  int advised = 0, nc = 0;
  sconed_ssub *ss_nc = NULL;
  if (flags & FL_SCONE) {
    uint32_t add = (uint32_t)(p->plen >> 4);
    mon_add(&f->cur[d], add);
    advised = s->advise[d] && mon_advised(f->max_sig[d]);
    nc = flags & NC_FLAG(d);
    if (advised && !nc) {
      int lim = mon_limit(f->max_sig[d]);
      if (lim >= 0 &&
          UNLIKELY(mon_over(f->cur[d], f->prev[d], e->allow16[lim]))) {
        mark_flow(e, f, d, p);
        nc = 1;
      }
    }
    if (f->ssub != SCONED_NO_SSUB) {
      sconed_ssub *ss = &e->ss.s[f->ssub];
      if (UNLIKELY(ss->pidx != (uint32_t)e->h_idx))
        sconed_subs_roll(e, ss);
      mon_add(&ss->cur[d], add);
      if (!(ss->nc & MON_NC(d))) {
        int lim = mon_limit(ss->max_sig[d]);
        if (lim >= 0 &&
            UNLIKELY(mon_over(ss->cur[d], ss->prev[d], e->allow16[lim])))
          sconed_subs_mark(e, ss, d, f->stat);
      }
      if (ss->nc & MON_NC(d))
        ss_nc = ss;
    }
  }

  if (s->action != SCONED_ENFORCE_NONE && s->rate_fp[d]) {
    int exempt = advised && !nc && !ss_nc;
    if (!exempt && (flags & (FL_ANNOUNCED | FL_SCONE)) == FL_ANNOUNCED &&
        f->npkts <= e->cfg->announce_grace)
      exempt = 1;
    if (!exempt)
      enforce_flow(e, f, d, s,
                   (flags & FL_SCONE) ? ss_nc : subscriber_bucket(e, f, d, p),
                   p, v);
  }
}

/* What the fast path needs of a packet, passed by value so that it stays
 * in registers. */
typedef struct fast_in {
  const uint8_t *payload;
  size_t plen;
  size_t bytes; /* counted and enforced: IP bytes, or UDP payload */
  scone_tstamp now;
} fast_in;

/*
 * The common packet, with no call: an established, classified flow in the
 * current period, before the next tick, not being marked non-conforming
 * by this packet (nor its subscriber), within its enforcement bucket if it
 * has one, and not a SCONE packet that needs a rewrite or new state. Everything
 * is checked before anything is written, so a packet that turns out not to be
 * common goes to handle_slow as if it had come there first. Returns 1 when
 * done; otherwise *fl is the flow or NULL. state (fast_state) says
 * what the caller knows; one word, so the common packet tests it once.
 */
static inline int fast_clock_ok(const sconed_engine *e, scone_tstamp now) {
  return now >= e->last_now && now < e->next_tick;
}

enum {
  /* *fl may be stale: only the slow path moves flows, so a batch needs
   * the tag check only after it ran. */
  FAST_RECHECK = 1,
  /* fast_clock_ok failed (checked once per batch: all its packets share
   * one time): the slow path must tick. */
  FAST_NO_CLOCK = 2,
};

static inline unsigned fast_state(const sconed_engine *e, scone_tstamp now,
                                  unsigned recheck) {
  return recheck | (fast_clock_ok(e, now) ? 0U : (unsigned)FAST_NO_CLOCK);
}

/* The flow's packet count after this packet, saturating. Computed again
 * where it is needed rather than once: the flow's line is in L1 by then,
 * and a value kept live across the whole fast path was spilled to the
 * stack in the batch loop. */
static inline unsigned fast_npkts(const sconed_flow *f) {
  return f->npkts + (f->npkts != 255);
}

__attribute__((always_inline)) static inline int
handle_fast(sconed_engine *e, fast_in p, uint64_t fp, int src_is_a,
            sconed_flow **fl, unsigned state) {
  sconed_flow *f = *fl;
  if (UNLIKELY(state)) {
    if (state & FAST_NO_CLOCK)
      return 0;
    if (!f || e->t.tags[f - e->t.flows] != fp) {
      long i = sconed_table_find(&e->t, fp);
      f = i >= 0 ? &e->t.flows[i] : NULL;
      *fl = f;
    }
  }
  if (!f)
    return 0;
  unsigned flags = f->flags;
  if (sconed_flow_epoch(f) != e->epoch || !(flags & (FL_QUIC | FL_NOT_QUIC)))
    return 0;
  uint32_t nowu = (uint32_t)(p.now >> 20);
  /* src_is_a is 0 or 1: shifts and xors instead of selects. */
  _Static_assert(FL_SEEN_B == FL_SEEN_A << 1 && FL_INIT_A == 1 &&
                     SCONE_DIR_UPLINK == 0,
                 "the flag arithmetic below");
  flags |= (unsigned)FL_SEEN_B >> src_is_a;
  if (flags & FL_NO_SUB) {
    e->last_now = p.now;
    f->last_seen = nowu;
    f->flags = (uint16_t)flags;
    f->npkts = fast_npkts(f);
    e->st.no_subscriber++;
    return 1;
  }
  const sconed_sub_rt *s = &e->subs[f->sub];
  /* Unsigned: it indexes arrays and shifts masks, and a signed int was
   * sign-extended into a second copy that the batch loop kept on the
   * stack. */
  unsigned d = (flags & FL_INIT_A) ^ (unsigned)src_is_a;
  /* A SCONE packet that changes nothing but counters: its flow already
   * has this period's advice, and no rewrite is due or it is a confirm. */
  /* Above the 16 stored bits of flags: a SCONE packet, and one that
   * confirms our advice. In flags rather than a variable of their own,
   * which the batch loop had to keep on the stack until the end. */
  enum { FAST_SCONE = 1U << 16, FAST_CONFIRM = 1U << 17 };
  _Static_assert(sizeof(f->flags) == 2, "flags are 16 bits");
  if (sconed_scone_whole(p.payload, p.plen)) {
    /* Not QUIC so far (pickup), or QUIC and not yet SCONE-active. */
    if ((flags & (FL_QUIC | FL_SCONE)) != (FL_QUIC | FL_SCONE))
      return 0;
    flags |= FAST_SCONE;
    if (s->advise[d]) {
      unsigned t = s->sig[d];
      if (f->target[d] != t)
        return 0;
      if (f->ssub == SCONED_NO_SSUB && e->ss.nbuckets &&
          !(flags & FL_SSUB_FULL) &&
          (flags & (FL_SEEN_A | FL_SEEN_B)) == (FL_SEEN_A | FL_SEEN_B))
        return 0; /* the subscriber is to be tracked */
      if (scone_packet_signal(p.payload) <= t) {
        unsigned ms0 = f->max_sig[d][0];
        if (ms0 == SCONE_SIGNAL_UNKNOWN || ms0 < t)
          return 0;
        if (f->ssub != SCONED_NO_SSUB) {
          ms0 = e->ss.s[f->ssub].max_sig[d][0];
          if (ms0 == SCONE_SIGNAL_UNKNOWN || ms0 < t)
            return 0;
        }
        flags |= FAST_CONFIRM;
      } else if (f->initial[d] < e->cfg->initial_rewrites ||
                 f->slot[d] != (uint8_t)e->slot_idx) {
        return 0; /* a rewrite is due */
      }
    }
  }
  uint32_t add = (uint32_t)(p.plen >> 4);
  sconed_ssub *ss = NULL;
  int advised = 0;
  if (flags & FL_SCONE) {
    /* A window this packet takes over its allowance is marked by the
     * slow path. */
    advised = s->advise[d] && mon_advised(f->max_sig[d]);
    if (advised && !(flags & NC_FLAG(d))) {
      int lim = mon_limit(f->max_sig[d]);
      if (lim >= 0 && (uint64_t)f->cur[d] + add + f->prev[d] > e->allow16[lim])
        return 0;
    }
    if (f->ssub != SCONED_NO_SSUB) {
      ss = &e->ss.s[f->ssub];
      if (ss->pidx != (uint32_t)e->h_idx || (ss->nc & MON_NC(d)))
        return 0;
      int lim = mon_limit(ss->max_sig[d]);
      if (lim >= 0 &&
          (uint64_t)ss->cur[d] + add + ss->prev[d] > e->allow16[lim])
        return 0;
    }
  }
  int32_t tokens[2];
  if (s->action != SCONED_ENFORCE_NONE) {
    int exempt = advised && !(flags & NC_FLAG(d));
    tokens[0] = f->tokens[0];
    tokens[1] = f->tokens[1];
    refill(tokens, s, nowu - f->last_seen);
    /* A flow that does not speak SCONE draws from its subscriber's
     * bucket (subscriber_bucket). */
    sconed_ssub *agg = NULL;
    int32_t agg_tokens[2];
    if (s->rate_fp[d] && !exempt &&
        !((flags & (FL_ANNOUNCED | FL_SCONE)) == FL_ANNOUNCED &&
          fast_npkts(f) <= e->cfg->announce_grace)) {
      int32_t *bucket = tokens;
      if (!(flags & (FL_SCONE | FL_DIR_UNKNOWN))) {
        if (f->ssub != SCONED_NO_SSUB) {
          agg = &e->ss.s[f->ssub];
          agg_tokens[0] = agg->tokens[0];
          agg_tokens[1] = agg->tokens[1];
          refill(agg_tokens, s, nowu - agg->tok_time);
          bucket = agg_tokens;
        } else if (e->ss.nbuckets && !(flags & FL_SSUB_FULL) &&
                   (flags & (FL_SEEN_A | FL_SEEN_B)) ==
                       (FL_SEEN_A | FL_SEEN_B)) {
          return 0; /* to be tied to its subscriber's bucket */
        }
      }
      if (bucket[d] < (int64_t)p.bytes)
        return 0; /* police or shape: the slow path */
      bucket[d] -= (int32_t)p.bytes;
    }
    f->tokens[0] = tokens[0];
    f->tokens[1] = tokens[1];
    if (agg) {
      agg->tokens[0] = agg_tokens[0];
      agg->tokens[1] = agg_tokens[1];
      agg->tok_time = nowu;
    }
  }

  e->last_now = p.now;
  f->last_seen = nowu;
  f->flags = (uint16_t)flags;
  f->npkts = fast_npkts(f);
  /* f->stat is s->stat here: the flow is resolved in this generation. */
  sconed_plan_metrics *m = s->m;
  m->packets++;
  m->bytes += p.bytes;
  if (flags & FAST_SCONE) {
    m->scone_packets++;
    m->confirms += (flags & FAST_CONFIRM) != 0;
  }
  if (flags & FL_SCONE) {
    mon_add(&f->cur[d], add);
    if (ss)
      mon_add(&ss->cur[d], add);
  }
  return 1;
}

static inline void pkt_from_fast(sconed_pkt *p, uint8_t *pkt, size_t len,
                                 const sconed_fast_udp *u, scone_tstamp now) {
  p->ipv6 = u->ipv6;
  p->src = u->src;
  p->dst = u->dst;
  p->sport = ntohs(u->sport_n);
  p->dport = ntohs(u->dport_n);
  p->payload = pkt + u->payload_off;
  p->plen = u->payload_len;
  p->ip = pkt;
  p->iplen = len;
  p->now = now;
  p->outer_udp = NULL;
  p->sub_salt = 0;
}

/* The packet the library's parse u describes (ip: its IP header, iplen
 * bytes), not tunnelled; the time is set already. */
static void pkt_from_ipudp(sconed_pkt *p, const scone_ipudp *u, uint8_t *ip,
                           size_t iplen) {
  p->ipv6 = u->ip_version == 6;
  p->src = u->src;
  p->dst = u->dst;
  p->sport = u->sport;
  p->dport = u->dport;
  p->payload = ip + u->payload_off;
  p->plen = u->payload_len;
  p->ip = ip;
  p->iplen = iplen;
  p->outer_udp = NULL;
  p->sub_salt = 0;
}

/* The subscriber packet a GTP-U datagram carries (outer: its parse), in
 * place of the outer one in *p. Returns 1 when it goes on as the inner
 * packet, 0 when the datagram passes untouched (and is counted). */
COLD static int gtpu_decap(sconed_engine *e, uint8_t *pkt,
                           const scone_ipudp *outer, sconed_pkt *p) {
  sconed_gtpu g;
  uint8_t *gp = pkt + outer->payload_off;
  switch (sconed_gtpu_parse(&g, gp, outer->payload_len)) {
  case SCONED_GTPU_TPDU:
    break;
  case SCONED_GTPU_ECHO:
    e->st.gtpu_echo++;
    return 0;
  case SCONED_GTPU_OTHER:
    e->st.gtpu_other++;
    return 0;
  default:
    e->st.gtpu_malformed++;
    return 0;
  }
  uint8_t *in = gp + g.inner_off;
  scone_ipudp u;
  int rc = scone_ipudp_parse(&u, in, g.inner_len);
  if (rc == SCONE_ERR_NOT_UDP || rc == SCONE_ERR_FRAGMENT ||
      (rc == 0 && u.is_fragment)) {
    e->st.gtpu_not_udp++;
    return 0;
  }
  /* The T-PDU is a whole packet: an IP length past it is not a capture
   * cut short, as it may be for a plain packet, but a broken tunnel. (A
   * parsed packet holds its IP header.) */
  size_t ip_len = 0;
  if (rc == 0)
    ip_len = u.ip_version == 6 ? 40 + (size_t)sconed_be16(in + 4)
                               : (size_t)sconed_be16(in + 2);
  if (rc < 0 || ip_len > g.inner_len) {
    e->st.gtpu_malformed++;
    return 0;
  }
  e->st.gtpu_packets++;
  pkt_from_ipudp(p, &u, in, ip_len);
  p->outer_udp = pkt + outer->udp_off;
  /* Bit 32 keeps TEID 0 from meaning "no salt". */
  p->sub_salt = e->cfg->gtpu_teid ? (uint64_t)1 << 32 | g.teid : 0;
  return 1;
}

/* A tunnelled flow's fingerprint: never that of a plain flow with the same
 * tuple, and with gtpu_teid one per TEID (sub_salt). */
static uint64_t tunnel_fingerprint(const sconed_engine *e, uint64_t fp,
                                   const sconed_pkt *p) {
  return sconed_mix(fp ^ e->t.key[4], p->sub_salt ^ e->t.key[5]) | 1;
}

/* The uncommon shapes (options, extension headers, fragments, errors):
 * the library's full parser. Returns 1 when the packet goes on. */
COLD static int parse_slow(sconed_engine *e, uint8_t *pkt, size_t len,
                           scone_tstamp now, sconed_pkt *p) {
  scone_ipudp u;
  int rc = scone_ipudp_parse(&u, pkt, len);
  if (rc == SCONE_ERR_NOT_UDP) {
    e->st.not_udp++;
    return 0;
  }
  int tunnel =
      rc == 0 && (u.sport == SCONED_GTPU_PORT || u.dport == SCONED_GTPU_PORT);
  if (rc == SCONE_ERR_FRAGMENT || (rc == 0 && u.is_fragment)) {
    e->st.fragments++;
    e->st.gtpu_fragments += (uint64_t)tunnel;
    return 0;
  }
  if (rc < 0) {
    e->st.malformed++;
    return 0;
  }
  p->now = now;
  if (tunnel)
    return gtpu_decap(e, pkt, &u, p);
  pkt_from_ipudp(p, &u, pkt, len);
  return 1;
}

static inline void verdict_clear(sconed_verdict *v) {
  /* SCONED_PASS is 0: one zeroing store of the whole record (the three
   * field stores stay three instructions). */
  _Static_assert(SCONED_PASS == 0, "an all-zero verdict passes");
  *v = (sconed_verdict){0};
}

static inline void verdict_init(sconed_engine *e, sconed_verdict *v) {
  verdict_clear(v);
  e->st.packets++;
}

/* A packet that is not the common shape, or not a common packet; f is
 * its flow if known. */
__attribute__((noinline)) static void
process_slow(sconed_engine *e, uint8_t *pkt, size_t len, scone_tstamp now,
             const sconed_fast_udp *u, uint64_t fp, int src_is_a,
             const sconed_flow *f, sconed_verdict *v) {
  long slot = f ? f - e->t.flows : -1;
  sconed_pkt p;
  if (u) {
    pkt_from_fast(&p, pkt, len, u, now);
  } else {
    if (!parse_slow(e, pkt, len, now, &p))
      return;
    fp = sconed_fingerprint(e->t.key, p.ipv6, p.src, p.dst, htons(p.sport),
                            htons(p.dport), &src_is_a);
    if (p.outer_udp) {
      /* The inner packet of a tunnel is as common as any: the fast path
       * first. */
      fp = tunnel_fingerprint(e, fp, &p);
      sconed_flow *fl = NULL;
      fast_in in = {p.payload, p.plen, p.iplen, now};
      if (handle_fast(e, in, fp, src_is_a, &fl,
                      fast_state(e, now, FAST_RECHECK)))
        return;
      slot = fl ? fl - e->t.flows : -1;
    }
  }
  handle_slow(e, &p, fp, src_is_a, slot, v);
}

static inline uint64_t fast_fingerprint(const sconed_engine *e,
                                        const sconed_fast_udp *u,
                                        int *src_is_a) {
  return sconed_fingerprint(e->t.key, u->ipv6, u->src, u->dst, u->sport_n,
                            u->dport_n, src_is_a);
}

void sconed_engine_process_ip(sconed_engine *e, uint8_t *pkt, size_t len,
                              scone_tstamp now, sconed_verdict *v) {
  verdict_init(e, v);
  sconed_fast_udp u;
  if (!sconed_fast_parse(pkt, len, &u)) {
    process_slow(e, pkt, len, now, NULL, 0, 0, NULL, v);
    return;
  }
  int a;
  uint64_t fp = fast_fingerprint(e, &u, &a);
  sconed_flow *f = NULL;
  fast_in in = {pkt + u.payload_off, u.payload_len, len, now};
  if (!handle_fast(e, in, fp, a, &f, fast_state(e, now, FAST_RECHECK)))
    process_slow(e, pkt, len, now, &u, fp, a, f, v);
}

/* The batch's first pass, one packet of a family: ipv6 is a constant at
 * both call sites, so each loop is what a hand-written copy would be. An
 * IPv4 packet here has passed sconed_fast_is4. */
__attribute__((always_inline)) static inline void
batch_parse(const sconed_engine *e, const uint64_t *tags, uint64_t nbuckets,
            uint8_t *pkt, size_t len, int ipv6, uint64_t *fp, uint32_t *b1,
            uint8_t **pay, uint32_t *plen, int *a) {
  sconed_fast_udp u;
  if (ipv6 ? sconed_fast_parse6(pkt, len, &u)
           : sconed_fast_parse4_rest(pkt, len, &u)) {
    *fp = sconed_fingerprint(e->t.key, ipv6, u.src, u.dst, u.sport_n, u.dport_n,
                             a);
    *pay = pkt + u.payload_off;
    *plen = u.payload_len;
    *b1 = (uint32_t)sconed_tags_prefetch(tags, nbuckets, *fp);
  } else {
    *fp = 0;
  }
}

/* Passes over a group, each giving the memory system time to bring in
 * what the next needs: parse, hash and prefetch the first bucket's tags
 * (IPv4 and IPv6 apart); find the slots and prefetch the flows; prefetch
 * the subscribers' state lines; then the real work, reusing the slots
 * found (flows may have moved since, which handle_fast's tag check
 * catches). */
#define BATCH 32
_Static_assert(BATCH <= 32, "one bit per packet in a 32-bit mask");
void sconed_engine_process_ip_batch(sconed_engine *e, uint8_t *const *pkts,
                                    const size_t *lens, size_t n,
                                    scone_tstamp now, sconed_verdict *v) {
  /* Only what the last pass needs is kept per packet (fingerprint 0: not
   * the common shape); the rare packet that leaves the fast path is
   * parsed again rather than every packet storing its whole parse. */
  uint64_t fp[BATCH];
  sconed_flow *fl[BATCH];
  uint8_t *pay[BATCH];
  /* b1: the first bucket's start (a table has at most 2^32 slots). */
  uint32_t plen[BATCH], b1[BATCH];
  int a[BATCH];
  /* Fixed for the engine's life: loaded once, not per packet. */
  const uint64_t *tags = e->t.tags;
  sconed_flow *flows = e->t.flows;
  const uint64_t nbuckets = e->t.nbuckets;
  for (size_t base = 0; base < n; base += BATCH) {
    size_t m = n - base < BATCH ? n - base : BATCH;
    uint8_t *const *pk = pkts + base;
    /* The packets of each family as a bit mask (built without a branch on
     * the family), walked lowest bit first: the loops below then branch
     * the same way every time, where one loop over a random mix of IPv4
     * and IPv6 mispredicted about every other packet. Only parsing,
     * hashing and prefetching go in this order; state changes keep
     * arrival order. */
    uint32_t m4 = 0;
    for (size_t i = 0; i < m; i++) {
      size_t len = lens[base + i];
      unsigned b0 = len ? pk[i][0] : 0;
      /* sconed_fast_is4, without its branch. */
      m4 |= (uint32_t)((len >= 28) & (b0 == 0x45)) << i;
    }
    uint32_t m6 = ~m4 & (uint32_t)(UINT32_MAX >> (BATCH - m));
    for (; m4; m4 &= m4 - 1) {
      size_t i = (size_t)__builtin_ctz(m4);
      batch_parse(e, tags, nbuckets, pk[i], lens[base + i], 0, &fp[i], &b1[i],
                  &pay[i], &plen[i], &a[i]);
    }
    for (; m6; m6 &= m6 - 1) {
      size_t i = (size_t)__builtin_ctz(m6);
      batch_parse(e, tags, nbuckets, pk[i], lens[base + i], 1, &fp[i], &b1[i],
                  &pay[i], &plen[i], &a[i]);
    }
    for (size_t i = 0; i < m; i++) {
      long s = fp[i] ? sconed_table_find_at(tags, nbuckets, b1[i], fp[i]) : -1;
      fl[i] = s >= 0 ? &flows[s] : NULL;
      __builtin_prefetch(fl[i], 1); /* a prefetch of NULL never faults */
    }
    if (e->ss.nbuckets) {
      /* Half the flows have no subscriber state, at random: rather than
       * take a branch that would mispredict every other time, they
       * prefetch the line just before the states (soon cached; a
       * prefetch never faults). Adding 1 in 24 bits turns NO_SSUB into
       * 0 in one step where a compare and mask took four. The address
       * is formed as an integer: it may lie outside the array. */
      _Static_assert(SCONED_NO_SSUB == 0xffffffU, "the wrap below");
      const uintptr_t ssb = (uintptr_t)e->ss.s - sizeof(*e->ss.s);
      for (size_t i = 0; i < m; i++)
        if (fl[i]) {
          uint32_t ss = (fl[i]->ssub + 1U) & 0xffffffU;
          __builtin_prefetch((const void *)(ssb + ss * sizeof(*e->ss.s)), 1);
        }
    }
    /* One clock for the whole batch: checked once, and again only after
     * the slow path (which may tick). */
    unsigned state = fast_state(e, now, 0);
    e->st.packets += m;
    for (size_t i = 0; i < m; i++) {
      sconed_verdict *vi = &v[base + i];
      size_t len = lens[base + i];
      verdict_clear(vi);
      if (!fp[i]) {
        process_slow(e, pk[i], len, now, NULL, 0, 0, NULL, vi);
        state = fast_state(e, now, FAST_RECHECK);
        continue;
      }
      fast_in in = {pay[i], plen[i], len, now};
      if (!handle_fast(e, in, fp[i], a[i], &fl[i], state)) {
        /* Read again from the arrays (volatile: the compiler would reuse
         * the copies in registers) so that the fingerprint and side are
         * not kept live, or spilled, across the whole fast path for the
         * rare packet that leaves it. */
        uint64_t fpi = ((volatile uint64_t *)fp)[i];
        int ai = ((volatile int *)a)[i];
        sconed_fast_udp u;
        sconed_fast_parse(pk[i], len, &u);
        process_slow(e, pk[i], len, now, &u, fpi, ai, fl[i], vi);
        state = fast_state(e, now, FAST_RECHECK);
      }
    }
  }
}

void sconed_engine_process_udp(sconed_engine *e, const sconed_tuple *t,
                               uint8_t *payload, size_t len, scone_tstamp now,
                               sconed_verdict *v) {
  verdict_init(e, v);
  if (!t || (t->ip_version != 4 && t->ip_version != 6) || (!payload && len)) {
    e->st.malformed++;
    return;
  }
  sconed_pkt p = {t->ip_version == 6,
                  t->src,
                  t->dst,
                  t->sport,
                  t->dport,
                  payload,
                  len,
                  NULL,
                  len,
                  now,
                  NULL,
                  0};
  int src_is_a;
  uint64_t fp = sconed_fingerprint(e->t.key, p.ipv6, p.src, p.dst,
                                   htons(p.sport), htons(p.dport), &src_is_a);
  sconed_flow *f = NULL;
  fast_in in = {payload, len, len, now};
  if (!handle_fast(e, in, fp, src_is_a, &f, fast_state(e, now, FAST_RECHECK)))
    handle_slow(e, &p, fp, src_is_a, f ? f - e->t.flows : -1, v);
}

void sconed_engine_process_tcp(sconed_engine *e, const sconed_tuple *t,
                               size_t iplen, scone_tstamp now,
                               sconed_verdict *v) {
  verdict_init(e, v);
  if (!t || (t->ip_version != 4 && t->ip_version != 6)) {
    e->st.malformed++;
    return;
  }
  /* An empty payload: the QUIC and SCONE logic sees nothing to read, and
   * the flow is enforced as one that is not QUIC; no IP header to rewrite
   * (ip NULL), iplen the bytes charged. Not NULL: the readers may pass
   * it to memcmp and the like with length 0. */
  static uint8_t none[1];
  sconed_pkt p = {t->ip_version == 6,
                  t->src,
                  t->dst,
                  t->sport,
                  t->dport,
                  none,
                  0,
                  NULL,
                  iplen,
                  now,
                  NULL,
                  0};
  int src_is_a;
  uint64_t fp = sconed_fingerprint(e->t.key, p.ipv6, p.src, p.dst,
                                   htons(p.sport), htons(p.dport), &src_is_a);
  /* Never the fingerprint of a UDP flow on the same tuple, nor of a
   * tunnel's (tunnel_fingerprint keys the other way round). */
  fp = sconed_mix(fp ^ e->t.key[5], e->t.key[4]) | 1;
  handle_slow(e, &p, fp, src_is_a, -1, v);
}
