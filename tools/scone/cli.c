/* Error reporting and argument helpers shared by the subcommands. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Every diagnostic is one line naming the program (and subcommand); a usage
 * error also points at the help. */
static void vreport(const char *cmd, int hint, const char *fmt, va_list ap) {
  const char *sep = cmd ? " " : "", *name = cmd ? cmd : "";
  fprintf(stderr, "scone%s%s: ", sep, name);
  vfprintf(stderr, fmt, ap);
  if (hint)
    fprintf(stderr, " (try 'scone%s%s --help')", sep, name);
  fputc('\n', stderr);
}

void cli_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport(cmd, 0, fmt, ap);
  va_end(ap);
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport(cmd, 1, fmt, ap);
  va_end(ap);
  return CLI_EXIT_USAGE;
}

int cli_bad_option(const char *cmd, char **argv, int ret) {
  /* optopt names a short option; for a long option it is 0 (unknown) or the
   * option's value (>= 256 here), and optind has then already stepped past
   * the offending word. */
  char shortopt[3] = {'-', (char)optopt, '\0'};
  const char *what = optopt > 0 && optopt < 256 ? shortopt : argv[optind - 1];
  if (ret == ':')
    return cli_usage_error(cmd, "option '%s' needs an argument", what);
  return cli_usage_error(cmd, "unknown option '%s'", what);
}

int cli_parse_u64(const char *s, unsigned long long *out) {
  /* strtoull() happily accepts "-1" and leading blanks; a person typing a
   * rate means neither. */
  if (*s < '0' || *s > '9')
    return -1;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end)
    return -1;
  *out = v;
  return 0;
}
