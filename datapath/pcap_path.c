#include "pcap_path.h"

#include "delayq.h"

#include <pcap/pcap.h>
#include <scone/scone.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct writer {
  pcap_dumper_t *d;
  int nano;
} writer;

static void write_at(writer *w, scone_tstamp at, const uint8_t *data,
                     uint32_t caplen, uint32_t len) {
  struct pcap_pkthdr h;
  memset(&h, 0, sizeof(h));
  h.ts.tv_sec = (time_t)(at / SCONE_SECONDS);
  uint64_t frac = at % SCONE_SECONDS;
  /* A microsecond file cannot say a release time exactly: round up, so a
   * packet is never written earlier than the shaper released it. */
  h.ts.tv_usec = (suseconds_t)(w->nano ? frac : (frac + 999) / 1000);
  if (!w->nano && h.ts.tv_usec >= 1000000) {
    h.ts.tv_sec++;
    h.ts.tv_usec -= 1000000;
  }
  h.caplen = caplen;
  h.len = len;
  pcap_dump((u_char *)w->d, &h, data);
}

/* libpcap hides whether a savefile had micro- or nanosecond stamps once it
 * is opened at nanosecond precision, so the magic says it. */
static int file_is_nano(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return 0;
  uint8_t m[4] = {0};
  size_t n = fread(m, 1, 4, f);
  fclose(f);
  if (n != 4)
    return 0;
  uint32_t be = ((uint32_t)m[0] << 24) | ((uint32_t)m[1] << 16) |
                ((uint32_t)m[2] << 8) | m[3];
  return be == 0xa1b23c4dU || be == 0x4d3cb2a1U ||
         be == 0x0a0d0d0aU; /* pcapng may hold any resolution: lose none */
}

/* Would writing out destroy the input rd reads? The same inode, however
 * it is named (the same path, a hard link, a symbolic link, "-" for a
 * standard stream that is redirected to it): opening the output truncates
 * it before a packet is read. */
static int overwrites_input(pcap_t *rd, const char *out) {
  FILE *f = pcap_file(rd);
  struct stat si, so;
  if (!f || fstat(fileno(f), &si) != 0)
    return 0;
  int r = strcmp(out, "-") == 0 ? fstat(STDOUT_FILENO, &so) : stat(out, &so);
  return r == 0 && si.st_dev == so.st_dev && si.st_ino == so.st_ino;
}

static void engine_fn(void *arg, uint8_t *ip, size_t len, scone_tstamp now,
                      sconed_verdict *v) {
  sconed_engine_process_ip(arg, ip, len, now, v);
}

int sconed_pcap_run(sconed_engine *e, const char *in, const char *out,
                    sconed_pcap_counts *c, char *err, size_t errlen) {
  return sconed_pcap_run_fn(engine_fn, e, in, out, c, err, errlen);
}

int sconed_pcap_run_fn(sconed_process_fn fn, void *arg, const char *in,
                       const char *out, sconed_pcap_counts *c, char *err,
                       size_t errlen) {
  char ebuf[PCAP_ERRBUF_SIZE] = "";
  memset(c, 0, sizeof(*c));
  pcap_t *rd = pcap_open_offline_with_tstamp_precision(
      in, PCAP_TSTAMP_PRECISION_NANO, ebuf);
  if (!rd) {
    snprintf(err, errlen, "%s: %s", in, ebuf);
    return -1;
  }
  int dlt = pcap_datalink(rd);
  if (!scone_link_supported(dlt)) {
    snprintf(err, errlen,
             "%s: link type %s not supported (Ethernet, raw IP, Linux "
             "cooked SLL/SLL2, loopback)",
             in,
             pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt)
                                            : "?");
    pcap_close(rd);
    return -1;
  }
  if (overwrites_input(rd, out)) {
    snprintf(err, errlen, "%s: is the input %s; refusing to overwrite it", out,
             in);
    pcap_close(rd);
    return -1;
  }
  c->linktype = pcap_datalink_val_to_name(dlt);
  writer w = {NULL, file_is_nano(in)};
  pcap_t *dead = pcap_open_dead_with_tstamp_precision(
      dlt, pcap_snapshot(rd) > 0 ? pcap_snapshot(rd) : 262144,
      w.nano ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO);
  w.d = dead ? pcap_dump_open(dead, out) : NULL;
  if (!w.d) {
    snprintf(err, errlen, "%s: %s", out, dead ? pcap_geterr(dead) : "");
    if (dead)
      pcap_close(dead);
    pcap_close(rd);
    return -1;
  }

  /* Delayed packets wait in release order, ties in input order; a record's
   * length on the wire rides along as the key. */
  sconed_delayq q;
  if (sconed_delayq_init(&q, SCONED_PCAP_MAX_HELD) < 0) {
    snprintf(err, errlen, "out of memory");
    pcap_dump_close(w.d);
    pcap_close(dead);
    pcap_close(rd);
    return -1;
  }
  sconed_delayed x;
  uint8_t *buf = NULL;
  size_t bufcap = 0;
  int rc = 0;
  struct pcap_pkthdr *h;
  const u_char *data;
  int r;
  while ((r = pcap_next_ex(rd, &h, &data)) == 1) {
    c->read++;
    scone_tstamp now =
        (scone_tstamp)h->ts.tv_sec * SCONE_SECONDS + (uint64_t)h->ts.tv_usec;
    while (sconed_delayq_pop_due(&q, now, &x)) {
      write_at(&w, x.at, x.data, (uint32_t)x.len, (uint32_t)x.key);
      c->written++;
      free(x.data);
    }
    if (h->caplen > bufcap) {
      uint8_t *nb = realloc(buf, h->caplen);
      if (!nb) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
        break;
      }
      buf = nb;
      bufcap = h->caplen;
    }
    memcpy(buf, data, h->caplen);
    sconed_verdict v = {SCONED_PASS, 0, 0};
    size_t off;
    if (scone_link_ip_offset(dlt, buf, h->caplen, &off) != 0)
      c->not_ip++;
    else
      fn(arg, buf + off, h->caplen - off, now, &v);
    if (v.modified)
      c->modified++;
    if (v.action == SCONED_DROP) {
      c->dropped++;
      continue;
    }
    if (v.action == SCONED_DELAY && v.release_at > now) {
      if (sconed_delayq_push(&q, v.release_at, h->len, NULL, buf, h->caplen) <
          0) {
        c->overflow++;
        c->dropped++;
        continue;
      }
      c->delayed++;
      if (q.count > c->max_held)
        c->max_held = q.count;
      continue;
    }
    write_at(&w, now, buf, h->caplen, h->len);
    c->written++;
  }
  if (rc == 0 && r == PCAP_ERROR) {
    snprintf(err, errlen, "%s: %s", in, pcap_geterr(rd));
    rc = -1;
  }
  while (rc == 0 && sconed_delayq_pop_due(&q, UINT64_MAX, &x)) {
    write_at(&w, x.at, x.data, (uint32_t)x.len, (uint32_t)x.key);
    c->written++;
    free(x.data);
  }
  sconed_delayq_free(&q);
  free(buf);
  if (pcap_dump_flush(w.d) && rc == 0) {
    snprintf(err, errlen, "%s: write failed", out);
    rc = -1;
  }
  pcap_dump_close(w.d);
  pcap_close(dead);
  pcap_close(rd);
  return rc;
}
