/*
 * Content types by file extension: what a DASH player and a browser page
 * fetch from the content server. Segments (.m4s) are served as
 * video/iso.segment, the type ISO/IEC 23009-1 registers for them, which
 * dash.js and browsers accept for audio and video segments alike (the
 * server cannot tell one from the other by name).
 */
#include "content.h"

#include <string.h>
#include <strings.h>

static const struct {
  const char *ext, *type;
} types[] = {
    {"mpd", "application/dash+xml"},
    {"m4s", "video/iso.segment"},
    {"mp4", "video/mp4"},
    {"m4v", "video/mp4"},
    {"m4a", "audio/mp4"},
    {"webm", "video/webm"},
    {"weba", "audio/webm"},
    {"m3u8", "application/vnd.apple.mpegurl"},
    {"ts", "video/mp2t"},
    {"vtt", "text/vtt"},
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"js", "application/javascript"},
    {"mjs", "application/javascript"},
    {"css", "text/css"},
    {"json", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
    {"xml", "application/xml"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"ico", "image/x-icon"},
    {"wasm", "application/wasm"},
};

const char *sq_content_type(const char *path) {
  const char *slash = strrchr(path, '/');
  const char *base = slash != NULL ? slash + 1 : path;
  const char *dot = strrchr(base, '.');
  if (dot != NULL)
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
      if (strcasecmp(dot + 1, types[i].ext) == 0)
        return types[i].type;
  return "application/octet-stream";
}
