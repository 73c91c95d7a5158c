/*
 * The lab's access-link emulator, sans I/O: one direction of a link is a
 * drop-tail queue in front of a bottleneck whose capacity is a fixed rate
 * or a Mahimahi trace, then a fixed propagation delay; random loss (seeded)
 * at its entry. Packets go in as (length, arrival time) and come out as a
 * verdict: dropped, or delivered at the far end at a given time. Times are
 * nanoseconds on the caller's clock. A link is two of these, independent.
 *
 * Trace semantics follow Mahimahi's LinkQueue (docs/lab.md): each line is
 * a millisecond offset giving one opportunity to deliver LAB_LINK_MTU
 * bytes; the trace repeats with the period of its last offset. An
 * opportunity serves the queue's head byte by byte, so one carries several
 * small packets and a packet larger than it spans opportunities; bytes of
 * an opportunity that finds the queue empty are wasted. A packet can use
 * an opportunity only if it arrived strictly before it.
 *
 * Lab-private: the lab's programs and tests use it, nothing else.
 */
#ifndef SCONE_LAB_LINK_H
#define SCONE_LAB_LINK_H

#include <stddef.h>
#include <stdint.h>

#define LAB_LINK_MTU 1500 /* bytes per trace delivery opportunity */
#define LAB_NS_PER_MS 1000000ULL

/* A parse or load failure: line 0 when it is not about one line. */
typedef struct lab_error {
  unsigned line;
  char msg[160];
} lab_error;

/* ------------------------------------------------------------------ trace */

typedef struct lab_trace {
  uint32_t *ms;       /* n offsets in milliseconds, nondecreasing */
  size_t n;           /* at least 1 */
  uint32_t period_ms; /* ms[n - 1] > 0: the trace repeats after it */
} lab_trace;

/* Parses a Mahimahi trace held in text[0..len): one decimal millisecond
 * offset per line (an optional "\r" before the "\n", the last line's "\n"
 * optional), nondecreasing, the last one above 0. Returns 0, or -1 with
 * err naming the line and the reason; t is then left empty. */
int lab_trace_parse(lab_trace *t, const char *text, size_t len, lab_error *err);
/* lab_trace_parse on a file's contents; a read failure has line 0. */
int lab_trace_load(lab_trace *t, const char *path, lab_error *err);
void lab_trace_free(lab_trace *t);
/* Mean capacity over one period, in bit/s of LAB_LINK_MTU-byte packets. */
double lab_trace_mean_bps(const lab_trace *t);

/* ------------------------------------------------------------- direction */

typedef struct lab_link_settings {
  const lab_trace *trace; /* capacity from a trace (not owned; must outlive
                             the link), or NULL for: */
  uint64_t rate_bps;      /* a fixed rate; 0 means no capacity limit */
  uint64_t delay_ns;      /* propagation delay after the bottleneck */
  double loss;            /* probability, 0 to 1, that a packet is lost on
                             entry (it then uses no capacity) */
  uint64_t seed;          /* for the loss draws */
  uint64_t queue_bytes;   /* drop-tail bound on waiting bytes; 0: none */
  uint32_t queue_packets; /* ... and on waiting packets; 0: none */
} lab_link_settings;

/* No capacity limit, no delay, no loss, seed 1, no queue bound. */
void lab_link_settings_default(lab_link_settings *s);

typedef enum lab_link_verdict {
  LAB_LINK_DELIVER = 0,    /* *deliver_at says when it reaches the far end */
  LAB_LINK_DROP_LOSS = 1,  /* random loss */
  LAB_LINK_DROP_QUEUE = 2, /* the queue was full (or out of memory) */
} lab_link_verdict;

typedef struct lab_link_stats {
  uint64_t packets_in, bytes_in;
  uint64_t passed, passed_bytes; /* accepted: they will be delivered */
  uint64_t lost, queue_drops;
  uint64_t peak_queue_packets, peak_queue_bytes;
} lab_link_stats;

typedef struct lab_link lab_link;

/* A direction whose trace starts (and fixed-rate clock runs) at start.
 * NULL when out of memory or the settings are invalid (loss outside 0..1). */
lab_link *lab_link_new(const lab_link_settings *s, uint64_t start);
void lab_link_free(lab_link *l);

/* A packet of len bytes (the IP packet; 0 is treated as 1) arrives at now.
 * Times before the latest seen are read as the latest. Verdicts come in
 * arrival order and delivery times never decrease. */
lab_link_verdict lab_link_enqueue(lab_link *l, uint64_t now, uint32_t len,
                                  uint64_t *deliver_at);

/* Packets and bytes waiting at now (the one being transmitted excluded, as
 * the drop-tail bound counts them). */
void lab_link_backlog(lab_link *l, uint64_t now, uint64_t *packets,
                      uint64_t *bytes);

void lab_link_stats_get(const lab_link *l, lab_link_stats *st);

/* ------------------------------------------------------------ arguments */

/* Command-line values. Each returns 0, or -1 for a malformed value. */
/* bit/s with decimal prefixes: 5000000, 5M, 1.5M, 800k, 1G ("bit/s",
 * "bps" or "bit" may follow the prefix). */
int lab_parse_rate(const char *s, uint64_t *bps);
/* ns from us, ms, s (a unit is required; fractions allowed: 2.5ms). */
int lab_parse_duration(const char *s, uint64_t *ns);
/* A probability: 0.01 or 1%. */
int lab_parse_loss(const char *s, double *p);
/* A drop-tail bound: N packets ("100p") or bytes ("64k", "150000B",
 * "1M"; k and M are decimal). Exactly one of the outputs is set nonzero. */
int lab_parse_queue(const char *s, uint64_t *bytes, uint32_t *packets);

#endif
