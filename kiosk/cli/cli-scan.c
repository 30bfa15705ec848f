/* mediagate scan: the command-line front end of the scan module. */
#include <errno.h>
#include <getopt.h>
#include <mediagate/escape.h>
#include <mediagate/scan.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

enum {
        SCAN_EXIT_CLEAN = 0,
        SCAN_EXIT_INFECTED = 1,
        SCAN_EXIT_UNSAFE = 2,
        SCAN_EXIT_ENCRYPTED = 3,
        SCAN_EXIT_UNREADABLE = 4,
        SCAN_EXIT_STALE = 75,
        SCAN_EXIT_INTERRUPTED = 130,
};

static struct mg_scan *volatile scan_current;

/* Print the help text. */
static void scan_usage(FILE *f)
{
        fputs(
            "Usage: mediagate scan [OPTIONS] TARGET\n"
            "\n"
            "Judge a medium (a block device or a disk image file) from its raw bytes. The medium\n"
            "is opened read-only and parsed in user space: nothing is mounted, executed or "
            "written.\n"
            "Every partition, file system, file, alternate data stream, deleted file, unallocated\n"
            "area, gap between partitions and boot record is scanned with ClamAV signatures.\n"
            "\n"
            "Options:\n"
            "  --db PATH                  signature database directory or file\n"
            "                             (default /var/lib/clamav)\n"
            "  --json                     print one JSON report on stdout\n"
            "  --threads N                scanning threads (default: one per core; 1: no\n"
            "                             worker threads)\n"
            "  --max-signature-age DAYS   refuse (exit 75) if the database is older than DAYS or\n"
            "                             carries no build date\n"
            "  --memory-limit MIB         memory above the loaded signatures: data in\n"
            "                             flight and unpacking (default 256)\n"
            "  --max-file-size MIB        engine per-file limit; larger files are scanned in\n"
            "                             overlapping chunks (default 100)\n"
            "  --bomb-max-expanded MIB    archive bomb: bytes unpacked per file (default 1024)\n"
            "  --bomb-max-ratio N         archive bomb: unpacked/packed ratio (default 200)\n"
            "  --bomb-max-members N       archive bomb: members per file (default 20000)\n"
            "  --bomb-max-depth N         archive bomb: nesting depth (default 16)\n"
            "  --timeout SECONDS          give up after SECONDS (exit 70, no verdict): the scan\n"
            "                             is cancelled, and the process ends 10 s later if a\n"
            "                             parser does not return (default: none)\n"
            "  --no-progress              no progress bar (it is shown only when stderr is a\n"
            "                             terminal)\n"
            "  -v, --verbose              more messages on stderr\n"
            "  -h, --help                 this help\n"
            "\n"
            "Verdicts, worst first: infected (a signature matched), unsafe (content that could\n"
            "not be judged: encrypted archives or documents, engine limits, archive bombs, RAR),\n"
            "encrypted (an encrypted volume), unreadable (corrupt or unknown file system or\n"
            "partition table), clean. The medium's verdict is the worst of its parts.\n"
            "\n"
            "Exit status:\n"
            "  0   clean\n"
            "  1   infected\n"
            "  2   unsafe\n"
            "  3   encrypted\n"
            "  4   unreadable\n"
            "  64  usage error (bad option, TARGET not a block device or regular file)\n"
            "  66  TARGET or the database cannot be opened\n"
            "  70  internal error or --timeout reached (never a verdict)\n"
            "  75  signatures older than --max-signature-age, or undated\n"
            "  130 interrupted\n",
            f);
}

struct scan_watchdog {
        struct mg_scan *s;
        unsigned seconds;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool done, fired;
};

/* Cancel the scan after its time; end the process if a parser never returns. */
static void *scan_watchdog_main(void *arg)
{
        struct scan_watchdog *w = arg;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += w->seconds;
        pthread_mutex_lock(&w->lock);
        while (!w->done && pthread_cond_timedwait(&w->cond, &w->lock, &ts) != ETIMEDOUT)
                ;
        if (!w->done) {
                w->fired = true;
                mg_scan_cancel(w->s);
                ts.tv_sec += 10;
                while (!w->done && pthread_cond_timedwait(&w->cond, &w->lock, &ts) != ETIMEDOUT)
                        ;
                if (!w->done) {
                        /* stuck inside a third-party parser: no verdict, and no waiting */
                        static const char msg[] = "mediagate: scan: timed out: no verdict\n";
                        ssize_t k = write(STDERR_FILENO, msg, sizeof(msg) - 1);
                        (void)k;
                        _exit(CLI_EXIT_SOFTWARE);
                }
        }
        pthread_mutex_unlock(&w->lock);
        return NULL;
}

