/*
 * Offline golden tests: captures written here go through the sconed
 * program (--pcap-in/--pcap-out) and every output packet is checked
 * against its input: the signal it should carry, a valid checksum, and no
 * other byte changed. Each supported link type gets the same traffic.
 */
#include "harness.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

enum { MAXP = 64 };

typedef struct rec {
  uint8_t ip[1600];
  size_t iplen;  /* whole IP packet */
  size_t caplen; /* of it, captured */
  scone_tstamp t;
  int expect; /* signal the output must carry; -1: bytes unchanged */
} rec;

typedef struct trace {
  rec r[MAXP];
  int n;
} trace;

static rec *add(trace *tr, const pg_flow *f, int to_server,
                const uint8_t *payload, size_t plen, int csum, double sec,
                int expect) {
  assert_true(tr->n < MAXP);
  rec *r = &tr->r[tr->n++];
  r->iplen = pg_ip(r->ip, sizeof(r->ip), f, to_server, payload, plen, csum);
  r->caplen = r->iplen;
  r->t = (scone_tstamp)(1700000000.0 * SCONE_SECONDS) + SEC(sec);
  r->expect = expect;
  return r;
}

static void build_trace(trace *tr) {
  memset(tr, 0, sizeof(*tr));
  const int T = (int)scone_rate_to_signal(SCONED_DEFAULT_ADVICE_BPS);
  uint8_t p[1400];
  double t = 0;
  for (int v6 = 0; v6 < 2; v6++) {
    pg_flow f;
    pg_flow_make(&f, v6, 1, 50000);
    pg_initial(p, 1200, 1);
    add(tr, &f, 1, p, 1200, 1, t += 0.001, -1);
    static const int sigs[] = {127, 100, 10, 127, 127, 127};
    int rewrites = 0;
    for (int i = 0; i < 6; i++) {
      pg_scone(p, 1000, (unsigned)sigs[i]);
      int exp = -1;
      if (sigs[i] > T && rewrites < 4) {
        exp = T;
        rewrites++;
      }
      add(tr, &f, 0, p, 1000, 1, t += 0.001, exp);
    }
    pg_short(p, 500);
    add(tr, &f, 1, p, 500, 1, t += 0.001, -1);
  }
  /* Not QUIC: datagrams that later start like SCONE packets (but do not
   * match the packet after them, as a QUIC flow's would) are left alone. */
  pg_flow g;
  pg_flow_make(&g, 0, 2, 50001);
  memset(p, 0x17, 100);
  add(tr, &g, 1, p, 100, 1, t += 0.001, -1);
  for (int i = 0; i < 3; i++) {
    pg_scone_lookalike(p, 300);
    add(tr, &g, 0, p, 300, 1, t += 0.001, -1);
  }
  /* IPv4 without a UDP checksum: rewritten, the zero stays. */
  pg_flow h;
  pg_flow_make(&h, 0, 3, 50002);
  pg_initial(p, 1200, 1);
  add(tr, &h, 1, p, 1200, 0, t += 0.001, -1);
  pg_scone(p, 800, 127);
  add(tr, &h, 0, p, 800, 0, t += 0.001, T);
  /* Captured short of its end (snaplen): the SCONE header is there, so it
   * is rewritten, and the checksum is fixed incrementally. */
  pg_scone(p, 1300, 127);
  rec *r = add(tr, &h, 0, p, 1300, 1, t += 0.001, T);
  r->caplen = 96;
  /* Truncated inside the UDP header: passed as it is. */
  r = add(tr, &h, 0, p, 1300, 1, t += 0.001, -1);
  r->caplen = 24;
}

