#include "xdp_mon.h"

#include "bytemon.h"
#include "scone_xdp.h"
#include "xdp_agg.h"

#include <bpf/bpf.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* What the loop keeps per slot of the program's flow table (slots never
 * move a flow, so the slot index is the key; the fingerprint says whether
 * the same flow is still there). */
typedef struct mon_slot {
  uint64_t tag;
  uint64_t first; /* ns, when the loop first saw it */
  uint32_t units[2];
  uint8_t policed; /* bit d: an entry in pflows polices direction d */
  sconed_bytemon bm;
} mon_slot;

struct sconed_xdp_mon {
  sconed_xdp *x;
  const struct xdp_flow *flows; /* the program's table, read-only */
  size_t map_len;
  const uint32_t *fsubs; /* per slot, its subscriber's key; read-only */
  size_t fsubs_len;
  sconed_xdp_agg agg;
  size_t nspoliced; /* subscribers with an entry in spolice */
  size_t nslots;
  mon_slot *s;
  size_t npoliced;
  uint64_t allow16[SCONE_SIGNAL_MAX + 1];
  sconed_xdp_mon_stats st;
};

uint64_t sconed_xdp_mon_interval(uint64_t period) {
  uint64_t i = period / 8;
  if (i < 50 * 1000000ULL)
    i = 50 * 1000000ULL;
  if (i > 250 * 1000000ULL)
    i = 250 * 1000000ULL;
  return i;
}

sconed_xdp_mon *sconed_xdp_mon_new(sconed_xdp *x, char *err, size_t errlen) {
  sconed_xdp_mon *m = calloc(1, sizeof(*m));
  if (!m) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  m->x = x;
  m->nslots = sconed_xdp_flow_slots(x);
  long page = sysconf(_SC_PAGESIZE);
  size_t bytes = m->nslots * sizeof(struct xdp_flow);
  m->map_len = (bytes + (size_t)page - 1) / (size_t)page * (size_t)page;
  void *p =
      mmap(NULL, m->map_len, PROT_READ, MAP_SHARED, sconed_xdp_flows_fd(x), 0);
  m->s = calloc(m->nslots, sizeof(*m->s));
  if (p == MAP_FAILED || !m->s) {
    snprintf(err, errlen, "cannot map the XDP flow table: %s",
             p == MAP_FAILED ? strerror(errno) : "out of memory");
    if (p != MAP_FAILED)
      munmap(p, m->map_len);
    free(m->s);
    free(m);
    return NULL;
  }
  m->flows = p;
  m->fsubs_len = (m->nslots * sizeof(uint32_t) + (size_t)page - 1) /
                 (size_t)page * (size_t)page;
  void *q = mmap(NULL, m->fsubs_len, PROT_READ, MAP_SHARED,
                 sconed_xdp_fsubs_fd(x), 0);
  if (q == MAP_FAILED) {
    snprintf(err, errlen, "cannot map the XDP flows' subscribers: %s",
             strerror(errno));
    sconed_xdp_mon_free(m);
    return NULL;
  }
  m->fsubs = q;
  sconed_xdp_agg_init(&m->agg);
  return m;
}

void sconed_xdp_mon_free(sconed_xdp_mon *m) {
  if (!m)
    return;
  munmap((void *)m->flows, m->map_len);
  if (m->fsubs)
    munmap((void *)m->fsubs, m->fsubs_len);
  sconed_xdp_agg_free(&m->agg);
  free(m->s);
  free(m);
}

static void unpolice(sconed_xdp_mon *m, mon_slot *ms) {
  if (!ms->policed)
    return;
  bpf_map_delete_elem(sconed_xdp_pflows_fd(m->x), &ms->tag);
  ms->policed = 0;
  m->npoliced--;
}

static const char *dir_name(unsigned dirs) {
  return dirs == 3                           ? "both directions"
         : dirs & (1U << SCONE_DIR_DOWNLINK) ? "downlink"
                                             : "uplink";
}

/* Arms (or re-arms with other directions) the program's bucket for the
 * flow; the program fills it at the subscriber's rate on its next packet. */
static void police(sconed_xdp_mon *m, mon_slot *ms, unsigned dirs,
                   uint64_t now) {
  struct xdp_police b;
  memset(&b, 0, sizeof(b));
  b.dirs = dirs;
  int fd = sconed_xdp_pflows_fd(m->x);
  if (ms->policed) {
    /* Keep the tokens: only the directions change. */
    if (bpf_map_lookup_elem(fd, &ms->tag, &b) == 0)
      b.dirs = dirs;
  }
  if (bpf_map_update_elem(fd, &ms->tag, &b, BPF_ANY)) {
    m->st.police_errors++;
    return;
  }
  if (!ms->policed)
    m->npoliced++;
  ms->policed = (uint8_t)dirs;
  fprintf(stderr,
          "sconed: xdp: a flow is non-conforming (%s), policed; first seen "
          "%.2f s ago\n",
          dir_name(dirs), (double)(now - ms->first) / 1e9);
}

