/*
 * Test endpoints for the datapath tests: a QUIC-shaped client and server
 * that exchange SCONE-led datagrams and count the rate signals they
 * receive.
 *
 *   scone_sender client --to ADDR:PORT [--bind ADDR:PORT] [--count N]
 *                       [--interval-us U] [--wait-ms W] [--capture IFACE]
 *                       [--no-scone]
 *   scone_sender server --listen ADDR:PORT [--idle-ms I] [--timeout-ms T]
 *                       [--capture IFACE]
 *
 * The client's first datagram looks like a QUIC v1 Initial padded to 1200
 * bytes and ends with the SCONE indication (0xc8 0x13); every later one is
 * a SCONE packet (signal 127) coalesced with a short-header packet. The
 * server answers each datagram in kind: an Initial for the first, then
 * SCONE-led datagrams, or bare short-header ones to a client that sends
 * those (--no-scone: plain QUIC, no indication and no SCONE packets, the
 * kind of flow a plan's enforcement applies to). Every datagram ends with
 * its sequence number.
 *
 * --capture reads the same traffic from an AF_PACKET socket on IFACE
 * before the kernel's UDP checksum check (which would silently drop bad
 * ones) and verifies each UDP checksum with scone_udp_csum_compute.
 *
 * Output: key=value lines (sent, rx, scone, sig_N, max_seq, last_sig,
 * cap_rx, cap_csum_ok, cap_csum_bad, cap_sig_N) for the test scripts.
 */
#include "addr.h" /* sconed_addr_parse: the same ADDR:PORT strings as sconed */

#include <scone/scone.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CIDLEN 8

typedef struct stats {
  unsigned long rx, scone, sig[128], cap_rx, cap_ok, cap_bad, cap_sig[128];
  unsigned long rx_bytes;
  uint64_t first_us, last_us; /* first and last datagram received */
  long max_seq;
  int last_sig;
} stats;

static const uint8_t client_cid[CIDLEN] = {0xc1, 1, 2, 3, 4, 5, 6, 7};
static const uint8_t server_cid[CIDLEN] = {0x5e, 1, 2, 3, 4, 5, 6, 7};

static uint64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t now_ms(void) {
  return now_us() / 1000;
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}

/* A v1 Initial: long header, type 0, 4-byte packet number, PADDING. The
 * client's is padded to 1200 bytes and (with indicate) followed by the
 * indication. */
static size_t build_initial(uint8_t *b, int client, int indicate,
                            uint32_t seq) {
  size_t total = client ? 1200 : 200, n = 0;
  memset(b, 0, total);
  b[n++] = 0xc3;
  put32(b + n, 1);
  n += 4;
  b[n++] = CIDLEN;
  memcpy(b + n, client ? server_cid : client_cid, CIDLEN);
  n += CIDLEN;
  b[n++] = CIDLEN;
  memcpy(b + n, client ? client_cid : server_cid, CIDLEN);
  n += CIDLEN;
  b[n++] = 0; /* token length */
  size_t end = indicate ? total - SCONE_INDICATION_LEN : total;
  size_t rest = end - n - 2; /* packet number + payload */
  b[n++] = (uint8_t)(0x40 | (rest >> 8));
  b[n++] = (uint8_t)rest;
  put32(b + end - 4, seq);
  if (indicate) {
    b[end] = SCONE_INDICATION_BYTE0;
    b[end + 1] = SCONE_INDICATION_BYTE1;
  }
  return total;
}

/* A SCONE packet (signal 127) coalesced with a short-header packet, or
 * the short-header packet alone. */
static size_t build_short(uint8_t *b, size_t cap, int scone,
                          const uint8_t *dcid, uint32_t seq) {
  scone_ssize n = 0;
  if (scone)
    n = scone_packet_build(b, cap, SCONE_SIGNAL_UNKNOWN, dcid, CIDLEN, NULL, 0,
                           SCONE_BUILD_FLAG_NONE);
  if (n < 0)
    return 0;
  size_t len = (size_t)n;
  b[len++] = 0x43; /* short header, 4-byte packet number */
  memcpy(b + len, dcid, CIDLEN);
  len += CIDLEN;
  memset(b + len, 0xab, 60);
  len += 60;
  put32(b + len - 4, seq);
  return len;
}

/* The client's Initial is 1200 bytes with the indication, 1200 without;
 * the server's 200. */
static int indicated(const uint8_t *b, size_t n) {
  return n == 1200 && (b[0] & 0x80) && scone_indication_present(b, n);
}

static long seq_of(const uint8_t *b, size_t n) {
  if (indicated(b, n))
    return get32(b + n - 6);
  return n >= 4 ? (long)get32(b + n - 4) : -1;
}

static void count(stats *s, const uint8_t *b, size_t n) {
  s->rx++;
  s->rx_bytes += n;
  s->last_us = now_us();
  if (s->rx == 1)
    s->first_us = s->last_us;
  long seq = seq_of(b, n);
  int sig = -1;
  if (scone_packet_is_scone(b, n)) {
    s->scone++;
    sig = (int)scone_packet_signal(b);
    s->sig[sig]++;
  }
  if (seq > s->max_seq) {
    s->max_seq = seq;
    s->last_sig = sig;
  }
}

