/* The scone_supported transport parameter (0x219e, always empty). */
#include <scone/scone.h>

scone_ssize scone_tp_encode(uint8_t *dst, size_t dstlen) {
  size_t idlen = scone_varint_len(SCONE_TP_SCONE_SUPPORTED);
  if (dst == NULL || dstlen < idlen + 1)
    return SCONE_ERR_NOBUF;
  scone_ssize n = scone_varint_put(dst, dstlen, SCONE_TP_SCONE_SUPPORTED);
  if (n < 0)
    return n;
  dst[n] = 0; /* the length: the parameter carries no value */
  return n + 1;
}

int scone_tp_find(const uint8_t *params, size_t paramslen) {
  if (params == NULL && paramslen > 0)
    return SCONE_ERR_INVALID_ARGUMENT;
  /* The whole blob is walked even after a match so that a duplicate, or a
   * blob that breaks further on, is not accepted by stopping early. */
  int found = 0;
  size_t off = 0;
  while (off < paramslen) {
    uint64_t id, vlen;
    scone_ssize n = scone_varint_get(&id, params + off, paramslen - off);
    if (n < 0)
      return SCONE_ERR_MALFORMED;
    off += (size_t)n;
    n = scone_varint_get(&vlen, params + off, paramslen - off);
    if (n < 0)
      return SCONE_ERR_MALFORMED;
    off += (size_t)n;
    if (vlen > paramslen - off)
      return SCONE_ERR_MALFORMED;
    off += (size_t)vlen;
    if (id == SCONE_TP_SCONE_SUPPORTED) {
      if (vlen != 0 || found)
        return SCONE_ERR_TRANSPORT_PARAMETER;
      found = 1;
    }
  }
  return found;
}
