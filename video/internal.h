/*
 * Helpers shared by the sources of video/; not part of the public API.
 */
#ifndef SCONE_VIDEO_INTERNAL_H
#define SCONE_VIDEO_INTERNAL_H

#include <scone/video.h>

/* An unsigned decimal of digits only (no sign, no spaces) up to max.
 * Returns 0, SCONE_VIDEO_ERR_VALUE (not a number) or SCONE_VIDEO_ERR_RANGE
 * (above max). */
int scone_video_parse_u64(const char *s, uint64_t max, uint64_t *out);

/* An xs:duration ("PT1M30.5S", "P1DT2H"), non-negative, at most
 * SCONE_VIDEO_MAX_DURATION, fractions of a second to the nanosecond (finer
 * digits are dropped). Years count 365 days and months 30, as dash.js
 * counts them. Returns 0, SCONE_VIDEO_ERR_VALUE or SCONE_VIDEO_ERR_RANGE. */
int scone_video_parse_duration(const char *s, scone_duration *out);

/* Checks a SegmentTemplate URL template: identifiers $$,
 * $RepresentationID$, $Number$, $Bandwidth$ and (only with a timeline)
 * $Time$, the numeric ones with an optional %0<width>d (width 1..32).
 * Returns 0 or SCONE_VIDEO_ERR_TEMPLATE with why in *why. */
int scone_video_template_check(const char *tpl, int has_timeline,
                               const char **why);

/* Expands a checked template. Returns the length or SCONE_ERR_NOBUF. */
int scone_video_template_expand(char *buf, size_t len, const char *tpl,
                                const char *rep_id, uint64_t number,
                                uint64_t bandwidth, uint64_t time);

/* Characters a representation id may have to be put in a URL (RFC 3986
 * unreserved and sub-delims, ':' and '@'): 1 or 0. */
int scone_video_id_url_safe(const char *id);

#endif /* SCONE_VIDEO_INTERNAL_H */
