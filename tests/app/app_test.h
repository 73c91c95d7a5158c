/*
 * Shared by the scone_app tests: advice built from the real rate table and
 * JSON parsed back with jansson, so tests check what a consumer would see.
 */
#ifndef SCONE_APP_TEST_H
#define SCONE_APP_TEST_H

#include <scone/app.h>

#include <jansson.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static inline scone_advice advice_of(unsigned signal) {
  scone_advice a = {signal, scone_rate_from_signal(signal), 0, 0};
  return a;
}

/* Parses text that must be exactly one JSON object; fails the test if not. */
static inline json_t *parse_object(const char *text) {
  json_error_t e;
  json_t *j = json_loads(text, 0, &e);
  if (!j)
    fail_msg("invalid JSON (%s at %d): %s", e.text, e.position, text);
  assert_true(json_is_object(j));
  return j;
}

static inline json_int_t get_int(const json_t *o, const char *key) {
  json_t *v = json_object_get(o, key);
  if (!json_is_integer(v))
    fail_msg("%s is not an integer", key);
  return json_integer_value(v);
}

static inline double get_number(const json_t *o, const char *key) {
  json_t *v = json_object_get(o, key);
  if (!json_is_number(v))
    fail_msg("%s is not a number", key);
  return json_number_value(v);
}

static inline const char *get_string(const json_t *o, const char *key) {
  json_t *v = json_object_get(o, key);
  if (!json_is_string(v))
    fail_msg("%s is not a string", key);
  return json_string_value(v);
}

static inline void assert_null_key(const json_t *o, const char *key) {
  json_t *v = json_object_get(o, key);
  if (!json_is_null(v))
    fail_msg("%s is %s, expected null", key, v ? "not null" : "missing");
}

#endif /* SCONE_APP_TEST_H */
