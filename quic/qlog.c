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

static int has(const void *data, size_t len, const char *needle) {
  return memmem(data, len, needle, strlen(needle)) != NULL;
}

void sq_qlog_write_cb(void *user_data, uint32_t flags, const void *data,
                      size_t len) {
  scone_quic_conn *c = user_data;
  if (has(data, len, "\"name\":\"transport:packet_received\"")) {
    c->rx_processed = 1;
    c->pkts_received++;
    if (has(data, len, "\"frame_type\":\"path_challenge\""))
      c->path_response_due = SQ_PATH_RESPONSE_WRITES;
  } else if (has(data, len, "\"name\":\"transport:packet_sent\"")) {
    c->pkts_sent++;
    if (has(data, len, "\"frame_type\":\"path_challenge\"") ||
        has(data, len, "\"frame_type\":\"path_response\""))
      c->tx_path_frame = 1;
  } else if (has(data, len, "\"name\":\"recovery:packet_lost\"")) {
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
  return c->qlog != NULL ? 0 : SCONE_QUIC_ERR_SOCKET;
}
