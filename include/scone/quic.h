/*
 * libscone_quic: SCONE on real QUIC connections (ngtcp2 0.12 + GnuTLS) and a
 * small HTTP/3 client and server (nghttp3 0.8) built on them.
 *
 * What a SCONE-capable connection does (draft-ietf-scone-protocol):
 *   - offers the empty scone_supported transport parameter (0x219e) and
 *     closes with TRANSPORT_PARAMETER_ERROR if the peer's is not empty;
 *   - as a client, ends every datagram of its first flight with 0xc8 0x13
 *     until any datagram from the server arrives (settings.indication);
 *   - once the peer offered the parameter and the handshake is confirmed
 *     (settings.scone_placement), puts a SCONE packet (signal 127) ahead of
 *     the 1-RTT packets of the first SCONE_QUIC_DEFAULT_INITIAL_DATAGRAMS
 *     datagrams of each path, then every send_interval (randomised by
 *     +-send_jitter_pct), and in any datagram carrying PATH_CHALLENGE or
 *     PATH_RESPONSE. ngtcp2 is always given a datagram budget that leaves
 *     room for this, so datagrams never exceed max_udp_payload. While SCONE is
 * negotiated, ngtcp2's keep-alive is set to half the send interval so that an
 * idle connection still emits datagrams (a PING one way, its ACK the other) to
 * carry SCONE packets; the gap between two is then at most about 1.7 intervals;
 *   - strips a leading SCONE packet from received datagrams and accepts its
 *     signal only when its DCID matches the next packet's and ngtcp2 really
 *     processed a packet of the same datagram (seen through ngtcp2's qlog
 *     "transport:packet_received" event, since ngtcp2_conn_read_pkt returns
 *     0 even when it drops a packet). A datagram with two SCONE packets is
 *     discarded whole. The SCID of a SCONE packet is not checked (a MAY);
 *   - feeds accepted signals into one scone_advice_tracker per path for the
 *     direction it receives (client: downlink, server: uplink) and reports
 *     changes through scone_quic_callbacks.advice_changed.
 * With scone_capable = 0 the connection is plain QUIC: no parameter, no
 * indication, no SCONE packets, and received datagrams go to ngtcp2 as they
 * are.
 *
 * Times are scone_tstamp nanoseconds on CLOCK_MONOTONIC (scone_quic_now()).
 * The connection logic reads no clock and does no I/O of its own: the
 * client's and server's event loops read the clock, pass the time to every
 * call and move the datagrams.
 *
 * The TLS handshake follows RFC 9001 section 8.4: no TLS 1.3 middlebox
 * compatibility mode (the ClientHello's legacy_session_id is empty), and a
 * server closes a connection whose ClientHello has one with
 * PROTOCOL_VIOLATION.
 *
 * Functions returning int give 0 or a count on success and a negative
 * SCONE_QUIC_ERR_* (or SCONE_ERR_*) on failure; scone_quic_strerror() names
 * them.
 */
#ifndef SCONE_QUIC_H
#define SCONE_QUIC_H

#include <scone/app.h>
#include <scone/scone.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ errors */

#define SCONE_QUIC_ERR_NOMEM (-100)
#define SCONE_QUIC_ERR_SOCKET (-101)  /* socket call failed (errno kept) */
#define SCONE_QUIC_ERR_ADDRESS (-102) /* host/port did not resolve or parse */
#define SCONE_QUIC_ERR_TLS (-103)     /* GnuTLS setup failed */
#define SCONE_QUIC_ERR_QUIC (-104)    /* ngtcp2 reported a fatal error */
#define SCONE_QUIC_ERR_HTTP3 (-105)   /* nghttp3 reported a fatal error */
#define SCONE_QUIC_ERR_CLOSED (-106)  /* the connection is closed */
#define SCONE_QUIC_ERR_TIMEOUT (-107) /* the deadline passed */
#define SCONE_QUIC_ERR_CERT (-108)    /* certificate could not be made/read */
#define SCONE_QUIC_ERR_QLOG (-109)    /* qlog file or directory not writable */
/* The server's address refused the datagrams (ICMP port or host
 * unreachable) before the handshake completed. */
