/*
 * The XDP datapath's user-space side: loads the XDP program
 * (scone_xdp.bpf.c), publishes the engine's advice in its subscriber trie,
 * and runs it either on packets handed to it (BPF_PROG_TEST_RUN: the
 * offline run and the benchmarks) or attached to interfaces.
 */
#ifndef SCONED_XDP_PATH_H
#define SCONED_XDP_PATH_H

#include "engine.h"
#include "pcap_path.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sconed_xdp sconed_xdp;

typedef struct sconed_xdp_counts {
  uint64_t packets, udp, skipped, scone, rewrites, confirms, drops, new_flows,
      flow_full, enforced, sbucket_full;
} sconed_xdp_counts;

/* Loads the program with room for max_flows flows (0: 65536) and
 * publishes e's advice. NULL with a reason in err (no BPF: not root, or a
 * kernel without it). */
sconed_xdp *sconed_xdp_open(const sconed_engine *e, size_t max_flows, char *err,
                            size_t errlen);
void sconed_xdp_close(sconed_xdp *x);

/* Publishes the engine's advice for every subscriber prefix again (after
 * a config reload or a capacity change). Returns 0 or -1. */
int sconed_xdp_publish(sconed_xdp *x, const sconed_engine *e);

/* Sets the program's clock: 0 uses the kernel's, anything else is the
 * time of the next packets (offline replay). */
int sconed_xdp_set_now(sconed_xdp *x, scone_tstamp now);

/* Runs one Ethernet frame through the program in place (its length does
 * not change). Returns the XDP action (XDP_PASS, XDP_DROP), or -1. */
int sconed_xdp_run(sconed_xdp *x, uint8_t *frame, size_t len);

/* Runs one frame repeat times in the kernel; *ns gets the kernel's
 * average time per run. Returns 0 or -1. */
int sconed_xdp_bench(sconed_xdp *x, const uint8_t *frame, size_t len,
                     uint32_t repeat, uint32_t *ns);

/* The offline run of sconed --datapath xdp: the pcap path with the
 * program in the engine's place, the capture's time as its clock. */
int sconed_xdp_pcap_run(sconed_xdp *x, const char *in, const char *out,
                        sconed_pcap_counts *counts, char *err, size_t errlen);

void sconed_xdp_counts_get(sconed_xdp *x, sconed_xdp_counts *c);

/* The flow map: its file descriptor (bench, tests), the bytes one flow
 * slot costs in the kernel, and the slots (1.75 per flow asked for, in
 * 4-way buckets). */
int sconed_xdp_flows_fd(const sconed_xdp *x);
size_t sconed_xdp_flow_entry_bytes(void);
size_t sconed_xdp_flow_slots(const sconed_xdp *x);

/* The map of policed flows (xdp_mon.c): fingerprint -> struct
 * xdp_police; and the program's switch that makes it look there (on
 * while any flow or subscriber is policed). */
int sconed_xdp_pflows_fd(const sconed_xdp *x);
int sconed_xdp_set_policing(sconed_xdp *x, int on);

/* Per flow slot, its subscriber's key (uint32_t, 0: none; an array of
 * sconed_xdp_flow_slots entries, mappable read-only), and the map of
 * policed subscribers: key -> struct xdp_spolice (xdp_mon.c). */
int sconed_xdp_fsubs_fd(const sconed_xdp *x);
int sconed_xdp_spolice_fd(const sconed_xdp *x);

/* Walks the hash or trie map fd (keys of key_size bytes, at most 64) and
 * deletes every key keep(key, arg) returns 0 for, after the walk.
 * Returns how many. */
size_t sconed_xdp_map_prune(int fd, size_t key_size,
                            int (*keep)(const void *key, void *arg), void *arg);

/* Attaches to interfaces (comma-separated names) in native mode, or
 * generic (skb) mode when generic is set. The attachments belong to this
 * process: they go when it exits or is killed, and the interfaces forward
 * untouched again (fail-open). Returns 0, or -1 with a reason. */
int sconed_xdp_attach(sconed_xdp *x, const char *ifaces, int generic, char *err,
                      size_t errlen);

#endif
