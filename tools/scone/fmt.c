/* Rate formatting for people; integer arithmetic, so every platform prints
 * the same digits. */
#include "fmt.h"

#include <stdio.h>
#include <string.h>

static unsigned ndigits(uint64_t v) {
  unsigned n = 1;
  while (v >= 10) {
    v /= 10;
    n++;
  }
  return n;
}

static uint64_t leading_digit(uint64_t v) {
  while (v >= 10)
    v /= 10;
  return v;
}

static uint64_t pow10u(unsigned e) {
  uint64_t p = 1;
  while (e--)
    p *= 10;
  return p;
}

/* v rounded half-up to sig significant digits. */
static uint64_t round_sig(uint64_t v, unsigned sig) {
  unsigned d = ndigits(v);
  if (d <= sig)
    return v;
  uint64_t s = pow10u(d - sig);
  uint64_t q = v / s, r = v % s;
  if (r >= s - r)
    q++;
  if (q > UINT64_MAX / s) /* only near 2^64: keep every digit instead */
    return v;
  return q * s;
}

const char *fmt_rate(uint64_t bps, char *buf, size_t len) {
  static const struct {
    uint64_t div;
    unsigned width;
    const char *name;
  } units[] = {{1000000000ULL, 9, "Gbit/s"},
               {1000000ULL, 6, "Mbit/s"},
               {1000ULL, 3, "kbit/s"},
               {1ULL, 0, "bit/s"}};

  /* The draft prints signal 126 (199,526,231,497 bit/s) as "199.5 Gbit/s",
   * not "200": rounding that changes the leading digit would overstate a
   * ceiling by a visible step, so such values keep one more digit. */
  uint64_t r = round_sig(bps, 3);
  for (unsigned sig = 4; sig <= 20 && (ndigits(r) != ndigits(bps) ||
                                       leading_digit(r) != leading_digit(bps));
       sig++)
    r = round_sig(bps, sig);

  size_t u = 0;
  while (units[u].div > 1 && r < units[u].div)
    u++;
  uint64_t ip = r / units[u].div, fp = r % units[u].div;
  if (fp == 0) {
    snprintf(buf, len, "%llu %s", (unsigned long long)ip, units[u].name);
    return buf;
  }
  char frac[16];
  snprintf(frac, sizeof frac, "%0*llu", (int)units[u].width,
           (unsigned long long)fp);
  for (size_t n = strlen(frac); n > 0 && frac[n - 1] == '0'; n--)
    frac[n - 1] = '\0';
  snprintf(buf, len, "%llu.%s %s", (unsigned long long)ip, frac, units[u].name);
  return buf;
}
