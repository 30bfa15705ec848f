/* mediagate wipe: overwrite a medium, verify it, print and record the certificate. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <mediagate/escape.h>
#include <mediagate/wipe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define WIPE_DEFAULT_LEDGER "/var/lib/mediagate/ledger"

/* The wipe a signal cancels. */
static struct mg_wipe *cli_wipe_current;

/* SIGINT/SIGTERM: cancel the running wipe (it ends with a FAILED record). */
static void cli_wipe_signal(int sig)
{
        if (cli_wipe_current)
                mg_wipe_cancel(cli_wipe_current);
}

/* Print the help text. */
static void cli_wipe_usage(FILE *f)
{
        fprintf(
            f,
            "Usage: mediagate wipe [OPTIONS] TARGET\n"
            "\n"
            "Overwrite a removable medium (or, with --force-image, an image file or loop\n"
            "device), verify it with O_DIRECT reads, and produce a NIST SP 800-88 certificate.\n"
            "A LUKS header found on the target has its keyslots destroyed first.\n"
            "\n"
            "  --method M       random (default: keyed AES-256-CTR, tagged blocks), zero,\n"
            "                   random+zero (random, verified, then zeroes)\n"
            "  --verify V       full (default), sample (NIST: 1000 subsections, >= 10%%), off\n"
            "  --json           print the certificate as JSON on stdout\n"
            "  --record FILE    also write the certificate JSON to FILE\n"
            "  --pdf FILE       write the certificate as a PDF (with a QR code) to FILE\n"
            "  --force-image    allow an image file or a loop device as TARGET\n"
            "  --ledger PATH    record the WIPE entry in this ledger (default %s\n"
            "                   when it exists)\n"
            "  --no-ledger      do not record in any ledger\n"
            "  --operator NAME  who runs the wipe (recorded)\n"
            "  --io-size BYTES  bytes per I/O request, multiple of 65536 up to 8388608\n"
            "                   (default 4194304)\n"
            "  --progress       show progress on stderr even when it is not a terminal\n"
            "  -q, --quiet      no progress\n"
            "  -v, --verbose    more log messages\n"
            "  -h, --help       this help\n"
            "\n"
            "Refuses a target that is mounted, held, in use, a partition, not removable or not\n"
            "on USB (loop devices and image files only with --force-image), or write-protected.\n"
            "Exit status: 0 erased, 1 wipe failed (a FAILED record was produced), 64 usage,\n"
            "66 no such target or ledger, 73 certificate not written, 74 ledger entry not\n"
            "written, 75 target busy, 77 refused\n"
            "(not allowed, a partition, write-protected), 70 other errors.\n",
            WIPE_DEFAULT_LEDGER);
}

struct cli_wipe_progress {
        bool show;
        int last_pct;
        int last_phase;
};

/* Show progress on stderr. */
static int cli_wipe_progress(void *userdata, const struct mg_wipe_progress *p)
{
        struct cli_wipe_progress *c = userdata;
        if (!c->show)
                return 0;
        if (p->phase == MG_WIPE_PHASE_DONE) {
                fputc('\n', stderr);
                return 0;
        }
        if (p->phase == MG_WIPE_PHASE_CRYPTO_ERASE)
                return 0;
        int pct = p->bytes_total ? (int)(p->bytes_done * 100 / p->bytes_total) : 0;
        if (pct == c->last_pct && (int)p->phase == c->last_phase)
                return 0;
        c->last_pct = pct;
        c->last_phase = (int)p->phase;
        char eta[32] = "?";
        if (p->eta >= 0)
                snprintf(eta, sizeof(eta), "%d:%02d", (int)p->eta / 60, (int)p->eta % 60);
        fprintf(stderr, "\rpass %u/%u %-6s %-6s %3d%%  %7.1f MB/s  ETA %s   ", p->pass, p->n_passes,
                p->pattern, p->phase == MG_WIPE_PHASE_WRITE ? "write" : "verify", pct,
                p->rate / 1e6, eta);
        return 0;
}

