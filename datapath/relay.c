/*
 * The UDP relay: sconed in front of a server, without privileges. Clients
 * send to LISTEN; each client address gets its own connected socket to
 * the upstream, so a reply's socket tells whose it is. Datagrams go
 * through the engine with a tuple made of the client's and the upstream's
 * addresses: client to server as the flow's initiator (uplink), server to
 * client as its reverse (downlink). One epoll loop; a timerfd fires for
 * the shaper's release times and the idle sweep.
 */
#include "relay.h"

#include "addr.h"
#include "delayq.h"
#include "relay_clients.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

enum { K_LISTEN = 1, K_TIMER, K_SIGNAL, K_CLIENT };
enum { DIR_UP = 0, DIR_DOWN = 1 };

#define MAX_CLIENTS 4096
#define PER_WAKE 64 /* datagrams per socket per wake-up, for fairness */
#define SWEEP_EVERY SCONE_SECONDS
#define SOCKBUF (4 << 20)

typedef struct relay {
  sconed_dp *dp;
  int ep, lfd, tfd;
  sconed_addr listen, upstream;
  sconed_relay_clients clients;
  sconed_delayq dq;
  scone_duration idle;
  scone_tstamp next_sweep;
  scone_tstamp armed; /* the timerfd's expiry as last set */
  int k_listen, k_timer, k_signal;
  uint8_t buf[65536];
} relay;

static void send_dir(relay *r, sconed_relay_client *c, int dir,
                     const uint8_t *p, size_t n) {
  ssize_t s = dir == DIR_UP
                  ? send(c->fd, p, n, 0)
                  : sendto(r->lfd, p, n, 0,
                           (const struct sockaddr *)&c->addr.ss, c->addr.len);
  if (s < 0)
    r->dp->c.send_errors++;
}

static void deliver(relay *r, sconed_relay_client *c, int dir,
                    const sconed_verdict *v, size_t n) {
  sconed_dp *dp = r->dp;
  if (v->modified)
    dp->c.modified++;
  switch (v->action) {
  case SCONED_DROP:
    dp->c.dropped++;
    return;
  case SCONED_DELAY:
    if (sconed_delayq_push(&r->dq, v->release_at, (uint64_t)dir, c, r->buf,
                           n) == 0) {
      c->held++;
      dp->held++;
      dp->c.delayed++;
    } else {
      dp->c.held_overflow++;
    }
    return;
  case SCONED_PASS:
    send_dir(r, c, dir, r->buf, n);
    return;
  }
}

static sconed_relay_client *new_client(relay *r, const sconed_addr *from) {
  /* Checked before the socket, so that while the table stays full each
   * datagram of a new client costs no socket, connect and close. */
  if (r->clients.count >= r->clients.max) {
    if (r->dp->c.dropped % 1000 == 0)
      sconed_dp_log("relay: client table full (%d)", MAX_CLIENTS);
    return NULL;
  }
  int fd = socket(r->upstream.ss.ss_family,
                  SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    if (r->dp->c.dropped % 1000 == 0)
      sconed_dp_log("relay: no socket for a new client: %s", strerror(errno));
    return NULL;
  }
  if (connect(fd, (const struct sockaddr *)&r->upstream.ss, r->upstream.len) <
      0) {
    close(fd);
    return NULL;
  }
  sconed_relay_client *c = sconed_relay_clients_add(&r->clients, from, fd);
  if (!c) {
    if (r->dp->c.dropped % 1000 == 0)
      sconed_dp_log("relay: out of memory for a new client");
    close(fd);
    return NULL;
  }
  c->kind = K_CLIENT;
  sconed_addr_tuple(from, &r->upstream, &c->up);
  sconed_addr_tuple(&r->upstream, from, &c->down);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
  epoll_ctl(r->ep, EPOLL_CTL_ADD, fd, &ev);
  r->dp->c.relay_clients = r->clients.count;
  return c;
}

