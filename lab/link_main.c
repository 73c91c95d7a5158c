/*
 * scone-link: the lab's access link. Moves Ethernet frames between two
 * interfaces (the client's side and the network's) through two emulated
 * directions (link.h): a frame received on one side is given to its
 * direction's model on arrival, held until the delivery time the model
 * says, and sent out of the other side. One thread, waiting in ppoll(2)
 * with a nanosecond timeout until the next delivery. See docs/lab.md.
 */
#include "link.h"
#include "link_port.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define ETH_HLEN_ 14
#define BATCH 64

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* What one direction was told on the command line. */
typedef struct dir_opts {
  const char *trace_path;
  int have_rate;
  lab_trace trace;
  lab_link_settings s;
} dir_opts;

typedef struct slot {
  uint64_t at;
  uint32_t len;
  uint8_t data[LAB_PORT_FRAME_MAX];
} slot;

typedef struct dir {
  const char *name; /* "up" or "down", the prefix of its counters */
  lab_link *link;
  lab_port *in, *out;
  slot *ring; /* frames waiting for their delivery time, in that order */
  size_t cap, head, n;
  uint64_t rx, rx_bytes, tx, tx_bytes;
  uint64_t overflow, oversize, runt, tx_errors;
  uint64_t late_sum_ns, late_max_ns;
} dir;

static void usage(FILE *to) {
  fputs("usage: scone-link --client-if IF --network-if IF [options]\n"
        "Emulates an access link between two interfaces: frames from the\n"
        "client side go up, frames from the network side go down.\n"
        "  --client-if IF      the subscriber's side\n"
        "  --network-if IF     the network's side\n"
        "Per direction (--up-X, --down-X), or both with --X:\n"
        "  --rate BPS          fixed capacity: 5M, 1.5M, 800k (IP bytes)\n"
        "  --trace FILE        capacity from a Mahimahi trace (--up-trace and\n"
        "                      --down-trace only); neither: no capacity limit\n"
        "  --delay DUR         one-way propagation delay: 20ms, 500us\n"
        "  --loss P            random loss on entry: 0.01 or 1%\n"
        "  --queue N           drop-tail bound: 100p (packets) or 150kB,\n"
        "                      150000B (bytes); default: none\n"
        "  --seed N            loss draws (default 1; the two directions\n"
        "                      draw apart)\n"
        "  --pool N            frames held per direction (default 8192);\n"
        "                      beyond, frames are dropped as overflow\n"
        "  --help\n"
        "SIGUSR1 prints the counters; SIGINT/SIGTERM print them and exit.\n",
        to);
}

static int bad(const char *opt, const char *v, const char *what) {
  fprintf(stderr, "scone-link: %s '%s': %s\n", opt, v, what);
  return -1;
}

/* Applies option name=v to the directions it names (mask: 1 up, 2 down). */
static int set_opt(dir_opts d[2], int mask, const char *opt, const char *v) {
  for (int i = 0; i < 2; i++) {
    if (!(mask & (1 << i)))
      continue;
    lab_link_settings *s = &d[i].s;
    if (!strcmp(opt, "rate")) {
      if (lab_parse_rate(v, &s->rate_bps) || s->rate_bps == 0)
        return bad(opt, v, "a rate above 0 (5M, 800k, 1.5Mbit/s)");
      d[i].have_rate = 1;
    } else if (!strcmp(opt, "trace")) {
      d[i].trace_path = v;
    } else if (!strcmp(opt, "delay")) {
      if (lab_parse_duration(v, &s->delay_ns))
        return bad(opt, v, "a duration with its unit (20ms, 500us, 1s)");
    } else if (!strcmp(opt, "loss")) {
      if (lab_parse_loss(v, &s->loss))
        return bad(opt, v, "a probability from 0 to 1 (0.01, or 1%)");
    } else if (!strcmp(opt, "queue")) {
      if (lab_parse_queue(v, &s->queue_bytes, &s->queue_packets))
        return bad(opt, v, "packets (100p) or bytes (150kB, 150000B)");
    }
  }
  return 0;
}

