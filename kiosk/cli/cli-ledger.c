/* mediagate ledger: the signed, append-only audit ledger. */
#include <getopt.h>
#include <mediagate/escape.h>
#include <mediagate/ledger.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"
#include "ledger-internal.h"

/* verify's exit codes, one per kind of finding (the most severe finding decides). */
enum {
        LEDGER_EXIT_TAMPERED = 10,
        LEDGER_EXIT_CHAIN = 11,
        LEDGER_EXIT_CHECKPOINT = 12,
        LEDGER_EXIT_INCONSISTENT = 13,
        LEDGER_EXIT_BACKDATED = 14,
        LEDGER_EXIT_GAP = 15,
        LEDGER_EXIT_AUDIT = 16,
};

#define LEDGER_MAX_ARGS 256

static const char ledger_usage_text[] =
    "Usage: mediagate ledger [--ledger PATH] COMMAND [OPTIONS]\n"
    "\n"
    "The signed, append-only audit ledger (default PATH " MG_LEDGER_DEFAULT_PATH ").\n"
    "\n"
    "Commands:\n"
    "  init --origin NAME [--heartbeat SECONDS]\n"
    "                      create keys (mode 0600) and the database; NAME is the log's name\n"
    "  append --event TYPE [--actor NAME] [KEY=VALUE]...\n"
    "                      record one event durably; prints its index and leaf hash\n"
    "  heartbeat [--every SECONDS [--count N]]\n"
    "                      record HEARTBEAT entries (once, or every SECONDS)\n"
    "  show [--since N] [--json | --raw]\n"
    "                      print entries (--raw: the exact signed notes)\n"
    "  checkpoint          sign and print a C2SP tlog-checkpoint of the current tree\n"
    "  prove N [--size M]  inclusion proof of entry N in the tree of size M (default: now)\n"
    "  verify [--checkpoint FILE]... [--auditor-key FILE]... [--log-key FILE]\n"
    "         [--max-gap SECONDS] [--audit-max-age DAYS] [--at TIME] [--bundle DIR]\n"
    "                      recompute and check everything; the exit status names the problem\n"
    "                      (--bundle: check an export bundle instead of the ledger)\n"
    "  export DIR          write a self-contained bundle for an auditor\n"
    "  backup [--to DIR]   back up into two rotating generations (default PATH/backups)\n"
    "  keygen --name NAME --out FILE\n"
    "                      create an auditor's cosigning key (FILE, and FILE.vkey)\n"
    "  cosign --key FILE [--actor NAME]\n"
    "                      the auditor's review: verify, cosign a checkpoint, record AUDIT\n"
    "\n"
    "verify exit status: 0 all good; 10 tampered content; 11 broken key chain (deleted,\n"
    "inserted, reordered or re-signed entries); 12 bad checkpoint or cosignature signature;\n"
    "13 inconsistent with an older checkpoint or the stored tree (truncation, rollback, fork);\n"
    "14 backdated entry; 15 heartbeat gap; 16 audit overdue. The first bad entry is named.\n"
    "Other errors: 64 usage, 66 no ledger, 74 I/O error (the ledger stops), 70 internal.\n";

/* Print the ledger help. */
static void ledger_usage(FILE *f)
{
        fputs(ledger_usage_text, f);
}

/* Open the ledger or print why not. */
static int ledger_open_cli(const char *path, struct mg_ledger **ret)
{
        int r = mg_ledger_open(path, 0, ret);
        if (r < 0) {
                _cleanup_free_ char *e = mg_escape_str(path);
                return cli_error_errno(r, "cannot open ledger %s", e ? e : "?");
        }
        mg_ledger_set_log(*ret, cli_log, NULL);
        return 0;
}

/* Is this a help flag? */
static bool ledger_is_help(const char *s)
{
        return !strcmp(s, "-h") || !strcmp(s, "--help");
}

