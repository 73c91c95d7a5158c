/*
 * scone-bridge's state: the HTTP/1.1 side (libmicrohttpd, driven from the
 * bridge's own poll loop), one HTTP/3 client per origin (libscone_quic),
 * the requests in between, and the subscribers of /scone/events.
 */
#ifndef SCONE_BRIDGE_H
#define SCONE_BRIDGE_H

#include "route.h"

#include <scone/quic.h>

#include <microhttpd.h>
#include <stdint.h>

#define BRIDGE_KEY_MAX (ROUTE_HOST_MAX + ROUTE_PORT_MAX + 4)
/* A response the browser reads slower than the origin sends is buffered
 * up to this much, then abandoned (both sides see an error). */
#define BRIDGE_BUFFER_MAX (64u << 20)

typedef struct bridge_opts {
  const char *listen; /* ADDR:PORT, loopback unless allow_remote */
  int allow_remote;
  int has_default; /* --upstream */
  char default_host[ROUTE_HOST_MAX + 1], default_port[ROUTE_PORT_MAX + 1];
  /* --allow: origins besides the default; allow_any for "*". */
  char (*allow)[BRIDGE_KEY_MAX];
  size_t nallow;
  int allow_any;
  int insecure;
  const char *ca_file;
  int scone_capable;
  scone_duration scone_interval;
  scone_app_settings app; /* overhead margin, netinfo hysteresis */
  scone_duration timeout; /* for the response's header section */
  unsigned max_clients;   /* HTTP/1.1 connections at once */
  int access_log;
} bridge_opts;

typedef struct bridge bridge;
typedef struct breq breq;

/* One origin's HTTP/3 connection, made on first use and again after it
 * ends. */
typedef struct upstream {
  struct upstream *next;
  bridge *b;
  char key[BRIDGE_KEY_MAX];
  char host[ROUTE_HOST_MAX + 1], port[ROUTE_PORT_MAX + 1];
  scone_quic_client *cl; /* NULL once ended */
  breq *reqs;            /* outstanding on cl */
  int have_ni;
  scone_app_netinfo ni; /* the connection's view, with its hysteresis */
  int have_advice;
  scone_advice advice;
  uint64_t generation; /* connections made to this origin */
  uint64_t requests;
} upstream;

typedef enum breq_state {
  BREQ_NEW = 0,
  BREQ_WAITING,  /* sent upstream, no header section yet */
  BREQ_HEADERS,  /* the header section arrived, body streaming */
  BREQ_FAILED,   /* ended before any header section */
  BREQ_ANSWERED, /* a response was queued */
} breq_state;

typedef struct bhdr {
  char *name, *value;
} bhdr;

/* One HTTP/1.1 request, from the request line to the end of its
 * response. */
struct breq {
  bridge *b;
  struct MHD_Connection *conn;
  char *target; /* the raw request target, query included */
  breq_state state;
  int suspended;
  int sse;        /* a /scone/events subscriber */
  breq *next_all; /* every request of the bridge */
  upstream *via;  /* the origin it went to */
  upstream *up;   /* the same, while outstanding */
  breq *next_up;
  uint32_t index; /* the upstream request's */
  int outstanding;
  scone_tstamp deadline; /* for the header section */
  int status;
  bhdr *hdrs;
  size_t nhdrs;
  char *cmsd_up, *expose_up;
  int has_length;
  uint64_t length;
  /* Body (or SSE text) not yet given to libmicrohttpd. */
  uint8_t *buf;
  size_t len, off, cap;
  int eof, failed, error;
  uint64_t sent;
  /* SSE: the origin asked for ("" for the current one), the last view
   * sent and when anything was last sent. */
  char origin[BRIDGE_KEY_MAX];
  char last[512];
  scone_tstamp last_write;
  char method[8];
};

struct bridge {
  bridge_opts o;
  struct MHD_Daemon *d;
  upstream *ups;
  upstream *current; /* the origin of the latest forwarded request */
  breq *all;
  unsigned subscribers;
  int views_dirty; /* a view may have changed: tell the subscribers */
  uint16_t port;
  volatile int stop;
};

/* main.c's loop around these. */
int bridge_start(bridge *b);
void bridge_run(bridge *b);
void bridge_free(bridge *b);

/* proxy.c */
enum MHD_Result bridge_forward(bridge *b, breq *r, const route *rt);
enum MHD_Result bridge_resume_answer(bridge *b, breq *r);
void bridge_request_done(bridge *b, breq *r);
void bridge_upstreams_step(bridge *b, scone_tstamp now);
void bridge_check_deadlines(bridge *b, scone_tstamp now);
scone_tstamp bridge_next_wake(bridge *b, scone_tstamp now);
void breq_resume(breq *r);
int breq_append(breq *r, const void *data, size_t len);
/* libmicrohttpd's content reader over r's buffer: suspends r when the
 * buffer is empty and more is to come. */
ssize_t bridge_read_buffer(void *cls, uint64_t pos, char *buf, size_t max);
/* The CMSD mb for u's advice in kbit/s (the advice less the overhead
 * margin), 0 when u has none. */
uint64_t bridge_mb_kbps(const bridge *b, const upstream *u);
upstream *bridge_find_upstream(bridge *b, const char *key);
void bridge_upstreams_free(bridge *b);

/* views.c: the /scone/ endpoints. */
enum MHD_Result bridge_local(bridge *b, breq *r, const route *rt);
void bridge_views_tick(bridge *b, scone_tstamp now);

/* A short text/plain answer, for errors: "scone-bridge: <why>\n". */
enum MHD_Result bridge_text(struct MHD_Connection *c, unsigned status,
                            const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Allow-Origin * and no caching, on the bridge's own answers. */
void bridge_local_fields(struct MHD_Response *resp);

#endif /* SCONE_BRIDGE_H */
