/*
 * The numbers sconed takes from outside: the control endpoint's query
 * values (POST /capacity?name=X&bps=N, as libmicrohttpd hands them over,
 * decoded), the command line and the config file (element/units.c), and
 * the capacity change they drive. An accepted value is whole and in range
 * and reads back the same from its plain decimal form (and from the
 * largest SI prefix that divides it); a refused one leaves the output
 * untouched; a capacity change is taken exactly for 0 and 100k .. 1T and
 * for a known name only, and lowers nothing else.
 *
 * Input: byte 0 picks the parser (0 bps, 1 bytes, 2 duration, 3 uint with
 * a max from byte 1); the rest is the value's text (NUL ends it).
 */
#include "fuzz.h"

#include "config.h"
#include "engine.h"
#include "units.h"

#include <inttypes.h>
#include <string.h>

static sconed_engine *engine(void) {
  static sconed_engine *e;
  if (e)
    return e;
  static const char cfg[] = "[plan p]\ndownlink = 5M\n[capacity cell1]\n"
                            "rate = 10M\n[subscribers]\n"
                            "subscriber = 10.0.0.0/8 p opt-in capacity=cell1\n";
  sconed_engine_settings s;
  sconed_engine_settings_default(&s);
  s.seed_source = SCONED_SEED_FIXED;
  s.max_flows = 16;
  s.max_subscribers = 0;
  e = sconed_engine_new(&s);
  char err[256];
  sconed_config *c = sconed_config_parse(cfg, "fuzz.ini", err, sizeof(err));
  if (!e || !c || sconed_engine_set_config(e, c))
    abort();
  return e;
}

static void reads_back(int which, uint64_t v) {
  static const char *const bps_sfx[] = {"G", "M", "k"};
  static const char *const bytes_sfx[] = {"M", "k"};
  static const uint64_t mul3[] = {1000000000ULL, 1000000ULL, 1000ULL};
  static const uint64_t mul2[] = {1000000ULL, 1000ULL};
  char buf[64];
  uint64_t w = 0;
  if (which == 2) {
    snprintf(buf, sizeof(buf), "%" PRIu64 "ns", v);
    FUZZ_CHECK(sconed_parse_duration(buf, &w) == 0 && w == v);
    return;
  }
  int (*p)(const char *, uint64_t *) =
      which == 0 ? sconed_parse_bps : sconed_parse_bytes;
  snprintf(buf, sizeof(buf), "%" PRIu64, v);
  FUZZ_CHECK(p(buf, &w) == 0 && w == v);
  size_t n = which == 0 ? 3 : 2;
  for (size_t i = 0; i < n; i++) {
    uint64_t m = which == 0 ? mul3[i] : mul2[i];
    if (v && v % m == 0) {
      snprintf(buf, sizeof(buf), "%" PRIu64 "%s", v / m,
               which == 0 ? bps_sfx[i] : bytes_sfx[i]);
      FUZZ_CHECK(p(buf, &w) == 0 && w == v);
      break;
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2 || size > 256)
    return 0;
  char s[256];
  memcpy(s, data + 1, size - 1);
  s[size - 1] = 0;
  int which = data[0] & 3;
  const uint64_t sentinel = 0xdeadbeefcafef00dULL;
  uint64_t v = sentinel;
  int r;
  switch (which) {
  case 0:
    r = sconed_parse_bps(s, &v);
    break;
  case 1:
    r = sconed_parse_bytes(s, &v);
    break;
  case 2:
    r = sconed_parse_duration(s, &v);
    break;
  default: {
    uint64_t max = (uint64_t)1 << (data[0] >> 2 & 63);
    r = sconed_parse_uint(s, max, &v);
    FUZZ_CHECK(r < 0 || v <= max);
    if (r == 0) {
      FUZZ_CHECK(strspn(s, "0123456789") == strlen(s) && *s);
      char buf[32];
      snprintf(buf, sizeof(buf), "%" PRIu64, v);
      uint64_t w;
      FUZZ_CHECK(sconed_parse_uint(buf, max, &w) == 0 && w == v);
    }
    break;
  }
  }
  FUZZ_CHECK(r == 0 || r == -1);
  if (r < 0) {
    FUZZ_CHECK(v == sentinel);
    return 0;
  }
  if (which < 3)
    reads_back(which, v);
  if (which == 0) {
    /* The capacity change POST /capacity makes of it. */
    sconed_engine *e = engine();
    int ok = v == 0 || (v >= SCONED_MIN_RATE_BPS && v <= SCONED_MAX_RATE_BPS);
    int c = sconed_engine_set_capacity(e, "cell1", v, 1);
    FUZZ_CHECK(c == (ok ? 0 : -2));
    FUZZ_CHECK(sconed_engine_set_capacity(e, s, v, 1) == -1 ||
               strcmp(s, "cell1") == 0);
  }
  return 0;
}
