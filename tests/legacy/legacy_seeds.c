/*
 * Seeds for fuzz_legacy_packet: records [ctl][len hi][len lo][IP packet]
 * of flows opening with the client's real Initials (initials.h), then
 * server datagrams, some led by a SCONE packet; and TLS-over-TCP flows
 * (tls_tcp.h): handshake, GnuTLS's ClientHello (whole or in two
 * segments), server segments.
 */
#include "initials.h"
#include "tls_tcp.h"

#include <scone/scone.h>

#include <stdio.h>
#include <string.h>

static void rec(FILE *f, unsigned ctl, const uint8_t *p, size_t n) {
  fputc((int)ctl, f);
  fputc((int)(n >> 8), f);
  fputc((int)(n & 0xff), f);
  fwrite(p, 1, n, f);
}

static int seed(const char *dir, const char *name, const char *sni, int split,
                int scone) {
  uint8_t dg[INITIALS_MAX], a[INITIALS_MAX], b[INITIALS_MAX], pkt[1600];
  int n = initials_capture(sni, dg, sizeof(dg));
  if (n < 0)
    return -1;
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f)
    return -1;
  const uint32_t c = 0x0a000001U, s = 0xc0000201U;
  if (split) {
    size_t al, bl;
    if (initials_split(dg, (size_t)n, 100, a, &al, b, &bl))
      return -1;
    rec(f, 0, pkt, initials_ip4(pkt, c, 5000, s, 443, a, al));
    rec(f, 1, pkt, initials_ip4(pkt, c, 5000, s, 443, b, bl));
  } else {
    rec(f, 0, pkt, initials_ip4(pkt, c, 5000, s, 443, dg, (size_t)n));
  }
  uint8_t pl[1200];
  for (int i = 0; i < 8; i++) {
    memset(pl, i, sizeof(pl));
    pl[0] = 0x41;
    if (scone && i == 0) {
      uint8_t cid[4] = {1, 2, 3, 4};
      scone_packet_build(pl, sizeof(pl), 50, cid, 4, cid, 4, 0);
    }
    rec(f, 0, pkt, initials_ip4(pkt, s, 443, c, 5000, pl, sizeof(pl)));
  }
  fclose(f);
  return 0;
}

static int seed_tcp(const char *dir, const char *name, const char *sni,
                    size_t cut) {
  uint8_t ch[TLS_TCP_HELLO_MAX], pkt[TLS_TCP_HELLO_MAX + 64];
  int n = tls_client_hello(sni, ch, sizeof(ch));
  if (n < 0 || cut >= (size_t)n)
    return -1;
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f)
    return -1;
  tcp_conn c;
  tcp_conn_init(&c, 0x0a000001U, 0xc0000201U, 5000);
  for (int step = 0; step < 3; step++)
    rec(f, 0, pkt, tcp_conn_syn(&c, step, pkt));
  size_t at = cut ? cut : (size_t)n;
  rec(f, 0, pkt, tcp_conn_data(&c, 1, ch, at, pkt));
  if (cut)
    rec(f, 0, pkt, tcp_conn_data(&c, 1, ch + at, (size_t)n - at, pkt));
  uint8_t pl[1200];
  memset(pl, 0x17, sizeof(pl));
  for (int i = 0; i < 8; i++)
    rec(f, 0, pkt, tcp_conn_data(&c, 0, pl, sizeof(pl), pkt));
  fclose(f);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: legacy_seeds DIR\n");
    return 2;
  }
  int rc = 0;
  rc |= seed(argv[1], "video-sni", "rr3---sn-4g5e6nsz.googlevideo.com", 0, 1);
  rc |= seed(argv[1], "listed-sni", "cdn.video.example", 0, 0);
  rc |= seed(argv[1], "other-sni", "www.example.org", 0, 0);
  rc |= seed(argv[1], "split-hello", "rr3---sn-4g5e6nsz.googlevideo.com", 1, 0);
  rc |= seed_tcp(argv[1], "tcp-video-sni", "rr3---sn-4g5e6nsz.googlevideo.com",
                 0);
  rc |= seed_tcp(argv[1], "tcp-other-sni", "www.example.org", 0);
  rc |= seed_tcp(argv[1], "tcp-split-hello",
                 "rr3---sn-4g5e6nsz.googlevideo.com", 100);
  return rc ? 1 : 0;
}
