/*
 * sconed's XDP fast path: counts IP bytes per flow and direction, and
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
 * mid-way whose endpoints grease the fixed bit, GTP-U, per-subscriber
 * aggregation, shaping, config reloads re-resolving live flows.
 */
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

#include "scone_xdp.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct xdp_flow_key);
  __type(value, struct xdp_flow);
} flows SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, 65536);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct xdp_sub_key);
  __type(value, struct xdp_sub);
} subs SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, __u32);
  __type(value, struct xdp_bucket);
} police SEC(".maps");

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
 * valid). 64 covers the SCONE header with both 20-byte CIDs and the long
 * header checks. */
#define HEAD 64
struct head {
  __u8 b[HEAD];
  __u32 plen;
};

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
static __always_inline struct xdp_sub *sub_lookup(const __u8 *addr, int v6) {
  struct xdp_sub_key k = {.prefixlen = 128};
  if (v6) {
    __builtin_memcpy(k.addr, addr, 16);
  } else {
    k.addr[10] = 0xff;
    k.addr[11] = 0xff;
    __builtin_memcpy(k.addr + 12, addr, 4);
  }
  return bpf_map_lookup_elem(&subs, &k);
}

/* The policer: a token bucket per non-conforming subscriber (engine.c
 * refill/enforce without the shaper). Returns 1 to drop. */
