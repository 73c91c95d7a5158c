#include "link_port.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int fail(lab_port *p, char *err, size_t errlen, const char *what) {
  snprintf(err, errlen, "%s: %s: %s", p->name, what, strerror(errno));
  lab_port_close(p);
  return -1;
}

int lab_port_open(lab_port *p, const char *name, char *err, size_t errlen) {
  memset(p, 0, sizeof *p);
  p->fd = -1;
  if (strlen(name) >= sizeof p->name) {
    snprintf(err, errlen, "%s: interface name too long", name);
    return -1;
  }
  strcpy(p->name, name);
  p->ifindex = (int)if_nametoindex(name);
  if (p->ifindex == 0)
    return fail(p, err, errlen, "no such interface");
  /* Protocol 0 until bound: otherwise frames of every interface would
   * queue up in the moment before bind(). */
  p->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (p->fd < 0)
    return fail(p, err, errlen, "AF_PACKET socket (needs CAP_NET_RAW)");
  int one = 1;
  /* Frames we send must not come back to us as received ones; older
   * kernels lack the option, and lab_port_recv checks the packet type
   * too. */
  (void)setsockopt(p->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
  /* Straight to the device: the emulator is the queue, no qdisc may add
   * its own. */
  if (setsockopt(p->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one))
    return fail(p, err, errlen, "PACKET_QDISC_BYPASS");
  /* Bursts of a fast sender must wait in the socket, not be dropped
   * before the emulator sees them (root may exceed rmem_max). */
  int buf = 8 << 20;
  if (setsockopt(p->fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf))
    (void)setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  if (setsockopt(p->fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf))
    (void)setsockopt(p->fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  struct sockaddr_ll sll = {.sll_family = AF_PACKET,
                            .sll_protocol = htons(ETH_P_ALL),
                            .sll_ifindex = p->ifindex};
  if (bind(p->fd, (struct sockaddr *)&sll, sizeof sll))
    return fail(p, err, errlen, "bind");
  /* Frames for the far end's address, not this interface's. */
  struct packet_mreq mr = {.mr_ifindex = p->ifindex,
                           .mr_type = PACKET_MR_PROMISC};
  if (setsockopt(p->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr))
    return fail(p, err, errlen, "promiscuous mode");
  return 0;
}

void lab_port_close(lab_port *p) {
  if (p->fd >= 0)
    close(p->fd);
  p->fd = -1;
}

#define BATCH_MAX 64

int lab_port_recv(lab_port *p, lab_frame *f, int n) {
  struct mmsghdr m[BATCH_MAX];
  struct iovec iov[BATCH_MAX];
  struct sockaddr_ll from[BATCH_MAX];
  if (n > BATCH_MAX)
    n = BATCH_MAX;
  memset(m, 0, sizeof m[0] * (size_t)n);
  for (int i = 0; i < n; i++) {
    iov[i] = (struct iovec){f[i].data, LAB_PORT_FRAME_MAX};
    m[i].msg_hdr.msg_iov = &iov[i];
    m[i].msg_hdr.msg_iovlen = 1;
    m[i].msg_hdr.msg_name = &from[i];
    m[i].msg_hdr.msg_namelen = sizeof from[i];
  }
  int got = recvmmsg(p->fd, m, (unsigned)n, MSG_DONTWAIT | MSG_TRUNC, NULL);
  if (got < 0)
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
  int kept = 0;
  for (int i = 0; i < got; i++) {
    if (from[i].sll_pkttype == PACKET_OUTGOING)
      continue;
    /* Keep the buffers owned by their entries: swap, do not copy. */
    lab_frame t = f[kept];
    f[kept] = f[i];
    f[i] = t;
    f[kept].len = m[i].msg_len;
    f[kept].truncated = m[i].msg_len > LAB_PORT_FRAME_MAX;
    kept++;
  }
  return kept;
}

int lab_port_send(lab_port *p, const lab_frame *f, int n) {
  struct mmsghdr m[BATCH_MAX];
  struct iovec iov[BATCH_MAX];
  if (n > BATCH_MAX)
    n = BATCH_MAX;
  memset(m, 0, sizeof m[0] * (size_t)n);
  for (int i = 0; i < n; i++) {
    iov[i] = (struct iovec){f[i].data, f[i].len};
    m[i].msg_hdr.msg_iov = &iov[i];
    m[i].msg_hdr.msg_iovlen = 1;
  }
  return sendmmsg(p->fd, m, (unsigned)n, MSG_DONTWAIT);
}

void lab_port_count_drops(lab_port *p) {
  struct tpacket_stats st;
  socklen_t len = sizeof st;
  if (getsockopt(p->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
    p->drops += st.tp_drops;
}
