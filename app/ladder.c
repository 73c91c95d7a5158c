/*
 * Rendition choice against a bitrate cap.
 */
#include "internal.h"

int scone_app_ladder_pick(const uint64_t *ladder_bps, size_t n,
                          uint64_t cap_bps) {
  if (!ladder_bps || n == 0 || n > INT32_MAX)
    return SCONE_ERR_INVALID_ARGUMENT;
  /* Validate the whole ladder, not just the part scanned: an unsorted one is
   * a configuration error the caller should hear about on every call. */
  for (size_t i = 1; i < n; i++)
    if (ladder_bps[i] < ladder_bps[i - 1])
      return SCONE_ERR_INVALID_ARGUMENT;
  if (cap_bps == 0)
    return (int)(n - 1);
  size_t best = 0;
  for (size_t i = 0; i < n && ladder_bps[i] <= cap_bps; i++)
    best = i;
  return (int)best;
}
