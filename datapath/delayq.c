#include "delayq.h"

#include <stdlib.h>
#include <string.h>

int sconed_delayq_init(sconed_delayq *q, size_t cap) {
  memset(q, 0, sizeof(*q));
  q->heap = calloc(cap ? cap : 1, sizeof(*q->heap));
  if (!q->heap)
    return -1;
  q->cap = cap ? cap : 1;
  return 0;
}

void sconed_delayq_free(sconed_delayq *q) {
  for (size_t i = 0; i < q->count; i++)
    free(q->heap[i].data);
  free(q->heap);
  memset(q, 0, sizeof(*q));
}

static int earlier(const sconed_delayed *a, const sconed_delayed *b) {
  return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void swap(sconed_delayed *a, sconed_delayed *b) {
  sconed_delayed t = *a;
  *a = *b;
  *b = t;
}

int sconed_delayq_push(sconed_delayq *q, scone_tstamp at, uint64_t key,
                       void *owner, const uint8_t *data, size_t len) {
  if (q->count == q->cap)
    return -1;
  uint8_t *copy = NULL;
  if (data) {
    copy = malloc(len ? len : 1);
    if (!copy)
      return -1;
    memcpy(copy, data, len);
  }
  size_t i = q->count++;
  q->heap[i] = (sconed_delayed){at, q->next_seq++, key, owner, copy, len};
  while (i > 0 && earlier(&q->heap[i], &q->heap[(i - 1) / 2])) {
    swap(&q->heap[i], &q->heap[(i - 1) / 2]);
    i = (i - 1) / 2;
  }
  return 0;
}

scone_tstamp sconed_delayq_next(const sconed_delayq *q) {
  return q->count ? q->heap[0].at : UINT64_MAX;
}

int sconed_delayq_pop_due(sconed_delayq *q, scone_tstamp now,
                          sconed_delayed *out) {
  if (!q->count || q->heap[0].at > now)
    return 0;
  *out = q->heap[0];
  q->heap[0] = q->heap[--q->count];
  size_t i = 0;
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < q->count && earlier(&q->heap[l], &q->heap[m]))
      m = l;
    if (r < q->count && earlier(&q->heap[r], &q->heap[m]))
      m = r;
    if (m == i)
      break;
    swap(&q->heap[i], &q->heap[m]);
    i = m;
  }
  return 1;
}
