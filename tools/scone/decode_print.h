/* A decoded datagram and its text and JSON renderings. */
#ifndef SCONE_TOOL_DECODE_PRINT_H
#define SCONE_TOOL_DECODE_PRINT_H

#include <scone/scone.h>

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Where the QUIC packet's DCID length came from. */
typedef enum {
  DCID_LEN_UNKNOWN = 0, /* short header, nothing to go by */
  DCID_LEN_HEADER,      /* long header: it says */
  DCID_LEN_OPTION,      /* --dcid-len */
  DCID_LEN_SCONE,       /* assumed equal to the SCONE packet's DCID */
} dcid_len_source;

typedef struct decoded_dgram {
  size_t len;
  int has_scone;
  scone_packet scone;
  int has_quic; /* 0 when nothing follows the SCONE packet */
  scone_quic_hdr quic;
  size_t quic_off;
  dcid_len_source dcid_len_from;
  int indication;
} decoded_dgram;

/* Both return a CLI_EXIT_* code. */
int print_decoded_text(const decoded_dgram *dec);
int print_decoded_json(const decoded_dgram *dec);

/* The rate of signal for people: fmt_rate() of its bit/s, or "unknown" for
 * 127. buf holds FMT_RATE_LEN bytes; returns the text. */
const char *signal_rate_text(unsigned signal, char *buf);

/* Sets "signal", "bps" and "rate" on o; an unknown signal (127) has a null
 * "bps" and the rate "unknown", so every listing reads alike. */
void json_set_signal(json_t *o, unsigned signal);

/* A connection ID as a JSON hex string. */
json_t *json_cid(const uint8_t *cid, size_t len);

#endif /* SCONE_TOOL_DECODE_PRINT_H */
