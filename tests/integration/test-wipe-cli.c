/* The mediagate wipe command: refusals, usage, fake-capacity and faulty media through an LD_PRELOAD
 * shim, the WIPE ledger entry, cancellation by a signal, the record file and the PDF. */
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "test-wipe-util.h"

#define MiB (1ull << 20)

/* Environment that preloads the fault shim for @img (the ASan runtime may then come second). */
static char *shim_env(const char *img, const char *more)
{
        char real[4096];
        assert_non_null(realpath(img, real));
        const char *asan = getenv("ASAN_OPTIONS");
        char *env = NULL;
        assert_true(asprintf(&env,
                             "env ASAN_OPTIONS='%s%sverify_asan_link_order=0' LD_PRELOAD='%s' "
                             "WIPE_SHIM_FILE='%s' %s",
                             asan ? asan : "", asan ? ":" : "", WIPE_SHIM, real, more) > 0);
        return env;
}

/* SHA-256 of a file, as the sha256sum tool prints it. */
static char *file_sum(const char *path)
{
        int st;
        char *out = tu_sh_output(&st, "sha256sum < '%s'", path);
        assert_int_equal(st, 0);
        return out;
}

/* Run the CLI and parse its JSON certificate. */
static json_object *cli_json(int *status, const char *env, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static json_object *cli_json(int *status, const char *env, const char *fmt, ...)
{
        char *args = NULL;
        va_list ap;
        va_start(ap, fmt);
        assert_true(vasprintf(&args, fmt, ap) > 0);
        va_end(ap);
        char *out = NULL;
        *status = wu_cli(&out, env, args);
        free(args);
        json_object *j = wu_parse(out);
        free(out);
        return j;
}

/* An image file needs --force-image; a refused target is left untouched and no record is made. */
static void test_refusals_and_usage(void **state)
{
        char *dir = tu_mkdtemp("wipe-cli");
        char img[512], args[1200];
        snprintf(img, sizeof(img), "%s/stick.img", dir);
        wu_image(img, 4 * MiB, 0x42);
        char *before = file_sum(img);
        char *out = NULL;
        snprintf(args, sizeof(args), "wipe --no-ledger --json '%s'", img);
        assert_int_equal(wu_cli(&out, NULL, args), 77);
        assert_string_equal(out, "");
        free(out);
        char *after = file_sum(img);
        assert_string_equal(before, after);
        free(after);
        /* A missing target. */
        snprintf(args, sizeof(args), "wipe --no-ledger --force-image '%s/none.img'", dir);
        assert_int_equal(wu_cli(NULL, NULL, args), 66);
        /* A ledger that does not exist: refused before anything is written. */
        snprintf(args, sizeof(args), "wipe --force-image --ledger '%s/noledger' '%s'", dir, img);
        assert_int_equal(wu_cli(NULL, NULL, args), 66);
        after = file_sum(img);
        assert_string_equal(before, after);
        free(after);
        free(before);
        /* Usage errors. */
        assert_int_equal(wu_cli(NULL, NULL, "wipe --method dod x 2>/dev/null"), 64);
        assert_int_equal(wu_cli(NULL, NULL, "wipe --verify some x 2>/dev/null"), 64);
        assert_int_equal(wu_cli(NULL, NULL, "wipe --io-size 1000 x 2>/dev/null"), 64);
        assert_int_equal(wu_cli(NULL, NULL, "wipe --io-size 16777216 x 2>/dev/null"), 64);
        assert_int_equal(wu_cli(NULL, NULL, "wipe a b 2>/dev/null"), 64);
        assert_int_equal(wu_cli(NULL, NULL, "wipe 2>/dev/null"), 64);
        assert_int_equal(wu_cli(NULL, NULL, "wipe --ledger x --no-ledger y 2>/dev/null"), 64);
        /* The help names every option the command takes. */
        assert_int_equal(wu_cli(&out, NULL, "wipe --help"), 0);
        const char *opts[] = {"--method",      "--verify", "--json",      "--record",   "--pdf",
                              "--force-image", "--ledger", "--no-ledger", "--operator", "--io-size",
                              "--progress",    "--quiet",  "random+zero", "sample"};
        for (size_t i = 0; i < MG_ARRAY_SIZE(opts); i++)
                if (!strstr(out, opts[i]))
                        fail_msg("help does not mention %s", opts[i]);
        free(out);
        tu_rmtree(dir);
}

/* A stick that wraps addresses beyond 8 MiB (fake capacity) fails, with its real size, under both
 * full and sample verification. */
static void test_fake_capacity(void **state)
{
        char *dir = tu_mkdtemp("wipe-fake");
        char img[512];
        snprintf(img, sizeof(img), "%s/fake.img", dir);
        const char *modes[] = {"full", "sample"};
        const uint64_t sizes[] = {32 * MiB, 64 * MiB};
        for (size_t i = 0; i < 2; i++) {
                wu_image(img, sizes[i], 0);
                char *env = shim_env(img, "WIPE_SHIM_WRAP=8388608");
                int st;
                json_object *j =
                    cli_json(&st, env, "wipe --no-ledger --force-image --json --verify %s '%s'",
                             modes[i], img);
                assert_int_equal(st, 1);
                assert_string_equal(wu_str(j, "status"), "failed");
                assert_true(wu_bool(j, "fake_capacity"));
                assert_int_equal(wu_int(j, "usable_capacity"), 8 * MiB);
                assert_int_equal(wu_int(j, "verified_capacity"), 8 * MiB);
                assert_int_equal(wu_int(j, "device.reported_capacity"), sizes[i]);
                assert_non_null(strstr(wu_str(j, "failure"), "fake capacity"));
                assert_non_null(strstr(wu_str(j, "disposition"), "destroy"));
                json_object *p0 = json_object_array_get_idx(wu_get(j, "passes"), 0);
                assert_true(wu_int(p0, "aliased_blocks") > 0);
                json_object_put(j);
                free(env);
        }
        /* A stick that loses what is written past 6 MiB (reads there return zeroes). */
        wu_image(img, 16 * MiB, 0);
        char *env = shim_env(img, "WIPE_SHIM_DROP=6291456");
        int st2;
        json_object *jd = cli_json(
            &st2, env, "wipe --no-ledger --force-image --json --io-size 1048576 '%s'", img);
        assert_int_equal(st2, 1);
        assert_true(wu_bool(jd, "fake_capacity"));
        assert_int_equal(wu_int(jd, "usable_capacity"), 6 * MiB);
        assert_int_equal(wu_int(jd, "verified_capacity"), 6 * MiB);
        assert_true(wu_has_range(jd, 6 * MiB, 10 * MiB, "verify"));
        json_object_put(jd);
        free(env);
        /* A few bad blocks at the end are bad blocks, not a fake capacity. */
        env = shim_env(img, "WIPE_SHIM_DROP=16760832");
        jd = cli_json(&st2, env, "wipe --no-ledger --force-image --json '%s'", img);
        assert_int_equal(st2, 1);
        assert_false(wu_bool(jd, "fake_capacity"));
        assert_int_equal(wu_int(jd, "mismatched_blocks"), 4);
        json_object_put(jd);
        free(env);

        /* The same image without the shim is fine: the detection is not a false alarm. */
        int st;
        json_object *j = cli_json(&st, NULL, "wipe --no-ledger --force-image --json '%s'", img);
        assert_int_equal(st, 0);
        assert_false(wu_bool(j, "fake_capacity"));
        json_object_put(j);
        /* The human summary says it too. */
        char *env2 = shim_env(img, "WIPE_SHIM_WRAP=8388608");
        char *out = tu_sh_output(&st, "%s %s wipe --no-ledger --force-image -q '%s' 2>/dev/null",
                                 env2, MG_CLI, img);
        assert_int_equal(st, 1);
        assert_non_null(strstr(out, ": FAILED\n"));
        assert_non_null(strstr(out, "FAKE CAPACITY: about 8388608 bytes really usable"));
        free(out);
        free(env2);
        tu_rmtree(dir);
}

/* Writes failing in a range: bounded retries, then FAILED with the exact bad range. */
static void test_write_errors(void **state)
{
        char *dir = tu_mkdtemp("wipe-werr");
        char img[512];
        snprintf(img, sizeof(img), "%s/bad.img", dir);
        wu_image(img, 16 * MiB, 0);
        /* 100 KiB from 5 MiB: the two 64 KiB pieces it touches fail. */
        char *env = shim_env(img, "WIPE_SHIM_FAIL_WRITE=5242880:102400");
        int st;
        json_object *j = cli_json(&st, env, "wipe --no-ledger --force-image --json '%s'", img);
        assert_int_equal(st, 1);
        assert_string_equal(wu_str(j, "status"), "failed");
        assert_int_equal(wu_int(j, "write_errors"), 2);
        assert_true(wu_has_range(j, 5 * MiB, 128 << 10, "write"));
        assert_int_equal(wu_int(j, "bad_ranges_total"), 1);
        assert_non_null(strstr(wu_str(j, "disposition"), "destroyed"));
        /* Everything else was written. */
        assert_int_equal(wu_int(j, "bytes_written"), 16 * MiB - (128 << 10));
        json_object_put(j);
        free(env);

        /* Reads failing during verify. */
        env = shim_env(img, "WIPE_SHIM_FAIL_READ=1048576:4096");
        j = cli_json(&st, env, "wipe --no-ledger --force-image --json --method zero '%s'", img);
        assert_int_equal(st, 1);
        assert_int_equal(wu_int(j, "read_errors"), 1);
        assert_true(wu_has_range(j, 1 * MiB, 64 << 10, "read"));
        assert_int_equal(wu_int(j, "bytes_verified"), 16 * MiB - (64 << 10));
        json_object_put(j);
        free(env);

        /* A medium that returns one wrong byte on read. */
        env = shim_env(img, "WIPE_SHIM_FLIP_READ=12345678");
        j = cli_json(&st, env, "wipe --no-ledger --force-image --json --method zero '%s'", img);
        assert_int_equal(st, 1);
        assert_int_equal(wu_int(j, "mismatched_blocks"), 1);
        assert_true(wu_has_range(j, 12345678 / 4096 * 4096, 4096, "verify"));
        json_object_put(j);
        free(env);
        tu_rmtree(dir);
}

/* Find the WIPE entries of a ledger (as `ledger show --json` prints them). */
static json_object *ledger_wipes(const char *ledger)
{
        int st;
        char *out = tu_sh_output(&st, "%s ledger --ledger '%s' show --json", MG_CLI, ledger);
        assert_int_equal(st, 0);
        json_object *all = wu_parse(out);
        free(out);
        json_object *wipes = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(all); i++) {
                json_object *e = json_object_array_get_idx(all, i);
                if (!strcmp(wu_str(e, "event"), "WIPE"))
                        json_object_array_add(wipes, json_object_get(e));
        }
        json_object_put(all);
        return wipes;
}

