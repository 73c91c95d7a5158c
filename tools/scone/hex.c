/* Hex text parsing and formatting. */
#include "hex.h"

#include <ctype.h>
#include <stdio.h>

static int nibble(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

long hex_parse(const char *text, uint8_t *out, size_t cap, char *err,
               size_t errlen) {
  size_t ndig = 0;
  int word_start = 1;
  for (size_t i = 0; text[i]; i++) {
    unsigned char c = (unsigned char)text[i];
    if (isspace(c)) {
      word_start = 1;
      continue;
    }
    if (word_start && c == '0' && (text[i + 1] == 'x' || text[i + 1] == 'X')) {
      i++;
      word_start = 0;
      continue;
    }
    word_start = 0;
    int v = nibble(c);
    if (v < 0) {
      if (isprint(c))
        snprintf(err, errlen, "invalid hex character '%c' at position %zu", c,
                 i + 1);
      else
        snprintf(err, errlen, "invalid hex character 0x%02x at position %zu", c,
                 i + 1);
      return -1;
    }
    if (ndig / 2 >= cap) {
      snprintf(err, errlen, "more than %zu bytes of hex", cap);
      return -1;
    }
    if (ndig % 2 == 0)
      out[ndig / 2] = (uint8_t)(v << 4);
    else
      out[ndig / 2] |= (uint8_t)v;
    ndig++;
  }
  if (ndig % 2) {
    snprintf(err, errlen, "odd number of hex digits (%zu)", ndig);
    return -1;
  }
  return (long)(ndig / 2);
}

char *hex_format(const uint8_t *p, size_t n, char *buf) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    buf[2 * i] = digits[p[i] >> 4];
    buf[2 * i + 1] = digits[p[i] & 0xf];
  }
  buf[2 * n] = '\0';
  return buf;
}