/* ledger init. */
static int ledger_cmd_init(const char *path, int argc, char **argv)
{
        static const struct option opts[] = {{"origin", required_argument, NULL, 'o'},
                                             {"heartbeat", required_argument, NULL, 'H'},
                                             {"help", no_argument, NULL, 'h'},
                                             {}};
        const char *origin = NULL;
        unsigned long long hb = 300;
        int c;
        while ((c = getopt_long(argc, argv, "o:H:h", opts, NULL)) != -1) {
                switch (c) {
                case 'o':
                        origin = optarg;
                        break;
                case 'H':
                        if (!cli_parse_u64(optarg, 1, 86400 * 366, &hb)) {
                                cli_error("bad --heartbeat");
                                return CLI_EXIT_USAGE;
                        }
                        break;
                case 'h':
                        ledger_usage(stdout);
                        return CLI_EXIT_OK;
                default:
                        return CLI_EXIT_USAGE;
                }
        }
        if (!origin || optind != argc) {
                cli_error("usage: mediagate ledger init --origin NAME [--heartbeat SECONDS]");
                return CLI_EXIT_USAGE;
        }
        int r = mg_ledger_init_heartbeat(path, origin, (uint32_t)hb);
        if (r == -EINVAL) {
                cli_error("invalid origin: printable ASCII without spaces or '+', at most 200");
                return CLI_EXIT_USAGE;
        }
        if (r == -EEXIST) {
                _cleanup_free_ char *e = mg_escape_str(path);
                cli_error("a ledger already exists in %s", e ? e : "?");
                return CLI_EXIT_CANTCREAT;
        }
        if (r < 0) {
                _cleanup_free_ char *e = mg_escape_str(path);
                return cli_error_errno(r, "cannot create ledger in %s", e ? e : "?");
        }
        _cleanup_free_ char *e = mg_escape_str(path);
        printf("ledger created in %s\n", e ? e : "?");
        return CLI_EXIT_OK;
}

/* Print a hash in hex. */
static void ledger_print_hex(const uint8_t *h, size_t n)
{
        for (size_t i = 0; i < n; i++)
                printf("%02x", h[i]);
}

/* ledger append. */
static int ledger_cmd_append(const char *path, int argc, char **argv)
{
        static const struct option opts[] = {{"event", required_argument, NULL, 'e'},
                                             {"actor", required_argument, NULL, 'a'},
                                             {"help", no_argument, NULL, 'h'},
                                             {}};
        const char *event = NULL, *actor = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "+e:a:h", opts, NULL)) != -1) {
                switch (c) {
                case 'e':
                        event = optarg;
                        break;
                case 'a':
                        actor = optarg;
                        break;
                case 'h':
                        ledger_usage(stdout);
                        return CLI_EXIT_OK;
                default:
                        return CLI_EXIT_USAGE;
                }
        }
        if (!event || !ledger_event_valid(event)) {
                cli_error("append needs --event TYPE ([A-Z][A-Z0-9_]{0,31})");
                return CLI_EXIT_USAGE;
        }
        size_t n = (size_t)(argc - optind);
        if (n > LEDGER_MAX_FIELDS) {
                cli_error("too many fields");
                return CLI_EXIT_USAGE;
        }
        struct mg_ledger_field f[LEDGER_MAX_FIELDS];
        char *copy[LEDGER_MAX_FIELDS] = {0};
        int r = 0;
        for (size_t i = 0; i < n; i++) {
                copy[i] = strdup(argv[optind + (int)i]);
                char *eq = copy[i] ? strchr(copy[i], '=') : NULL;
                if (!eq) {
                        r = CLI_EXIT_USAGE;
                        break;
                }
                *eq = 0;
                f[i] = (struct mg_ledger_field){copy[i], eq + 1};
                if (!ledger_field_key_valid(copy[i])) {
                        r = CLI_EXIT_USAGE;
                        break;
                }
        }
        if (r == 0) {
                struct mg_ledger *l = NULL;
                r = ledger_open_cli(path, &l);
                if (r == 0) {
                        uint64_t index;
                        uint8_t leaf[32];
                        int e = mg_ledger_append(l, event, actor, f, n, &index, leaf);
                        if (e < 0) {
                                r = cli_error_errno(e, "cannot append");
                        } else {
                                printf("%llu ", (unsigned long long)index);
                                ledger_print_hex(leaf, 32);
                                printf("\n");
                        }
                }
                mg_ledger_close(l);
        } else {
                cli_error("fields are KEY=VALUE with KEY in [a-z0-9._-]{1,64}");
        }
        for (size_t i = 0; i < n; i++)
                free(copy[i]);
        return r;
}

