/*
 * The offline datapath: reads a capture, runs every packet through the
 * engine with the packet's timestamp as the clock, and writes what the
 * element would have forwarded: rewritten packets as rewritten, dropped
 * ones left out, delayed ones at their release time, in time order, with
 * the input's link type and timestamp precision.
 */
#ifndef SCONED_PCAP_PATH_H
#define SCONED_PCAP_PATH_H

#include "dp.h"
#include "engine.h"

#include <stdint.h>

typedef struct sconed_pcap_counts {
  uint64_t read;     /* records in the input */
  uint64_t written;  /* records in the output */
  uint64_t not_ip;   /* passed untouched: not IPv4/IPv6 at this link type */
  uint64_t modified; /* written with a rewritten signal */
  uint64_t dropped;  /* left out (policer, shaper overflow) */
  uint64_t delayed;  /* written later than read */
  uint64_t overflow; /* delayed packets dropped: too many held at once */
  uint64_t max_held; /* most packets held at once */
  const char *linktype;
} sconed_pcap_counts;

/* Most delayed packets held at once; more are dropped and counted. */
#define SCONED_PCAP_MAX_HELD 65536

/* Returns 0, or -1 with a reason in err (unreadable input, unsupported
 * link type, unwritable output). */
int sconed_pcap_run(sconed_engine *e, const char *in, const char *out,
                    sconed_pcap_counts *counts, char *err, size_t errlen);
/* The same run with another element or datapath in the engine's place
 * (the legacy DPI element; the XDP program under BPF_PROG_TEST_RUN): fn
 * handles one IP packet in place and fills v as sconed_engine_process_ip
 * does. */
int sconed_pcap_run_fn(sconed_process_fn fn, void *arg, const char *in,
                       const char *out, sconed_pcap_counts *counts, char *err,
                       size_t errlen);

#endif
