#include "flow_table.h"

#include "table_mem.h"

#include <stdlib.h>
#include <string.h>

int sconed_table_init(sconed_table *t, size_t max_flows,
                      const uint64_t key[8]) {
  memset(t, 0, sizeof(*t));
  t->nbuckets = (max_flows + SCONED_BUCKET_SLOTS - 1) / SCONED_BUCKET_SLOTS;
  /* Bucket starts (slot numbers) fit 32 bits: the batch call keeps them
   * so; 2^32 slots would be 256 GiB. */
  if (t->nbuckets == 0 || t->nbuckets > (size_t)1 << 29)
    return -1;
  t->nslots = t->nbuckets * SCONED_BUCKET_SLOTS;
  /* Fingerprints share cache lines with their bucket-mates: a probe of one
   * bucket is one line. */
  t->tags = sconed_table_mem(t->nslots * sizeof(*t->tags));
  t->flows = sconed_table_mem(t->nslots * sizeof(*t->flows));
  if (!t->tags || !t->flows) {
    sconed_table_free(t);
    return -1;
  }
  memcpy(t->key, key, sizeof(t->key));
  return 0;
}

void sconed_table_free(sconed_table *t) {
  free(t->tags);
  free(t->flows);
  t->tags = NULL;
  t->flows = NULL;
}
