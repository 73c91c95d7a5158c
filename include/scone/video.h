/*
 * libscone_video: a DASH player's logic, sans-I/O, for video that follows
 * SCONE throughput advice (docs/video.md).
 *
 *   - MPD parser (libxml2) for static presentations addressed with
 *     SegmentTemplate (number- or SegmentTimeline-based), with segment URLs
 *     resolved through the BaseURL chain;
 *   - playback buffer model (startup and resume thresholds, stalls);
 *   - ABR: a throughput rule over EWMA estimates and BOLA, switched as
 *     dash.js's DYNAMIC strategy does, under the SCONE cap;
 *   - a player core that says what to request and when (the advice budget
 *     over 67 s, timeouts, retries), fed time, advice and response
 *     progress, and writes the QoE record;
 *   - synthetic content of the right sizes for tests.
 *
 * Conventions of scone.h: times are scone_tstamp nanoseconds on the
 * caller's clock, callers own every buffer, errors are negative. The MPD
 * model is a large fixed-size struct (allocate it, do not put it on a
 * small stack); nothing here keeps a pointer to the caller's input.
 */
#ifndef SCONE_VIDEO_H
#define SCONE_VIDEO_H

#include <scone/app.h>
#include <scone/scone.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ errors */

#define SCONE_VIDEO_ERR_XML (-201)     /* not well-formed XML */
#define SCONE_VIDEO_ERR_NOT_MPD (-202) /* the root element is not MPD */
#define SCONE_VIDEO_ERR_MISSING                                                \
  (-203)                                /* a required element or attribute     \
                                           is absent */
#define SCONE_VIDEO_ERR_VALUE (-204)    /* an attribute does not parse */
#define SCONE_VIDEO_ERR_RANGE (-205)    /* a number out of range */
#define SCONE_VIDEO_ERR_TEMPLATE (-206) /* a bad URL template */
#define SCONE_VIDEO_ERR_LIMIT                                                  \
  (-207) /* more periods, adaptation sets,                                     \
            representations, timeline                                          \
            entries or segments than this                                      \
            library holds */
#define SCONE_VIDEO_ERR_UNSUPPORTED                                            \
  (-208)                                 /* dynamic MPD, SegmentBase or        \
                                            SegmentList only, xlink, DTD */
#define SCONE_VIDEO_ERR_TOO_LARGE (-209) /* document past the size limit */
#define SCONE_VIDEO_ERR_NO_MEDIA (-210)  /* the player found nothing to play */
/* A segment failed all its retries (timeouts, resets, 5xx) and
 * stop_on_failure is set: the server stalls or fails. */
#define SCONE_VIDEO_ERR_FAILED (-211)
/* The adapter lost its connection to the server (scone_video_player_abort). */
#define SCONE_VIDEO_ERR_CONNECTION (-212)
/* A segment was missing (4xx) and stop_on_missing is set. */
#define SCONE_VIDEO_ERR_SEGMENT_MISSING (-213)

/* A short description of a SCONE_VIDEO_ERR_* or SCONE_ERR_* value. */
const char *scone_video_strerror(int err);

/* --------------------------------------------------------------------- MPD */

#define SCONE_VIDEO_MAX_PERIODS 8
#define SCONE_VIDEO_MAX_SETS 32          /* adaptation sets, all periods */
#define SCONE_VIDEO_MAX_REPS 128         /* representations, all periods */
#define SCONE_VIDEO_MAX_TIMELINE 1024    /* S entries, all representations */
#define SCONE_VIDEO_MAX_SEGMENTS 1000000 /* per representation */
#define SCONE_VIDEO_ID_MAX 64
#define SCONE_VIDEO_STR_MAX 64 /* mimeType, codecs */
/* SegmentTemplate media and initialization */
#define SCONE_VIDEO_TEMPLATE_MAX 256
#define SCONE_VIDEO_URL_MAX 1024 /* BaseURL and every resolved URL */
/* Longest presentation accepted: 30 days. */
#define SCONE_VIDEO_MAX_DURATION ((scone_duration)30 * 86400 * SCONE_SECONDS)

typedef enum scone_video_media {
  SCONE_VIDEO_MEDIA_OTHER = 0,
  SCONE_VIDEO_MEDIA_VIDEO = 1,
  SCONE_VIDEO_MEDIA_AUDIO = 2,
  SCONE_VIDEO_MEDIA_TEXT = 3,
} scone_video_media;