#define SCONE_QUIC_ERR_UNREACHABLE (-110)
#define SCONE_QUIC_ERR_RESET (-111) /* the peer reset the request's stream */
/* The response's header section was past SCONE_QUIC_MAX_HEADER_BYTES or
 * SCONE_QUIC_MAX_HEADERS: the request was cancelled. */
#define SCONE_QUIC_ERR_HEADERS (-112)
/* The server's content root cannot be opened as a directory. */
#define SCONE_QUIC_ERR_ROOT (-113)

/* Names SCONE_QUIC_ERR_* and SCONE_ERR_* values. */
const char *scone_quic_strerror(int err);

/* The clock the event loops read and the times given to the callbacks are
 * on: CLOCK_MONOTONIC in ns. */
scone_tstamp scone_quic_now(void);

/* --------------------------------------------------------------- settings */

#define SCONE_QUIC_DEFAULT_SEND_INTERVAL (10 * SCONE_SECONDS)
#define SCONE_QUIC_DEFAULT_SEND_JITTER_PCT 20
#define SCONE_QUIC_DEFAULT_INITIAL_DATAGRAMS 3
#define SCONE_QUIC_DEFAULT_MAX_UDP_PAYLOAD 1452
#define SCONE_QUIC_FLOW_TYPE_MAX 31 /* longer tags are truncated */

/* Which datagrams may start with a SCONE packet. */
typedef enum scone_quic_placement {
  /* Default: only datagrams of 1-RTT (short header) packets once the
   * handshake is confirmed, which is where deployed stacks (picoquic) look
   * for them. */
  SCONE_QUIC_PLACEMENT_CONFIRMED = 0,
  /* Also ahead of Initial and Handshake packets as soon as the peer's
   * parameter is known, as the draft permits. Only the client gains: its
   * Handshake flight carries one a round trip before confirmation (the
   * server's handshake datagrams are padded Initial ones with no room), so
   * uplink advice could come that much sooner; but a peer that takes SCONE
   * packets only before short headers drops those datagrams whole and the
   * handshake waits for a retransmission. docs/interop.md has figures. */
  SCONE_QUIC_PLACEMENT_HANDSHAKE = 1,
} scone_quic_placement;

/* The client's first-flight indication (0xc8 0x13 ending the datagram). */
typedef enum scone_quic_indication {
  /* Default, as the draft asks: every datagram until any datagram from the
   * server arrives, retransmitted first flights included. */
  SCONE_QUIC_INDICATION_EVERY = 0,
  /* Only the datagrams of the first flight as first sent, not their
   * retransmissions (what picoquic does): a path that drops such datagrams
   * costs one retransmission timeout, not the connection. */
  SCONE_QUIC_INDICATION_ONCE = 1,
  /* None (neqo's default since middleboxes dropped such datagrams); SCONE
   * is still negotiated by the transport parameter. */
  SCONE_QUIC_INDICATION_OFF = 2,
} scone_quic_indication;

/* The struct's layout version: the functions taking settings reject any
 * other with SCONE_ERR_INVALID_ARGUMENT, which also catches a struct that
 * did not go through scone_quic_settings_default(). */
#define SCONE_QUIC_SETTINGS_V1 1
typedef struct scone_quic_settings {
  uint32_t version;  /* SCONE_QUIC_SETTINGS_V1 */
  int scone_capable; /* default 1; 0: plain QUIC (see above) */
  scone_quic_placement scone_placement; /* default CONFIRMED */
  scone_quic_indication indication;     /* clients; default EVERY */
  /* Optional application flow type tag ("video", "bulk", ...), reported in
   * the qlog trace (scone:parameters_set); NULL for none. Copied, at most
   * SCONE_QUIC_FLOW_TYPE_MAX characters, anything outside [A-Za-z0-9._-]
   * replaced by '_'. */
  const char *flow_type;
  scone_duration send_interval;     /* default 10 s; the spec asks for at
                                       least two per 67 s period */
  uint32_t send_jitter_pct;         /* default 20: interval +-20% */
  uint32_t initial_scone_datagrams; /* default 3, per path */
  size_t max_udp_payload;           /* default 1452, at least 1280 */
  scone_duration advice_period;     /* default SCONE_PERIOD (67 s) */
  scone_duration idle_timeout;      /* default 30 s */
  /* Where the connection writes its qlog (ngtcp2's JSON-SEQ trace with the
   * scone:* events of scone_app_qlog_event() interleaved); NULL: none. A
   * file that cannot be written fails scone_quic_client_new() with
   * SCONE_QUIC_ERR_QLOG. */
  const char *qlog_path;
} scone_quic_settings;

