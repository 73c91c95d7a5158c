#include "nfq_sock.h"

#include "dp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>

/* How long a queue another process holds is waited for. */
#define BIND_WAIT_MS 1000
/* A verdict message without payload needs well under this. */
#define VERDICT_OVERHEAD 64

/* Only while binding: a packet that slips into a queue bound a moment ago
 * goes on untouched rather than wait for a loop that is not running yet. */
static void accept_stray(sconed_nfq_sock *s, const struct nlmsghdr *nlh) {
  struct nlattr *attr[NFQA_MAX + 1] = {0};
  if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
    return;
  const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
  const struct nfqnl_msg_packet_hdr *ph =
      mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
  uint8_t buf[VERDICT_OVERHEAD] = {0};
  sconed_nfq_tx tx = {buf, sizeof(buf), 0};
  if (sconed_nfq_verdict(&tx, ntohs(nfg->res_id), ntohl(ph->packet_id),
                         NF_ACCEPT, NULL, 0) == 0)
    sconed_nfq_flush(s, &tx);
}

/* Sends one request with NLM_F_ACK and reads until its answer. */
static int request(sconed_nfq_sock *s, struct nlmsghdr *nlh) {
  nlh->nlmsg_flags |= NLM_F_ACK;
  nlh->nlmsg_seq = ++s->seq;
  if (mnl_socket_sendto(s->nl, nlh, nlh->nlmsg_len) < 0)
    return -1;
  size_t cap = 0xffff + 4096;
  uint8_t *buf = malloc(cap);
  if (!buf)
    return -1;
  int ret = 1;
  while (ret == 1) {
    ssize_t n = recv(s->fd, buf, cap, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      ret = -1;
      break;
    }
    int len = (int)n;
    for (const struct nlmsghdr *m = (const struct nlmsghdr *)buf;
         mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
      if (m->nlmsg_type == NLMSG_ERROR && m->nlmsg_seq == nlh->nlmsg_seq) {
        const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);
        ret = e->error ? -1 : 0;
        if (e->error)
          errno = -e->error;
        break;
      }
      if ((m->nlmsg_type & 0xff) == NFQNL_MSG_PACKET &&
          (m->nlmsg_type >> 8) == NFNL_SUBSYS_QUEUE)
        accept_stray(s, m);
    }
  }
  free(buf);
  return ret;
}

static int bind_queue(sconed_nfq_sock *s, uint16_t q, uint32_t maxlen) {
  /* Bind, copy mode, length and fail-open in one message: the kernel
   * applies them together, so the queue never runs with defaults. Zeroed:
   * the attributes' padding goes to the kernel too. */
  uint8_t buf[256] = {0};
  struct nlmsghdr *nlh = nfq_nlmsg_put((char *)buf, NFQNL_MSG_CONFIG, q);
  nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
  nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
  nfq_nlmsg_cfg_put_qmaxlen(nlh, maxlen);
  /* No NFQA_CFG_F_GSO: the kernel then segments and completes checksums
   * before copying, so a rewritten packet's incremental checksum is right
   * and a verdict never has to carry a 64 KiB super-packet. */
  mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_FAIL_OPEN));
  mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN));
  return request(s, nlh);
}

/* 1 when another socket has queue q bound in this network namespace
 * (the kernel lists it), so a refused bind is worth waiting on; a bind
 * refused for want of CAP_NET_ADMIN fails at once. */
static int queue_held(uint16_t q) {
  int saved = errno; /* the bind's, for the message that may follow */
  FILE *f = fopen("/proc/net/netfilter/nfnetlink_queue", "r");
  if (!f) {
    errno = saved;
    return 0;
  }
  unsigned n;
  int held = 0;
  char line[256];
  while (!held && fgets(line, sizeof(line), f))
    held = sscanf(line, "%u", &n) == 1 && n == q;
  fclose(f);
  errno = saved;
  return held;
}

