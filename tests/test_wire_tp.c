/* The scone_supported transport parameter and the first-flight indication. */
#include <scone/scone.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

/* Runs scone_tp_find on a heap copy of exactly len bytes (for ASan). */
static int find(const uint8_t *p, size_t len) {
  uint8_t *c = malloc(len ? len : 1);
  assert_non_null(c);
  if (len)
    memcpy(c, p, len);
  int r = scone_tp_find(len ? c : NULL, len);
  free(c);
  return r;
}

static void encode(void **state) {
  (void)state;
  uint8_t buf[8];
  assert_int_equal(scone_tp_encode(buf, sizeof buf), 3);
  /* 0x219e as a two-byte varint, then length 0. */
  const uint8_t want[3] = {0x61, 0x9e, 0x00};
  assert_memory_equal(buf, want, 3);
  for (size_t cap = 0; cap < 3; cap++)
    assert_int_equal(scone_tp_encode(buf, cap), SCONE_ERR_NOBUF);
  assert_int_equal(find(buf, 3), 1);
}

/* Other parameters before and after, as an encoder would write them:
 * max_idle_timeout (0x01) = 30000, initial_max_data (0x04) = 1 MiB,
 * disable_active_migration (0x0c, empty), a GREASE id with 3 bytes. */
static const uint8_t before[] = {0x01, 0x04, 0x80, 0x00, 0x75, 0x30,
                                 0x04, 0x04, 0x80, 0x10, 0x00, 0x00};
static const uint8_t after[] = {0x0c, 0x00, 0x80, 0x00, 0xa4,
                                0x3a, 0x03, 0xaa, 0xbb, 0xcc};

static size_t blob(uint8_t *out, const uint8_t *mid, size_t midlen) {
  size_t n = 0;
  memcpy(out + n, before, sizeof before);
  n += sizeof before;
  if (midlen)
    memcpy(out + n, mid, midlen);
  n += midlen;
  memcpy(out + n, after, sizeof after);
  return n + sizeof after;
}

static void present_absent(void **state) {
  (void)state;
  uint8_t b[64], tp[3];
  assert_int_equal(scone_tp_encode(tp, sizeof tp), 3);
  assert_int_equal(find(b, blob(b, tp, 3)), 1);
  assert_int_equal(find(b, blob(b, NULL, 0)), 0);
  assert_int_equal(find(NULL, 0), 0);
  /* At the very start and very end. */
  memcpy(b, tp, 3);
  memcpy(b + 3, before, sizeof before);
  assert_int_equal(find(b, 3 + sizeof before), 1);
  memcpy(b, before, sizeof before);
  memcpy(b + sizeof before, tp, 3);
  assert_int_equal(find(b, 3 + sizeof before), 1);
  /* The id in a longer (non-shortest) varint is still the same id. */
  const uint8_t long_id[5] = {0x80, 0x00, 0x21, 0x9e, 0x00};
  assert_int_equal(find(b, blob(b, long_id, 5)), 1);
  /* Neighbouring ids are someone else's. */
  const uint8_t near[6] = {0x61, 0x9d, 0x00, 0x61, 0x9f, 0x00};
  assert_int_equal(find(b, blob(b, near, 6)), 0);
  /* The id's bytes inside another parameter's value are not a match. */
  const uint8_t inside[5] = {0x05, 0x03, 0x61, 0x9e, 0x00};
  assert_int_equal(find(b, blob(b, inside, 5)), 0);
}

static void non_empty_and_duplicate(void **state) {
  (void)state;
  uint8_t b[64];
  const uint8_t one[4] = {0x61, 0x9e, 0x01, 0x00};
  assert_int_equal(find(b, blob(b, one, 4)), SCONE_ERR_TRANSPORT_PARAMETER);
  const uint8_t two[6] = {0x61, 0x9e, 0x00, 0x61, 0x9e, 0x00};
  assert_int_equal(find(b, blob(b, two, 6)), SCONE_ERR_TRANSPORT_PARAMETER);
  /* Duplicate with the second copy at the end of the blob. */
  uint8_t d[64];
  size_t n = blob(d, two, 3);
  memcpy(d + n, two, 3);
  assert_int_equal(find(d, n + 3), SCONE_ERR_TRANSPORT_PARAMETER);
}