/* Write @s to @path. */
static int cli_wipe_write_file(const char *path, const char *s)
{
        FILE *f = fopen(path, "we");
        if (!f)
                return -errno;
        size_t n = strlen(s);
        bool ok = fwrite(s, 1, n, f) == n;
        if (fclose(f) != 0 || !ok)
                return -EIO;
        return 0;
}

/* Print the human summary of a wipe. */
static void cli_wipe_summary(const struct mg_wipe *w, const char *target)
{
        struct mg_wipe_result res;
        if (mg_wipe_get_result(w, &res) < 0)
                return;
        char *e = mg_escape(target, strlen(target), 256);
        printf("%s: %s\n", e ? e : "?", res.erased ? "erased" : "FAILED");
        free(e);
        if (!res.erased)
                printf("  reason:   %s\n", res.failure);
        printf("  written:  %" PRIu64 " bytes in %.1f s\n", res.bytes_written, res.seconds);
        printf("  verified: %" PRIu64 " bytes, capacity confirmed: %" PRIu64 " of %" PRIu64
               " bytes\n",
               res.bytes_verified, res.verified_capacity, res.reported_capacity);
        if (res.fake_capacity)
                printf("  FAKE CAPACITY: about %" PRIu64 " bytes really usable\n",
                       res.usable_capacity);
        if (res.errors)
                printf("  errors:   %" PRIu64 " (the medium must be destroyed)\n", res.errors);
}

/* Map a refusal to an exit code. */
static int cli_wipe_exit(int r)
{
        if (r == -EBUSY)
                return CLI_EXIT_TEMPFAIL;
        return cli_exit_from_errno(r);
}

