/*
 * Memory for the engine's preallocated tables: zeroed, cache-line
 * aligned, touched at once, and for big tables on transparent huge pages.
 */
#ifndef SCONED_TABLE_MEM_H
#define SCONED_TABLE_MEM_H

#include <stddef.h>

/* NULL when out of memory; free() releases it. */
void *sconed_table_mem(size_t bytes);

#endif