static void on_listen(relay *r, scone_tstamp now) {
  for (int i = 0; i < PER_WAKE; i++) {
    sconed_addr from;
    from.len = sizeof(from.ss);
    ssize_t n = recvfrom(r->lfd, r->buf, sizeof(r->buf), MSG_DONTWAIT,
                         (struct sockaddr *)&from.ss, &from.len);
    if (n < 0)
      return;
    r->dp->c.rx++;
    sconed_relay_client *c = sconed_relay_clients_find(&r->clients, &from);
    if (!c && !(c = new_client(r, &from))) {
      r->dp->c.dropped++;
      continue;
    }
    c->last = now;
    sconed_verdict v;
    sconed_engine_process_udp(r->dp->engine, &c->up, r->buf, (size_t)n, now,
                              &v);
    deliver(r, c, DIR_UP, &v, (size_t)n);
  }
}

static void on_upstream(relay *r, sconed_relay_client *c, scone_tstamp now) {
  for (int i = 0; i < PER_WAKE; i++) {
    ssize_t n = recv(c->fd, r->buf, sizeof(r->buf), MSG_DONTWAIT);
    if (n < 0)
      return; /* EAGAIN, or an ICMP error from the upstream: nothing to do */
    r->dp->c.rx++;
    c->last = now;
    sconed_verdict v;
    sconed_engine_process_udp(r->dp->engine, &c->down, r->buf, (size_t)n, now,
                              &v);
    deliver(r, c, DIR_DOWN, &v, (size_t)n);
  }
}

static void release_due(relay *r, scone_tstamp now) {
  sconed_delayed d;
  while (sconed_delayq_pop_due(&r->dq, now, &d)) {
    sconed_relay_client *c = d.owner;
    send_dir(r, c, (int)d.key, d.data, d.len);
    free(d.data);
    c->held--;
    r->dp->held--;
  }
}