static size_t l2_header(int dlt, int v6, uint8_t *out) {
  unsigned et = v6 ? 0x86dd : 0x0800;
  switch (dlt) {
  case DLT_EN10MB: {
    static const uint8_t mac[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
    memcpy(out, mac, 12);
    out[12] = 0x81; /* one 802.1Q tag */
    out[13] = 0x00;
    out[14] = 0x00;
    out[15] = 0x2a;
    out[16] = (uint8_t)(et >> 8);
    out[17] = (uint8_t)et;
    return 18;
  }
  case DLT_LINUX_SLL:
    memset(out, 0, 16);
    out[3] = 1;
    out[5] = 6;
    out[14] = (uint8_t)(et >> 8);
    out[15] = (uint8_t)et;
    return 16;
  case DLT_LINUX_SLL2:
    memset(out, 0, 20);
    out[0] = (uint8_t)(et >> 8);
    out[1] = (uint8_t)et;
    out[9] = 1;
    out[11] = 6;
    return 20;
  default:
    return 0;
  }
}

static void write_pcap(const char *path, int dlt, const trace *tr,
                       int with_arp) {
  pcap_t *d = pcap_open_dead_with_tstamp_precision(dlt, 65535,
                                                   PCAP_TSTAMP_PRECISION_NANO);
  pcap_dumper_t *w = pcap_dump_open(d, path);
  assert_non_null(w);
  for (int i = 0; i < tr->n; i++) {
    const rec *r = &tr->r[i];
    uint8_t frame[1700];
    size_t l2 = l2_header(dlt, (r->ip[0] >> 4) == 6, frame);
    memcpy(frame + l2, r->ip, r->caplen);
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof(h));
    h.ts.tv_sec = (time_t)(r->t / SCONE_SECONDS);
    h.ts.tv_usec = (suseconds_t)(r->t % SCONE_SECONDS);
    h.caplen = (bpf_u_int32)(l2 + r->caplen);
    h.len = (bpf_u_int32)(l2 + r->iplen);
    pcap_dump((u_char *)w, &h, frame);
    if (with_arp && i == 3) {
      uint8_t arp[42] = {0};
      memset(arp, 0xff, 6);
      arp[12] = 0x08;
      arp[13] = 0x06;
      h.caplen = h.len = sizeof(arp);
      pcap_dump((u_char *)w, &h, arp);
    }
  }
  pcap_dump_close(w);
  pcap_close(d);
}

