/*
 * Shared by the fuzz targets. Each target is built twice: as a libFuzzer
 * binary (SCONE_FUZZ=ON) and as a corpus replay program run by ctest, so the
 * invariants here are checked on every build, not only while fuzzing.
 */
#ifndef SCONE_FUZZ_H
#define SCONE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* abort() rather than assert(): the checks must survive NDEBUG builds, and
 * libFuzzer saves the input on any abort. */
#define FUZZ_CHECK(cond)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__,   \
              #cond);                                                          \
      abort();                                                                 \
    }                                                                          \
  } while (0)

static inline uint16_t fuzz_be16(const uint8_t *p) {
  return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t fuzz_be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
         ((uint32_t)p[2] << 8) | p[3];
}

/* The length of a long header's invariant part (RFC 8999 5.1: first byte,
 * version, DCID length and DCID, SCID length and SCID), or 0 when the n bytes
 * at d end inside it. */
static inline size_t fuzz_long_hdr_len(const uint8_t *d, size_t n) {
  if (n < 6 || n < 7 + (size_t)d[5] || n < 7 + (size_t)d[5] + d[6 + d[5]])
    return 0;
  return 7 + (size_t)d[5] + d[6 + d[5]];
}

/* An exact-size heap copy, so that AddressSanitizer reports any access past
 * the end just as it does for libFuzzer's own input buffer. */
static inline uint8_t *fuzz_dup(const uint8_t *data, size_t size,
                                size_t extra) {
  uint8_t *p = malloc(size + extra ? size + extra : 1);
  if (!p)
    abort();
  if (size)
    memcpy(p, data, size);
  return p;
}

#endif
