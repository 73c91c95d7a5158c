/*
 * Runs a fuzz target's LLVMFuzzerTestOneInput over every file in the given
 * directories (or files), for builds without libFuzzer. Files run in name
 * order so a failure reproduces the same way each time. An empty corpus is an
 * error: a replay that checks nothing must not pass.
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
    return -1;
  }
  size_t cap = 4096, len = 0;
  uint8_t *buf = malloc(cap);
  size_t k;
  while (buf && (k = fread(buf + len, 1, cap - len, f)) > 0) {
    len += k;
    if (len == cap) {
      uint8_t *bigger = realloc(buf, cap *= 2);
      if (!bigger)
        free(buf);
      buf = bigger;
    }
  }
  int err = !buf || ferror(f);
  fclose(f);
  if (err) {
    fprintf(stderr, "replay: %s: read error\n", path);
    free(buf);
    return -1;
  }
  /* Named before running, so that a crash (an abort, or a sanitizer report
   * that exits) says which input caused it. */
  fprintf(stderr, "replay: %s\n", path);
  /* Exact-size copy, as libFuzzer does, so that overreads are caught. */
  uint8_t *in = fuzz_dup(buf, len, 0);
  free(buf);
  LLVMFuzzerTestOneInput(in, len);
  free(in);
  return 0;
}

static int skip_name(const struct dirent *e) {
  return e->d_name[0] != '.';
}

int main(int argc, char **argv) {
  long total = 0;
  if (argc < 2) {
    fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
  for (int a = 1; a < argc; a++) {
    struct stat st;
    if (stat(argv[a], &st) != 0) {
      fprintf(stderr, "replay: %s: %s\n", argv[a], strerror(errno));
      return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
      if (run_file(argv[a]) != 0)
        return 1;
      total++;
      continue;
    }
    struct dirent **names;
    int count = scandir(argv[a], &names, skip_name, alphasort);
    if (count < 0) {
      fprintf(stderr, "replay: %s: %s\n", argv[a], strerror(errno));
      return 1;
    }
    for (int i = 0; i < count; i++) {
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", argv[a], names[i]->d_name);
      if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
        if (run_file(path) != 0)
          return 1;
        total++;
      }
      free(names[i]);
    }
    free(names);
  }
  printf("replay: %ld inputs, all invariants held\n", total);
  if (total == 0) {
    fprintf(stderr, "replay: no inputs found\n");
    return 1;
  }
  return 0;
}