typedef struct scone_video_period {
  char id[SCONE_VIDEO_ID_MAX + 1];
  scone_duration start, duration; /* on the presentation timeline */
  char base_url[SCONE_VIDEO_URL_MAX + 1];
  uint32_t first_set, nsets; /* into scone_video_mpd.sets */
} scone_video_period;

typedef struct scone_video_set {
  uint32_t period;
  scone_video_media media;
  char base_url[SCONE_VIDEO_URL_MAX + 1];
  uint32_t first_rep, nreps; /* into reps, sorted by ascending bandwidth */
} scone_video_set;

/* One S element of a SegmentTimeline: count segments of d from t. */
typedef struct scone_video_timeline_entry {
  uint64_t t, d, count;
} scone_video_timeline_entry;

typedef struct scone_video_rep {
  uint32_t set;
  char id[SCONE_VIDEO_ID_MAX + 1];
  char mime[SCONE_VIDEO_STR_MAX + 1];
  char codecs[SCONE_VIDEO_STR_MAX + 1];
  uint64_t bandwidth; /* bit/s */
  uint32_t width, height;
  char base_url[SCONE_VIDEO_URL_MAX + 1];
  /* SegmentTemplate, merged down from Period and AdaptationSet. */
  char init[SCONE_VIDEO_TEMPLATE_MAX + 1]; /* "" when there is none */
  char media[SCONE_VIDEO_TEMPLATE_MAX + 1];
  uint64_t timescale;          /* units per second */
  uint64_t duration;           /* per segment, in timescale units; 0 with a
                                  timeline */
  uint64_t start_number;       /* $Number$ of the first segment */
  uint64_t pto;                /* presentationTimeOffset, timescale units */
  uint32_t tl_first, tl_count; /* into timeline; tl_count 0: none */
  uint64_t nsegments;
} scone_video_rep;

typedef struct scone_video_mpd {
  scone_duration duration; /* mediaPresentationDuration, or the periods' */
  scone_duration min_buffer_time;
  char base_url[SCONE_VIDEO_URL_MAX + 1];
  uint32_t nperiods, nsets, nreps, ntimeline;
  scone_video_period periods[SCONE_VIDEO_MAX_PERIODS];
  scone_video_set sets[SCONE_VIDEO_MAX_SETS];
  scone_video_rep reps[SCONE_VIDEO_MAX_REPS];
  scone_video_timeline_entry timeline[SCONE_VIDEO_MAX_TIMELINE];
} scone_video_mpd;

#define SCONE_VIDEO_MPD_SETTINGS_V1 1
typedef struct scone_video_mpd_settings {
  uint32_t version; /* SCONE_VIDEO_MPD_SETTINGS_V1 */
  size_t max_bytes; /* larger documents are refused; default 1 MiB */
} scone_video_mpd_settings;

void scone_video_mpd_settings_default(scone_video_mpd_settings *s);

/* Where and why a parse failed. */
typedef struct scone_video_mpd_error {
  int code; /* the return value */
  int line; /* line of the offending element, 0 when unknown */
  char what[160];
} scone_video_mpd_error;

/* Parses an MPD document. libxml2 reads the XML with network access off,
 * no entity substitution and no DTD loading, and documents with a DOCTYPE
 * are refused (an MPD needs none; entity definitions are how XML bombs
 * work). Settings NULL means defaults; an unknown version is
 * SCONE_ERR_INVALID_ARGUMENT. Returns 0 or a SCONE_VIDEO_ERR_*; err (may be
 * NULL) says where. */
int scone_video_mpd_parse(scone_video_mpd *mpd, const char *xml, size_t len,
                          const scone_video_mpd_settings *settings,
                          scone_video_mpd_error *err);

/* The first adaptation set of the period with this media, or -1. */
int scone_video_mpd_find_set(const scone_video_mpd *mpd, uint32_t period,
                             scone_video_media media);

typedef struct scone_video_segment {
  uint64_t number;         /* $Number$ */
  uint64_t time;           /* $Time$, timescale units */
  scone_duration start;    /* from the period's start */
  scone_duration duration; /* the last one may be shorter */
} scone_video_segment;

/* Segment index (0 .. nsegments-1) of a representation. Returns 0 or
 * SCONE_ERR_INVALID_ARGUMENT. */
