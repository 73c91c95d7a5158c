/* Addresses, UDP sockets and the clock: the endpoints' I/O. */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

scone_tstamp scone_quic_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (scone_tstamp)ts.tv_sec * SCONE_SECONDS + (scone_tstamp)ts.tv_nsec;
}

int sq_addr_eq(const sq_addr *a, const sq_addr *b) {
  if (a->sa.ss_family != b->sa.ss_family)
    return 0;
  if (a->sa.ss_family == AF_INET) {
    const struct sockaddr_in *x = (const struct sockaddr_in *)&a->sa;
    const struct sockaddr_in *y = (const struct sockaddr_in *)&b->sa;
    return x->sin_port == y->sin_port &&
           x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  if (a->sa.ss_family == AF_INET6) {
    const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)&a->sa;
    const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)&b->sa;
    return x->sin6_port == y->sin6_port &&
           memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
  }
  return 0;
}

void sq_addr_set(sq_addr *a, const struct sockaddr *sa, socklen_t len) {
  memset(a, 0, sizeof(*a));
  if (len > sizeof(a->sa))
    len = sizeof(a->sa);
  memcpy(&a->sa, sa, len);
  a->len = len;
}

ngtcp2_path sq_ngtcp2_path(const sq_addr *local, const sq_addr *remote) {
  ngtcp2_path np;
  np.local.addr = (ngtcp2_sockaddr *)&local->sa;
  np.local.addrlen = local->len;
  np.remote.addr = (ngtcp2_sockaddr *)&remote->sa;
  np.remote.addrlen = remote->len;
  np.user_data = NULL;
  return np;
}

void sq_addrs_of(const ngtcp2_path *np, sq_addr *local, sq_addr *remote) {
  sq_addr_set(local, (const struct sockaddr *)np->local.addr,
              np->local.addrlen);
  sq_addr_set(remote, (const struct sockaddr *)np->remote.addr,
              np->remote.addrlen);
}

int sq_addr_resolve(sq_addr *a, const char *host, const char *port) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_protocol = IPPROTO_UDP;
  if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL)
    return SCONE_QUIC_ERR_ADDRESS;
  sq_addr_set(a, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  return 0;
}

int sq_addr_parse(sq_addr *a, const char *hostport) {
  char host[256];
  const char *colon, *hs = hostport;
  size_t hl;
  if (hostport == NULL)
    return SCONE_QUIC_ERR_ADDRESS;
  if (hostport[0] == '[') {
    const char *end = strchr(hostport, ']');
    if (end == NULL || end[1] != ':')
      return SCONE_QUIC_ERR_ADDRESS;
    hs = hostport + 1;
    hl = (size_t)(end - hs);
    colon = end + 1;
  } else {
    colon = strrchr(hostport, ':');
    if (colon == NULL)
      return SCONE_QUIC_ERR_ADDRESS;
    hl = (size_t)(colon - hostport);
  }
  if (hl == 0 || hl >= sizeof(host))
    return SCONE_QUIC_ERR_ADDRESS;
  memcpy(host, hs, hl);
  host[hl] = '\0';
  char *end;
  unsigned long port = strtoul(colon + 1, &end, 10);
  if (colon[1] == '\0' || *end != '\0' || port > 65535)
    return SCONE_QUIC_ERR_ADDRESS;

  memset(a, 0, sizeof(*a));
  struct sockaddr_in *s4 = (struct sockaddr_in *)&a->sa;
  struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->sa;
  if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)port);
    a->len = sizeof(*s4);
    return 0;
  }
  if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons((uint16_t)port);
    a->len = sizeof(*s6);
    return 0;
  }
  return SCONE_QUIC_ERR_ADDRESS;
}

int sq_udp_socket(int family, const sq_addr *local, sq_addr *bound) {
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return SCONE_QUIC_ERR_SOCKET;
  /* No SO_REUSEADDR: UDP has no TIME_WAIT, so a restarted server gets its
   * port back without it, and with it a second server could bind a port
   * already served, or the kernel could hand a client, for its connect(),
   * the port of the local server it talks to, so that it read back its own
   * datagrams (tests/quic/port_collision_test.sh). */
  if (family == AF_INET6 && local != NULL) {
    int off = 0; /* accept v4-mapped peers on "[::]" */
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
  }
  if (local != NULL &&
      bind(fd, (const struct sockaddr *)&local->sa, local->len) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return SCONE_QUIC_ERR_SOCKET;
  }
  if (bound != NULL) {
    memset(bound, 0, sizeof(*bound));
    bound->len = sizeof(bound->sa);
    if (getsockname(fd, (struct sockaddr *)&bound->sa, &bound->len) != 0) {
      close(fd);
      return SCONE_QUIC_ERR_SOCKET;
    }
  }
  return fd;
}

int sq_udp_send(int fd, const sq_addr *to, const uint8_t *data, size_t len) {
  for (;;) {
    ssize_t n =
        sendto(fd, data, len, 0, (const struct sockaddr *)&to->sa, to->len);
    if (n >= 0)
      return 0;
    if (errno == EINTR)
      continue;
    /* A full socket buffer is a loss QUIC recovers from; nothing else to do
     * with a datagram socket. */
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
      return 0;
    return SCONE_QUIC_ERR_SOCKET;
  }
}

ssize_t sq_udp_recv(int fd, uint8_t *buf, size_t cap, sq_addr *from) {
  for (;;) {
    from->len = sizeof(from->sa);
    ssize_t n =
        recvfrom(fd, buf, cap, 0, (struct sockaddr *)&from->sa, &from->len);
    if (n >= 0 || errno != EINTR)
      return n;
  }
}

int sq_udp_wait(int fd, scone_duration wait) {
  struct timespec ts = {(time_t)(wait / SCONE_SECONDS),
                        (long)(wait % SCONE_SECONDS)};
  struct pollfd pfd = {fd, POLLIN, 0};
  int r = ppoll(&pfd, 1, &ts, NULL);
  if (r < 0)
    return errno == EINTR ? 0 : SCONE_QUIC_ERR_SOCKET;
  return r > 0;
}
