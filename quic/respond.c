/*
 * The content server's response to one request (see respond.h).
 *
 * CMCD comes in as the CMCD= query argument and the four CMCD-* headers,
 * read with libscone_app's tolerant decoder (a malformed field is ignored,
 * never a reason to refuse the request). CMSD goes out on every 2xx:
 *   - CMSD-Static: what the request's CMCD says about the object (ot, br,
 *     d, sf, st; an MPD is ot=m, sf=d when the request does not say): a
 *     static file server has no packager metadata of its own.
 *   - CMSD-Dynamic: "scone-server" with mb, the server's view of the rate
 *     the client can sustain, when it has one, and rtt, the connection's
 *     smoothed round-trip time. A server knows the advice only for the
 *     direction it receives (the client's uploads): SCONE packets it sends
 *     are rewritten on the way to the client, which alone learns the
 *     downlink advice. What it sends can only be judged from what the
 *     client relays, and CMCD rtp is that relay (scone-player sends the
 *     advice less its overhead margin), so mb is the request's rtp.
 *     Uplink advice says nothing about the media the server sends and is
 *     not used.
 * CORS lets a page on another origin read CMSD: Access-Control-Allow-Origin
 * "*" and Access-Control-Expose-Headers. CMCD-* request headers are not
 * CORS-safelisted, so a browser sends an OPTIONS preflight before a request
 * carrying them (the CMCD= query argument needs none); it is answered 204
 * with the methods and headers allowed.
 */
#include "respond.h"
#include "h3.h"

#include <stdio.h>
#include <string.h>

#define SERVER_ID "scone-server"
#define ALLOW_METHODS "GET, HEAD, OPTIONS"
#define ALLOW_HEADERS                                                          \
  "CMCD-Request, CMCD-Object, CMCD-Status, CMCD-Session, Range"
#define EXPOSE_HEADERS                                                         \
  "CMSD-Static, CMSD-Dynamic, Content-Length, Content-Range"
/* How long a browser may reuse a preflight answer: a day. */
#define PREFLIGHT_MAX_AGE "86400"

static const scone_app_cmcd_shard shards[4] = {
    SCONE_APP_CMCD_REQUEST, SCONE_APP_CMCD_OBJECT, SCONE_APP_CMCD_STATUS,
    SCONE_APP_CMCD_SESSION};
/* Their header names as HTTP/3 carries them. */
static const char *const shard_fields[4] = {"cmcd-request", "cmcd-object",
                                            "cmcd-status", "cmcd-session"};
/* Above this an rtp is no request for pacing (and would overflow bit/s). */
#define PACE_MAX_KBPS 1000000000ULL

static int name_is(const uint8_t *name, size_t len, const char *want) {
  return len == strlen(want) && memcmp(name, want, len) == 0;
}

/* A repeated field is one field with the values joined by commas (RFC
 * 9110 5.3). */
static void put(char *dst, size_t cap, const uint8_t *v, size_t len,
                int *too_long) {
  size_t have = strlen(dst);
  size_t sep = have > 0 ? 1 : 0;
  if (have + sep + len >= cap) {
    *too_long = 1;
    return;
  }
  if (sep)
    dst[have++] = ',';
  memcpy(dst + have, v, len);
  dst[have + len] = '\0';
}

void sq_request_in_field(sq_request_in *in, const uint8_t *name, size_t namelen,
                         const uint8_t *value, size_t valuelen) {
  if (name_is(name, namelen, ":method")) {
    in->method[0] = '\0';
    put(in->method, sizeof(in->method), value, valuelen, &in->too_long);
  } else if (name_is(name, namelen, ":path")) {
    in->target[0] = '\0';
    put(in->target, sizeof(in->target), value, valuelen, &in->too_long);
  } else if (name_is(name, namelen, "range")) {
    put(in->range, sizeof(in->range), value, valuelen, &in->too_long);
  } else {
    for (size_t i = 0; i < 4; i++)
      if (name_is(name, namelen, shard_fields[i]))
        put(in->cmcd[i], sizeof(in->cmcd[i]), value, valuelen, &in->too_long);
  }
}

static void field(sq_response_out *o, const char *name, const char *value) {
  if (o->nnv < SQ_RESP_FIELDS)
    o->nva[o->nnv++] = sq_h3_nv(name, value);
}

static void read_cmcd(const sq_request_in *in, sq_response_out *out) {
  int keys =
      scone_app_cmcd_decode_query(&out->cmcd, in->target, strlen(in->target));
  int bad = keys < 0;
  keys = keys < 0 ? 0 : keys;
  for (size_t i = 0; i < 4; i++) {
    if (in->cmcd[i][0] == '\0')
      continue;
    int k = scone_app_cmcd_decode(&out->cmcd, shards[i], in->cmcd[i],
                                  strlen(in->cmcd[i]));
    if (k < 0)
      bad = 1;
    else
      keys += k;
  }
  out->cmcd_keys = bad ? -1 : keys;
}

static int is_manifest(const char *type) {
  return strcmp(type, "application/dash+xml") == 0;
}