int scone_video_mpd_segment(const scone_video_mpd *mpd, uint32_t rep,
                            uint64_t index, scone_video_segment *out);

#define SCONE_VIDEO_INIT UINT64_MAX /* the index of the init segment */

/* The URL of a segment (or SCONE_VIDEO_INIT) of rep: the template
 * expanded, resolved (RFC 3986) against the representation's, set's,
 * period's and MPD's BaseURL, then against mpd_url, the URL the MPD came
 * from: absolute ("https://host/dir/x.mpd") or a path ("/dir/x.mpd").
 * Returns the length, SCONE_ERR_NOBUF, or SCONE_ERR_INVALID_ARGUMENT (no
 * init template, index past the end). */
int scone_video_mpd_url(const scone_video_mpd *mpd, uint32_t rep,
                        uint64_t index, const char *mpd_url, char *buf,
                        size_t len);

/* RFC 3986 5.2 reference resolution of ref against base (absolute, or a
 * path starting with '/'). Returns the length or SCONE_ERR_NOBUF. */
int scone_video_url_resolve(char *buf, size_t len, const char *base,
                            const char *ref);

/* ---------------------------------------------------------- buffer model */

#define SCONE_VIDEO_BUFFER_SETTINGS_V1 1
typedef struct scone_video_buffer_settings {
  uint32_t version;
  scone_duration startup; /* buffered media to start playing; default 4 s */
  scone_duration resume;  /* ... to resume after a stall; default 2 s */
  scone_duration max;     /* no request that would pass it; default 30 s */
} scone_video_buffer_settings;

void scone_video_buffer_settings_default(scone_video_buffer_settings *s);

typedef enum scone_video_play_state {
  SCONE_VIDEO_STARTUP = 0, /* not yet started */
  SCONE_VIDEO_PLAYING = 1,
  SCONE_VIDEO_STALLED = 2, /* ran dry after starting */
  SCONE_VIDEO_ENDED = 3,   /* played up to the end */
} scone_video_play_state;

#define SCONE_VIDEO_MAX_TRACKS 2

/* Media time advances in real time while playing; the playhead cannot
 * pass the least buffered end of the tracks (video and audio). */
typedef struct scone_video_buffer {
  scone_video_buffer_settings s;
  scone_video_play_state state;
  uint32_t ntracks;
  scone_duration end[SCONE_VIDEO_MAX_TRACKS]; /* buffered up to, media time */
  scone_duration position;                    /* the playhead */
  scone_duration media_end;                   /* where playback ends */
  scone_tstamp created, last, play_start, stall_since;
  uint32_t stalls;
  scone_duration stall_time; /* finished stalls; see _stall_time_at */
} scone_video_buffer;

/* settings NULL means defaults; a bad version or a resume above max is
 * SCONE_ERR_INVALID_ARGUMENT. ntracks is 1 or 2. */
int scone_video_buffer_init(scone_video_buffer *b,
                            const scone_video_buffer_settings *settings,
                            uint32_t ntracks, scone_duration media_end,
                            scone_tstamp now);
/* Plays from the last call to now: a stall begins at the instant the
 * buffer ran dry, playback ends at media_end. Time never goes back. */
void scone_video_buffer_advance(scone_video_buffer *b, scone_tstamp now);
/* A track's buffered end moved to end (a segment arrived, or was skipped);
 * starts or resumes playback when the thresholds are met. */
void scone_video_buffer_extend(scone_video_buffer *b, uint32_t track,
                               scone_duration end, scone_tstamp now);
/* Buffered media ahead of the playhead (least over the tracks), or of one
 * track. */
scone_duration scone_video_buffer_level(const scone_video_buffer *b);
scone_duration scone_video_buffer_track_level(const scone_video_buffer *b,
                                              uint32_t track);
/* Stall time including a stall still going on at now. */
scone_duration scone_video_buffer_stall_time_at(const scone_video_buffer *b,
                                                scone_tstamp now);

/* -------------------------------------------------------------------- ABR */

typedef enum scone_video_abr_rule {
  SCONE_VIDEO_ABR_DYNAMIC = 0,    /* dash.js DYNAMIC: throughput rule until
                                     the buffer reaches stable_buffer, BOLA
                                     until it falls under half of it */
  SCONE_VIDEO_ABR_THROUGHPUT = 1, /* the throughput rule only */
  SCONE_VIDEO_ABR_BOLA = 2,       /* BOLA-O only */
} scone_video_abr_rule;

