/*
 * libscone_quic internals shared by the connection, TLS, SCONE, HTTP/3 and
 * endpoint files. Not installed; nothing here is API.
 */
#ifndef SCONE_QUIC_INTERNAL_H
#define SCONE_QUIC_INTERNAL_H

#include <scone/app.h>
#include <scone/quic.h>
#include <scone/scone.h>

#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>

#include <stdio.h>
#include <sys/socket.h>

/* Our connection IDs are all this long, so a short header's DCID length is
 * always known on receipt. */
#define SQ_SCIDLEN 18
#define SQ_MAX_PATHS 4
#define SQ_MAX_CIDS 16
#define SQ_MIN_UDP_PAYLOAD 1280
#define SQ_MAX_UDP_PAYLOAD 65527
/* ngtcp2 answers a PATH_CHALLENGE in one of its next writes; bounded so
 * that a challenge it ignores costs only a few smaller datagrams. */
#define SQ_PATH_RESPONSE_WRITES 4
/* Room before ngtcp2's output for the largest SCONE packet we build: long
 * header, the longest DCID ngtcp2 accepts and our SCID. Kept outside the
 * write budget so that datagrams without a SCONE packet may use the whole
 * max_udp_payload (ngtcp2 silently skips a PMTUD probe that does not fit). */
#define SQ_TX_HEADROOM (SCONE_PACKET_MIN_LEN + NGTCP2_MAX_CIDLEN + SQ_SCIDLEN)

typedef struct sq_addr {
  struct sockaddr_storage sa;
  socklen_t len;
} sq_addr;

int sq_addr_eq(const sq_addr *a, const sq_addr *b);
void sq_addr_set(sq_addr *a, const struct sockaddr *sa, socklen_t len);
/* ngtcp2's view of the path local -> remote; it points into both. */
ngtcp2_path sq_ngtcp2_path(const sq_addr *local, const sq_addr *remote);
/* Copies the addresses out of an ngtcp2 path. */
void sq_addrs_of(const ngtcp2_path *np, sq_addr *local, sq_addr *remote);
/* Parses "ADDR:PORT" or "[V6]:PORT" (numeric only). */
int sq_addr_parse(sq_addr *a, const char *hostport);
/* Resolves host and port (names allowed) to the first UDP address. */
int sq_addr_resolve(sq_addr *a, const char *host, const char *port);
/* A non-blocking UDP socket bound to local (NULL: any of family). */
int sq_udp_socket(int family, const sq_addr *local, sq_addr *bound);
int sq_udp_send(int fd, const sq_addr *to, const uint8_t *data, size_t len);
/* One datagram into buf: its length, or -1 when none is waiting (or the
 * socket reports an error, such as an ICMP one surfacing). */
ssize_t sq_udp_recv(int fd, uint8_t *buf, size_t cap, sq_addr *from);
/* Waits up to wait for fd to be readable: 1 when it is, 0 when the time
 * ran out or a signal came, SCONE_QUIC_ERR_SOCKET on error. */
int sq_udp_wait(int fd, scone_duration wait);

/* How a connection hands a datagram to its endpoint's socket: the
 * connection itself does no I/O. Returns 0 once the datagram is sent. */
typedef int (*sq_send_fn)(void *ctx, const sq_addr *to, const uint8_t *data,
                          size_t len);

/* One network path: the SCONE receive state (advice for the direction we
 * receive) and the SCONE send schedule. */
typedef struct sq_path {
  sq_addr local, remote;
  scone_advice_tracker tracker;
  unsigned last_signal;
  uint64_t accepted;
  uint32_t initial_left; /* SCONE packets still owed to a new path */
  scone_tstamp next_due; /* next periodic SCONE packet */
  scone_tstamp last_used;
} sq_path;

typedef struct scone_quic_conn scone_quic_conn;

/* The application protocol riding the connection (HTTP/3). The connection
 * forwards ngtcp2's stream callbacks and pulls stream data when writing. Any
 * member may be NULL. Non-zero returns are fatal (the app has set the close
 * error with sq_conn_set_app_error). */
typedef struct sq_app_ops {
  int (*on_handshake_completed)(scone_quic_conn *c, void *app);
  int (*recv_stream_data)(scone_quic_conn *c, void *app, uint32_t flags,
                          int64_t stream_id, const uint8_t *data, size_t len);
  int (*acked_stream_data)(scone_quic_conn *c, void *app, int64_t stream_id,
                           uint64_t len);
  int (*stream_close)(scone_quic_conn *c, void *app, uint32_t flags,
                      int64_t stream_id, uint64_t app_error_code);
  int (*stream_reset)(scone_quic_conn *c, void *app, int64_t stream_id);
  int (*extend_max_stream_data)(scone_quic_conn *c, void *app,
                                int64_t stream_id);
  int (*extend_max_remote_streams_bidi)(scone_quic_conn *c, void *app,
                                        uint64_t max_streams);
  /* Stream data to send next: fills vec, sets *stream_id (-1: none) and
   * *fin; returns the vector count or < 0 on fatal error. */
  int64_t (*pull)(scone_quic_conn *c, void *app, int64_t *stream_id, int *fin,
                  ngtcp2_vec *vec, size_t veccnt);
  int (*written)(scone_quic_conn *c, void *app, int64_t stream_id, size_t n);
  int (*blocked)(scone_quic_conn *c, void *app, int64_t stream_id);
  int (*shutdown_write)(scone_quic_conn *c, void *app, int64_t stream_id);
} sq_app_ops;

