/*
 * scone-bridge's own parsing (apps/scone-bridge): the request target that
 * names the origin, and the response fields it writes.
 * Input: byte 0 even: the rest is a request target; odd: the rest is an
 * upstream CMSD-Dynamic value, then (after a NUL, if any) an upstream
 * Access-Control-Expose-Headers value, then (after NULs) a field name and
 * a Connection value, with byte 0 >> 1 choosing the bridge's mb (0: none).
 *
 * A target is taken or refused with a known reason; a taken one forwards
 * a path HTTP/3 accepts (starts with '/', printable, no space, bounded)
 * to an origin whose key reads back as the same host and port. The
 * CMSD-Dynamic written is a valid list whose last member is the bridge's,
 * carrying the lowest mb of all, after the upstream's list unchanged; the
 * exposed list is the upstream's unchanged with exactly the CMSD fields it
 * lacked appended. Both are written whole into a buffer one byte longer
 * than their length and refused (-1) by one exactly as long, which is
 * heap-allocated to size so that a write past it is seen. Which fields are
 * dropped is compared with a second reading of the rules (the fixed lists,
 * pseudo-fields, the tokens a Connection value names).
 */
#include "fuzz.h"

#include "fields.h"
#include "route.h"

#include <scone/app.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void target(const uint8_t *data, size_t size) {
  route r;
  int rv = route_parse(&r, (const char *)data, size);
  FUZZ_CHECK(route_strerror(rv) != NULL);
  if (rv != ROUTE_OK) {
    FUZZ_CHECK(rv >= ROUTE_ERR_AUTHORITY && rv <= ROUTE_ERR_BAD_TARGET);
    return;
  }
  size_t pl = strlen(r.path);
  FUZZ_CHECK(pl > 0 && pl < ROUTE_PATH_MAX && r.path[0] == '/');
  for (size_t i = 0; i < pl; i++)
    FUZZ_CHECK(r.path[i] > ' ' && r.path[i] < 0x7f);
  if (r.kind != ROUTE_FORWARD)
    return;
  char key[ROUTE_HOST_MAX + ROUTE_PORT_MAX + 4];
  int kl = route_origin_key(key, sizeof(key), r.host, r.port);
  FUZZ_CHECK(kl > 0);
  char host[ROUTE_HOST_MAX + 1], port[ROUTE_PORT_MAX + 1];
  FUZZ_CHECK(route_parse_origin(key, (size_t)kl, host, port) == ROUTE_OK);
  FUZZ_CHECK(strcmp(host, r.host) == 0 && strcmp(port, r.port) == 0);
  long p = strtol(port, NULL, 10);
  FUZZ_CHECK(p >= 1 && p <= 65535);
}

/* The Connection value's tokens (commas, optional whitespace around each)
 * name the field: read again here, independently of fields.c. */
static int names(const char *list, const char *name) {
  size_t nl = strlen(name);
  for (const char *p = list; *p != '\0';) {
    const char *e = strchr(p, ',');
    if (e == NULL)
      e = p + strlen(p);
    const char *b = p;
    while (b < e && (*b == ' ' || *b == '\t'))
      b++;
    const char *t = e;
    while (t > b && (t[-1] == ' ' || t[-1] == '\t'))
      t--;
    if ((size_t)(t - b) == nl && nl > 0 && strncasecmp(b, name, nl) == 0)
      return 1;
    p = *e ? e + 1 : e;
  }
  return 0;
}

static int listed(const char *name, const char *const *list) {
  for (size_t i = 0; list[i] != NULL; i++)
    if (strcasecmp(name, list[i]) == 0)
      return 1;
  return 0;
}

