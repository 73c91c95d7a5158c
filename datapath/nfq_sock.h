/*
 * The NFQUEUE socket: binding queues and sending verdicts over one
 * mnl socket. The receive loop and verdict planning live in nfq.c.
 */
#ifndef SCONED_NFQ_SOCK_H
#define SCONED_NFQ_SOCK_H

#include <libmnl/libmnl.h>

#include <stddef.h>
#include <stdint.h>

/* Verdict messages are collected in one buffer and sent with one sendmsg:
 * the kernel handles them in order. */
typedef struct sconed_nfq_tx {
  uint8_t *buf;
  size_t cap, len;
} sconed_nfq_tx;

typedef struct sconed_nfq_sock {
  struct mnl_socket *nl;
  int fd;
  uint32_t seq;
} sconed_nfq_sock;

/* Opens the socket and binds queues lo..hi: copy whole packets, fail open
 * when a queue is full, queue_maxlen packets per queue. Packets that
 * arrive while later queues are still being bound are accepted untouched.
 * Returns 0, or -1 with the reason on stderr. */
int sconed_nfq_open(sconed_nfq_sock *s, uint16_t lo, uint16_t hi,
                    uint32_t queue_maxlen, size_t rcvbuf);
/* Makes queues lo..hi take no more packets: with fail-open the kernel
 * passes new ones through untouched, and what is queued stays to be
 * judged. Returns 0, or -1 when a message could not be sent. */
int sconed_nfq_stop_queueing(sconed_nfq_sock *s, uint16_t lo, uint16_t hi);
void sconed_nfq_close(sconed_nfq_sock *s);

/* Appends a verdict for one packet; payload (len bytes) replaces the
 * packet when not NULL. Returns 0, or -1 when tx has no room (flush
 * first). */
int sconed_nfq_verdict(sconed_nfq_tx *tx, uint16_t queue, uint32_t id,
                       int verdict, const uint8_t *payload, size_t len);
/* Appends a verdict for every packet of queue with an id up to id. */
int sconed_nfq_verdict_batch(sconed_nfq_tx *tx, uint16_t queue, uint32_t id,
                             int verdict);
/* Sends what tx holds. Returns 0 or -1 (errno set). */
int sconed_nfq_flush(sconed_nfq_sock *s, sconed_nfq_tx *tx);

#endif
