/*
 * Advice that must not be taken: a SCONE packet whose DCID does not match
 * the packet after it, a forged SCONE packet coalesced with a packet ngtcp2
 * cannot decrypt, and a datagram with two SCONE packets.
 */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <string.h>

#define T_GET (10 * SCONE_SECONDS)

typedef enum attack { WRONG_DCID, FORGED, DOUBLE_SCONE } attack;

typedef struct attacker {
  attack kind;
  uint64_t done; /* datagrams attacked or injected */
  uint64_t limit;
  uint64_t rng;
} attacker;

static uint8_t rnd(attacker *a) {
  a->rng = a->rng * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint8_t)(a->rng >> 56);
}

/* SCONE with signal 10 and the client's CID, then a short-header packet
 * with that DCID and bytes no key decrypts. */
static void forge(h_fwd *f, attacker *a, const scone_packet *real) {
  uint8_t d[200];
  scone_ssize n = scone_packet_build(d, sizeof(d), 10, real->dcid,
                                     real->dcidlen, NULL, 0, 0);
  assert_true(n > 0);
  size_t len = (size_t)n;
  d[len++] = (uint8_t)(0x40 | (rnd(a) & 0x3f));
  memcpy(d + len, real->dcid, real->dcidlen);
  len += real->dcidlen;
  for (int i = 0; i < 80; i++)
    d[len++] = rnd(a);
  h_fwd_to_client(f, d, len);
}

static int attack_hook(h_fwd *f, h_dir dir, uint8_t *buf, size_t *len,
                       size_t cap, void *arg) {
  attacker *a = arg;
  scone_packet sp;
  if (dir != H_S2C || a->done >= a->limit ||
      scone_packet_parse(&sp, buf, *len) <= 0)
    return 0;
  switch (a->kind) {
  case WRONG_DCID:
    /* An element's signal, but the CID no longer matches the packet. */
    scone_packet_rewrite(buf, *len, 40, NULL);
    buf[6 + sp.dcidlen - 1] ^= 0x5a;
    a->done++;
    break;
  case FORGED:
    /* Forge only once the client's 1-RTT CID is on show. */
    if (sp.scidlen == 0) {
      forge(f, a, &sp);
      a->done++;
    }
    break;
  case DOUBLE_SCONE:
    if (*len + sp.len <= cap) {
      memmove(buf + sp.len, buf, *len);
      *len += sp.len;
      scone_packet_rewrite(buf, *len, 40, NULL);
      a->done++;
    }
    break;
  }
  return 0;
}

static void run(attack kind, uint64_t limit, scone_app_reject reason,
                const char *qlog_reason) {
  h_env e;
  h_env_init(&e);
  scone_quic_settings st;
  h_settings(&st);
  st.send_interval = 200 * SCONE_MILLISECONDS;
  h_server s;
  h_server_start(&s, &e, &st);
  attacker a = {kind, 0, limit, 0x1234567u};
  h_fwd f;
  h_fwd_start(&f, h_server_port(&s), attack_hook, &a);
  h_client c;
  h_client_start(&c, h_fwd_port(&f), &st, e.qlog);
  assert_int_equal(h_client_get(&c, "/bytes/200000", T_GET), 0);
  assert_int_equal(c.last_status, 200);
  assert_true(c.body_ok);
  /* More periodic SCONE packets, so every attack gets its turn. */
  assert_int_equal(h_client_idle(&c, SCONE_SECONDS), 0);

  scone_quic_counters cc;
  h_client_counters(&c, &cc);
  h_client_free(&c);
  h_server_stop(&s, NULL);
  h_fwd_stop(&f);

  assert_int_equal(a.done, limit);
  assert_int_equal(c.advice_events, 0);
  assert_int_equal(c.advice_signal, SCONE_SIGNAL_UNKNOWN);
  assert_int_equal(cc.advice_accepted, 0);
  assert_int_equal(cc.rejected[reason], limit);
  assert_int_equal(h_count_in_file(e.qlog, qlog_reason), limit);
  h_server_free(&s);
  h_env_cleanup(&e);
}

static void test_wrong_dcid_rejected(void **state) {
  (void)state;
  run(WRONG_DCID, 4, SCONE_APP_REJECT_DCID_MISMATCH,
      "\"reason\":\"dcid_mismatch\"");
}

static void test_forged_with_garbage_not_accepted(void **state) {
  (void)state;
  run(FORGED, 3, SCONE_APP_REJECT_NOT_PROCESSED,
      "\"reason\":\"not_processed\"");
}

static void test_two_scone_packets_discarded(void **state) {
  (void)state;
  run(DOUBLE_SCONE, 2, SCONE_APP_REJECT_DUPLICATE_SCONE,
      "\"reason\":\"duplicate_scone\"");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_wrong_dcid_rejected),
      cmocka_unit_test(test_forged_with_garbage_not_accepted),
      cmocka_unit_test(test_two_scone_packets_discarded),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
