/*
 * bench_nfqueue: packets per second through sconed's NFQUEUE loop, in a
 * pair of throw-away network namespaces. A sender thread floods UDP from
 * namespace A to B; an iptables OUTPUT rule queues it to queue 0, which
 * the real datapath loop (datapath/nfq.c, with an engine on the default
 * plan) serves. The figure is packets per second judged and given their
 * verdict by the loop while the queue never runs dry.
 *
 * Variants: "single" (one packet per receive, one verdict per send: the
 * naive loop), "batch-recv" (recvmmsg, single verdicts sent together) and
 * "batched" (recvmmsg plus one batch verdict per run of untouched
 * packets). Median of --runs runs of --seconds each.
 *
 *   bench_nfqueue [--runs N] [--seconds S] [--batch K] [--only VARIANT]
 *                 [--quick]   (one run of 0.5 s each)
 *
 * Needs root; without it prints a note and exits 0. Cleans up its
 * namespaces on every exit path and stops itself within 60 s.
 */
#include "nfq.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

static char ns_a[64], ns_b[64];

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...) {
  char cmd[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof(cmd), fmt, ap);
  va_end(ap);
  return system(cmd);
}

static void cleanup(void) {
  if (ns_a[0])
    sh("ip netns del %s 2>/dev/null", ns_a);
  if (ns_b[0])
    sh("ip netns del %s 2>/dev/null", ns_b);
  ns_a[0] = ns_b[0] = 0;
}

static void on_signal(int sig) {
  /* The namespaces would outlive us otherwise; system() is not
   * async-signal-safe, but we exit right after. */
  cleanup();
  _exit(128 + sig);
}

static int setup(void) {
  snprintf(ns_a, sizeof(ns_a), "sct-bnq-%d-a", (int)getpid());
  snprintf(ns_b, sizeof(ns_b), "sct-bnq-%d-b", (int)getpid());
  if (sh("ip netns add %s && ip netns add %s", ns_a, ns_b) ||
      sh("ip -n %s link add v0 type veth peer name v1 netns %s", ns_a, ns_b) ||
      sh("ip -n %s addr add 10.77.9.1/24 dev v0 && ip -n %s link set v0 up "
         "&& ip -n %s link set lo up",
         ns_a, ns_a, ns_a) ||
      sh("ip -n %s addr add 10.77.9.2/24 dev v1 && ip -n %s link set v1 up",
         ns_b, ns_b) ||
      sh("ip netns exec %s ethtool -K v0 tx off >/dev/null && "
         "ip netns exec %s ethtool -K v1 tx off >/dev/null",
         ns_a, ns_b) ||
      /* The sink drops early so that B costs little CPU. */
      sh("ip netns exec %s iptables -t raw -A PREROUTING -p udp --dport 9 "
         "-j DROP",
         ns_b) ||
      sh("ip netns exec %s iptables -t mangle -A OUTPUT -p udp -d 10.77.9.2 "
         "--dport 9 -j NFQUEUE --queue-num 0 --queue-bypass",
         ns_a))
    return -1;
  char path[128];
  snprintf(path, sizeof(path), "/run/netns/%s", ns_a);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
    perror("setns");
    return -1;
  }
  close(fd);
  return 0;
}

typedef struct sender {
  atomic_int stop;
} sender;

static void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (cpu < sysconf(_SC_NPROCESSORS_ONLN))
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *send_main(void *arg) {
  sender *s = arg;
  pin(0);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9)};
  inet_pton(AF_INET, "10.77.9.2", &to.sin_addr);
  if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0)
    return NULL;
  enum { N = 64 };
  static uint8_t payload[N][100];
  struct iovec iov[N];
  struct mmsghdr mm[N];
  memset(mm, 0, sizeof(mm));
  for (int i = 0; i < N; i++) {
    memset(payload[i], 0x11, sizeof(payload[i])); /* plain UDP, not QUIC */
    iov[i].iov_base = payload[i];
    iov[i].iov_len = sizeof(payload[i]);
    mm[i].msg_hdr.msg_iov = &iov[i];
    mm[i].msg_hdr.msg_iovlen = 1;
  }
  while (!atomic_load(&s->stop)) {
    /* Queued packets stay charged to this socket, so it blocks while the
     * loop is behind: the queue stays full without fail-open kicking in. */
    if (sendmmsg(fd, mm, N, 0) < 0 && errno != EINTR && errno != ENOBUFS)
      break;
  }
  close(fd);
  return NULL;
}

typedef struct loop_arg {
  sconed_dp *dp;
  sconed_nfq_settings s;
  int rc;
} loop_arg;

static void *loop_main(void *arg) {
  loop_arg *l = arg;
  pin(1);
  l->rc = sconed_nfq_run(l->dp, &l->s);
  return NULL;
}

