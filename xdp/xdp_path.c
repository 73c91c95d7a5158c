#include "xdp_path.h"

#include "scone_xdp.h"
#include "scone_xdp.skel.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define SCONED_XDP_MAX_LINKS 16

struct sconed_xdp {
  struct scone_xdp *skel;
  struct xdp_cfg cfg;
  scone_tstamp last_now;
  int links[SCONED_XDP_MAX_LINKS];
  int nlinks;
  uint8_t *frame;
  size_t framecap;
};

static int quiet_print(enum libbpf_print_level level, const char *fmt,
                       va_list ap) {
  /* The verifier's log only when asked: it is long, and a kernel without
   * BPF is an ordinary outcome (tests skip). */
  if (level == LIBBPF_WARN && getenv("SCONED_XDP_DEBUG"))
    return vfprintf(stderr, fmt, ap);
  return 0;
}

static int write_cfg(sconed_xdp *x) {
  uint32_t zero = 0;
  return bpf_map_update_elem(bpf_map__fd(x->skel->maps.cfg), &zero, &x->cfg,
                             BPF_ANY);
}

sconed_xdp *sconed_xdp_open(const sconed_engine *e, size_t max_flows, char *err,
                            size_t errlen) {
  libbpf_set_print(quiet_print);
  sconed_xdp *x = calloc(1, sizeof(*x));
  if (!x) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  x->skel = scone_xdp__open();
  if (!x->skel) {
    snprintf(err, errlen, "cannot open the XDP program: %s", strerror(errno));
    free(x);
    return NULL;
  }
  /* Buckets of XDP_WAYS flows, 1.75 slots a flow: with two choices a
   * full table then pushes out about 1 flow in 10^4 (0.5 slots a flow
   * less loses 1.4%; docs/xdp.md). */
  if (!max_flows)
    max_flows = 65536;
  uint64_t want = ((uint64_t)max_flows * 7 / 4 + XDP_WAYS - 1) / XDP_WAYS;
  uint32_t buckets = want > (1U << 26) ? (1U << 26) : (uint32_t)want;
  bpf_map__set_max_entries(x->skel->maps.flows, buckets);
  bpf_map__set_max_entries(x->skel->maps.fsubs, buckets);
  /* SCONED_XDP_DEBUG=2: the verifier's statistics even on success. */
  const char *dbg = getenv("SCONED_XDP_DEBUG");
  static char vlog[4096];
  if (dbg && !strcmp(dbg, "2")) {
    bpf_program__set_log_level(x->skel->progs.scone_xdp, 4);
    bpf_program__set_log_buf(x->skel->progs.scone_xdp, vlog, sizeof(vlog));
  }
  int rc = scone_xdp__load(x->skel);
  if (dbg && !strcmp(dbg, "2"))
    fprintf(stderr, "%s", vlog);
  if (rc) {
    snprintf(err, errlen,
             "cannot load the XDP program: %s (needs root or CAP_BPF; "
             "SCONED_XDP_DEBUG=1 shows the verifier's log)",
             strerror(-rc));
    scone_xdp__destroy(x->skel);
    free(x);
    return NULL;
  }
  sconed_engine_timing t;
  sconed_engine_timing_get(e, &t);
  x->cfg.period = t.period;
  x->cfg.slot_ns = t.slot_ns;
  x->cfg.initial_rewrites = t.initial_rewrites;
  x->cfg.armed = 1;
  x->cfg.nbuckets = buckets;
  uint64_t idle = t.idle_timeout >> 20;
  x->cfg.idle_units = idle > 0x7fffffff ? 0x7fffffff
                      : idle            ? (uint32_t)idle
                                        : 1;
  x->cfg.seed = t.seed ^ 0x5c0e5c0e5c0e5c0eULL;
  /* Live: a key of its own, so no one can aim flows at one bucket. */
  if (!t.seed_fixed &&
      getrandom(&x->cfg.seed, sizeof(x->cfg.seed), 0) != sizeof(x->cfg.seed)) {
    snprintf(err, errlen, "no random source for the flow key");
    sconed_xdp_close(x);
    return NULL;
  }
  if (sconed_xdp_publish(x, e)) { /* writes the config too */
    snprintf(err, errlen, "cannot fill the XDP maps: %s", strerror(errno));
    sconed_xdp_close(x);
    return NULL;
  }
  return x;
}

void sconed_xdp_close(sconed_xdp *x) {
  if (!x)
    return;
  for (int i = 0; i < x->nlinks; i++)
    close(x->links[i]);
  scone_xdp__destroy(x->skel);
  free(x->frame);
  free(x);
}

static void prefix_key(const sconed_engine_prefix *p, struct xdp_sub_key *k) {
  memset(k, 0, sizeof(*k));
  if (p->family == 4) {
    k->addr[10] = k->addr[11] = 0xff;
    memcpy(k->addr + 12, p->addr, 4);
    k->prefixlen = 96U + p->plen;
  } else {
    memcpy(k->addr, p->addr, 16);
    k->prefixlen = p->plen;
  }
}