/* mediagate wipe: parse options, run the wipe, print and write the certificate. */
int cli_wipe(int argc, char **argv)
{
        enum {
                OPT_METHOD = 256,
                OPT_VERIFY,
                OPT_JSON,
                OPT_RECORD,
                OPT_PDF,
                OPT_FORCE,
                OPT_LEDGER,
                OPT_NO_LEDGER,
                OPT_OPERATOR,
                OPT_IO,
                OPT_PROGRESS
        };
        static const struct option opts[] = {
            {"method", required_argument, NULL, OPT_METHOD},
            {"verify", required_argument, NULL, OPT_VERIFY},
            {"json", no_argument, NULL, OPT_JSON},
            {"record", required_argument, NULL, OPT_RECORD},
            {"pdf", required_argument, NULL, OPT_PDF},
            {"force-image", no_argument, NULL, OPT_FORCE},
            {"ledger", required_argument, NULL, OPT_LEDGER},
            {"no-ledger", no_argument, NULL, OPT_NO_LEDGER},
            {"operator", required_argument, NULL, OPT_OPERATOR},
            {"io-size", required_argument, NULL, OPT_IO},
            {"progress", no_argument, NULL, OPT_PROGRESS},
            {"quiet", no_argument, NULL, 'q'},
            {"verbose", no_argument, NULL, 'v'},
            {"help", no_argument, NULL, 'h'},
            {0},
        };
        enum mg_wipe_method method = MG_WIPE_RANDOM;
        enum mg_wipe_verify verify = MG_WIPE_VERIFY_FULL;
        bool json = false, force = false, no_ledger = false;
        const char *record = NULL, *pdf = NULL, *ledger = NULL, *operator_name = NULL;
        unsigned long long io = 4u << 20;
        int verbosity = 0, show = isatty(STDERR_FILENO) ? 1 : 0;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "qvh", opts, NULL)) != -1) {
                switch (c) {
                case OPT_METHOD:
                        if (mg_wipe_method_from_string(optarg, &method) < 0) {
                                cli_error("--method: expected random, zero or random+zero");
                                return CLI_EXIT_USAGE;
                        }
                        break;
                case OPT_VERIFY:
                        if (mg_wipe_verify_from_string(optarg, &verify) < 0) {
                                cli_error("--verify: expected full, sample or off");
                                return CLI_EXIT_USAGE;
                        }
                        break;
                case OPT_JSON:
                        json = true;
                        break;
                case OPT_RECORD:
                        record = optarg;
                        break;
                case OPT_PDF:
                        pdf = optarg;
                        break;
                case OPT_FORCE:
                        force = true;
                        break;
                case OPT_LEDGER:
                        ledger = optarg;
                        break;
                case OPT_NO_LEDGER:
                        no_ledger = true;
                        break;
                case OPT_OPERATOR:
                        operator_name = optarg;
                        break;
                case OPT_IO:
                        if (!cli_parse_u64(optarg, 65536, 8u << 20, &io) || io % 65536) {
                                cli_error("--io-size: a multiple of 65536 up to 8388608");
                                return CLI_EXIT_USAGE;
                        }
                        break;
                case OPT_PROGRESS:
                        show = 2;
                        break;
                case 'q':
                        show = 0;
                        break;
                case 'v':
                        verbosity++;
                        break;
                case 'h':
                        cli_wipe_usage(stdout);
                        return CLI_EXIT_OK;
                default:
                        cli_wipe_usage(stderr);
                        return CLI_EXIT_USAGE;
                }
        }
        if (optind != argc - 1) {
                cli_error("expected exactly one TARGET (see 'mediagate wipe --help')");
                return CLI_EXIT_USAGE;
        }
        if (ledger && no_ledger) {
                cli_error("--ledger and --no-ledger contradict each other");
                return CLI_EXIT_USAGE;
        }
        if (!ledger && !no_ledger) {
                struct stat st;
                if (stat(WIPE_DEFAULT_LEDGER, &st) == 0)
                        ledger = WIPE_DEFAULT_LEDGER;
                else
                        cli_log(&verbosity, MG_LOG_WARNING,
                                "no ledger at " WIPE_DEFAULT_LEDGER
                                ": the wipe will not be recorded (--ledger PATH)");
        }
        const char *target = argv[optind];

        struct mg_wipe *w = NULL;
        int r = mg_wipe_new(target, &w);
        if (r < 0)
                return cli_error_errno(r, "cannot set up the wipe");
        mg_wipe_set_method(w, method);
        mg_wipe_set_verify(w, verify);
        mg_wipe_set_flags(w, force ? MG_WIPE_FORCE_IMAGE : 0);
        mg_wipe_set_log(w, cli_log, &verbosity);
        struct cli_wipe_progress prog = {.show = show != 0, .last_pct = -1, .last_phase = -1};
        mg_wipe_set_progress(w, cli_wipe_progress, &prog);
        if (mg_wipe_set_io_size(w, (size_t)io) < 0 ||
            (operator_name && mg_wipe_set_operator(w, operator_name) < 0) ||
            (ledger && mg_wipe_set_ledger(w, ledger) < 0)) {
                mg_wipe_free(w);
                return cli_error_errno(-ENOMEM, "cannot set up the wipe");
        }

        cli_wipe_current = w;
        struct sigaction sa = {.sa_handler = cli_wipe_signal}, old_int, old_term;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        bool erased = false;
        r = mg_wipe_run(w, &erased);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        cli_wipe_current = NULL;
        if (r < 0) {
                char *e = mg_escape(target, strlen(target), 256);
                int code = cli_wipe_exit(r);
                cli_error("%s: not wiped: %s", e ? e : "?", strerror(-r));
                free(e);
                mg_wipe_free(w);
                return code;
        }

        int code = erased ? CLI_EXIT_OK : 1;
        char *cert = NULL;
        r = mg_wipe_certificate_json(w, &cert);
        if (r < 0) {
                mg_wipe_free(w);
                return cli_error_errno(r, "cannot build the certificate");
        }
        if (json)
                fputs(cert, stdout);
        else
                cli_wipe_summary(w, target);
        if (record && (r = cli_wipe_write_file(record, cert)) < 0) {
                cli_error_errno(r, "cannot write the record");
                code = CLI_EXIT_CANTCREAT;
        }
        if (pdf && (r = mg_wipe_certificate_pdf(w, pdf)) < 0) {
                cli_error_errno(r, "cannot write the PDF certificate");
                code = CLI_EXIT_CANTCREAT;
        }
        if (ledger && (r = mg_wipe_ledger_entry(w, NULL, NULL)) < 0) {
                cli_error_errno(r, "the WIPE entry was not recorded in the ledger");
                code = CLI_EXIT_IOERR;
        }
        free(cert);
        mg_wipe_free(w);
        return code;
}
