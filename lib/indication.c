/* The first-flight indication: 0xc8 0x13 closing a client's datagrams. */
#include <scone/scone.h>

scone_ssize scone_indication_append(uint8_t *dgram, size_t len, size_t cap) {
  if (dgram == NULL || cap < SCONE_INDICATION_LEN ||
      len > cap - SCONE_INDICATION_LEN)
    return SCONE_ERR_NOBUF;
  dgram[len] = SCONE_INDICATION_BYTE0;
  dgram[len + 1] = SCONE_INDICATION_BYTE1;
  return (scone_ssize)(len + SCONE_INDICATION_LEN);
}

int scone_indication_present(const uint8_t *dgram, size_t len) {
  return dgram != NULL && len >= SCONE_INDICATION_LEN &&
         dgram[len - 2] == SCONE_INDICATION_BYTE0 &&
         dgram[len - 1] == SCONE_INDICATION_BYTE1;
}