/* The capture side: IP packets to port on iface, checksums recomputed. */
static int capture_open(const char *iface) {
  int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK, htons(ETH_P_ALL));
  if (fd < 0) {
    perror("capture socket");
    return -1;
  }
  struct sockaddr_ll sll = {.sll_family = AF_PACKET,
                            .sll_protocol = htons(ETH_P_ALL),
                            .sll_ifindex = (int)if_nametoindex(iface)};
  if (!sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
    perror("capture bind");
    close(fd);
    return -1;
  }
  int sz = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
  return fd;
}

static void capture_read(int fd, uint16_t port, stats *s) {
  uint8_t pkt[65536];
  for (;;) {
    struct sockaddr_ll from;
    socklen_t fl = sizeof(from);
    ssize_t n =
        recvfrom(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&from, &fl);
    if (n < 0)
      return;
    if (from.sll_pkttype == PACKET_OUTGOING)
      continue;
    scone_ipudp v;
    if (scone_ipudp_parse(&v, pkt, (size_t)n) != 0 || v.dport != port ||
        v.is_fragment)
      continue;
    const uint8_t *udp = pkt + v.udp_off;
    size_t udplen = v.payload_off - v.udp_off + v.payload_len;
    uint16_t have = (uint16_t)(udp[6] << 8 | udp[7]);
    uint16_t want = scone_udp_csum_compute(
        v.src, v.dst, v.ip_version == 4 ? 4 : 16, udp, udplen);
    s->cap_rx++;
    if (have == want)
      s->cap_ok++;
    else
      s->cap_bad++;
    const uint8_t *pl = pkt + v.payload_off;
    if (scone_packet_is_scone(pl, v.payload_len))
      s->cap_sig[scone_packet_signal(pl)]++;
  }
}

static void print_stats(const char *role, unsigned long sent, const stats *s,
                        int captured) {
  printf("role=%s\nsent=%lu\nrx=%lu\nscone=%lu\nmax_seq=%ld\nlast_sig=%d\n",
         role, sent, s->rx, s->scone, s->max_seq, s->last_sig);
  /* UDP payload bytes and the time from the first to the last datagram,
   * for rate checks. */
  printf("rx_bytes=%lu\nrx_span_ms=%llu\n", s->rx_bytes,
         (unsigned long long)((s->last_us - s->first_us) / 1000));
  for (int i = 0; i < 128; i++)
    if (s->sig[i])
      printf("sig_%d=%lu\n", i, s->sig[i]);
  if (captured) {
    printf("cap_rx=%lu\ncap_csum_ok=%lu\ncap_csum_bad=%lu\n", s->cap_rx,
           s->cap_ok, s->cap_bad);
    for (int i = 0; i < 128; i++)
      if (s->cap_sig[i])
        printf("cap_sig_%d=%lu\n", i, s->cap_sig[i]);
  }
  fflush(stdout);
}

/* The port the kernel gave fd (the client binds port 0). */
static uint16_t local_port(int fd) {
  sconed_addr a = {.len = sizeof(a.ss)};
  getsockname(fd, (struct sockaddr *)&a.ss, &a.len);
  return sconed_addr_port(&a);
}

typedef struct args {
  int no_scone;
  const char *addr, *bind, *capture;
  unsigned long count, interval_us, wait_ms, idle_ms, timeout_ms;
} args;

static int run_client(const args *a) {
  sconed_addr to;
  char err[256];
  if (sconed_addr_parse(a->addr, &to, err, sizeof(err)) < 0) {
    fprintf(stderr, "bad --to %s\n", err);
    return 2;
  }
  int fd = socket(to.ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    perror("client socket");
    return 2;
  }
  if (a->bind) {
    sconed_addr b;
    if (sconed_addr_parse(a->bind, &b, err, sizeof(err)) < 0 ||
        bind(fd, (struct sockaddr *)&b.ss, b.len) < 0) {
      fprintf(stderr, "cannot bind %s\n", a->bind);
      return 2;
    }
  }
  /* Room for a burst the element releases at once (a stalled sconed's
   * queue): only the element may lose packets, not this socket. */
  int sz = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
  if (connect(fd, (struct sockaddr *)&to.ss, to.len) < 0) {
    perror("client connect");
    return 2;
  }
  int cfd = a->capture ? capture_open(a->capture) : -1;
  if (a->capture && cfd < 0)
    return 2;
  uint16_t port = local_port(fd);
  stats s = {.max_seq = -1, .last_sig = -1};
  uint8_t buf[2048];
  unsigned long sent = 0;
  uint64_t next = now_us(), end = 0, last_rx = now_ms();
  for (;;) {
    /* Every datagram that is due goes now, so the pace holds even when
     * poll wakes late. */
    while (sent < a->count && now_us() >= next) {
      size_t n = sent == 0 ? build_initial(buf, 1, !a->no_scone, 0)
                           : build_short(buf, sizeof(buf), !a->no_scone,
                                         server_cid, (uint32_t)sent);
      if (send(fd, buf, n, 0) < 0 && errno != ECONNREFUSED)
        break; /* a full socket buffer: retry on the next turn */
      sent++;
      next += a->interval_us;
      if (sent == a->count)
        end = now_ms() + a->wait_ms;
    }
    if (sent == a->count &&
        (now_ms() >= end || (s.rx >= sent && now_ms() > last_rx + 100)))
      break;
    struct pollfd p[2] = {{fd, POLLIN, 0}, {cfd, POLLIN, 0}};
    poll(p, 2, 1);
    ssize_t n;
    while ((n = recv(fd, buf, sizeof(buf), 0)) >= 0) {
      count(&s, buf, (size_t)n);
      last_rx = now_ms();
    }
    if (cfd >= 0)
      capture_read(cfd, port, &s);
  }
  if (cfd >= 0)
    capture_read(cfd, port, &s);
  print_stats("client", sent, &s, cfd >= 0);
  return 0;
}

