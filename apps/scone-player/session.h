/*
 * One scone-player session: the MPD fetched over the project's HTTP/3
 * client, then libscone_video's player core driven in real time, each of
 * its requests sent on the same connection and each response fed back.
 * This is the thin I/O adapter; every decision is the core's.
 */
#ifndef SCONE_PLAYER_SESSION_H
#define SCONE_PLAYER_SESSION_H

#include <scone/quic.h>
#include <scone/video.h>

#include <stdio.h>

typedef struct session_opts {
  const char *host, *port, *path; /* of the MPD */
  const char *url;                /* the whole MPD URL, as given */
  int insecure;
  const char *ca_file;
  const char *sni; /* TLS server name; NULL: the host when it is a name */
  const char *qlog;
  int scone_capable; /* 0: plain QUIC (--no-scone) */
  scone_video_player_settings ps;
  scone_duration connect_timeout; /* for the MPD to arrive */
  FILE *live;                     /* per-segment and advice lines; NULL */
} session_opts;

typedef struct session_result {
  int error;      /* 0, a SCONE_VIDEO_ERR_* or a SCONE_QUIC_ERR_* */
  char why[512];  /* what went wrong, for a person */
  char *qoe_json; /* the QoE record (malloc'd); NULL before the core ran */
  uint32_t missing, failed;
} session_result;

/* Plays the session to its end. Returns 0 when it played (r says how
 * well), or an error with r->why set; r->qoe_json is filled whenever the
 * player core ran. */
int session_run(const session_opts *o, session_result *r);
void session_result_free(session_result *r);

#endif /* SCONE_PLAYER_SESSION_H */
