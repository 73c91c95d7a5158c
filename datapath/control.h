/*
 * The HTTP control endpoint (libmicrohttpd, its own thread):
 *   GET  /metrics                   Prometheus text
 *   GET  /state                     JSON summary
 *   POST /capacity?name=X&bps=N     set a named capacity now (N may be 5M;
 *                                   >= 100k, or 0 for no ceiling)
 *   POST /reload                    reload the config file; 400 with
 *                                   "FILE:LINE: reason" keeps the old one
 *   POST /optin?addr=A&state=in|out opt the subscriber entry holding A in
 *                                   or out (until the next reload or
 *                                   store update replaces the config)
 */
#ifndef SCONED_CONTROL_H
#define SCONED_CONTROL_H

#include "dp.h"

typedef struct sconed_control sconed_control;

/* spec is ADDR:PORT ([::1]:P for IPv6) or a Unix socket path (anything
 * with a '/'). A non-loopback address is refused unless allow_any.
 * token_file (NULL: none) holds a bearer token every request must carry
 * (Authorization: Bearer TOKEN; else 401). Each request has a total
 * deadline (else 408), and takes no body (else 413).
 * Returns NULL with the reason on stderr. */
sconed_control *sconed_control_start(sconed_dp *dp, const char *spec,
                                     int allow_any, const char *token_file);
/* Stops the thread and frees; NULL is fine. */
void sconed_control_stop(sconed_control *c);

#endif
