/*
 * The content server's answer to any request (quic/respond.c: the request
 * target's path decoding, Range, CMCD in headers and the query, CMSD out),
 * without a root so that no file is touched: the answer is one of the
 * statuses the server gives; a 2xx's range lies within the object and its
 * Content-Length and Content-Range agree with it; a target naming ".." is
 * never served; every field sent is printable ASCII (nothing from the
 * request reaches a response header unchecked); an rtp is paced only when
 * asked and at its rate. The Range parser is also run alone against a
 * size from the input.
 * Input: newline-separated method, target, Range, then the CMCD-Request,
 * -Object, -Status and -Session values.
 */
#include "fuzz.h"

#include "quic/respond.h"

#include <string.h>

static const char *const names[] = {
    ":method",     ":path",       "range",        "cmcd-request",
    "cmcd-object", "cmcd-status", "cmcd-session",
};

static int printable(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] < 0x20 || p[i] > 0x7e)
      return 0;
  return 1;
}

static int names_dotdot(const char *target) {
  char path[SQ_PATH_MAX + 1];
  return sq_content_decode_path(target, path, sizeof(path)) == 400;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static sq_request_in in;
  static sq_response_out out;
  memset(&in, 0, sizeof(in));
  size_t f = 0, start = 0;
  for (size_t i = 0; i <= size && f < sizeof(names) / sizeof(names[0]); i++) {
    if (i < size && data[i] != '\n')
      continue;
    sq_request_in_field(&in, (const uint8_t *)names[f], strlen(names[f]),
                        data + start, i - start);
    f++;
    start = i + 1;
  }
  sq_respond_opts opts = {.rootfd = -1, .cmsd = 1, .pace = 1};
  sq_respond(&in, &opts, &out);
  static const int statuses[] = {200, 204, 206, 400, 404, 405, 414, 416, 431};
  int known = 0;
  for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
    known |= out.status == statuses[i];
  FUZZ_CHECK(known);
  FUZZ_CHECK(out.nnv > 0 && out.nnv <= SQ_RESP_FIELDS);
  for (size_t i = 0; i < out.nnv; i++)
    FUZZ_CHECK(printable(out.nva[i].value, out.nva[i].valuelen) &&
               printable(out.nva[i].name, out.nva[i].namelen));
  int ok = out.status == 200 || out.status == 206;
  if (ok) {
    FUZZ_CHECK(!names_dotdot(in.target));
    FUZZ_CHECK(out.body.offset <= out.body.end &&
               out.body.end <= out.body.size);
    char want[24];
    snprintf(want, sizeof(want), "%llu",
             (unsigned long long)(out.body.end - out.body.offset));
    FUZZ_CHECK(strcmp(out.length, want) == 0);
    FUZZ_CHECK((out.status == 206) == (out.crange[0] != '\0'));
  }
  FUZZ_CHECK(out.send_body == (ok && strcmp(in.method, "GET") == 0 &&
                               out.body.end > out.body.offset));
  if (out.pace_bps != 0)
    FUZZ_CHECK(out.send_body && (out.cmcd.present & SCONE_APP_CMCD_RTP) &&
               out.pace_bps == out.cmcd.rtp_kbps * 1000);
  sq_content_close(&out.body);

  /* The Range value alone, against the first 8 bytes as the size. */
  uint64_t sz = 0;
  for (size_t i = 0; i < 8 && i < size; i++)
    sz = sz << 8 | data[i];
  uint64_t a = 0, b = 0;
  int r = sq_content_range(in.range, sz, &a, &b);
  FUZZ_CHECK(r >= -1 && r <= 1);
  if (r == 1)
    FUZZ_CHECK(a <= b && b < sz);
  if (r == -1)
    FUZZ_CHECK(sz == 0 || strchr(in.range, '-') != NULL);
  return 0;
}
