#include "nfq_keeper.h"

#include "dp.h"
#include "nfq.h"
#include "nfq_sock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/netfilter.h>

/* The keeper's work once sconed is gone, on one socket: stop queueing,
 * accept everything queued. */
static void release(const sconed_nfq_kept *k) {
  sconed_nfq_sock s = {.nl = NULL, .fd = k->fd, .seq = 0};
  sconed_nfq_stop_queueing(&s, k->lo, k->hi);
  /* A batch verdict accepts the queue's packets from the oldest on while
   * their id is within half the id space before the one given (serial
   * comparison). Ids are consecutive and a queue spans far less than
   * that, so the two halves' ends, in the order low, high, low, cover
   * any queue: one in a half, one across its middle, one across the
   * wrap. A verdict that finds nothing is answered with an error the
   * keeper does not read. */
  static const uint32_t ends[] = {0x7fffffffu, 0xffffffffu, 0x7fffffffu};
  for (unsigned q = k->lo; q <= k->hi; q++) {
    uint8_t buf[3 * 64] = {0};
    sconed_nfq_tx tx = {buf, sizeof(buf), 0};
    for (unsigned i = 0; i < 3; i++)
      sconed_nfq_verdict_batch(&tx, (uint16_t)q, ends[i], NF_ACCEPT);
    sconed_nfq_flush(&s, &tx);
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

/* The keeper's life once set up: wait for sconed's end, release. */
static _Noreturn void keeper_run(const sconed_nfq_kept *k, unsigned n,
                                 int pipe_fd) {
  /* A stop signal for sconed's process group (a terminal's ^C, systemd
   * stopping the unit) is sconed's to act on: the keeper waits for it to
   * be gone. */
  prctl(PR_SET_NAME, "sconed-keeper", 0, 0, 0);
  struct sigaction sa = {.sa_handler = SIG_IGN};
  static const int ignored[] = {SIGINT,  SIGTERM, SIGHUP,
                                SIGPIPE, SIGUSR1, SIGUSR2};
  for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
    sigaction(ignored[i], &sa, NULL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  char c;
  ssize_t r;
  do
    r = read(pipe_fd, &c, 1);
  while (r < 0 && errno == EINTR);
  for (unsigned i = 0; i < n; i++) {
    release(&k[i]);
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

/* The keeper's command line: sconed --nfqueue-keeper PIPE FD:LO:HI...,
 * made before the fork (the child only calls the system). */
static char **keeper_argv(const char *exe, const sconed_nfq_kept *k, unsigned n,
                          int pipe_fd) {
  char **argv = calloc(n + 4, sizeof(*argv));
  if (!argv)
    return NULL;
  argv[0] = strdup(exe);
  argv[1] = strdup(SCONED_NFQ_KEEPER_ARG);
  argv[2] = malloc(16);
  int ok = argv[0] && argv[1] && argv[2];
  if (ok)
    snprintf(argv[2], 16, "%d", pipe_fd);
  for (unsigned i = 0; ok && i < n; i++) {
    ok = (argv[3 + i] = malloc(32)) != NULL;
    if (ok)
      snprintf(argv[3 + i], 32, "%d:%u:%u", k[i].fd, k[i].lo, k[i].hi);
  }
  if (!ok) {
    for (unsigned i = 0; i < n + 3; i++)
      free(argv[i]);
    free(argv);
    return NULL;
  }
  return argv;
}

int sconed_nfq_keeper_start(const sconed_nfq_kept *k, unsigned n, int *done) {
  int p[2];
  /* Close-on-exec: a program sconed might start must not hold the
   * keeper's end of file (the keeper clears it on its own end). */
  if (pipe2(p, O_CLOEXEC) < 0) {
    sconed_dp_log("nfqueue: no keeper (pipe: %s)", strerror(errno));
    return -1;
  }
  /* The keeper runs sconed's program afresh: a forked copy would hold
   * sconed's memory as it was (its policy, its tables) for as long as it
   * lives, a page for each one sconed writes after. Where that cannot
   * be, it stays the forked copy. */
  char exe[4096];
  ssize_t el = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  char **argv = NULL;
  if (el > 0) {
    exe[el] = '\0';
    argv = keeper_argv(exe, k, n, p[0]);
  }
  pid_t pid = fork();
  if (pid < 0) {
    sconed_dp_log("nfqueue: no keeper (fork: %s)", strerror(errno));
    close(p[0]);
    close(p[1]);
  } else if (pid == 0) {
    close(p[1]);
    close_others(k, n, p[0]);
    if (argv) {
      fcntl(p[0], F_SETFD, 0);
      for (unsigned i = 0; i < n; i++)
        fcntl(k[i].fd, F_SETFD, 0);
      execv(exe, argv);
    }
    keeper_run(k, n, p[0]);
  } else {
    /* sconed keeps the write end open, unread, for its whole life: its
     * exit, however it comes, is the keeper's end of file. */
    close(p[0]);
    *done = p[1];
  }
  for (unsigned i = 0; argv && i < n + 3; i++)
    free(argv[i]);
  free(argv);
  return pid > 0 ? (int)pid : -1;
}

int sconed_nfq_keeper_main(int argc, char **argv) {
  /* Only sconed starts this, with what keeper_argv wrote. */
  unsigned n = argc > 3 ? (unsigned)(argc - 3) : 0;
  sconed_nfq_kept *k = n ? calloc(n, sizeof(*k)) : NULL;
  char *end;
  long pipe_fd = argc > 2 ? strtol(argv[2], &end, 10) : -1;
  if (!k || pipe_fd < 3 || *end) {
    fprintf(stderr, "sconed: %s is for sconed's own use\n",
            SCONED_NFQ_KEEPER_ARG);
    return 2;
  }
  for (unsigned i = 0; i < n; i++) {
    int fd;
    unsigned lo, hi;
    char extra;
    if (sscanf(argv[3 + i], "%d:%u:%u%c", &fd, &lo, &hi, &extra) != 3 ||
        fd < 3 || lo > hi || hi > 65535) {
      fprintf(stderr, "sconed: %s is for sconed's own use\n",
              SCONED_NFQ_KEEPER_ARG);
      return 2;
    }
    k[i] = (sconed_nfq_kept){fd, (uint16_t)lo, (uint16_t)hi};
  }
  keeper_run(k, n, (int)pipe_fd);
}
