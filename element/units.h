/*
 * The numbers of sconed's config file, which its command line and control
 * endpoint take in the same form. Rates and sizes use decimal SI prefixes
 * as carriers quote them ("5M" plans are 5,000,000 bit/s); fractions are
 * accepted ("2.5M") and must land on a whole unit. Each parser returns 0
 * and sets *out, or -1 for anything that is not a whole, non-negative,
 * in-range value (*out untouched).
 */
#ifndef SCONED_UNITS_H
#define SCONED_UNITS_H

#include <stdint.h>

/* Bits per second: "5000000", "5M", "2.5Mbit", "100k". */
int sconed_parse_bps(const char *s, uint64_t *out);
/* Bytes: "125000", "125k". */
int sconed_parse_bytes(const char *s, uint64_t *out);
/* Nanoseconds: "200ms", "67s", "2min" (a unit is required). */
int sconed_parse_duration(const char *s, uint64_t *out);
/* Plain decimal digits, at most max. */
int sconed_parse_uint(const char *s, uint64_t max, uint64_t *out);

#endif