int sconed_nfq_open(sconed_nfq_sock *s, uint16_t lo, uint16_t hi,
                    uint32_t queue_maxlen, size_t rcvbuf) {
  memset(s, 0, sizeof(*s));
  s->fd = -1;
  s->nl = mnl_socket_open(NETLINK_NETFILTER);
  if (!s->nl) {
    sconed_dp_log("nfqueue: netlink socket: %s", strerror(errno));
    return -1;
  }
  if (mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    sconed_dp_log("nfqueue: netlink bind: %s", strerror(errno));
    sconed_nfq_close(s);
    return -1;
  }
  s->fd = mnl_socket_get_fd(s->nl);
  /* A full socket buffer must not turn into an error on our side: with
   * fail-open the kernel accepts what it cannot deliver. */
  int one = 1;
  setsockopt(s->fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));
  int rb = (int)rcvbuf;
  if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rb, sizeof(rb)) < 0)
    setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb));
  int sb = 1 << 20;
  if (setsockopt(s->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sb, sizeof(sb)) < 0)
    setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &sb, sizeof(sb));
  for (unsigned q = lo; q <= hi; q++) {
    /* A sconed killed a moment ago leaves its keeper (nfq_keeper.h) on
     * the queue for the few milliseconds it takes to release it: wait
     * for it, up to BIND_WAIT_MS, rather than fail a quick restart. */
    int r, waited = 0;
    while ((r = bind_queue(s, (uint16_t)q, queue_maxlen)) < 0 &&
           (errno == EPERM || errno == EBUSY) && waited < BIND_WAIT_MS &&
           queue_held((uint16_t)q)) {
      struct timespec ts = {0, 20 * 1000000L};
      nanosleep(&ts, NULL);
      waited += 20;
    }
    if (r < 0) {
      const char *hint = errno == EPERM
                             ? " (needs CAP_NET_ADMIN, or another process has "
                               "the queue)"
                         : errno == EBUSY ? " (another process has the queue)"
                                          : "";
      sconed_dp_log("nfqueue: cannot bind queue %u: %s%s", q, strerror(errno),
                    hint);
      sconed_nfq_close(s);
      return -1;
    }
  }
  return 0;
}

int sconed_nfq_stop_queueing(sconed_nfq_sock *s, uint16_t lo, uint16_t hi) {
  int r = 0;
  for (unsigned q = lo; q <= hi; q++) {
    uint8_t buf[128] = {0};
    struct nlmsghdr *nlh = nfq_nlmsg_put((char *)buf, NFQNL_MSG_CONFIG, (int)q);
    nfq_nlmsg_cfg_put_qmaxlen(nlh, 0);
    nlh->nlmsg_seq = ++s->seq;
    /* No ack asked: the packets queued before it still come in and the
     * receive loop judges them. */
    if (send(s->fd, nlh, nlh->nlmsg_len, 0) < 0)
      r = -1;
  }
  return r;
}

void sconed_nfq_close(sconed_nfq_sock *s) {
  if (s->nl)
    mnl_socket_close(s->nl);
  s->nl = NULL;
  s->fd = -1;
}

int sconed_nfq_verdict(sconed_nfq_tx *tx, uint16_t queue, uint32_t id,
                       int verdict, const uint8_t *payload, size_t len) {
  if (tx->len + VERDICT_OVERHEAD + MNL_ALIGN(payload ? len : 0) > tx->cap)
    return -1;
  struct nlmsghdr *nlh =
      nfq_nlmsg_put((char *)tx->buf + tx->len, NFQNL_MSG_VERDICT, queue);
  nfq_nlmsg_verdict_put(nlh, (int)id, verdict);
  if (payload)
    nfq_nlmsg_verdict_put_pkt(nlh, payload, (uint32_t)len);
  tx->len += nlh->nlmsg_len;
  return 0;
}

int sconed_nfq_verdict_batch(sconed_nfq_tx *tx, uint16_t queue, uint32_t id,
                             int verdict) {
  if (tx->len + VERDICT_OVERHEAD > tx->cap)
    return -1;
  struct nlmsghdr *nlh =
      nfq_nlmsg_put((char *)tx->buf + tx->len, NFQNL_MSG_VERDICT_BATCH, queue);
  nfq_nlmsg_verdict_put(nlh, (int)id, verdict);
  tx->len += nlh->nlmsg_len;
  return 0;
}

int sconed_nfq_flush(sconed_nfq_sock *s, sconed_nfq_tx *tx) {
  if (!tx->len)
    return 0;
  ssize_t n;
  /* On the descriptor alone (an unaddressed netlink send goes to the
   * kernel), so that the queue keeper, which has only that, uses it too. */
  do
    n = send(s->fd, tx->buf, tx->len, 0);
  while (n < 0 && errno == EINTR);
  tx->len = 0;
  return n < 0 ? -1 : 0;
}
