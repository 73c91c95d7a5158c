/*
 * One direction of the emulated link. The queue is FIFO and the
 * bottleneck's schedule does not depend on later arrivals, so a packet's
 * departure is known the moment it is accepted: the state after the last
 * accepted packet (when it leaves, which opportunity comes next, how many
 * bytes of the current one are left) is all that is needed, and no timer
 * runs inside the model. The queue itself is kept only to count what is
 * waiting at a given time, for the drop-tail bound.
 */
#include "link.h"

#include <stdlib.h>
#include <string.h>

typedef struct rec {
  uint64_t start;  /* first moment the bottleneck served it */
  uint64_t depart; /* its last byte served */
  uint32_t len;
} rec;

struct lab_link {
  lab_link_settings s;
  uint64_t last_now;
  uint64_t busy_until; /* departure of the last accepted packet */
  /* Fixed rate: ns numerator carried between back-to-back packets, so a
   * saturated link delivers its rate exactly over time. */
  uint64_t rem;
  /* Trace: the next unused opportunity is ms[k] of the cycle at base;
   * left bytes remain in the one at busy_until. */
  size_t k;
  uint64_t base, period_ns;
  uint32_t left;
  /* Accepted, not yet departed, in arrival order (a ring). */
  rec *q;
  size_t qcap, qhead, qn;
  uint64_t qbytes;
  int loss_all;
  uint64_t loss_below; /* lost when a draw is below this */
  uint64_t rng;
  lab_link_stats st;
};

void lab_link_settings_default(lab_link_settings *s) {
  memset(s, 0, sizeof *s);
  s->seed = 1;
}