/* The WIPE entry is written, the certificate carries its index and leaf hash, the ledger verifies;
 * a wipe stopped by SIGINT leaves a FAILED record in the ledger too. */
static void test_ledger_and_signal(void **state)
{
        char *dir = tu_mkdtemp("wipe-ledger");
        char img[512], ledger[512], pdf[600], rec[600];
        snprintf(img, sizeof(img), "%s/stick.img", dir);
        snprintf(ledger, sizeof(ledger), "%s/ledger", dir);
        snprintf(pdf, sizeof(pdf), "%s/cert.pdf", dir);
        snprintf(rec, sizeof(rec), "%s/rec.json", dir);
        assert_int_equal(tu_sh("%s ledger --ledger '%s' init --origin test.example/wipe >/dev/null",
                               MG_CLI, ledger),
                         0);
        wu_image(img, 8 * MiB, 0x99);
        int st;
        json_object *j = cli_json(&st, NULL,
                                  "wipe --force-image --ledger '%s' --operator 'Op One' --json "
                                  "--record '%s' --pdf '%s' '%s'",
                                  ledger, rec, pdf, img);
        assert_int_equal(st, 0);
        assert_int_equal(wu_int(j, "ledger.index"), 1);
        const char *leaf = wu_str(j, "ledger.leaf_hash");
        assert_int_equal(strlen(leaf), 64);
        json_object *w = ledger_wipes(ledger);
        assert_int_equal(json_object_array_length(w), 1);
        json_object *e = json_object_array_get_idx(w, 0);
        assert_int_equal(wu_int(e, "index"), 1);
        assert_string_equal(wu_str(e, "leaf"), leaf);
        assert_string_equal(wu_str(e, "actor"), "Op One");
        assert_string_equal(wu_str(e, "fields.status"), "erased");
        assert_string_equal(wu_str(e, "fields.method"), "random");
        assert_string_equal(wu_str(e, "fields.wipe_id"), wu_str(j, "wipe_id"));
        assert_string_equal(wu_str(e, "fields.bytes_verified"), "8388608");
        /* record_sha256 is the digest of the record as printed, less its trailing ledger member. */
        char *rec_text = tu_read_file(rec, NULL);
        char *cut = strstr(rec_text, ",\"ledger\":");
        assert_non_null(cut);
        strcpy(cut, "}");
        char stripped[700];
        snprintf(stripped, sizeof(stripped), "%s/stripped.json", dir);
        assert_int_equal(tu_write_file(stripped, rec_text, strlen(rec_text)), 0);
        free(rec_text);
        char *sum = tu_sh_output(&st, "sha256sum < '%s' | cut -d' ' -f1 | tr -d '\\n'", stripped);
        assert_string_equal(sum, wu_str(e, "fields.record_sha256"));
        free(sum);
        json_object_put(w);
        /* The record file is the same certificate. */
        char *r = tu_read_file(rec, NULL);
        json_object *jr = wu_parse(r);
        assert_string_equal(wu_str(jr, "ledger.leaf_hash"), leaf);
        assert_string_equal(wu_str(jr, "wipe_id"), wu_str(j, "wipe_id"));
        json_object_put(jr);
        free(r);
        /* The PDF renders and names the ledger entry. */
        assert_int_equal(tu_sh("pdftoppm -r 30 -png '%s' '%s/p' 2>&1", pdf, dir), 0);
        char *txt = tu_sh_output(&st, "pdftotext '%s' -", pdf);
        assert_non_null(strstr(txt, "WIPE #1"));
        free(txt);
        /* Its QR code reads back as the ledger entry: index and leaf hash. */
        assert_true(tu_have("zbarimg"));
        assert_int_equal(tu_sh("pdftoppm -r 150 -png '%s' '%s/qr' 2>&1", pdf, dir), 0);
        char *qr = tu_sh_output(&st, "zbarimg -q --raw '%s/qr-1.png' 2>/dev/null", dir);
        assert_int_equal(st, 0);
        char want[200];
        snprintf(want, sizeof(want), "mediagate-ledger:WIPE:index=1:leaf=%s\n", leaf);
        assert_string_equal(qr, want);
        free(qr);
        json_object_put(j);
        assert_int_equal(tu_sh("%s ledger --ledger '%s' verify >/dev/null", MG_CLI, ledger), 0);

        /* Progress on stderr: pass, phase, a measured rate and an ETA (a slow stick: 2 ms per
         * 64 KiB write, 4 MiB). */
        char small[600];
        snprintf(small, sizeof(small), "%s/small.img", dir);
        wu_image(small, 4 * MiB, 0);
        char *penv = shim_env(small, "WIPE_SHIM_DELAY_US=2000");
        char *prog = tu_sh_output(&st,
                                  "%s %s wipe --no-ledger --force-image --progress --verify off "
                                  "--io-size 65536 '%s' 2>&1 >/dev/null | tr '\\r' '\\n'",
                                  penv, MG_CLI, small);
        assert_int_equal(st, 0);
        assert_non_null(strstr(prog, "pass 1/1 random write"));
        assert_non_null(strstr(prog, "100%"));
        assert_non_null(strstr(prog, "ETA 0:0"));
        /* A rate was measured: some line shows a non-zero MB/s. */
        bool rated = false;
        for (char *l = strtok(prog, "\n"); l && !rated; l = strtok(NULL, "\n")) {
                double mbs = 0;
                const char *pct = strstr(l, "%");
                rated = pct && sscanf(pct + 1, "%lf MB/s", &mbs) == 1 && mbs > 1;
        }
        assert_true(rated);
        free(prog);
        free(penv);

        /* A slow stick (5 ms per 64 KiB write: about 0.7 s for the pass), interrupted once the
         * write pass has begun (the progress line on stderr says so). */
        char *env = shim_env(img, "WIPE_SHIM_DELAY_US=5000");
        char *out = tu_sh_output(&st,
                                 "%s %s wipe --force-image --ledger '%s' --io-size 65536 --json "
                                 "--progress '%s' 2>'%s/err' & pid=$!; for i in $(seq 200); do "
                                 "grep -q write '%s/err' && break; sleep 0.05; done; "
                                 "kill -INT $pid; wait $pid",
                                 env, MG_CLI, ledger, img, dir, dir);
        assert_int_equal(st, 1);
        j = wu_parse(out);
        free(out);
        assert_string_equal(wu_str(j, "status"), "failed");
        assert_non_null(strstr(wu_str(j, "failure"), "cancelled"));
        assert_true(wu_int(j, "bytes_written") < (int64_t)(8 * MiB));
        assert_int_equal(wu_int(j, "ledger.index"), 2);
        w = ledger_wipes(ledger);
        assert_int_equal(json_object_array_length(w), 2);
        e = json_object_array_get_idx(w, 1);
        assert_string_equal(wu_str(e, "fields.status"), "failed");
        assert_non_null(strstr(wu_str(e, "fields.failure"), "cancelled"));
        json_object_put(w);
        json_object_put(j);
        free(env);
        tu_rmtree(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_refusals_and_usage),
            cmocka_unit_test(test_fake_capacity),
            cmocka_unit_test(test_write_errors),
            cmocka_unit_test(test_ledger_and_signal),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