#define SCONE_VIDEO_ABR_SETTINGS_V1 1
typedef struct scone_video_abr_settings {
  uint32_t version;
  scone_video_abr_rule rule;
  uint32_t safety_pct;            /* of the estimate; default 90 */
  scone_duration fast_half_life;  /* EWMA over download time; default 3 s */
  scone_duration slow_half_life;  /* default 8 s */
  uint64_t initial_bps;           /* estimate before any sample; 1 Mbit/s */
  uint64_t min_sample_bytes;      /* smaller transfers are no sample;
                                     default 10000 */
  scone_duration stable_buffer;   /* dash.js stableBufferTime; 12 s */
  scone_duration bola_min_buffer; /* BOLA's MINIMUM_BUFFER_S: 10 s */
  scone_duration bola_per_level;  /* ... _PER_BITRATE_LEVEL_S: 2 s */
} scone_video_abr_settings;

void scone_video_abr_settings_default(scone_video_abr_settings *s);

/* Throughput estimate: two EWMAs weighted by download time, corrected for
 * their zero start, and the lower of the two (dash.js's ewma mode). */
typedef struct scone_video_throughput {
  double fast, slow;       /* bit/s, uncorrected */
  double weight;           /* download seconds seen */
  double fast_hl, slow_hl; /* half-lives in seconds */
  uint64_t min_bytes;
  uint32_t samples;
} scone_video_throughput;

void scone_video_throughput_init(scone_video_throughput *t,
                                 const scone_video_abr_settings *s);
/* One transfer: bytes in elapsed (first byte to last). Returns 1 if taken. */
int scone_video_throughput_sample(scone_video_throughput *t, uint64_t bytes,
                                  scone_duration elapsed);
/* bit/s; 0 before any sample. */
uint64_t scone_video_throughput_estimate(const scone_video_throughput *t);

/* The throughput rule: the highest rung whose bitrate is at most
 * safety_pct of estimate_bps (the lowest when none is). */
size_t scone_video_abr_throughput_rule(const uint64_t *ladder, size_t n,
                                       uint64_t estimate_bps,
                                       uint32_t safety_pct);

/* BOLA (Spiteri et al., as dash.js's BolaRule computes it): the rung
 * maximising (Vp (u_i + gp) - level) / bitrate_i, with utilities
 * u_i = ln(b_i / b_0) + 1 and Vp, gp set so that the top rung is chosen
 * from a buffer of max(stable_buffer, min_buffer + per_level * n). */
size_t scone_video_abr_bola_rule(const uint64_t *ladder, size_t n,
                                 scone_duration level,
                                 const scone_video_abr_settings *s);

typedef struct scone_video_abr {
  scone_video_abr_settings s;
  scone_video_throughput tput;
  int using_bola;     /* DYNAMIC's current choice */
  int last;           /* the last rung chosen, -1 before any */
  double placeholder; /* BOLA's virtual buffer, seconds */
  int idle;           /* no download since idle_since */
  scone_tstamp idle_since;
} scone_video_abr;

/* settings NULL means defaults; bad version or safety 0 or above 100:
 * SCONE_ERR_INVALID_ARGUMENT. */
int scone_video_abr_init(scone_video_abr *a,
                         const scone_video_abr_settings *settings);
/* The rung for the next segment of an ascending ladder (bit/s), given the
 * buffer level, under cap_bps (0: none), at now. The rules work on the
 * rungs at or under the cap (at least the lowest), as dash.js filters its
 * ladder by CMSD mb before its rules run. BOLA runs on the buffer plus
 * dash.js's placeholder: set when BOLA takes over so that it keeps the
 * current rung, grown by the time the player spent idle, trimmed to what
 * the chosen rung needs; BOLA-O limits an up-switch to what the throughput
 * rule allows. Returns the index, or SCONE_ERR_INVALID_ARGUMENT for an
 * empty or unsorted ladder. */
int scone_video_abr_choose(scone_video_abr *a, const uint64_t *ladder, size_t n,
                           scone_duration level, uint64_t cap_bps,
                           scone_tstamp now);
/* A download ended at now: the player is idle until the next one. */
void scone_video_abr_download_done(scone_video_abr *a, scone_tstamp now);

