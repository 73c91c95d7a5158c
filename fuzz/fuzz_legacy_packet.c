/*
 * The legacy element's packet path (legacy/: nDPI, then the engine's
 * policer or shaper for video flows), fed a sequence of IP packets. The
 * element is made once per process and reset before each input.
 *
 * Input: records of [ctl][len hi][len lo][len bytes of IP packet]; ctl
 * moves the clock by ctl * 10 ms. What must hold: every verdict is one of
 * the three, a packet the element does not take for a flow's passes
 * untouched, a datagram led by a SCONE packet passes untouched, only a
 * flow decided video is ever dropped, delayed or rewritten, and a TCP
 * packet (enforced by the engine's TCP entry) never is rewritten.
 */
#include "fuzz.h"

#include "legacy.h"

#include <scone/scone.h>
#include <string.h>

static const char cfg[] = "[plan pol]\n"
                          "downlink = 600k\n"
                          "action = police\n"
                          "burst = 3k\n"
                          "[plan shp]\n"
                          "downlink = 800k\n"
                          "action = shape\n"
                          "max_delay = 100ms\n"
                          "burst = 3k\n"
                          "[subscribers]\n"
                          "subscriber = 10.0.0.0/9 pol opt-in\n"
                          "subscriber = 10.128.0.0/9 shp opt-in\n"
                          "subscriber = 2001:db8::/32 pol opt-in\n"
                          "[dpi]\n"
                          "sni = cdn.video.example\n"
                          "sni = .googlevideo.com\n"
                          "max_packets = 4\n";

static sconed_engine *e;
static legacy_dpi *l;

static void setup(void) {
  sconed_engine_settings s;
  sconed_engine_settings_default(&s);
  s.seed_source = SCONED_SEED_FIXED;
  s.seed = 7;
  s.max_flows = 16;
  s.max_subscribers = 8;
  e = sconed_engine_new(&s);
  legacy_dpi_settings ls;
  legacy_dpi_settings_default(&ls);
  ls.max_flows = 16; /* small: slots are reused */
  ls.seed = 5;
  l = e ? legacy_dpi_new(&ls, e) : NULL;
  char err[256];
  sconed_config *c = sconed_config_parse(cfg, "fuzz.ini", err, sizeof(err));
  if (!l || !c || legacy_dpi_set_config(l, c))
    abort();
}

/* The UDP payload of a whole IPv4/IPv6 UDP packet (no extension headers,
 * no fragment), or NULL. */
static const uint8_t *udp_payload(const uint8_t *p, size_t n, size_t *len) {
  scone_ipudp pi;
  if (scone_ipudp_parse(&pi, p, n) != 0 || pi.is_fragment)
    return NULL;
  *len = pi.payload_len;
  return p + pi.payload_off;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!l)
    setup();
  else {
    legacy_dpi_reset(l);
    sconed_engine_reset(e);
  }
  scone_tstamp now = (scone_tstamp)1000 * SCONE_SECONDS;
  size_t at = 0;
  while (at + 3 <= size) {
    unsigned ctl = data[at];
    size_t len = (size_t)data[at + 1] << 8 | data[at + 2];
    at += 3;
    if (len > size - at)
      len = size - at;
    now += (scone_tstamp)ctl * 10 * SCONE_MILLISECONDS;
    uint8_t *pkt = fuzz_dup(data + at, len, 0);
    sconed_verdict v;
    legacy_dpi_process_ip(l, pkt, len, now, &v);
    FUZZ_CHECK(v.action == SCONED_PASS || v.action == SCONED_DROP ||
               v.action == SCONED_DELAY);
    int cls = legacy_dpi_flow_class(l, data + at, len, now);
    size_t plen = 0;
    const uint8_t *pl = udp_payload(data + at, len, &plen);
    int scone = pl && scone_packet_is_scone(pl, plen);
    int tcp =
        len >= 20 && (((data[at] >> 4) == 4 && data[at + 9] == 6) ||
                      ((data[at] >> 4) == 6 && len >= 40 && data[at + 6] == 6));
    if (tcp) {
      FUZZ_CHECK(!v.modified);
      FUZZ_CHECK(memcmp(pkt, data + at, len) == 0);
    }
    if (cls != 2 || scone) {
      FUZZ_CHECK(v.action == SCONED_PASS && !v.modified);
      FUZZ_CHECK(memcmp(pkt, data + at, len) == 0);
    }
    free(pkt);
    at += len;
  }
  legacy_dpi_stats st;
  legacy_dpi_stats_get(l, &st);
  FUZZ_CHECK(st.video_flows <= st.flows_total);
  FUZZ_CHECK(st.flows <= st.max_flows);
  return 0;
}
