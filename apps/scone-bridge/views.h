/* The bridge's own resources under /scone/. */
#ifndef SCONE_BRIDGE_VIEWS_H
#define SCONE_BRIDGE_VIEWS_H

/* The ES module's text (netinfo_js.c). */
extern const char bridge_netinfo_js[];

/* Subscribers of /scone/events at once; one more is answered 503. */
#define VIEWS_MAX_SUBSCRIBERS 32

#endif /* SCONE_BRIDGE_VIEWS_H */