static int key_cmp(const void *a, const void *b) {
  return memcmp(a, b, sizeof(struct xdp_sub_key));
}

size_t sconed_xdp_map_prune(int fd, size_t key_size,
                            int (*keep)(const void *key, void *arg),
                            void *arg) {
  /* Keys of up to 64 bytes (the maps here have 4 to 20). */
  uint8_t cur[64], next[64], *gone = NULL;
  size_t ngone = 0, cap = 0;
  if (key_size > sizeof(cur))
    return 0;
  int more = bpf_map_get_next_key(fd, NULL, next) == 0;
  while (more) {
    memcpy(cur, next, key_size);
    more = bpf_map_get_next_key(fd, cur, next) == 0;
    if (keep(cur, arg))
      continue;
    if (ngone == cap) {
      cap = cap ? cap * 2 : 64;
      uint8_t *ng = realloc(gone, cap * key_size);
      if (!ng)
        break;
      gone = ng;
    }
    memcpy(gone + ngone++ * key_size, cur, key_size);
  }
  /* Deleted after the walk: deleting during it restarts get_next_key. */
  for (size_t i = 0; i < ngone; i++)
    bpf_map_delete_elem(fd, gone + i * key_size);
  free(gone);
  return ngone;
}

typedef struct sorted_keys {
  const struct xdp_sub_key *k;
  size_t n;
} sorted_keys;

static int in_config(const void *key, void *arg) {
  const sorted_keys *s = arg;
  return s->n && bsearch(key, s->k, s->n, sizeof(*s->k), key_cmp) != NULL;
}

int sconed_xdp_publish(sconed_xdp *x, const sconed_engine *e) {
  int fd = bpf_map__fd(x->skel->maps.subs);
  size_t n = sconed_engine_prefix_count(e);
  struct xdp_sub_key *keys = calloc(n ? n : 1, sizeof(*keys));
  if (!keys)
    return -1;
  /* New and changed prefixes first, stale ones removed after, so no
   * subscriber of both configs is ever missing from the trie. */
  for (size_t i = 0; i < n; i++) {
    sconed_engine_prefix p;
    if (sconed_engine_prefix_get(e, i, &p)) {
      free(keys);
      return -1;
    }
    prefix_key(&p, &keys[i]);
    struct xdp_sub v;
    memset(&v, 0, sizeof(v));
    memcpy(v.sig, p.sig, 2);
    memcpy(v.advise, p.advise, 2);
    v.plen = p.plen;
    v.kplen = (uint8_t)(p.family == 4 ? 96 + p.key_plen : p.key_plen);
    v.id = p.entry;
    v.burst = p.burst > 0 ? (uint32_t)p.burst : 0;
    v.rate_fp[0] = p.rate_fp[0];
    v.rate_fp[1] = p.rate_fp[1];
    if (bpf_map_update_elem(fd, &keys[i], &v, BPF_ANY)) {
      free(keys);
      return -1;
    }
  }
  /* Sorted, so that a config of 10^5 prefixes is not 10^10 compares. */
  qsort(keys, n, sizeof(*keys), key_cmp);
  sorted_keys s = {keys, n};
  sconed_xdp_map_prune(fd, sizeof(*keys), in_config, &s);
  free(keys);
  /* Flows decide again whether their plan enforces, against the trie as
   * it now stands (a reload changes plans and actions). */
  sconed_engine_timing t;
  sconed_engine_timing_get(e, &t);
  x->cfg.announce_grace = t.announce_grace;
  x->cfg.gen++;
  return write_cfg(x);
}

int sconed_xdp_set_now(sconed_xdp *x, scone_tstamp now) {
  x->cfg.now = now;
  return write_cfg(x);
}

int sconed_xdp_run(sconed_xdp *x, uint8_t *frame, size_t len) {
  LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
              .data_size_in = (uint32_t)len, .data_out = frame,
              .data_size_out = (uint32_t)len, .repeat = 1);
  if (bpf_prog_test_run_opts(bpf_program__fd(x->skel->progs.scone_xdp), &o))
    return -1;
  return (int)o.retval;
}

int sconed_xdp_bench(sconed_xdp *x, const uint8_t *frame, size_t len,
                     uint32_t repeat, uint32_t *ns) {
  LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
              .data_size_in = (uint32_t)len, .repeat = repeat);
  if (bpf_prog_test_run_opts(bpf_program__fd(x->skel->progs.scone_xdp), &o))
    return -1;
  *ns = o.duration;
  return 0;
}

/* One IP packet of the capture: in an Ethernet frame of its own (XDP sees
 * Ethernet), through the program, and back. */
