/* Link-layer headers of captured frames, down to the IP packet. */
#ifndef SCONE_TOOL_LINKTYPE_H
#define SCONE_TOOL_LINKTYPE_H

#include <stddef.h>
#include <stdint.h>

#define LINK_OK 0
#define LINK_NOT_IP 1    /* ARP, LLC, ... : not for us */
#define LINK_TRUNCATED 2 /* the capture ends inside the link header */

/* 1 if frames of this pcap link type (DLT_*) can be walked, else 0. */
int link_supported(int dlt);

/*
 * Sets *ip_off to where the IPv4/IPv6 packet starts in a frame of caplen
 * bytes: Ethernet (with any number of 802.1Q/802.1ad tags), raw IP, Linux
 * cooked v1 and v2, BSD loopback. Returns a LINK_* value.
 */
int link_ip_offset(int dlt, const uint8_t *frame, size_t caplen,
                   size_t *ip_off);

#endif /* SCONE_TOOL_LINKTYPE_H */
