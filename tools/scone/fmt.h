/* Human-readable rates in the style of the SCONE draft's signal table. */
#ifndef SCONE_TOOL_FMT_H
#define SCONE_TOOL_FMT_H

#include <stddef.h>
#include <stdint.h>

/* Enough for "18446744073 Gbit/s" and more. */
#define FMT_RATE_LEN 40

/*
 * Writes bps as "100 kbit/s", "1.12 Mbit/s", "199.5 Gbit/s": three
 * significant digits, trailing zeros trimmed, in the largest unit (bit/s,
 * kbit/s, Mbit/s, Gbit/s) that keeps the number at least 1. Returns buf.
 */
const char *fmt_rate(uint64_t bps, char *buf, size_t len);

#endif /* SCONE_TOOL_FMT_H */
