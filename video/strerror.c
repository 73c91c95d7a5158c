/*
 * Names for the video error codes.
 */
#include <scone/video.h>

const char *scone_video_strerror(int err) {
  switch (err) {
  case SCONE_VIDEO_ERR_XML:
    return "not well-formed XML";
  case SCONE_VIDEO_ERR_NOT_MPD:
    return "not an MPD";
  case SCONE_VIDEO_ERR_MISSING:
    return "required element or attribute missing";
  case SCONE_VIDEO_ERR_VALUE:
    return "attribute value does not parse";
  case SCONE_VIDEO_ERR_RANGE:
    return "number out of range";
  case SCONE_VIDEO_ERR_TEMPLATE:
    return "bad segment URL template";
  case SCONE_VIDEO_ERR_LIMIT:
    return "more than this player supports";
  case SCONE_VIDEO_ERR_UNSUPPORTED:
    return "unsupported MPD feature";
  case SCONE_VIDEO_ERR_TOO_LARGE:
    return "document too large";
  case SCONE_VIDEO_ERR_NO_MEDIA:
    return "nothing to play";
  default:
    return scone_strerror(err);
  }
}
