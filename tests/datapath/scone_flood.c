/*
 * A flood generator for the reliability scripts (scripts/reliability/):
 * IPv4/UDP datagrams with forged sources, through a raw socket, as fast as
 * it can or at a given rate, for a time.
 *
 *   scone_flood --dst A.B.C.D --src-net A.B.C --srcs N
 *               --kind scone|quic|version
 *               [--dport P] [--seconds S] [--pps R] [--seed X]
 *               [--src A.B.C.D --sport P]   (one fixed source instead)
 *
 * Sources are --src-net.(10 .. 10+N-1) with random ports (so every datagram
 * is a new 5-tuple). scone: a SCONE packet (random signal, two 8-byte
 * CIDs) coalesced with a short-header byte and random bytes, as a fake
 * element or peer would send; quic: a QUIC v1 long header (Initial type,
 * random CIDs) padded to 1200 bytes, a new QUIC-looking flow each;
 * version: a long header of a random version that is neither QUIC v1,
 * SCONE nor version negotiation (0), with random CIDs and junk, as the
 * SCONE packet of a version the receiver does not know would look.
 * Prints sent=N seconds=S pps=R. Needs CAP_NET_RAW (root in a namespace).
 */
#include <arpa/inet.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint16_t csum(const void *p, size_t n) {
  const uint8_t *b = p;
  uint32_t s = 0;
  for (size_t i = 0; i + 1 < n; i += 2)
    s += (uint32_t)(b[i] << 8 | b[i + 1]);
  if (n & 1)
    s += (uint32_t)(b[n - 1] << 8);
  while (s >> 16)
    s = (s & 0xffff) + (s >> 16);
  return (uint16_t)~s;
}

static size_t payload(uint8_t *p, int quic, int unknown) {
  size_t n = 0;
  if (quic) {
    p[n++] = 0xc0 | (uint8_t)(rnd() & 3);
    p[n++] = 0, p[n++] = 0, p[n++] = 0, p[n++] = 1;
  } else if (unknown) {
    uint32_t v;
    do
      v = (uint32_t)rnd();
    while (v <= 1 || (v & 0x7fffffffU) == 0x6f7dc0fdU);
    p[n++] = 0x80 | (uint8_t)(rnd() & 0x7f);
    p[n++] = (uint8_t)(v >> 24), p[n++] = (uint8_t)(v >> 16);
    p[n++] = (uint8_t)(v >> 8), p[n++] = (uint8_t)v;
  } else {
    uint8_t sig = (uint8_t)(rnd() & 0x7f);
    p[n++] = 0x80 | (sig >> 1 & 0x3f);
    uint32_t v = (sig & 1) ? 0xef7dc0fdU : 0x6f7dc0fdU;
    p[n++] = (uint8_t)(v >> 24), p[n++] = (uint8_t)(v >> 16);
    p[n++] = (uint8_t)(v >> 8), p[n++] = (uint8_t)v;
  }
  for (int c = 0; c < 2; c++) {
    p[n++] = 8;
    uint64_t r = rnd();
    memcpy(p + n, &r, 8);
    n += 8;
  }
  size_t end = quic ? 1200 : 100 + (rnd() & 63);
  if (!quic)
    p[n++] = 0x40 | (uint8_t)(rnd() & 0x3f);
  while (n < end) {
    uint64_t r = rnd();
    size_t k = end - n < 8 ? end - n : 8;
    memcpy(p + n, &r, k);
    n += k;
  }
  return n;
}

int main(int argc, char **argv) {
  const char *dst = NULL, *net = NULL, *kind = "scone", *fixed = NULL;
  unsigned srcs = 6, dport = 4433, sport = 0;
  double seconds = 5, pps = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--dst"))
      dst = v;
    else if (!strcmp(k, "--src-net"))
      net = v;
    else if (!strcmp(k, "--srcs"))
      srcs = (unsigned)strtoul(v, NULL, 10);
    else if (!strcmp(k, "--kind"))
      kind = v;
    else if (!strcmp(k, "--src"))
      fixed = v;
    else if (!strcmp(k, "--sport"))
      sport = (unsigned)strtoul(v, NULL, 10);
    else if (!strcmp(k, "--dport"))
      dport = (unsigned)strtoul(v, NULL, 10);
    else if (!strcmp(k, "--seconds"))
      seconds = strtod(v, NULL);
    else if (!strcmp(k, "--pps"))
      pps = strtod(v, NULL);
    else if (!strcmp(k, "--seed"))
      rng = strtoull(v, NULL, 10) | 1;
    else
      dst = NULL, i = argc;
  }
  if (fixed)
    net = "";
  if (!dst || !net || srcs == 0 || srcs > 240) {
    fprintf(stderr,
            "usage: scone_flood --dst ADDR --src-net A.B.C --srcs N "
            "--kind scone|quic|version [--dport P] [--seconds S] [--pps R]\n");
    return 2;
  }
  int quic = !strcmp(kind, "quic"), unknown = !strcmp(kind, "version");
  if (!quic && !unknown && strcmp(kind, "scone")) {
    fprintf(stderr, "scone_flood: --kind scone, quic or version\n");
    return 2;
  }
  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  if (fd < 0) {
    perror("raw socket");
    return 2;
  }
  struct sockaddr_in to = {.sin_family = AF_INET};
  inet_pton(AF_INET, dst, &to.sin_addr);
  uint8_t pkt[1300];
  struct iphdr *ip = (struct iphdr *)pkt;
  struct udphdr *udp = (struct udphdr *)(pkt + 20);
  uint64_t sent = 0;
  double t0 = now(), end = t0 + seconds;
  for (;;) {
    if ((sent & 63) == 0) {
      double t = now();
      if (t >= end)
        break;
      if (pps > 0 && (double)sent > (t - t0) * pps) {
        usleep(200);
        continue;
      }
    }
    char src[32];
    if (fixed)
      snprintf(src, sizeof(src), "%s", fixed);
    else
      snprintf(src, sizeof(src), "%s.%u", net, 10 + (unsigned)(rnd() % srcs));
    size_t n = payload(pkt + 28, quic, unknown);
    memset(ip, 0, 20);
    ip->version = 4;
    ip->ihl = 5;
    ip->ttl = 64;
    ip->protocol = IPPROTO_UDP;
    ip->tot_len = htons((uint16_t)(28 + n));
    inet_pton(AF_INET, src, &ip->saddr);
    ip->daddr = to.sin_addr.s_addr;
    ip->check = csum(ip, 20);
    udp->source = htons((uint16_t)(sport ? sport : 1024 + rnd() % 64000));
    udp->dest = htons((uint16_t)dport);
    udp->len = htons((uint16_t)(8 + n));
    udp->check = 0; /* IPv4 allows none; the element must pass it too */
    if (sendto(fd, pkt, 28 + n, 0, (struct sockaddr *)&to, sizeof(to)) > 0)
      sent++;
  }
  double took = now() - t0;
  printf("sent=%llu seconds=%.2f pps=%.0f\n", (unsigned long long)sent, took,
         (double)sent / took);
  return 0;
}