/* ledger heartbeat. */
static int ledger_cmd_heartbeat(const char *path, int argc, char **argv)
{
        static const struct option opts[] = {{"every", required_argument, NULL, 'e'},
                                             {"count", required_argument, NULL, 'c'},
                                             {"help", no_argument, NULL, 'h'},
                                             {}};
        unsigned long long every = 0, count = 1;
        int c;
        bool have_count = false;
        while ((c = getopt_long(argc, argv, "e:c:h", opts, NULL)) != -1) {
                switch (c) {
                case 'e':
                        if (!cli_parse_u64(optarg, 1, 86400, &every)) {
                                cli_error("bad --every");
                                return CLI_EXIT_USAGE;
                        }
                        break;
                case 'c':
                        if (!cli_parse_u64(optarg, 1, UINT32_MAX, &count)) {
                                cli_error("bad --count");
                                return CLI_EXIT_USAGE;
                        }
                        have_count = true;
                        break;
                case 'h':
                        ledger_usage(stdout);
                        return CLI_EXIT_OK;
                default:
                        return CLI_EXIT_USAGE;
                }
        }
        if (optind != argc)
                return CLI_EXIT_USAGE;
        if (every && !have_count)
                count = UINT64_MAX; /* until stopped */
        struct mg_ledger *l = NULL;
        int r = ledger_open_cli(path, &l);
        for (unsigned long long i = 0; r == 0 && i < count; i++) {
                if (i > 0)
                        sleep((unsigned)every);
                uint64_t index;
                int e = mg_ledger_heartbeat(l, &index);
                if (e < 0)
                        r = cli_error_errno(e, "cannot record heartbeat");
                else
                        printf("%llu\n", (unsigned long long)index);
                fflush(stdout);
        }
        mg_ledger_close(l);
        return r;
}

/* Print one entry as JSON. */
static void ledger_show_json(struct mg_json *j, const struct ledger_entry *e, const uint8_t *leaf)
{
        char ts[32], hex[65];
        ledger_time_format(e->time, ts);
        for (size_t i = 0; i < 32; i++)
                snprintf(hex + 2 * i, 3, "%02x", leaf[i]);
        json_obj_begin(j);
        json_kv_uint(j, "index", e->index);
        json_kv_str(j, "time", ts);
        json_kv_str(j, "event", e->event);
        /* Values were escaped when recorded, and a parsed entry holds no control characters. */
        json_kv_str(j, "actor", e->actor);
        json_key(j, "fields");
        json_obj_begin(j);
        for (size_t i = 0; i < e->n_fields; i++) {
                json_kv_str(j, e->fields[i].key, e->fields[i].value);
        }
        json_obj_end(j);
        json_kv_str(j, "leaf", hex);
        json_obj_end(j);
}

