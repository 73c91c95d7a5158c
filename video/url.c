/*
 * RFC 3986 section 5.2 reference resolution, for BaseURL chains and
 * segment templates. Fragments are dropped: they are never sent.
 */
#include "internal.h"

#include <string.h>

typedef struct part {
  const char *p;
  size_t n;
  int defined;
} part;

typedef struct uri {
  part scheme, authority, path, query;
} uri;

static int scheme_char(char c, int first) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
    return 1;
  return !first && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.');
}

/* Appendix B's split, without the regular expression. */
static void split(uri *u, const char *s) {
  memset(u, 0, sizeof *u);
  size_t i = 0;
  while (s[i] && scheme_char(s[i], i == 0))
    i++;
  if (i > 0 && s[i] == ':') {
    u->scheme = (part){s, i, 1};
    s += i + 1;
  }
  if (s[0] == '/' && s[1] == '/') {
    s += 2;
    size_t n = strcspn(s, "/?#");
    u->authority = (part){s, n, 1};
    s += n;
  }
  size_t n = strcspn(s, "?#");
  u->path = (part){s, n, 1};
  s += n;
  if (*s == '?') {
    s++;
    n = strcspn(s, "#");
    u->query = (part){s, n, 1};
  }
}

typedef struct buf {
  char *p;
  size_t cap, n;
  int err;
} buf;

static void put(buf *b, const char *s, size_t n) {
  if (b->err || b->n + n >= b->cap) {
    b->err = 1;
    return;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

/* 5.2.4, from in (n bytes) to out. */
static void remove_dot_segments(buf *out, const char *in, size_t n) {
  size_t start = out->n; /* the output path begins here */
  while (n > 0 && !out->err) {
    if (n >= 3 && !memcmp(in, "../", 3)) {
      in += 3, n -= 3;
    } else if (n >= 2 && !memcmp(in, "./", 2)) {
      in += 2, n -= 2;
    } else if (n >= 3 && !memcmp(in, "/./", 3)) {
      in += 2, n -= 2;
    } else if (n == 2 && !memcmp(in, "/.", 2)) {
      in = "/", n = 1;
    } else if ((n >= 4 && !memcmp(in, "/../", 4)) ||
               (n == 3 && !memcmp(in, "/..", 3))) {
      if (n == 3)
        in = "/", n = 1;
      else
        in += 3, n -= 3;
      /* Drop the last segment written, and its '/'. */
      while (out->n > start && out->p[out->n - 1] != '/')
        out->n--;
      if (out->n > start)
        out->n--;
      out->p[out->n] = '\0';
    } else if ((n == 1 && in[0] == '.') || (n == 2 && !memcmp(in, "..", 2))) {
      n = 0;
    } else {
      /* E: the first segment, with its leading '/', to the output. */
      size_t seg = in[0] == '/' ? 1 : 0;
      while (seg < n && in[seg] != '/')
        seg++;
      put(out, in, seg);
      in += seg, n -= seg;
    }
  }
}

int scone_video_url_resolve(char *dst, size_t len, const char *base,
                            const char *ref) {
  if (!dst || !base || !ref || len == 0)
    return SCONE_ERR_INVALID_ARGUMENT;
  uri b, r;
  split(&b, base);
  split(&r, ref);
  char merged[2 * SCONE_VIDEO_URL_MAX + 2];
  buf out = {dst, len, 0, 0};
  dst[0] = '\0';

  const part *scheme = r.scheme.defined ? &r.scheme : &b.scheme;
  const part *authority, *query;
  const char *path;
  size_t pathlen;
  if (r.scheme.defined || r.authority.defined) {
    authority = &r.authority;
    path = r.path.p, pathlen = r.path.n;
    query = &r.query;
  } else {
    authority = &b.authority;
    if (r.path.n == 0) {
      path = b.path.p, pathlen = b.path.n;
      query = r.query.defined ? &r.query : &b.query;
    } else if (r.path.p[0] == '/') {
      path = r.path.p, pathlen = r.path.n;
      query = &r.query;
    } else {
      /* 5.2.3: the base path up to its last '/', then the reference. */
      buf m = {merged, sizeof merged, 0, 0};
      if (b.authority.defined && b.path.n == 0) {
        put(&m, "/", 1);
      } else {
        size_t keep = b.path.n;
        while (keep > 0 && b.path.p[keep - 1] != '/')
          keep--;
        put(&m, b.path.p, keep);
      }
      put(&m, r.path.p, r.path.n);
      if (m.err)
        return SCONE_ERR_NOBUF;
      path = merged, pathlen = m.n;
      query = &r.query;
    }
  }
  if (scheme->defined) {
    put(&out, scheme->p, scheme->n);
    put(&out, ":", 1);
  }
  if (authority->defined) {
    put(&out, "//", 2);
    put(&out, authority->p, authority->n);
  }
  remove_dot_segments(&out, path, pathlen);
  if (query->defined) {
    put(&out, "?", 1);
    put(&out, query->p, query->n);
  }
  if (out.err) {
    dst[0] = '\0';
    return SCONE_ERR_NOBUF;
  }
  return (int)out.n;
}