/* Sets the directions the SCONE flows of a subscriber are policed in on
 * its bucket. The bucket may already exist (the program makes it for the
 * flows its plan enforces without advice): its tokens are kept, as the
 * engine's one aggregate bucket keeps them. Returns 0 or -1. */
static int set_sub_dirs(int fd, uint32_t key, unsigned dirs) {
  for (int tries = 0; tries < 2; tries++) {
    struct xdp_spolice b;
    memset(&b, 0, sizeof(b));
    if (bpf_map_lookup_elem_flags(fd, &key, &b, BPF_F_LOCK) == 0) {
      if (b.dirs == dirs)
        return 0;
      b.dirs = dirs;
      /* Under the entry's lock: the program's tokens are copied back as
       * read, so at most what it spent in between is refunded. */
      if (bpf_map_update_elem(fd, &key, &b, BPF_F_LOCK | BPF_EXIST) == 0)
        return 0;
    } else {
      if (!dirs)
        return 0;
      b.dirs = dirs;
      if (bpf_map_update_elem(fd, &key, &b, BPF_NOEXIST) == 0)
        return 0;
    }
    /* Made or removed in between by the program or a sweep: once more. */
    if (errno != EEXIST && errno != ENOENT)
      return -1;
  }
  return -1;
}

/* Arms, re-arms or disarms the SCONE flows' share of a subscriber's
 * bucket to its verdict. */
static void police_sub(sconed_xdp_mon *m, sconed_xdp_agg_sub *a) {
  int fd = sconed_xdp_spolice_fd(m->x);
  unsigned dirs = a->nc & MON_NC_ANY;
  if (!dirs) {
    /* The entry stays for the flows the plan enforces; a sweep removes it
     * once idle. */
    if (set_sub_dirs(fd, a->key, 0))
      bpf_map_delete_elem(fd, &a->key);
    a->armed = 0;
    m->nspoliced--;
    m->st.sub_released++;
    fprintf(stderr, "sconed: xdp: a policed subscriber conforms again, "
                    "released\n");
    return;
  }
  int had = a->armed != 0;
  if (set_sub_dirs(fd, a->key, dirs)) {
    m->st.police_errors++;
    return;
  }
  if (!had)
    m->nspoliced++;
  a->armed = (uint8_t)dirs;
  fprintf(stderr,
          "sconed: xdp: a subscriber is non-conforming (%s), its %u SCONE "
          "flows policed together\n",
          dir_name(dirs), a->flows);
}

typedef struct sweep_arg {
  int fd;
  uint32_t now_u, idle_u; /* in 2^20 ns */
} sweep_arg;

/* Keeps a subscriber bucket a verdict holds or a packet drew from within
 * the idle timeout (scone_xdp.h's last: 2^20 ns in the low 32 bits, 0 when
 * never drawn from). */
static int bucket_live(const void *key, void *arg) {
  const sweep_arg *a = arg;
  struct xdp_spolice b;
  if (bpf_map_lookup_elem_flags(a->fd, key, &b, BPF_F_LOCK) != 0)
    return 1; /* gone meanwhile */
  return b.dirs || (b.last && a->now_u - (uint32_t)b.last < a->idle_u);
}

