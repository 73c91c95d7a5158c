/*
 * The mixing step of the engine's keyed hashes (flow fingerprints,
 * subscriber slots): multiply-xor with a random key, wyhash's
 * construction. Fast enough for the per-packet path and, without the key,
 * an attacker cannot aim inputs at one bucket.
 */
#ifndef SCONED_KEYED_HASH_H
#define SCONED_KEYED_HASH_H

#include <stdint.h>
#include <string.h>

static inline uint64_t sconed_mix(uint64_t a, uint64_t b) {
#if defined(__x86_64__) && defined(__GNUC__)
  /* The same 64x64->128 product: GCC routes an __int128 result through
   * the stack (two to three extra moves per mix, on every packet). */
  uint64_t hi;
  __asm__("mulq %3" : "=a"(a), "=d"(hi) : "0"(a), "rm"(b) : "cc");
  return a ^ hi;
#else
  unsigned __int128 r = (unsigned __int128)a * b;
  return (uint64_t)r ^ (uint64_t)(r >> 64);
#endif
}

/* Native-order loads: hashes only need the same bytes to give the same
 * value, not a numeric order. */
static inline uint64_t sconed_load64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}

static inline uint32_t sconed_load32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}

#endif