static int run_sconed(const char *args, const char *out_file) {
  char cmd[1024];
  snprintf(cmd, sizeof(cmd), "%s %s --quiet > %s 2>&1", SCONED_BIN, args,
           out_file);
  int rc = system(cmd);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  static char buf[65536];
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

static long json_num(const char *json, const char *key) {
  char k[64];
  snprintf(k, sizeof(k), "\"%s\": ", key);
  const char *p = strstr(json, k);
  assert_non_null(p);
  return strtol(p + strlen(k), NULL, 10);
}

static void check_output(const char *path, int dlt, const trace *tr,
                         int with_arp) {
  char ebuf[PCAP_ERRBUF_SIZE];
  pcap_t *rd = pcap_open_offline_with_tstamp_precision(
      path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
  assert_non_null(rd);
  assert_int_equal(pcap_datalink(rd), dlt);
  struct pcap_pkthdr *h;
  const u_char *data;
  int i = 0, seen_arp = 0;
  while (pcap_next_ex(rd, &h, &data) == 1) {
    size_t off;
    if (scone_link_ip_offset(dlt, data, h->caplen, &off) != 0) {
      assert_true(with_arp);
      seen_arp++;
      continue;
    }
    assert_true(i < tr->n);
    const rec *r = &tr->r[i++];
    scone_tstamp t =
        (scone_tstamp)h->ts.tv_sec * SCONE_SECONDS + (uint64_t)h->ts.tv_usec;
    assert_int_equal(t, r->t);
    assert_int_equal(h->caplen - off, r->caplen);
    assert_int_equal(h->len - off, r->iplen);
    const uint8_t *ip = data + off;
    uint8_t l2want[32];
    size_t l2 = l2_header(dlt, (r->ip[0] >> 4) == 6, l2want);
    assert_memory_equal(data, l2want, l2);
    if (r->expect < 0) {
      assert_memory_equal(ip, r->ip, r->caplen);
      continue;
    }
    size_t iph = (ip[0] >> 4) == 6 ? 40 : 20;
    for (size_t b = 0; b < r->caplen; b++)
      if (b != iph + 6 && b != iph + 7 && b != iph + 8 && b != iph + 9 &&
          ip[b] != r->ip[b])
        fail_msg("packet %d byte %zu changed", i - 1, b);
    assert_int_equal(scone_packet_signal(ip + iph + 8), r->expect);
    if (r->caplen == r->iplen) {
      assert_int_equal(pg_signal(ip, r->iplen), r->expect);
      assert_true(pg_csum_ok(ip, r->iplen));
      if (!r->ip[iph + 6] && !r->ip[iph + 7])
        assert_true(!ip[iph + 6] && !ip[iph + 7]); /* zero stays zero */
    } else {
      /* Check the incremental fix against the full original packet. */
      uint8_t full[1600];
      memcpy(full, r->ip, r->iplen);
      memcpy(full, ip, r->caplen);
      assert_true(pg_csum_ok(full, r->iplen));
    }
  }
  assert_int_equal(i, tr->n);
  assert_int_equal(seen_arp, with_arp ? 1 : 0);
  pcap_close(rd);
}

static void golden_all_linktypes(void **state) {
  (void)state;
  static const int dlts[] = {DLT_EN10MB, DLT_RAW, DLT_LINUX_SLL,
                             DLT_LINUX_SLL2};
  trace tr;
  build_trace(&tr);
  int expect_mod = 0;
  for (int i = 0; i < tr.n; i++)
    expect_mod += tr.r[i].expect >= 0;
  char dir[] = "/tmp/sconed-golden-XXXXXX";
  assert_non_null(mkdtemp(dir));
  for (size_t k = 0; k < sizeof(dlts) / sizeof(dlts[0]); k++) {
    int arp = dlts[k] == DLT_EN10MB;
    char in[128], out[128], sum[128], args[512];
    snprintf(in, sizeof(in), "%s/in%zu.pcap", dir, k);
    snprintf(out, sizeof(out), "%s/out%zu.pcap", dir, k);
    snprintf(sum, sizeof(sum), "%s/sum%zu.json", dir, k);
    write_pcap(in, dlts[k], &tr, arp);
    snprintf(args, sizeof(args), "--pcap-in %s --pcap-out %s --json", in, out);
    assert_int_equal(run_sconed(args, sum), 0);
    check_output(out, dlts[k], &tr, arp);
    const char *js = slurp(sum);
    assert_int_equal(json_num(js, "read"), tr.n + arp);
    assert_int_equal(json_num(js, "written"), tr.n + arp);
    assert_int_equal(json_num(js, "modified"), expect_mod);
    assert_int_equal(json_num(js, "not_ip"), arp);
    assert_int_equal(json_num(js, "not_quic_flows"), 1);
    assert_int_equal(json_num(js, "rewrites"), expect_mod);
    assert_int_equal(json_num(js, "malformed"), 1);
    /* Deterministic: a second run writes the same bytes. */
    char out2[128];
    snprintf(out2, sizeof(out2), "%s/out%zu-2.pcap", dir, k);
    snprintf(args, sizeof(args), "--pcap-in %s --pcap-out %s", in, out2);
    assert_int_equal(run_sconed(args, sum), 0);
    assert_non_null(strstr(slurp(sum), "modified"));
    char cmp[512];
    snprintf(cmp, sizeof(cmp), "cmp -s %s %s", out, out2);
    assert_int_equal(system(cmp), 0);
    unlink(in);
    unlink(out);
    unlink(out2);
    unlink(sum);
  }
  rmdir(dir);
}

/* Heavy non-SCONE traffic under --enforce: drops are left out, delayed
 * packets move later and the output stays in time order. */
static void enforcement_offline(void **state) {
  (void)state;
  char dir[] = "/tmp/sconed-enforce-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char in[128], out[128], sum[128], args[512];
  snprintf(in, sizeof(in), "%s/in.pcap", dir);
  snprintf(out, sizeof(out), "%s/out.pcap", dir);
  snprintf(sum, sizeof(sum), "%s/sum.json", dir);
  pcap_t *d = pcap_open_dead_with_tstamp_precision(DLT_RAW, 65535,
                                                   PCAP_TSTAMP_PRECISION_MICRO);
  pcap_dumper_t *w = pcap_dump_open(d, in);
  pg_flow f;
  pg_flow_make(&f, 0, 9, 40000);
  uint8_t p[1200], ip[1300];
  enum { N = 2000 };
  for (int i = 0; i < N; i++) {
    size_t n;
    if (i == 0) {
      pg_initial(p, 1200, 0);
      n = pg_ip(ip, sizeof(ip), &f, 1, p, 1200, 1);
    } else {
      pg_short(p, 1200);
      n = pg_ip(ip, sizeof(ip), &f, 0, p, 1200, 1);
    }
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof(h));
    h.ts.tv_sec = 1700000000 + i / 1000; /* ~9.8 Mbit/s for 2 s */
    h.ts.tv_usec = (i % 1000) * 1000;
    h.caplen = h.len = (bpf_u_int32)n;
    pcap_dump((u_char *)w, &h, ip);
  }
  pcap_dump_close(w);
  pcap_close(d);

  const char *modes[] = {"police", "shape"};
  for (int m = 0; m < 2; m++) {
    snprintf(args, sizeof(args),
             "--pcap-in %s --pcap-out %s --json --advice 5M --enforce %s", in,
             out, modes[m]);
    assert_int_equal(run_sconed(args, sum), 0);
    const char *js = slurp(sum);
    long written = json_num(js, "written"), dropped = json_num(js, "dropped");
    long delayed = json_num(js, "delayed");
    assert_int_equal(json_num(js, "read"), N);
    assert_int_equal(written + dropped, N);
    assert_true(dropped > N / 3); /* ~half of 9.8 Mbit/s is over 5 */
    assert_int_equal(json_num(js, "drops"), dropped);
    if (m == 0)
      assert_int_equal(delayed, 0);
    else
      assert_true(delayed > 0);
    char ebuf[PCAP_ERRBUF_SIZE];
    pcap_t *rd = pcap_open_offline(out, ebuf);
    assert_non_null(rd);
    struct pcap_pkthdr *h;
    const u_char *data;
    long n = 0;
    double last = 0, first = -1;
    uint64_t bytes = 0;
    while (pcap_next_ex(rd, &h, &data) == 1) {
      double t = (double)h->ts.tv_sec + h->ts.tv_usec / 1e6;
      assert_true(t >= last);
      if (first < 0)
        first = t;
      last = t;
      if (n > 0)
        bytes += h->len;
      n++;
    }
    pcap_close(rd);
    assert_int_equal(n, written);
    double rate = (double)(bytes - 125000) * 8 / (last - first);
    assert_true(rate < 5.3e6);
  }
  /* Usage errors and a bad config: a message and a non-zero status. */
  snprintf(args, sizeof(args), "--pcap-in %s/missing.pcap --pcap-out %s", dir,
           out);
  assert_int_equal(run_sconed(args, sum), 1);
  char cfg[128];
  snprintf(cfg, sizeof(cfg), "%s/bad.ini", dir);
  FILE *c = fopen(cfg, "w");
  fputs("[plan a]\ndownlink = 5M\naction = sometimes\n", c);
  fclose(c);
  snprintf(args, sizeof(args), "--pcap-in %s --pcap-out %s --config %s", in,
           out, cfg);
  assert_int_equal(run_sconed(args, sum), 1);
  char want[256];
  snprintf(want, sizeof(want), "%s:3: action 'sometimes'", cfg);
  assert_non_null(strstr(slurp(sum), want));
  snprintf(args, sizeof(args),
           "--pcap-in %s --pcap-out %s --config %s "
           "--advice 1M",
           in, out, cfg);
  assert_int_equal(run_sconed(args, sum), 2);
  unlink(cfg);
  unlink(in);
  unlink(out);
  unlink(sum);
  rmdir(dir);
}

static long file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* An output that names the input however it is spelled (the same path, a
 * hard link, a symbolic link, stdout redirected to it) is refused before
 * anything is written, and the input keeps every byte. */
static void output_never_overwrites_input(void **state) {
  (void)state;
  trace tr;
  build_trace(&tr);
  char dir[] = "/tmp/sconed-same-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char in[128], hard[128], sym[128], copy[128], sum[128], other[128];
  snprintf(in, sizeof(in), "%s/in.pcap", dir);
  snprintf(hard, sizeof(hard), "%s/hard.pcap", dir);
  snprintf(sym, sizeof(sym), "%s/sym.pcap", dir);
  snprintf(copy, sizeof(copy), "%s/copy.pcap", dir);
  snprintf(sum, sizeof(sum), "%s/sum.txt", dir);
  snprintf(other, sizeof(other), "%s/other.pcap", dir);
  write_pcap(in, DLT_RAW, &tr, 0);
  long size = file_size(in);
  assert_true(size > 100);
  assert_int_equal(link(in, hard), 0);
  assert_int_equal(symlink(in, sym), 0);
  char cp[512];
  snprintf(cp, sizeof(cp), "cp %s %s", in, copy);
  assert_int_equal(system(cp), 0);
  const char *outs[] = {in, hard, sym};
  char args[512];
  for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++) {
    snprintf(args, sizeof(args), "--pcap-in %s --pcap-out %s", in, outs[i]);
    assert_int_equal(run_sconed(args, sum), 1);
    assert_non_null(strstr(slurp(sum), "refusing to overwrite"));
    assert_int_equal(file_size(in), size);
    /* Read through the link, written to the file itself. */
    snprintf(args, sizeof(args), "--pcap-in %s --pcap-out %s", outs[i], in);
    assert_int_equal(run_sconed(args, sum), 1);
    assert_int_equal(file_size(in), size);
  }
  char cmd[1024];
  snprintf(cmd, sizeof(cmd), "%s --pcap-in %s --pcap-out - --quiet >> %s 2>%s",
           SCONED_BIN, in, in, sum);
  /* Appended to, not truncated by the shell: stdout is the input. */
  int rc = system(cmd);
  assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == 1);
  assert_non_null(strstr(slurp(sum), "refusing to overwrite"));
  assert_int_equal(file_size(in), size);
  /* A separate file with the same bytes is fine. */
  snprintf(args, sizeof(args), "--pcap-in %s --pcap-out %s", copy, other);
  assert_int_equal(run_sconed(args, sum), 0);
  assert_true(file_size(other) > 0);
  unlink(in);
  unlink(hard);
  unlink(sym);
  unlink(copy);
  unlink(other);
  unlink(sum);
  rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(golden_all_linktypes),
      cmocka_unit_test(enforcement_offline),
      cmocka_unit_test(output_never_overwrites_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
