/*
 * A time-ordered queue of packets the shaper holds back: a binary min-heap
 * on (release time, arrival order), so packets released at the same instant
 * leave in the order they came. Shared by the NFQUEUE path (which holds
 * kernel packet ids), the relay and the offline path (which hold copies).
 */
#ifndef SCONED_DELAYQ_H
#define SCONED_DELAYQ_H

#include <scone/scone.h>

#include <stddef.h>
#include <stdint.h>

typedef struct sconed_delayed {
  scone_tstamp at;
  uint64_t seq;
  uint64_t key;  /* the adapter's handle: queue and packet id, direction */
  void *owner;   /* the adapter's handle: a relay client, or NULL */
  uint8_t *data; /* malloc'd copy, or NULL when the kernel keeps the bytes */
  size_t len;
} sconed_delayed;

typedef struct sconed_delayq {
  sconed_delayed *heap;
  size_t count, cap;
  uint64_t next_seq;
} sconed_delayq;

/* cap bounds the number of packets held; returns 0 or -1 (out of memory). */
int sconed_delayq_init(sconed_delayq *q, size_t cap);
/* Frees the heap and any data still held. */
void sconed_delayq_free(sconed_delayq *q);

/* Copies len bytes of data (unless data is NULL). Returns 0, or -1 when
 * the queue is full or out of memory: the caller then drops the packet, as
 * a shaper with a full buffer does. */
int sconed_delayq_push(sconed_delayq *q, scone_tstamp at, uint64_t key,
                       void *owner, const uint8_t *data, size_t len);

/* The earliest release time, or UINT64_MAX when empty. */
scone_tstamp sconed_delayq_next(const sconed_delayq *q);

/* Removes the earliest entry if it is due at now; the caller frees
 * out->data. Returns 1 if an entry was popped, else 0. */
int sconed_delayq_pop_due(sconed_delayq *q, scone_tstamp now,
                          sconed_delayed *out);

#endif
