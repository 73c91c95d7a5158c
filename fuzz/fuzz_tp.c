/*
 * scone_supported lookup in a transport parameters blob, and QUIC varints.
 * The expected result comes from walking the blob as RFC 9000 section 18
 * defines it (id, length, value), using the library's varint decoder, which
 * is itself checked against the wire encoding below.
 */
#include "fuzz.h"

#include <scone/scone.h>
#include <string.h>

#define VARINT_MAX ((UINT64_C(1) << 62) - 1)

static void check_varint_get(const uint8_t *d, size_t n) {
  uint64_t v;
  scone_ssize r = scone_varint_get(&v, d, n);
  if (n == 0) {
    FUZZ_CHECK(r == SCONE_ERR_TRUNCATED);
    return;
  }
  size_t want = (size_t)1 << (d[0] >> 6);
  if (n < want) {
    FUZZ_CHECK(r == SCONE_ERR_TRUNCATED);
    return;
  }
  FUZZ_CHECK(r == (scone_ssize)want);
  uint64_t expect = d[0] & 0x3f;
  for (size_t i = 1; i < want; i++)
    expect = expect << 8 | d[i];
  FUZZ_CHECK(v == expect && v <= VARINT_MAX);

  /* Re-encoding is never longer, and identical when the input was minimal. */
  uint8_t buf[8];
  scone_ssize w = scone_varint_put(buf, sizeof buf, v);
  FUZZ_CHECK(w > 0 && (size_t)w <= want && (size_t)w == scone_varint_len(v));
  if ((size_t)w == want)
    FUZZ_CHECK(memcmp(buf, d, want) == 0);
}

static void check_varint_put(uint64_t v) {
  uint8_t buf[8];
  scone_ssize w = scone_varint_put(buf, sizeof buf, v);
  if (v > VARINT_MAX) {
    FUZZ_CHECK(w == SCONE_ERR_INVALID_ARGUMENT);
    return;
  }
  size_t want = v < 64 ? 1 : v < 16384 ? 2 : v < (UINT64_C(1) << 30) ? 4 : 8;
  FUZZ_CHECK(w == (scone_ssize)want && scone_varint_len(v) == want);
  uint64_t back;
  FUZZ_CHECK(scone_varint_get(&back, buf, want) == (scone_ssize)want);
  FUZZ_CHECK(back == v);

  uint8_t *small = fuzz_dup(buf, 0, want - 1);
  FUZZ_CHECK(scone_varint_put(small, want - 1, v) == SCONE_ERR_NOBUF);
  free(small);
}

/* 1, 0 or SCONE_ERR_TRANSPORT_PARAMETER for a well-formed blob; for a
 * malformed one, *seen tells whether the scone_supported id appeared before
 * the blob broke (an implementation may report either error then). */
static int expected_tp(const uint8_t *d, size_t n, int *malformed, int *seen) {
  size_t off = 0;
  int count = 0, has_value = 0;
  *malformed = 0;
  *seen = 0;
  while (off < n) {
    uint64_t id, len;
    scone_ssize k = scone_varint_get(&id, d + off, n - off);
    if (k < 0)
      goto broken;
    off += (size_t)k;
    if (id == SCONE_TP_SCONE_SUPPORTED)
      *seen = 1;
    k = scone_varint_get(&len, d + off, n - off);
    if (k < 0)
      goto broken;
    off += (size_t)k;
    if (len > n - off)
      goto broken;
    off += (size_t)len;
    if (id == SCONE_TP_SCONE_SUPPORTED) {
      count++;
      has_value |= len != 0;
    }
  }
  if (count == 0)
    return 0;
  return count == 1 && !has_value ? 1 : SCONE_ERR_TRANSPORT_PARAMETER;
broken:
  *malformed = 1;
  return SCONE_ERR_MALFORMED;
}

static void check_tp(const uint8_t *d, size_t n) {
  int malformed, seen;
  int want = expected_tp(d, n, &malformed, &seen);
  int r = scone_tp_find(d, n);

  if (!malformed)
    FUZZ_CHECK(r == want);
  else if (!seen)
    FUZZ_CHECK(r == SCONE_ERR_MALFORMED);
  else
    FUZZ_CHECK(r == SCONE_ERR_MALFORMED || r == SCONE_ERR_TRANSPORT_PARAMETER);

  /* Appending the encoded parameter to a well-formed blob adds one
   * occurrence: absent becomes present, present becomes a duplicate. */
  uint8_t *buf = fuzz_dup(d, n, 3);
  FUZZ_CHECK(scone_tp_encode(buf + n, 2) == SCONE_ERR_NOBUF);
  FUZZ_CHECK(scone_tp_encode(buf + n, 3) == 3);
  FUZZ_CHECK(buf[n] == 0x61 && buf[n + 1] == 0x9e && buf[n + 2] == 0x00);
  int r2 = scone_tp_find(buf, n + 3);
  if (!malformed)
    FUZZ_CHECK(r2 == (want == 0 ? 1 : SCONE_ERR_TRANSPORT_PARAMETER));
  free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_tp(data, size);
  check_varint_get(data, size);
  uint64_t v = 0;
  for (size_t i = 0; i < size && i < 8; i++)
    v = v << 8 | data[i];
  check_varint_put(v);
  check_varint_put(v & VARINT_MAX);
  check_varint_put(v >> (size & 63));
  return 0;
}
