/*
 * The content server's answer to one request, decided from the request's
 * fields alone: status, body, content type, byte range, CORS, and the CMCD
 * it read turned into CMSD (CTA-5004 in, CTA-5006 out). No I/O but opening
 * the file; server.c sends what this decides.
 */
#ifndef SCONE_QUIC_RESPOND_H
#define SCONE_QUIC_RESPOND_H

#include "content.h"

#include <scone/app.h>

#define SQ_METHOD_MAX 16
#define SQ_TARGET_MAX 4096
#define SQ_FIELD_MAX 1024
#define SQ_RESP_FIELDS 16

/* The request fields the server keeps, as received. */
typedef struct sq_request_in {
  char method[SQ_METHOD_MAX];
  char target[SQ_TARGET_MAX]; /* :path */
  char range[SQ_FIELD_MAX];   /* Range, "" when absent */
  char cmcd[4][SQ_FIELD_MAX]; /* CMCD-Request, -Object, -Status, -Session */
  int too_long;               /* one of them did not fit: 431 */
} sq_request_in;

/* Collects one request header field into in (names in lowercase). */
void sq_request_in_field(sq_request_in *in, const uint8_t *name, size_t namelen,
                         const uint8_t *value, size_t valuelen);

typedef struct sq_respond_opts {
  int rootfd; /* -1: generated bodies only */
  int cmsd;   /* send CMSD-Static and CMSD-Dynamic */
  int pace;   /* pace responses to the request's rtp */
  int has_rtt;
  uint64_t rtt_ms; /* the connection's smoothed RTT, for CMSD-Dynamic */
} sq_respond_opts;

typedef struct sq_response_out {
  int status;
  int send_body;            /* 0 for HEAD, OPTIONS and errors */
  sq_body body;             /* the part to send */
  uint64_t pace_bps;        /* 0: as fast as the path allows */
  scone_app_cmcd_data cmcd; /* what the request said */
  int cmcd_keys;            /* keys taken, or < 0 for a malformed field */
  nghttp3_nv nva[SQ_RESP_FIELDS];
  size_t nnv;
  /* What the fields point into. */
  char code[8], length[24], crange[64], cmsd_static[512], cmsd_dynamic[160];
  const char *type;
} sq_response_out;

/* Fills out (which the fields point into: it must not move until they
 * are sent). out->body must be closed with sq_content_close. */
void sq_respond(const sq_request_in *in, const sq_respond_opts *opts,
                sq_response_out *out);

#endif /* SCONE_QUIC_RESPOND_H */