void scone_quic_settings_default(scone_quic_settings *s);

/* ------------------------------------------------------------ connections */

typedef struct scone_quic_conn scone_quic_conn;

/* Per-connection SCONE counters; polled, never reset. */
typedef struct scone_quic_counters {
  uint64_t scone_sent;      /* SCONE packets sent */
  uint64_t scone_received;  /* SCONE packets found leading a datagram */
  uint64_t advice_accepted; /* signals fed to the advice tracker */
  uint64_t advice_rejected; /* total of rejected[] */
  uint64_t rejected[SCONE_APP_REJECT_COUNT]; /* by scone_app_reject reason */
  uint64_t scone_malformed;    /* SCONE header with truncated CIDs: dropped */
  uint64_t indications_sent;   /* datagrams ending in 0xc8 0x13 */
  uint64_t scone_skipped_room; /* planned SCONE packets that did not fit */
  uint64_t datagrams_sent, datagrams_received;
  uint64_t bytes_sent, bytes_received; /* UDP payload bytes */
} scone_quic_counters;

/* The advice for one path and direction (the direction the connection
 * receives), polled. */
typedef struct scone_quic_advice_state {
  scone_advice advice;  /* signal, bps, received_at, expires_at */
  unsigned last_signal; /* last accepted signal (127: none yet) */
  uint64_t accepted;    /* signals accepted on this path */
} scone_quic_advice_state;

typedef struct scone_quic_callbacks {
  /* The advice in force on path_id for dir changed (lower advice arrived, a
   * higher one took over as the lowest aged out, or it expired: signal 127).
   * dir is the direction this endpoint receives. */
  void (*advice_changed)(scone_quic_conn *conn, uint32_t path_id, scone_dir dir,
                         const scone_advice *advice, void *user_data);
  /* The NetworkInformation-like view changed (scone_app_netinfo_update()). */
  void (*netinfo_changed)(scone_quic_conn *conn, const scone_app_netinfo *ni,
                          void *user_data);
  /* Every SCONE packet sent or received and every acceptance/rejection, as
   * the qlog event it is also written as (NULL: not called). ev->expires_at
   * is on the clock of now; the trace counts both from its own start. */
  void (*scone_event)(scone_quic_conn *conn, const scone_app_qlog_ev *ev,
                      scone_tstamp now, void *user_data);
} scone_quic_callbacks;

/* 1 once the peer's scone_supported parameter was received. */
int scone_quic_conn_peer_scone(const scone_quic_conn *conn);
/* The advice a client (dir SCONE_DIR_DOWNLINK) or server (SCONE_DIR_UPLINK)
 * receives on path_id (0: the path the connection started on).
 * SCONE_ERR_INVALID_ARGUMENT for an unknown path or the direction this
 * endpoint sends (it has no advice for it). */
int scone_quic_conn_get_advice(const scone_quic_conn *conn, uint32_t path_id,
                               scone_dir dir, scone_tstamp now,
                               scone_quic_advice_state *out);
void scone_quic_conn_get_counters(const scone_quic_conn *conn,
                                  scone_quic_counters *out);
/* WebTransport-like snapshot (scone/app.h) with the advice of path 0. */
void scone_quic_conn_get_stats(const scone_quic_conn *conn, scone_tstamp now,
                               scone_app_stats *out);
void scone_quic_conn_get_netinfo(const scone_quic_conn *conn,
                                 scone_app_netinfo *out);
/* How the connection ended, once closed: *is_remote 1 when the peer closed
 * it, *is_app 1 for an application error code, *code the QUIC error code
 * (0 for none). Returns 0 once closed, 1 while still open (outputs then
 * untouched). */
int scone_quic_conn_get_close_error(const scone_quic_conn *conn, int *is_remote,
                                    int *is_app, uint64_t *code);
/* 1 when the connection ended silently: handshake or idle timeout. */
int scone_quic_conn_timed_out(const scone_quic_conn *conn);

/* ------------------------------------------------------- HTTP/3 client */

typedef struct scone_quic_client scone_quic_client;

