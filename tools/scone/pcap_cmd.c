/* `scone decode --pcap`: the SCONE packets of a capture, one per line. */
#include "cli.h"
#include "decode_print.h"
#include "flows.h"
#include "fmt.h"

#include <scone/scone.h>

#include <arpa/inet.h>
#include <inttypes.h>
#include <jansson.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>

/* Each frame lands in exactly one of udp, non_udp, malformed, fragments. */
typedef struct frame_counts {
  uint64_t packets, udp, scone, c2s, s2c, non_udp, malformed, fragments;
} frame_counts;

typedef struct listing {
  int json, absolute;
  int64_t first_us; /* time of frame 1, which relative times count from */
  frame_counts st;
} listing;

/* One SCONE packet as seen on the wire. */
typedef struct sighting {
  uint64_t frame;
  int64_t time_us;
  const scone_ipudp *ip;
  int dir;
  const uint8_t *payload;
  const scone_packet *pkt; /* NULL when the capture cut the CIDs off */
} sighting;

static void format_time(int64_t us, char *buf, size_t len) {
  uint64_t mag = us < 0 ? (uint64_t)0 - (uint64_t)us : (uint64_t)us;
  snprintf(buf, len, "%s%" PRIu64 ".%06" PRIu64, us < 0 ? "-" : "",
           mag / 1000000U, mag % 1000000U);
}

static void format_endpoint(const scone_ipudp *v, int src, char *buf,
                            size_t len) {
  char addr[INET6_ADDRSTRLEN];
  const uint8_t *a = src ? v->src : v->dst;
  inet_ntop(v->ip_version == 6 ? AF_INET6 : AF_INET, a, addr, sizeof addr);
  snprintf(buf, len, v->ip_version == 6 ? "[%s]:%u" : "%s:%u", addr,
           (unsigned)(src ? v->sport : v->dport));
}

static void print_sighting_text(const sighting *s) {
  char t[32], from[INET6_ADDRSTRLEN + 10], to[INET6_ADDRSTRLEN + 10];
  char rate[FMT_RATE_LEN];
  unsigned signal = scone_packet_signal(s->payload);
  format_time(s->time_us, t, sizeof t);
  format_endpoint(s->ip, 1, from, sizeof from);
  format_endpoint(s->ip, 0, to, sizeof to);
  printf("%" PRIu64 " %s %s -> %s %s signal %u (%s)%s\n", s->frame, t, from, to,
         s->dir == FLOW_C2S ? "c2s" : "s2c", signal,
         signal_rate_text(signal, rate),
         s->pkt ? "" : " [CIDs cut off by the capture]");
}

static void print_sighting_json(const sighting *s, int first) {
  char t[32], addr[INET6_ADDRSTRLEN];
  int af = s->ip->ip_version == 6 ? AF_INET6 : AF_INET;
  format_time(s->time_us, t, sizeof t);
  json_t *o = json_object();
  json_object_set_new(o, "frame", json_integer((json_int_t)s->frame));
  json_object_set_new(o, "time", json_string(t));
  json_object_set_new(o, "time_us", json_integer(s->time_us));
  inet_ntop(af, s->ip->src, addr, sizeof addr);
  json_object_set_new(o, "src", json_string(addr));
  json_object_set_new(o, "sport", json_integer(s->ip->sport));
  inet_ntop(af, s->ip->dst, addr, sizeof addr);
  json_object_set_new(o, "dst", json_string(addr));
  json_object_set_new(o, "dport", json_integer(s->ip->dport));
  json_object_set_new(o, "direction",
                      json_string(s->dir == FLOW_C2S ? "c2s" : "s2c"));
  json_set_signal(o, scone_packet_signal(s->payload));
  json_object_set_new(o, "dcid",
                      s->pkt ? json_cid(s->pkt->dcid, s->pkt->dcidlen)
                             : json_null());
  json_object_set_new(o, "scid",
                      s->pkt ? json_cid(s->pkt->scid, s->pkt->scidlen)
                             : json_null());
  /* Streamed element by element so a long capture needs no big array. */
  fputs(first ? "\n    " : ",\n    ", stdout);
  json_dumpf(o, stdout, JSON_COMPACT);
  json_decref(o);
}

