/*
 * sconed's XDP fast path: counts payload bytes per flow and direction, and
 * lowers the signal of SCONE packets on QUIC flows to the advice user
 * space publishes per subscriber prefix, with the engine's rules
 * (element/engine.c): the same classification of a flow as QUIC, the same
 * choice of the subscriber side, the same rewrite budget (early rewrites,
 * then one per rewrite slot) and the same incremental checksum. Every
 * packet it does not understand (not IP/UDP, fragments, malformed or
 * truncated headers, GTP-U) passes untouched; it never raises a signal,
 * never writes one into a packet that is not a SCONE packet of a QUIC
 * flow, and never builds a packet. The one drop is the policer user space
 * arms for a non-conforming subscriber.
 *
 * What it leaves to the engine (docs/xdp.md): picking up a flow first seen
 * mid-way whose endpoints grease the fixed bit, GTP-U, shaping, config
 * reloads re-resolving live flows. Per-subscriber sums are user space's:
 * the program notes each flow's subscriber key (fsubs) and enforces the
 * verdicts (spolice).
 */
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

#include "scone_xdp.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The flow table: an array of 4-way buckets, looked up by the verifier's
 * inlined array access (no helper call, no per-entry header): 32 bytes a
 * flow. User space sizes it. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(map_flags, BPF_F_MMAPABLE); /* user space's monitoring reads it */
  __uint(max_entries, 16384);
  __type(key, __u32);
  __type(value, struct xdp_bucket4);
} flows SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, 65536);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct xdp_sub_key);
  __type(value, struct xdp_sub);
} subs SEC(".maps");

/* Per bucket of the flow table, per way: the flow's subscriber key,
 * written when the flow is made and read by user space's monitoring to
 * sum a subscriber's flows (4 bytes a slot, back to back: an array's
 * values are 8-byte aligned, so one value per bucket). Beside the flows,
 * not in them, so the common packet's 32-byte record stays as it is;
 * 0: none. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(map_flags, BPF_F_MMAPABLE);
  __uint(max_entries, 16384);
  __type(key, __u32);
  __type(value, struct xdp_fsubs4);
} fsubs SEC(".maps");

/* Subscribers user space found non-conforming, by key: one bucket each,
 * shared by their SCONE flows (the engine's aggregate bucket). */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, __u32);
  __type(value, struct xdp_spolice);
} spolice SEC(".maps");

/* Flows user space found non-conforming (its monitoring loop, after the
 * engine's rules), by the flow's fingerprint: each has a token bucket at
 * its subscriber's enforcement rate. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, __u64);
  __type(value, struct xdp_police);
} pflows SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct xdp_cfg);
} cfg SEC(".maps");

/* Per CPU: the common packet touches no shared line but its flow's. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, XS_MAX);
  __type(key, __u32);
  __type(value, __u64);
} stats SEC(".maps");

#define SCONE_VERSION_BITS 0x6f7dc0fdU
#define SCONE_PACKET_MIN_LEN 7
#define SHORT_MIN_LEN 21
#define CLASSIFY_PACKETS 4
#define CLASSIFY_NEEDED 3
#define MAX_EXT_HEADERS 8

static __always_inline void count(__u32 i) {
  __u64 *v = bpf_map_lookup_elem(&stats, &i);
  if (v)
    *v += 1;
}

static __always_inline __u32 be16(const __u8 *p) {
  return (__u32)p[0] << 8 | p[1];
}

static __always_inline __u32 be32(const __u8 *p) {
  return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

/* The first bytes of a UDP payload, copied out of the packet so the tests
 * below read a stack buffer the verifier knows (plen says how many are
 * valid): the first byte, the version and the DCID length; the SCID
 * length, wherever it is, is read on its own (load_head). */
#define HEAD 8
struct head {
  __u8 b[HEAD];
  __u32 plen;
};

/* Copies the first HEAD bytes of the payload (at pl_off, plen bytes) and
 * finds the SCID length byte of a long header, wherever it is (0x100:
 * past the datagram, so no parse succeeds). Returns 0 or -1. */
static __always_inline int load_head(struct xdp_md *ctx, __u8 *pl, __u8 *end,
                                     __u32 pl_off, __u32 plen, __u32 b0,
                                     struct head *h, __u32 *sl_byte) {
  __u64 ncopy = plen < HEAD ? plen : HEAD;
  h->plen = plen;
  __builtin_memset(h->b, 0, HEAD);
  /* Keep the bounds check where the verifier can see it. */
  asm volatile("" : "+r"(ncopy));
  if (ncopy > 0 && ncopy <= HEAD &&
      bpf_xdp_load_bytes(ctx, pl_off, h->b, ncopy) < 0)
    return -1;
  *sl_byte = 0;
  if (plen >= 7 && (b0 & 0x80)) {
    __u32 at = 6 + (__u32)h->b[5 & (HEAD - 1)];
    if (at < plen) {
      __u8 *q = pl + (at & 0x1ff);
      if (q + 1 > end)
        return -1;
      *sl_byte = *q;
    } else {
      *sl_byte = 0x100;
    }
  }
  return 0;
}

/* classify.h: sconed_version_limits_cids. */
static __always_inline int version_limits_cids(__u32 v) {
  return v == 1 || v == 0x6b3343cfU || (v & 0xffffff00U) == 0xff000000U ||
         (v & 0x7fffffffU) == SCONE_VERSION_BITS;
}

