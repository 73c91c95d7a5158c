/*
 * Where a request to the bridge goes: which origin (an HTTP/3 server) and
 * which path on it, read from the HTTP/1.1 request target. Pure: no I/O,
 * so the fuzz target runs it on any bytes.
 *
 * A page names the origin in one of three ways:
 *   - a path prefix: /o/HOST:PORT/PATH (HOST a name, an IPv4 literal or
 *     [IPv6]; PORT defaults to 443). Relative URLs in an MPD resolve
 *     under the same prefix, so segments follow the manifest;
 *   - absolute form, as a browser configured with the bridge as its HTTP
 *     proxy sends: http://HOST[:PORT]/PATH or https://... (the upstream is
 *     always HTTP/3 over TLS to HOST:PORT; the default port is 443 either
 *     way, since an http:// URL naming no port would mean TCP port 80,
 *     where no QUIC server listens);
 *   - origin form with no prefix (/PATH): the bridge's default upstream,
 *     when it has one.
 * Targets under /scone/ are the bridge's own (netinfo, events, stats,
 * the ES module).
 */
#ifndef SCONE_BRIDGE_ROUTE_H
#define SCONE_BRIDGE_ROUTE_H

#include <stddef.h>

#define ROUTE_HOST_MAX 253 /* a DNS name's longest text form */
#define ROUTE_PORT_MAX 5
#define ROUTE_PATH_MAX 8192 /* path and query forwarded, NUL included */

typedef enum route_kind {
  ROUTE_LOCAL = 0,   /* /scone/...: path holds it */
  ROUTE_FORWARD = 1, /* host, port and path are set */
  ROUTE_DEFAULT = 2, /* origin form without prefix: path only */
} route_kind;

typedef enum route_error {
  ROUTE_OK = 0,
  ROUTE_ERR_BAD_TARGET = -1, /* not a request target we can read: 400 */
  ROUTE_ERR_BAD_HOST = -2,   /* the origin's host is not a name/address */
  ROUTE_ERR_BAD_PORT = -3,   /* not 1..65535 */
  ROUTE_ERR_TOO_LONG = -4,   /* target past ROUTE_PATH_MAX: 414 */
  ROUTE_ERR_SCHEME = -5,     /* absolute form, not http or https */
  ROUTE_ERR_AUTHORITY = -6,  /* authority form (CONNECT) or "*" */
} route_error;

typedef struct route {
  route_kind kind;
  char host[ROUTE_HOST_MAX + 1]; /* IPv6 without brackets, lowercase */
  char port[ROUTE_PORT_MAX + 1]; /* decimal, no leading zeros */
  char path[ROUTE_PATH_MAX];     /* starts with '/', query kept */
} route;

/* Reads the request target (len bytes, not NUL-terminated). Returns
 * ROUTE_OK with r filled, or a route_error (r's fields then unspecified). */
int route_parse(route *r, const char *target, size_t len);

/* A one-line reason for a route_error. */
const char *route_strerror(int err);

/* "HOST:PORT" or "[V6]:PORT" of host and port into buf, the key the bridge
 * knows an origin by. Returns the length, or -1 when buf is too small. */
int route_origin_key(char *buf, size_t len, const char *host, const char *port);

/* Reads "HOST[:PORT]" or "[V6][:PORT]" (len bytes) into host and port, as
 * the /o/ prefix and --allow take it. */
int route_parse_origin(const char *s, size_t len, char *host, char *port);

#endif /* SCONE_BRIDGE_ROUTE_H */