int sconed_xdp_mon_scan(sconed_xdp_mon *m, const sconed_engine *e,
                        uint64_t now) {
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  sconed_engine_timing t;
  sconed_engine_timing_get(e, &t);
  sconed_engine_allowance(e, m->allow16);
  uint64_t half = t.period / 2 ? t.period / 2 : 1;
  uint64_t h = now / half;
  /* Periods as the program numbers them (now / period), low 4 bits. */
  unsigned pnow = (unsigned)((now / (t.period ? t.period : 1)) & 0xf);
  uint64_t nflows = 0, judged = 0, nc_flows = 0;
  int agg_ok = sconed_xdp_agg_begin(&m->agg, h) == 0;
  for (size_t i = 0; i < m->nslots; i++) {
    const volatile struct xdp_flow *vf = &m->flows[i];
    uint64_t tag = vf->tag;
    mon_slot *ms = &m->s[i];
    if (!tag) {
      if (ms->tag) {
        unpolice(m, ms);
        ms->tag = 0;
      }
      continue;
    }
    struct xdp_flow f;
    memcpy(&f, (const void *)vf, sizeof(f));
    if (f.tag != tag || vf->tag != tag)
      continue; /* being replaced: the next read */
    nflows++;
    if (ms->tag != tag) {
      unpolice(m, ms);
      ms->tag = tag;
      ms->first = now;
      ms->units[0] = ms->units[1] = 0;
      sconed_bytemon_init(&ms->bm, h);
    }
    if (h < ms->bm.h) /* a shorter period after a reload */
      sconed_bytemon_init(&ms->bm, h);
    uint32_t add[2];
    uint8_t sig[2];
    for (int d = 0; d < 2; d++) {
      /* Below the last read: the program restarted the flow after an
       * idle timeout (or the counter wrapped, after 64 GiB): the count
       * is what it holds. */
      add[d] =
          f.units[d] >= ms->units[d] ? f.units[d] - ms->units[d] : f.units[d];
      ms->units[d] = f.units[d];
      unsigned per = (f.adv >> (4 * d)) & 0xfU;
      sig[d] = f.target[d] != XDP_SIGNAL_UNKNOWN && per == pnow
                   ? f.target[d]
                   : SCONE_SIGNAL_UNKNOWN;
    }
    if (!(f.flags & XF_SCONE) || (f.flags & (XF_NO_SUB | XF_DIR_UNKNOWN))) {
      sconed_bytemon_init(&ms->bm, h);
      continue;
    }
    /* The subscriber's sum (engine.c counts a SCONE flow's bytes to its
     * subscriber once it is tied to one: advice given, side known). The
     * key is read after the flow; a slot reused in between is caught by
     * the tag read again. */
    uint32_t key = m->fsubs[i];
    if (agg_ok && key && vf->tag == tag &&
        sconed_xdp_agg_add(&m->agg, key, add, sig))
      m->st.police_errors++;
    unsigned nc = sconed_bytemon_step(&ms->bm, m->allow16, h, add, sig);
    if (mon_advised(ms->bm.ms[0]) || mon_advised(ms->bm.ms[1]))
      judged++;
    unsigned dirs = nc & MON_NC_ANY; /* MON_NC(d) is bit d */
    if (dirs)
      nc_flows++;
    if (ms->bm.marked[0] || ms->bm.marked[1])
      m->st.transitions++;
    if (dirs && dirs != ms->policed) {
      police(m, ms, dirs, now);
    } else if (!dirs && ms->policed) {
      unpolice(m, ms);
      m->st.forgiven++;
      fprintf(stderr, "sconed: xdp: a policed flow conforms again, released\n");
    }
  }
  uint64_t nc_subs = 0;
  if (agg_ok) {
    sconed_xdp_agg_end(&m->agg, m->allow16);
    for (size_t i = 0; i < m->agg.n; i++) {
      sconed_xdp_agg_sub *a = &m->agg.s[i];
      if (a->nc)
        nc_subs++;
      m->st.sub_transitions += a->bm.marked[0] + a->bm.marked[1];
      if (a->nc != a->armed)
        police_sub(m, a);
    }
    m->st.subs = m->agg.n;
  }
  m->st.subs_nonconforming = nc_subs;
  if (sconed_xdp_set_policing(m->x, m->npoliced + m->nspoliced > 0))
    m->st.police_errors++;
  /* Every 16th read, about every two periods (reads are an eighth of one,
   * 50-250 ms): a walk of the map is two system calls per entry. The
   * program makes a bucket per subscriber whose plan it enforces, and a
   * hash map with a lock cannot be an LRU one. */
  if (m->st.scans % 16 == 0) {
    uint64_t idle = t.idle_timeout ? t.idle_timeout : t.period;
    sweep_arg a = {sconed_xdp_spolice_fd(m->x), (uint32_t)(now >> 20),
                   (uint32_t)(idle >> 20)};
    sconed_xdp_map_prune(a.fd, sizeof(uint32_t), bucket_live, &a);
  }
  m->st.scans++;
  m->st.flows = nflows;
  m->st.judged = judged;
  m->st.nonconforming = nc_flows;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  m->st.scan_ns_last = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000ULL +
                       (uint64_t)t1.tv_nsec - (uint64_t)t0.tv_nsec;
  return 0;
}

void sconed_xdp_mon_stats_get(const sconed_xdp_mon *m,
                              sconed_xdp_mon_stats *s) {
  *s = m->st;
}