static int run_server(const args *a) {
  sconed_addr at;
  char err[256];
  if (sconed_addr_parse(a->addr, &at, err, sizeof(err)) < 0) {
    fprintf(stderr, "bad --listen %s\n", err);
    return 2;
  }
  int fd = socket(at.ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (fd < 0 || bind(fd, (struct sockaddr *)&at.ss, at.len) < 0) {
    perror("server bind");
    return 2;
  }
  int sz = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
  int cfd = a->capture ? capture_open(a->capture) : -1;
  if (a->capture && cfd < 0)
    return 2;
  uint16_t port = local_port(fd);
  printf("ready=1\n");
  fflush(stdout);
  stats s = {.max_seq = -1, .last_sig = -1};
  unsigned long replies = 0;
  uint64_t start = now_ms(), last = 0;
  uint8_t buf[2048], out[2048];
  while (now_ms() < start + a->timeout_ms &&
         !(last && now_ms() > last + a->idle_ms)) {
    struct pollfd p[2] = {{fd, POLLIN, 0}, {cfd, POLLIN, 0}};
    poll(p, 2, 10);
    for (;;) {
      struct sockaddr_storage from;
      socklen_t fl = sizeof(from);
      ssize_t n =
          recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
      if (n < 0)
        break;
      last = now_ms();
      count(&s, buf, (size_t)n);
      long seq = seq_of(buf, (size_t)n);
      size_t m = (buf[0] & 0x80) && !scone_packet_is_scone(buf, (size_t)n)
                     ? build_initial(out, 0, 0, (uint32_t)seq)
                     : build_short(out, sizeof(out),
                                   scone_packet_is_scone(buf, (size_t)n),
                                   client_cid, (uint32_t)seq);
      if (sendto(fd, out, m, 0, (struct sockaddr *)&from, fl) >= 0)
        replies++;
    }
    if (cfd >= 0)
      capture_read(cfd, port, &s);
  }
  print_stats("server", replies, &s, cfd >= 0);
  return 0;
}

int main(int argc, char **argv) {
  args a = {.count = 100,
            .interval_us = 2000,
            .wait_ms = 2000,
            .idle_ms = 2000,
            .timeout_ms = 30000};
  if (argc < 2)
    goto usage;
  for (int i = 2; i < argc; i++) {
    const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(k, "--no-scone")) {
      a.no_scone = 1;
      continue;
    }
    if (!v)
      goto usage;
    if (!strcmp(k, "--to") || !strcmp(k, "--listen"))
      a.addr = v;
    else if (!strcmp(k, "--bind"))
      a.bind = v;
    else if (!strcmp(k, "--capture"))
      a.capture = v;
    else if (!strcmp(k, "--count"))
      a.count = strtoul(v, NULL, 10);
    else if (!strcmp(k, "--interval-us"))
      a.interval_us = strtoul(v, NULL, 10);
    else if (!strcmp(k, "--wait-ms"))
      a.wait_ms = strtoul(v, NULL, 10);
    else if (!strcmp(k, "--idle-ms"))
      a.idle_ms = strtoul(v, NULL, 10);
    else if (!strcmp(k, "--timeout-ms"))
      a.timeout_ms = strtoul(v, NULL, 10);
    else
      goto usage;
    i++;
  }
  if (!a.addr)
    goto usage;
  if (!strcmp(argv[1], "client"))
    return run_client(&a);
  if (!strcmp(argv[1], "server"))
    return run_server(&a);
usage:
  fprintf(stderr,
          "usage: scone_sender client --to ADDR:PORT [--bind ADDR:PORT] "
          "[--count N] [--interval-us U] [--wait-ms W] "
          "[--capture IFACE] [--no-scone]\n"
          "       scone_sender server --listen ADDR:PORT "
          "[--idle-ms I] [--timeout-ms T] [--capture IFACE]\n");
  return 2;
}
