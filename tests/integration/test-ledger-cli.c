/* The 'mediagate ledger' command: help, recording, JSON output, verify's exit codes for each kind
 * of problem, and an export bundle checked by an independent implementation (Go's
 * golang.org/x/mod/sumdb/note and sumdb/tlog) when Go is installed. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define GOPATH_DIR "/usr/share/gocode"
#define GOVERIFY   MG_SOURCE_DIR "/tests/data/ledger/goverify/goverify.go"

/* Run SQL on a ledger database as an attacker would (triggers dropped first). */
static void db_exec(const char *dir, const char *sql)
{
        char *path = NULL, *err = NULL;
        assert_true(asprintf(&path, "%s/ledger.db", dir) > 0);
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        if (sqlite3_exec(db,
                         "DROP TRIGGER IF EXISTS entries_no_update;"
                         "DROP TRIGGER IF EXISTS entries_no_delete;",
                         NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
                fail_msg("%s: %s", sql, err ? err : "?");
        sqlite3_close(db);
        free(path);
}

/* Run the CLI on ledger @dir with arguments; return the exit status. */
static int cli(const char *dir, const char *args)
{
        return tu_sh("'%s' ledger --ledger '%s' %s", MG_CLI, dir, args);
}

/* Make a ledger with a few entries in @tmp/l. */
static char *make(const char *tmp, const char *name)
{
        char *dir = NULL;
        assert_true(asprintf(&dir, "%s/%s", tmp, name) > 0);
        assert_int_equal(cli(dir, "init --origin kiosk.test/cli >/dev/null"), 0);
        for (int i = 0; i < 6; i++)
                assert_int_equal(
                    cli(dir, "append --event SCAN --actor op device.serial=X >/dev/null"), 0);
        return dir;
}

/* Help names every subcommand and verify's exit codes; errors give the documented codes. */
static void test_help_and_usage(void **state)
{
        int st;
        char *out = tu_sh_output(&st, "'%s' ledger --help", MG_CLI);
        assert_int_equal(st, 0);
        static const char *const words[] = {"init",
                                            "append",
                                            "heartbeat",
                                            "show",
                                            "checkpoint",
                                            "prove",
                                            "verify",
                                            "export",
                                            "backup",
                                            "keygen",
                                            "cosign",
                                            "--ledger",
                                            "10 tampered",
                                            "11 broken key chain",
                                            "12 bad checkpoint",
                                            "13 inconsistent",
                                            "14 backdated",
                                            "15 heartbeat gap",
                                            "16 audit overdue"};
        for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
                if (!strstr(out, words[i]))
                        fail_msg("help lacks '%s'", words[i]);
        free(out);
        char *tmp = tu_mkdtemp("ledger-cli");
        char *missing = NULL;
        assert_true(asprintf(&missing, "%s/none", tmp) > 0);
        assert_int_equal(cli(missing, "verify 2>/dev/null"), 66);
        assert_int_equal(cli(missing, "frobnicate 2>/dev/null"), 64);
        char *dir = make(tmp, "l");
        assert_int_equal(cli(dir, "append --event 'bad event' 2>/dev/null"), 64);
        assert_int_equal(cli(dir, "append --event SCAN NOEQUALS 2>/dev/null"), 64);
        assert_int_equal(cli(dir, "prove 99 2>/dev/null"), 64);
        assert_int_equal(cli(dir, "init --origin x 2>/dev/null"), 73);
        free(dir);
        free(missing);
        tu_rmtree(tmp);
}

/* append prints index and leaf; show --json is valid JSON with escaped values. */
static void test_append_show(void **state)
{
        char *tmp = tu_mkdtemp("ledger-cli");
        char *dir = make(tmp, "l");
        int st;
        char *out = tu_sh_output(&st,
                                 "'%s' ledger --ledger '%s' append --event WIPE --actor "
                                 "\"$(printf 'm\\033[2Jallory')\" wipe.result=ok",
                                 MG_CLI, dir);
        assert_int_equal(st, 0);
        assert_int_equal(strncmp(out, "7 ", 2), 0);
        assert_int_equal(strlen(out), 2 + 64 + 1);
        free(out);
        out = tu_sh_output(&st, "'%s' ledger --ledger '%s' show --json --since 6", MG_CLI, dir);
        assert_int_equal(st, 0);
        assert_non_null(strstr(out, "\"index\":7"));
        assert_non_null(strstr(out, "\"event\":\"WIPE\""));
        assert_non_null(strstr(out, "m\\\\x1b[2Jallory")); /* escaped, then JSON-escaped */
        assert_null(strstr(out, "\"index\":5"));
        free(out);
        assert_int_equal(tu_sh("'%s' ledger --ledger '%s' show --json | python3 -c 'import "
                               "json,sys; d=json.load(sys.stdin); assert len(d)==8, len(d)'",
                               MG_CLI, dir),
                         0);
        out = tu_sh_output(&st, "'%s' ledger --ledger '%s' heartbeat --every 1 --count 2", MG_CLI,
                           dir);
        assert_int_equal(st, 0);
        assert_string_equal(out, "8\n9\n");
        free(out);
        assert_int_equal(cli(dir, "verify >/dev/null"), 0);
        free(dir);
        tu_rmtree(tmp);
}

/* verify's exit status names the kind of problem. */
static void test_verify_codes(void **state)
{
        char *tmp = tu_mkdtemp("ledger-cli");
        char *dir = make(tmp, "l"), *cmd = NULL;
        int st;
        char *out = tu_sh_output(&st, "'%s' ledger --ledger '%s' verify", MG_CLI, dir);
        assert_int_equal(st, 0);
        assert_non_null(strstr(out, "OK: 7 entries verified"));
        free(out);
        assert_true(asprintf(&cmd, "checkpoint > '%s/cp7'", tmp) > 0);
        assert_int_equal(cli(dir, cmd), 0);
        free(cmd);
        assert_int_equal(tu_sh("cp -a '%s' '%s.orig'", dir, dir), 0);

        /* 10: a changed byte in entry 3 */
        db_exec(dir, "UPDATE entries SET body = replace(body, 'actor op', 'actor oq') "
                     "WHERE idx = 3");
        out = tu_sh_output(&st, "'%s' ledger --ledger '%s' verify 2>/dev/null", MG_CLI, dir);
        assert_int_equal(st, 10);
        assert_non_null(strstr(out, "first bad entry: 3"));
        free(out);

        /* 11: a deleted entry */
        tu_sh("rm -rf '%s' && cp -a '%s.orig' '%s'", dir, dir, dir);
        db_exec(dir, "DELETE FROM entries WHERE idx = 2");
        out = tu_sh_output(&st, "'%s' ledger --ledger '%s' verify 2>/dev/null", MG_CLI, dir);
        assert_int_equal(st, 11);
        assert_non_null(strstr(out, "first bad entry: 2"));
        free(out);

        /* 12: a checkpoint whose signature is broken */
        tu_sh("rm -rf '%s' && cp -a '%s.orig' '%s'", dir, dir, dir);
        char *path = NULL;
        assert_true(asprintf(&path, "%s/cp7", tmp) > 0);
        size_t len;
        char *cp = tu_read_file(path, &len);
        assert_non_null(cp);
        char *c = cp + len - 20; /* inside the signature's base64 */
        *c = *c == 'A' ? 'B' : 'A';
        free(path);
        assert_true(asprintf(&path, "%s/cp7.bad", tmp) > 0);
        assert_int_equal(tu_write_file(path, cp, len), 0);
        free(path);
        free(cp);
        assert_true(asprintf(&cmd, "verify --checkpoint '%s/cp7.bad' >/dev/null 2>&1", tmp) > 0);
        st = cli(dir, cmd);
        free(cmd);
        assert_int_equal(st, 12);

        /* 13: truncated below an older checkpoint */
        db_exec(dir, "DELETE FROM entries WHERE idx >= 5");
        assert_true(asprintf(&cmd, "verify --checkpoint '%s/cp7' >/dev/null 2>&1", tmp) > 0);
        assert_int_equal(cli(dir, cmd), 13);
        free(cmd);

        /* 15: a heartbeat gap (limit set to 1 s here) */
        tu_sh("rm -rf '%s' && cp -a '%s.orig' '%s'", dir, dir, dir);
        tu_sh("sleep 2");
        assert_int_equal(cli(dir, "heartbeat >/dev/null"), 0);
        assert_int_equal(cli(dir, "verify --max-gap 1 >/dev/null 2>&1"), 15);
        assert_int_equal(cli(dir, "verify >/dev/null 2>&1"), 0);

        /* 16: overdue audit, as of a date a year on; a cosignature clears it */
        assert_int_equal(cli(dir, "verify --at 2099-01-01T00:00:00Z >/dev/null 2>&1"), 16);
        assert_true(asprintf(&cmd, "keygen --name auditor.test/a --out '%s/a.key'", tmp) > 0);
        assert_int_equal(cli(dir, cmd), 0);
        free(cmd);
        assert_true(asprintf(&cmd, "cosign --key '%s/a.key' > '%s/cosigned'", tmp, tmp) > 0);
        assert_int_equal(cli(dir, cmd), 0);
        free(cmd);
        assert_true(asprintf(&cmd,
                             "verify --auditor-key '%s/a.key.vkey' --checkpoint '%s/cp7' "
                             "--checkpoint '%s/cosigned' >/dev/null",
                             tmp, tmp, tmp) > 0);
        assert_int_equal(cli(dir, cmd), 0);
        free(cmd);
        free(dir);
        tu_rmtree(tmp);
}

/* An exported bundle verifies with Go's independent implementation; tampering does not. */
static void test_go_verifier(void **state)
{
        if (!tu_have("go") || tu_sh("test -d " GOPATH_DIR "/src/golang.org/x/mod/sumdb") != 0) {
                printf("# go or golang.org/x/mod missing (packages golang-go, "
                       "golang-golang-x-mod-dev): skipped\n");
                skip();
        }
        char *tmp = tu_mkdtemp("ledger-go");
        char *dir = make(tmp, "l"), *cmd = NULL, *gobin = NULL;
        assert_true(asprintf(&cmd, "checkpoint > '%s/old'", tmp) > 0);
        assert_int_equal(cli(dir, cmd), 0);
        free(cmd);
        for (int i = 0; i < 10; i++)
                assert_int_equal(cli(dir, "append --event WIPE x=y >/dev/null"), 0);
        assert_true(asprintf(&cmd, "keygen --name auditor.test/a --out '%s/a.key'", tmp) > 0);
        assert_int_equal(cli(dir, cmd), 0);
        free(cmd);
        assert_true(asprintf(&cmd, "cosign --key '%s/a.key' >/dev/null", tmp) > 0);
        assert_int_equal(cli(dir, cmd), 0);
        free(cmd);
        assert_true(asprintf(&cmd,
                             "prove 3 > '%s/proof3' && '%s' ledger --ledger '%s' prove 12 "
                             "--size 15 > '%s/proof12'",
                             tmp, MG_CLI, dir, tmp) > 0);
        assert_int_equal(cli(dir, cmd), 0);
        free(cmd);
        assert_true(asprintf(&cmd, "export '%s/bundle'", tmp) > 0);
        assert_int_equal(cli(dir, cmd), 0);
        free(cmd);
        /* build the verifier once, then run it */
        assert_true(asprintf(&gobin, "%s/goverify", tmp) > 0);
        assert_int_equal(tu_sh("cd '%s' && GO111MODULE=off GOPATH=" GOPATH_DIR
                               " GOCACHE='%s/gocache' GOFLAGS= go build -o '%s' '" GOVERIFY "'",
                               tmp, tmp, gobin),
                         0);
        int st;
        char *out = tu_sh_output(&st,
                                 "'%s' '%s/bundle' -old '%s/old' -proof '%s/proof3' -proof "
                                 "'%s/proof12' -auditor '%s/a.key.vkey' 2>&1",
                                 gobin, tmp, tmp, tmp, tmp, tmp);
        printf("# %s", out);
        assert_int_equal(st, 0);
        assert_non_null(strstr(out, "OK: 18 entries"));
        assert_non_null(strstr(out, "1 cosignatures"));
        free(out);
        /* one byte changed in an exported entry: Go rejects it too */
        assert_int_equal(tu_sh("sed -i 's/^actor op$/actor oq/' '%s/bundle/entries/4'", tmp), 0);
        assert_int_not_equal(tu_sh("'%s' '%s/bundle' >/dev/null 2>&1", gobin, tmp), 0);
        free(gobin);
        free(dir);
        tu_rmtree(tmp);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_help_and_usage),
            cmocka_unit_test(test_append_show),
            cmocka_unit_test(test_verify_codes),
            cmocka_unit_test(test_go_verifier),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