/* Cancel the running scan on SIGINT/SIGTERM. */
static void scan_on_signal(int sig)
{
        if (scan_current)
                mg_scan_cancel(scan_current);
}

struct scan_cli {
        bool json;
        bool progress;
        int verbosity;
};

/* Draw the progress bar on stderr. */
static void scan_draw_progress(void *ud, const struct mg_scan_progress *p)
{
        struct scan_cli *c = ud;
        if (!c->progress)
                return;
        double frac = p->bytes_total ? (double)p->bytes_done / (double)p->bytes_total : 0;
        if (frac > 1)
                frac = 1;
        char bar[31];
        int fill = (int)(frac * 30);
        for (int i = 0; i < 30; i++)
                bar[i] = i < fill ? '#' : '.';
        bar[30] = 0;
        char eta[32] = "--:--";
        if (frac > 0.01 && p->seconds > 1) {
                double left = p->seconds / frac - p->seconds;
                snprintf(eta, sizeof(eta), "%d:%02d", (int)left / 60, (int)left % 60);
        }
        char path[48] = "";
        if (p->path) {
                size_t n = strlen(p->path);
                /* keep the tail of the (already escaped) path, on a character boundary */
                const char *t = n > 40 ? p->path + n - 40 : p->path;
                while (n > 40 && ((unsigned char)*t & 0xc0) == 0x80)
                        t++;
                snprintf(path, sizeof(path), "%s%s", n > 40 ? "..." : "", t);
        }
        fprintf(stderr, "\r\033[K[%s] %3d%% %llu/%llu MiB %llu files ETA %s %s", bar,
                (int)(frac * 100), (unsigned long long)(p->bytes_done >> 20),
                (unsigned long long)(p->bytes_total >> 20), (unsigned long long)p->files, eta,
                path);
        fflush(stderr);
}

/* Print the human summary. */
static void scan_print_summary(struct mg_scan *s, const struct mg_scan_engine_info *info,
                               const char *target, enum mg_verdict v)
{
        char *t = mg_escape_str(target);
        printf("%s: %s\n", t ? t : "?", mg_verdict_to_string(v));
        free(t);
        for (size_t i = 0; i < mg_scan_n_reasons(s); i++)
                printf("  reason: %s\n", mg_scan_get_reason(s, i));
        for (size_t i = 0; i < mg_scan_n_volumes(s); i++) {
                const struct mg_scan_volume *vol = mg_scan_get_volume(s, i);
                printf("  volume %d: %s %s at %llu, %llu bytes: %s%s%s\n", vol->index, vol->scheme,
                       vol->filesystem ? vol->filesystem : "(no file system)",
                       (unsigned long long)vol->offset, (unsigned long long)vol->length,
                       mg_volume_status_to_string(vol->status), vol->reason ? ": " : "",
                       vol->reason ? vol->reason : "");
        }
        for (size_t i = 0; i < mg_scan_n_detections(s); i++) {
                const struct mg_scan_detection *d = mg_scan_get_detection(s, i);
                char *sig = mg_escape_str(d->signature);
                char *p = d->path ? mg_escape_str(d->path) : NULL;
                char *st = d->stream ? mg_escape_str(d->stream) : NULL;
                printf("  FOUND %s in %s%s%s%s%s (volume %d, offset %llu)\n", sig ? sig : "?",
                       mg_region_to_string(d->region), p ? " " : "", p ? p : "", st ? ":" : "",
                       st ? st : "", d->volume, (unsigned long long)d->offset);
                if (d->deleted)
                        printf("        (deleted file)\n");
                free(sig);
                free(p);
                free(st);
        }
        struct mg_scan_stats st;
        mg_scan_get_stats(s, &st);
        printf("  %llu files, %llu MiB scanned in %.1f s (signatures: %llu",
               (unsigned long long)st.files, (unsigned long long)(st.bytes >> 20), st.seconds,
               (unsigned long long)info->signatures);
        if (info->dated)
                printf(", version %u, %.1f days old", info->version,
                       (double)(time(NULL) - info->built) / 86400.0);
        printf(")\n");
}

/* Map a verdict to the exit status. */
static int scan_exit_code(enum mg_verdict v)
{
        switch (v) {
        case MG_VERDICT_CLEAN:
                return SCAN_EXIT_CLEAN;
        case MG_VERDICT_INFECTED:
                return SCAN_EXIT_INFECTED;
        case MG_VERDICT_UNSAFE:
                return SCAN_EXIT_UNSAFE;
        case MG_VERDICT_ENCRYPTED:
                return SCAN_EXIT_ENCRYPTED;
        case MG_VERDICT_UNREADABLE:
                return SCAN_EXIT_UNREADABLE;
        }
        return CLI_EXIT_SOFTWARE;
}

