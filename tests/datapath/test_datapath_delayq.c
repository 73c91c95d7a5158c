/*
 * The shaper's delay queue: release order by time then arrival, its bound,
 * and that it keeps its own copies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include "delayq.h"

#include <stdlib.h>
#include <string.h>

static void delayq_orders_by_time_then_arrival(void **state) {
  (void)state;
  sconed_delayq q;
  assert_int_equal(sconed_delayq_init(&q, 8), 0);
  const scone_tstamp at[] = {50, 10, 30, 10, 20, 50};
  for (int i = 0; i < 6; i++)
    assert_int_equal(sconed_delayq_push(&q, at[i], (uint64_t)i, NULL, NULL, 0),
                     0);
  assert_int_equal(sconed_delayq_next(&q), 10);
  sconed_delayed d;
  assert_int_equal(sconed_delayq_pop_due(&q, 9, &d), 0);
  const uint64_t want[] = {1, 3, 4, 2, 0, 5};
  for (int i = 0; i < 6; i++) {
    assert_int_equal(sconed_delayq_pop_due(&q, 100, &d), 1);
    assert_int_equal(d.key, want[i]);
  }
  assert_int_equal(sconed_delayq_pop_due(&q, 100, &d), 0);
  assert_true(sconed_delayq_next(&q) == UINT64_MAX);
  sconed_delayq_free(&q);
}

static void delayq_is_bounded_and_copies(void **state) {
  (void)state;
  sconed_delayq q;
  assert_int_equal(sconed_delayq_init(&q, 2), 0);
  uint8_t pkt[3] = {1, 2, 3};
  assert_int_equal(sconed_delayq_push(&q, 5, 7, &q, pkt, 3), 0);
  pkt[0] = 9; /* the queue holds its own copy */
  assert_int_equal(sconed_delayq_push(&q, 6, 8, NULL, NULL, 0), 0);
  assert_int_equal(sconed_delayq_push(&q, 1, 9, NULL, NULL, 0), -1);
  sconed_delayed d;
  assert_int_equal(sconed_delayq_pop_due(&q, 5, &d), 1);
  assert_ptr_equal(d.owner, &q);
  assert_int_equal(d.len, 3);
  assert_int_equal(d.data[0], 1);
  free(d.data);
  /* One left: freeing the queue frees it (ASan would see a leak). */
  sconed_delayq_free(&q);
}

static void delayq_many_random(void **state) {
  (void)state;
  sconed_delayq q;
  assert_int_equal(sconed_delayq_init(&q, 1000), 0);
  uint64_t s = 88172645463325252ULL;
  for (int i = 0; i < 1000; i++) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    assert_int_equal(sconed_delayq_push(&q, s % 97, (uint64_t)i, NULL, NULL, 0),
                     0);
  }
  sconed_delayed d, prev = {0};
  int n = 0;
  while (sconed_delayq_pop_due(&q, UINT64_MAX, &d)) {
    if (n)
      assert_true(prev.at < d.at || (prev.at == d.at && prev.key < d.key));
    prev = d;
    n++;
  }
  assert_int_equal(n, 1000);
  sconed_delayq_free(&q);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(delayq_orders_by_time_then_arrival),
      cmocka_unit_test(delayq_is_bounded_and_copies),
      cmocka_unit_test(delayq_many_random),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