/* ledger show. */
static int ledger_cmd_show(const char *path, int argc, char **argv)
{
        static const struct option opts[] = {{"since", required_argument, NULL, 's'},
                                             {"json", no_argument, NULL, 'j'},
                                             {"raw", no_argument, NULL, 'r'},
                                             {"help", no_argument, NULL, 'h'},
                                             {}};
        unsigned long long since = 0;
        bool json = false, raw = false;
        int c;
        while ((c = getopt_long(argc, argv, "s:jrh", opts, NULL)) != -1) {
                switch (c) {
                case 's':
                        if (!cli_parse_u64(optarg, 0, UINT64_MAX, &since)) {
                                cli_error("bad --since");
                                return CLI_EXIT_USAGE;
                        }
                        break;
                case 'j':
                        json = true;
                        break;
                case 'r':
                        raw = true;
                        break;
                case 'h':
                        ledger_usage(stdout);
                        return CLI_EXIT_OK;
                default:
                        return CLI_EXIT_USAGE;
                }
        }
        if (optind != argc || (json && raw))
                return CLI_EXIT_USAGE;
        struct mg_ledger *l = NULL;
        int r = ledger_open_cli(path, &l);
        if (r)
                return r;
        uint64_t size = 0;
        int e = mg_ledger_size(l, &size);
        struct mg_buf b;
        struct mg_json j;
        buf_init(&b, 0);
        json_init(&j, &b);
        if (json)
                json_arr_begin(&j);
        for (uint64_t i = since; e == 0 && i < size; i++) {
                _cleanup_free_ char *text = NULL;
                size_t len;
                e = mg_ledger_entry(l, i, &text, &len);
                if (e < 0)
                        break;
                if (raw) {
                        fwrite(text, 1, len, stdout);
                        printf("\n");
                        continue;
                }
                struct ledger_entry *en = NULL;
                uint8_t leaf[32];
                ledger_leaf_hash(text, len, leaf);
                if (ledger_entry_parse(text, len, &en) < 0) {
                        cli_error("entry %llu is malformed (run 'mediagate ledger verify')",
                                  (unsigned long long)i);
                        r = CLI_EXIT_DATAERR;
                        break;
                }
                if (json) {
                        ledger_show_json(&j, en, leaf);
                } else {
                        char ts[32];
                        ledger_time_format(en->time, ts);
                        /* As recorded: escaped on the way in; parsing rejects control bytes. */
                        printf("%llu %s %s actor=%s", (unsigned long long)en->index, ts, en->event,
                               en->actor);
                        for (size_t k = 0; k < en->n_fields; k++)
                                printf(" %s=%s", en->fields[k].key, en->fields[k].value);
                        printf("\n");
                }
                ledger_entry_free(en);
        }
        if (json) {
                json_arr_end(&j);
                if (b.data)
                        printf("%s\n", b.data);
        }
        buf_free(&b);
        mg_ledger_close(l);
        if (e < 0)
                return cli_error_errno(e, "cannot read the ledger");
        return r;
}

/* ledger checkpoint. */
static int ledger_cmd_checkpoint(const char *path, int argc, char **argv)
{
        if (argc > 1)
                return ledger_is_help(argv[1]) ? (ledger_usage(stdout), 0) : CLI_EXIT_USAGE;
        struct mg_ledger *l = NULL;
        int r = ledger_open_cli(path, &l);
        if (r)
                return r;
        char *note = NULL;
        int e = mg_ledger_checkpoint(l, &note);
        if (e < 0)
                r = cli_error_errno(e, "cannot make a checkpoint");
        else
                fputs(note, stdout);
        free(note);
        mg_ledger_close(l);
        return r;
}