int cli_scan(int argc, char **argv)
{
        enum {
                OPT_DB = 0x100,
                OPT_JSON,
                OPT_THREADS,
                OPT_MAXAGE,
                OPT_MEM,
                OPT_MAXFILE,
                OPT_BEXP,
                OPT_BRATIO,
                OPT_BMEMBERS,
                OPT_BDEPTH,
                OPT_NOPROGRESS,
                OPT_TIMEOUT,
        };
        static const struct option longopts[] = {
            {"db", required_argument, NULL, OPT_DB},
            {"json", no_argument, NULL, OPT_JSON},
            {"threads", required_argument, NULL, OPT_THREADS},
            {"max-signature-age", required_argument, NULL, OPT_MAXAGE},
            {"memory-limit", required_argument, NULL, OPT_MEM},
            {"max-file-size", required_argument, NULL, OPT_MAXFILE},
            {"bomb-max-expanded", required_argument, NULL, OPT_BEXP},
            {"bomb-max-ratio", required_argument, NULL, OPT_BRATIO},
            {"bomb-max-members", required_argument, NULL, OPT_BMEMBERS},
            {"bomb-max-depth", required_argument, NULL, OPT_BDEPTH},
            {"no-progress", no_argument, NULL, OPT_NOPROGRESS},
            {"timeout", required_argument, NULL, OPT_TIMEOUT},
            {"verbose", no_argument, NULL, 'v'},
            {"help", no_argument, NULL, 'h'},
            {0},
        };
        struct mg_scan_engine_options eo = {0};
        struct mg_scan_options so = {0};
        struct scan_cli c = {.progress = isatty(STDERR_FILENO)};
        long long max_age = -1;
        unsigned timeout = 0;
        unsigned long long v;
        int opt;
        optind = 1;
        while ((opt = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
                switch (opt) {
                case OPT_DB:
                        eo.db_path = optarg;
                        break;
                case OPT_JSON:
                        c.json = true;
                        break;
                case OPT_THREADS:
                        if (!cli_parse_u64(optarg, 1, 256, &v))
                                goto bad;
                        so.threads = (unsigned)v;
                        break;
                case OPT_MAXAGE:
                        if (!cli_parse_u64(optarg, 0, 36500, &v))
                                goto bad;
                        max_age = (long long)v;
                        break;
                case OPT_MEM:
                        if (!cli_parse_u64(optarg, 16, 1 << 20, &v))
                                goto bad;
                        so.memory_limit = v << 20;
                        break;
                case OPT_MAXFILE:
                        if (!cli_parse_u64(optarg, 1, 2000, &v))
                                goto bad;
                        eo.max_file_size = v << 20;
                        break;
                case OPT_BEXP:
                        if (!cli_parse_u64(optarg, 1, 1 << 30, &v))
                                goto bad;
                        so.bomb_max_expanded = v << 20;
                        break;
                case OPT_BRATIO:
                        if (!cli_parse_u64(optarg, 2, 1000000, &v))
                                goto bad;
                        so.bomb_max_ratio = (uint32_t)v;
                        break;
                case OPT_BMEMBERS:
                        if (!cli_parse_u64(optarg, 1, 100000000, &v))
                                goto bad;
                        so.bomb_max_members = (uint32_t)v;
                        break;
                case OPT_BDEPTH:
                        if (!cli_parse_u64(optarg, 1, 64, &v))
                                goto bad;
                        so.bomb_max_depth = (uint32_t)v;
                        break;
                case OPT_NOPROGRESS:
                        c.progress = false;
                        break;
                case OPT_TIMEOUT:
                        if (!cli_parse_u64(optarg, 1, 7 * 86400, &v))
                                goto bad;
                        timeout = (unsigned)v;
                        break;
                case 'v':
                        c.verbosity++;
                        break;
                case 'h':
                        scan_usage(stdout);
                        return CLI_EXIT_OK;
                default:
                        scan_usage(stderr);
                        return CLI_EXIT_USAGE;
                }
        }
        if (optind + 1 != argc) {
                cli_error("scan: exactly one TARGET is needed (see 'mediagate scan --help')");
                return CLI_EXIT_USAGE;
        }
        const char *target = argv[optind];
        if (so.memory_limit && eo.max_file_size && eo.max_file_size > so.memory_limit / 2) {
                cli_error("scan: --max-file-size must be at most half of --memory-limit");
                return CLI_EXIT_USAGE;
        }
        if (!so.memory_limit && eo.max_file_size > (128ULL << 20)) {
                cli_error("scan: --max-file-size over 128 MiB needs a larger --memory-limit");
                return CLI_EXIT_USAGE;
        }

        eo.log = cli_log;
        eo.log_userdata = &c.verbosity;
        so.log = cli_log;
        so.log_userdata = &c.verbosity;
        so.progress = scan_draw_progress;
        so.userdata = &c;

        struct mg_scan_engine *e = NULL;
        int r = mg_scan_engine_new(&eo, &e);
        if (r < 0) {
                char *d = mg_escape_str(eo.db_path ? eo.db_path : "/var/lib/clamav");
                cli_error("scan: cannot load the signature database %s: %s", d ? d : "?",
                          r == -ENOENT ? "no signatures found" : strerror(-r));
                free(d);
                return r == -ENOENT || r == -EACCES ? CLI_EXIT_NOINPUT : CLI_EXIT_SOFTWARE;
        }
        struct mg_scan_engine_info info;
        mg_scan_engine_get_info(e, &info);
        if (max_age >= 0) {
                if (!info.dated) {
                        cli_error("scan: the signature database carries no build date; refusing "
                                  "(--max-signature-age)");
                        mg_scan_engine_unref(e);
                        return SCAN_EXIT_STALE;
                }
                double age = (double)(time(NULL) - info.built) / 86400.0;
                if (age > (double)max_age) {
                        cli_error("scan: signatures are %.1f days old (version %u), more than "
                                  "--max-signature-age %lld; refusing",
                                  age, info.version, max_age);
                        mg_scan_engine_unref(e);
                        return SCAN_EXIT_STALE;
                }
        }

        struct mg_scan *s = NULL;
        r = mg_scan_new(e, target, &so, &s);
        if (r < 0) {
                char *t = mg_escape_str(target);
                cli_error("scan: %s: %s", t ? t : "?",
                          r == -EINVAL ? "not a block device or a regular file" : strerror(-r));
                free(t);
                mg_scan_engine_unref(e);
                return r == -EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_NOINPUT;
        }
        scan_current = s;
        struct sigaction sa = {.sa_handler = scan_on_signal};
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);

        struct scan_watchdog wd = {.s = s, .seconds = timeout};
        pthread_t wt;
        bool have_wd = false;
        if (timeout) {
                pthread_mutex_init(&wd.lock, NULL);
                pthread_cond_init(&wd.cond, NULL);
                have_wd = pthread_create(&wt, NULL, scan_watchdog_main, &wd) == 0;
                if (!have_wd) {
                        cli_error("scan: cannot start the timeout watchdog");
                        mg_scan_free(s);
                        mg_scan_engine_unref(e);
                        return CLI_EXIT_SOFTWARE;
                }
        }
        enum mg_verdict verdict;
        r = mg_scan_run(s, &verdict);
        scan_current = NULL;
        if (have_wd) {
                pthread_mutex_lock(&wd.lock);
                wd.done = true;
                pthread_cond_signal(&wd.cond);
                pthread_mutex_unlock(&wd.lock);
                pthread_join(wt, NULL);
                if (wd.fired && r == -ECANCELED)
                        r = -ETIMEDOUT;
        }
        if (c.progress)
                fputs("\r\033[K", stderr);
        int code;
        if (r < 0) {
                if (r == -ETIMEDOUT) {
                        cli_error("scan: timed out after %u s: no verdict", timeout);
                        code = CLI_EXIT_SOFTWARE;
                } else if (r == -ECANCELED) {
                        cli_error("scan: interrupted: no verdict");
                        code = SCAN_EXIT_INTERRUPTED;
                } else {
                        cli_error("scan: internal error: %s: no verdict", strerror(-r));
                        code = CLI_EXIT_SOFTWARE;
                }
        } else if (c.json) {
                char *json = NULL;
                r = mg_scan_report_json(s, &json);
                if (r < 0) {
                        cli_error("scan: cannot build the report: %s", strerror(-r));
                        code = CLI_EXIT_SOFTWARE;
                } else {
                        fputs(json, stdout);
                        free(json);
                        code = scan_exit_code(verdict);
                }
        } else {
                scan_print_summary(s, &info, target, verdict);
                code = scan_exit_code(verdict);
        }
        if (fflush(stdout) != 0 || ferror(stdout)) {
                cli_error("scan: cannot write the report");
                code = CLI_EXIT_SOFTWARE;
        }
        mg_scan_free(s);
        mg_scan_engine_unref(e);
        return code;
bad:
        cli_error("scan: invalid value for an option: see 'mediagate scan --help'");
        return CLI_EXIT_USAGE;
}
