#include "route.h"

#include <stdio.h>
#include <string.h>

static int is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

static char lower(char c) {
  return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* What HTTP/3 takes as :path (scone_quic_request): printable ASCII
 * without spaces. */
static int path_ok(const char *p, size_t len) {
  if (len == 0 || p[0] != '/')
    return 0;
  for (size_t i = 0; i < len; i++)
    if (p[i] <= ' ' || p[i] >= 0x7f)
      return 0;
  return 1;
}

/* A DNS name (letters, digits, '-', '.'; no empty label) or an IPv4
 * literal, which has the same characters. */
static int name_ok(const char *h, size_t len) {
  if (len == 0 || len > ROUTE_HOST_MAX || h[0] == '.' || h[0] == '-')
    return 0;
  for (size_t i = 0; i < len; i++) {
    if (h[i] == '.' && (i + 1 == len || h[i + 1] == '.'))
      return 0; /* an empty label */
    if (!is_alnum(h[i]) && h[i] != '-' && h[i] != '.')
      return 0;
  }
  return 1;
}

static int v6_ok(const char *h, size_t len) {
  if (len < 2 || len > 45)
    return 0;
  for (size_t i = 0; i < len; i++) {
    char c = lower(h[i]);
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':' ||
          c == '.'))
      return 0;
  }
  return memchr(h, ':', len) != NULL;
}

int route_parse_origin(const char *s, size_t len, char *host, char *port) {
  const char *hs, *he, *p, *end = s + len;
  int v6 = 0;
  if (len > 0 && s[0] == '[') {
    hs = s + 1;
    he = memchr(hs, ']', (size_t)(end - hs));
    if (he == NULL)
      return ROUTE_ERR_BAD_HOST;
    p = he + 1;
    v6 = 1;
  } else {
    hs = s;
    he = memchr(s, ':', len);
    if (he == NULL)
      he = end;
    p = he;
  }
  size_t hl = (size_t)(he - hs);
  if (v6 ? !v6_ok(hs, hl) : !name_ok(hs, hl))
    return ROUTE_ERR_BAD_HOST;
  for (size_t i = 0; i < hl; i++)
    host[i] = lower(hs[i]);
  host[hl] = '\0';
  if (p == end) {
    strcpy(port, "443");
    return ROUTE_OK;
  }
  if (*p != ':' || p + 1 == end)
    return ROUTE_ERR_BAD_PORT;
  p++;
  unsigned long v = 0;
  for (const char *q = p; q < end; q++) {
    if (*q < '0' || *q > '9' || q - p >= 5)
      return ROUTE_ERR_BAD_PORT;
    v = v * 10 + (unsigned long)(*q - '0');
  }
  if (v == 0 || v > 65535)
    return ROUTE_ERR_BAD_PORT;
  snprintf(port, ROUTE_PORT_MAX + 1, "%lu", v);
  return ROUTE_OK;
}

static int set_path(route *r, const char *p, size_t len) {
  if (len == 0) {
    strcpy(r->path, "/");
    return ROUTE_OK;
  }
  if (len >= sizeof(r->path))
    return ROUTE_ERR_TOO_LONG;
  if (!path_ok(p, len))
    return ROUTE_ERR_BAD_TARGET;
  memcpy(r->path, p, len);
  r->path[len] = '\0';
  return ROUTE_OK;
}

/* "HOST[:PORT]" up to the first '/' (or '?', which starts the path's
 * query at the root), then the path. */
static int origin_then_path(route *r, const char *s, size_t len) {
  size_t al = 0;
  while (al < len && s[al] != '/' && s[al] != '?')
    al++;
  int rv = route_parse_origin(s, al, r->host, r->port);
  if (rv != ROUTE_OK)
    return rv;
  r->kind = ROUTE_FORWARD;
  if (al < len && s[al] == '?') {
    /* "/o/h:1?x" reads as "/?x". */
    if (len - al + 1 >= sizeof(r->path))
      return ROUTE_ERR_TOO_LONG;
    r->path[0] = '/';
    for (size_t i = al; i < len; i++)
      if (s[i] <= ' ' || s[i] >= 0x7f)
        return ROUTE_ERR_BAD_TARGET;
    memcpy(r->path + 1, s + al, len - al);
    r->path[len - al + 1] = '\0';
    return ROUTE_OK;
  }
  return set_path(r, s + al, len - al);
}

static int prefix_is(const char *s, size_t len, const char *pre) {
  size_t pl = strlen(pre);
  if (len < pl)
    return 0;
  for (size_t i = 0; i < pl; i++)
    if (lower(s[i]) != pre[i])
      return 0;
  return 1;
}

int route_parse(route *r, const char *t, size_t len) {
  memset(r, 0, sizeof(*r));
  if (len == 0)
    return ROUTE_ERR_BAD_TARGET;
  if (len >= ROUTE_PATH_MAX + 16)
    return ROUTE_ERR_TOO_LONG;
  if (len == 1 && t[0] == '*')
    return ROUTE_ERR_AUTHORITY;
  if (t[0] == '/') {
    if (prefix_is(t, len, "/o/"))
      return origin_then_path(r, t + 3, len - 3);
    int rv = set_path(r, t, len);
    if (rv != ROUTE_OK)
      return rv;
    r->kind = (len == 6 && memcmp(t, "/scone", 6) == 0) ||
                      (len > 6 && memcmp(t, "/scone/", 7) == 0) ||
                      (len > 6 && memcmp(t, "/scone?", 7) == 0)
                  ? ROUTE_LOCAL
                  : ROUTE_DEFAULT;
    return ROUTE_OK;
  }
  if (prefix_is(t, len, "http://"))
    return origin_then_path(r, t + 7, len - 7);
  if (prefix_is(t, len, "https://"))
    return origin_then_path(r, t + 8, len - 8);
  /* "scheme:..." (another scheme) or "host:port" (CONNECT's form). */
  size_t i = 0;
  while (i < len &&
         (is_alnum(t[i]) || t[i] == '+' || t[i] == '-' || t[i] == '.'))
    i++;
  if (i < len && t[i] == ':' && i + 2 < len && t[i + 1] == '/' &&
      t[i + 2] == '/')
    return ROUTE_ERR_SCHEME;
  if (i < len && t[i] == ':')
    return ROUTE_ERR_AUTHORITY;
  return ROUTE_ERR_BAD_TARGET;
}

const char *route_strerror(int err) {
  switch (err) {
  case ROUTE_OK:
    return "ok";
  case ROUTE_ERR_BAD_TARGET:
    return "the request target is not a path (printable ASCII starting "
           "with '/') nor an absolute http(s) URL";
  case ROUTE_ERR_BAD_HOST:
    return "the origin's host is not a DNS name, an IPv4 address or a "
           "bracketed IPv6 address";
  case ROUTE_ERR_BAD_PORT:
    return "the origin's port is not a number from 1 to 65535";
  case ROUTE_ERR_TOO_LONG:
    return "the request target is too long";
  case ROUTE_ERR_SCHEME:
    return "only http:// and https:// URLs are forwarded (over HTTP/3)";
  case ROUTE_ERR_AUTHORITY:
    return "CONNECT and '*' are not supported: name the origin with "
           "/o/HOST:PORT/ or an absolute http:// URL";
  }
  return "unknown route error";
}

int route_origin_key(char *buf, size_t len, const char *host,
                     const char *port) {
  int v6 = strchr(host, ':') != NULL;
  int n = snprintf(buf, len, v6 ? "[%s]:%s" : "%s:%s", host, port);
  return n < 0 || (size_t)n >= len ? -1 : n;
}