static void malformed(void **state) {
  (void)state;
  uint8_t b[64], tp[3];
  assert_int_equal(scone_tp_encode(tp, 3), 3);
  size_t n = blob(b, tp, 3);
  assert_int_equal(n, 25);
  /* Every proper prefix that ends inside a parameter is malformed; the
   * prefixes that end on a parameter boundary parse. */
  static const size_t bounds[] = {0, 6, 12, 15, 17};
  for (size_t cut = 0; cut < n; cut++) {
    int r = find(b, cut);
    int on_boundary = 0;
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++)
      on_boundary |= bounds[i] == cut;
    if (on_boundary)
      assert_int_equal(r, cut >= 15 ? 1 : 0);
    else
      assert_int_equal(r, SCONE_ERR_MALFORMED);
  }
  /* Truncated varint for the id and for the length. */
  const uint8_t t1[1] = {0x61};
  assert_int_equal(find(t1, 1), SCONE_ERR_MALFORMED);
  const uint8_t t2[3] = {0x61, 0x9e, 0x40};
  assert_int_equal(find(t2, 3), SCONE_ERR_MALFORMED);
  /* A length past the end, including an absurd 8-byte one. */
  const uint8_t t3[4] = {0x01, 0x05, 0x00, 0x00};
  assert_int_equal(find(t3, 4), SCONE_ERR_MALFORMED);
  const uint8_t t4[10] = {0x01, 0xff, 0xff, 0xff, 0xff,
                          0xff, 0xff, 0xff, 0xff, 0x00};
  assert_int_equal(find(t4, 10), SCONE_ERR_MALFORMED);
  const uint8_t t5[4] = {0x61, 0x9e, 0x02, 0x00};
  assert_int_equal(find(t5, 4), SCONE_ERR_MALFORMED);
}

static void indication(void **state) {
  (void)state;
  uint8_t d[32];
  memset(d, 0, sizeof d);
  assert_false(scone_indication_present(d, 20));
  assert_int_equal(scone_indication_append(d, 20, sizeof d), 22);
  assert_int_equal(d[20], 0xc8);
  assert_int_equal(d[21], 0x13);
  assert_true(scone_indication_present(d, 22));
  assert_false(scone_indication_present(d, 21));
  assert_false(scone_indication_present(d, 23));
  /* Exactly fills the buffer; then no room. */
  assert_int_equal(scone_indication_append(d, 30, 32), 32);
  assert_true(scone_indication_present(d, 32));
  assert_int_equal(scone_indication_append(d, 31, 32), SCONE_ERR_NOBUF);
  assert_int_equal(scone_indication_append(d, 32, 32), SCONE_ERR_NOBUF);
  assert_int_equal(scone_indication_append(d, 40, 32), SCONE_ERR_NOBUF);
  assert_int_equal(scone_indication_append(d, 0, 1), SCONE_ERR_NOBUF);
  assert_int_equal(scone_indication_append(d, 0, 2), 2);
  assert_true(scone_indication_present(d, 2));
  assert_false(scone_indication_present(d, 1));
  assert_false(scone_indication_present(d, 0));
  const uint8_t swapped[2] = {0x13, 0xc8};
  assert_false(scone_indication_present(swapped, 2));
}

static void strerror_names(void **state) {
  (void)state;
  const int errs[] = {SCONE_ERR_TRUNCATED,
                      SCONE_ERR_NOT_SCONE,
                      SCONE_ERR_INVALID_ARGUMENT,
                      SCONE_ERR_NOBUF,
                      SCONE_ERR_TRANSPORT_PARAMETER,
                      SCONE_ERR_MALFORMED,
                      SCONE_ERR_NOT_QUIC,
                      SCONE_ERR_NOT_UDP,
                      SCONE_ERR_FRAGMENT,
                      SCONE_ERR_NOT_IP};
  const char *unknown = scone_strerror(-1000);
  assert_string_equal(unknown, "unknown error");
  assert_string_equal(scone_strerror(1), "unknown error");
  for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
    const char *s = scone_strerror(errs[i]);
    assert_non_null(s);
    assert_string_not_equal(s, unknown);
    for (size_t j = 0; j < i; j++)
      assert_string_not_equal(s, scone_strerror(errs[j]));
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(encode),
      cmocka_unit_test(present_absent),
      cmocka_unit_test(non_empty_and_duplicate),
      cmocka_unit_test(malformed),
      cmocka_unit_test(indication),
      cmocka_unit_test(strerror_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
