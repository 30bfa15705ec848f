/* Shared pieces of the mediagate subcommands: error reporting and exit-code mapping. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *cli_progname = "mediagate";

/* Print an error message to stderr. */
void cli_error(const char *fmt, ...)
{
        va_list ap;
        fprintf(stderr, "%s: ", cli_progname);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

/* Map a negative errno to an exit code, in one place for every subcommand. */
int cli_exit_from_errno(int r)
{
        switch (-r) {
        case 0:
                return CLI_EXIT_OK;
        case EINVAL:
                return CLI_EXIT_USAGE;
        case ENOENT:
        case ENOTDIR:
        case ENXIO:
                return CLI_EXIT_NOINPUT;
        case EACCES:
        case EPERM:
        case EROFS:
                return CLI_EXIT_NOPERM;
        case EIO:
        case ENOSPC:
        case EDQUOT:
                return CLI_EXIT_IOERR;
        default:
                return CLI_EXIT_SOFTWARE;
        }
}

/* Print an error with strerror(-r) and return its exit code. */
int cli_error_errno(int r, const char *fmt, ...)
{
        va_list ap;
        fprintf(stderr, "%s: ", cli_progname);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, ": %s\n", strerror(r < 0 ? -r : r));
        return cli_exit_from_errno(r < 0 ? r : -r);
}

/* Print library messages to stderr, filtered by verbosity. */
void cli_log(void *userdata, enum mg_log_level level, const char *msg)
{
        int verbosity = userdata ? *(int *)userdata : 0;
        if ((int)level > MG_LOG_WARNING + verbosity)
                return;
        const char *tag = level <= MG_LOG_ERR       ? "error"
                          : level == MG_LOG_WARNING ? "warning"
                                                    : "info";
        fprintf(stderr, "%s: %s: %s\n", cli_progname, tag, msg);
}

/* Parse an unsigned decimal number in [min, max]. */
bool cli_parse_u64(const char *s, unsigned long long min, unsigned long long max,
                   unsigned long long *ret)
{
        if (!s || !*s || *s == '-' || *s == '+')
                return false;
        errno = 0;
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || *end || v < min || v > max)
                return false;
        *ret = v;
        return true;
}
