/*
 * The inline NFQUEUE datapath: queues N..M are split into contiguous
 * ranges, one per thread (a thread per queue, at most one per CPU unless
 * --nfqueue-threads says how many), each range over its own netlink
 * socket.
 *
 * Every thread hands its batches to the one engine under the run's lock
 * (dp.h), so a subscriber whose flows the kernel's --queue-balance hashes
 * onto several queues has one advice budget, one monitoring window, one
 * verdict and one policer bucket, exactly as with one thread. What runs in
 * parallel is everything outside the engine, which is most of the cost of
 * NFQUEUE: the receive (the kernel copies each packet into a netlink
 * message), the verdict send (the kernel re-injects the packet and
 * forwards it in that sendmsg) and the delay queue. The lock is held for
 * the parse, the engine's batch call and the verdict planning only
 * (docs/scaling.md has the figures and the model for many cores).
 *
 * Per wake-up: recvmmsg takes up to `batch` queued packets, the engine
 * judges them in one batch call, and all verdicts leave in one sendmsg. A
 * packet the engine changed needs its own verdict carrying the new bytes; so
 * does a drop. Untouched packets are accepted as a run with one batch verdict
 * (every id up to the last), which is sound only while this queue holds no
 * delayed packet (the batch would release it early) and after the single
 * verdicts of the same run, which is why those are queued first in the same
 * send.
 */
#include "nfq.h"

#include "delayq.h"
#include "nfq_keeper.h"
#include "nfq_sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>

/* A whole packet plus netlink attributes; a multiple of 8 keeps every
 * buffer of the batch aligned for struct nlmsghdr. */
#define RX_BUF (0x10000 + 4096)
#define TX_BUF (192 * 1024) /* under the default netlink send buffer */
#define RCVBUF (16 << 20)
/* While packets keep coming, poll only every so many receives. */
#define POLL_EVERY 64

typedef struct qstate {
  uint32_t run_hi; /* last id of the open run of untouched packets */
  int run_open;
  uint32_t held; /* packets of this queue in the delay queue */
} qstate;

typedef struct loop {
  sconed_dp *dp;
  sconed_nfq_sock s;
  sconed_nfq_tx tx;
  unsigned batch;
  int batch_verdicts;
  int draining;
  uint16_t lo, hi;
  qstate *q;
  struct mmsghdr *mm;
  struct iovec *iov;
  uint8_t *rx;
  sconed_delayq dq;
  /* Verdict sends that failed outside the lock, added to the run's
   * counter the next time the lock is held. */
  uint64_t send_errors, send_errors_pending;
  int quitfd; /* readable once any thread stops: every thread stops */
  int main;   /* this thread watches the signals */
  pthread_t thread;
  int rc;
  /* The batch being judged: packets point into rx. */
  size_t n, cap;
  uint16_t *queue;
  uint32_t *id;
  uint8_t **pkt;
  size_t *len;
  sconed_verdict *v;
} loop;

static void flush(loop *l) {
  if (sconed_nfq_flush(&l->s, &l->tx) < 0) {
    /* The packets stay queued in the kernel; say so, but not per packet. */
    l->send_errors_pending++;
    if (l->send_errors++ % 1000 == 0)
      sconed_dp_log("nfqueue: sending verdicts: %s (%llu so far)",
                    strerror(errno), (unsigned long long)l->send_errors);
  }
}

static void verdict(loop *l, uint16_t queue, uint32_t id, int v,
                    const uint8_t *payload, size_t len) {
  if (sconed_nfq_verdict(&l->tx, queue, id, v, payload, len) < 0) {
    flush(l);
    sconed_nfq_verdict(&l->tx, queue, id, v, payload, len);
  }
}

static void close_run(loop *l, uint16_t queue) {
  qstate *qs = &l->q[queue - l->lo];
  if (!qs->run_open)
    return;
  if (sconed_nfq_verdict_batch(&l->tx, queue, qs->run_hi, NF_ACCEPT) < 0) {
    flush(l);
    sconed_nfq_verdict_batch(&l->tx, queue, qs->run_hi, NF_ACCEPT);
  }
  l->dp->c.batch_verdicts++;
  qs->run_open = 0;
}

