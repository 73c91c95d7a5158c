/*
 * sconed --legacy-dpi on the offline pcap path: a capture of two flows
 * opening with the client's real Initials, one with a video CDN's name,
 * one with another, each followed by a second of server datagrams at
 * 9.6 Mbit/s. Through a 1.5 Mbit/s policed plan only the video flow loses
 * packets, and the summary (text and JSON) carries the DPI counters.
 */
#include "initials.h"
#include "tls_tcp.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CLIENT 0x0a000001U
#define SERVER 0xc0000201U

static char dir[] = "/tmp/legacy-sconed-XXXXXX";
static char in[300], out[300], ini[300], in_tcp[300];

static void put(pcap_dumper_t *d, const uint8_t *p, size_t n, long usec) {
  struct pcap_pkthdr h = {
      {1000 + usec / 1000000, usec % 1000000}, (bpf_u_int32)n, (bpf_u_int32)n};
  pcap_dump((u_char *)d, &h, p);
}

static void flow(pcap_dumper_t *d, const char *sni, uint16_t cport, long t0) {
  uint8_t dg[INITIALS_MAX], pkt[1600], pl[1200];
  int n = initials_capture(sni, dg, sizeof(dg));
  assert_true(n >= 1200);
  put(d, pkt, initials_ip4(pkt, CLIENT, cport, SERVER, 443, dg, (size_t)n), t0);
  memset(pl, 0x5a, sizeof(pl));
  pl[0] = 0x41;
  for (int i = 1; i <= 1000; i++)
    put(d, pkt, initials_ip4(pkt, SERVER, 443, CLIENT, cport, pl, sizeof(pl)),
        t0 + i * 1000);
}

/* The same over TCP: handshake, GnuTLS's ClientHello, a second of server
 * segments at 9.6 Mbit/s. */
static void tcp_flow(pcap_dumper_t *d, const char *sni, uint16_t cport,
                     long t0) {
  uint8_t ch[TLS_TCP_HELLO_MAX], pkt[TLS_TCP_HELLO_MAX + 64], pl[1200];
  int n = tls_client_hello(sni, ch, sizeof(ch));
  assert_true(n > 100);
  tcp_conn c;
  tcp_conn_init(&c, CLIENT, SERVER, cport);
  for (int step = 0; step < 3; step++)
    put(d, pkt, tcp_conn_syn(&c, step, pkt), t0);
  put(d, pkt, tcp_conn_data(&c, 1, ch, (size_t)n, pkt), t0);
  memset(pl, 0x17, sizeof(pl));
  for (int i = 1; i <= 1000; i++)
    put(d, pkt, tcp_conn_data(&c, 0, pl, sizeof(pl), pkt), t0 + i * 1000);
}

static int setup(void **state) {
  (void)state;
  assert_non_null(mkdtemp(dir));
  snprintf(in, sizeof(in), "%s/in.pcap", dir);
  snprintf(out, sizeof(out), "%s/out.pcap", dir);
  snprintf(ini, sizeof(ini), "%s/dpi.ini", dir);
  snprintf(in_tcp, sizeof(in_tcp), "%s/in-tcp.pcap", dir);
  pcap_t *p = pcap_open_dead(DLT_RAW, 65535);
  pcap_dumper_t *d = pcap_dump_open(p, in);
  assert_non_null(d);
  flow(d, "rr3---sn-4g5e6nsz.googlevideo.com", 5001, 0);
  flow(d, "www.example.org", 5002, 2000000);
  pcap_dump_close(d);
  d = pcap_dump_open(p, in_tcp);
  assert_non_null(d);
  /* Ephemeral ports: nDPI 4.2 names a TCP flow on port 5001 Targus
   * Dataspeed (a speed test) from its SYN alone, before any ClientHello,
   * and it is never video. */
  tcp_flow(d, "rr3---sn-4g5e6nsz.googlevideo.com", 45001, 0);
  tcp_flow(d, "www.example.org", 45002, 2000000);
  pcap_dump_close(d);
  pcap_close(p);
  FILE *f = fopen(ini, "w");
  assert_non_null(f);
  fputs("[plan video]\ndownlink = 1.5M\naction = police\n"
        "[subscribers]\nsubscriber = 10.0.0.0/8 video opt-in\n"
        "[dpi]\nsni = cdn.video.example\n",
        f);
  fclose(f);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  unlink(in);
  unlink(in_tcp);
  unlink(out);
  unlink(ini);
  rmdir(dir);
  return 0;
}

