/*
 * What the XDP program (scone_xdp.bpf.c) and its user-space side
 * (xdp_path.c) share: map keys and values. Fixed-width types only, no
 * pointers: both the BPF target and the host compile this file.
 */
#ifndef SCONE_XDP_H
#define SCONE_XDP_H

#include <linux/bpf.h> /* struct bpf_spin_lock */
#include <linux/types.h>

/* Flow flags, a subset of the engine's (element/flow_table.h) with the
 * same meaning. */
#define XF_INIT_A 0x0001      /* side a (the lower address) is the subscriber */
#define XF_QUIC 0x0002        /* classified QUIC */
#define XF_NOT_QUIC 0x0004    /* classified not QUIC: never rewritten */
#define XF_NO_SUB 0x0008      /* neither end is a subscriber */
#define XF_DIR_UNKNOWN 0x0010 /* tie with no side shown: no advice */
#define XF_SCONE 0x0020       /* a SCONE packet was seen */
#define XF_REBURST_UP 0x0040  /* advice changed this period (per direction) */
#define XF_REBURST_DOWN 0x0080
#define XF_QUICISH_SHIFT 8 /* short-header votes while classifying */
#define XF_QUICISH_MASK 0x0300
#define XF_ANNOUNCED 0x0400 /* the first datagram carried the indication */
#define XF_SEEN_A 0x0800    /* a packet from side a was seen */
#define XF_SEEN_B 0x1000    /* and from side b: both ends heard */
#define XF_ENF 0x2000       /* the subscriber's plan enforces: no fast path */
#define XF_GEN_SHIFT 14     /* the publication (xdp_cfg gen, low bits) XF_ENF */
#define XF_GEN_MASK 0xc000  /* was decided under */

#define XDP_SIGNAL_UNKNOWN 127

/* A flow: 32 bytes in a 4-way bucket of an array (the engine's layout in
 * miniature: a keyed 64-bit fingerprint of the address tuple, the same
 * both ways, and no addresses). Monitoring counters first (read by user
 * space), then the signalling state the engine keeps in its flow record. */
struct xdp_flow {
  __u64 tag;      /* fingerprint | 1; 0: an empty slot */
  __u32 units[2]; /* UDP payload bytes / 16 per scone_dir (0 uplink), wrapping:
                     the engine's monitoring input */
  __u32 last;     /* time of the last packet, in 2^20 ns */
  __u16 period;   /* low bits of the monitoring period last seen */
  __u16 flags;
  __u8 npkts;      /* saturating at 255 */
  __u8 initial[2]; /* early rewrites done, per direction */
  __u8 slot[2];    /* rewrite slot of the last rewrite (low 8 bits) */
  __u8 target[2];  /* advice last applied; XDP_SIGNAL_UNKNOWN: none */
  __u8 adv; /* period (low 4 bits) target[d] was last applied in: bits 4d */
};

#define XDP_WAYS 4
struct xdp_bucket4 {
  struct xdp_flow s[XDP_WAYS];
};

/* The subscriber keys of a bucket's flows (the fsubs map). */
struct xdp_fsubs4 {
  __u32 key[XDP_WAYS];
};

/* The subscriber trie: IPv4 prefixes are stored as IPv4-mapped IPv6
 * (::ffff:0:0/96 + plen), so one trie holds both families. */
struct xdp_sub_key {
  __u32 prefixlen;
  __u8 addr[16];
};

/* Advice user space publishes per subscriber prefix: computed by the
 * engine from its config (plan, capacity, opt-in), and the enforcement
 * rate and burst of its plan. */
struct xdp_sub {
  __u8 sig[2];    /* advice signal per direction */
  __u8 advise[2]; /* advice is given in that direction */
  __u8 plen;      /* the prefix length in the config's own family */
  __u8 kplen;     /* bits of an IPv4-mapped address that make a subscriber's
                     key: 128 for IPv4, the engine's subscriber_prefix_v6 or the
                     entry's longer prefix for IPv6 (engine_subs.c attach) */
  __u16 pad;
  __u32 id;         /* the config entry */
  __u32 burst;      /* bytes */
  __u64 rate_fp[2]; /* bytes per 2^20 ns, 16.16 fixed point */
};

struct xdp_police {
  __s64 tokens[2];
  __u64 last; /* 2^20 ns | 1 << 32; 0: not started (the bucket starts full) */
  __u32 dirs; /* bit d: direction d is policed */
  __u32 pad;
};

/* A subscriber's one bucket at its plan's rate, on every CPU (the engine's
 * aggregate bucket, sub_table.h): a hash map entry by the subscriber's key
 * (the flow's entry in the fsubs array), its tokens updated under the lock
 * so two CPUs never both spend them. Its flows without advice draw from it
 * once the plan enforces (the program makes the entry, dirs 0); user space
 * sets dirs when it finds the subscriber's SCONE flows together
 * non-conforming, and they draw from it too. */
struct xdp_spolice {
  struct bpf_spin_lock lock;
  __u32 dirs; /* bit d: the SCONE flows are policed in direction d */
  __s64 tokens[2];
  __u64 last; /* 2^20 ns | 1 << 32; 0: not started (the bucket starts full) */
};

/* Index 0 of the config array. */
struct xdp_cfg {
  __u64 now;    /* when not 0: the clock (offline runs replay capture time) */
  __u64 period; /* ns */
  __u64 slot_ns;
  __u32 initial_rewrites;
  __u32 armed;    /* 0: pass everything untouched, count nothing (fail-open) */
  __u32 policing; /* some subscriber is policed: look the sender up */
  __u64 seed;     /* the fingerprint's key */
  __u32 nbuckets; /* of the flow table */
  __u32 idle_units; /* a flow quiet this long (2^20 ns) is forgotten */
  __u32 gen;        /* bumped at each publication of the subscriber trie: flows
                       decide XF_ENF again */
  __u32 announce_grace; /* packets an announced QUIC flow is not enforced */
};

enum xdp_stat {
  XS_PACKETS,      /* every packet seen */
  XS_UDP,          /* whole UDP datagrams parsed */
  XS_SKIPPED,      /* passed untouched: not IP/UDP, fragments, malformed */
  XS_SCONE,        /* SCONE packets on QUIC flows */
  XS_REWRITES,     /* signal lowered */
  XS_CONFIRMS,     /* signal already at or below the advice */
  XS_DROPS,        /* policed */
  XS_NEW_FLOWS,    /* flow entries created */
  XS_NFLOW_FAIL,   /* flow table full: passed, uncounted */
  XS_ENFORCED,     /* charged to the plan's bucket (flows without advice) */
  XS_SBUCKET_FULL, /* no room for a subscriber's bucket: passed */
  XS_MAX
};

#endif
