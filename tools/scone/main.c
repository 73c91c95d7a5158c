/* scone: SCONE rate signals and packets for people. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const char main_usage[] =
    "usage: scone <command> [options]\n"
    "\n"
    "Commands:\n"
    "  rate    rate signal <-> bit/s (draft-ietf-scone-protocol rate table)\n"
    "  decode  decode a datagram given as hex, or list SCONE packets in a\n"
    "          capture file (--pcap)\n"
    "\n"
    "  scone <command> --help   options of a command\n"
    "  scone --version          version\n";

int main(int argc, char **argv) {
  if (argc < 2)
    return cli_usage_error(NULL, "missing command");
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
      strcmp(cmd, "help") == 0) {
    fputs(main_usage, stdout);
    return CLI_EXIT_OK;
  }
  if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
    printf("scone %s\n", SCONE_TOOL_VERSION);
    return CLI_EXIT_OK;
  }
  if (strcmp(cmd, "rate") == 0)
    return rate_cmd(argc - 1, argv + 1);
  if (strcmp(cmd, "decode") == 0)
    return decode_cmd(argc - 1, argv + 1);
  return cli_usage_error(NULL, "unknown %s '%s'",
                         cmd[0] == '-' ? "option" : "command", cmd);
}