static void release_due(loop *l, scone_tstamp now) {
  sconed_delayed d;
  while (sconed_delayq_pop_due(&l->dq, now, &d)) {
    uint16_t queue = (uint16_t)(d.key >> 32);
    verdict(l, queue, (uint32_t)d.key, NF_ACCEPT, d.data, d.len);
    free(d.data);
    l->q[queue - l->lo].held--;
    l->dp->held--;
  }
}

/* Parses one queued packet into the batch; packets that cannot be judged
 * get their verdict here. */
static void on_packet(loop *l, const struct nlmsghdr *nlh) {
  sconed_dp *dp = l->dp;
  struct nlattr *attr[NFQA_MAX + 1] = {0};
  if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
    return; /* no id: nothing we could give a verdict for */
  const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
  uint16_t queue = ntohs(nfg->res_id);
  if (queue < l->lo || queue > l->hi)
    return;
  const struct nfqnl_msg_packet_hdr *ph =
      mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
  uint32_t id = ntohl(ph->packet_id);
  dp->c.rx++;
  uint8_t *pkt = NULL;
  size_t len = 0;
  if (attr[NFQA_PAYLOAD]) {
    pkt = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
    len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
  }
  /* A short copy could not be handed back whole (the kernel would trim the
   * packet to it), so such a packet is not ours to judge. */
  if (!pkt || (attr[NFQA_CAP_LEN] &&
               ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN])) != len)) {
    dp->c.truncated++;
    verdict(l, queue, id, NF_ACCEPT, NULL, 0);
    return;
  }
  size_t i = l->n++;
  l->queue[i] = queue;
  l->id[i] = id;
  l->pkt[i] = pkt;
  l->len[i] = len;
}

/* Carries out the engine's verdict on packet i of the batch. */
static void apply(loop *l, size_t i, const sconed_verdict *v) {
  sconed_dp *dp = l->dp;
  uint16_t queue = l->queue[i];
  uint32_t id = l->id[i];
  qstate *qs = &l->q[queue - l->lo];
  if (v->modified)
    dp->c.modified++;
  switch (v->action) {
  case SCONED_DROP:
    dp->c.dropped++;
    verdict(l, queue, id, NF_DROP, NULL, 0);
    return;
  case SCONED_DELAY:
    if (!l->draining) {
      /* Earlier untouched packets must not wait behind this one, and a
       * batch verdict issued later must not release it early. */
      close_run(l, queue);
      if (sconed_delayq_push(&l->dq, v->release_at,
                             ((uint64_t)queue << 32) | id, NULL,
                             v->modified ? l->pkt[i] : NULL, l->len[i]) == 0) {
        qs->held++;
        dp->held++;
        dp->c.delayed++;
      } else {
        dp->c.held_overflow++;
        verdict(l, queue, id, NF_DROP, NULL, 0);
      }
      return;
    }
    break; /* shutting down: forward now rather than lose it */
  case SCONED_PASS:
    break;
  }
  if (v->modified) {
    verdict(l, queue, id, NF_ACCEPT, l->pkt[i], l->len[i]);
  } else if (l->batch_verdicts && qs->held == 0) {
    qs->run_hi = id;
    qs->run_open = 1;
  } else {
    verdict(l, queue, id, NF_ACCEPT, NULL, 0);
  }
}

/* The engine judges the whole batch in one call, which lets it overlap
 * its flow-table cache misses; verdicts then go out in arrival order. */
static void judge(loop *l, scone_tstamp now) {
  if (!l->n)
    return;
  sconed_dp_judge(l->dp, l->pkt, l->len, l->n, now, l->v);
  for (size_t i = 0; i < l->n; i++)
    apply(l, i, &l->v[i]);
  /* Only this batch's queues can hold an open run, so closing them here
   * costs O(batch) however wide the queue range is. */
  for (size_t i = 0; i < l->n; i++)
    close_run(l, l->queue[i]);
  l->n = 0;
}

