/*
 * The key layout: key names, the store's URL, and the check of each
 * entry's fields before it becomes INI text.
 */
#include "policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

int sconed_policy_ns_valid(const char *ns) {
  size_t n = strlen(ns);
  if (n == 0 || n >= SCONED_POLICY_NS_MAX)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!name_char(ns[i]))
      return 0;
  return 1;
}

static const char *const kind_word[SCONED_POLICY_KINDS] = {"plan", "cell",
                                                           "sub"};

int sconed_policy_key_parse(const char *ns, const char *key, size_t len,
                            const char **name, size_t *namelen) {
  size_t nl = strlen(ns);
  if (len <= nl + 1 || memcmp(key, ns, nl) || key[nl] != ':')
    return -1;
  const char *k = key + nl + 1;
  size_t rest = len - nl - 1;
  for (int i = 0; i < SCONED_POLICY_KINDS; i++) {
    size_t wl = strlen(kind_word[i]);
    if (rest <= wl + 1 || memcmp(k, kind_word[i], wl) || k[wl] != ':')
      continue;
    const char *n = k + wl + 1;
    size_t m = rest - wl - 1;
    /* Plans and cells become INI section names; subscriber ids are only
     * keys, but a control byte in one is a writer's mistake. */
    size_t max = i == SCONED_POLICY_SUB ? SCONED_POLICY_ID_MAX : 64;
    if (m >= max)
      return -1;
    for (size_t j = 0; j < m; j++) {
      unsigned char c = (unsigned char)n[j];
      if (i == SCONED_POLICY_SUB ? (c < 0x21 || c == 0x7f) : !name_char(n[j]))
        return -1;
    }
    *name = n;
    *namelen = m;
    return i;
  }
  return -1;
}

int sconed_policy_url_parse(const char *url, char *host, size_t hostlen,
                            int *port, char *err, size_t errlen) {
  static const char scheme[] = "redis://";
  if (strncmp(url, scheme, sizeof(scheme) - 1)) {
    snprintf(err, errlen, "policy store '%s': want redis://HOST:PORT", url);
    return -1;
  }
  const char *h = url + sizeof(scheme) - 1, *end, *colon;
  if (*h == '[') {
    end = strchr(h, ']');
    if (!end) {
      snprintf(err, errlen, "policy store '%s': no ']'", url);
      return -1;
    }
    h++;
    colon = end[1] == ':' ? end + 1 : end[1] ? NULL : end + 1;
    if (!colon) {
      snprintf(err, errlen, "policy store '%s': want [ADDR]:PORT", url);
      return -1;
    }
  } else {
    end = strchr(h, ':');
    if (!end)
      end = h + strlen(h);
    colon = end;
  }
  size_t n = (size_t)(end - h);
  if (n == 0 || n >= hostlen) {
    snprintf(err, errlen, "policy store '%s': bad host", url);
    return -1;
  }
  memcpy(host, h, n);
  host[n] = '\0';
  *port = 6379;
  if (*colon == ':') {
    char *e;
    long p = strtol(colon + 1, &e, 10);
    if (e == colon + 1 || *e || p < 1 || p > 65535) {
      snprintf(err, errlen, "policy store '%s': port 1 to 65535", url);
      return -1;
    }
    *port = (int)p;
  } else if (*colon) {
    snprintf(err, errlen, "policy store '%s': bad host", url);
    return -1;
  }
  return 0;
}
