/*
 * lab_udp: a paced UDP stream and its sink, to measure the emulated link
 * from outside. Each datagram carries its number and its send time on
 * CLOCK_MONOTONIC, which network namespaces share, so the sink measures
 * one-way delay directly.
 *
 *   lab_udp send --to ADDR:PORT --rate BPS --size BYTES --duration SEC
 *   lab_udp sink --listen ADDR:PORT [--idle-ms MS] [--timeout-ms MS]
 *
 * ADDR:PORT as the datapath's tools read it (addr.c): IPv4, [IPv6] or a
 * name. Rates count IP bytes (payload + 28, or 48 for
 * IPv6). Both print key=value lines; the sink prints "ready=1" once bound
 * and its figures when the stream has been quiet for --idle-ms.
 */
#include "addr.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void put64(uint8_t *p, uint64_t v) {
  for (int i = 7; i >= 0; i--, v >>= 8)
    p[i] = (uint8_t)v;
}

static uint64_t get64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = v << 8 | p[i];
  return v;
}

static const char *arg(int argc, char **argv, const char *name,
                       const char *def) {
  for (int i = 2; i + 1 < argc; i += 2)
    if (!strcmp(argv[i], name))
      return argv[i + 1];
  return def;
}

static int do_send(int argc, char **argv) {
  sconed_addr to;
  char err[256];
  const char *dst = arg(argc, argv, "--to", NULL);
  double rate = atof(arg(argc, argv, "--rate", "1000000"));
  int size = atoi(arg(argc, argv, "--size", "1000"));
  double secs = atof(arg(argc, argv, "--duration", "1"));
  if (!dst || sconed_addr_parse(dst, &to, err, sizeof err) || rate <= 0 ||
      size < 16 || size > 1472 || secs <= 0) {
    fprintf(stderr, "lab_udp send: --to ADDR:PORT --rate BPS --size 16..1472 "
                    "--duration SEC\n");
    return 2;
  }
  int fd = socket(to.ss.ss_family, SOCK_DGRAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&to.ss, to.len)) {
    perror("lab_udp send");
    return 1;
  }
  int sndbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  int ip_bytes = size + (to.ss.ss_family == AF_INET6 ? 48 : 28);
  uint64_t gap = (uint64_t)(ip_bytes * 8 * 1e9 / rate);
  uint8_t buf[1472];
  memset(buf, 0xab, sizeof buf);
  uint64_t start = now_ns(), end = start + (uint64_t)(secs * 1e9);
  uint64_t next = start, seq = 0, errors = 0;
  while (next < end) {
    uint64_t now = now_ns();
    if (next > now + 20000) {
      struct timespec ts = {(time_t)(next / 1000000000ULL),
                            (long)(next % 1000000000ULL)};
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
      continue;
    }
    /* Behind schedule: catch up in a burst, as a paced sender would. */
    while (next <= now + 20000 && next < end) {
      put64(buf, seq);
      put64(buf + 8, now_ns());
      if (send(fd, buf, (size_t)size, 0) < 0)
        errors++;
      seq++;
      next += gap;
    }
  }
  printf("sent=%" PRIu64 "\nsent_ip_bytes=%" PRIu64 "\nsend_errors=%" PRIu64
         "\n",
         seq, seq * (uint64_t)ip_bytes, errors);
  close(fd);
  return 0;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static int do_sink(int argc, char **argv) {
  sconed_addr at;
  char err[256];
  const char *listen = arg(argc, argv, "--listen", NULL);
  int idle_ms = atoi(arg(argc, argv, "--idle-ms", "1000"));
  int timeout_ms = atoi(arg(argc, argv, "--timeout-ms", "60000"));
  if (!listen || sconed_addr_parse(listen, &at, err, sizeof err)) {
    fprintf(stderr, "lab_udp sink: --listen ADDR:PORT [--idle-ms MS] "
                    "[--timeout-ms MS]\n");
    return 2;
  }
  int fd = socket(at.ss.ss_family, SOCK_DGRAM, 0);
  int rcvbuf = 8 << 20;
  if (fd < 0 ||
      (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) &&
       setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf)) ||
      bind(fd, (struct sockaddr *)&at.ss, at.len)) {
    perror("lab_udp sink");
    return 1;
  }
  printf("ready=1\n");
  fflush(stdout);
  int hdr = at.ss.ss_family == AF_INET6 ? 48 : 28;
  size_t cap = 1 << 16, rx = 0;
  uint64_t *owd = malloc(cap * sizeof *owd);
  uint64_t first_t = 0, last_t = 0, bytes = 0, first_bytes = 0;
  uint64_t max_seq = 0, reordered = 0, expect = 0;
  uint64_t start = now_ns();
  uint8_t buf[2048];
  for (;;) {
    int wait = rx ? idle_ms : timeout_ms;
    struct pollfd pf = {fd, POLLIN, 0};
    int r = poll(&pf, 1, wait);
    if (r <= 0)
      break;
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    uint64_t t = now_ns();
    if (n < 16)
      continue;
    uint64_t seq = get64(buf), sent = get64(buf + 8);
    if (rx == cap) {
      cap *= 2;
      owd = realloc(owd, cap * sizeof *owd);
    }
    if (!owd)
      return 1;
    owd[rx++] = t > sent ? t - sent : 0;
    if (!first_t) {
      first_t = t;
      first_bytes = (uint64_t)n + (uint64_t)hdr;
    }
    last_t = t;
    bytes += (uint64_t)n + (uint64_t)hdr;
    if (seq < expect)
      reordered++;
    expect = seq + 1;
    if (seq > max_seq)
      max_seq = seq;
    if (t - start > (uint64_t)timeout_ms * 1000000)
      break;
  }
  printf("rx=%zu\nrx_ip_bytes=%" PRIu64 "\n", rx, bytes);
  if (rx > 1) {
    uint64_t span = last_t - first_t;
    printf("span_ns=%" PRIu64 "\n", span);
    /* The first datagram opens the span; its bytes arrived before it. */
    printf("rate_bps=%.0f\n",
           (double)(bytes - first_bytes) * 8e9 / (double)(span ? span : 1));
  }
  if (rx > 0) {
    printf("lost=%" PRIu64 "\nreordered=%" PRIu64 "\n", max_seq + 1 - rx,
           reordered);
    qsort(owd, rx, sizeof *owd, cmp_u64);
    printf("owd_min_us=%.1f\nowd_p50_us=%.1f\nowd_p90_us=%.1f\n"
           "owd_max_us=%.1f\n",
           owd[0] / 1e3, owd[rx / 2] / 1e3, owd[rx * 9 / 10] / 1e3,
           owd[rx - 1] / 1e3);
  }
  free(owd);
  close(fd);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "send"))
    return do_send(argc, argv);
  if (argc >= 2 && !strcmp(argv[1], "sink"))
    return do_sink(argc, argv);
  fprintf(stderr, "usage: lab_udp send|sink [options] (see the source)\n");
  return 2;
}
