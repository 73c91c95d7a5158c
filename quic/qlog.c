/*
 * ngtcp2's qlog stream, used for two things: the trace file (when asked
 * for), and as ngtcp2's only report that it really processed a packet.
 * ngtcp2_conn_read_pkt returns 0 even when it drops a packet it could not
 * decrypt, but it logs "transport:packet_received" only for packets it
 * processed; the flag raised here during one read call is what SCONE advice
 * acceptance rests on. ngtcp2 hands over one whole event per write call.
 */
#include "internal.h"

#include <string.h>

/* Hot path: runs for every qlog event, i.e. several times per packet, so
 * no scan of the whole event for its name. ngtcp2 starts each event with
 * "\x1e{\"time\":<number>," and then its name, so the name is looked for
 * in the first bytes only and compared in place. */
#define SQ_QLOG_NAME_KEY "\"name\":\""
#define SQ_QLOG_NAME_WINDOW 48 /* "\x1e{\"time\":" + 20 digits + key */

static const char *event_name(const char *data, size_t len, size_t *left) {
  size_t window = len < SQ_QLOG_NAME_WINDOW ? len : SQ_QLOG_NAME_WINDOW;
  const char *k =
      memmem(data, window, SQ_QLOG_NAME_KEY, sizeof(SQ_QLOG_NAME_KEY) - 1);
  if (k == NULL)
    return NULL;
  k += sizeof(SQ_QLOG_NAME_KEY) - 1;
  *left = len - (size_t)(k - data);
  return k;
}

static int is_name(const char *name, size_t left, const char *want) {
  size_t n = strlen(want);
  return left > n && memcmp(name, want, n) == 0 && name[n] == '"';
}

static int has(const char *data, size_t len, const char *needle) {
  return memmem(data, len, needle, strlen(needle)) != NULL;
}

void sq_qlog_write_cb(void *user_data, uint32_t flags, const void *data,
                      size_t len) {
  scone_quic_conn *c = user_data;
  /* Path frames matter only to the SCONE send schedule (scone_tx.c), so a
   * connection that sends no SCONE packets skips scanning every packet. */
  int scone_tx = c->s.scone_capable && c->peer_scone;
  size_t left = 0;
  const char *name = event_name(data, len, &left);
  if (name == NULL) {
    /* Not an event (the trace header): nothing to count. */
  } else if (is_name(name, left, "transport:packet_received")) {
    c->rx_processed = 1;
    c->pkts_received++;
    if (scone_tx && has(name, left, "\"frame_type\":\"path_challenge\""))
      c->path_response_due = SQ_PATH_RESPONSE_WRITES;
  } else if (is_name(name, left, "transport:packet_sent")) {
    c->pkts_sent++;
    /* One scan for both PATH_CHALLENGE and PATH_RESPONSE: in this ngtcp2
     * no other frame type starts with "path_". */
    if (scone_tx && has(name, left, "\"frame_type\":\"path_"))
      c->tx_path_frame = 1;
  } else if (is_name(name, left, "recovery:packet_lost")) {
    c->pkts_lost++;
  }
  if (c->qlog != NULL) {
    fwrite(data, 1, len, c->qlog);
    if (flags & NGTCP2_QLOG_WRITE_FLAG_FIN)
      fflush(c->qlog);
  }
}

void sq_qlog_line(scone_quic_conn *c, const char *line, size_t len) {
  if (c->qlog != NULL)
    fwrite(line, 1, len, c->qlog);
}

int sq_qlog_open(scone_quic_conn *c, const char *path) {
  c->qlog = fopen(path, "w");
  return c->qlog != NULL ? 0 : SCONE_QUIC_ERR_QLOG;
}
