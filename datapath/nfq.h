/*
 * The inline datapath: sconed on a Linux router, fed by NFQUEUE
 * (scripts/sconed-iptables.sh installs the rules). Queues lo..hi are
 * served by a thread each (at most one per CPU), or split over `threads`
 * threads, each with its own netlink socket (nfq.c; the socket is
 * nfq_sock.h).
 */
#ifndef SCONED_NFQ_H
#define SCONED_NFQ_H

#include "dp.h"

#include <stdint.h>

typedef struct sconed_nfq_settings {
  uint16_t queue_lo, queue_hi; /* default 0..0 */
  unsigned batch;              /* packets per receive; default 32 */
  int batch_verdicts;    /* accept runs of untouched packets with one verdict;
                            default 1 (needs batch > 1) */
  unsigned queue_maxlen; /* kernel queue length per queue; default 4096 */
  unsigned max_held;     /* packets the shaper may hold; default 16384 */
  unsigned threads;      /* at most this many threads, each serving a
                            contiguous share of the queues; 0 (default):
                            one per queue, at most one per CPU */
  int keeper;            /* a second process holds the queues too, so that
                            a sconed killed with packets queued loses none
                            of them (nfq_keeper.h). It runs this program
                            with SCONED_NFQ_KEEPER_ARG, so only a main()
                            that hands that to sconed_nfq_keeper_main may
                            set it; default 0 (sconed sets 1) */
} sconed_nfq_settings;

void sconed_nfq_settings_default(sconed_nfq_settings *s);

/* Serves the queues; runs and returns as every loop does (dp.h). */
int sconed_nfq_run(sconed_dp *dp, const sconed_nfq_settings *s);

/* The queue keeper (nfq_keeper.h) runs sconed's own program with this
 * first argument, so that it holds none of sconed's memory; main() hands
 * such a command line to sconed_nfq_keeper_main, which never returns
 * unless the line is not one sconed made (then 2). */
#define SCONED_NFQ_KEEPER_ARG "--nfqueue-keeper"
int sconed_nfq_keeper_main(int argc, char **argv);

#endif