/* splitmix64: any seed (0 included) gives a full-period sequence. */
static uint64_t draw(lab_link *l) {
  uint64_t z = (l->rng += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

lab_link *lab_link_new(const lab_link_settings *s, uint64_t start) {
  if (!(s->loss >= 0 && s->loss <= 1))
    return NULL;
  if (s->trace && (s->trace->n == 0 || s->trace->period_ms == 0))
    return NULL;
  lab_link *l = calloc(1, sizeof *l);
  if (!l)
    return NULL;
  l->s = *s;
  l->last_now = start;
  l->busy_until = start;
  l->base = start;
  if (s->trace)
    l->period_ns = (uint64_t)s->trace->period_ms * LAB_NS_PER_MS;
  l->loss_all = s->loss >= 1;
  /* 2^64 * loss, below 2^64 since loss < 1 here. */
  l->loss_below =
      l->loss_all ? 0 : (uint64_t)(s->loss * 18446744073709551616.0);
  l->rng = s->seed;
  return l;
}

void lab_link_free(lab_link *l) {
  if (!l)
    return;
  free(l->q);
  free(l);
}

static rec *q_at(lab_link *l, size_t i) {
  return &l->q[(l->qhead + i) % l->qcap];
}

/* Room for one more record. */
static int q_reserve(lab_link *l) {
  if (l->qn < l->qcap)
    return 0;
  size_t ncap = l->qcap ? l->qcap * 2 : 64;
  rec *nq = malloc(ncap * sizeof *nq);
  if (!nq)
    return -1;
  for (size_t i = 0; i < l->qn; i++)
    nq[i] = *q_at(l, i);
  free(l->q);
  l->q = nq;
  l->qcap = ncap;
  l->qhead = 0;
  return 0;
}

static void q_expire(lab_link *l, uint64_t now) {
  while (l->qn > 0 && q_at(l, 0)->depart <= now) {
    l->qbytes -= q_at(l, 0)->len;
    l->qhead = (l->qhead + 1) % l->qcap;
    l->qn--;
  }
}

void lab_link_backlog(lab_link *l, uint64_t now, uint64_t *packets,
                      uint64_t *bytes) {
  if (now < l->last_now)
    now = l->last_now;
  q_expire(l, now);
  *packets = l->qn;
  *bytes = l->qbytes;
  /* The head is in transmission once the bottleneck started on it;
   * Mahimahi takes it out of the queue then. */
  if (l->qn > 0 && q_at(l, 0)->start <= now) {
    *packets -= 1;
    *bytes -= q_at(l, 0)->len;
  }
}

static uint64_t opp_time(const lab_link *l) {
  return l->base + (uint64_t)l->s.trace->ms[l->k] * LAB_NS_PER_MS;
}

static void opp_next(lab_link *l) {
  if (++l->k == l->s.trace->n) {
    l->k = 0;
    l->base += l->period_ns;
  }
}

/* Moves k to the first opportunity strictly after t: the ones before found
 * the queue empty and are wasted. */
static void opp_skip_past(lab_link *l, uint64_t t) {
  if (opp_time(l) > t)
    return;
  if (t - l->base >= l->period_ns) {
    l->base += (t - l->base) / l->period_ns * l->period_ns;
    l->k = 0;
    if (opp_time(l) > t)
      return;
  }
  /* Within this cycle; the last offset is the period, past t. */
  const uint32_t *ms = l->s.trace->ms;
  uint64_t rel = t - l->base;
  size_t lo = l->k, hi = l->s.trace->n - 1;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if ((uint64_t)ms[mid] * LAB_NS_PER_MS > rel)
      hi = mid;
    else
      lo = mid + 1;
  }
  l->k = lo;
}

/* Serves len bytes from the trace after what is queued; returns the
 * departure and sets *start. */
static uint64_t serve_trace(lab_link *l, uint64_t now, uint32_t len,
                            uint64_t *start) {
  uint32_t need = len;
  int started = 0;
  if (l->busy_until <= now) {
    opp_skip_past(l, now); /* what was left at busy_until is wasted */
  } else if (l->left > 0) {
    *start = l->busy_until;
    started = 1;
    if (need <= l->left) {
      l->left -= need;
      return l->busy_until;
    }
    need -= l->left;
    l->left = 0;
  }
  for (;;) {
    uint64_t t = opp_time(l);
    opp_next(l);
    if (!started) {
      *start = t;
      started = 1;
    }
    if (need <= LAB_LINK_MTU) {
      l->left = LAB_LINK_MTU - need;
      return t;
    }
    need -= LAB_LINK_MTU;
  }
}

static uint64_t serve_rate(lab_link *l, uint64_t now, uint32_t len,
                           uint64_t *start) {
  if (l->s.rate_bps == 0) {
    *start = now;
    return now;
  }
  if (l->busy_until <= now) {
    *start = now;
    l->rem = 0;
  } else {
    *start = l->busy_until;
  }
  /* 128 bits: len * 8e9 passes 2^64 for lengths above 2.3 GB. */
  unsigned __int128 numer = (unsigned __int128)len * 8 * 1000000000ULL + l->rem;
  l->rem = (uint64_t)(numer % l->s.rate_bps);
  return *start + (uint64_t)(numer / l->s.rate_bps);
}

lab_link_verdict lab_link_enqueue(lab_link *l, uint64_t now, uint32_t len,
                                  uint64_t *deliver_at) {
  if (now < l->last_now)
    now = l->last_now;
  l->last_now = now;
  if (len == 0)
    len = 1;
  l->st.packets_in++;
  l->st.bytes_in += len;
  /* One draw per packet whatever happens to it, so a seed gives the same
   * losses to the same packet numbers. */
  uint64_t r = draw(l);
  if (l->loss_all || r < l->loss_below) {
    l->st.lost++;
    return LAB_LINK_DROP_LOSS;
  }
  uint64_t wp, wb;
  lab_link_backlog(l, now, &wp, &wb);
  if ((l->s.queue_packets && wp + 1 > l->s.queue_packets) ||
      (l->s.queue_bytes && wb + len > l->s.queue_bytes)) {
    l->st.queue_drops++;
    return LAB_LINK_DROP_QUEUE;
  }
  /* Room first: serving changes the state for good. */
  if (q_reserve(l) != 0) {
    l->st.queue_drops++;
    return LAB_LINK_DROP_QUEUE;
  }
  rec *r0 = q_at(l, l->qn++);
  r0->len = len;
  r0->depart = l->s.trace ? serve_trace(l, now, len, &r0->start)
                          : serve_rate(l, now, len, &r0->start);
  l->qbytes += len;
  l->busy_until = r0->depart;
  l->st.passed++;
  l->st.passed_bytes += len;
  lab_link_backlog(l, now, &wp, &wb);
  if (wp > l->st.peak_queue_packets)
    l->st.peak_queue_packets = wp;
  if (wb > l->st.peak_queue_bytes)
    l->st.peak_queue_bytes = wb;
  *deliver_at = l->busy_until + l->s.delay_ns;
  return LAB_LINK_DELIVER;
}

void lab_link_stats_get(const lab_link *l, lab_link_stats *st) {
  *st = l->st;
}