/* The CID lengths of a long header within plen (scone_long_hdr_cids);
 * -1 when they run past it. Lengths above HEAD-8 cannot be checked
 * against the copied bytes, but only the lengths are read. */
static __always_inline int long_cids(const struct head *h, __u32 *dl,
                                     __u32 *sl) {
  if (h->plen < 6)
    return -1;
  __u32 d = h->b[5];
  if (h->plen - 6 < d)
    return -1;
  if (h->plen < 7 + d)
    return -1;
  /* The SCID length byte may lie beyond the copy: the caller copies it
   * separately (scid_len). */
  *dl = d;
  (void)sl;
  return 0;
}

/* classify.h: sconed_plausible_long, with the SCID length byte (at 6 +
 * dcidlen) given. */
static __always_inline int plausible_long(const struct head *h, __u32 sl_byte) {
  __u32 dl, sl;
  if (!(h->b[0] & 0x80) || long_cids(h, &dl, &sl) < 0)
    return 0;
  if (h->plen - 7 - dl < sl_byte)
    return 0;
  if (version_limits_cids(be32(h->b + 1)) && (dl > 20 || sl_byte > 20))
    return 0;
  return 1;
}

static __always_inline int looks_quic(const struct head *h, __u32 sl_byte) {
  if (h->plen == 0)
    return 0;
  if (h->b[0] & 0x80)
    return plausible_long(h, sl_byte);
  return (h->b[0] & 0x40) && h->plen >= SHORT_MIN_LEN;
}

static __always_inline int is_scone_hdr(const struct head *h) {
  return h->plen >= 5 && (h->b[0] & 0x80) &&
         (be32(h->b + 1) & 0x7fffffffU) == SCONE_VERSION_BITS;
}

/* classify.h: sconed_scone_whole. */
static __always_inline int scone_whole(const struct head *h, __u32 sl_byte) {
  if (h->plen < SCONE_PACKET_MIN_LEN || !is_scone_hdr(h))
    return 0;
  __u32 dl = h->b[5];
  return h->plen - SCONE_PACKET_MIN_LEN >= dl &&
         h->plen - SCONE_PACKET_MIN_LEN - dl >= sl_byte;
}

#define PICKUP_NEVER 0xff
#define COAL 128

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u8[COAL]);
} scratch SEC(".maps");

/* classify.h sconed_scone_coalesced, on a copy of the datagram's first
 * COAL bytes (a SCONE header with two 20-byte CIDs and the long header
 * after it fit): the SCONE packet's DCID is the next packet's, its SCID
 * the next one's SCID or empty before a short header. Only datagrams led
 * by a whole SCONE packet on a flow not taken for QUIC get here. */
__noinline int scone_coalesced(struct xdp_md *ctx, __u32 pl_off, __u32 plen) {
  /* Per CPU scratch, not the stack: the call chain has no room for it. */
  __u32 zero = 0;
  __u8 *b = bpf_map_lookup_elem(&scratch, &zero);
  if (!b)
    return 0;
  __builtin_memset(b, 0, COAL);
  __u64 n = plen < COAL ? plen : COAL;
  /* Keep the bounds check where the verifier can see it. */
  asm volatile("" : "+r"(n));
  if (n == 0 || n > COAL || bpf_xdp_load_bytes(ctx, pl_off, b, n) < 0)
    return 0;
  __u32 dl = b[5];
  if (dl > 20)
    return 0;
  __u32 sl = b[(6 + dl) & (COAL - 1)];
  __u32 off = 7 + dl + sl;
  if (sl > 20 || off >= plen)
    return 0;
  __u32 rest = plen - off;
  __u8 q0 = b[off & (COAL - 1)];
  if (!(q0 & 0x80)) {
    if (sl != 0 || rest < SHORT_MIN_LEN + dl)
      return 0;
    for (__u32 i = 0; i < 20; i++) {
      if (i >= dl)
        break;
      if (b[(off + 1 + i) & (COAL - 1)] != b[(6 + i) & (COAL - 1)])
        return 0;
    }
    return 1;
  }
  if (rest < 7 + dl + sl || b[(off + 5) & (COAL - 1)] != dl)
    return 0;
  for (__u32 i = 0; i < 20; i++) {
    if (i >= dl)
      break;
    if (b[(off + 6 + i) & (COAL - 1)] != b[(6 + i) & (COAL - 1)])
      return 0;
  }
  if (b[(off + 6 + dl) & (COAL - 1)] != sl)
    return 0;
  for (__u32 i = 0; i < 20; i++) {
    if (i >= sl)
      break;
    if (b[(off + 7 + dl + i) & (COAL - 1)] != b[(7 + dl + i) & (COAL - 1)])
      return 0;
  }
  /* Not another SCONE packet (sconed_scone_whole of the rest). */
  if (rest >= SCONE_PACKET_MIN_LEN) {
    __u32 v = (__u32)b[(off + 1) & (COAL - 1)] << 24 |
              (__u32)b[(off + 2) & (COAL - 1)] << 16 |
              (__u32)b[(off + 3) & (COAL - 1)] << 8 | b[(off + 4) & (COAL - 1)];
    if ((v & 0x7fffffffU) == SCONE_VERSION_BITS) {
      __u32 dl2 = b[(off + 5) & (COAL - 1)];
      if (rest - SCONE_PACKET_MIN_LEN >= dl2 &&
          rest - SCONE_PACKET_MIN_LEN - dl2 >= b[(off + 6 + dl2) & (COAL - 1)])
        return 0;
    }
  }
  return 1;
}