static void xdp_ip(void *arg, uint8_t *ip, size_t len, scone_tstamp now,
                   sconed_verdict *v) {
  sconed_xdp *x = arg;
  /* The engine's clock never goes back (engine.c handle_slow). */
  if (now < x->last_now)
    now = x->last_now;
  x->last_now = now;
  if (len + 14 > x->framecap) {
    uint8_t *nf = realloc(x->frame, len + 14);
    if (!nf)
      return;
    x->frame = nf;
    x->framecap = len + 14;
  }
  memset(x->frame, 0, 12);
  x->frame[12] = len && (ip[0] >> 4) == 6 ? 0x86 : 0x08;
  x->frame[13] = len && (ip[0] >> 4) == 6 ? 0xdd : 0x00;
  memcpy(x->frame + 14, ip, len);
  if (sconed_xdp_set_now(x, now))
    return;
  int act = sconed_xdp_run(x, x->frame, len + 14);
  if (act == XDP_DROP) {
    v->action = SCONED_DROP;
    return;
  }
  if (act < 0)
    return;
  if (memcmp(ip, x->frame + 14, len)) {
    memcpy(ip, x->frame + 14, len);
    v->modified = 1;
  }
}

int sconed_xdp_pcap_run(sconed_xdp *x, const char *in, const char *out,
                        sconed_pcap_counts *counts, char *err, size_t errlen) {
  x->last_now = 0;
  int rc = sconed_pcap_run_fn(xdp_ip, x, in, out, counts, err, errlen);
  sconed_xdp_set_now(x, 0);
  return rc;
}

void sconed_xdp_counts_get(sconed_xdp *x, sconed_xdp_counts *c) {
  uint64_t sum[XS_MAX];
  memset(sum, 0, sizeof(sum));
  int ncpu = libbpf_num_possible_cpus();
  int fd = bpf_map__fd(x->skel->maps.stats);
  uint64_t *per = ncpu > 0 ? calloc((size_t)ncpu, sizeof(*per)) : NULL;
  for (uint32_t i = 0; per && i < XS_MAX; i++)
    if (bpf_map_lookup_elem(fd, &i, per) == 0)
      for (int k = 0; k < ncpu; k++)
        sum[i] += per[k];
  free(per);
  c->packets = sum[XS_PACKETS];
  c->udp = sum[XS_UDP];
  c->skipped = sum[XS_SKIPPED];
  c->scone = sum[XS_SCONE];
  c->rewrites = sum[XS_REWRITES];
  c->confirms = sum[XS_CONFIRMS];
  c->drops = sum[XS_DROPS];
  c->new_flows = sum[XS_NEW_FLOWS];
  c->flow_full = sum[XS_NFLOW_FAIL];
  c->enforced = sum[XS_ENFORCED];
  c->sbucket_full = sum[XS_SBUCKET_FULL];
}

int sconed_xdp_pflows_fd(const sconed_xdp *x) {
  return bpf_map__fd(x->skel->maps.pflows);
}

int sconed_xdp_fsubs_fd(const sconed_xdp *x) {
  return bpf_map__fd(x->skel->maps.fsubs);
}

int sconed_xdp_spolice_fd(const sconed_xdp *x) {
  return bpf_map__fd(x->skel->maps.spolice);
}

int sconed_xdp_set_policing(sconed_xdp *x, int on) {
  if (x->cfg.policing == (uint32_t) !!on)
    return 0;
  x->cfg.policing = (uint32_t) !!on;
  return write_cfg(x);
}

int sconed_xdp_flows_fd(const sconed_xdp *x) {
  return bpf_map__fd(x->skel->maps.flows);
}

size_t sconed_xdp_flow_entry_bytes(void) {
  /* An array map holds its values back to back: no per-entry header. A
   * slot is its flow and, in fsubs, its subscriber's key. */
  return sizeof(struct xdp_flow) + sizeof(((struct xdp_fsubs4 *)0)->key[0]);
}

size_t sconed_xdp_flow_slots(const sconed_xdp *x) {
  return (size_t)bpf_map__max_entries(x->skel->maps.flows) * XDP_WAYS;
}

int sconed_xdp_attach(sconed_xdp *x, const char *ifaces, int generic, char *err,
                      size_t errlen) {
  char list[256];
  snprintf(list, sizeof(list), "%s", ifaces);
  char *save = NULL;
  for (char *name = strtok_r(list, ",", &save); name;
       name = strtok_r(NULL, ",", &save)) {
    unsigned idx = if_nametoindex(name);
    if (!idx) {
      snprintf(err, errlen, "%s: no such interface", name);
      return -1;
    }
    if (x->nlinks == SCONED_XDP_MAX_LINKS) {
      snprintf(err, errlen, "at most %d interfaces", SCONED_XDP_MAX_LINKS);
      return -1;
    }
    LIBBPF_OPTS(bpf_link_create_opts, o,
                .flags = generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);
    int fd = bpf_link_create(bpf_program__fd(x->skel->progs.scone_xdp),
                             (int)idx, BPF_XDP, &o);
    if (fd < 0) {
      snprintf(err, errlen, "%s: cannot attach XDP (%s mode): %s", name,
               generic ? "generic" : "native", strerror(errno));
      return -1;
    }
    x->links[x->nlinks++] = fd;
  }
  return 0;
}