/* --------------------------------------------------------- advice pacing */

/* When the next request may start so that the bytes received over any
 * 67 s stay within the advice (docs/video.md). The budget runs at the
 * media cap (the advice less the overhead margin): the margin leaves room
 * for what the element counts beyond the bytes the player sees (IP, UDP
 * and QUIC headers, retransmissions). */
typedef struct scone_video_pacer {
  scone_budget budget;
  uint64_t cap_bps; /* 0: no advice, no limit */
  int reset_on_decrease;
  scone_duration period; /* the budget's window; 0: SCONE_PERIOD */
} scone_video_pacer;

void scone_video_pacer_init(scone_video_pacer *p, int reset_on_decrease);
/* A new media cap (0: advice expired). A lower cap, or a cap after none,
 * starts a new window when reset_on_decrease is set: bytes fetched under
 * the earlier, higher advice are judged against it by a monitor that
 * follows the draft (the highest advice of the last two periods), and
 * counting them against the new one would stall the player for up to a
 * period for bytes it was allowed. */
void scone_video_pacer_set_cap(scone_video_pacer *p, uint64_t cap_bps);
void scone_video_pacer_consume(scone_video_pacer *p, uint64_t bytes,
                               scone_tstamp now);
/* Bytes that may arrive now (UINT64_MAX without a cap). */
uint64_t scone_video_pacer_available(scone_video_pacer *p, scone_tstamp now);
/* The earliest time at or after now when need bytes fit; when need is
 * more than a whole period allows, the time the window is empty. */
scone_tstamp scone_video_pacer_when(const scone_video_pacer *p, uint64_t need,
                                    scone_tstamp now);

/* ------------------------------------------------------------ player core */

typedef enum scone_video_cmcd_mode {
  SCONE_VIDEO_CMCD_HEADERS = 0, /* the four CMCD-* request headers */
  SCONE_VIDEO_CMCD_QUERY = 1,   /* the CMCD= query argument */
  SCONE_VIDEO_CMCD_NONE = 2,
} scone_video_cmcd_mode;

#define SCONE_VIDEO_PLAYER_SETTINGS_V1 1
typedef struct scone_video_player_settings {
  uint32_t version; /* SCONE_VIDEO_PLAYER_SETTINGS_V1 */
  scone_video_buffer_settings buffer;
  scone_video_abr_settings abr;
  scone_app_settings app; /* overhead margin for the media cap */
  /* 1 (default): cap the ladder at the media cap, honour CMSD mb, pace
   * requests by the advice budget, send rtp. 0: --ignore-advice, as
   * players without SCONE behave. */
  int use_advice;
  int reset_on_decrease;            /* see scone_video_pacer; default 1 */
  uint32_t response_overhead_bytes; /* counted per response for headers;
                                       default 300 */
  scone_duration request_timeout;   /* without progress; default 5 s */
  uint32_t max_retries;             /* per segment; default 3 */
  scone_duration retry_backoff;     /* doubled per retry; default 500 ms */
  /* 404 and other 4xx: 0 (default) skips the segment and counts it;
   * 1 ends the session with SCONE_VIDEO_ERR_SEGMENT_MISSING. */
  int stop_on_missing;
  scone_duration play_limit; /* stop after this much media; 0: all */
  scone_video_cmcd_mode cmcd;
  char session_id[SCONE_APP_CMCD_ID_MAX + 1]; /* CMCD sid; "" derives one
                                                 from seed */
  uint64_t seed;
  /* A segment that fails all its retries: 0 (default) skips it as a 404
   * is; 1 ends the session with SCONE_VIDEO_ERR_FAILED. */
  int stop_on_failure;
  /* The advice budget's window: 0 (default) is the draft's 67 s. A lab
   * whose element runs a shortened period (sconed's lab_short_period)
   * gives the same here, or the player's bursts within 67 s would look
   * non-conforming over the element's shorter periods. */
  scone_duration budget_period;
} scone_video_player_settings;

void scone_video_player_settings_default(scone_video_player_settings *s);

/* The CMCD session id a player derives from seed when its settings give
 * none (UUID-shaped), for requests an adapter makes itself (the MPD). */
void scone_video_session_id(uint64_t seed, char out[SCONE_APP_CMCD_ID_MAX + 1]);

