/*
 * HTTP/3 (nghttp3) on a scone_quic_conn: what client and server share. The
 * connection drives it through sq_h3_app_ops; client.c and server.c get the
 * HTTP events through sq_h3_events.
 */
#ifndef SCONE_QUIC_H3_H
#define SCONE_QUIC_H3_H

#include "internal.h"

#include <nghttp3/nghttp3.h>

typedef struct sq_h3 sq_h3;

typedef struct sq_h3_events {
  int (*recv_header)(sq_h3 *h, int64_t stream_id, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen,
                     void *stream_user_data);
  int (*recv_data)(sq_h3 *h, int64_t stream_id, const uint8_t *data, size_t len,
                   void *stream_user_data);
  /* The header section (or trailers) just received is complete. */
  int (*end_headers)(sq_h3 *h, int64_t stream_id, void *stream_user_data);
  int (*end_stream)(sq_h3 *h, int64_t stream_id, void *stream_user_data);
  int (*stream_close)(sq_h3 *h, int64_t stream_id, uint64_t app_error_code,
                      void *stream_user_data);
  /* Called before stream data is pulled: the client submits requests here. */
  int (*before_pull)(sq_h3 *h);
} sq_h3_events;

struct sq_h3 {
  nghttp3_conn *h3;
  scone_quic_conn *conn;
  const sq_h3_events *ev;
  void *user; /* client or server connection state */
};

extern const sq_app_ops sq_h3_app_ops;

void sq_h3_init(sq_h3 *h, scone_quic_conn *conn, const sq_h3_events *ev,
                void *user);
/* Creates the nghttp3 connection and its control and QPACK streams once the
 * handshake allows; idempotent. */
int sq_h3_setup(sq_h3 *h);
void sq_h3_free(sq_h3 *h);

/* Abandons a request stream: resets it both ways with app_error_code and
 * tells nghttp3 to drop what still arrives; its user data is cleared, so
 * no callback names it again. Not from inside an nghttp3 callback. */
void sq_h3_cancel_stream(sq_h3 *h, int64_t stream_id, uint64_t app_error_code);
/* Forgets the stream's user data (its owner is gone). */
void sq_h3_forget_stream(sq_h3 *h, int64_t stream_id);

/* A header section as it arrives, name\0value\0 pairs, bounded by
 * SCONE_QUIC_MAX_HEADERS and SCONE_QUIC_MAX_HEADER_BYTES. */
typedef struct sq_h3_fields {
  char *buf;
  size_t len, cap;
  uint32_t n;
  int overflow; /* a field did not fit: the section is refused */
} sq_h3_fields;

/* Adds a field (sets overflow past the limits or out of memory). */
void sq_h3_fields_add(sq_h3_fields *f, const uint8_t *name, size_t namelen,
                      const uint8_t *value, size_t valuelen);
/* The fields as an array pointing into f (at most SCONE_QUIC_MAX_HEADERS);
 * returns the count. */
size_t sq_h3_fields_list(const sq_h3_fields *f, scone_quic_header *out);
/* Empties f, keeping its buffer. */
void sq_h3_fields_clear(sq_h3_fields *f);
void sq_h3_fields_free(sq_h3_fields *f);

/* A header field for nghttp3 from C strings. */
nghttp3_nv sq_h3_nv(const char *name, const char *value);

#endif /* SCONE_QUIC_H3_H */
