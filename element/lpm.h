/*
 * Longest-prefix match of IPv4/IPv6 addresses to subscriber entries. Built
 * once per config and only consulted when a flow is created or re-resolved,
 * so it favours compactness over raw speed: one sorted array per family and
 * a binary search per distinct prefix length.
 */
#ifndef SCONED_LPM_H
#define SCONED_LPM_H

#include <stddef.h>
#include <stdint.h>

typedef struct sconed_lpm_entry {
  uint8_t addr[16]; /* masked to plen */
  uint8_t plen;
  uint8_t family; /* 4 or 6 */
  uint32_t value;
} sconed_lpm_entry;

typedef struct sconed_lpm {
  sconed_lpm_entry *e; /* sorted by family, plen descending, addr */
  size_t n, cap;
  /* Distinct prefix lengths per family, longest first, with the range of
   * entries holding each. */
  struct sconed_lpm_len {
    uint8_t plen;
    uint32_t lo, hi;
  } len[2][129];
  unsigned nlen[2];
} sconed_lpm;

void sconed_lpm_init(sconed_lpm *l);
void sconed_lpm_free(sconed_lpm *l);
/* Adds a prefix (addr holds 4 or 16 bytes). Returns 0, -1 when out of
 * memory. Duplicates are found by sconed_lpm_build. */
int sconed_lpm_add(sconed_lpm *l, int family, const uint8_t *addr,
                   unsigned plen, uint32_t value);
/* Sorts and indexes. Returns 0, or 1 + the larger value of two entries with
 * the same prefix (values are insertion order), so the caller can name the
 * line of the repeat. */
size_t sconed_lpm_build(sconed_lpm *l);
/* The value of the longest prefix holding addr; *plen gets its length.
 * Returns 0 on a match, -1 when none. */
int sconed_lpm_lookup(const sconed_lpm *l, int family, const uint8_t *addr,
                      uint32_t *value, unsigned *plen);
/* Parses "10.0.0.0/8", "2001:db8::/32" or a bare address (full length).
 * Host bits beyond the prefix must be zero. Returns 0 or -1. */
int sconed_prefix_parse(const char *s, int *family, uint8_t addr[16],
                        unsigned *plen);

#endif