static void arm_timer(relay *r) {
  scone_tstamp next = sconed_delayq_next(&r->dq);
  if (r->next_sweep < next)
    next = r->next_sweep;
  /* Each wake-up leaves only future times behind, so an unchanged expiry
   * is still pending (or has just fired): spare the per-wake syscall. */
  if (next == r->armed)
    return;
  r->armed = next;
  struct itimerspec its = {0};
  its.it_value.tv_sec = (time_t)(next / SCONE_SECONDS);
  its.it_value.tv_nsec = (long)(next % SCONE_SECONDS);
  timerfd_settime(r->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static int add_fd(relay *r, int fd, int *tag) {
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = tag};
  return fd < 0 ? 0 : epoll_ctl(r->ep, EPOLL_CTL_ADD, fd, &ev);
}

static int relay_open(relay *r, sconed_dp *dp, const sconed_relay_settings *o) {
  char err[256];
  r->dp = dp;
  r->ep = r->lfd = r->tfd = -1;
  r->idle = (scone_duration)o->idle_ms * SCONE_MILLISECONDS;
  r->k_listen = K_LISTEN;
  r->k_timer = K_TIMER;
  r->k_signal = K_SIGNAL;
  if (sconed_relay_clients_init(&r->clients, MAX_CLIENTS) < 0 ||
      sconed_delayq_init(&r->dq, o->max_held) < 0) {
    sconed_dp_log("relay: out of memory");
    return -1;
  }
  if (sconed_addr_parse(o->listen, &r->listen, err, sizeof(err)) < 0 ||
      sconed_addr_parse(o->upstream, &r->upstream, err, sizeof(err)) < 0) {
    sconed_dp_log("relay: %s", err);
    return -1;
  }
  r->lfd = socket(r->listen.ss.ss_family,
                  SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (r->lfd < 0 ||
      bind(r->lfd, (const struct sockaddr *)&r->listen.ss, r->listen.len) < 0) {
    sconed_dp_log("relay: cannot listen on %s: %s", o->listen, strerror(errno));
    return -1;
  }
  /* Port 0 lets the kernel pick: log the address really bound so callers
   * (tests, the demo) can find it. */
  r->listen.len = sizeof(r->listen.ss);
  getsockname(r->lfd, (struct sockaddr *)&r->listen.ss, &r->listen.len);
  int sz = SOCKBUF;
  setsockopt(r->lfd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
  setsockopt(r->lfd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
  /* One socket per client: make room for a full table if allowed. */
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < MAX_CLIENTS + 64) {
    rl.rlim_cur =
        rl.rlim_max < MAX_CLIENTS + 64 ? rl.rlim_max : MAX_CLIENTS + 64;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  r->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  r->ep = epoll_create1(EPOLL_CLOEXEC);
  if (r->tfd < 0 || r->ep < 0 || add_fd(r, r->lfd, &r->k_listen) < 0 ||
      add_fd(r, r->tfd, &r->k_timer) < 0 ||
      add_fd(r, dp->sigfd, &r->k_signal) < 0 ||
      add_fd(r, dp->stopfd, &r->k_signal) < 0) {
    sconed_dp_log("relay: %s", strerror(errno));
    return -1;
  }
  char a[80], b[80];
  sconed_addr_format(&r->listen, a, sizeof(a));
  sconed_addr_format(&r->upstream, b, sizeof(b));
  sconed_dp_log("relay: listening on %s, upstream %s", a, b);
  sconed_dp_notify(dp, "READY=1\nSTATUS=relaying %s", a);
  return 0;
}

static void relay_close(relay *r) {
  sconed_relay_clients_free(&r->clients);
  sconed_delayq_free(&r->dq);
  if (r->lfd >= 0)
    close(r->lfd);
  if (r->tfd >= 0)
    close(r->tfd);
  if (r->ep >= 0)
    close(r->ep);
}

void sconed_relay_settings_default(sconed_relay_settings *s) {
  memset(s, 0, sizeof(*s));
  s->idle_ms = 60000;
  s->max_held = 16384;
}

int sconed_relay_run(sconed_dp *dp, const sconed_relay_settings *o) {
  relay *r = calloc(1, sizeof(*r));
  if (!r || relay_open(r, dp, o) < 0) {
    if (r)
      relay_close(r);
    free(r);
    return -1;
  }
  r->next_sweep = sconed_dp_now() + SWEEP_EVERY;
  for (;;) {
    arm_timer(r);
    struct epoll_event ev[64];
    int n = epoll_wait(r->ep, ev, 64, -1);
    if (n < 0 && errno != EINTR) {
      sconed_dp_log("relay: epoll: %s", strerror(errno));
      break;
    }
    int signalled = 0;
    sconed_dp_lock_pkt(dp);
    scone_tstamp now = sconed_dp_now();
    for (int i = 0; i < n; i++) {
      int kind = *(int *)ev[i].data.ptr;
      if (kind == K_LISTEN) {
        on_listen(r, now);
      } else if (kind == K_CLIENT) {
        on_upstream(r, ev[i].data.ptr, now);
      } else if (kind == K_TIMER) {
        uint64_t ticks;
        if (read(r->tfd, &ticks, sizeof(ticks)) < 0)
          ticks = 0;
      } else {
        signalled = 1;
      }
    }
    release_due(r, now);
    if (now >= r->next_sweep) {
      scone_tstamp cutoff = now > r->idle ? now - r->idle : 0;
      sconed_relay_clients_sweep(&r->clients, cutoff);
      dp->c.relay_clients = r->clients.count;
      r->next_sweep = now + SWEEP_EVERY;
    }
    sconed_dp_unlock_pkt(dp);
    /* Outside the lock: a SIGHUP reload takes it itself. */
    if (signalled && sconed_dp_signals_handle(dp))
      break;
  }
  sconed_dp_lock_pkt(dp);
  release_due(r, UINT64_MAX); /* held datagrams leave rather than vanish */
  sconed_dp_unlock_pkt(dp);
  relay_close(r);
  free(r);
  return 0;
}
