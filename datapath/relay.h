/*
 * The unprivileged datapath: sconed as a UDP relay in front of one server
 * (relay.c; its client table is relay_clients.h).
 */
#ifndef SCONED_RELAY_H
#define SCONED_RELAY_H

#include "dp.h"

typedef struct sconed_relay_settings {
  const char *listen;   /* "127.0.0.1:4433", "[::1]:4433"; port 0: any */
  const char *upstream; /* "HOST:PORT" of the server */
  unsigned idle_ms;     /* a silent client is forgotten; default 60000 */
  unsigned max_held;    /* datagrams the shaper may hold; default 16384 */
} sconed_relay_settings;

void sconed_relay_settings_default(sconed_relay_settings *s);

/* Relays; runs and returns as every loop does (dp.h). */
int sconed_relay_run(sconed_dp *dp, const sconed_relay_settings *s);

#endif
