/* Command-line value parsing shared by scone-client and scone-server. */
#ifndef SCONE_APPS_ARGS_H
#define SCONE_APPS_ARGS_H

#include <scone/quic.h>
#include <scone/scone.h>

#include <stddef.h>

/* "10s", "500ms", "2m", "1.5s", "250us"; a bare number is seconds. */
int args_duration(const char *s, scone_duration *out);

/* https://HOST[:PORT][/path] with HOST a name, an IPv4 address or [IPv6].
 * host and port are NUL-terminated copies; path defaults to "/". */
typedef struct args_url {
  char host[256];
  char port[8];
  char path[2048];
} args_url;

int args_url_parse(const char *url, args_url *out);

/* --scone-placement: "confirmed" or "handshake"; its usage lines. */
#define ARGS_PLACEMENT_HELP                                                    \
  "  --scone-placement WHERE  confirmed (default): SCONE packets only "        \
  "ahead of\n"                                                                 \
  "                        1-RTT packets once the handshake is confirmed;\n"   \
  "                        handshake: also ahead of Initial and Handshake\n"   \
  "                        packets, as the draft permits\n"
int args_placement(const char *s, scone_quic_placement *out);

/* Seconds since the first call, for log lines. */
double args_elapsed(void);

#endif /* SCONE_APPS_ARGS_H */
