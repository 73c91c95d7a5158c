/*
 * Link-layer framing: where the IP packet starts in a captured frame. Input:
 * byte 0 picks the link type (one unsupported value included), the rest is
 * the frame as captured. The IP packet found is then parsed, as the readers
 * of captures do.
 */
#include "fuzz.h"

#include <scone/scone.h>

static const int linktypes[] = {
    SCONE_LINK_NULL,       SCONE_LINK_ETHERNET,
    SCONE_LINK_DLT_RAW,    SCONE_LINK_RAW,
    SCONE_LINK_LOOP,       SCONE_LINK_LINUX_SLL,
    SCONE_LINK_IPV4,       SCONE_LINK_IPV6,
    SCONE_LINK_LINUX_SLL2, 105 /* IEEE 802.11: not supported */,
};
#define NTYPES (sizeof linktypes / sizeof *linktypes)
#define UNSET ((size_t)-1)

static int is_vlan(unsigned t) {
  return t == 0x8100 || t == 0x88a8 || t == 0x9100;
}

/* An accepted EtherType-style frame: the field at type_off and each tag's
 * inner type announce a tag, the last one IP, and off is right after it. */
static void check_ethertype(const uint8_t *d, size_t n, size_t type_off,
                            size_t base, size_t off) {
  FUZZ_CHECK(off >= base && (off - base) % 4 == 0 && off < n);
  size_t t = type_off;
  for (size_t at = base; at < off; at += 4) {
    FUZZ_CHECK(is_vlan(fuzz_be16(d + t)));
    t = at + 2;
  }
  unsigned type = fuzz_be16(d + t);
  FUZZ_CHECK(type == 0x0800 || type == 0x86dd);
}

static void check_ok(int lt, const uint8_t *d, size_t n, size_t off) {
  FUZZ_CHECK(off < n);
  switch (lt) {
  case SCONE_LINK_ETHERNET:
    check_ethertype(d, n, 12, 14, off);
    return;
  case SCONE_LINK_LINUX_SLL:
    check_ethertype(d, n, 14, 16, off);
    return;
  case SCONE_LINK_LINUX_SLL2:
    check_ethertype(d, n, 0, 20, off);
    return;
  case SCONE_LINK_NULL:
  case SCONE_LINK_LOOP:
    FUZZ_CHECK(off == 4);
    break;
  default:
    FUZZ_CHECK(off == 0);
    break;
  }
  FUZZ_CHECK((d[off] >> 4) == 4 || (d[off] >> 4) == 6);
}

static int at_len(int lt, const uint8_t *d, size_t len, size_t *off) {
  /* Exact size, so that a read past the cut shows under ASan. */
  uint8_t *cut = fuzz_dup(d, len, 0);
  *off = UNSET;
  int r = scone_link_ip_offset(lt, cut, len, off);
  free(cut);
  return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  int lt = linktypes[data[0] % NTYPES];
  const uint8_t *d = data + 1;
  size_t n = size - 1;
  size_t off;
  int r = at_len(lt, d, n, &off);
  if (!scone_link_supported(lt)) {
    FUZZ_CHECK(r == SCONE_ERR_INVALID_ARGUMENT && off == UNSET);
    return 0;
  }
  FUZZ_CHECK(r == 0 || r == SCONE_ERR_TRUNCATED || r == SCONE_ERR_NOT_IP);
  if (r != 0) {
    FUZZ_CHECK(off == UNSET);
    /* Cutting a frame short never makes it IP. */
    size_t o;
    if (n > 0)
      FUZZ_CHECK(at_len(lt, d, n - 1, &o) != 0);
    FUZZ_CHECK(at_len(lt, d, n / 2, &o) != 0);
    return 0;
  }
  check_ok(lt, d, n, off);
  /* The answer is decided by the link header alone: any cut after the
   * first IP byte gives it again, one at or before it is truncated. */
  size_t o;
  FUZZ_CHECK(at_len(lt, d, off + 1, &o) == 0 && o == off);
  FUZZ_CHECK(at_len(lt, d, off, &o) == SCONE_ERR_TRUNCATED && o == UNSET);
  scone_ipudp v;
  uint8_t *ip = fuzz_dup(d + off, n - off, 0);
  r = scone_ipudp_parse(&v, ip, n - off);
  if (r == 0)
    FUZZ_CHECK(v.payload_off <= n - off &&
               v.payload_len <= n - off - v.payload_off);
  free(ip);
  return 0;
}
