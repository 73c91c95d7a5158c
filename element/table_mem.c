#include "table_mem.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)

void *sconed_table_mem(size_t bytes) {
  /* Past a few huge pages, random lookups miss the TLB on nearly every
   * packet with 4 KiB pages; 2 MiB pages (where the kernel has them) keep
   * one table lookup at one memory access. */
  size_t align = bytes >= 4 * HUGE_PAGE ? HUGE_PAGE : 64;
  size_t size = (bytes + align - 1) / align * align;
  void *p = aligned_alloc(align, size);
  if (!p)
    return NULL;
#ifdef MADV_HUGEPAGE
  if (align == HUGE_PAGE)
    (void)madvise(p, size, MADV_HUGEPAGE); /* a hint: fine if refused */
#endif
  /* Touched now so that a flood later never waits on page faults. */
  memset(p, 0, size);
  return p;
}