/* Checked as SCONE_QUIC_SETTINGS_V1 is, with the settings inside. */
#define SCONE_QUIC_CLIENT_CONFIG_V1 1
typedef struct scone_quic_client_config {
  uint32_t version; /* SCONE_QUIC_CLIENT_CONFIG_V1 */
  scone_quic_settings quic;
  const char *host;      /* name or address literal (IPv6 without []) */
  const char *port;      /* numeric or service name */
  const char *authority; /* :authority; default host[:port] */
  const char *sni;       /* TLS server name; default host if it is a name */
  /* 1: do not verify the server certificate (self-signed test servers).
   * 0: verify against ca_file or, without it, the system trust store. */
  int insecure;
  const char *ca_file;
} scone_quic_client_config;

void scone_quic_client_config_default(scone_quic_client_config *cfg);

/* One header field, NUL-terminated name and value. Response header names
 * arrive in lowercase, as HTTP/3 carries them. */
typedef struct scone_quic_header {
  const char *name;
  const char *value;
} scone_quic_header;

/* Limits on one response's header section (pseudo-headers included); a
 * larger one fails its request with SCONE_QUIC_ERR_HEADERS. The client
 * advertises the byte limit in its HTTP/3 SETTINGS. */
#define SCONE_QUIC_MAX_HEADERS 128
#define SCONE_QUIC_MAX_HEADER_BYTES 65536

/* One request. Checked as SCONE_QUIC_SETTINGS_V1 is. Requests carry no
 * body, so any method that needs none may be sent. */
#define SCONE_QUIC_REQUEST_V1 1
typedef struct scone_quic_request {
  uint32_t version;   /* SCONE_QUIC_REQUEST_V1 */
  const char *method; /* default "GET"; an upper-case token ("HEAD", ...) */
  /* :path: starts with '/', may carry a query string ("/a.m4s?CMCD=..."),
   * printable ASCII without spaces. */
  const char *path;
  /* Extra request headers (CMCD-Request, Range, what a proxy forwards).
   * Names are tokens and are sent in lowercase; values must not hold CR,
   * LF or NUL, nor start or end with whitespace. Pseudo-headers, Host and the
   * connection-specific fields HTTP/3 forbids (Connection, Keep-Alive,
   * Proxy-Connection, Transfer-Encoding, Upgrade, TE other than "trailers") are
   * refused: a proxy drops them before forwarding. */
  const scone_quic_header *headers;
  size_t nheaders;
} scone_quic_request;

void scone_quic_request_default(scone_quic_request *req);

/* One finished request: complete, or failed. */
typedef struct scone_quic_response {
  uint32_t request_index; /* 0, 1, ... in submission order */
  const char *path;
  int status; /* HTTP status, 0 if none arrived */
  uint64_t body_bytes;
  scone_tstamp started_at, finished_at;
  /* 0: the whole response arrived. SCONE_QUIC_ERR_RESET: the server reset
   * the stream (app_error_code says why); SCONE_QUIC_ERR_CLOSED or
   * SCONE_QUIC_ERR_UNREACHABLE: the connection ended first;
   * SCONE_QUIC_ERR_HEADERS: see SCONE_QUIC_MAX_HEADERS. */
  int error;
  uint64_t app_error_code; /* SCONE_QUIC_ERR_RESET: the HTTP/3 error code */
} scone_quic_response;

typedef struct scone_quic_client_callbacks {
  /* Body bytes as they arrive (NULL: discarded). */
  void (*body)(scone_quic_client *client, uint32_t request_index,
               const uint8_t *data, size_t len, void *user_data);
  /* Once per request, complete or failed; never for a cancelled one. */
  void (*response_done)(scone_quic_client *client,
                        const scone_quic_response *resp, void *user_data);
  /* The final response's header section, before any body byte: the status
   * and every field but the pseudo-headers, in the order received (valid
   * during the call). Interim (1xx) responses are not reported. */
  void (*headers)(scone_quic_client *client, uint32_t request_index, int status,
                  const scone_quic_header *headers, size_t nheaders,
                  void *user_data);
} scone_quic_client_callbacks;

/* Resolves the host, opens a UDP socket and starts the handshake. The config
 * strings are copied. Either callbacks struct may be NULL.
 * SCONE_ERR_INVALID_ARGUMENT for an unknown config or settings version or
 * an out-of-range setting. */
