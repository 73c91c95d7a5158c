/* Renders a decoded datagram for people (text) or programs (JSON). */
#include "decode_print.h"
#include "cli.h"
#include "fmt.h"
#include "hex.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define CID_HEX_LEN (2 * SCONE_MAX_CIDLEN + 1)

static const char *version_name(uint32_t v) {
  if (v == 0)
    return "version negotiation";
  if (v == 0x00000001U)
    return "QUIC v1";
  if (v == 0x6b3343cfU)
    return "QUIC v2";
  if ((v & 0x7fffffffU) == SCONE_VERSION_BITS)
    return "SCONE: a second SCONE packet, which the draft forbids";
  if ((v & 0x0f0f0f0fU) == 0x0a0a0a0aU)
    return "reserved for forcing version negotiation";
  return NULL;
}

/* -1 when the comparison means nothing (the QUIC DCID length is unknown). */
static int dcid_matches(const decoded_dgram *dec) {
  if (!dec->has_scone || !dec->has_quic ||
      dec->dcid_len_from == DCID_LEN_UNKNOWN)
    return -1;
  return dec->scone.dcidlen == dec->quic.dcidlen &&
         memcmp(dec->scone.dcid, dec->quic.dcid, dec->quic.dcidlen) == 0;
}

/* A short header has no SCID, so the SCONE packet's must then be empty. */
static int scid_matches(const decoded_dgram *dec) {
  if (!dec->has_scone || !dec->has_quic)
    return -1;
  if (!dec->quic.is_long)
    return dec->scone.scidlen == 0;
  return dec->scone.scidlen == dec->quic.scidlen &&
         memcmp(dec->scone.scid, dec->quic.scid, dec->quic.scidlen) == 0;
}

static void print_cid(const char *label, const uint8_t *cid, size_t len) {
  char hex[CID_HEX_LEN];
  if (len == 0)
    printf("  %-10s 0 bytes (empty)\n", label);
  else
    printf("  %-10s %zu bytes %s\n", label, len, hex_format(cid, len, hex));
}

static void print_signal_text(unsigned signal) {
  char rate[FMT_RATE_LEN];
  if (signal > SCONE_SIGNAL_MAX) {
    printf("  %-10s %u (unknown: no throughput advice)\n", "signal:", signal);
    return;
  }
  uint64_t bps = scone_rate_from_signal(signal);
  printf("  %-10s %u (%llu bit/s, %s)\n", "signal:", signal,
         (unsigned long long)bps, fmt_rate(bps, rate, sizeof rate));
}

static const char *match_word(int m) {
  return m ? "matches" : "DIFFERS";
}

int print_decoded_text(const decoded_dgram *dec) {
  printf("datagram: %zu bytes\n", dec->len);
  if (dec->has_scone) {
    const scone_packet *p = &dec->scone;
    printf("SCONE packet: bytes 0..%zu (%zu bytes)\n", p->len - 1, p->len);
    printf("  %-10s 0x%08x\n", "version:", (unsigned)p->version);
    print_signal_text(p->signal);
    printf("  %-10s %d\n", "reserved:", (p->first_byte & 0x40) ? 1 : 0);
    print_cid("dcid:", p->dcid, p->dcidlen);
    print_cid("scid:", p->scid, p->scidlen);
  } else {
    printf("SCONE packet: none (datagram does not start with one)\n");
  }

  if (dec->has_quic) {
    const scone_quic_hdr *q = &dec->quic;
    printf("QUIC packet: from byte %zu, %s header (first byte 0x%02x)\n",
           dec->quic_off, q->is_long ? "long" : "short", q->first_byte);
    if (q->is_long) {
      const char *name = version_name(q->version);
      printf("  %-10s 0x%08x%s%s%s\n", "version:", (unsigned)q->version,
             name ? " (" : "", name ? name : "", name ? ")" : "");
    }
    if (dec->dcid_len_from == DCID_LEN_UNKNOWN)
      printf("  %-10s length unknown in a short header (give --dcid-len N)\n",
             "dcid:");
    else
      print_cid("dcid:", q->dcid, q->dcidlen);
    if (dec->dcid_len_from == DCID_LEN_SCONE)
      printf("  %-10s length assumed from the SCONE packet's DCID\n", "");
    if (dec->dcid_len_from == DCID_LEN_OPTION)
      printf("  %-10s length from --dcid-len\n", "");
    if (q->is_long)
      print_cid("scid:", q->scid, q->scidlen);
  } else if (dec->has_scone) {
    printf("QUIC packet: none (a SCONE packet must be coalesced with one)\n");
  }

  int dm = dcid_matches(dec), sm = scid_matches(dec);
  if (dm >= 0 || sm >= 0) {
    const char *scid_note =
        sm || dec->quic.is_long ? "" : " (must be empty before a short header)";
    printf("connection IDs: SCONE dcid %s, scid %s%s\n",
           dm >= 0 ? match_word(dm) : "not comparable", match_word(sm),
           scid_note);
  }
  printf("indication: %s\n",
         dec->indication ? "yes (datagram ends with 0xc8 0x13)" : "no");
  return CLI_EXIT_OK;
}

