#include "nfq_keeper.h"

#include "dp.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>

static void send_msg(int fd, struct nlmsghdr *nlh) {
  ssize_t r;
  do
    r = send(fd, nlh, nlh->nlmsg_len, 0);
  while (r < 0 && errno == EINTR);
}

void sconed_nfq_keeper_release(const sconed_nfq_kept *k) {
  for (unsigned q = k->lo; q <= k->hi; q++) {
    uint8_t buf[128] = {0};
    struct nlmsghdr *nlh = nfq_nlmsg_put((char *)buf, NFQNL_MSG_CONFIG, (int)q);
    nfq_nlmsg_cfg_put_qmaxlen(nlh, 0);
    send_msg(k->fd, nlh);
  }
  /* A batch verdict accepts the queue's packets from the oldest on while
   * their id is within half the id space before the one given (serial
   * comparison). Ids are consecutive and a queue spans far less than
   * that, so the two halves' ends, in the order low, high, low, cover
   * any queue: one in a half, one across its middle, one across the
   * wrap. A verdict that finds nothing is answered with an error the
   * keeper does not read. */
  static const uint32_t ends[] = {0x7fffffffu, 0xffffffffu, 0x7fffffffu};
  for (unsigned q = k->lo; q <= k->hi; q++)
    for (unsigned i = 0; i < 3; i++) {
      uint8_t buf[128] = {0};
      struct nlmsghdr *nlh =
          nfq_nlmsg_put((char *)buf, NFQNL_MSG_VERDICT_BATCH, (int)q);
      nfq_nlmsg_verdict_put(nlh, (int)ends[i], NF_ACCEPT);
      send_msg(k->fd, nlh);
    }
}

/* Closes every descriptor but stdin/out/err, the sockets and the pipe:
 * the keeper must not hold sconed's control port or relay sockets. Only
 * system calls here and below: the fork copied one thread of a process
 * that may have others, holding locks the copy would never see freed. */
static void close_others(const sconed_nfq_kept *k, unsigned n, int pipe_fd) {
  unsigned lo = 3;
  for (;;) {
    /* The lowest kept descriptor at or above lo. */
    unsigned next = ~0u;
    if ((unsigned)pipe_fd >= lo)
      next = (unsigned)pipe_fd;
    for (unsigned i = 0; i < n; i++)
      if ((unsigned)k[i].fd >= lo && (unsigned)k[i].fd < next)
        next = (unsigned)k[i].fd;
    /* One by one where close_range is refused (a seccomp filter). */
    if (next > lo && close_range(lo, next == ~0u ? ~0u : next - 1, 0) < 0)
      for (unsigned fd = lo; fd < next && fd < 65536; fd++)
        close((int)fd);
    if (next == ~0u)
      return;
    lo = next + 1;
  }
}

void sconed_nfq_keeper_end(int pid, int done) {
  /* A byte first: the keeper tells a stop from a death. */
  if (write(done, "q", 1) < 0)
    sconed_dp_log("nfqueue: keeper: %s", strerror(errno));
  close(done);
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
}

int sconed_nfq_keeper_start(const sconed_nfq_kept *k, unsigned n, int *done) {
  int p[2];
  /* Close-on-exec: a program sconed might start must not hold the
   * keeper's end of file. */
  if (pipe2(p, O_CLOEXEC) < 0) {
    sconed_dp_log("nfqueue: no keeper (pipe: %s)", strerror(errno));
    return -1;
  }
  pid_t pid = fork();
  if (pid < 0) {
    sconed_dp_log("nfqueue: no keeper (fork: %s)", strerror(errno));
    close(p[0]);
    close(p[1]);
    return -1;
  }
  if (pid > 0) {
    /* sconed keeps the write end open, unread, for its whole life: its
     * exit, however it comes, is the keeper's end of file. */
    close(p[0]);
    *done = p[1];
    return (int)pid;
  }
  /* The keeper. A stop signal for sconed's process group (a terminal's
   * ^C, systemd stopping the unit) is sconed's to act on: the keeper
   * waits for it to be gone. */
  close(p[1]);
  prctl(PR_SET_NAME, "sconed-keeper", 0, 0, 0);
  struct sigaction sa = {.sa_handler = SIG_IGN};
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  sigaction(SIGPIPE, &sa, NULL);
  sigaction(SIGUSR1, &sa, NULL);
  sigaction(SIGUSR2, &sa, NULL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  close_others(k, n, p[0]);
  char c;
  ssize_t r;
  do
    r = read(p[0], &c, 1);
  while (r < 0 && errno == EINTR);
  for (unsigned i = 0; i < n; i++) {
    sconed_nfq_keeper_release(&k[i]);
    close(k[i].fd);
  }
  if (r != 1) {
    /* Said once, for the operator: sconed died without its stop. */
    static const char m[] = "sconed: nfqueue: keeper: sconed ended without "
                            "stopping; every packet still queued was "
                            "accepted untouched\n";
    if (write(2, m, sizeof(m) - 1) < 0)
      _exit(1);
  }
  _exit(0);
}