int scone_quic_client_new(scone_quic_client **pclient,
                          const scone_quic_client_config *cfg,
                          const scone_quic_callbacks *scone_cb,
                          const scone_quic_client_callbacks *http_cb,
                          void *user_data);
void scone_quic_client_del(scone_quic_client *client);
scone_quic_conn *scone_quic_client_conn(scone_quic_client *client);

/* Queues a request (sent once the handshake and the server's stream limit
 * allow); the request is copied. Returns the request index its callbacks
 * carry, SCONE_ERR_INVALID_ARGUMENT for a bad request (see
 * scone_quic_request), or SCONE_QUIC_ERR_CLOSED once the connection has
 * ended. May be called from the callbacks. */
int scone_quic_client_request(scone_quic_client *client,
                              const scone_quic_request *req);
/* A GET for path, no extra headers. */
int scone_quic_client_get(scone_quic_client *client, const char *path);
/* Abandons a request: its stream is reset (H3_REQUEST_CANCELLED, both
 * directions) and no callback comes for it any more; the connection and
 * the other requests go on. May be called from the callbacks (the reset
 * goes out on the next processing). SCONE_ERR_INVALID_ARGUMENT when the
 * request is not outstanding. */
int scone_quic_client_cancel(scone_quic_client *client, uint32_t request_index);
/* Requests submitted and not yet finished or cancelled. */
uint32_t scone_quic_client_outstanding(const scone_quic_client *client);

/* An outside event loop (several origins, a proxy) drives the client with
 * these three instead of scone_quic_client_run: wait until fd is readable
 * or the timeout passes, then process. */
/* The client's UDP socket (non-blocking, connected to the server). */
int scone_quic_client_fd(const scone_quic_client *client);
/* When the client must be processed even if nothing arrives, on the clock
 * of scone_quic_now(); at or before now when work is waiting (a request
 * or cancel just submitted); UINT64_MAX once closed. */
scone_tstamp scone_quic_client_timeout(const scone_quic_client *client);
/* Reads the datagrams waiting on the socket, runs the timers that are due
 * and sends what may go out, at now (scone_quic_now()'s clock). Callbacks
 * run from here. Returns 0 while the connection is open; once it has
 * ended, SCONE_QUIC_ERR_CLOSED, or SCONE_QUIC_ERR_UNREACHABLE when the
 * server's address refused it, after every outstanding request was
 * reported failed with that error. */
int scone_quic_client_process(scone_quic_client *client, scone_tstamp now);

/* Runs the event loop. With until_idle set, returns 0 as soon as no request
 * is outstanding; otherwise runs until deadline (returns 0 then too).
 * SCONE_QUIC_ERR_TIMEOUT if requests are still outstanding at deadline,
 * SCONE_QUIC_ERR_CLOSED once the connection has closed. */
int scone_quic_client_run(scone_quic_client *client, scone_tstamp deadline,
                          int until_idle);
/* Sends CONNECTION_CLOSE (NO_ERROR) and stops; idempotent. */
void scone_quic_client_close(scone_quic_client *client);

/* ------------------------------------------------------- HTTP/3 server */

typedef struct scone_quic_server scone_quic_server;

/* Checked as SCONE_QUIC_SETTINGS_V1 is, with the settings inside. */
#define SCONE_QUIC_SERVER_CONFIG_V1 1
typedef struct scone_quic_server_config {
  uint32_t version;         /* SCONE_QUIC_SERVER_CONFIG_V1 */
  scone_quic_settings quic; /* qlog_path is ignored; see qlog_dir */
  const char *listen;       /* "ADDR:PORT", "[V6ADDR]:PORT"; port 0 picks one */
  const char *cert_file, *key_file; /* PEM */
  /* Served under "/": regular files beneath root, found by the kernel so
   * that no "..", absolute path or symbolic link leads out of it (openat2
   * RESOLVE_BENEATH; without openat2, a walk that follows no symbolic
   * link); a path naming ".." in any spelling is refused (400),
   * a way out (403) and anything missing (404) too. NULL serves only the
   * generated bodies. */
  const char *root;
  /* One qlog per connection, <dir>/<ODCID hex>.sqlog; NULL: none. The
   * directory must exist and take a new file when the server is made
   * (SCONE_QUIC_ERR_QLOG otherwise); a connection whose qlog cannot be
   * opened later is served without one and counted in qlog_failures. */
  const char *qlog_dir;
  /* Default 1: CMSD-Static and CMSD-Dynamic (CTA-5006) on 2xx responses,
   * from the request's CMCD (docs/video.md). */
  int cmsd;
  /* Default 0: a response whose request's CMCD asks for a rate (rtp) is
   * paced to it; 1 turns that on. */
  int pace;
} scone_quic_server_config;