/* ledger prove. */
static int ledger_cmd_prove(const char *path, int argc, char **argv)
{
        static const struct option opts[] = {
            {"size", required_argument, NULL, 's'}, {"help", no_argument, NULL, 'h'}, {}};
        unsigned long long size = 0, index;
        int c;
        while ((c = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
                switch (c) {
                case 's':
                        if (!cli_parse_u64(optarg, 1, UINT64_MAX, &size)) {
                                cli_error("bad --size");
                                return CLI_EXIT_USAGE;
                        }
                        break;
                case 'h':
                        ledger_usage(stdout);
                        return CLI_EXIT_OK;
                default:
                        return CLI_EXIT_USAGE;
                }
        }
        if (optind != argc - 1 || !cli_parse_u64(argv[optind], 0, UINT64_MAX, &index)) {
                cli_error("usage: mediagate ledger prove N [--size M]");
                return CLI_EXIT_USAGE;
        }
        struct mg_ledger *l = NULL;
        int r = ledger_open_cli(path, &l);
        if (r)
                return r;
        char *text = NULL;
        int e = mg_ledger_prove(l, index, size, &text);
        if (e == -ERANGE) {
                cli_error("no entry %llu in a tree of that size", index);
                r = CLI_EXIT_USAGE;
        } else if (e < 0) {
                r = cli_error_errno(e, "cannot make the proof");
        } else {
                fputs(text, stdout);
        }
        free(text);
        mg_ledger_close(l);
        return r;
}

/* Read a small text file for an option, or print why not. */
static char *ledger_slurp(const char *file)
{
        char *text = NULL;
        int r = ledger_read_file(file, LEDGER_MAX_NOTE, &text, NULL);
        if (r < 0) {
                _cleanup_free_ char *e = mg_escape_str(file);
                cli_error_errno(r, "cannot read %s", e ? e : "?");
                return NULL;
        }
        return text;
}

/* ledger verify. */
static int ledger_cmd_verify(const char *path, int argc, char **argv)
{
        static const struct option opts[] = {{"checkpoint", required_argument, NULL, 'c'},
                                             {"auditor-key", required_argument, NULL, 'a'},
                                             {"log-key", required_argument, NULL, 'k'},
                                             {"max-gap", required_argument, NULL, 'g'},
                                             {"audit-max-age", required_argument, NULL, 'A'},
                                             {"at", required_argument, NULL, 't'},
                                             {"bundle", required_argument, NULL, 'b'},
                                             {"help", no_argument, NULL, 'h'},
                                             {}};
        const char *cps[LEDGER_MAX_ARGS], *auds[LEDGER_MAX_ARGS];
        size_t ncp = 0, naud = 0;
        struct mg_ledger_verify_opts o = {0};
        _cleanup_free_ char *logkey = NULL;
        const char *bundle = NULL;
        unsigned long long v;
        int c, r = 0;
        while (r == 0 && (c = getopt_long(argc, argv, "c:a:k:g:A:t:b:h", opts, NULL)) != -1) {
                switch (c) {
                case 'c':
                case 'a': {
                        size_t *n = c == 'c' ? &ncp : &naud;
                        const char **arr = c == 'c' ? cps : auds;
                        char *t = *n < LEDGER_MAX_ARGS ? ledger_slurp(optarg) : NULL;
                        if (!t)
                                r = CLI_EXIT_NOINPUT;
                        else
                                arr[(*n)++] = t;
                        break;
                }
                case 'k':
                        free(logkey);
                        if (!(logkey = ledger_slurp(optarg)))
                                r = CLI_EXIT_NOINPUT;
                        break;
                case 'g':
                        if (!cli_parse_u64(optarg, 0, INT32_MAX, &v)) {
                                cli_error("bad --max-gap");
                                r = CLI_EXIT_USAGE;
                        }
                        o.max_gap_s = v == 0 ? -1 : (int64_t)v;
                        break;
                case 'A':
                        if (!cli_parse_u64(optarg, 0, 100000, &v)) {
                                cli_error("bad --audit-max-age");
                                r = CLI_EXIT_USAGE;
                        }
                        o.audit_max_age_s = v == 0 ? -1 : (int64_t)v * 86400;
                        break;
                case 'b':
                        bundle = optarg;
                        break;
                case 't':
                        if (ledger_time_parse(optarg, strlen(optarg), &o.now) < 0) {
                                cli_error("bad --at (want YYYY-MM-DDTHH:MM:SSZ)");
                                r = CLI_EXIT_USAGE;
                        }
                        break;
                case 'h':
                        ledger_usage(stdout);
                        r = -1;
                        break;
                default:
                        r = CLI_EXIT_USAGE;
                }
        }
        if (r == 0 && optind != argc)
                r = CLI_EXIT_USAGE;
        struct mg_ledger *l = NULL;
        if (r == 0 && !bundle)
                r = ledger_open_cli(path, &l);
        if (r == 0) {
                o.checkpoints = cps;
                o.n_checkpoints = ncp;
                o.auditor_vkeys = auds;
                o.n_auditor_vkeys = naud;
                o.log_vkey = logkey;
                struct mg_ledger_verify_result res;
                int e = bundle ? mg_ledger_verify_bundle(bundle, &o, cli_log, NULL, &res)
                               : mg_ledger_verify(l, &o, &res);
                if (e < 0) {
                        r = cli_error_errno(e, "cannot verify");
                } else if (res.problem == MG_LEDGER_OK) {
                        char b64[64];
                        ledger_b64_encode(res.root, 32, b64, sizeof(b64));
                        printf("OK: %llu entries verified, root %s\n", (unsigned long long)res.size,
                               b64);
                } else {
                        static const int codes[] = {
                            [MG_LEDGER_TAMPERED] = LEDGER_EXIT_TAMPERED,
                            [MG_LEDGER_CHAIN] = LEDGER_EXIT_CHAIN,
                            [MG_LEDGER_CHECKPOINT] = LEDGER_EXIT_CHECKPOINT,
                            [MG_LEDGER_INCONSISTENT] = LEDGER_EXIT_INCONSISTENT,
                            [MG_LEDGER_BACKDATED] = LEDGER_EXIT_BACKDATED,
                            [MG_LEDGER_GAP] = LEDGER_EXIT_GAP,
                            [MG_LEDGER_AUDIT_OVERDUE] = LEDGER_EXIT_AUDIT,
                        };
                        printf("FAILED: %s\n", res.message);
                        if (res.has_index)
                                printf("first bad entry: %llu\n",
                                       (unsigned long long)res.bad_index);
                        r = codes[res.problem];
                }
        }
        mg_ledger_close(l);
        for (size_t i = 0; i < ncp; i++)
                free((char *)cps[i]);
        for (size_t i = 0; i < naud; i++)
                free((char *)auds[i]);
        return r < 0 ? 0 : r;
}

/* ledger export. */
static int ledger_cmd_export(const char *path, int argc, char **argv)
{
        if (argc != 2 || ledger_is_help(argv[1])) {
                if (argc == 2)
                        ledger_usage(stdout);
                else
                        cli_error("usage: mediagate ledger export DIR");
                return argc == 2 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
        }
        struct mg_ledger *l = NULL;
        int r = ledger_open_cli(path, &l);
        if (r)
                return r;
        int e = mg_ledger_export(l, argv[1]);
        if (e < 0) {
                _cleanup_free_ char *d = mg_escape_str(argv[1]);
                r = cli_error_errno(e, "cannot export to %s", d ? d : "?");
        }
        mg_ledger_close(l);
        return r;
}

/* ledger backup. */
static int ledger_cmd_backup(const char *path, int argc, char **argv)
{
        static const struct option opts[] = {
            {"to", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'}, {}};
        const char *to = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
                switch (c) {
                case 't':
                        to = optarg;
                        break;
                case 'h':
                        ledger_usage(stdout);
                        return CLI_EXIT_OK;
                default:
                        return CLI_EXIT_USAGE;
                }
        }
        if (optind != argc)
                return CLI_EXIT_USAGE;
        struct mg_ledger *l = NULL;
        int r = ledger_open_cli(path, &l);
        if (r)
                return r;
        uint64_t n;
        int e = mg_ledger_backup(l, to, &n);
        if (e < 0)
                r = cli_error_errno(e, "backup failed");
        else
                printf("backup of %llu entries verified\n", (unsigned long long)n);
        mg_ledger_close(l);
        return r;
}

/* ledger keygen. */
static int ledger_cmd_keygen(int argc, char **argv)
{
        static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
                                             {"out", required_argument, NULL, 'o'},
                                             {"help", no_argument, NULL, 'h'},
                                             {}};
        const char *name = NULL, *out = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "n:o:h", opts, NULL)) != -1) {
                switch (c) {
                case 'n':
                        name = optarg;
                        break;
                case 'o':
                        out = optarg;
                        break;
                case 'h':
                        ledger_usage(stdout);
                        return CLI_EXIT_OK;
                default:
                        return CLI_EXIT_USAGE;
                }
        }
        if (!name || !out || optind != argc || !ledger_name_valid(name, strlen(name))) {
                cli_error("usage: mediagate ledger keygen --name NAME --out FILE");
                return CLI_EXIT_USAGE;
        }
        int e = mg_ledger_keygen(name, out);
        if (e < 0) {
                _cleanup_free_ char *d = mg_escape_str(out);
                return cli_error_errno(e, "cannot create key %s", d ? d : "?");
        }
        return CLI_EXIT_OK;
}