static void on_message(loop *l, uint8_t *buf, size_t n, scone_tstamp now) {
  int len = (int)n;
  for (const struct nlmsghdr *m = (const struct nlmsghdr *)buf;
       mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
    if (m->nlmsg_type == NLMSG_ERROR) {
      /* Only failed verdicts answer: an id the kernel no longer holds. */
      const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);
      if (e->error)
        l->dp->c.kernel_errors++;
      continue;
    }
    if ((m->nlmsg_type >> 8) != NFNL_SUBSYS_QUEUE ||
        (m->nlmsg_type & 0xff) != NFQNL_MSG_PACKET)
      continue;
    if (l->n == l->cap)
      judge(l, now);
    on_packet(l, m);
  }
}

/* The part of one wake-up under the lock: fold in what happened outside
 * it, release what the shaper holds, and judge the n datagrams received. */
static void judge_locked(loop *l, int n) {
  sconed_dp *dp = l->dp;
  sconed_dp_lock_pkt(dp);
  dp->c.send_errors += l->send_errors_pending;
  l->send_errors_pending = 0;
  scone_tstamp now = sconed_dp_now();
  release_due(l, now);
  for (int i = 0; i < n; i++)
    on_message(l, l->rx + (size_t)i * RX_BUF, l->mm[i].msg_len, now);
  judge(l, now);
  sconed_dp_unlock_pkt(dp);
}

/* One wake-up: receives (when the socket is readable) outside the lock,
 * judges under it, sends the verdicts outside it. Returns the number of
 * datagrams read. */
static int step(loop *l, int readable) {
  int n = 0;
  if (readable) {
    n = recvmmsg(l->s.fd, l->mm, l->batch, MSG_DONTWAIT, NULL);
    if (n < 0)
      n = 0;
  }
  judge_locked(l, n);
  flush(l);
  return n;
}

static int loop_init(loop *l, sconed_dp *dp, const sconed_nfq_settings *o,
                     uint16_t lo, uint16_t hi) {
  memset(l, 0, sizeof(*l));
  l->dp = dp;
  l->s.fd = -1;
  l->quitfd = -1;
  l->lo = lo;
  l->hi = hi;
  l->batch = o->batch ? o->batch : 1;
  l->batch_verdicts = o->batch_verdicts;
  l->q = calloc((size_t)(l->hi - l->lo) + 1, sizeof(*l->q));
  l->mm = calloc(l->batch, sizeof(*l->mm));
  l->iov = calloc(l->batch, sizeof(*l->iov));
  l->rx = malloc((size_t)l->batch * RX_BUF);
  /* Zeroed once: libmnl 1.0.4 leaves an attribute's padding as it finds
   * it, and the buffer goes to the kernel whole. */
  l->tx.buf = calloc(1, TX_BUF);
  l->tx.cap = TX_BUF;
  /* The kernel sends one packet per datagram; room for more is cheap. */
  l->cap = (size_t)l->batch * 2;
  l->queue = calloc(l->cap, sizeof(*l->queue));
  l->id = calloc(l->cap, sizeof(*l->id));
  l->pkt = calloc(l->cap, sizeof(*l->pkt));
  l->len = calloc(l->cap, sizeof(*l->len));
  l->v = calloc(l->cap, sizeof(*l->v));
  if (!l->q || !l->mm || !l->iov || !l->rx || !l->tx.buf || !l->queue ||
      !l->id || !l->pkt || !l->len || !l->v ||
      sconed_delayq_init(&l->dq, o->max_held) < 0) {
    sconed_dp_log("nfqueue: out of memory");
    return -1;
  }
  for (unsigned i = 0; i < l->batch; i++) {
    l->iov[i].iov_base = l->rx + (size_t)i * RX_BUF;
    l->iov[i].iov_len = RX_BUF;
    l->mm[i].msg_hdr.msg_iov = &l->iov[i];
    l->mm[i].msg_hdr.msg_iovlen = 1;
  }
  return sconed_nfq_open(&l->s, l->lo, l->hi, o->queue_maxlen, RCVBUF);
}

