/* The SCONE rate scale: bitrate = 100 kbit/s * 10^(n/20), n = 0..126. */
#include <scone/scone.h>

/*
 * round(100000 * 10^(n/20)) to the nearest bit/s, computed once with exact
 * integer arithmetic (k is the value when (2k-1)^20 <= 2^20 * 10^(100+n) <
 * (2k+1)^20) so the packet path needs no floating point and every platform
 * agrees on every value. The nearest any entry comes to a rounding tie is
 * 0.003 bit/s (n = 66), so a long double recomputation in the tests is a
 * sound cross-check.
 */
static const uint64_t rate_table[SCONE_SIGNAL_MAX + 1] = {
    100000ULL,       112202ULL,       125893ULL,       141254ULL,
    158489ULL,       177828ULL,       199526ULL,       223872ULL,
    251189ULL,       281838ULL,       316228ULL,       354813ULL,
    398107ULL,       446684ULL,       501187ULL,       562341ULL,
    630957ULL,       707946ULL,       794328ULL,       891251ULL,
    1000000ULL,      1122018ULL,      1258925ULL,      1412538ULL,
    1584893ULL,      1778279ULL,      1995262ULL,      2238721ULL,
    2511886ULL,      2818383ULL,      3162278ULL,      3548134ULL,
    3981072ULL,      4466836ULL,      5011872ULL,      5623413ULL,
    6309573ULL,      7079458ULL,      7943282ULL,      8912509ULL,
    10000000ULL,     11220185ULL,     12589254ULL,     14125375ULL,
    15848932ULL,     17782794ULL,     19952623ULL,     22387211ULL,
    25118864ULL,     28183829ULL,     31622777ULL,     35481339ULL,
    39810717ULL,     44668359ULL,     50118723ULL,     56234133ULL,
    63095734ULL,     70794578ULL,     79432823ULL,     89125094ULL,
    100000000ULL,    112201845ULL,    125892541ULL,    141253754ULL,
    158489319ULL,    177827941ULL,    199526231ULL,    223872114ULL,
    251188643ULL,    281838293ULL,    316227766ULL,    354813389ULL,
    398107171ULL,    446683592ULL,    501187234ULL,    562341325ULL,
    630957344ULL,    707945784ULL,    794328235ULL,    891250938ULL,
    1000000000ULL,   1122018454ULL,   1258925412ULL,   1412537545ULL,
    1584893192ULL,   1778279410ULL,   1995262315ULL,   2238721139ULL,
    2511886432ULL,   2818382931ULL,   3162277660ULL,   3548133892ULL,
    3981071706ULL,   4466835922ULL,   5011872336ULL,   5623413252ULL,
    6309573445ULL,   7079457844ULL,   7943282347ULL,   8912509381ULL,
    10000000000ULL,  11220184543ULL,  12589254118ULL,  14125375446ULL,
    15848931925ULL,  17782794100ULL,  19952623150ULL,  22387211386ULL,
    25118864315ULL,  28183829313ULL,  31622776602ULL,  35481338923ULL,
    39810717055ULL,  44668359215ULL,  50118723363ULL,  56234132519ULL,
    63095734448ULL,  70794578438ULL,  79432823472ULL,  89125093813ULL,
    100000000000ULL, 112201845430ULL, 125892541179ULL, 141253754462ULL,
    158489319246ULL, 177827941004ULL, 199526231497ULL,
};

uint64_t scone_rate_from_signal(unsigned signal) {
  return signal <= SCONE_SIGNAL_MAX ? rate_table[signal] : 0;
}

unsigned scone_rate_to_signal(uint64_t bps) {
  /* Largest n with rate_table[n] <= bps; 0 below the scale. Invariant:
   * rate_table[lo] <= bps (or lo == 0) and rate_table[hi] > bps (or hi is
   * one past the end). */
  unsigned lo = 0, hi = SCONE_SIGNAL_MAX + 1;
  while (hi - lo > 1) {
    unsigned mid = lo + (hi - lo) / 2;
    if (rate_table[mid] <= bps)
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}
