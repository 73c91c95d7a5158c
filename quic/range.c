/*
 * Range requests (RFC 9110 section 14): one range of bytes, or the whole
 * object. Several ranges would need a multipart/byteranges body, which no
 * player asks for; the RFC lets a server answer those with the whole
 * object, as it does for anything it does not understand.
 */
#include "content.h"

#include <string.h>
#include <strings.h>

static const char *skip_ows(const char *p) {
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

/* Digits into *v; NULL when there are none or they overflow. */
static const char *digits(const char *p, uint64_t *v) {
  if (*p < '0' || *p > '9')
    return NULL;
  uint64_t x = 0;
  for (; *p >= '0' && *p <= '9'; p++) {
    if (x > (UINT64_MAX - 9) / 10)
      return NULL;
    x = x * 10 + (uint64_t)(*p - '0');
  }
  *v = x;
  return p;
}

int sq_content_range(const char *header, uint64_t size, uint64_t *first,
                     uint64_t *last) {
  if (header == NULL)
    return 0;
  const char *p = skip_ows(header);
  if (strncasecmp(p, "bytes=", 6) != 0)
    return 0;
  p = skip_ows(p + 6);
  uint64_t a = 0, b = 0;
  int suffix = *p == '-';
  if (suffix) {
    if ((p = digits(p + 1, &b)) == NULL)
      return 0;
  } else {
    if ((p = digits(p, &a)) == NULL || *p++ != '-')
      return 0;
    const char *q = digits(p, &b);
    if (q == NULL)
      b = UINT64_MAX; /* "a-": to the end */
    else if (b < a)
      return 0; /* invalid: ignored */
    else
      p = q;
  }
  /* An empty list element after the range is allowed (RFC 9110 5.6.1). */
  p = skip_ows(p);
  if (*p == ',')
    p = skip_ows(p + 1);
  if (*p != '\0')
    return 0; /* several ranges, or junk */
  if (suffix) {
    if (b == 0 || size == 0)
      return -1;
    *first = b >= size ? 0 : size - b;
    *last = size - 1;
    return 1;
  }
  if (a >= size)
    return -1;
  *first = a;
  *last = b >= size ? size - 1 : b;
  return 1;
}