static void loop_free(loop *l) {
  sconed_nfq_close(&l->s);
  sconed_delayq_free(&l->dq);
  free(l->q);
  free(l->mm);
  free(l->iov);
  free(l->rx);
  free(l->tx.buf);
  free(l->queue);
  free(l->id);
  free(l->pkt);
  free(l->len);
  free(l->v);
}

/* On the way out nothing queued may be lost, since closing the socket
 * makes the kernel drop its queue: the queues first stop taking packets
 * (with fail-open new ones pass untouched), then what the shaper holds
 * goes out and every packet still queued is judged, until the queue has
 * been quiet for a moment (at most DRAIN_MAX_MS in all). */
#define DRAIN_QUIET_MS 50
#define DRAIN_MAX_MS 3000
static void drain(loop *l) {
  /* Each thread drains its own queues, taking the lock per batch as it
   * runs, so the other threads drain theirs at the same time. */
  if (sconed_nfq_stop_queueing(&l->s, l->lo, l->hi) < 0)
    sconed_dp_log("nfqueue: cannot stop queueing: %s", strerror(errno));
  sconed_dp_lock_pkt(l->dp);
  l->draining = 1;
  release_due(l, UINT64_MAX);
  sconed_dp_unlock_pkt(l->dp);
  flush(l);
  scone_tstamp end = sconed_dp_now() + DRAIN_MAX_MS * SCONE_MILLISECONDS;
  struct pollfd pfd = {l->s.fd, POLLIN, 0};
  while (sconed_dp_now() < end) {
    if (step(l, 1) > 0)
      continue;
    if (poll(&pfd, 1, DRAIN_QUIET_MS) <= 0)
      break;
  }
  flush(l);
  sconed_dp_lock_pkt(l->dp);
  l->dp->c.send_errors += l->send_errors_pending;
  l->send_errors_pending = 0;
  sconed_dp_unlock_pkt(l->dp);
}

void sconed_nfq_settings_default(sconed_nfq_settings *s) {
  memset(s, 0, sizeof(*s));
  s->batch = 32;
  s->batch_verdicts = 1;
  s->queue_maxlen = 4096;
  s->max_held = 16384;
  s->threads = 0;
  s->keeper = 0;
}

/* Serves l's queues until a signal (the main thread), the stop eventfd or
 * another thread's stop (quitfd) says stop, then drains them. */
static int serve(loop *l) {
  sconed_dp *dp = l->dp;
  struct pollfd pfd[4] = {{l->s.fd, POLLIN, 0},
                          {l->quitfd, POLLIN, 0},
                          {l->main ? dp->sigfd : -1, POLLIN, 0},
                          {l->main ? dp->stopfd : -1, POLLIN, 0}};
  unsigned iter = 0;
  int busy = 0;
  for (;;) {
    int readable = 1;
    if (!busy || ++iter % POLL_EVERY == 0) {
      struct timespec ts, *tsp = NULL;
      scone_tstamp next = sconed_delayq_next(&l->dq);
      if (next != UINT64_MAX) {
        scone_tstamp now = sconed_dp_now();
        scone_duration wait = next > now ? next - now : 0;
        ts.tv_sec = (time_t)(wait / SCONE_SECONDS);
        ts.tv_nsec = (long)(wait % SCONE_SECONDS);
        tsp = &ts;
      }
      int r = ppoll(pfd, 4, tsp, NULL);
      if (r < 0 && errno != EINTR) {
        sconed_dp_log("nfqueue: poll: %s", strerror(errno));
        break;
      }
      if (r > 0 && (pfd[1].revents & POLLIN))
        break;
      if (r > 0 && ((pfd[2].revents | pfd[3].revents) & POLLIN) &&
          sconed_dp_signals_handle(dp))
        break;
      readable = r > 0 && (pfd[0].revents & POLLIN);
    }
    busy = step(l, readable) > 0;
  }
  /* An eventfd left at a non-zero count stays readable for every poll. */
  uint64_t one = 1;
  if (write(l->quitfd, &one, sizeof(one)) < 0)
    sconed_dp_log("nfqueue: cannot stop the other threads: %s",
                  strerror(errno));
  drain(l);
  return 0;
}

