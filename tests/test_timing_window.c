/* scone_window: bucket edges, jumps, clocks that step back, saturation, and a
 * randomised comparison with a direct recomputation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <scone/scone.h>

#define S SCONE_SECONDS

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static void test_window_bucket_edges(void **state) {
  (void)state;
  scone_window w;
  scone_window_init(&w, S, 4);
  scone_window_add(&w, S / 2, 100); /* bucket 0 */
  assert_int_equal(scone_window_sum(&w, S / 2), 100);
  /* Buckets 0..3 are the window while the head is in bucket 3. */
  assert_int_equal(scone_window_sum(&w, 4 * S - 1), 100);
  assert_int_equal(scone_window_sum(&w, 4 * S), 0);

  scone_window_add(&w, 6 * S - 1, 10); /* last ns of bucket 5 */
  scone_window_add(&w, 6 * S, 20);     /* first ns of bucket 6 */
  assert_int_equal(scone_window_sum(&w, 6 * S), 30);
  assert_int_equal(scone_window_sum(&w, 9 * S - 1), 30);
  assert_int_equal(scone_window_sum(&w, 9 * S), 20);
  assert_int_equal(scone_window_sum(&w, 10 * S - 1), 20);
  assert_int_equal(scone_window_sum(&w, 10 * S), 0);
}

static void test_window_partial_slide(void **state) {
  (void)state;
  scone_window w;
  scone_window_init(&w, 10, 3);
  for (uint64_t b = 0; b < 6; b++)
    scone_window_add(&w, b * 10 + 5, (uint64_t)1 << b);
  /* Head in bucket 5: buckets 3, 4, 5 remain. */
  assert_int_equal(scone_window_sum(&w, 55), 8 + 16 + 32);
  /* Skipping two buckets drops 3 and 4 but keeps 5. */
  assert_int_equal(scone_window_sum(&w, 70), 32);
  assert_int_equal(scone_window_sum(&w, 80), 0);
}

static void test_window_clamps(void **state) {
  (void)state;
  scone_window w;
  scone_window_init(&w, S, 0);
  assert_int_equal(w.nbuckets, 2);
  scone_window_init(&w, S, 1);
  assert_int_equal(w.nbuckets, 2);
  scone_window_init(&w, S, 1000);
  assert_int_equal(w.nbuckets, SCONE_WINDOW_MAX_BUCKETS);

  /* A zero bucket width must not divide by zero; it acts as 1 ns. */
  scone_window_init(&w, 0, 2);
  scone_window_add(&w, 7, 5);
  assert_int_equal(scone_window_sum(&w, 8), 5);
  assert_int_equal(scone_window_sum(&w, 9), 0);
}

static void test_window_big_jumps(void **state) {
  (void)state;
  scone_window w;
  scone_window_init(&w, 1, SCONE_WINDOW_MAX_BUCKETS);
  scone_window_add(&w, 0, 1);
  /* With 1 ns buckets these jumps are ~2^63 buckets: a per-bucket walk would
   * never finish. */
  assert_int_equal(scone_window_sum(&w, (uint64_t)1 << 63), 0);
  scone_window_add(&w, (uint64_t)1 << 63, 2);
  assert_int_equal(scone_window_sum(&w, UINT64_MAX - 100), 0);
  scone_window_add(&w, UINT64_MAX - 100, 3);
  /* 67 buckets later is still inside a 68-bucket window... */
  assert_int_equal(scone_window_sum(&w, UINT64_MAX - 33), 3);
  /* ...and the very last representable time is past it. */
  assert_int_equal(scone_window_sum(&w, UINT64_MAX), 0);
  scone_window_add(&w, UINT64_MAX, 4);
  assert_int_equal(scone_window_sum(&w, UINT64_MAX), 4);
}

