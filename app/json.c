/*
 * JSON output for the app helpers. jansson does the escaping and number
 * formatting; everything is serialised compactly so that qlog lines and
 * stats stay one line each.
 */
#include "internal.h"

#include <string.h>

/* Enough digits for microsecond-precision milliseconds of any realistic RTT
 * or trace time, few enough that 0.1 prints as 0.1. */
#define REAL_DIGITS 15

int scone_app_json_dump(json_t *obj, char *buf, size_t len, int newline) {
  if (!obj)
    return SCONE_ERR_NOBUF;
  if (!buf) {
    json_decref(obj);
    return SCONE_ERR_INVALID_ARGUMENT;
  }
  size_t n = json_dumpb(obj, buf, len,
                        JSON_COMPACT | JSON_REAL_PRECISION(REAL_DIGITS));
  json_decref(obj);
  size_t total = n + (newline ? 1 : 0);
  /* json_dumpb reports 0 for its own failures (e.g. no memory). */
  if (n == 0 || total >= len || total > INT32_MAX)
    return SCONE_ERR_NOBUF;
  if (newline)
    buf[n] = '\n';
  buf[total] = '\0';
  return (int)total;
}

int scone_app_json_set(json_t *obj, const char *key, json_t *value) {
  /* set_new consumes value even when it fails, and rejects NULL. */
  return json_object_set_new(obj, key, value);
}

json_t *scone_app_json_ms(scone_duration ns) {
  /* Integer microseconds first so the double holds a short decimal. */
  return json_real((double)(ns / 1000) / 1000.0);
}

json_t *scone_app_json_u64(uint64_t v) {
  return json_integer(v > (uint64_t)INT64_MAX ? (json_int_t)INT64_MAX
                                              : (json_int_t)v);
}

json_t *scone_app_json_u64_or_null(int known, uint64_t v) {
  return known ? scone_app_json_u64(v) : json_null();
}
