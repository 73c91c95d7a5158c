/*
 * The CMCD decoder (CTA-5004) on any header value or query: it takes a
 * dictionary or refuses it whole, and what it takes re-encodes to a field
 * that decodes to the same thing (one round trip applies the rounding, the
 * next changes nothing).
 * Input: byte 0 selects the shard (0..4) or, at 5 and above, the query
 * form; the rest is the header value or request target.
 */
#include "fuzz.h"

#include <scone/app.h>
#include <string.h>

/* d encodes to exactly e (whole-payload form). */
static void same_payload(const scone_app_cmcd_data *d, const char *e, int n) {
  char buf[8192];
  int m = scone_app_cmcd_encode(buf, sizeof buf, d, SCONE_APP_CMCD_ALL);
  FUZZ_CHECK(m == n && memcmp(buf, e, (size_t)n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  const char *text = (const char *)data + 1;
  size_t len = size - 1;
  scone_app_cmcd_data c, before;
  memset(&c, 0, sizeof c);
  c.present = SCONE_APP_CMCD_TB;
  c.tb_kbps = 6000;
  before = c;

  int r = data[0] < 5 ? scone_app_cmcd_decode(&c, (scone_app_cmcd_shard)data[0],
                                              text, len)
                      : scone_app_cmcd_decode_query(&c, text, len);
  FUZZ_CHECK(r >= 0 || r == SCONE_ERR_MALFORMED);
  if (r < 0) {
    /* Refused whole: nothing changed. */
    FUZZ_CHECK(memcmp(&c, &before, sizeof c) == 0);
    return 0;
  }
  if (r == 0) {
    /* Nothing taken (at most unknown or bad keys counted). */
    FUZZ_CHECK(c.present == before.present && c.tb_kbps == before.tb_kbps);
    return 0;
  }
  FUZZ_CHECK(c.present < (1u << SCONE_APP_CMCD_KEY_COUNT));

  /* Decoded strings come from sf-strings: printable ASCII, so everything
   * taken can be sent again. */
  char e1[8192], e2[8192], q[24576];
  int n1 = scone_app_cmcd_encode(e1, sizeof e1, &c, SCONE_APP_CMCD_ALL);
  FUZZ_CHECK(n1 >= 0);
  scone_app_cmcd_data d, d2;
  memset(&d, 0, sizeof d);
  FUZZ_CHECK(scone_app_cmcd_decode(&d, SCONE_APP_CMCD_ALL, e1, (size_t)n1) >=
             0);
  FUZZ_CHECK(d.unknown_keys == 0 && d.invalid_keys == 0);
  same_payload(&d, e1, n1);

  /* The query form carries the same payload. */
  int nq = scone_app_cmcd_encode_query(q, sizeof q, &d);
  FUZZ_CHECK(nq >= 0);
  memset(&d2, 0, sizeof d2);
  FUZZ_CHECK(scone_app_cmcd_decode_query(&d2, q, (size_t)nq) >= 0);
  same_payload(&d2, e1, n1);

  /* So do the four header shards, each in its own header. */
  memset(&d2, 0, sizeof d2);
  for (int s = SCONE_APP_CMCD_REQUEST; s <= SCONE_APP_CMCD_SESSION; s++) {
    int n = scone_app_cmcd_encode(e2, sizeof e2, &d, (scone_app_cmcd_shard)s);
    FUZZ_CHECK(n >= 0);
    FUZZ_CHECK(scone_app_cmcd_decode(&d2, (scone_app_cmcd_shard)s, e2,
                                     (size_t)n) >= 0);
  }
  FUZZ_CHECK(d2.misplaced_keys == 0);
  same_payload(&d2, e1, n1);
  return 0;
}
