/* Hex text in and out. */
#ifndef SCONE_TOOL_HEX_H
#define SCONE_TOOL_HEX_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parses hex digits into out. Whitespace anywhere and a "0x"/"0X" at the
 * start of any whitespace-separated word are ignored, so "0x80 6f7d", a
 * Wireshark hex stream and `xxd -p` output all work. Returns the byte count,
 * or -1 with a one-line reason in err.
 */
long hex_parse(const char *text, uint8_t *out, size_t cap, char *err,
               size_t errlen);

/* Writes 2 * n lowercase hex digits and a NUL to buf (2 * n + 1 bytes). */
char *hex_format(const uint8_t *p, size_t n, char *buf);

#endif /* SCONE_TOOL_HEX_H */
