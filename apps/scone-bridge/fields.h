/*
 * The header fields the bridge forwards, drops and writes. Pure, for the
 * fuzz target.
 */
#ifndef SCONE_BRIDGE_FIELDS_H
#define SCONE_BRIDGE_FIELDS_H

#include <scone/app.h>

#include <stddef.h>

/* 1 when a request field must not be forwarded: the hop-by-hop and
 * connection-specific ones HTTP/3 forbids, Host (the upstream's
 * :authority replaces it), those about a body (requests carry none), and
 * any the request's Connection field names (connection, its value).
 * Names compare case-insensitively. */
int fields_request_drop(const char *name, const char *connection);

/* 1 when a response field from the upstream is not copied: HTTP/3
 * pseudo-fields, framing the HTTP/1.1 side sets itself (Content-Length,
 * Transfer-Encoding, Connection, Keep-Alive, Date), and the two fields the
 * bridge writes (CMSD-Dynamic, Access-Control-Expose-Headers). */
int fields_response_drop(const char *name);

/* 1 when value may be sent in an HTTP/1.1 field: visible ASCII, spaces and
 * tabs, no leading or trailing whitespace (what scone_quic_request
 * accepts too). */
int fields_value_ok(const char *value);

/* Access-Control-Expose-Headers: the upstream's list (NULL: none) with
 * CMSD-Dynamic and CMSD-Static added when missing, compared
 * case-insensitively. Returns the length, or -1 when buf is too small. */
int fields_expose(char *buf, size_t len, const char *upstream);

/* CMSD-Dynamic: the upstream's list (NULL: none) with the bridge's member
 * appended, since CTA-5006 has each writer append and players (dash.js)
 * read the last member. The bridge's mb is the lower of its own and any
 * the upstream's members carry: a player reading only the last member
 * still honours both. An upstream value that is not a valid list is
 * dropped. has_mb 0 and no upstream: returns 0 (no field). Returns the
 * length, or -1 when buf is too small. */
int fields_cmsd(char *buf, size_t len, const char *upstream, int has_mb,
                uint64_t mb_kbps);

#define FIELDS_SERVER_ID "scone-bridge"

#endif /* SCONE_BRIDGE_FIELDS_H */
