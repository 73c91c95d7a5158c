/* `scone decode`: one datagram given as hex, or a capture file (--pcap). */
#include "cli.h"
#include "decode_print.h"
#include "hex.h"

#include <scone/scone.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A UDP payload never exceeds 65535 bytes; the text limit leaves room for
 * generous whitespace around that many hex digits. */
#define MAX_DGRAM 65535
#define MAX_TEXT (4 * 1024 * 1024)

static const char decode_usage[] =
    "usage: scone decode [--json] [--dcid-len N] HEX...\n"
    "       scone decode [--json] [--dcid-len N] -   (hex on stdin)\n"
    "       scone decode [--json] [--absolute] --pcap FILE\n"
    "\n"
    "Decodes a UDP payload given as hex (whitespace and 0x prefixes are\n"
    "ignored): the SCONE packet that leads it, if any, the QUIC invariant\n"
    "header of the packet after that, and the 0xc8 0x13 indication.\n"
    "\n"
    "With --pcap, lists every SCONE packet in a capture (pcap or pcapng;\n"
    "Ethernet with VLAN tags, raw IPv4/IPv6, Linux cooked v1/v2, BSD\n"
    "loopback): frame number, time in seconds since the first frame (or\n"
    "since the epoch with --absolute), addresses, direction and signal,\n"
    "then a summary line. The first datagram seen on a UDP 5-tuple defines\n"
    "its client-to-server direction (c2s); the reverse is s2c. The summary\n"
    "counts every frame once: as a UDP datagram, non-UDP, malformed (a\n"
    "broken link, IP, UDP or SCONE header) or an IP fragment.\n"
    "\n"
    "  --dcid-len N  DCID length of a short-header packet (default: the\n"
    "                SCONE packet's DCID length, else unknown)\n"
    "  --pcap FILE   read a capture file ('-' for stdin)\n"
    "  --absolute    pcap times since the Unix epoch\n"
    "  --json        JSON instead of text\n"
    "  -h, --help    this help\n"
    "\n"
    "Exit status: 0 decoded, 1 bad input data, 2 bad command line.\n";

static char *read_stdin(void) {
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  if (!buf)
    return NULL;
  size_t n;
  while ((n = fread(buf + len, 1, cap - len - 1, stdin)) > 0) {
    len += n;
    if (len > MAX_TEXT) {
      free(buf);
      cli_error("decode", "more than %d bytes of text on stdin", MAX_TEXT);
      return NULL;
    }
    if (cap - len - 1 == 0) {
      char *grown = realloc(buf, cap * 2);
      if (!grown) {
        free(buf);
        cli_error("decode", "out of memory");
        return NULL;
      }
      buf = grown;
      cap *= 2;
    }
  }
  if (ferror(stdin)) {
    free(buf);
    cli_error("decode", "cannot read stdin");
    return NULL;
  }
  buf[len] = '\0';
  return buf;
}

/* Joins the words the shell split apart so "80 6f 7d ..." needs no quotes. */
static char *join_args(int argc, char **argv) {
  size_t total = 1;
  for (int i = 0; i < argc; i++)
    total += strlen(argv[i]) + 1;
  char *buf = malloc(total);
  if (!buf) {
    cli_error("decode", "out of memory");
    return NULL;
  }
  buf[0] = '\0';
  for (int i = 0; i < argc; i++) {
    strcat(buf, argv[i]);
    strcat(buf, " ");
  }
  return buf;
}

