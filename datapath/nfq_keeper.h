/*
 * The queue keeper: a small second process that holds sconed's NFQUEUE
 * sockets too, so that a sconed that dies without judging its queues
 * (kill -9, a crash, the OOM killer) does not take them down with it.
 *
 * When a netlink socket closes, the kernel drops every packet still
 * queued to it. The keeper's copy keeps each socket open past sconed's
 * death; when it sees sconed gone (its end of a pipe closes), it stops
 * the queues taking packets (with fail-open new ones pass untouched),
 * accepts every packet still queued, untouched, whoever had read it, and
 * only then closes: nothing queued is lost. After a graceful stop, which
 * drains the queues itself, the keeper finds them empty.
 */
#ifndef SCONED_NFQ_KEEPER_H
#define SCONED_NFQ_KEEPER_H

#include <stdint.h>

typedef struct sconed_nfq_kept {
  int fd;          /* a bound NFQUEUE socket */
  uint16_t lo, hi; /* the queues it serves */
} sconed_nfq_kept;

/* Forks the keeper for n sockets. Returns its pid in sconed, with *done
 * the descriptor whose closing lets it go, or -1 with the reason logged
 * (sconed then runs without one). The keeper never returns: it exits
 * once sconed is gone, or *done closed, and the queues are free. */
int sconed_nfq_keeper_start(const sconed_nfq_kept *k, unsigned n, int *done);

/* After a graceful stop: lets the keeper go and reaps it. */
void sconed_nfq_keeper_end(int pid, int done);

/* sconed_nfq_keeper_main and SCONED_NFQ_KEEPER_ARG, the keeper's entry,
 * are in nfq.h, for sconed's main(). */

#endif