static void drops(const char *name, const char *conn) {
  static const char *const req[] = {"connection",
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
  static const char *const resp[] = {"content-length",
                                     "transfer-encoding",
                                     "connection",
                                     "keep-alive",
                                     "date",
                                     "cmsd-dynamic",
                                     "access-control-expose-headers",
                                     NULL};
  int pseudo = name[0] == ':';
  FUZZ_CHECK(fields_request_drop(name, NULL) == (pseudo || listed(name, req)));
  FUZZ_CHECK(fields_request_drop(name, conn) ==
             (pseudo || listed(name, req) || names(conn, name)));
  FUZZ_CHECK(fields_response_drop(name) == (pseudo || listed(name, resp)));
}

/* f(buf, len) written into exactly len bytes of heap: -1 when len is the
 * length (no room for the NUL), the same text when one more. */
typedef int (*writer)(char *buf, size_t len, const void *arg);

static void exact(writer f, const void *arg, const char *want, int n) {
  char *b = malloc((size_t)n + 1);
  if (b == NULL)
    return;
  FUZZ_CHECK(f(b, (size_t)n + 1, arg) == n && memcmp(b, want, n + 1) == 0);
  free(b);
  b = malloc(n > 0 ? (size_t)n : 1);
  if (b == NULL)
    return;
  FUZZ_CHECK(f(b, (size_t)n, arg) == -1);
  free(b);
}

typedef struct cmsd_arg {
  const char *up;
  uint64_t mb;
} cmsd_arg;

static int w_cmsd(char *buf, size_t len, const void *arg) {
  const cmsd_arg *a = arg;
  return fields_cmsd(buf, len, a->up, a->mb > 0, a->mb);
}

static int w_expose(char *buf, size_t len, const void *arg) {
  return fields_expose(buf, len, arg);
}

/* The exposed list: the upstream's as it came, then exactly the CMSD
 * fields it did not name, in order. */
static void check_expose(const char *up, const char *out, int n) {
  static const char *const ours[] = {"CMSD-Dynamic", "CMSD-Static"};
  char want[4096];
  size_t w = (size_t)snprintf(want, sizeof(want), "%s", up);
  for (int i = 0; i < 2 && w < sizeof(want); i++)
    if (!names(up, ours[i]))
      w += (size_t)snprintf(want + w, sizeof(want) - w, "%s%s",
                            w > 0 ? ", " : "", ours[i]);
  FUZZ_CHECK(w < sizeof(want) && (size_t)n == w && strcmp(out, want) == 0);
}

static void fields(const uint8_t *data, size_t size, uint64_t mb) {
  /* Four NUL-terminated parts; missing ones are empty. */
  char *text = malloc(size + 4);
  if (text == NULL)
    return;
  memcpy(text, data, size);
  memset(text + size, 0, 4);
  const char *cmsd = text;
  const char *expose = cmsd + strlen(cmsd) + 1;
  const char *name = expose + strlen(expose) + 1;
  const char *conn = name + strlen(name) + 1;
  drops(name, conn);
  char out[4096];
  int n = fields_cmsd(out, sizeof(out), cmsd, mb > 0, mb);
  FUZZ_CHECK(n >= -1);
  if (n > 0)
    exact(w_cmsd, &(cmsd_arg){cmsd, mb}, out, n);
  if (n > 0) {
    /* An upstream list that decodes is kept as it came, in front. */
    scone_app_cmsd_entry up[16];
    if (scone_app_cmsd_dynamic_decode(cmsd, strlen(cmsd), up, 16) > 0)
      FUZZ_CHECK(strncmp(out, cmsd, strlen(cmsd)) == 0);
    scone_app_cmsd_entry e[16];
    int m = scone_app_cmsd_dynamic_decode(out, (size_t)n, e, 16);
    FUZZ_CHECK(m > 0);
    if (m <= 16 && e[m - 1].d.has_mb &&
        strcmp(e[m - 1].server, FIELDS_SERVER_ID) == 0) {
      uint64_t low;
      FUZZ_CHECK(scone_app_cmsd_dynamic_min_mb(e, (size_t)m, &low));
      FUZZ_CHECK(e[m - 1].d.mb_kbps == low);
      if (mb > 0)
        FUZZ_CHECK(low <= mb);
    }
    if (mb > 0 && m <= 16)
      FUZZ_CHECK(strcmp(e[m - 1].server, FIELDS_SERVER_ID) == 0);
  } else if (n == 0) {
    FUZZ_CHECK(mb == 0);
  }
  n = fields_expose(out, sizeof(out), expose);
  FUZZ_CHECK(n > 0 || (n == -1 && strlen(expose) + 32 >= sizeof(out)));
  if (n > 0) {
    FUZZ_CHECK(strstr(out, "CMSD-Dynamic") != NULL ||
               strcasestr(out, "cmsd-dynamic") != NULL);
    FUZZ_CHECK(strcasestr(out, "cmsd-static") != NULL);
    check_expose(expose, out, n);
    exact(w_expose, expose, out, n);
  }
  FUZZ_CHECK(fields_value_ok(expose) == 0 || fields_value_ok(expose) == 1);
  free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  if ((data[0] & 1) == 0)
    target(data + 1, size - 1);
  else
    fields(data + 1, size - 1, (uint64_t)(data[0] >> 1) * 97);
  return 0;
}
