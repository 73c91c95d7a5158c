/*
 * Shared pieces of the QUIC endpoint tests: a certificate in a temporary
 * directory, a scone_quic_server on its own thread, and a UDP forwarder
 * between client and server (real sockets on 127.0.0.1) whose hook may
 * rewrite, drop or inject datagrams, as an on-path network element would.
 */
#ifndef SCONE_TESTS_QUIC_HARNESS_H
#define SCONE_TESTS_QUIC_HARNESS_H

#include <scone/quic.h>

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ temp dir */

typedef struct h_env {
  char dir[256];
  char cert[320], key[320], qlog[320];
} h_env;

/* Makes the directory and a self-signed certificate in it. */
void h_env_init(h_env *e);
void h_env_cleanup(h_env *e);
/* Whole file into a NUL-terminated malloc'd buffer (NULL if unreadable). */
char *h_read_file(const char *path, size_t *len);
/* Occurrences of needle in the file. */
size_t h_count_in_file(const char *path, const char *needle);

/* ---------------------------------------------------------- server thread */

typedef struct h_server {
  scone_quic_server *srv;
  pthread_t th;
  int rv;
  /* Every request the server answered, one line each: "METHOD TARGET
   * STATUS bytes=N paced=BPS rtp=K|- malformed=0|1", then its header
   * fields as "  name: value" lines and the CMSD it sent as "  > cmsd-...:
   * value" (h_server_log). */
  pthread_mutex_t mu;
  char log[32768];
  size_t loglen;
  /* Uplink advice the server reported (written by the server thread; read
   * after h_server_stop). */
  unsigned advice_signal;
  uint64_t advice_bps;
  uint32_t advice_events;
  scone_dir advice_dir;
} h_server;

/* Serves on 127.0.0.1 with an ephemeral port. settings NULL: defaults. */
void h_server_start(h_server *s, const h_env *e,
                    const scone_quic_settings *settings);
/* The same with a config of the caller's (root, cmsd, pace, ...); its
 * listen address, certificate and qlog directory are the harness's. */
void h_server_start_cfg(h_server *s, const h_env *e,
                        scone_quic_server_config *cfg);
/* A copy of the request log so far (NUL-terminated). */
void h_server_log(h_server *s, char *buf, size_t cap);
uint16_t h_server_port(const h_server *s);
/* Stops and joins; stats are then safe to read. */
void h_server_stop(h_server *s, scone_quic_server_stats *stats);
void h_server_free(h_server *s);

/* ------------------------------------------------------------- forwarder */

typedef enum h_dir { H_C2S = 0, H_S2C = 1 } h_dir;
typedef struct h_fwd h_fwd;

/* Sees every datagram before it is forwarded; may change it in place (up to
 * cap bytes) and returns 1 to drop it. Runs on the forwarder thread. */
typedef int (*h_fwd_hook)(h_fwd *f, h_dir dir, uint8_t *buf, size_t *len,
                          size_t cap, void *arg);

struct h_fwd {
  int cfd, sfd; /* client-facing and server-facing sockets */
  struct sockaddr_in server, client;
  int have_client;
  pthread_t th;
  atomic_int stop;
  atomic_int rebind; /* set: move to a new server-facing port */
  h_fwd_hook hook;
  void *arg;
  /* Counters, written by the forwarder thread; read after h_fwd_stop. */
  uint64_t count[2]; /* datagrams forwarded */
  uint64_t scone[2]; /* of those, the ones leading with a SCONE packet */
  size_t max_len[2];
  uint64_t c2s_before_s2c, c2s_before_s2c_ind; /* before any S2C forwarded */
  uint64_t c2s_after_s2c, c2s_after_s2c_ind;
  uint64_t rebinds;
};

void h_fwd_start(h_fwd *f, uint16_t server_port, h_fwd_hook hook, void *arg);
uint16_t h_fwd_port(const h_fwd *f);
void h_fwd_stop(h_fwd *f);
/* From the hook: sends a datagram to the client as if from the server. */
void h_fwd_to_client(h_fwd *f, const uint8_t *data, size_t len);

/* ---------------------------------------------------------------- client */

typedef struct h_client {
  scone_quic_client *cl;
  /* Filled by callbacks (same thread). */
  uint32_t responses;
  int last_status;
  uint64_t last_body;
  int body_ok;          /* every body byte matched the /bytes pattern */
  uint64_t body_offset; /* within the current response */
  uint32_t advice_events;
  unsigned advice_signal;
  uint64_t advice_bps;
  uint32_t advice_path;
  scone_dir advice_dir;
  /* The last scone:advice_changed event (scone_event callback): when it
   * came and its expires_at. */
  scone_tstamp changed_at, changed_expires_at;
} h_client;

/* Connects to 127.0.0.1:port, certificate not verified. settings NULL:
 * defaults; qlog (may be NULL) goes to settings.qlog_path. */
void h_client_start(h_client *c, uint16_t port,
                    const scone_quic_settings *settings, const char *qlog);
/* GET path and wait up to timeout; returns scone_quic_client_run's result. */
int h_client_get(h_client *c, const char *path, scone_duration timeout);
/* The same for exactly span, unscaled: for a request expected not to
 * finish in it. */
int h_client_get_for(h_client *c, const char *path, scone_duration span);
/* Keeps the connection running for d. */
int h_client_idle(h_client *c, scone_duration d);
void h_client_counters(h_client *c, scone_quic_counters *out);
void h_client_free(h_client *c);

/* ------------------------------------------ recording HTTP/3 client */

#define H_REC_MAX 8
#define H_REC_BODY 16384

/* What one request saw, by request index. */
typedef struct h_rec_seen {
  int headers_calls, status;
  char headers[4096]; /* "name: value\n" lines */
  uint64_t body, body_before_headers;
  uint8_t data[H_REC_BODY]; /* the first H_REC_BODY body bytes */
  scone_tstamp first_byte_at, done_at;
  int done, error;
} h_rec_seen;

/* A client whose callbacks record everything per request. */
typedef struct h_rec {
  scone_quic_client *cl;
  h_rec_seen r[H_REC_MAX];
  uint64_t cancel_at_body; /* cancel request 0 (from its body callback)
                              once this much arrived; 0: never */
  int cancelled;
} h_rec;

/* An HTTP/3 client of 127.0.0.1:port with the library defaults,
 * certificate not verified. */
scone_quic_client *h_http_client(uint16_t port,
                                 const scone_quic_client_callbacks *cb,
                                 void *user_data);
/* Connects to 127.0.0.1:port, certificate not verified. */
void h_rec_start(h_rec *t, uint16_t port);
void h_rec_free(h_rec *t);
/* Queues method path with extra header fields; returns the index. */
int h_rec_request(h_rec *t, const char *method, const char *path,
                  const scone_quic_header *h, size_t n);
/* Runs until nothing is outstanding or timeout passes. */
int h_rec_run(h_rec *t, scone_duration timeout);

/* The library defaults; each test then changes what it exercises. */
void h_settings(scone_quic_settings *s);

/* 127.0.0.1:port as the library's address type (quic/internal.h), for the
 * tests that drive connections or paths directly. */
struct sq_addr;
void h_loopback_addr(struct sq_addr *a, uint16_t port);

#endif /* SCONE_TESTS_QUIC_HARNESS_H */