/* engine.c server_port. */
static __always_inline int server_port(__u32 port) {
  return port < 1024 || port == 4433 || port == 8443;
}

static __always_inline __u16 csum_adjust(__u16 csum, __u16 old_word,
                                         __u16 new_word) {
  /* lib/internal.h scone_udp_csum_adjust: RFC 1624 eqn. 3, zero stays
   * zero, a computed zero is sent as 0xffff. */
  if (csum == 0)
    return 0;
  __u32 sum = (__u16)~csum + (__u32)(__u16)~old_word + new_word;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  __u16 c = (__u16)~sum;
  return c == 0 ? 0xffff : c;
}

/* Looks an address up in the subscriber trie (IPv4 as IPv4-mapped). */
/* Looks an address (IPv4 as IPv4-mapped) up in the subscriber trie. */
static __always_inline struct xdp_sub *sub_lookup(const __u8 *addr) {
  struct xdp_sub_key k = {.prefixlen = 128};
  __builtin_memcpy(k.addr, addr, 16);
  return bpf_map_lookup_elem(&subs, &k);
}

/* engine.c refill: both directions, in whole 2^20 ns, so that the same
 * packets at the same times get the same verdicts. */
static __always_inline void refill(__s64 *tokens, const struct xdp_sub *s,
                                   __u32 dt) {
#pragma unroll
  for (int d = 0; d < 2; d++) {
    __u64 rate = s->rate_fp[d];
    if (!rate)
      continue;
    __s64 t = tokens[d];
    if (dt >= (1U << 20))
      t = s->burst;
    else
      t += (__s64)(((__u64)dt * rate) >> 16);
    tokens[d] = t > (__s64)s->burst ? (__s64)s->burst : t;
  }
}

/* The policer: engine.c enforce_flow without the shaper, on a bucket at
 * the subscriber's enforcement rate, full when first used. last holds
 * the time of the last refill in 2^20 ns, with bit 32 set once started.
 * Returns 1 to drop. */
static __always_inline int charge(__s64 *tokens, __u64 *last, __u32 dirs,
                                  const struct xdp_sub *s, int d, __u32 bytes,
                                  __u64 now) {
  __u64 rate = s->rate_fp[d & 1];
  if (!rate || !(dirs & (1U << (d & 1))))
    return 0; /* no enforcement in this direction */
  __u32 nowu = (__u32)(now >> 20);
  if (!*last) {
    tokens[0] = tokens[1] = s->burst;
    *last = (1ULL << 32) | nowu;
  }
  refill(tokens, s, nowu - (__u32)*last);
  *last = (1ULL << 32) | nowu;
  __s64 t = tokens[d & 1];
  if (t < (__s64)bytes)
    return 1;
  tokens[d & 1] = t - bytes;
  return 0;
}

/* A subscriber's key: a keyed hash of its address cut to kplen bits of
 * the IPv4-mapped form, as the engine keys its subscriber table (an IPv4
 * address, an IPv6 /64 or its entry's longer prefix). Never 0. */
static __always_inline __u32 sub_key(const __u8 *addr, __u32 kplen,
                                     __u64 seed) {
  __u64 h = seed ^ 0x9e3779b97f4a7c15ULL;
#pragma unroll
  for (int i = 0; i < 4; i++) {
    __u32 w = be32(addr + 4 * i);
    int bits = (int)kplen - 32 * i;
    if (bits <= 0)
      w = 0;
    else if (bits < 32)
      w &= ~0U << (32 - bits);
    h = (h ^ w) * 0xff51afd7ed558ccdULL;
    h ^= h >> 29;
  }
  h ^= h >> 32;
  return (__u32)h | 1;
}

struct pcache {
  __u64 start, end, period, pidx;
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct pcache);
} pcaches SEC(".maps");

/* What the parse found, handed to the flow logic. The flow logic is a
 * global function: the verifier checks it once with these fields unknown,
 * rather than once per path through the parse. */
struct pinfo {
  __u64 tag;
  union {
    /* The parse's, all read by handle before it writes the others. */
    struct {
      __u32 bi, bi2, udp_off, plen, b0, sport, dport;
      /* Where a long header's datagram ends, less 2 (0: not one): for
       * plan_enforce, which reads the indication there. Beyond the other
       * struct's fields, so handle's writes leave it. */
      __u32 ann_at;
    };
    /* Then handle's, for plan_enforce (the frames of handle and anything
     * it calls have no room for them: the stack is 512 bytes a chain). */
    struct {
      __u64 now;
      __u32 dir;
    };
  };
  __u32 bytes, src_is_a;
  __u32 fi; /* out: the flow's slot */
  union {
    __u32 which; /* out: a new flow's subscriber, 1 src, 2 dst, 0 none; its
                    key's length (xdp_sub kplen) from bit 8 */
    __u32 hv;    /* then handle's H_ bits (no room for a local of its own) */
  };
  __u8 src[16], dst[16]; /* IPv4 as IPv4-mapped */
};

/* A flow slot's subscriber key: written and read in functions of their
 * own, verified once, so the flow logic's paths do not multiply. */
__noinline int fsub_set(struct pinfo *pi, __u64 seed) {
  if (!pi)
    return 0;
  __u32 key = 0, fi = pi->fi, b = fi / XDP_WAYS;
  struct xdp_fsubs4 *k = bpf_map_lookup_elem(&fsubs, &b);
  if (!k)
    return 0;
  __u32 which = pi->which;
  if (which & 3)
    key = sub_key((which & 3) == 1 ? pi->src : pi->dst, which >> 8, seed);
  k->key[fi & (XDP_WAYS - 1)] = key;
  return 0;
}