/* Fills dec from the datagram or reports why it cannot be decoded. */
static int decode_dgram(decoded_dgram *dec, const uint8_t *d, size_t len,
                        long dcid_len_opt) {
  memset(dec, 0, sizeof *dec);
  dec->len = len;
  if (len == 0) {
    cli_error("decode", "empty datagram");
    return -1;
  }
  size_t off = 0;
  if (scone_packet_is_scone(d, len)) {
    scone_ssize r = scone_packet_parse(&dec->scone, d, len);
    if (r < 0) {
      cli_error("decode", "SCONE packet: %s (datagram is %zu bytes)",
                scone_strerror((int)r), len);
      return -1;
    }
    dec->has_scone = 1;
    off = (size_t)r;
  }
  dec->indication = scone_indication_present(d, len);
  if (off == len)
    return 0;

  size_t short_dcidlen = 0;
  if (dcid_len_opt >= 0) {
    short_dcidlen = (size_t)dcid_len_opt;
    dec->dcid_len_from = DCID_LEN_OPTION;
  } else if (dec->has_scone) {
    /* The draft makes the SCONE DCID equal to the next packet's. */
    short_dcidlen = dec->scone.dcidlen;
    dec->dcid_len_from = DCID_LEN_SCONE;
  }
  scone_ssize r =
      scone_quic_hdr_parse(&dec->quic, d + off, len - off, short_dcidlen);
  if (r < 0) {
    cli_error("decode", "QUIC header at byte %zu: %s (datagram is %zu bytes)",
              off, scone_strerror((int)r), len);
    return -1;
  }
  dec->has_quic = 1;
  dec->quic_off = off;
  if (dec->quic.is_long)
    dec->dcid_len_from = DCID_LEN_HEADER;
  return 0;
}

int decode_cmd(int argc, char **argv) {
  enum { OPT_PCAP = 256, OPT_DCID_LEN, OPT_JSON, OPT_ABSOLUTE };
  static const struct option opts[] = {
      {"pcap", required_argument, 0, OPT_PCAP},
      {"dcid-len", required_argument, 0, OPT_DCID_LEN},
      {"json", no_argument, 0, OPT_JSON},
      {"absolute", no_argument, 0, OPT_ABSOLUTE},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  const char *pcap_path = NULL;
  long dcid_len = -1;
  int json = 0, absolute = 0, c;
  unsigned long long v;
  opterr = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (c) {
    case OPT_PCAP:
      pcap_path = optarg;
      break;
    case OPT_DCID_LEN:
      if (cli_parse_u64(optarg, &v) || v > SCONE_MAX_CIDLEN)
        return cli_usage_error("decode", "invalid --dcid-len '%s' (want 0..%d)",
                               optarg, SCONE_MAX_CIDLEN);
      dcid_len = (long)v;
      break;
    case OPT_JSON:
      json = 1;
      break;
    case OPT_ABSOLUTE:
      absolute = 1;
      break;
    case 'h':
      fputs(decode_usage, stdout);
      return CLI_EXIT_OK;
    default:
      return cli_bad_option("decode", argv, c);
    }
  }
  if (pcap_path) {
    if (optind < argc)
      return cli_usage_error("decode", "--pcap takes no hex argument");
    if (dcid_len >= 0)
      return cli_usage_error("decode", "--dcid-len does not apply to --pcap");
    return pcap_cmd(pcap_path, json, absolute);
  }
  if (absolute)
    return cli_usage_error("decode", "--absolute applies only to --pcap");
  if (optind == argc)
    return cli_usage_error("decode", "missing hex datagram");

  char *text = (argc - optind == 1 && strcmp(argv[optind], "-") == 0)
                   ? read_stdin()
                   : join_args(argc - optind, argv + optind);
  if (!text)
    return CLI_EXIT_DATA;
  uint8_t *dgram = malloc(MAX_DGRAM);
  char err[128];
  long n = dgram ? hex_parse(text, dgram, MAX_DGRAM, err, sizeof err) : -1;
  free(text);
  if (n < 0) {
    cli_error("decode", "%s", dgram ? err : "out of memory");
    free(dgram);
    return CLI_EXIT_DATA;
  }
  decoded_dgram dec;
  int rc = CLI_EXIT_DATA;
  if (decode_dgram(&dec, dgram, (size_t)n, dcid_len) == 0)
    rc = json ? print_decoded_json(&dec) : print_decoded_text(&dec);
  free(dgram);
  return rc;
}