json_t *json_cid(const uint8_t *cid, size_t len) {
  char hex[CID_HEX_LEN];
  return json_string(hex_format(cid, len, hex));
}

const char *signal_rate_text(unsigned signal, char *buf) {
  if (signal > SCONE_SIGNAL_MAX)
    return "unknown";
  return fmt_rate(scone_rate_from_signal(signal), buf, FMT_RATE_LEN);
}

void json_set_signal(json_t *o, unsigned signal) {
  char rate[FMT_RATE_LEN];
  json_object_set_new(o, "signal", json_integer(signal));
  json_object_set_new(
      o, "bps",
      signal <= SCONE_SIGNAL_MAX
          ? json_integer((json_int_t)scone_rate_from_signal(signal))
          : json_null());
  json_object_set_new(o, "rate", json_string(signal_rate_text(signal, rate)));
}

static json_t *tristate_json(int v) {
  return v < 0 ? json_null() : json_boolean(v);
}

static json_t *version_json(uint32_t v) {
  char buf[16];
  snprintf(buf, sizeof buf, "0x%08x", (unsigned)v);
  return json_string(buf);
}

static json_t *scone_json(const scone_packet *p) {
  json_t *o = json_object();
  json_object_set_new(o, "offset", json_integer(0));
  json_object_set_new(o, "length", json_integer((json_int_t)p->len));
  json_object_set_new(o, "version", version_json(p->version));
  json_set_signal(o, p->signal);
  json_object_set_new(o, "reserved_bit",
                      json_integer((p->first_byte & 0x40) ? 1 : 0));
  json_object_set_new(o, "dcid", json_cid(p->dcid, p->dcidlen));
  json_object_set_new(o, "scid", json_cid(p->scid, p->scidlen));
  return o;
}

static json_t *quic_json(const decoded_dgram *dec) {
  static const char *const sources[] = {"unknown", "header", "option", "scone"};
  const scone_quic_hdr *q = &dec->quic;
  json_t *o = json_object();
  json_object_set_new(o, "offset", json_integer((json_int_t)dec->quic_off));
  json_object_set_new(o, "header", json_string(q->is_long ? "long" : "short"));
  json_object_set_new(o, "first_byte", json_integer(q->first_byte));
  json_object_set_new(o, "version",
                      q->is_long ? version_json(q->version) : json_null());
  json_object_set_new(o, "dcid",
                      dec->dcid_len_from == DCID_LEN_UNKNOWN
                          ? json_null()
                          : json_cid(q->dcid, q->dcidlen));
  json_object_set_new(o, "dcid_len_source",
                      json_string(sources[dec->dcid_len_from]));
  json_object_set_new(o, "scid",
                      q->is_long ? json_cid(q->scid, q->scidlen) : json_null());
  return o;
}

int print_decoded_json(const decoded_dgram *dec) {
  json_t *o = json_object();
  json_object_set_new(o, "length", json_integer((json_int_t)dec->len));
  json_object_set_new(o, "scone",
                      dec->has_scone ? scone_json(&dec->scone) : json_null());
  json_object_set_new(o, "quic", dec->has_quic ? quic_json(dec) : json_null());
  json_object_set_new(o, "dcid_matches", tristate_json(dcid_matches(dec)));
  json_object_set_new(o, "scid_matches", tristate_json(scid_matches(dec)));
  json_object_set_new(o, "indication", json_boolean(dec->indication));
  int rc =
      json_dumpf(o, stdout, JSON_INDENT(2)) < 0 ? CLI_EXIT_DATA : CLI_EXIT_OK;
  json_decref(o);
  if (rc != CLI_EXIT_OK)
    cli_error("decode", "cannot write JSON");
  else
    putchar('\n');
  return rc;
}