void scone_quic_server_config_default(scone_quic_server_config *cfg);

/* Generated bodies: GET /bytes/<N> returns N bytes (decimal, optional K, M
 * or G suffix, powers of 1000) of a repeating pattern, up to 2^40. Anything
 * else is looked up under root. Responses carry Content-Type (by
 * extension), Content-Length, Accept-Ranges and, for a Range request of
 * one byte range, 206 with Content-Range (416 past the end); CORS headers
 * let a page on any origin read them; OPTIONS answers a preflight. */

/* One request as the server answered it. */
typedef struct scone_quic_server_request {
  const char *method, *target; /* target: :path, query included */
  /* Every other field of the request, names in lowercase, as received. */
  const scone_quic_header *headers;
  size_t nheaders;
  int status;
  uint64_t body_bytes;             /* Content-Length of the answer */
  const scone_app_cmcd_data *cmcd; /* the CMCD the request carried */
  int cmcd_malformed; /* a CMCD field did not parse (and was ignored) */
  uint64_t paced_bps; /* the rate the body is paced to; 0: not paced */
  const char *cmsd_static, *cmsd_dynamic; /* as sent; NULL: none */
} scone_quic_server_request;

typedef struct scone_quic_server_callbacks {
  /* Each request once its answer is decided (on the server's thread). */
  void (*request)(scone_quic_server *server,
                  const scone_quic_server_request *req, void *user_data);
} scone_quic_server_callbacks;

/* Binds the socket, loads the certificate and opens the root. Callbacks
 * may be NULL. SCONE_ERR_INVALID_ARGUMENT as for scone_quic_client_new();
 * SCONE_QUIC_ERR_ROOT for a root that cannot be served. */
int scone_quic_server_new(scone_quic_server **pserver,
                          const scone_quic_server_config *cfg,
                          const scone_quic_callbacks *scone_cb,
                          const scone_quic_server_callbacks *http_cb,
                          void *user_data);
void scone_quic_server_del(scone_quic_server *server);
uint16_t scone_quic_server_port(const scone_quic_server *server);
/* Serves until scone_quic_server_stop() (safe from a signal handler or
 * another thread). */
int scone_quic_server_run(scone_quic_server *server);
void scone_quic_server_stop(scone_quic_server *server);

/* Counters summed over every connection the server has had, plus: */
typedef struct scone_quic_server_stats {
  scone_quic_counters scone;
  uint64_t connections_accepted;
  uint64_t connections_closed_with_error; /* we or the peer sent an error */
  uint64_t transport_parameter_errors;    /* closed: bad scone_supported */
  uint64_t requests_served;
  uint64_t responses_paced; /* bodies paced to their request's rtp */
  /* Datagrams that opened a connection and ended in 0xc8 0x13. */
  uint64_t datagrams_with_indication;
  /* Connections closed with PROTOCOL_VIOLATION: their ClientHello asked
   * for TLS 1.3 middlebox compatibility mode (RFC 9001 section 8.4). */
  uint64_t compat_mode_rejected;
  uint64_t qlog_failures; /* connections served without their qlog */
} scone_quic_server_stats;

/* Safe only from the thread running the server, or after run returned. */
void scone_quic_server_get_stats(const scone_quic_server *server,
                                 scone_quic_server_stats *out);

/* ------------------------------------------------------- certificates */

/* Makes a self-signed ECDSA P-256 certificate for CN=localhost with SANs
 * localhost, 127.0.0.1 and ::1 (and host if not NULL), valid for a year, and
 * writes key (mode 0600) and certificate as PEM. */
int scone_quic_make_self_signed(const char *cert_file, const char *key_file,
                                const char *host);

#ifdef __cplusplus
}
#endif

#endif /* SCONE_QUIC_H */