__noinline __u32 fsub_get(struct pinfo *pi) {
  if (!pi)
    return 0;
  __u32 fi = pi->fi, b = fi / XDP_WAYS;
  struct xdp_fsubs4 *k = bpf_map_lookup_elem(&fsubs, &b);
  return k ? k->key[fi & (XDP_WAYS - 1)] : 0;
}

/* handle's verdict may carry, above the XDP action: plan_enforce is to
 * look at the packet (its fields in pinfo); the flow is new (H_FRESH) or
 * in a new period (decide XF_ENF again); a policer of user space's took
 * it. */
#define H_CHARGE 0x100
#define H_ROLL 0x200
#define H_DONE 0x400
#define H_FRESH 0x800

/*
 * engine.c, the flows a plan enforces without advice, after handle (whose
 * frame leaves no room for this one's in the stack's 512 bytes a chain).
 * First XF_ENF, decided again for a new flow, in a new period, and under a
 * new publication of the trie: whether the subscriber's plan enforces.
 * Then, where it does and no policer of user space's took the packet: a
 * flow that holds no advice in the lookback (or whose subscriber is not
 * opted in), and an announced QUIC flow past its grace, draw from the
 * subscriber's bucket at the plan's rate, made on first use. Flows not yet
 * heard both ways, or whose subscriber side is unknown, pass: the engine
 * puts those on a bucket of their own, which this program does not keep
 * (docs/xdp.md). Returns 1 to drop.
 */
__noinline int plan_enforce(struct xdp_md *ctx, struct pinfo *pi, __u32 hv) {
  __u32 zero = 0;
  struct xdp_cfg *c = bpf_map_lookup_elem(&cfg, &zero);
  struct pcache *pc = bpf_map_lookup_elem(&pcaches, &zero);
  if (!ctx || !pi || !c || !pc)
    return 0;
  __u32 fi = pi->fi, b = fi / XDP_WAYS;
  struct xdp_bucket4 *bk = bpf_map_lookup_elem(&flows, &b);
  if (!bk)
    return 0;
  struct xdp_flow *f = &bk->s[fi & (XDP_WAYS - 1)];
  if (f->tag != pi->tag)
    return 0; /* taken by another flow meanwhile */
  __u32 d = pi->dir & 1, flags = f->flags;
  __u32 gen = (c->gen & 3) << XF_GEN_SHIFT;
  int decide = (hv & H_ROLL) || (flags & XF_GEN_MASK) != gen;
  if (!decide && !(flags & XF_ENF))
    return 0;
  /* The subscriber's side: the sender's on the uplink. */
  struct xdp_sub *s =
      (flags & XF_DIR_UNKNOWN) ? 0 : sub_lookup(d == 0 ? pi->src : pi->dst);
  if (decide) {
    __u32 bits = gen | (s && (s->rate_fp[0] | s->rate_fp[1]) ? XF_ENF : 0);
    /* engine.c classify: a flow whose first datagram, a QUIC long header,
     * ends in the indication announced SCONE. */
    __u8 t[2] = {0, 0};
    if ((hv & H_FRESH) && (flags & XF_QUIC) && pi->ann_at &&
        bpf_xdp_load_bytes(ctx, pi->ann_at, t, 2) == 0 && t[0] == 0xc8 &&
        t[1] == 0x13)
      bits |= XF_ANNOUNCED;
    flags = (flags & ~(XF_ENF | XF_GEN_MASK)) | bits;
    f->flags = (__u16)flags;
  }
  if (!(flags & XF_ENF) || (hv & H_DONE) || !s || !s->rate_fp[d])
    return 0;
  if (flags & XF_SCONE) {
    /* handle keeps the period's index in the per-CPU cache. */
    __u32 per = (f->adv >> (4 * d)) & 0xf;
    if (s->advise[d] && f->target[d] != XDP_SIGNAL_UNKNOWN &&
        ((__u32)(pc->pidx - per) & 0xf) <= 2)
      return 0; /* advised (monitor.h mon_advised): left to monitoring */
  } else if ((flags & XF_ANNOUNCED) && f->npkts <= c->announce_grace) {
    return 0;
  }
  if ((flags & (XF_SEEN_A | XF_SEEN_B)) != (XF_SEEN_A | XF_SEEN_B))
    return 0;
  __u32 key = fsub_get(pi);
  if (!key)
    return 0;
  struct xdp_spolice *sb = bpf_map_lookup_elem(&spolice, &key);
  if (!sb) {
    /* An empty bucket, made in the per-CPU scratch rather than on the
     * stack (the kernel zeroes the lock). */
    __u8 *z = bpf_map_lookup_elem(&scratch, &zero);
    if (z) {
      __builtin_memset(z, 0, sizeof(struct xdp_spolice));
      bpf_map_update_elem(&spolice, &key, z, BPF_NOEXIST);
    }
    sb = bpf_map_lookup_elem(&spolice, &key);
    if (!sb) {
      count(XS_SBUCKET_FULL);
      return 0;
    }
  }
  count(XS_ENFORCED);
  bpf_spin_lock(&sb->lock);
  int drop = charge(sb->tokens, &sb->last, 3, s, d, pi->bytes, pi->now);
  bpf_spin_unlock(&sb->lock);
  return drop;
}