typedef enum sq_state {
  SQ_STATE_OPEN = 0,
  SQ_STATE_CLOSING,  /* we sent CONNECTION_CLOSE */
  SQ_STATE_DRAINING, /* the peer sent it */
  SQ_STATE_DEAD,     /* may be freed */
} sq_state;

struct scone_quic_conn {
  ngtcp2_conn *qc;
  gnutls_session_t tls;
  ngtcp2_crypto_conn_ref conn_ref;
  int is_server;
  sq_send_fn send;
  void *send_ctx;
  /* The time of the read, write, expiry or close call in progress, for the
   * ngtcp2 and GnuTLS callbacks it makes, which get none of their own. */
  scone_tstamp now;
  const struct scone_quic_test_hooks *hooks; /* NULL outside tests */
  scone_quic_settings s;
  char flow_type[SCONE_QUIC_FLOW_TYPE_MAX + 1];
  scone_quic_callbacks cb;
  void *user_data;
  const sq_app_ops *app;
  void *app_data;

  /* scone_supported: 1 once the peer's arrived; tp_error when it was bad. */
  int peer_scone;
  int tp_error;
  /* The client asked for TLS 1.3 middlebox compatibility mode. */
  int compat_mode;
  int keepalive_set;
  /* Handshake confirmed: no more Initial packets, which need 1200 bytes. */
  int hs_confirmed;
  /* Client: datagrams end in the indication (the first flight, until a
   * datagram from the server arrives; with "once", its first write only). */
  int indicating;

  sq_path paths[SQ_MAX_PATHS];
  uint32_t npaths;

  /* Raised by the qlog sink during one ngtcp2 read or write call. */
  int rx_processed;
  int tx_path_frame;
  /* Writes left in which a PATH_RESPONSE is expected (a PATH_CHALLENGE
   * arrived): ngtcp2 pads it to the full path size. */
  int path_response_due;

  FILE *qlog;
  scone_tstamp qlog_ref; /* ngtcp2's initial_ts: qlog times count from it */
  uint64_t pkts_sent, pkts_received, pkts_lost;

  scone_quic_counters ctr;
  scone_app_netinfo_state ni;
  uint64_t rng;

  sq_state state;
  scone_tstamp state_deadline;
  ngtcp2_connection_close_error ccerr;
  int ccerr_fixed; /* set by sq_conn_set_transport_error: keep it */
  uint8_t *close_pkt;
  size_t close_len;
  int peer_closed;
  int timed_out; /* ended by idle or handshake timeout, no close sent */

  /* Server: CIDs that route to this connection. */
  ngtcp2_cid cids[SQ_MAX_CIDS];
  size_t ncids;
  uint8_t *txbuf; /* SQ_TX_HEADROOM, then max_udp_payload */
  size_t txcap;
};

/* What a new connection needs besides its settings. */
typedef struct sq_conn_params {
  const scone_quic_settings *settings;
  const scone_quic_callbacks *cb;
  void *user_data;
  sq_send_fn send;
  void *send_ctx;
  const sq_addr *local, *remote;
  gnutls_certificate_credentials_t cred;
  const char *sni;         /* client: TLS SNI, NULL for address literals */
  int verify;              /* client: verify the server certificate */
  const char *verify_host; /* client: name or address the cert must match */
  const ngtcp2_pkt_hd *hd; /* server: the client's first Initial */
  /* Client: the time the connection starts at. Server: the time the
   * client's first datagram is read at, which ngtcp2's qlog counts from. */
  scone_tstamp now;
} sq_conn_params;

/* The settings' version is known and their enums in range. */
int sq_settings_valid(const scone_quic_settings *s);
/* The direction this endpoint receives advice for. */
scone_dir sq_conn_rx_dir(const scone_quic_conn *c);

int sq_conn_client_new(scone_quic_conn **pc, const sq_conn_params *p);
int sq_conn_server_new(scone_quic_conn **pc, const sq_conn_params *p);
void sq_conn_del(scone_quic_conn *c);
void sq_conn_set_app(scone_quic_conn *c, const sq_app_ops *ops, void *app);

/* One received datagram (data is modified: nothing). Returns 0, or < 0 when
 * the connection has entered closing/draining/dead (see c->state). */
int sq_conn_read(scone_quic_conn *c, const sq_addr *local,
                 const sq_addr *remote, const uint8_t *data, size_t len,
                 scone_tstamp now);
