#include "addr.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sconed_addr_parse(const char *s, sconed_addr *out, char *err,
                      size_t errlen) {
  char host[256];
  const char *port;
  memset(out, 0, sizeof(*out));
  if (s[0] == '[') {
    const char *close = strchr(s, ']');
    if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(host)) {
      snprintf(err, errlen, "'%s': want [IPV6]:PORT", s);
      return -1;
    }
    memcpy(host, s + 1, (size_t)(close - s - 1));
    host[close - s - 1] = 0;
    port = close + 2;
  } else {
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof(host) || colon == s) {
      snprintf(err, errlen, "'%s': want HOST:PORT", s);
      return -1;
    }
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    port = colon + 1;
  }
  char *end;
  unsigned long p = strtoul(port, &end, 10);
  if (!*port || *end || p > 65535) {
    snprintf(err, errlen, "'%s': bad port", s);
    return -1;
  }
  struct addrinfo hints = {0}, *res = NULL;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICSERV;
  int r = getaddrinfo(host, port, &hints, &res);
  if (r != 0 || !res) {
    snprintf(err, errlen, "'%s': %s", s, gai_strerror(r));
    return -1;
  }
  memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
  out->len = res->ai_addrlen;
  freeaddrinfo(res);
  return 0;
}

int sconed_addr_is_loopback(const sconed_addr *a) {
  if (a->ss.ss_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)&a->ss;
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  }
  if (a->ss.ss_family == AF_INET6) {
    const struct in6_addr *in6 =
        &((const struct sockaddr_in6 *)&a->ss)->sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(in6))
      return 1;
    return IN6_IS_ADDR_V4MAPPED(in6) && in6->s6_addr[12] == 127;
  }
  return 0;
}

uint16_t sconed_addr_port(const sconed_addr *a) {
  if (a->ss.ss_family == AF_INET)
    return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
  if (a->ss.ss_family == AF_INET6)
    return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
  return 0;
}

void sconed_addr_format(const sconed_addr *a, char *buf, size_t len) {
  char host[INET6_ADDRSTRLEN] = "?";
  if (a->ss.ss_family == AF_INET) {
    inet_ntop(AF_INET, &((const struct sockaddr_in *)&a->ss)->sin_addr, host,
              sizeof(host));
    snprintf(buf, len, "%s:%u", host, sconed_addr_port(a));
  } else {
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&a->ss)->sin6_addr, host,
              sizeof(host));
    snprintf(buf, len, "[%s]:%u", host, sconed_addr_port(a));
  }
}

int sconed_addr_equal(const sconed_addr *a, const sconed_addr *b) {
  if (a->ss.ss_family != b->ss.ss_family)
    return 0;
  if (a->ss.ss_family == AF_INET) {
    const struct sockaddr_in *x = (const struct sockaddr_in *)&a->ss;
    const struct sockaddr_in *y = (const struct sockaddr_in *)&b->ss;
    return x->sin_port == y->sin_port &&
           x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)&a->ss;
  const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)&b->ss;
  return x->sin6_port == y->sin6_port &&
         memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

static void tuple_side(const sconed_addr *a, int as_v6, uint8_t *ip,
                       uint16_t *port) {
  memset(ip, 0, 16);
  *port = sconed_addr_port(a);
  if (a->ss.ss_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)&a->ss;
    if (as_v6) {
      ip[10] = ip[11] = 0xff;
      memcpy(ip + 12, &in->sin_addr, 4);
    } else {
      memcpy(ip, &in->sin_addr, 4);
    }
  } else {
    memcpy(ip, &((const struct sockaddr_in6 *)&a->ss)->sin6_addr, 16);
  }
}

/* A dual-stack IPv6 listener sees IPv4 clients as ::ffff:a.b.c.d. Unless
 * the other side is real IPv6, they go to the engine as the IPv4 addresses
 * they are: IPv4 subscriber entries must match them, and as IPv6 every
 * IPv4 client would fall into the one subscriber prefix ::/64. */
static void unmap(const sconed_addr *a, sconed_addr *out) {
  const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->ss;
  *out = *a;
  if (a->ss.ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
    return;
  struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = in6->sin6_port};
  memcpy(&in.sin_addr, &in6->sin6_addr.s6_addr[12], 4);
  memset(&out->ss, 0, sizeof(out->ss));
  memcpy(&out->ss, &in, sizeof(in));
  out->len = sizeof(in);
}

void sconed_addr_tuple(const sconed_addr *src, const sconed_addr *dst,
                       sconed_tuple *t) {
  sconed_addr s, d;
  unmap(src, &s);
  unmap(dst, &d);
  int v6 = s.ss.ss_family == AF_INET6 || d.ss.ss_family == AF_INET6;
  memset(t, 0, sizeof(*t));
  t->ip_version = v6 ? 6 : 4;
  tuple_side(&s, v6, t->src, &t->sport);
  tuple_side(&d, v6, t->dst, &t->dport);
}