static __always_inline int policed(const struct xdp_sub *s, int d, __u32 bytes,
                                   __u64 now) {
  __u32 id = s->id;
  struct xdp_bucket *b = bpf_map_lookup_elem(&police, &id);
  if (!b) {
    struct xdp_bucket nb = {.tokens = {s->burst, s->burst}, .last = now};
    bpf_map_update_elem(&police, &id, &nb, BPF_NOEXIST);
    b = bpf_map_lookup_elem(&police, &id);
    if (!b)
      return 0;
  }
  __u64 dt = now > b->last ? now - b->last : 0;
  b->last = now;
  __s64 t = b->tokens[d & 1];
  if (dt >= (1ULL << 40))
    t = s->burst;
  else
    t += (__s64)(((dt >> 4) * s->rate_fp[d & 1]) >> 32);
  if (t > (__s64)s->burst)
    t = s->burst;
  if (t < (__s64)bytes) {
    b->tokens[d & 1] = t;
    return 1;
  }
  b->tokens[d & 1] = t - bytes;
  return 0;
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
  struct head h;
  h.plen = pend - (off + 8);
  __u8 *pl = udp + 8;
  /* Copy what is there of the first HEAD bytes. */
  __u32 ncopy = h.plen < HEAD ? h.plen : HEAD;
  __builtin_memset(h.b, 0, HEAD);
  if (ncopy == HEAD) {
    if (pl + HEAD > end)
      goto skip;
    __builtin_memcpy(h.b, pl, HEAD);
  } else {
    for (__u32 i = 0; i < HEAD; i++) {
      if (i >= ncopy)
        break;
      if (pl + i + 1 > end)
        goto skip;
      h.b[i] = pl[i];
    }
  }
  /* The SCID length byte of a long header, wherever it is. */
  __u32 sl_byte = 0;
  if (h.plen >= 7 && (h.b[0] & 0x80)) {
    __u32 at = 6 + (__u32)h.b[5];
    if (at < h.plen) {
      __u8 *q = pl + (at & 0x1ff);
      if (q + 1 > end)
        goto skip;
      sl_byte = *q;
    } else {
      sl_byte = 0x100; /* absent: no parse succeeds */
    }
  }
  count(XS_UDP);

  const __u8 *src = v6 ? ip + 8 : ip + 12;
  const __u8 *dst = v6 ? ip + 24 : ip + 16;
  struct xdp_flow_key k;
  __builtin_memset(&k, 0, sizeof(k));
  struct xdp_flow_key s2;
  __builtin_memset(&s2, 0, sizeof(s2));
  if (v6) {
    if (ip + 40 > end)
      goto skip;
    __builtin_memcpy(k.a, src, 16);
    __builtin_memcpy(k.b, dst, 16);
  } else {
    if (ip + 20 > end)
      goto skip;
    __builtin_memcpy(k.a, src, 4);
    __builtin_memcpy(k.b, dst, 4);
  }
  k.pa = (__u16)sport;
  k.pb = (__u16)dport;
  /* Canonical order: the smaller (address, port) is a. */
  int src_is_a = 1;
  {
    int cmp = 0;
    for (int i = 0; i < 16; i++) {
      if (k.a[i] != k.b[i]) {
        cmp = k.a[i] < k.b[i] ? -1 : 1;
        break;
      }
    }
    if (cmp > 0 || (cmp == 0 && sport > dport))
      src_is_a = 0;
  }
  if (!src_is_a) {
    __builtin_memcpy(s2.a, k.b, 16);
    __builtin_memcpy(s2.b, k.a, 16);
    s2.pa = k.pb;
    s2.pb = k.pa;
    k = s2;
  }

  __u64 now = c->now ? c->now : bpf_ktime_get_ns();
  __u64 period = c->period ? c->period : 1;
  __u64 slot_ns = c->slot_ns ? c->slot_ns : 1;
  __u32 pidx = (__u32)(now / period);
  __u32 bytes = len < ip_end ? len : ip_end;

  struct xdp_flow *f = bpf_map_lookup_elem(&flows, &k);
  int first = 0;
  if (!f) {
    /* engine.c find_side / tie_side / resolve for a new flow. */
    struct xdp_flow nf;
    __builtin_memset(&nf, 0, sizeof(nf));
    nf.period = pidx;
    nf.target[0] = nf.target[1] = XDP_SIGNAL_UNKNOWN;
    __u8 sl = (__u8)(now / slot_ns) + 128;
    nf.slot[0] = nf.slot[1] = sl;
    /* Only whether each end matched and how long its prefix is (values,
     * not pointers: the verifier refuses to combine map pointers). */
    struct xdp_sub *p1 = sub_lookup(src, v6);
    __u32 ms = p1 != 0, ls = p1 ? p1->plen : 0;
    struct xdp_sub *p2 = sub_lookup(dst, v6);
    __u32 md = p2 != 0, ld = p2 ? p2->plen : 0;
    if (!ms && !md) {
      nf.flags = XF_NO_SUB;
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
      nf.flags = (init_a ? XF_INIT_A : 0) | (unknown ? XF_DIR_UNKNOWN : 0);
    }
    if (bpf_map_update_elem(&flows, &k, &nf, BPF_NOEXIST) == 0)
      count(XS_NEW_FLOWS);
    f = bpf_map_lookup_elem(&flows, &k);
    if (!f) {
      count(XS_NFLOW_FAIL);
      return XDP_PASS;
    }
    first = 1;
  }
  (void)first;
  __u32 flags = f->flags;
  /* Uplink when the sender is the subscriber side. */
  int d = (!!(flags & XF_INIT_A) == src_is_a) ? 0 : 1;
  __sync_fetch_and_add(&f->bytes[d], bytes);
  if (flags & XF_NO_SUB) {
    if (f->npkts != 255)
      f->npkts++;
    return XDP_PASS;
  }

  int whole = scone_whole(&h, sl_byte);
  if (!(flags & (XF_QUIC | XF_NOT_QUIC))) {
    /* engine.c classify. */
    if (f->npkts == 0 && h.plen > 0 && (h.b[0] & 0x80) && !whole) {
      if (plausible_long(&h, sl_byte))
        flags = (flags & ~XF_QUICISH_MASK) | XF_QUIC;
      else
        flags |= XF_NOT_QUIC;
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
        }
      }
    }
  }
  if (f->period != pidx) {
    /* engine.c roll: a new period reopens the early rewrites once more. */
    if (flags & (XF_QUIC | XF_NOT_QUIC))
      flags &= ~(XF_REBURST_UP | XF_REBURST_DOWN);
    f->period = pidx;
  }
  if (f->npkts != 255)
    f->npkts++;

  struct xdp_sub *s = 0;
  int verdict = XDP_PASS;
  if ((flags & XF_QUIC) && h.plen >= 5 && (h.b[0] & 0x80) && whole) {
    /* engine.c long_header / apply_advice. */
    count(XS_SCONE);
    flags |= XF_SCONE;
    s = sub_lookup(d == 0 ? src : dst, v6);
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
      if (applied)
        *tg = (__u8)t;
    }
  }
  f->flags = (__u16)flags;
  /* Enforcement: only subscribers user space found non-conforming. */
  if (!s && c->policing)
    s = sub_lookup(d == 0 ? src : dst, v6);
  if (c->policing && s && s->police && policed(s, d, bytes, now)) {
    count(XS_DROPS);
    verdict = XDP_DROP;
  }
  return verdict;
skip:
  count(XS_SKIPPED);
  return XDP_PASS;
}
