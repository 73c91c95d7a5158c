/*
 * The player core's state, shared by player.c (the state machine) and
 * player_report.c (the QoE record, the per-segment line). Internal.
 */
#ifndef SCONE_VIDEO_PLAYER_H
#define SCONE_VIDEO_PLAYER_H

#include "internal.h"

#define TRACK_VIDEO 0
#define TRACK_AUDIO 1
#define RATIO_SAMPLES 8
#define TIMELINE_MAX 512
/* The highest-bytes window: 670 buckets of 100 ms. */
#define WIN_BUCKET (100 * SCONE_MILLISECONDS)
#define WIN_BUCKETS 670

typedef struct track {
  scone_video_media media;
  uint32_t period;     /* of the next segment */
  int set;             /* its adaptation set, -1 when the period has none */
  uint64_t next_index; /* next segment in that period */
  int done;            /* nothing more to fetch */
  int rep;             /* last representation fetched, -1 before any */
  uint8_t init_done[SCONE_VIDEO_MAX_REPS];
  uint8_t bad[SCONE_VIDEO_MAX_REPS]; /* its init segment is missing */
  /* Actual over nominal segment size, the last few, to size the pacer's
   * reservation for VBR content. */
  double ratio[RATIO_SAMPLES];
  uint32_t nratio;
  uint64_t init_bytes; /* largest init segment seen */
} track;

/* One fetch: what it is and how it went. */
typedef struct job {
  int track;
  int rep;
  int is_init;
  uint64_t index; /* segment index in its period */
  uint32_t attempt;
  uint64_t resume_from; /* bytes already received of this object */
  scone_tstamp not_before;
} job;

typedef struct inflight {
  int active;
  uint64_t id;
  job j;
  uint64_t expected;
  uint64_t received; /* body bytes of this transfer */
  int status;
  scone_tstamp sent_at, first_byte_at, last_progress;
} inflight;

struct scone_video_player {
  scone_video_player_settings s;
  scone_video_player_callbacks cb;
  void *user;
  scone_video_mpd *mpd;
  char mpd_url[SCONE_VIDEO_URL_MAX + 1];
  scone_tstamp created;
  scone_duration media_end;

  scone_video_buffer buf;
  scone_video_abr abr;
  scone_video_pacer pacer;
  scone_advice advice;
  uint64_t advice_bps; /* 0: none */
  uint64_t media_cap;  /* from the advice, 0: none */
  uint64_t cmsd_mb;    /* bit/s from CMSD-Dynamic mb, 0: none */

  track tracks[SCONE_VIDEO_MAX_TRACKS];
  uint32_t ntracks;
  inflight cur;
  int has_pending; /* a retry waits */
  job pending;
  uint64_t next_id;
  uint32_t stalls_seen; /* for CMCD bs: stalls at the last request */
  int done;
  int error;
  scone_tstamp wakeup;

  /* The request handed out by the last poll. */
  char url[SCONE_VIDEO_URL_MAX + 4096 * 3 + 16];
  char hdr[4][1024];

  /* Record. */
  uint64_t bytes;
  uint32_t segments, missing, retries, timeouts, switches, top_rung;
  uint32_t video_segments;
  double bitrate_sum, bitrate_time_sum, time_sum;
  int last_rung;
  uint64_t win[WIN_BUCKETS];
  uint64_t win_head; /* absolute bucket index of the newest */
  uint64_t win_sum, win_max;
  struct {
    scone_tstamp t;
    uint64_t bps;
  } advice_tl[TIMELINE_MAX];
  uint32_t n_advice, advice_dropped;
  struct {
    scone_tstamp t;
    uint32_t rung;
    uint64_t bps;
  } rung_tl[TIMELINE_MAX];
  uint32_t n_rung, rung_dropped;
};

/* Counts bytes into the highest-bytes window at now. */
void scone_video_player_window_add(scone_video_player *p, scone_tstamp now,
                                   uint64_t bytes);

#endif /* SCONE_VIDEO_PLAYER_H */
