/*
 * The CMSD-Dynamic decoder (CTA-5006) on any header value: it reads a list
 * or refuses it whole; every member it stores with a printable identifier
 * renders back to a member that decodes to the same keys; the lowest mb is
 * no higher than any member's.
 * Input: the header value.
 */
#include "fuzz.h"

#include <scone/app.h>
#include <string.h>

#define MAX 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  scone_app_cmsd_entry e[MAX];
  int n = scone_app_cmsd_dynamic_decode((const char *)data, size, e, MAX);
  FUZZ_CHECK(n >= 0 || n == SCONE_ERR_MALFORMED);
  if (n <= 0)
    return 0;
  size_t stored = (size_t)n < MAX ? (size_t)n : MAX;
  uint64_t mb = 0;
  int has = scone_app_cmsd_dynamic_min_mb(e, stored, &mb);
  for (size_t i = 0; i < stored; i++) {
    FUZZ_CHECK(strlen(e[i].server) <= SCONE_APP_CMSD_ID_MAX);
    if (e[i].d.has_mb)
      FUZZ_CHECK(has && mb <= e[i].d.mb_kbps);
    char buf[512];
    int len =
        scone_app_cmsd_dynamic_render(buf, sizeof buf, e[i].server, &e[i].d);
    FUZZ_CHECK(len > 0);
    scone_app_cmsd_entry back;
    FUZZ_CHECK(scone_app_cmsd_dynamic_decode(buf, (size_t)len, &back, 1) == 1);
    char again[512];
    FUZZ_CHECK(scone_app_cmsd_dynamic_render(again, sizeof again, back.server,
                                             &back.d) == len);
    FUZZ_CHECK(memcmp(buf, again, (size_t)len) == 0);
  }
  return 0;
}
