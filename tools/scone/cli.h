/*
 * Shared pieces of the scone command-line tool: subcommand entry points,
 * exit codes and error reporting.
 */
#ifndef SCONE_TOOL_CLI_H
#define SCONE_TOOL_CLI_H

/* Exit codes: bad data (hex, packets, capture files) is 1 so scripts can tell
 * it apart from a mistyped command line, which is 2 (as with grep or diff). */
#define CLI_EXIT_OK 0
#define CLI_EXIT_DATA 1
#define CLI_EXIT_USAGE 2

/* Each subcommand gets argv with argv[0] being its own name. */
int rate_cmd(int argc, char **argv);
int decode_cmd(int argc, char **argv);
int pcap_cmd(const char *path, int json, int absolute_time);

/* Prints "scone <cmd>: <message>" as one line on stderr. */
void cli_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reports a usage error (with a hint to --help) and returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The one-line diagnostic for an option getopt_long() rejected; ret is its
 * return value (':' or '?'; option strings start with ':'). */
int cli_bad_option(const char *cmd, char **argv, int ret);

/* Parses a whole unsigned decimal number; 0 on success, -1 otherwise. */
int cli_parse_u64(const char *s, unsigned long long *out);

#endif /* SCONE_TOOL_CLI_H */
