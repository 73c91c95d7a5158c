/*
 * fwd_gen: the packet generator of bench_forward. Small UDP datagrams as
 * fast as one thread can send them (sendmmsg, 64 a call), to port 9 of
 * --dsts destination addresses in turn (BASE.10, BASE.11, ...), so that
 * NFQUEUE's --queue-balance, which hashes the addresses, spreads them over
 * its queues. Stops after --seconds and prints sent=N seconds=S pps=R.
 *
 *   fwd_gen --dst-net A.B.C [--dsts N] [--seconds S] [--size BYTES]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAX_DSTS 256

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  const char *net = NULL;
  int ndst = 16, size = 64;
  double seconds = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--dst-net"))
      net = argv[i + 1];
    else if (!strcmp(argv[i], "--dsts"))
      ndst = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--seconds"))
      seconds = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--size"))
      size = atoi(argv[i + 1]);
    else
      net = NULL, i = argc;
  }
  if (!net || ndst < 1 || ndst > MAX_DSTS - 10 || size < 1 || size > 1400 ||
      seconds <= 0) {
    fprintf(stderr, "usage: fwd_gen --dst-net A.B.C [--dsts 1..246] "
                    "[--seconds S] [--size 1..1400]\n");
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    perror("fwd_gen: socket");
    return 1;
  }
  int sndbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
  struct sockaddr_in dst[MAX_DSTS];
  for (int i = 0; i < ndst; i++) {
    char a[32];
    snprintf(a, sizeof(a), "%s.%d", net, 10 + i);
    memset(&dst[i], 0, sizeof(dst[i]));
    dst[i].sin_family = AF_INET;
    dst[i].sin_port = htons(9);
    if (inet_pton(AF_INET, a, &dst[i].sin_addr) != 1) {
      fprintf(stderr, "fwd_gen: bad address %s\n", a);
      return 2;
    }
  }
  static uint8_t payload[1400];
  memset(payload, 0x40, sizeof(payload)); /* a short-header QUIC look */
  struct iovec iov[BATCH];
  struct mmsghdr mm[BATCH];
  memset(mm, 0, sizeof(mm));
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = payload;
    iov[i].iov_len = (size_t)size;
    mm[i].msg_hdr.msg_iov = &iov[i];
    mm[i].msg_hdr.msg_iovlen = 1;
    mm[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
  }
  uint64_t sent = 0;
  unsigned turn = 0;
  double start = now(), end = start + seconds, t = start;
  while (t < end) {
    for (int i = 0; i < BATCH; i++)
      mm[i].msg_hdr.msg_name = &dst[turn++ % (unsigned)ndst];
    int n = sendmmsg(fd, mm, BATCH, 0);
    if (n > 0)
      sent += (uint64_t)n;
    /* Checking the clock every call costs little next to 64 sends. */
    t = now();
  }
  printf("sent=%llu seconds=%.3f pps=%.0f\n", (unsigned long long)sent,
         t - start, (double)sent / (t - start));
  close(fd);
  return 0;
}