typedef enum scone_video_action_type {
  SCONE_VIDEO_ACTION_NONE = 0,    /* nothing until input or the wakeup */
  SCONE_VIDEO_ACTION_REQUEST = 1, /* send this GET */
  SCONE_VIDEO_ACTION_CANCEL = 2,  /* abandon request id (reset its stream);
                                     report nothing more for it */
  SCONE_VIDEO_ACTION_DONE = 3,    /* the session is over */
} scone_video_action_type;

typedef struct scone_video_header {
  const char *name, *value;
} scone_video_header;

/* A request to send. Pointers stay valid until the next poll. */
typedef struct scone_video_request {
  uint64_t id;
  const char *url;  /* resolved as scone_video_mpd_url, with the CMCD query
                       argument in query mode */
  const char *path; /* the path and query within url (what :path carries) */
  int has_range;    /* resuming a partial transfer: Range: bytes=first- */
  uint64_t range_first;
  size_t nheaders; /* CMCD-* headers in header mode, empty ones left out */
  scone_video_header headers[4];
  scone_app_cm_ot ot;      /* what it fetches: i, v or a */
  uint64_t expected_bytes; /* what the pacer reserved */
} scone_video_request;

typedef struct scone_video_action {
  scone_video_action_type type;
  scone_video_request req; /* REQUEST */
  uint64_t cancel_id;      /* CANCEL */
  int error;               /* DONE: 0, or why the session failed */
} scone_video_action;

/* What the segment callback reports, once per media segment done or
 * skipped. */
typedef struct scone_video_segment_report {
  scone_tstamp t; /* since the session started */
  scone_video_media media;
  uint64_t number;      /* $Number$ */
  uint32_t rung;        /* index in its set's ladder */
  uint64_t bitrate_bps; /* the representation's bandwidth */
  uint64_t bytes;
  scone_duration download; /* first byte to last */
  scone_duration buffer;   /* level after it */
  uint64_t throughput_bps; /* estimate after it */
  uint64_t advice_bps;     /* 0: none */
  uint64_t cap_bps;        /* media cap in force, 0: none */
  int skipped;             /* 404 or out of retries: not played */
  int failed;              /* skipped because its retries ran out */
  scone_video_play_state state;
} scone_video_segment_report;

/* "t=12.345 video #7 rung 4 1050k 262.1kB in 0.120s buf 8.1s tput 19.80M
 * advice 1.41M cap 1.27M playing" (and "SKIPPED"), no newline. Returns
 * the length or SCONE_ERR_NOBUF. */
int scone_video_segment_report_line(char *buf, size_t len,
                                    const scone_video_segment_report *r);

typedef struct scone_video_player_callbacks {
  void (*segment)(const scone_video_segment_report *r, void *user_data);
} scone_video_player_callbacks;

typedef struct scone_video_player scone_video_player;

/* Plays the first period's first video set (and first audio set, if any)
 * and on through the periods; the MPD is copied. mpd_url is where it came
 * from (see scone_video_mpd_url). Settings NULL means defaults. Returns 0,
 * SCONE_ERR_INVALID_ARGUMENT (bad settings version or values),
 * SCONE_VIDEO_ERR_NO_MEDIA (no video), or SCONE_ERR_NOBUF (no memory). */
int scone_video_player_new(scone_video_player **pp, const scone_video_mpd *mpd,
                           const char *mpd_url,
                           const scone_video_player_settings *settings,
                           const scone_video_player_callbacks *cb,
                           void *user_data, scone_tstamp now);
void scone_video_player_del(scone_video_player *p);

/* The next thing to do at now; call until it returns NONE, then again on
 * any input or at scone_video_player_wakeup(). At most one request is in
 * flight: the core measures throughput on it and paces by it. */
scone_video_action_type scone_video_player_poll(scone_video_player *p,
                                                scone_tstamp now,
                                                scone_video_action *a);
/* When poll has work without new input; UINT64_MAX when it has none. */
scone_tstamp scone_video_player_wakeup(const scone_video_player *p);

/* Inputs. The advice in force changed (NULL or signal 127: none). */
void scone_video_player_on_advice(scone_video_player *p, scone_tstamp now,
                                  const scone_advice *advice);
/* The response headers of request id: status, and the CMSD-Dynamic value
 * (NULL when absent). Returns 0, or SCONE_ERR_INVALID_ARGUMENT for an id
 * not in flight. */
