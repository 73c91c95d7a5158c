/* Strips link-layer headers; the IP and UDP work is libscone's. */
#include "linktype.h"

#include <pcap/pcap.h>

#define ETHERTYPE_IPV4 0x0800U
#define ETHERTYPE_IPV6 0x86ddU

static unsigned get16(const uint8_t *p) {
  return ((unsigned)p[0] << 8) | p[1];
}

static int is_vlan(unsigned type) {
  return type == 0x8100U || type == 0x88a8U || type == 0x9100U;
}

/* type_off: where the EtherType (or cooked protocol) field sits; off: where
 * what it announces starts. */
static int walk_ethertype(const uint8_t *f, size_t caplen, size_t type_off,
                          size_t off, size_t *ip_off) {
  if (caplen < off)
    return LINK_TRUNCATED;
  unsigned type = get16(f + type_off);
  /* A tag is TCI (2 bytes) then the next EtherType. */
  while (is_vlan(type)) {
    if (caplen < off + 4)
      return LINK_TRUNCATED;
    type = get16(f + off + 2);
    off += 4;
  }
  if (type != ETHERTYPE_IPV4 && type != ETHERTYPE_IPV6)
    return LINK_NOT_IP;
  *ip_off = off;
  return LINK_OK;
}

/* For link types that say nothing useful about the protocol, the IP
 * version nibble does. */
static int by_version_nibble(const uint8_t *f, size_t caplen, size_t off,
                             size_t *ip_off) {
  if (caplen <= off)
    return LINK_TRUNCATED;
  unsigned v = f[off] >> 4;
  if (v != 4 && v != 6)
    return LINK_NOT_IP;
  *ip_off = off;
  return LINK_OK;
}

int link_supported(int dlt) {
  switch (dlt) {
  case DLT_EN10MB:
  case DLT_RAW:
  case DLT_IPV4:
  case DLT_IPV6:
  case DLT_LINUX_SLL:
  case DLT_LINUX_SLL2:
  case DLT_NULL:
  case DLT_LOOP:
    return 1;
  default:
    return 0;
  }
}

int link_ip_offset(int dlt, const uint8_t *frame, size_t caplen,
                   size_t *ip_off) {
  switch (dlt) {
  case DLT_EN10MB:
    return walk_ethertype(frame, caplen, 12, 14, ip_off);
  case DLT_LINUX_SLL:
    /* packet type, ARPHRD type, address length, 8 address bytes, protocol */
    return walk_ethertype(frame, caplen, 14, 16, ip_off);
  case DLT_LINUX_SLL2:
    /* protocol, reserved, ifindex, ARPHRD type, packet type, address */
    return walk_ethertype(frame, caplen, 0, 20, ip_off);
  case DLT_NULL:
  case DLT_LOOP:
    /* a 4-byte address family whose byte order and values vary by OS */
    return by_version_nibble(frame, caplen, 4, ip_off);
  default: /* DLT_RAW, DLT_IPV4, DLT_IPV6 */
    return by_version_nibble(frame, caplen, 0, ip_off);
  }
}