__noinline int handle(struct xdp_md *ctx, struct pinfo *pi) {
  __u32 zero = 0;
  struct xdp_cfg *c = bpf_map_lookup_elem(&cfg, &zero);
  if (!c || !pi)
    return XDP_PASS;
  __u8 *data = (__u8 *)(long)ctx->data;
  __u8 *end = (__u8 *)(long)ctx->data_end;
  __u8 *udp = data + (pi->udp_off & 0x7ff);
  if (udp + 8 > end)
    goto skip;
  __u8 *pl = udp + 8;
  __u32 pl_off = (pi->udp_off & 0x7ff) + 8;
  __u32 plen = pi->plen, b0 = pi->b0, bytes = pi->bytes;
  __u32 sport = pi->sport, dport = pi->dport;
  int src_is_a = pi->src_is_a != 0;
  __u64 tag = pi->tag;
  __u32 bi = pi->bi;
  const __u8 *src = pi->src, *dst = pi->dst;
  /* The coarse clock (a tick's resolution) is enough for periods and
   * rewrite slots of seconds, and cheaper than the precise one. */
  __u64 now = c->now ? c->now : bpf_ktime_get_coarse_ns();
  __u64 period = c->period ? c->period : 1;
  __u64 slot_ns = c->slot_ns ? c->slot_ns : 1;
  __u32 nowu = (__u32)(now >> 20);

  /* Two buckets a flow may live in (the engine's two choices): a 4-way
   * bucket alone overflows at 80% load, two keep it full to the brim. */
  __u32 bi2 = pi->bi2;
  struct xdp_bucket4 *bk = bpf_map_lookup_elem(&flows, &bi);
  if (!bk)
    goto skip;
  struct xdp_flow *f = 0;
  /* The flow's slot, bucket * XDP_WAYS + way (fsubs), kept in pi->fi:
   * no stack of its own. */
#pragma unroll
  for (int i = 0; i < XDP_WAYS; i++)
    if (!f && bk->s[i].tag == tag) {
      f = &bk->s[i];
      pi->fi = bi * XDP_WAYS + i;
    }
  struct xdp_bucket4 *bk2 = 0;
  if (!f) {
    bk2 = bpf_map_lookup_elem(&flows, &bi2);
    if (!bk2)
      goto skip;
#pragma unroll
    for (int i = 0; i < XDP_WAYS; i++)
      if (!f && bk2->s[i].tag == tag) {
        f = &bk2->s[i];
        pi->fi = bi2 * XDP_WAYS + i;
      }
  }
  /* engine.c idle(): a flow quiet for the idle timeout is gone. */
  int fresh = !f || nowu - f->last >= c->idle_units;

  /* The first bytes of the payload: only for what needs more than the
   * first byte (long headers, flows being classified, new flows). */
  struct head h;
  __u32 sl_byte = 0;
  int have_head = 0;
  if (fresh || (b0 & 0x80) ||
      !(f->flags & (XF_QUIC | XF_NOT_QUIC | XF_NO_SUB))) {
    if (load_head(ctx, pl, end, pl_off, plen, b0, &h, &sl_byte) < 0)
      goto skip;
    have_head = 1;
  }

  if (fresh) {
    if (!f) {
      /* A slot in the emptier of the two buckets (the two choices
       * spread the load): an empty one, else its quietest flow. */
      __u32 e1 = 0, e2 = 0, best_age = 0;
#pragma unroll
      for (int i = 0; i < XDP_WAYS; i++) {
        e1 += !bk->s[i].tag;
        e2 += !bk2 || !bk2->s[i].tag;
      }
      struct xdp_bucket4 *in = bk;
      __u32 in_bi = bi;
      if (bk2 && e2 > e1) {
        in = bk2;
        in_bi = bi2;
      }
#pragma unroll
      for (int i = 0; i < XDP_WAYS; i++) {
        __u32 age = in->s[i].tag ? nowu - in->s[i].last : 0xffffffffU;
        if (!f || age > best_age) {
          f = &in->s[i];
          pi->fi = in_bi * XDP_WAYS + i;
          best_age = age;
        }
      }
      if (!f)
        goto skip;
      if (f && f->tag && best_age < c->idle_units)
        count(XS_NFLOW_FAIL); /* pushed out a live flow: table too small */
    }
    /* engine.c init_flow, find_side, tie_side, resolve. */
    /* Written in place, not built on the stack, which is spent. The tag
     * goes last: the monitoring loop takes a slot whose tag it read
     * before and after its copy for one whole flow. */
    __builtin_memset(f, 0, sizeof(*f));
    f->last = nowu;
    f->period = (__u16)(now / period);
    f->target[0] = f->target[1] = XDP_SIGNAL_UNKNOWN;
    __u8 sl = (__u8)(now / slot_ns) + 128;
    f->slot[0] = f->slot[1] = sl;
    /* Only whether each end matched and how long its prefix is (values,
     * not pointers: the verifier refuses to combine map pointers). */
    struct xdp_sub *p1 = sub_lookup(src);
    __u32 ms = p1 != 0, ls = p1 ? p1->plen : 0;
    pi->which = p1 ? p1->kplen : 0; /* in pi: no stack of its own */
    struct xdp_sub *p2 = sub_lookup(dst);
    __u32 md = p2 != 0, ld = p2 ? p2->plen : 0, kd = p2 ? p2->kplen : 0;
    if (!ms && !md) {
      f->flags = XF_NO_SUB;
      pi->which = 0;
    } else {
      int sub_src, unknown = 0;
      if (ms && md && ls == ld) {
        int t;
        if (h.plen >= 5 && (h.b[0] & 0x80) && be32(h.b + 1) != 0 &&
            !is_scone_hdr(&h))
          t = 1;
        else if (server_port(sport) != server_port(dport))
          t = server_port(dport);
        else
          t = -1;
        sub_src = t != 0;
        unknown = t < 0;
      } else {
        sub_src = ms && (!md || ls > ld);
      }
      int init_a = sub_src ? src_is_a : !src_is_a;
      f->flags = (init_a ? XF_INIT_A : 0) | (unknown ? XF_DIR_UNKNOWN : 0);
      if (unknown)
        pi->which = 0;
      /* The engine ties no subscriber state to a flow of unknown side. */
      if (!unknown)
        pi->which = sub_src ? 1 | pi->which << 8 : 2 | kd << 8;
    }
    f->tag = tag;
    count(XS_NEW_FLOWS);
  }
  if (fresh)
    fsub_set(pi, c->seed);
  pi->hv = H_CHARGE | (fresh ? H_ROLL | H_FRESH : 0);
  f->last = nowu;
  __u32 flags = f->flags;
  /* Uplink when the sender is the subscriber side. */
  int d = (!!(flags & XF_INIT_A) == src_is_a) ? 0 : 1;
  /* A plain add, not an atomic one: one direction of a flow arrives on
   * one CPU (RSS), so losing an update needs two CPUs counting the same
   * direction of one flow at once; monitoring tolerates that undercount. */
  f->units[d & 1] += plen >> 4;
  if (flags & XF_NO_SUB) {
    if (f->npkts != 255)
      f->npkts++;
    return XDP_PASS;
  }
  /* The period index without a 64-bit division per packet: each CPU
   * keeps the current period's bounds. */
  struct pcache *pc = bpf_map_lookup_elem(&pcaches, &zero);
  if (!pc)
    goto skip;
  if (now < pc->start || now >= pc->end || pc->period != period) {
    __u64 k = now / period;
    pc->start = k * period;
    pc->end = pc->start + period;
    pc->period = period;
    pc->pidx = k;
  }
  __u16 pidx = (__u16)pc->pidx;
  /* Not while the plan enforces, nor before that was decided under the
   * trie last published (plan_enforce). */
  if ((flags & (XF_QUIC | XF_NOT_QUIC)) && !(b0 & 0x80) && f->period == pidx &&
      !c->policing &&
      (flags & (XF_ENF | XF_GEN_MASK)) == ((c->gen & 3) << XF_GEN_SHIFT)) {
    /* The common packet: a classified flow's short header in the same
     * period, nothing enforced. */
    if (f->npkts != 255)
      f->npkts++;
    return XDP_PASS;
  }

  if (!have_head && load_head(ctx, pl, end, pl_off, plen, b0, &h, &sl_byte) < 0)
    goto skip;
  int whole = (b0 & 0x80) && scone_whole(&h, sl_byte);
  if (!(flags & (XF_QUIC | XF_NOT_QUIC))) {
    /* engine.c classify. */
    if (f->npkts == 0 && h.plen > 0 && (h.b[0] & 0x80) && !whole) {
      if (plausible_long(&h, sl_byte)) {
        flags = (flags & ~XF_QUICISH_MASK) | XF_QUIC;
      } else {
        flags |= XF_NOT_QUIC;
        f->initial[0] = PICKUP_NEVER;
      }
    } else {
      int q = !whole && looks_quic(&h, sl_byte);
      if (f->npkts == 0 && !q) {
        flags |= XF_NOT_QUIC;
      } else {
        __u32 quicish =
            ((flags & XF_QUICISH_MASK) >> XF_QUICISH_SHIFT) + (__u32)q;
        if (f->npkts + 1 < CLASSIFY_PACKETS) {
          flags = (flags & ~XF_QUICISH_MASK) | (quicish << XF_QUICISH_SHIFT);
        } else {
          flags &= ~XF_QUICISH_MASK;
          flags |= quicish >= CLASSIFY_NEEDED ? XF_QUIC : XF_NOT_QUIC;
          if (flags & XF_QUIC)
            f->initial[0] = 0;
        }
      }
    }
  }
  flags |= XF_SEEN_B >> src_is_a; /* XF_SEEN_A when src_is_a */
  if (f->period != pidx) {
    /* engine.c roll: a new period reopens the early rewrites once more.
     * (And plan_enforce decides XF_ENF again: a flow quiet across a
     * publication whose generation came round meanwhile.) */
    pi->hv |= H_ROLL;
    if (flags & (XF_QUIC | XF_NOT_QUIC))
      flags &= ~(XF_REBURST_UP | XF_REBURST_DOWN);
    f->period = pidx;
  }
  if (f->npkts != 255)
    f->npkts++;
  if (!(flags & XF_QUIC) && whole && f->initial[0] != PICKUP_NEVER &&
      scone_coalesced(ctx, pl_off, h.plen)) {
    /* engine.c pickup: the second such datagram makes the flow QUIC. */
    if (!f->initial[0]) {
      f->initial[0] = 1;
    } else {
      flags = (flags & ~(XF_NOT_QUIC | XF_QUICISH_MASK)) | XF_QUIC;
      f->initial[0] = 0;
    }
  }

  struct xdp_sub *s = 0;
  int verdict = XDP_PASS;
  if ((flags & XF_QUIC) && h.plen >= 5 && whole) {
    /* engine.c long_header / apply_advice. */
    count(XS_SCONE);
    flags |= XF_SCONE;
    s = sub_lookup(d == 0 ? src : dst);
    if (s && s->advise[d & 1] && !(flags & XF_DIR_UNKNOWN)) {
      __u32 t = s->sig[d & 1];
      __u32 once = XF_REBURST_UP << d;
      __u8 *tg = &f->target[d & 1];
      __u8 *ini = &f->initial[d & 1];
      __u8 *sl = &f->slot[d & 1];
      if (*tg != XDP_SIGNAL_UNKNOWN && *tg != t && !(flags & once)) {
        flags |= once;
        *ini = 0;
      }
      __u8 slot = (__u8)(now / slot_ns);
      __u32 old = ((__u32)(h.b[0] & 0x3f) << 1) | (h.b[1] >> 7);
      int applied = 1;
      if (old <= t) {
        count(XS_CONFIRMS);
      } else if (*ini < c->initial_rewrites || *sl != slot) {
        if (pl + 2 > end || udp + 8 > end)
          goto skip;
        __u16 old_word = (__u16)(pl[0] << 8 | pl[1]);
        pl[0] = (__u8)((pl[0] & 0xc0) | (t >> 1));
        pl[1] = (__u8)((pl[1] & 0x7f) | ((t & 1) << 7));
        __u16 new_word = (__u16)(pl[0] << 8 | pl[1]);
        __u16 ck = (__u16)(udp[6] << 8 | udp[7]);
        ck = csum_adjust(ck, old_word, new_word);
        udp[6] = (__u8)(ck >> 8);
        udp[7] = (__u8)ck;
        if (*ini < c->initial_rewrites)
          (*ini)++;
        *sl = slot;
        count(XS_REWRITES);
      } else {
        applied = 0; /* this slot's rewrite is spent: leave the packet */
      }
      if (applied) {
        *tg = (__u8)t;
        /* For user space's monitoring: advice applied in this period. */
        __u32 sh = (d & 1) * 4;
        f->adv = (__u8)((f->adv & ~(0xfU << sh)) | ((pidx & 0xfU) << sh));
      }
    }
  }
  f->flags = (__u16)flags;
  /* Enforcement: only flows (or subscriber prefixes) user space found
   * non-conforming. */
  if (c->policing) {
    if (!s)
      s = sub_lookup(d == 0 ? src : dst);
    if (s) {
      /* engine.c: a SCONE flow of a subscriber non-conforming in this
       * direction draws from the subscriber's bucket, else one flow found
       * non-conforming from its own. */
      int drop = 0;
      /* bi's stack slot reused as the key: the verifier's 512 bytes of
       * stack are nearly spent. */
      bi = (flags & XF_SCONE) ? fsub_get(pi) : 0;
      if (bi) {
        struct xdp_spolice *sb = bpf_map_lookup_elem(&spolice, &bi);
        if (sb && (sb->dirs & (1U << (d & 1)))) {
          bpf_spin_lock(&sb->lock);
          drop = charge(sb->tokens, &sb->last, sb->dirs, s, d, bytes, now);
          bpf_spin_unlock(&sb->lock);
          pi->hv |= H_DONE;
        }
      }
      if (!(pi->hv & H_DONE)) {
        struct xdp_police *b = bpf_map_lookup_elem(&pflows, &pi->tag);
        if (b && (b->dirs & (1U << (d & 1)))) {
          drop = charge(b->tokens, &b->last, b->dirs, s, d, bytes, now);
          pi->hv |= H_DONE;
        }
      }
      if (drop) {
        count(XS_DROPS);
        verdict = XDP_DROP;
      }
    }
  }
  /* For plan_enforce, after this returns. The parse's fields are read:
   * these overwrite them. */
  pi->now = now;
  pi->dir = (__u32)d;
  return verdict | pi->hv;
skip:
  count(XS_SKIPPED);
  return XDP_PASS;
}

