#include "args.h"

#include <scone/quic.h>

#include <stdlib.h>
#include <string.h>

int args_duration(const char *s, scone_duration *out) {
  char *end;
  double v = strtod(s, &end);
  if (end == s || v < 0)
    return -1;
  double unit = 1e9;
  if (strcmp(end, "") == 0 || strcmp(end, "s") == 0)
    unit = 1e9;
  else if (strcmp(end, "ms") == 0)
    unit = 1e6;
  else if (strcmp(end, "us") == 0)
    unit = 1e3;
  else if (strcmp(end, "ns") == 0)
    unit = 1;
  else if (strcmp(end, "m") == 0)
    unit = 60e9;
  else
    return -1;
  *out = (scone_duration)(v * unit);
  return 0;
}

int args_placement(const char *s, scone_quic_placement *out) {
  if (strcmp(s, "confirmed") == 0)
    *out = SCONE_QUIC_PLACEMENT_CONFIRMED;
  else if (strcmp(s, "handshake") == 0)
    *out = SCONE_QUIC_PLACEMENT_HANDSHAKE;
  else
    return -1;
  return 0;
}

int args_url_parse(const char *url, args_url *out) {
  static const char scheme[] = "https://";
  if (strncmp(url, scheme, sizeof(scheme) - 1) != 0)
    return -1;
  const char *p = url + sizeof(scheme) - 1;
  const char *hs, *he;
  if (*p == '[') {
    hs = p + 1;
    he = strchr(hs, ']');
    if (he == NULL)
      return -1;
    p = he + 1;
  } else {
    hs = p;
    p += strcspn(p, ":/");
    he = p;
  }
  size_t hl = (size_t)(he - hs);
  if (hl == 0 || hl >= sizeof(out->host))
    return -1;
  memcpy(out->host, hs, hl);
  out->host[hl] = '\0';
  strcpy(out->port, "443");
  if (*p == ':') {
    p++;
    size_t pl = strspn(p, "0123456789");
    if (pl == 0 || pl >= sizeof(out->port))
      return -1;
    memcpy(out->port, p, pl);
    out->port[pl] = '\0';
    p += pl;
  }
  if (*p == '\0')
    p = "/";
  if (*p != '/' || strlen(p) >= sizeof(out->path))
    return -1;
  strcpy(out->path, p);
  return 0;
}

double args_elapsed(void) {
  static scone_tstamp t0;
  scone_tstamp now = scone_quic_now();
  if (t0 == 0)
    t0 = now;
  return (double)(now - t0) / 1e9;
}
