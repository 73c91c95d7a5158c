/*
 * GTP-U through the sconed program offline: a capture of tunnelled QUIC
 * flows (both outer and both inner families, sequence numbers, PDU
 * session containers, a zero outer checksum, a TEID that changes) and of
 * messages that must pass (echo, end marker, a broken header, inner TCP)
 * goes through --pcap-in/--pcap-out; every output packet is checked
 * against its input: the inner signal where advice is due, both
 * checksums right, no other byte changed. The summary's GTP-U counters
 * say what was seen.
 */
#include "harness.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

enum { MAXP = 80 };

typedef struct rec {
  uint8_t b[1700];
  size_t len, inner_off, inner_len;
  int expect; /* inner signal the output must carry; -1: bytes unchanged */
} rec;

static rec tr[MAXP];
static int ntr;

static rec *add_gtpu(const pg_tunnel *t, const pg_flow *f, int up,
                     const uint8_t *p, size_t plen, int expect) {
  assert_true(ntr < MAXP);
  rec *r = &tr[ntr++];
  uint8_t inner[1500];
  r->inner_len = pg_ip(inner, sizeof(inner), f, up, p, plen, 1);
  r->len =
      pg_gtpu(r->b, sizeof(r->b), t, up, inner, r->inner_len, &r->inner_off);
  assert_true(r->len > 0);
  r->expect = expect;
  return r;
}

/* Advice 2 Mbit/s for 10/8 and 2001:db8::/48, the inner addresses. */
static const char cfg[] = "[plan p]\ndownlink = 2M\n[subscribers]\n"
                          "subscriber = 10.0.0.0/8 p opt-in\n"
                          "subscriber = 2001:db8::/48 p opt-in\n";

static int build(void) {
  const int T = (int)scone_rate_to_signal(2000000);
  uint8_t p[1200];
  int rewrites = 0;
  ntr = 0;
  for (int ov6 = 0; ov6 < 2; ov6++)
    for (int iv6 = 0; iv6 < 2; iv6++) {
      pg_tunnel up, down;
      pg_tunnel_make(&up, ov6, 0x100 + (uint32_t)(ov6 * 2 + iv6));
      pg_tunnel_make(&down, ov6, 0x200 + (uint32_t)(ov6 * 2 + iv6));
      up.seq = iv6 ? 1 : -1;
      down.qfi = ov6 ? 9 : -1;
      down.seq = ov6 && iv6 ? 5 : -1;
      down.csum = !(ov6 == 0 && iv6 == 1); /* one zero outer checksum */
      pg_flow f;
      pg_flow_make(&f, iv6, (uint32_t)(1 + ov6 * 2 + iv6), 50000);
      pg_initial(p, 1200, 1);
      add_gtpu(&up, &f, 1, p, 1200, -1);
      /* Four initial rewrites, then the slot's budget is spent; the
       * TEID moves before the last, which stays the same flow's. */
      for (int i = 0; i < 6; i++) {
        if (i == 5)
          down.teid += 0x1000;
        pg_scone(p, 900, SCONE_SIGNAL_UNKNOWN);
        int exp = i < 4 ? T : -1;
        rewrites += i < 4;
        add_gtpu(&down, &f, 0, p, 900, exp);
      }
      pg_short(p, 400);
      add_gtpu(&up, &f, 1, p, 400, -1);
    }
  /* What passes untouched. */
  pg_tunnel t;
  pg_tunnel_make(&t, 0, 0);
  t.seq = 3;
  static const uint8_t recovery[2] = {14, 0};
  rec *r = &tr[ntr++];
  r->len = pg_gtpu_msg(r->b, sizeof(r->b), &t, 1, 1, recovery, 2, NULL);
  r->expect = -1;
  r = &tr[ntr++];
  r->len = pg_gtpu_msg(r->b, sizeof(r->b), &t, 0, 254, NULL, 0, NULL);
  r->expect = -1;
  t.seq = -1;
  pg_flow f;
  pg_flow_make(&f, 0, 1, 50000);
  pg_scone(p, 300, SCONE_SIGNAL_UNKNOWN);
  r = add_gtpu(&t, &f, 0, p, 300, -1);
  r->b[r->inner_off - 8] = 0x50; /* GTP version 2: not GTP-U */
  r = add_gtpu(&t, &f, 0, p, 300, -1);
  r->b[r->inner_off + 9] = 6; /* inner TCP */
  return rewrites;
}