/* ledger cosign. */
static int ledger_cmd_cosign(const char *path, int argc, char **argv)
{
        static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
                                             {"actor", required_argument, NULL, 'a'},
                                             {"help", no_argument, NULL, 'h'},
                                             {}};
        const char *key = NULL, *actor = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "k:a:h", opts, NULL)) != -1) {
                switch (c) {
                case 'k':
                        key = optarg;
                        break;
                case 'a':
                        actor = optarg;
                        break;
                case 'h':
                        ledger_usage(stdout);
                        return CLI_EXIT_OK;
                default:
                        return CLI_EXIT_USAGE;
                }
        }
        if (!key || optind != argc) {
                cli_error("usage: mediagate ledger cosign --key FILE [--actor NAME]");
                return CLI_EXIT_USAGE;
        }
        struct mg_ledger *l = NULL;
        int r = ledger_open_cli(path, &l);
        if (r)
                return r;
        char *note = NULL;
        int e = mg_ledger_cosign(l, key, actor, &note);
        if (e == -EBADMSG) {
                cli_error("the ledger does not verify; not cosigned");
                r = CLI_EXIT_DATAERR;
        } else if (e < 0) {
                r = cli_error_errno(e, "cannot cosign");
        } else {
                fputs(note, stdout);
        }
        free(note);
        mg_ledger_close(l);
        return r;
}