static uint64_t rx_now(sconed_dp *dp) {
  sconed_dp_lock_ctl(dp);
  uint64_t v = dp->c.rx;
  sconed_dp_unlock_ctl(dp);
  return v;
}

/* One run: packets per second through the loop. */
static double run_once(sconed_engine *e, unsigned batch, int batch_verdicts,
                       double seconds) {
  sconed_dp dp;
  sconed_dp_init(&dp, e, NULL);
  dp.mode = "nfqueue";
  dp.quiet = 1;
  dp.stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  loop_arg la = {.dp = &dp};
  sconed_nfq_settings_default(&la.s);
  la.s.batch = batch;
  la.s.batch_verdicts = batch_verdicts;
  pthread_t lt, st;
  pthread_create(&lt, NULL, loop_main, &la);
  sender s = {0};
  usleep(100000); /* let the loop bind the queue */
  pthread_create(&st, NULL, send_main, &s);
  usleep(300000); /* warm up */
  uint64_t r0 = rx_now(&dp);
  scone_tstamp t0 = sconed_dp_now();
  usleep((useconds_t)(seconds * 1e6));
  uint64_t r1 = rx_now(&dp);
  double dt = (double)(sconed_dp_now() - t0) / 1e9;
  atomic_store(&s.stop, 1);
  pthread_join(st, NULL);
  uint64_t one = 1;
  if (write(dp.stopfd, &one, sizeof(one)) < 0)
    perror("eventfd");
  pthread_join(lt, NULL);
  close(dp.stopfd);
  sconed_dp_destroy(&dp);
  return la.rc == 0 ? (double)(r1 - r0) / dt : -1;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  int runs = 3;
  double seconds = 1.5;
  unsigned batch = 32;
  const char *only = NULL;
  int bad = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--quick")) {
      runs = 1;
      seconds = 0.5;
    } else if (!strcmp(a, "--runs") && v) {
      runs = atoi(v);
      i++;
    } else if (!strcmp(a, "--seconds") && v) {
      seconds = atof(v);
      i++;
    } else if (!strcmp(a, "--batch") && v) {
      batch = (unsigned)atoi(v);
      i++;
    } else if (!strcmp(a, "--only") && v) {
      only = v;
      i++;
    } else {
      bad = 1;
    }
  }
  if (bad || runs < 1 || runs > 9 || seconds <= 0 || seconds > 3 || batch < 1 ||
      batch > 1024) {
    fprintf(stderr, "usage: bench_nfqueue [--runs 1..9] [--seconds 0..3] "
                    "[--batch K] [--only single|batch-recv|batched] "
                    "[--quick]\n");
    return 2;
  }
  if (geteuid() != 0) {
    printf("bench_nfqueue: skipped (needs root for namespaces and "
           "NFQUEUE)\n");
    return 0;
  }
  atexit(cleanup);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  signal(SIGALRM, on_signal);
  alarm(58); /* a hard bound whatever happens */
  if (setup() < 0) {
    fprintf(stderr, "bench_nfqueue: namespace setup failed\n");
    return 1;
  }
  sconed_engine_settings es;
  sconed_engine_settings_default(&es);
  sconed_engine *e = sconed_engine_new(&es);
  if (!e)
    return 1;
  static const struct {
    const char *name;
    int batched, batch_verdicts;
  } variants[] = {{"single", 0, 0}, {"batch-recv", 1, 0}, {"batched", 1, 1}};
  printf("bench_nfqueue: 100-byte UDP, one flow, queue 0, %d x %.1f s, "
         "batch %u\n",
         runs, seconds, batch);
  /* Variants take turns within each round so that load from elsewhere on
   * the machine spreads over all of them alike. */
  double pps[3][9];
  for (int r = 0; r < runs; r++) {
    for (size_t v = 0; v < 3; v++) {
      if (only && strcmp(only, variants[v].name))
        continue;
      pps[v][r] = run_once(e, variants[v].batched ? batch : 1,
                           variants[v].batch_verdicts, seconds);
      if (pps[v][r] < 0) {
        fprintf(stderr, "bench_nfqueue: the loop failed to start\n");
        sconed_engine_free(e);
        return 1;
      }
    }
  }
  for (size_t v = 0; v < 3; v++) {
    if (only && strcmp(only, variants[v].name))
      continue;
    qsort(pps[v], (size_t)runs, sizeof(double), cmp);
    printf("  %-11s %9.0f pps median  (min %.0f, max %.0f)\n", variants[v].name,
           pps[v][runs / 2], pps[v][0], pps[v][runs - 1]);
  }
  sconed_engine_free(e);
  return 0;
}
