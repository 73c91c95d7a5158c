#include "fields.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_MEMBERS 16

static int in_list(const char *name, const char *const *list) {
  for (size_t i = 0; list[i] != NULL; i++)
    if (strcasecmp(name, list[i]) == 0)
      return 1;
  return 0;
}

/* 1 when the comma-separated list names token (case-insensitive). */
static int list_has(const char *list, const char *token) {
  size_t tl = strlen(token);
  const char *p = list;
  while (p != NULL && *p != '\0') {
    while (*p == ' ' || *p == '\t' || *p == ',')
      p++;
    const char *e = p;
    while (*e != '\0' && *e != ',')
      e++;
    const char *te = e;
    while (te > p && (te[-1] == ' ' || te[-1] == '\t'))
      te--;
    /* An empty token (the end after a trailing comma) names nothing, not
     * even an empty name. */
    if (te > p && (size_t)(te - p) == tl && strncasecmp(p, token, tl) == 0)
      return 1;
    p = e;
  }
  return 0;
}

int fields_request_drop(const char *name, const char *connection) {
  static const char *const drop[] = {"connection",
                                     "keep-alive",
                                     "proxy-connection",
                                     "transfer-encoding",
                                     "upgrade",
                                     "te",
                                     "host",
                                     "trailer",
                                     "proxy-authorization",
                                     "content-length",
                                     "expect",
                                     NULL};
  if (name[0] == ':' || in_list(name, drop))
    return 1;
  return connection != NULL && list_has(connection, name);
}

int fields_response_drop(const char *name) {
  static const char *const drop[] = {"content-length",
                                     "transfer-encoding",
                                     "connection",
                                     "keep-alive",
                                     "date",
                                     "cmsd-dynamic",
                                     "access-control-expose-headers",
                                     NULL};
  return name[0] == ':' || in_list(name, drop);
}

int fields_value_ok(const char *v) {
  size_t n = strlen(v);
  if (n > 0 &&
      (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' || v[n - 1] == '\t'))
    return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)v[i];
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return 0;
  }
  return 1;
}

int fields_expose(char *buf, size_t len, const char *upstream) {
  static const char *const ours[] = {"CMSD-Dynamic", "CMSD-Static"};
  int n = 0;
  if (upstream != NULL && upstream[0] != '\0')
    n = snprintf(buf, len, "%s", upstream);
  else if (len > 0)
    buf[0] = '\0';
  for (size_t i = 0; i < 2; i++) {
    if (n < 0 || (size_t)n >= len)
      return -1;
    if (upstream != NULL && list_has(upstream, ours[i]))
      continue;
    n += snprintf(buf + n, len - (size_t)n, "%s%s", n > 0 ? ", " : "", ours[i]);
  }
  return n < 0 || (size_t)n >= len ? -1 : n;
}

int fields_cmsd(char *buf, size_t len, const char *upstream, int has_mb,
                uint64_t mb_kbps) {
  int keep = 0;
  if (upstream != NULL && upstream[0] != '\0') {
    scone_app_cmsd_entry e[MAX_MEMBERS];
    int m = scone_app_cmsd_dynamic_decode(upstream, strlen(upstream), e,
                                          MAX_MEMBERS);
    if (m > 0) {
      keep = 1;
      uint64_t up_mb;
      size_t stored = m < MAX_MEMBERS ? (size_t)m : MAX_MEMBERS;
      if (scone_app_cmsd_dynamic_min_mb(e, stored, &up_mb) &&
          (!has_mb || up_mb < mb_kbps)) {
        has_mb = 1;
        mb_kbps = up_mb;
      }
    }
  }
  if (!keep && !has_mb)
    return 0;
  int n = 0;
  if (keep)
    n = snprintf(buf, len, "%s", upstream);
  if (n < 0 || (size_t)n >= len)
    return -1;
  if (!has_mb)
    return n;
  scone_app_cmsd_dynamic d;
  memset(&d, 0, sizeof(d));
  d.has_mb = 1;
  d.mb_kbps = mb_kbps;
  char member[128];
  if (scone_app_cmsd_dynamic_render(member, sizeof(member), FIELDS_SERVER_ID,
                                    &d) < 0)
    return -1;
  n += snprintf(buf + n, len - (size_t)n, "%s%s", keep ? ", " : "", member);
  return n < 0 || (size_t)n >= len ? -1 : n;
}
