/*
 * The sconed config parser on any text: a bad file is refused with
 * "FILE:LINE: reason" naming a line of the file; a good one is taken by an
 * engine, which then handles SCONE packets under it. The engine is made
 * once per process and takes each input's config as a reload, so a config
 * that a running engine refuses is found too.
 * Input: the file's text (up to the first NUL).
 */
#include "fuzz.h"

#include "engine.h"

#include <scone/scone.h>
#include <string.h>

/* A SCONE packet (signal 127) to the client 10.0.0.1, and an IPv6 one from
 * its client 2001:db8::1, after an announced first datagram each. */
static size_t packet(uint8_t *b, int v6, int first) {
  static const uint8_t c4[4] = {10, 0, 0, 1}, s4[4] = {192, 0, 2, 1};
  static const uint8_t c6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
  static const uint8_t s6[16] = {0x20, 0x01, 0x0d, 0xb9, [15] = 1};
  size_t iph = v6 ? 40 : 20, plen = 60, alen = v6 ? 16 : 4;
  const uint8_t *cli = v6 ? c6 : c4, *srv = v6 ? s6 : s4;
  const uint8_t *src = first ? cli : srv, *dst = first ? srv : cli;
  memset(b, 0, iph + 8 + plen);
  if (v6) {
    b[0] = 0x60;
    b[5] = (uint8_t)(8 + plen);
    b[6] = 17;
    b[7] = 64;
    memcpy(b + 8, src, 16);
    memcpy(b + 24, dst, 16);
  } else {
    b[0] = 0x45;
    b[3] = (uint8_t)(iph + 8 + plen);
    b[8] = 64;
    b[9] = 17;
    memcpy(b + 12, src, 4);
    memcpy(b + 16, dst, 4);
  }
  uint8_t *u = b + iph, *p = u + 8;
  u[0] = first ? 0xc0 : 0x01, u[1] = first ? 0x00 : 0xbb; /* 49152 / 443 */
  u[2] = first ? 0x01 : 0xc0, u[3] = first ? 0xbb : 0x00;
  u[5] = (uint8_t)(8 + plen);
  if (first) {
    p[0] = 0xc3; /* Initial, version 1, 8-byte DCID, ending in 0xc8 0x13 */
    p[4] = 1;
    p[5] = 8;
    p[plen - 2] = 0xc8;
    p[plen - 1] = 0x13;
  } else if (scone_packet_build(p, plen, SCONE_SIGNAL_UNKNOWN, NULL, 0, NULL, 0,
                                SCONE_BUILD_FLAG_NONE) < 0) {
    abort();
  }
  uint16_t ck = scone_udp_csum_compute(src, dst, alen, u, 8 + plen);
  u[6] = (uint8_t)(ck >> 8);
  u[7] = (uint8_t)ck;
  return iph + 8 + plen;
}

static void check_error(const char *err, size_t errlen, const char *text) {
  FUZZ_CHECK(memchr(err, 0, errlen) != NULL);
  FUZZ_CHECK(strncmp(err, "f.ini:", 6) == 0);
  char *end;
  unsigned long line = strtoul(err + 6, &end, 10);
  FUZZ_CHECK(end > err + 6 && end[0] == ':' && end[1] == ' ' && end[2]);
  size_t lines = 1;
  for (const char *t = text; *t; t++)
    lines += *t == '\n';
  FUZZ_CHECK(line >= 1 && line <= lines);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = (char *)fuzz_dup(data, size, 1);
  text[size] = 0;
  char err[512];
  memset(err, 'x', sizeof(err));
  sconed_config *c = sconed_config_parse(text, "f.ini", err, sizeof(err));
  if (!c) {
    check_error(err, sizeof(err), text);
    free(text);
    return 0;
  }
  /* One engine per process (a new one per input costs more than the
   * input): the config is taken as a reload, then the reset gives the
   * state of a new engine under it. */
  static sconed_engine *e;
  if (!e) {
    sconed_engine_settings s;
    sconed_engine_settings_default(&s);
    s.seed_source = SCONED_SEED_FIXED;
    s.max_flows = 8;
    s.max_subscribers = 4;
    e = sconed_engine_new(&s);
    FUZZ_CHECK(e != NULL);
  }
  FUZZ_CHECK(sconed_engine_set_config(e, c) == 0);
  sconed_engine_reset(e);
  scone_tstamp now = (scone_tstamp)1000 * SCONE_PERIOD;
  for (int v6 = 0; v6 < 2; v6++)
    for (int k = 0; k < 6; k++) {
      uint8_t b[128], orig[128];
      size_t n = packet(b, v6, k == 0);
      memcpy(orig, b, n);
      sconed_verdict v;
      sconed_engine_process_ip(e, b, n, now, &v);
      now += 10 * SCONE_MILLISECONDS;
      FUZZ_CHECK(v.action == SCONED_PASS || v.action == SCONED_DROP ||
                 v.action == SCONED_DELAY);
      /* A rewrite only ever lowers the signal. */
      size_t off = (v6 ? 40 : 20) + 8;
      if (v.modified)
        FUZZ_CHECK(scone_packet_signal(b + off) <
                   scone_packet_signal(orig + off));
      else
        FUZZ_CHECK(memcmp(b, orig, n) == 0);
    }
  free(text);
  return 0;
}