static void test_window_jump_leaves_no_stale_buckets(void **state) {
  (void)state;
  scone_window w;
  const uint32_t n = 5;
  scone_window_init(&w, 100, n);
  for (uint64_t b = 0; b < n; b++)
    scone_window_add(&w, b * 100, 1000 + b);
  for (uint64_t jump = n - 1; jump <= n + 3; jump++) {
    scone_window ww = w;
    uint64_t base = (n - 1) * 100 + jump * 100;
    /* Only the buckets the jump did not pass remain. */
    uint64_t expect = 0;
    for (uint64_t b = 0; b < n; b++)
      if (b + n > n - 1 + jump)
        expect += 1000 + b;
    assert_int_equal(scone_window_sum(&ww, base), expect);
    /* Walking on one bucket at a time must never resurrect old buckets. */
    scone_window_add(&ww, base, 7);
    for (uint64_t step = 1; step < 2 * n; step++) {
      uint64_t e = step < n ? 7 : 0;
      for (uint64_t b = 0; b < n; b++)
        if (b + n > n - 1 + jump + step)
          e += 1000 + b;
      assert_int_equal(scone_window_sum(&ww, base + step * 100), e);
    }
  }
}

static void test_window_backwards_time(void **state) {
  (void)state;
  scone_window w;
  scone_window_init(&w, S, 3);
  scone_window_add(&w, 10 * S, 100);
  /* Five seconds back: counted as if it happened now, in bucket 10. */
  scone_window_add(&w, 5 * S, 50);
  assert_int_equal(scone_window_sum(&w, 5 * S), 150);
  assert_int_equal(scone_window_sum(&w, 0), 150);
  assert_int_equal(w.head_idx, 10);
  assert_int_equal(scone_window_sum(&w, 12 * S + S / 2), 150);
  assert_int_equal(scone_window_sum(&w, 13 * S), 0);
  /* State is intact afterwards. */
  scone_window_add(&w, 13 * S, 1);
  assert_int_equal(scone_window_sum(&w, 15 * S), 1);
  assert_int_equal(scone_window_sum(&w, 16 * S), 0);
}

static void test_window_saturates(void **state) {
  (void)state;
  scone_window w;
  scone_window_init(&w, 10, 3);
  scone_window_add(&w, 0, UINT64_MAX - 1);
  scone_window_add(&w, 10, 5);
  assert_true(scone_window_sum(&w, 10) == UINT64_MAX);
  scone_window_add(&w, 20, 6);
  assert_true(scone_window_sum(&w, 20) == UINT64_MAX);
  /* Once the huge bucket slides out the sum is exact again. */
  assert_int_equal(scone_window_sum(&w, 30), 11);
  assert_int_equal(scone_window_sum(&w, 40), 6);
}

struct ev {
  uint64_t idx, bytes;
};

static void test_window_random_against_reference(void **state) {
  (void)state;
  enum { NOPS = 20000 };
  static struct ev evs[NOPS];
  const uint32_t sizes[] = {2, 3, 7, 67, SCONE_WINDOW_MAX_BUCKETS};
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    const uint32_t n = sizes[k];
    const scone_duration width = 1000;
    scone_window w;
    scone_window_init(&w, width, n);
    size_t nev = 0, first = 0;
    uint64_t t = 5 * width, head = 0;
    for (int op = 0; op < NOPS; op++) {
      uint64_t r = rng();
      /* Mostly small steps, sometimes a long jump, sometimes backwards. */
      switch (r % 10) {
      case 0:
        t += (rng() % (3 * n)) * width;
        break;
      case 1:
        t = t > 4 * width ? t - rng() % (4 * width) : t;
        break;
      default:
        t += rng() % (width / 2);
      }
      uint64_t idx = t / width > head ? t / width : head;
      head = idx;
      if (r & 0x100) {
        uint64_t b = rng() % 5000;
        scone_window_add(&w, t, b);
        evs[nev].idx = idx;
        evs[nev].bytes = b;
        nev++;
      } else {
        /* Heads never move back, so events that left stay gone. */
        while (first < nev && evs[first].idx + n <= idx)
          first++;
        uint64_t expect = 0;
        for (size_t i = first; i < nev; i++)
          if (evs[i].idx + n > idx)
            expect += evs[i].bytes;
        assert_int_equal(scone_window_sum(&w, t), expect);
      }
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_window_bucket_edges),
      cmocka_unit_test(test_window_partial_slide),
      cmocka_unit_test(test_window_clamps),
      cmocka_unit_test(test_window_big_jumps),
      cmocka_unit_test(test_window_jump_leaves_no_stale_buckets),
      cmocka_unit_test(test_window_backwards_time),
      cmocka_unit_test(test_window_saturates),
      cmocka_unit_test(test_window_random_against_reference),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