static void *serve_thread(void *arg) {
  loop *l = arg;
  l->rc = serve(l);
  return NULL;
}

int sconed_nfq_run(sconed_dp *dp, const sconed_nfq_settings *o) {
  unsigned nq = (unsigned)(o->queue_hi - o->queue_lo) + 1;
  /* By default a thread per queue, but no more threads than CPUs: a wide
   * range (0:1023) must not start a thousand threads that only take turns
   * on the lock. */
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  unsigned want = o->threads ? o->threads : cpus > 0 ? (unsigned)cpus : 1;
  unsigned nt = want < nq ? want : nq;
  loop *ls = calloc(nt, sizeof(*ls));
  int quitfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  int ok = ls && quitfd >= 0;
  unsigned inited = 0;
  /* The shaper's hold is shared out, so the run holds what it says. */
  sconed_nfq_settings per = *o;
  per.max_held = o->max_held / nt ? o->max_held / nt : 1;
  /* Thread t serves an equal share of the range, the first nq % nt one
   * queue more. Every socket is bound before any thread starts, so a
   * queue that cannot be bound fails the start as one thread did. */
  for (unsigned t = 0, q = o->queue_lo; ok && t < nt; t++) {
    unsigned k = nq / nt + (t < nq % nt);
    ok = loop_init(&ls[t], dp, &per, (uint16_t)q, (uint16_t)(q + k - 1)) == 0;
    inited = t + 1;
    ls[t].quitfd = quitfd;
    ls[t].main = t == 0;
    q += k;
  }
  if (!ok) {
    if (!ls || quitfd < 0)
      sconed_dp_log("nfqueue: out of memory");
    for (unsigned t = 0; t < inited; t++)
      loop_free(&ls[t]);
    free(ls);
    if (quitfd >= 0)
      close(quitfd);
    return -1;
  }
  /* The keeper copies the sockets now, bound and before any thread runs. */
  int keeper = -1, keeper_done = -1;
  sconed_nfq_kept *kept = o->keeper ? calloc(nt, sizeof(*kept)) : NULL;
  if (kept) {
    for (unsigned t = 0; t < nt; t++)
      kept[t] = (sconed_nfq_kept){ls[t].s.fd, ls[t].lo, ls[t].hi};
    keeper = sconed_nfq_keeper_start(kept, nt, &keeper_done);
    free(kept);
  }
  if (!dp->quiet)
    sconed_dp_log("nfqueue: serving queues %u..%u (batch %u%s, %u thread%s%s)",
                  o->queue_lo, o->queue_hi, ls[0].batch,
                  ls[0].batch_verdicts ? ", batch verdicts" : "", nt,
                  nt == 1 ? "" : "s", keeper > 0 ? ", a keeper" : "");
  sconed_dp_notify(dp, "READY=1\nSTATUS=serving NFQUEUE %u..%u", o->queue_lo,
                   o->queue_hi);
  unsigned started = 1;
  for (unsigned t = 1; t < nt; t++) {
    if (pthread_create(&ls[t].thread, NULL, serve_thread, &ls[t]) != 0) {
      sconed_dp_log("nfqueue: cannot start thread %u: queues %u..%u keep "
                    "their packets until the stop",
                    t, ls[t].lo, ls[t].hi);
      break;
    }
    started++;
  }
  serve(&ls[0]);
  for (unsigned t = 1; t < started; t++)
    pthread_join(ls[t].thread, NULL);
  /* A thread that never started still drains its queues on the way out. */
  for (unsigned t = started; t < nt; t++)
    drain(&ls[t]);
  for (unsigned t = 0; t < nt; t++)
    loop_free(&ls[t]);
  if (keeper > 0)
    sconed_nfq_keeper_end(keeper, keeper_done);
  free(ls);
  close(quitfd);
  return 0;
}