SEC("xdp")
int scone_xdp(struct xdp_md *ctx) {
  __u32 zero = 0;
  struct xdp_cfg *c = bpf_map_lookup_elem(&cfg, &zero);
  if (!c || !c->armed)
    return XDP_PASS;
  count(XS_PACKETS);
  __u8 *data = (__u8 *)(long)ctx->data;
  __u8 *end = (__u8 *)(long)ctx->data_end;
  if (data + 14 > end)
    goto skip;
  __u32 etype = be16(data + 12);
  __u8 *ip = data + 14;
  __u32 len = (__u32)(end - ip);
  __u32 off, ip_end, is_frag = 0, v6;
  if (etype == 0x0800) {
    if (ip + 20 > end || (ip[0] >> 4) != 4)
      goto skip;
    off = (__u32)(ip[0] & 0x0f) * 4;
    ip_end = be16(ip + 2);
    if (off < 20 || ip_end < off || len < off || ip[9] != 17)
      goto skip;
    __u32 frag = be16(ip + 6);
    is_frag = (frag & 0x3fff) != 0;
    if (frag & 0x1fff)
      goto skip;
    v6 = 0;
  } else if (etype == 0x86dd) {
    if (ip + 40 > end || (ip[0] >> 4) != 6)
      goto skip;
    ip_end = 40 + be16(ip + 4);
    __u32 nh = ip[6];
    off = 40;
    v6 = 1;
    /* lib/ipudp.c parse_v6, bounded: more than MAX_EXT_HEADERS pass. */
    for (int i = 0; i < MAX_EXT_HEADERS; i++) {
      if (nh == 17)
        break;
      off &= 0x7ff;
      if (nh == 0 || nh == 43 || nh == 60) {
        if (nh == 0 && off != 40)
          goto skip;
        if (off + 2 > ip_end || off + 2 > len)
          goto skip;
        __u8 *x = ip + off;
        if (x + 2 > end)
          goto skip;
        nh = x[0];
        off += ((__u32)x[1] + 1) * 8;
      } else if (nh == 44) {
        if (off + 8 > ip_end || off + 8 > len)
          goto skip;
        __u8 *x = ip + off;
        if (x + 8 > end)
          goto skip;
        __u32 fo = be16(x + 2);
        nh = x[0];
        off += 8;
        if (fo & 1)
          is_frag = 1;
        if (fo & 0xfff8)
          goto skip;
      } else {
        goto skip;
      }
    }
    if (nh != 17)
      goto skip;
  } else {
    goto skip;
  }
  /* lib/ipudp.c finish_udp. */
  off &= 0x7ff;
  if (off + 8 > ip_end || off + 8 > len)
    goto skip;
  __u8 *udp = ip + off;
  if (udp + 8 > end)
    goto skip;
  __u32 udp_len = be16(udp + 4);
  if (udp_len < 8 || (udp_len > ip_end - off && !is_frag))
    goto skip;
  if (is_frag)
    goto skip; /* a first fragment: the engine passes it too */
  __u32 sport = be16(udp), dport = be16(udp + 2);
  if (sport == 2152 || dport == 2152)
    goto skip; /* GTP-U: the engine decapsulates, this program does not */
  __u32 pend = off + udp_len;
  if (pend > ip_end)
    pend = ip_end;
  if (pend > len)
    pend = len;
  __u32 plen = pend - (off + 8);
  __u8 *pl = udp + 8;
  __u32 b0 = 0;
  if (plen > 0) {
    if (pl + 1 > end)
      goto skip;
    b0 = pl[0];
  }
  count(XS_UDP);

  /* The fingerprint of the tuple in a canonical order (side a is the
   * smaller address, then port), so both directions find one flow. */
  __u64 w[4] = {0, 0, 0, 0};
  if (v6) {
    if (ip + 40 > end)
      goto skip;
    __builtin_memcpy(w, ip + 8, 32);
  } else {
    if (ip + 20 > end)
      goto skip;
    __u32 s4, d4;
    __builtin_memcpy(&s4, ip + 12, 4);
    __builtin_memcpy(&d4, ip + 16, 4);
    w[0] = s4;
    w[2] = d4;
  }
  int src_is_a = w[0] < w[2] || (w[0] == w[2] && w[1] < w[3]) ||
                 (w[0] == w[2] && w[1] == w[3] && sport <= dport);
  __u64 hs = c->seed, x;
  __u64 pa = src_is_a ? sport : dport, pb = src_is_a ? dport : sport;
#define MIX(v)                                                                 \
  x = hs ^ (v);                                                                \
  x *= 0x9e3779b97f4a7c15ULL;                                                  \
  hs = x ^ (x >> 29)
  if (src_is_a) {
    MIX(w[0]);
    MIX(w[1]);
    MIX(w[2]);
    MIX(w[3]);
  } else {
    MIX(w[2]);
    MIX(w[3]);
    MIX(w[0]);
    MIX(w[1]);
  }
  MIX(pa << 16 | pb | (__u64)v6 << 32);
  hs *= 0xbf58476d1ce4e5b9ULL;
  hs ^= hs >> 31;
  __u64 tag = hs | 1;
  /* The high half scaled to the table: no power of two needed. */
  __u32 bi = (__u32)(((hs >> 32) * (__u64)c->nbuckets) >> 32);

  struct pinfo pi;
  __builtin_memset(&pi, 0, sizeof(pi));
  pi.tag = tag;
  pi.bi = bi;
  pi.bi2 =
      (__u32)((((hs * 0xff51afd7ed558ccdULL) >> 32) * (__u64)c->nbuckets) >>
              32);
  pi.udp_off = (__u32)(udp - data);
  pi.plen = plen;
  pi.b0 = b0;
  pi.bytes = len < ip_end ? len : ip_end;
  pi.sport = sport;
  pi.dport = dport;
  pi.src_is_a = (__u32)src_is_a;
  if ((b0 & 0x80) && plen >= 2)
    pi.ann_at = (__u32)(udp - data) + 8 + plen - 2;
  if (v6) {
    __builtin_memcpy(pi.src, ip + 8, 16);
    __builtin_memcpy(pi.dst, ip + 24, 16);
  } else {
    pi.src[10] = pi.src[11] = pi.dst[10] = pi.dst[11] = 0xff;
    __builtin_memcpy(pi.src + 12, ip + 12, 4);
    __builtin_memcpy(pi.dst + 12, ip + 16, 4);
  }
  int verdict = handle(ctx, &pi);
  /* Called from here, not from handle: their frames and handle's together
   * would pass the stack's 512 bytes a call chain. */
  if (!(verdict & H_CHARGE) || (verdict & 0xff) != XDP_PASS)
    return verdict & 0xff;
  if (plan_enforce(ctx, &pi, (__u32)verdict)) {
    count(XS_DROPS);
    return XDP_DROP;
  }
  return XDP_PASS;
skip:
  count(XS_SKIPPED);
  return XDP_PASS;
}