/* Dispatch a ledger subcommand. */
int cli_ledger(int argc, char **argv)
{
        const char *path = MG_LEDGER_DEFAULT_PATH;
        char *args[LEDGER_MAX_ARGS + 1];
        int n = 0;
        /* --ledger PATH may come before or after the subcommand. */
        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--ledger") && i + 1 < argc) {
                        path = argv[++i];
                } else if (!strncmp(argv[i], "--ledger=", 9)) {
                        path = argv[i] + 9;
                } else if (!strcmp(argv[i], "--ledger")) {
                        cli_error("--ledger needs a PATH");
                        return CLI_EXIT_USAGE;
                } else if (n < LEDGER_MAX_ARGS) {
                        args[n++] = argv[i];
                } else {
                        cli_error("too many arguments");
                        return CLI_EXIT_USAGE;
                }
        }
        args[n] = NULL;
        if (n == 0) {
                ledger_usage(stderr);
                return CLI_EXIT_USAGE;
        }
        if (ledger_is_help(args[0]) || !strcmp(args[0], "help")) {
                ledger_usage(stdout);
                return CLI_EXIT_OK;
        }
        static const struct {
                const char *name;
                int (*run)(const char *path, int argc, char **argv);
        } cmds[] = {
            {"init", ledger_cmd_init},
            {"append", ledger_cmd_append},
            {"heartbeat", ledger_cmd_heartbeat},
            {"show", ledger_cmd_show},
            {"checkpoint", ledger_cmd_checkpoint},
            {"prove", ledger_cmd_prove},
            {"verify", ledger_cmd_verify},
            {"export", ledger_cmd_export},
            {"backup", ledger_cmd_backup},
            {"cosign", ledger_cmd_cosign},
        };
        optind = 0; /* reset getopt for the subcommand's own parse */
        if (!strcmp(args[0], "keygen"))
                return ledger_cmd_keygen(n, args);
        for (size_t i = 0; i < MG_ARRAY_SIZE(cmds); i++)
                if (!strcmp(args[0], cmds[i].name))
                        return cmds[i].run(path, n, args);
        _cleanup_free_ char *e = mg_escape(args[0], strlen(args[0]), 64);
        cli_error("unknown ledger command '%s' (see 'mediagate ledger --help')", e ? e : "?");
        return CLI_EXIT_USAGE;
}
