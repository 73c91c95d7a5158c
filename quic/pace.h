/*
 * Server-side pacing of responses to the rate a client asked for (CMCD
 * rtp), on libscone's sender budget over a short window: no 200 ms carries
 * more than the rate allows, so a response leaves in small bursts at the
 * asked rate on average. Sans-I/O: times are passed in.
 */
#ifndef SCONE_QUIC_PACE_H
#define SCONE_QUIC_PACE_H

#include <scone/scone.h>

#define SQ_PACE_WINDOW (200 * SCONE_MILLISECONDS)
#define SQ_PACE_BUCKETS 67
/* The least a paused response wakes up to send. */
#define SQ_PACE_MIN_CHUNK 4096

typedef struct sq_pace {
  scone_budget budget;
  uint64_t bps; /* the rate asked for; 0: not pacing */
} sq_pace;

void sq_pace_init(sq_pace *p);
void sq_pace_set_rate(sq_pace *p, uint64_t bps);
/* Bytes that may go now (UINT64_MAX at rate 0). */
uint64_t sq_pace_available(sq_pace *p, scone_tstamp now);
void sq_pace_consume(sq_pace *p, uint64_t bytes, scone_tstamp now);
/* When a paused response may go on: the first bucket boundary after now
 * with SQ_PACE_MIN_CHUNK of room (or the whole window's, if smaller). */
scone_tstamp sq_pace_next(const sq_pace *p, scone_tstamp now);

#endif /* SCONE_QUIC_PACE_H */
