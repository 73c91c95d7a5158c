/*
 * "ADDR:PORT" strings of the command line as socket addresses.
 */
#ifndef SCONED_ADDR_H
#define SCONED_ADDR_H

#include "engine.h"

#include <stddef.h>
#include <sys/socket.h>

typedef struct sconed_addr {
  struct sockaddr_storage ss;
  socklen_t len;
} sconed_addr;

/* Parses "1.2.3.4:P", "[::1]:P" or "name:P" (resolved once, through
 * getaddrinfo). Returns 0, or -1 with a reason in err. */
int sconed_addr_parse(const char *s, sconed_addr *out, char *err,
                      size_t errlen);

/* 1 for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
int sconed_addr_is_loopback(const sconed_addr *a);

/* Port in host order. */
uint16_t sconed_addr_port(const sconed_addr *a);

/* "1.2.3.4:P" or "[::1]:P". */
void sconed_addr_format(const sconed_addr *a, char *buf, size_t len);

/* 1 when a and b are the same family, address and port. */
int sconed_addr_equal(const sconed_addr *a, const sconed_addr *b);

/* Fills an engine tuple from two socket addresses. IPv4-mapped IPv6
 * addresses (IPv4 clients of a dual-stack listener) count as IPv4. When
 * the families still differ (an IPv6 client in front of an IPv4 server)
 * both go as IPv6, the IPv4 one mapped into ::ffff:0:0/96, so the engine
 * sees one family. */
void sconed_addr_tuple(const sconed_addr *src, const sconed_addr *dst,
                       sconed_tuple *t);

#endif
