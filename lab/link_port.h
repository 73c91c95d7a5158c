/*
 * scone-link's view of an interface: an AF_PACKET socket that receives the
 * frames arriving on it (not those sent through it) and sends frames out
 * of it straight to the device, bypassing the qdisc.
 */
#ifndef SCONE_LAB_LINK_PORT_H
#define SCONE_LAB_LINK_PORT_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#define LAB_PORT_FRAME_MAX 2048 /* an MTU-1500 Ethernet frame fits */

typedef struct lab_port {
  int fd;
  int ifindex;
  char name[IF_NAMESIZE];
  uint64_t drops; /* frames the kernel dropped before we read them */
} lab_port;

/* Opens a port on the interface called name. Returns 0, or -1 with a
 * reason in err. */
int lab_port_open(lab_port *p, const char *name, char *err, size_t errlen);
void lab_port_close(lab_port *p);

typedef struct lab_frame {
  uint8_t *data; /* LAB_PORT_FRAME_MAX bytes */
  uint32_t len;  /* set by lab_port_recv */
  int truncated; /* the frame was longer than LAB_PORT_FRAME_MAX */
} lab_frame;

/* Receives up to n frames without blocking into f[i].data; frames this
 * host sent are skipped. Returns how many (0 when none), -1 on error. */
int lab_port_recv(lab_port *p, lab_frame *f, int n);
/* Sends n frames; returns how many went (0 <= r <= n), -1 when the first
 * failed (errno set). */
int lab_port_send(lab_port *p, const lab_frame *f, int n);

/* Brings p->drops up to date (the kernel's count since the last call). */
void lab_port_count_drops(lab_port *p);

#endif