static int parse_u64(const char *opt, const char *v, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long x = strtoull(v, &end, 10);
  if (!*v || *end || errno || v[0] == '-')
    return bad(opt, v, "a whole number");
  *out = x;
  return 0;
}

static void describe(const char *name, const dir_opts *d) {
  const lab_link_settings *s = &d->s;
  fprintf(stderr, "scone-link: %slink: ", name);
  if (d->trace_path)
    fprintf(stderr, "trace %s (%zu opportunities, %.3f s, mean %.3f Mbit/s)",
            d->trace_path, d->trace.n, d->trace.period_ms / 1e3,
            lab_trace_mean_bps(&d->trace) / 1e6);
  else if (s->rate_bps)
    fprintf(stderr, "rate %.6g Mbit/s", s->rate_bps / 1e6);
  else
    fprintf(stderr, "no capacity limit");
  fprintf(stderr, ", delay %.3f ms, loss %g", s->delay_ns / 1e6, s->loss);
  if (s->queue_packets)
    fprintf(stderr, ", queue %" PRIu32 " packets", s->queue_packets);
  else if (s->queue_bytes)
    fprintf(stderr, ", queue %" PRIu64 " bytes", s->queue_bytes);
  else
    fprintf(stderr, ", queue unbounded");
  fputc('\n', stderr);
}

/* Reads one batch of what waits on d->in and hands it to the model. One
 * batch, not all: under overload the loop must go on sending too. */
static int receive(dir *d, lab_frame *stage) {
  int got = lab_port_recv(d->in, stage, BATCH);
  if (got < 0) {
    fprintf(stderr, "scone-link: %s: receive: %s\n", d->in->name,
            strerror(errno));
    return -1;
  }
  uint64_t now = now_ns();
  for (int i = 0; i < got; i++) {
    lab_frame *f = &stage[i];
    d->rx++;
    d->rx_bytes += f->len;
    if (f->truncated) {
      d->oversize++; /* a GSO/GRO aggregate: offloads were left on */
      continue;
    }
    if (f->len < ETH_HLEN_) {
      d->runt++;
      continue;
    }
    if (d->n == d->cap) {
      d->overflow++;
      continue;
    }
    uint64_t at;
    /* The model counts the packet after the Ethernet header, as a
     * trace's 1500-byte opportunity does. */
    if (lab_link_enqueue(d->link, now, f->len - ETH_HLEN_, &at) !=
        LAB_LINK_DELIVER)
      continue;
    slot *s = &d->ring[(d->head + d->n++) % d->cap];
    s->at = at;
    s->len = f->len;
    memcpy(s->data, f->data, f->len);
  }
  return 0;
}

/* Sends every frame due by now; returns the next delivery time or 0. */
static uint64_t flush(dir *d, uint64_t now) {
  lab_frame out[BATCH];
  while (d->n > 0) {
    int k = 0;
    while (k < BATCH && (size_t)k < d->n) {
      slot *s = &d->ring[(d->head + (size_t)k) % d->cap];
      if (s->at > now)
        break;
      out[k++] = (lab_frame){s->data, s->len, 0};
    }
    if (k == 0)
      return d->ring[d->head].at;
    int sent = lab_port_send(d->out, out, k);
    /* A frame the device refuses is dropped, as a full NIC ring would. */
    int done = sent > 0 ? sent : 1;
    if (sent <= 0)
      d->tx_errors++;
    for (int i = 0; i < done; i++) {
      slot *s = &d->ring[d->head];
      if (sent > 0) {
        d->tx++;
        d->tx_bytes += s->len;
        uint64_t late = now - s->at;
        d->late_sum_ns += late;
        if (late > d->late_max_ns)
          d->late_max_ns = late;
      }
      d->head = (d->head + 1) % d->cap;
      d->n--;
    }
  }
  return 0;
}

