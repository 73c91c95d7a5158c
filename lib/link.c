/* Link-layer framing of captured frames, down to the IP packet. */
#include "internal.h"

#define ETHERTYPE_IPV4 0x0800U
#define ETHERTYPE_IPV6 0x86ddU

/* 802.1Q, 802.1ad and the pre-standard QinQ tag. */
static int is_vlan(unsigned type) {
  return type == 0x8100U || type == 0x88a8U || type == 0x9100U;
}

/* type_off: where the EtherType (or cooked protocol) field sits; off: where
 * what it announces starts. Cooked captures can carry tags too (when the
 * NIC did not strip them), so they are walked the same way. */
static int walk_ethertype(const uint8_t *f, size_t len, size_t type_off,
                          size_t off, size_t *ip_off) {
  if (len < off)
    return SCONE_ERR_TRUNCATED;
  unsigned type = scone_get16(f + type_off);
  /* A tag is TCI (2 bytes) then the next EtherType. */
  while (is_vlan(type)) {
    if (len < off + 4)
      return SCONE_ERR_TRUNCATED;
    type = scone_get16(f + off + 2);
    off += 4;
  }
  if (type != ETHERTYPE_IPV4 && type != ETHERTYPE_IPV6)
    return SCONE_ERR_NOT_IP;
  /* Same promise as the other link types: some IP follows. */
  if (len <= off)
    return SCONE_ERR_TRUNCATED;
  *ip_off = off;
  return 0;
}

/* Raw IP link types say nothing more about the protocol (LINKTYPE_IPV4 may
 * still hold IPv6 in practice), so the version nibble decides. */
static int by_version_nibble(const uint8_t *f, size_t len, size_t off,
                             size_t *ip_off) {
  if (len <= off)
    return SCONE_ERR_TRUNCATED;
  unsigned v = f[off] >> 4;
  if (v != 4 && v != 6)
    return SCONE_ERR_NOT_IP;
  *ip_off = off;
  return 0;
}

/* The 4-byte family is in the capturing host's byte order for NULL and in
 * network order for LOOP, and AF_INET6 differs by OS; the values are small,
 * so either order is recognisable. */
static int loopback(const uint8_t *f, size_t len, size_t *ip_off) {
  if (len < 4)
    return SCONE_ERR_TRUNCATED;
  uint32_t be = scone_get32(f);
  uint32_t le = ((uint32_t)f[3] << 24) | ((uint32_t)f[2] << 16) |
                ((uint32_t)f[1] << 8) | f[0];
  uint32_t fam = be < 256 ? be : le;
  /* AF_INET; AF_INET6 of Linux, Open/NetBSD, FreeBSD, macOS. */
  if (fam != 2 && fam != 10 && fam != 24 && fam != 28 && fam != 30)
    return SCONE_ERR_NOT_IP;
  return by_version_nibble(f, len, 4, ip_off);
}

int scone_link_supported(int linktype) {
  switch (linktype) {
  case SCONE_LINK_NULL:
  case SCONE_LINK_ETHERNET:
  case SCONE_LINK_RAW:
  case SCONE_LINK_DLT_RAW:
  case SCONE_LINK_LOOP:
  case SCONE_LINK_LINUX_SLL:
  case SCONE_LINK_IPV4:
  case SCONE_LINK_IPV6:
  case SCONE_LINK_LINUX_SLL2:
    return 1;
  default:
    return 0;
  }
}

int scone_link_ip_offset(int linktype, const uint8_t *frame, size_t len,
                         size_t *ip_off) {
  if ((!frame && len) || !ip_off)
    return SCONE_ERR_INVALID_ARGUMENT;
  switch (linktype) {
  case SCONE_LINK_ETHERNET:
    return walk_ethertype(frame, len, 12, 14, ip_off);
  case SCONE_LINK_LINUX_SLL:
    /* packet type, ARPHRD type, address length, 8 address bytes, protocol */
    return walk_ethertype(frame, len, 14, 16, ip_off);
  case SCONE_LINK_LINUX_SLL2:
    /* protocol, reserved, ifindex, ARPHRD type, packet type, address */
    return walk_ethertype(frame, len, 0, 20, ip_off);
  case SCONE_LINK_NULL:
  case SCONE_LINK_LOOP:
    return loopback(frame, len, ip_off);
  case SCONE_LINK_RAW:
  case SCONE_LINK_DLT_RAW:
  case SCONE_LINK_IPV4:
  case SCONE_LINK_IPV6:
    return by_version_nibble(frame, len, 0, ip_off);
  default:
    return SCONE_ERR_INVALID_ARGUMENT;
  }
}