/* Returns 0, or -1 when out of memory. */
static int handle_frame(listing *l, flow_table *flows, int dlt,
                        const struct pcap_pkthdr *h, const uint8_t *frame) {
  frame_counts *st = &l->st;
  st->packets++;
  int64_t us = (int64_t)h->ts.tv_sec * 1000000 + (int64_t)h->ts.tv_usec;
  if (st->packets == 1)
    l->first_us = us;

  size_t ip_off;
  int lr = scone_link_ip_offset(dlt, frame, h->caplen, &ip_off);
  if (lr != 0) {
    if (lr == SCONE_ERR_NOT_IP)
      st->non_udp++;
    else
      st->malformed++;
    return 0;
  }
  scone_ipudp v;
  int r = scone_ipudp_parse(&v, frame + ip_off, h->caplen - ip_off);
  if (r == SCONE_ERR_FRAGMENT || (r == 0 && v.is_fragment)) {
    st->fragments++;
    return 0;
  }
  if (r == SCONE_ERR_NOT_UDP) {
    st->non_udp++;
    return 0;
  }
  /* scone_ipudp_parse bounds the payload by the captured bytes, so the view
   * can be read straight from the capture buffer. */
  if (r < 0) {
    st->malformed++;
    return 0;
  }
  int dir = flow_direction(flows, v.src, v.sport, v.dst, v.dport,
                           v.ip_version == 6 ? 16 : 4);
  if (dir < 0)
    return -1;

  const uint8_t *payload = frame + ip_off + v.payload_off;
  if (!scone_packet_is_scone(payload, v.payload_len)) {
    st->udp++;
    return 0;
  }
  scone_packet pkt;
  scone_ssize pr = scone_packet_parse(&pkt, payload, v.payload_len);
  /* A short snap length may cut the CIDs; the signal is still there. */
  if (pr < 0 && !(pr == SCONE_ERR_TRUNCATED && h->caplen < h->len)) {
    st->malformed++;
    return 0;
  }
  st->udp++;
  st->scone++;
  if (dir == FLOW_C2S)
    st->c2s++;
  else
    st->s2c++;
  sighting s = {.frame = st->packets,
                .time_us = l->absolute ? us : us - l->first_us,
                .ip = &v,
                .dir = dir,
                .payload = payload,
                .pkt = pr < 0 ? NULL : &pkt};
  if (l->json)
    print_sighting_json(&s, st->scone == 1);
  else
    print_sighting_text(&s);
  return 0;
}

static void print_summary(const listing *l) {
  const frame_counts *st = &l->st;
  if (!l->json) {
    printf("summary: packets %" PRIu64 ", UDP datagrams %" PRIu64
           ", SCONE packets %" PRIu64 " (c2s %" PRIu64 ", s2c %" PRIu64
           "); skipped: non-UDP %" PRIu64 ", malformed %" PRIu64
           ", fragments %" PRIu64 "\n",
           st->packets, st->udp, st->scone, st->c2s, st->s2c, st->non_udp,
           st->malformed, st->fragments);
    return;
  }
  json_t *o = json_pack(
      "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "packets",
      (json_int_t)st->packets, "udp_datagrams", (json_int_t)st->udp,
      "scone_packets", (json_int_t)st->scone, "c2s", (json_int_t)st->c2s, "s2c",
      (json_int_t)st->s2c, "non_udp", (json_int_t)st->non_udp, "malformed",
      (json_int_t)st->malformed, "fragments", (json_int_t)st->fragments);
  printf("%s],\n  \"summary\": ", st->scone ? "\n  " : "");
  json_dumpf(o, stdout, JSON_COMPACT);
  json_decref(o);
  printf("\n}\n");
}

int pcap_cmd(const char *path, int json, int absolute) {
  char errbuf[PCAP_ERRBUF_SIZE];
  pcap_t *p = pcap_open_offline(path, errbuf);
  if (!p) {
    cli_error("decode", "cannot read capture '%s': %s", path, errbuf);
    return CLI_EXIT_DATA;
  }
  int dlt = pcap_datalink(p);
  if (!scone_link_supported(dlt)) {
    const char *name = pcap_datalink_val_to_name(dlt);
    cli_error("decode", "%s: unsupported link type %s (%d)", path,
              name ? name : "unknown", dlt);
    pcap_close(p);
    return CLI_EXIT_DATA;
  }
  flow_table *flows = flow_table_new();
  if (!flows) {
    cli_error("decode", "out of memory");
    pcap_close(p);
    return CLI_EXIT_DATA;
  }

  listing l = {.json = json, .absolute = absolute};
  if (json)
    printf("{\n  \"scone_packets\": [");
  struct pcap_pkthdr *h;
  const u_char *frame;
  int r, rc = CLI_EXIT_OK;
  while ((r = pcap_next_ex(p, &h, &frame)) == 1) {
    if (handle_frame(&l, flows, dlt, h, frame)) {
      cli_error("decode", "out of memory");
      rc = CLI_EXIT_DATA;
      break;
    }
  }
  /* The listing so far stays valid (and JSON stays parseable) even when
   * the file turns out to be damaged part way. */
  print_summary(&l);
  if (r == PCAP_ERROR) {
    cli_error("decode", "%s: %s", path, pcap_geterr(p));
    rc = CLI_EXIT_DATA;
  }
  flow_table_free(flows);
  pcap_close(p);
  return rc;
}