/* Runs sconed on input with extra args; its stdout. */
static char *run_on(const char *input, const char *extra) {
  char cmd[1200];
  snprintf(cmd, sizeof(cmd),
           "%s --legacy-dpi --config %s --pcap-in %s --pcap-out %s %s",
           SCONED_BIN, ini, input, out, extra);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  static char buf[16384];
  size_t n = fread(buf, 1, sizeof(buf) - 1, p);
  buf[n] = 0;
  assert_int_equal(pclose(p), 0);
  return buf;
}

static char *run(const char *extra) {
  return run_on(in, extra);
}

/* The server's data records (and their bytes) per flow port in the
 * output capture. */
static void count_out_bytes(unsigned vport, unsigned *video, unsigned *other,
                            unsigned long *vbytes) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t *p = pcap_open_offline(out, err);
  assert_non_null(p);
  struct pcap_pkthdr *h;
  const u_char *d;
  *video = *other = 0;
  *vbytes = 0;
  while (pcap_next_ex(p, &h, &d) == 1) {
    unsigned port = (unsigned)(d[22] << 8 | d[23]);
    if (h->len < 1000) /* the server's data only (no SYN-ACK) */
      continue;
    *video += port == vport;
    *other += port == vport + 1;
    if (port == vport)
      *vbytes += h->len;
  }
  pcap_close(p);
}

static void count_out(unsigned *video, unsigned *other) {
  unsigned long b;
  count_out_bytes(5001, video, other, &b);
}

static void test_offline_text(void **state) {
  (void)state;
  char *o = run("");
  assert_non_null(strstr(o, "2 flows: 2 classified, 1 video (0 by sni), "
                            "0 given up"));
  unsigned video, other;
  count_out(&video, &other);
  print_message("passed: video flow %u of 1000, other %u of 1000\n", video,
                other);
  assert_int_equal(other, 1000);
  /* 1.5 Mbit/s for a second (152 datagrams of 1228 bytes) plus the
   * plan's 125 kB burst (101): about 253 of 1000. */
  assert_true(video > 200 && video < 300);
}

static void test_offline_json(void **state) {
  (void)state;
  char *o = run("--json");
  assert_non_null(strstr(o, "\"dpi\": {\"packets\": 2002"));
  assert_non_null(strstr(o, "\"video_flows\": 1,"));
  /* One JSON object: python's parser takes it whole. */
  char cmd[2000];
  snprintf(cmd, sizeof(cmd),
           "%s --legacy-dpi --config %s --pcap-in %s --pcap-out %s --json | "
           "python3 -c 'import json,sys; d=json.load(sys.stdin); "
           "sys.exit(d[\"dpi\"][\"video_flows\"] != 1)'",
           SCONED_BIN, ini, in, out);
  assert_int_equal(system(cmd), 0);
}

/* TLS over TCP: the video flow's segments policed at the plan's rate. */
static void test_offline_tcp(void **state) {
  (void)state;
  char *o = run_on(in_tcp, "");
  const char *dpi = strstr(o, "2 flows: ");
  assert_non_null(dpi);
  print_message("TCP: %.*s\n", (int)strcspn(dpi, "\n"), dpi);
  assert_non_null(strstr(dpi, "2 flows: 2 classified, 1 video (0 by sni)"));
  unsigned video, other;
  unsigned long vbytes;
  count_out_bytes(45001, &video, &other, &vbytes);
  print_message("TCP: passed video %u of 1000 (%lu bytes), other %u of "
                "1000\n",
                video, vbytes, other);
  assert_int_equal(other, 1000);
  /* 1 s at 1.5 Mbit/s plus the plan's default 125 kB bucket, in IP
   * bytes; at least the second's worth. */
  assert_true(vbytes <= 1500000 / 8 + 125000);
  assert_true(vbytes >= 1500000 / 8);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_offline_text),
      cmocka_unit_test(test_offline_json),
      cmocka_unit_test(test_offline_tcp),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
