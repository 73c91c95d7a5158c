/*
 * AddressSanitizer's defaults for the libFuzzer binaries. Freed memory is
 * held back (quarantined) so that a use after free is seen; with the
 * default 256 MB, targets that allocate per input (configs, engines'
 * packets, parsers' trees) keep reaching fresh pages, and the page faults
 * halved their executions per second. 16 MB still holds back thousands
 * of inputs' worth of frees. ASAN_OPTIONS overrides this.
 */
const char *__asan_default_options(void);

const char *__asan_default_options(void) {
  return "quarantine_size_mb=16";
}
