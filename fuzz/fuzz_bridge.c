/*
 * scone-bridge's own parsing (apps/scone-bridge): the request target that
 * names the origin, and the response fields it writes.
 * Input: byte 0 even: the rest is a request target; odd: the rest is an
 * upstream CMSD-Dynamic value, then (after a NUL, if any) an upstream
 * Access-Control-Expose-Headers value, with byte 0 >> 1 choosing the
 * bridge's mb (0: none).
 *
 * A target is taken or refused with a known reason; a taken one forwards
 * a path HTTP/3 accepts (starts with '/', printable, no space, bounded)
 * to an origin whose key reads back as the same host and port. The
 * CMSD-Dynamic written is a valid list whose last member is the bridge's,
 * carrying the lowest mb of all; the exposed list names both CMSD fields.
 */
#include "fuzz.h"

#include "fields.h"
#include "route.h"

#include <scone/app.h>
#include <stdlib.h>
#include <string.h>

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

static void fields(const uint8_t *data, size_t size, uint64_t mb) {
  char *text = malloc(size + 2);
  if (text == NULL)
    return;
  memcpy(text, data, size);
  text[size] = '\0';
  text[size + 1] = '\0';
  const char *cmsd = text;
  const char *expose = text + strlen(text) + 1;
  char out[4096];
  int n = fields_cmsd(out, sizeof(out), cmsd, mb > 0, mb);
  FUZZ_CHECK(n >= -1);
  if (n > 0) {
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
  if (n > 0) {
    FUZZ_CHECK(strstr(out, "CMSD-Dynamic") != NULL ||
               strcasestr(out, "cmsd-dynamic") != NULL);
    FUZZ_CHECK(strcasestr(out, "cmsd-static") != NULL);
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
