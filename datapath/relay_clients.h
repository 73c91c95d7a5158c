/*
 * The relay's client table: per client address, one connected socket to
 * the upstream server, so that replies come back on a socket that names
 * their client. Idle clients are swept out; a client with datagrams still
 * held by the shaper stays until they leave.
 */
#ifndef SCONED_RELAY_CLIENTS_H
#define SCONED_RELAY_CLIENTS_H

#include "addr.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sconed_relay_client {
  int kind;              /* first member: an epoll tag, see relay.c */
  int fd;                /* connected to the upstream */
  sconed_addr addr;      /* the client */
  sconed_tuple up, down; /* client->server and server->client */
  scone_tstamp last;     /* last datagram either way */
  uint32_t held;         /* datagrams in the delay queue */
  struct sconed_relay_client *next; /* hash chain */
} sconed_relay_client;

typedef struct sconed_relay_clients {
  sconed_relay_client **bucket;
  size_t nbuckets, count, max;
} sconed_relay_clients;

int sconed_relay_clients_init(sconed_relay_clients *t, size_t max);
/* Closes every client socket and frees the table. */
void sconed_relay_clients_free(sconed_relay_clients *t);

sconed_relay_client *sconed_relay_clients_find(sconed_relay_clients *t,
                                               const sconed_addr *a);
/* Adds a client with its socket already open; NULL when the table is full
 * or memory runs out. */
sconed_relay_client *sconed_relay_clients_add(sconed_relay_clients *t,
                                              const sconed_addr *a, int fd);

/* Removes clients idle since before cutoff that hold nothing, closing
 * their sockets (which also takes them out of any epoll set). */
void sconed_relay_clients_sweep(sconed_relay_clients *t, scone_tstamp cutoff);

#endif
