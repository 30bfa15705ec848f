/* mediagate: the command-line front end of libmediagate. */
#include <mediagate/escape.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct cli_command {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *summary;
};

static const struct cli_command cli_commands[] = {
    {"scan", cli_scan, "judge a medium (device or image) without mounting it"},
    {"wipe", cli_wipe, "overwrite a medium, verify it and produce a certificate"},
    {"ledger", cli_ledger, "the signed, append-only audit ledger"},
};

/* Print the top-level help. */
static void cli_usage(FILE *f)
{
        fprintf(f, "Usage: mediagate COMMAND [OPTIONS] ...\n\nCommands:\n");
        for (size_t i = 0; i < sizeof(cli_commands) / sizeof(cli_commands[0]); i++)
                fprintf(f, "  %-8s %s\n", cli_commands[i].name, cli_commands[i].summary);
        fprintf(f, "\nRun 'mediagate COMMAND --help' for a command's options.\n"
                   "  -h, --help     this help\n"
                   "  -V, --version  print the version\n");
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                cli_usage(stderr);
                return CLI_EXIT_USAGE;
        }
        if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
                cli_usage(stdout);
                return CLI_EXIT_OK;
        }
        if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
                printf("mediagate %s\n", mg_version());
                return CLI_EXIT_OK;
        }
        for (size_t i = 0; i < sizeof(cli_commands) / sizeof(cli_commands[0]); i++)
                if (!strcmp(argv[1], cli_commands[i].name))
                        return cli_commands[i].run(argc - 1, argv + 1);
        char *e = mg_escape(argv[1], strlen(argv[1]), 64);
        cli_error("unknown command '%s' (see 'mediagate --help')", e ? e : "?");
        free(e);
        return CLI_EXIT_USAGE;
}
