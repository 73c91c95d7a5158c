/*
 * Helpers shared by the sources of app/; not part of the public API.
 */
#ifndef SCONE_APP_INTERNAL_H
#define SCONE_APP_INTERNAL_H

#include <scone/app.h>

#include <jansson.h>

/* Serialises and releases obj (NULL counts as an allocation failure, so
 * callers can pass a constructor's result straight in). newline appends
 * '\n'. Same returns as the public *_to_json functions. */
int scone_app_json_dump(json_t *obj, char *buf, size_t len, int newline);

/* Sets key to value, or to null when value is NULL because a constructor
 * failed: the dump then fails on the missing object instead. Returns 0 or -1.
 */
int scone_app_json_set(json_t *obj, const char *key, json_t *value);

/* A duration in milliseconds with microsecond precision. */
json_t *scone_app_json_ms(scone_duration ns);

/* An unsigned count; JSON numbers here are int64, so larger values clamp. */
json_t *scone_app_json_u64(uint64_t v);

/* An unsigned count, or null when known is 0. */
json_t *scone_app_json_u64_or_null(int known, uint64_t v);

/* Copies a settings struct, or the defaults for NULL. Returns 0, or
 * SCONE_ERR_INVALID_ARGUMENT (dst holds the defaults) for a version the
 * library does not know. */
int scone_app_settings_resolve(scone_app_settings *dst,
                               const scone_app_settings *src);

/* 1 when the advice is present and carries a rate. */
int scone_app_advice_known(const scone_advice *a);

#endif /* SCONE_APP_INTERNAL_H */
