/* The mediagate command-line tool: shared pieces of its subcommands. */
#ifndef MG_CLI_H
#define MG_CLI_H

#include <mediagate/mediagate.h>
#include <stdbool.h>

/* Exit codes shared by every subcommand (sysexits.h values for errors). */
enum {
        CLI_EXIT_OK = 0,
        CLI_EXIT_USAGE = 64,    /* EX_USAGE: bad command line */
        CLI_EXIT_DATAERR = 65,  /* EX_DATAERR */
        CLI_EXIT_NOINPUT = 66,  /* EX_NOINPUT: target or file missing */
        CLI_EXIT_SOFTWARE = 70, /* EX_SOFTWARE: internal error */
        CLI_EXIT_OSERR = 71,
        CLI_EXIT_CANTCREAT = 73,
        CLI_EXIT_IOERR = 74,
        CLI_EXIT_TEMPFAIL = 75,
        CLI_EXIT_NOPERM = 77,
        CLI_EXIT_CONFIG = 78,
};

/* Program name for messages. */
extern const char *cli_progname;

/* Print "mediagate: <message>" to stderr; the message must already be safe to print. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print an error for negative errno @r with a context, and return the matching exit code. */
int cli_error_errno(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Library log callback that prints to stderr; userdata points to an int verbosity (may be NULL). */
void cli_log(void *userdata, enum mg_log_level level, const char *msg);
/* Map a negative errno to an exit code. */
int cli_exit_from_errno(int r);
/* Parse a non-negative decimal number within [min, max]; false if malformed. */
bool cli_parse_u64(const char *s, unsigned long long min, unsigned long long max,
                   unsigned long long *ret);

/* Subcommands. Each returns the process exit code. */
int cli_scan(int argc, char **argv);
int cli_ledger(int argc, char **argv);
int cli_wipe(int argc, char **argv);

#endif