/* Sends what ngtcp2 and the app allow now. */
int sq_conn_write(scone_quic_conn *c, scone_tstamp now);
scone_tstamp sq_conn_expiry(const scone_quic_conn *c);
int sq_conn_handle_expiry(scone_quic_conn *c, scone_tstamp now);
/* Local close with ccerr (set beforehand, or NO_ERROR), sends the close. */
int sq_conn_close(scone_quic_conn *c, scone_tstamp now);
void sq_conn_set_app_error(scone_quic_conn *c, uint64_t code);
void sq_conn_set_liberr(scone_quic_conn *c, int liberr);
/* A protocol check of ours failed inside a TLS callback: the close carries
 * this QUIC transport error and reason (a string that outlives c) rather
 * than the one ngtcp2 derives from the failed call. */
void sq_conn_set_transport_error(scone_quic_conn *c, uint64_t code,
                                 const char *reason);

/* TLS (tls.c). */
int sq_tls_client_cred(gnutls_certificate_credentials_t *cred,
                       const char *ca_file, int verify);
int sq_tls_server_cred(gnutls_certificate_credentials_t *cred,
                       const char *cert_file, const char *key_file);
int sq_tls_session_new(scone_quic_conn *c, const sq_conn_params *p);

/* The quic_transport_parameters extension carrying scone_supported (tp.c). */
int sq_tp_register(scone_quic_conn *c);

/* Paths (paths.c). The path with these addresses, or NULL: a pure lookup. */
sq_path *sq_path_find(scone_quic_conn *c, const sq_addr *local,
                      const sq_addr *remote);
/* The path datagrams now move on, marked used at now: found, or set up in a
 * free slot or else in the least recently used one other than path 0,
 * whose advice the application then hears is gone (advice_changed). */
sq_path *sq_path_find_or_add(scone_quic_conn *c, const sq_addr *local,
                             const sq_addr *remote, scone_tstamp now);
uint32_t sq_path_id(const scone_quic_conn *c, const sq_path *p);
scone_tstamp sq_path_next_expiry(const scone_quic_conn *c);
void sq_path_expire(scone_quic_conn *c, scone_tstamp now);
/* The interval until the next periodic SCONE packet, jittered. */
scone_duration sq_jittered_interval(scone_quic_conn *c);

/* SCONE send side (scone_tx.c): room to keep in front of ngtcp2's output. */
size_t sq_tx_front_room(const scone_quic_conn *c);
/* The buffer size to offer ngtcp2 (at most cap) so that, when a SCONE
 * packet of up to front bytes is due, it still fits within the path's
 * confirmed datagram size. */
size_t sq_tx_write_cap(scone_quic_conn *c, size_t cap, size_t front,
                       scone_tstamp now);
/* Given ngtcp2's datagram at dg (len bytes, SQ_TX_HEADROOM bytes free before
 * it, max_udp_payload - len after it), prepends a SCONE packet if one is due
 * and fits, and appends the indication while the client is still in its
 * first flight. Returns the final datagram's start and sets *outlen. */
uint8_t *sq_tx_finish(scone_quic_conn *c, sq_path *path, uint8_t *dg,
                      size_t len, size_t *outlen, scone_tstamp now);

/* SCONE receive side (scone_rx.c): reads one datagram through ngtcp2. */
int sq_rx_datagram(scone_quic_conn *c, sq_path *path, const ngtcp2_path *np,
                   const uint8_t *data, size_t len, scone_tstamp now);

/* Events (events.c): counts, qlog line, callback. */
void sq_event_packet(scone_quic_conn *c, scone_app_qlog_type type,
                     const scone_packet *pkt, scone_tstamp now);
void sq_event_accepted(scone_quic_conn *c, sq_path *path, unsigned signal,
                       scone_tstamp now);
void sq_event_rejected(scone_quic_conn *c, unsigned signal,
                       scone_app_reject reason, scone_tstamp now);
/* Reports an advice change on path (trigger signal or expiry). */
void sq_event_advice_changed(scone_quic_conn *c, sq_path *path,
                             unsigned old_signal, scone_app_trigger trigger,
                             scone_tstamp now);

/* scone:parameters_set for our offer (local) or the peer's. */
void sq_event_parameters(scone_quic_conn *c, int local, int supported,
                         scone_tstamp now);
/* Re-evaluates the NetworkInformation view (RTT and estimate move too). */
void sq_netinfo_tick(scone_quic_conn *c, scone_tstamp now);

/* qlog (qlog.c). */
int sq_qlog_open(scone_quic_conn *c, const char *path);
void sq_qlog_write_cb(void *user_data, uint32_t flags, const void *data,
                      size_t len);
void sq_qlog_line(scone_quic_conn *c, const char *line, size_t len);

uint64_t sq_rand_u64(scone_quic_conn *c);
int sq_random_bytes(uint8_t *dst, size_t len);

#endif /* SCONE_QUIC_INTERNAL_H */
