/* QUIC variable-length integers (RFC 9000, Section 16). */
#include <scone/scone.h>

#define VARINT_MAX ((UINT64_C(1) << 62) - 1)

scone_ssize scone_varint_get(uint64_t *v, const uint8_t *p, size_t len) {
  if (len == 0 || p == NULL)
    return SCONE_ERR_TRUNCATED;
  size_t n = (size_t)1 << (p[0] >> 6);
  if (len < n)
    return SCONE_ERR_TRUNCATED;
  uint64_t x = p[0] & 0x3fU;
  for (size_t i = 1; i < n; i++)
    x = (x << 8) | p[i];
  if (v)
    *v = x;
  return (scone_ssize)n;
}

size_t scone_varint_len(uint64_t v) {
  if (v < 0x40U)
    return 1;
  if (v < 0x4000U)
    return 2;
  if (v < 0x40000000U)
    return 4;
  return 8;
}

scone_ssize scone_varint_put(uint8_t *p, size_t len, uint64_t v) {
  if (v > VARINT_MAX)
    return SCONE_ERR_INVALID_ARGUMENT;
  size_t n = scone_varint_len(v);
  if (p == NULL || len < n)
    return SCONE_ERR_NOBUF;
  /* The two-bit length prefix (log2 n), indexed by the encoded length n. */
  static const uint8_t prefix[9] = {0, 0x00, 0x40, 0, 0x80, 0, 0, 0, 0xc0};
  for (size_t i = n; i-- > 0;) {
    p[i] = (uint8_t)v;
    v >>= 8;
  }
  p[0] |= prefix[n];
  return (scone_ssize)n;
}