static void cmsd(const sq_respond_opts *opts, sq_response_out *out) {
  const scone_app_cmcd_data *c = &out->cmcd;
  scone_app_cmsd_static st;
  memset(&st, 0, sizeof(st));
  if (c->present & SCONE_APP_CMCD_OT) {
    st.present |= SCONE_APP_CMSD_OT;
    st.ot = c->ot;
  } else if (is_manifest(out->type)) {
    st.present |= SCONE_APP_CMSD_OT;
    st.ot = SCONE_APP_OT_M;
  }
  if (c->present & SCONE_APP_CMCD_SF) {
    st.present |= SCONE_APP_CMSD_SF;
    st.sf = c->sf;
  } else if (is_manifest(out->type)) {
    st.present |= SCONE_APP_CMSD_SF;
    st.sf = SCONE_APP_SF_D;
  }
  if (c->present & SCONE_APP_CMCD_ST) {
    st.present |= SCONE_APP_CMSD_ST;
    st.st = c->st;
  }
  if (c->present & SCONE_APP_CMCD_BR) {
    st.present |= SCONE_APP_CMSD_BR;
    st.br_kbps = c->br_kbps;
  }
  if (c->present & SCONE_APP_CMCD_D) {
    st.present |= SCONE_APP_CMSD_D;
    st.d_ms = c->d_ms;
  }
  if (st.present && scone_app_cmsd_static_encode(
                        out->cmsd_static, sizeof(out->cmsd_static), &st) > 0)
    field(out, "cmsd-static", out->cmsd_static);

  scone_app_cmsd_dynamic d;
  memset(&d, 0, sizeof(d));
  if (c->present & SCONE_APP_CMCD_RTP) {
    d.has_mb = 1;
    d.mb_kbps = c->rtp_kbps;
  }
  d.has_rtt = opts->has_rtt;
  d.rtt_ms = opts->rtt_ms;
  if ((d.has_mb || d.has_rtt) &&
      scone_app_cmsd_dynamic_render(
          out->cmsd_dynamic, sizeof(out->cmsd_dynamic), SERVER_ID, &d) > 0)
    field(out, "cmsd-dynamic", out->cmsd_dynamic);
}

static void cors(sq_response_out *out) {
  field(out, "access-control-allow-origin", "*");
  field(out, "access-control-expose-headers", EXPOSE_HEADERS);
}

/* An answer without a body: status and the fields every response has. */
static void bare(sq_response_out *out, int status) {
  out->status = status;
  snprintf(out->code, sizeof(out->code), "%d", status);
  field(out, ":status", out->code);
  field(out, "server", SERVER_ID);
}

void sq_respond(const sq_request_in *in, const sq_respond_opts *opts,
                sq_response_out *out) {
  memset(out, 0, sizeof(*out));
  out->type = "application/octet-stream";
  if (strcmp(in->method, "OPTIONS") == 0) {
    bare(out, 204);
    field(out, "access-control-allow-origin", "*");
    field(out, "access-control-allow-methods", ALLOW_METHODS);
    field(out, "access-control-allow-headers", ALLOW_HEADERS);
    field(out, "access-control-max-age", PREFLIGHT_MAX_AGE);
    field(out, "allow", ALLOW_METHODS);
    return;
  }
  int head = strcmp(in->method, "HEAD") == 0;
  if (!head && strcmp(in->method, "GET") != 0) {
    bare(out, 405);
    field(out, "allow", ALLOW_METHODS);
    field(out, "content-length", "0");
    cors(out);
    return;
  }
  read_cmcd(in, out);
  int status = in->too_long ? 431
                            : sq_content_open(&out->body, opts->rootfd,
                                              in->target, &out->type);
  uint64_t first = 0, last = 0;
  int r = status == 200 && in->range[0] != '\0'
              ? sq_content_range(in->range, out->body.size, &first, &last)
              : 0;
  if (r > 0) {
    status = 206;
    out->body.offset = first;
    out->body.end = last + 1;
    snprintf(out->crange, sizeof(out->crange), "bytes %llu-%llu/%llu",
             (unsigned long long)first, (unsigned long long)last,
             (unsigned long long)out->body.size);
  } else if (r < 0) {
    status = 416;
    snprintf(out->crange, sizeof(out->crange), "bytes */%llu",
             (unsigned long long)out->body.size);
    sq_content_close(&out->body);
  }
  int ok = status == 200 || status == 206;
  uint64_t len = ok ? out->body.end - out->body.offset : 0;
  bare(out, status);
  if (ok)
    field(out, "content-type", out->type);
  snprintf(out->length, sizeof(out->length), "%llu", (unsigned long long)len);
  field(out, "content-length", out->length);
  if (ok || status == 416)
    field(out, "accept-ranges", "bytes");
  if (out->crange[0] != '\0')
    field(out, "content-range", out->crange);
  if (ok && opts->cmsd)
    cmsd(opts, out);
  cors(out);
  out->send_body = ok && !head && len > 0;
  if (out->send_body && opts->pace &&
      (out->cmcd.present & SCONE_APP_CMCD_RTP) && out->cmcd.rtp_kbps > 0 &&
      out->cmcd.rtp_kbps <= PACE_MAX_KBPS)
    out->pace_bps = out->cmcd.rtp_kbps * 1000;
  if (!ok)
    sq_content_close(&out->body);
}
