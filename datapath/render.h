/*
 * What the control endpoint shows: Prometheus text for /metrics and a JSON
 * summary for /state. Both take the datapath lock for a snapshot that is
 * O(plans), never O(flows), and name plans, never subscribers.
 */
#ifndef SCONED_RENDER_H
#define SCONED_RENDER_H

#include "dp.h"

#include <stddef.h>

/* malloc'd, NUL-terminated; NULL when out of memory. */
char *sconed_render_metrics(sconed_dp *dp, size_t *len);
char *sconed_render_state(sconed_dp *dp, size_t *len);

#endif
