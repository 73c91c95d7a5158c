/* Client/server direction of UDP 5-tuples seen in a capture. */
#ifndef SCONE_TOOL_FLOWS_H
#define SCONE_TOOL_FLOWS_H

#include <stddef.h>
#include <stdint.h>

#define FLOW_C2S 0
#define FLOW_S2C 1

typedef struct flow_table flow_table;

flow_table *flow_table_new(void);
void flow_table_free(flow_table *t);

/*
 * The direction of a datagram from src:sport to dst:dport (addresses of
 * addrlen 4 or 16 bytes). The first datagram seen on a 5-tuple makes its
 * sender the client. Returns FLOW_C2S, FLOW_S2C, or -1 when out of memory.
 */
int flow_direction(flow_table *t, const uint8_t *src, uint16_t sport,
                   const uint8_t *dst, uint16_t dport, size_t addrlen);

#endif /* SCONE_TOOL_FLOWS_H */