static void report(dir *ds, uint64_t started) {
  for (int i = 0; i < 2; i++) {
    dir *d = &ds[i];
    lab_port_count_drops(d->in);
    lab_link_stats st;
    lab_link_stats_get(d->link, &st);
    const char *p = d->name;
    printf("%s_rx=%" PRIu64 "\n%s_rx_bytes=%" PRIu64 "\n", p, d->rx, p,
           d->rx_bytes);
    printf("%s_tx=%" PRIu64 "\n%s_tx_bytes=%" PRIu64 "\n", p, d->tx, p,
           d->tx_bytes);
    printf("%s_lost=%" PRIu64 "\n%s_queue_drops=%" PRIu64 "\n", p, st.lost, p,
           st.queue_drops);
    printf("%s_overflow=%" PRIu64 "\n%s_oversize=%" PRIu64 "\n", p, d->overflow,
           p, d->oversize);
    printf("%s_runt=%" PRIu64 "\n%s_tx_errors=%" PRIu64 "\n", p, d->runt, p,
           d->tx_errors);
    printf("%s_socket_drops=%" PRIu64 "\n", p, d->in->drops);
    printf("%s_held=%zu\n", p, d->n);
    printf("%s_peak_queue_packets=%" PRIu64 "\n", p, st.peak_queue_packets);
    printf("%s_peak_queue_bytes=%" PRIu64 "\n", p, st.peak_queue_bytes);
    printf("%s_late_mean_us=%.1f\n%s_late_max_us=%.1f\n", p,
           d->tx ? d->late_sum_ns / 1e3 / (double)d->tx : 0.0, p,
           d->late_max_ns / 1e3);
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("cpu_user_ms=%.1f\ncpu_sys_ms=%.1f\nwall_ms=%.1f\n",
         ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3,
         ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3,
         (now_ns() - started) / 1e6);
  fflush(stdout);
}

enum { O_CLIENT = 256, O_NETWORK, O_SEED, O_POOL, O_HELP, O_DIR };
/* Per-direction options get O_DIR + 3 * index + (0 both, 1 up, 2 down). */
static const char *const dir_names[] = {"rate", "trace", "delay", "loss",
                                        "queue"};
#define NDIR_OPTS 5

int main(int argc, char **argv) {
  const char *cif = NULL, *nif = NULL;
  uint64_t seed = 1, pool = 8192;
  dir_opts d[2];
  for (int i = 0; i < 2; i++) {
    memset(&d[i], 0, sizeof d[i]);
    lab_link_settings_default(&d[i].s);
  }
  static char names[NDIR_OPTS * 3][16];
  struct option opts[NDIR_OPTS * 3 + 6];
  int no = 0;
  for (int i = 0; i < NDIR_OPTS; i++)
    for (int w = 0; w < 3; w++) {
      static const char *const pre[] = {"", "up-", "down-"};
      char *nm = names[i * 3 + w];
      snprintf(nm, sizeof names[0], "%s%s", pre[w], dir_names[i]);
      opts[no++] =
          (struct option){nm, required_argument, NULL, O_DIR + 3 * i + w};
    }
  opts[no++] = (struct option){"client-if", required_argument, NULL, O_CLIENT};
  opts[no++] =
      (struct option){"network-if", required_argument, NULL, O_NETWORK};
  opts[no++] = (struct option){"seed", required_argument, NULL, O_SEED};
  opts[no++] = (struct option){"pool", required_argument, NULL, O_POOL};
  opts[no++] = (struct option){"help", no_argument, NULL, O_HELP};
  opts[no] = (struct option){0, 0, 0, 0};
  int c;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if (c >= O_DIR) {
      int i = (c - O_DIR) / 3, w = (c - O_DIR) % 3;
      if (i == 1 && w == 0) {
        fprintf(stderr, "scone-link: a trace is per direction: --up-trace, "
                        "--down-trace\n");
        return 2;
      }
      if (set_opt(d, w == 0 ? 3 : 1 << (w - 1), dir_names[i], optarg))
        return 2;
      continue;
    }
    switch (c) {
    case O_CLIENT:
      cif = optarg;
      break;
    case O_NETWORK:
      nif = optarg;
      break;
    case O_SEED:
      if (parse_u64("--seed", optarg, &seed))
        return 2;
      break;
    case O_POOL:
      if (parse_u64("--pool", optarg, &pool))
        return 2;
      if (pool == 0 || pool > 1 << 20) {
        bad("--pool", optarg, "1 to 1048576 frames");
        return 2;
      }
      break;
    case O_HELP:
      usage(stdout);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if (optind < argc || !cif || !nif) {
    usage(stderr);
    return 2;
  }
  for (int i = 0; i < 2; i++) {
    const char *nm = i == 0 ? "up" : "down";
    if (d[i].trace_path && d[i].have_rate) {
      fprintf(stderr,
              "scone-link: %slink has both a rate and a trace (--rate sets "
              "both directions; --up-rate, --down-rate set one)\n",
              nm);
      return 2;
    }
    if (d[i].trace_path) {
      lab_error err;
      if (lab_trace_load(&d[i].trace, d[i].trace_path, &err)) {
        if (err.line)
          fprintf(stderr, "scone-link: %s:%u: %s\n", d[i].trace_path, err.line,
                  err.msg);
        else
          fprintf(stderr, "scone-link: %s: %s\n", d[i].trace_path, err.msg);
        return 2;
      }
      d[i].s.trace = &d[i].trace;
    }
  }
  /* The same seed must not give both directions the same losses. */
  d[0].s.seed = seed;
  d[1].s.seed = seed ^ 0xd1b54a32d192ed03ULL;

  lab_port ports[2];
  char err[256];
  if (lab_port_open(&ports[0], cif, err, sizeof err) ||
      lab_port_open(&ports[1], nif, err, sizeof err)) {
    fprintf(stderr, "scone-link: %s\n", err);
    return 1;
  }
  /* Wake-ups on time: the default 50 us slack would show as delay. */
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGUSR1);
  sigprocmask(SIG_BLOCK, &sigs, NULL);
  int sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0) {
    perror("scone-link: signalfd");
    return 1;
  }

  uint64_t started = now_ns();
  dir ds[2] = {{.name = "up", .in = &ports[0], .out = &ports[1]},
               {.name = "down", .in = &ports[1], .out = &ports[0]}};
  static uint8_t stage_buf[BATCH][LAB_PORT_FRAME_MAX];
  lab_frame stage[BATCH];
  for (int i = 0; i < BATCH; i++)
    stage[i] = (lab_frame){stage_buf[i], 0, 0};
  for (int i = 0; i < 2; i++) {
    ds[i].cap = pool;
    ds[i].ring = malloc(pool * sizeof(slot));
    ds[i].link = lab_link_new(&d[i].s, started);
    if (!ds[i].ring || !ds[i].link) {
      fprintf(stderr, "scone-link: out of memory\n");
      return 1;
    }
    describe(ds[i].name, &d[i]);
  }
  fprintf(stderr, "scone-link: serving %s (client) <-> %s (network)\n", cif,
          nif);

  int status = 0;
  for (;;) {
    uint64_t now = now_ns();
    uint64_t next = 0;
    for (int i = 0; i < 2; i++) {
      uint64_t t = flush(&ds[i], now);
      if (t && (!next || t < next))
        next = t;
    }
    struct pollfd pf[3] = {
        {ports[0].fd, POLLIN, 0}, {ports[1].fd, POLLIN, 0}, {sfd, POLLIN, 0}};
    struct timespec wait, *timeout = NULL;
    if (next) {
      uint64_t ns = next - now; /* next > now: flush sent what was due */
      wait.tv_sec = (time_t)(ns / 1000000000ULL);
      wait.tv_nsec = (long)(ns % 1000000000ULL);
      timeout = &wait;
    }
    if (ppoll(pf, 3, timeout, NULL) < 0) {
      if (errno == EINTR)
        continue;
      perror("scone-link: ppoll");
      status = 1;
      break;
    }
    if ((pf[0].revents && receive(&ds[0], stage)) ||
        (pf[1].revents && receive(&ds[1], stage))) {
      status = 1;
      break;
    }
    if (pf[2].revents) {
      struct signalfd_siginfo si;
      int stop = 0;
      while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGUSR1)
          report(ds, started);
        else
          stop = 1;
      }
      if (stop)
        break;
    }
  }
  report(ds, started);
  for (int i = 0; i < 2; i++) {
    lab_link_free(ds[i].link);
    free(ds[i].ring);
    lab_trace_free(&d[i].trace);
    lab_port_close(&ports[i]);
  }
  close(sfd);
  return status;
}