int scone_video_player_on_headers(scone_video_player *p, scone_tstamp now,
                                  uint64_t id, int status,
                                  const char *cmsd_dynamic, size_t cmsd_len);
/* Body bytes of request id arrived. */
int scone_video_player_on_data(scone_video_player *p, scone_tstamp now,
                               uint64_t id, uint64_t bytes);
/* Request id ended: complete (error 0) or failed (reset, connection lost). */
int scone_video_player_on_done(scone_video_player *p, scone_tstamp now,
                               uint64_t id, int error);
/* Ends the session with error (a SCONE_VIDEO_ERR_*, e.g. CONNECTION when
 * the adapter lost its connection): the next poll returns DONE with it,
 * and the QoE record names it. */
void scone_video_player_abort(scone_video_player *p, scone_tstamp now,
                              int error);
/* Other bytes received on the same path (the MPD itself): counted in the
 * budget and the record. */
void scone_video_player_note_bytes(scone_video_player *p, scone_tstamp now,
                                   uint64_t bytes);

/* The session's QoE. */
typedef struct scone_video_qoe {
  int started;
  scone_duration startup_delay;
  uint32_t stalls; /* after startup */
  scone_duration stall_time;
  double rebuffering_ratio;           /* stall time / (played + stall time) */
  scone_duration played;              /* media time played */
  scone_duration session;             /* since the player was created */
  uint64_t mean_bitrate_bps;          /* over video segments fetched */
  uint64_t time_weighted_bitrate_bps; /* over media time of them */
  uint32_t switches;                  /* video rung changes */
  uint64_t bytes;                     /* body bytes received (and noted) */
  uint64_t max_bytes_67s;             /* most bytes in any 67 s, 100 ms steps */
  uint32_t segments, missing, retries, timeouts;
  uint32_t top_rung; /* the highest video rung fetched */
  int error;         /* 0, or why the session ended early */
} scone_video_qoe;

void scone_video_player_qoe(const scone_video_player *p, scone_tstamp now,
                            scone_video_qoe *out);

/* The QoE record as one JSON object: the scone_video_qoe fields (times in
 * seconds), "advice_timeline": [{"t": s, "bps": n or null}, ...] and
 * "rung_timeline": [{"t": s, "rung": i, "bps": n}, ...] (times since the
 * session started; each list keeps its first 512 entries and says how
 * many it dropped). Returns the length or SCONE_ERR_NOBUF. */
int scone_video_player_qoe_json(const scone_video_player *p, scone_tstamp now,
                                char *buf, size_t len);

/* ------------------------------------------------------ synthetic content */

/* The ladder scone-content encodes: 235 ... 5800 kbit/s, 16:9. */
typedef struct scone_video_rung {
  uint64_t bps;
  uint32_t width, height;
} scone_video_rung;

#define SCONE_VIDEO_LADDER_RUNGS 10
#define SCONE_VIDEO_AUDIO_BPS 128000
extern const scone_video_rung scone_video_ladder[SCONE_VIDEO_LADDER_RUNGS];

#define SCONE_VIDEO_SYNTH_SETTINGS_V1 1
typedef struct scone_video_synth_settings {
  uint32_t version;
  scone_duration duration; /* default 120 s */
  scone_duration segment;  /* default 2 s */
  uint32_t jitter_pct;     /* segment sizes vary +-this; default 10 */
  uint64_t seed;
} scone_video_synth_settings;

void scone_video_synth_settings_default(scone_video_synth_settings *s);

/* The MPD of the synthetic presentation, in the shape of scone-content's
 * ffmpeg output (representation ids "0".."9" video, "10" audio;
 * init-stream$RepresentationID$.m4s,
 * chunk-stream$RepresentationID$-$Number%05d$.m4s). Returns the length,
 * SCONE_ERR_NOBUF or SCONE_ERR_INVALID_ARGUMENT. */
int scone_video_synth_mpd(char *buf, size_t len,
                          const scone_video_synth_settings *s);
/* Size of a segment of representation rep (0..10) with $Number$ number
 * (from 1), or of its init segment (number 0): the rung's bitrate times
 * the duration, varied deterministically by seed. */
uint64_t scone_video_synth_size(const scone_video_synth_settings *s,
                                uint32_t rep, uint64_t number);

#ifdef __cplusplus
}
#endif

#endif /* SCONE_VIDEO_H */