static void write_pcap(const char *path, int dlt) {
  pcap_t *d = pcap_open_dead(dlt, 65535);
  pcap_dumper_t *w = pcap_dump_open(d, path);
  assert_non_null(w);
  for (int i = 0; i < ntr; i++) {
    uint8_t frame[1800];
    size_t l2 = 0;
    if (dlt == DLT_EN10MB) {
      memset(frame, 2, 12);
      frame[12] = (tr[i].b[0] >> 4) == 6 ? 0x86 : 0x08;
      frame[13] = (tr[i].b[0] >> 4) == 6 ? 0xdd : 0x00;
      l2 = 14;
    }
    memcpy(frame + l2, tr[i].b, tr[i].len);
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof(h));
    h.ts.tv_sec = 1700000000;
    h.ts.tv_usec = 1000 * i;
    h.caplen = h.len = (bpf_u_int32)(l2 + tr[i].len);
    pcap_dump((u_char *)w, &h, frame);
  }
  pcap_dump_close(w);
  pcap_close(d);
}

static void check_output(const char *path, int dlt) {
  char ebuf[PCAP_ERRBUF_SIZE];
  pcap_t *rd = pcap_open_offline(path, ebuf);
  assert_non_null(rd);
  struct pcap_pkthdr *h;
  const u_char *data;
  int i = 0;
  while (pcap_next_ex(rd, &h, &data) == 1) {
    assert_true(i < ntr);
    const rec *r = &tr[i++];
    size_t l2 = dlt == DLT_EN10MB ? 14 : 0;
    const uint8_t *ip = data + l2;
    assert_int_equal(h->caplen - l2, r->len);
    if (r->expect < 0) {
      if (memcmp(ip, r->b, r->len))
        fail_msg("packet %d changed", i - 1);
      continue;
    }
    size_t oh = (ip[0] >> 4) == 6 ? 40 : 20;
    size_t ih = (r->b[r->inner_off] >> 4) == 6 ? 40 : 20;
    size_t io = r->inner_off;
    for (size_t b = 0; b < r->len; b++)
      if (b != oh + 6 && b != oh + 7 && b != io + ih + 6 && b != io + ih + 7 &&
          b != io + ih + 8 && b != io + ih + 9 && ip[b] != r->b[b])
        fail_msg("packet %d byte %zu changed", i - 1, b);
    assert_int_equal(pg_signal(ip + io, r->inner_len), r->expect);
    assert_true(pg_csum_ok(ip + io, r->inner_len));
    if (!r->b[oh + 6] && !r->b[oh + 7])
      assert_true(!ip[oh + 6] && !ip[oh + 7]); /* zero stays zero */
    else
      assert_true(pg_csum_ok(ip, r->len));
  }
  assert_int_equal(i, ntr);
  pcap_close(rd);
}

static long json_num(const char *json, const char *obj, const char *key) {
  const char *o = strstr(json, obj);
  assert_non_null(o);
  char k[64];
  snprintf(k, sizeof(k), "\"%s\": ", key);
  const char *p = strstr(o, k);
  assert_non_null(p);
  return strtol(p + strlen(k), NULL, 10);
}

static void gtpu_offline(void **state) {
  (void)state;
  int rewrites = build();
  char dir[] = "/tmp/sconed-gtpu-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char ini[128];
  snprintf(ini, sizeof(ini), "%s/sconed.ini", dir);
  FILE *f = fopen(ini, "w");
  assert_non_null(f);
  fputs(cfg, f);
  fclose(f);
  static const int dlts[] = {DLT_RAW, DLT_EN10MB};
  for (size_t k = 0; k < 2; k++) {
    char in[128], out[128], sum[128], cmd[1024];
    snprintf(in, sizeof(in), "%s/in%zu.pcap", dir, k);
    snprintf(out, sizeof(out), "%s/out%zu.pcap", dir, k);
    snprintf(sum, sizeof(sum), "%s/sum%zu.json", dir, k);
    write_pcap(in, dlts[k]);
    snprintf(cmd, sizeof(cmd),
             "%s --config %s --pcap-in %s --pcap-out %s --json --quiet > %s "
             "2>&1",
             SCONED_BIN, ini, in, out, sum);
    assert_int_equal(system(cmd), 0);
    check_output(out, dlts[k]);
    FILE *j = fopen(sum, "r");
    assert_non_null(j);
    static char js[65536];
    js[fread(js, 1, sizeof(js) - 1, j)] = '\0';
    fclose(j);
    assert_int_equal(json_num(js, "\"pcap\"", "modified"), rewrites);
    assert_int_equal(json_num(js, "\"gtpu\"", "packets"), 4 * 8);
    assert_int_equal(json_num(js, "\"gtpu\"", "echo"), 1);
    assert_int_equal(json_num(js, "\"gtpu\"", "other_types"), 1);
    assert_int_equal(json_num(js, "\"gtpu\"", "malformed"), 1);
    assert_int_equal(json_num(js, "\"gtpu\"", "not_udp"), 1);
    /* One flow per tunnelled session, the TEID move included. */
    assert_int_equal(json_num(js, "\"engine\"", "flows"), 4);
    assert_int_equal(json_num(js, "\"engine\"", "no_subscriber"), 0);
    unlink(in);
    unlink(out);
    unlink(sum);
  }
  unlink(ini);
  rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(gtpu_offline),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
