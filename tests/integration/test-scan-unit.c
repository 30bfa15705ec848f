/* Scan behaviour that needs no real file system: verdict rules, raw regions, errors. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scan-util.h"
#include "testutil.h"

static const char eicar[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/* A medium of zeros is unreadable, not clean. */
static void test_zeros_unreadable(void **state)
{
        char *dir = tu_mkdtemp("unit");
        assert_int_equal(tu_sh("truncate -s 8M '%s/z.img'", dir), 0);
        char *img = NULL;
        assert_true(asprintf(&img, "%s/z.img", dir) > 0);
        struct mg_scan_engine *e = scan_test_engine();
        struct scan_result r;
        scan_test_run(e, img, 1, 60, &r);
        assert_int_equal(r.rc, 0);
        assert_int_equal(r.verdict, MG_VERDICT_UNREADABLE);
        assert_true(r.n_reasons >= 1);
        scan_result_free(&r);
        mg_scan_engine_unref(e);
        free(img);
        tu_rmtree(dir);
}

/* Write the EICAR string into @img at @at. */
static void put_eicar(const char *img, off_t at)
{
        int fd = open(img, O_RDWR);
        assert_true(fd >= 0);
        assert_int_equal(pwrite(fd, eicar, strlen(eicar), at), (ssize_t)strlen(eicar));
        close(fd);
}

/* A signature in raw bytes of an unreadable medium gives infected, at the right offset region;
 * across a chunk seam too. */
static void test_raw_signature(void **state)
{
        char *dir = tu_mkdtemp("unit");
        char *img = NULL;
        assert_true(asprintf(&img, "%s/r.img", dir) > 0);
        assert_int_equal(tu_sh("truncate -s 56M '%s'", img), 0);
        /* straddle the first 24 MiB chunk boundary */
        put_eicar(img, (24 << 20) - 30);
        struct mg_scan_engine *e = scan_test_engine();
        struct scan_result r;
        scan_test_run(e, img, 2, 60, &r);
        assert_int_equal(r.rc, 0);
        assert_int_equal(r.verdict, MG_VERDICT_INFECTED);
        assert_int_equal(r.n, 1); /* found once, not once per overlapping chunk */
        assert_non_null(strstr(r.lines[0], "raw|0|*|-|0|Eicar-Test-Body"));
        scan_result_free(&r);
        mg_scan_engine_unref(e);
        free(img);
        tu_rmtree(dir);
}

/* Bytes the engine was handed, from the JSON report. */
static unsigned long long json_stat(const char *json, const char *key)
{
        char k[64];
        snprintf(k, sizeof(k), "\"%s\":", key);
        const char *p = strstr(json, k);
        assert_non_null(p);
        return strtoull(p + strlen(k), NULL, 10);
}

/* Sparse raw data: blank space (0x00 and 0xFF runs) is skipped, and the blank end of a chunk is
 * left out of it, yet a signature is found wherever it is: right after data, inside the blank
 * end of a chunk, across a chunk boundary in blank space, across the seam of a 0x00 and a 0xFF
 * run, inside a 0xFF run. One medium per place (detections in one chunk count once). */
static void test_raw_sparse(void **state)
{
        const off_t at[] = {300 * 1024 + 5, (5 << 20) + 10, (24 << 20) - 30, (30 << 20) - 20,
                            (35 << 20) + 4096 - 3};
        char *dir = tu_mkdtemp("unit");
        char *img = NULL;
        assert_true(asprintf(&img, "%s/s.img", dir) > 0);
        struct mg_scan_engine *e = scan_test_engine();
        for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
                assert_int_equal(tu_sh("rm -f '%s' && truncate -s 56M '%s' && "
                                       "head -c 300K /dev/urandom | dd of='%s' conv=notrunc "
                                       "status=none && head -c 10M /dev/zero | tr '\\0' '\\377' | "
                                       "dd of='%s' bs=1M seek=30 conv=notrunc status=none",
                                       img, img, img, img),
                                 0);
                put_eicar(img, at[i]);
                for (unsigned threads = 1; threads <= 2; threads++) {
                        struct scan_result r;
                        scan_test_run(e, img, threads, 60, &r);
                        unsigned long long bytes = json_stat(r.json, "bytes");
                        printf("# EICAR at %lld, %u thread(s): %zu detection(s), %llu bytes to "
                               "the engine\n",
                               (long long)at[i], threads, r.n, bytes);
                        assert_int_equal(r.rc, 0);
                        assert_int_equal(r.verdict, MG_VERDICT_INFECTED);
                        assert_int_equal(r.n, 1);
                        assert_non_null(strstr(r.lines[0], "raw|0|*|-|0|Eicar-Test-Body"));
                        /* not all 56 MiB: blank runs are skipped, and with the signature next
                         * to the data the first chunk's blank end is left out (the 0xFF run,
                         * 10 MiB next to 0x00 space, is scanned: not a blank of one byte) */
                        assert_true(bytes < (i == 0 ? (12ULL << 20) : (48ULL << 20)));
                        assert_true(json_stat(r.json, "bytes_read") >= (56ULL << 20));
                        scan_result_free(&r);
                }
        }
        mg_scan_engine_unref(e);
        free(img);
        tu_rmtree(dir);
}

/* The file system's own structures that libtsk shows as virtual files ($FAT1, $FAT2) are read
 * as raw space (blank parts skipped): a signature hidden in the unused end of the second FAT is
 * still found, and named. */
static void test_fat_tables(void **state)
{
        char *dir = tu_mkdtemp("unit");
        char *img = NULL;
        assert_true(asprintf(&img, "%s/f.img", dir) > 0);
        assert_int_equal(tu_sh("truncate -s 64M '%s' && mkfs.vfat -F 32 '%s' >/dev/null", img, img),
                         0);
        /* the last sector of the second FAT, from fsstat's "* FAT 1: FIRST - LAST" */
        int st = -1;
        char *out = tu_sh_output(&st, "fsstat '%s' | sed -n 's/^\\* FAT 1: [0-9]* - //p'", img);
        assert_int_equal(st, 0);
        long last = strtol(out, NULL, 10);
        free(out);
        assert_true(last > 1000);
        put_eicar(img, last * 512 + 100);
        struct mg_scan_engine *e = scan_test_engine();
        struct scan_result r;
        scan_test_run(e, img, 2, 60, &r);
        assert_int_equal(r.rc, 0);
        assert_int_equal(r.verdict, MG_VERDICT_INFECTED);
        bool named = false;
        for (size_t i = 0; i < r.n; i++)
                named = named || strstr(r.lines[i], "file|0|/$FAT2|-|0|Eicar-Test-");
        assert_true(named);
        scan_result_free(&r);
        mg_scan_engine_unref(e);
        free(img);
        tu_rmtree(dir);
}

/* An empty medium (a card reader without a card) is unreadable, with the reason, never clean. */
static void test_empty_medium(void **state)
{
        char *dir = tu_mkdtemp("unit");
        char *img = NULL;
        assert_true(asprintf(&img, "%s/e.img", dir) > 0);
        assert_int_equal(tu_sh(": > '%s'", img), 0);
        struct mg_scan_engine *e = scan_test_engine();
        struct scan_result r;
        scan_test_run(e, img, 2, 60, &r);
        assert_int_equal(r.rc, 0);
        assert_int_equal(r.verdict, MG_VERDICT_UNREADABLE);
        assert_int_equal(r.n, 0);
        assert_non_null(strstr(r.json, "the medium is empty"));
        scan_result_free(&r);
        mg_scan_engine_unref(e);
        free(img);
        tu_rmtree(dir);
}

/* Targets that are not a block device or a regular file are refused; so is a missing one. */
static void test_bad_targets(void **state)
{
        struct mg_scan_engine *e = scan_test_engine();
        struct mg_scan *s = NULL;
        assert_int_equal(mg_scan_new(e, "/dev/null", NULL, &s), -EINVAL);
        assert_int_equal(mg_scan_new(e, "/", NULL, &s), -EINVAL);
        assert_int_equal(mg_scan_new(e, "/nonexistent/x.img", NULL, &s), -ENOENT);
        assert_null(s);
        mg_scan_engine_unref(e);
}

/* A missing database is an error, never an engine that finds nothing. */
static void test_missing_db(void **state)
{
        struct mg_scan_engine_options o = {.db_path = "/nonexistent-db"};
        struct mg_scan_engine *e = NULL;
        assert_true(mg_scan_engine_new(&o, &e) < 0);
        assert_null(e);
        char *dir = tu_mkdtemp("emptydb");
        o.db_path = dir;
        assert_true(mg_scan_engine_new(&o, &e) < 0);
        tu_rmtree(dir);
}

/* Cancelling gives an error, never a verdict. */
static void test_cancel(void **state)
{
        char *dir = tu_mkdtemp("unit");
        char *img = NULL;
        assert_true(asprintf(&img, "%s/c.img", dir) > 0);
        assert_int_equal(tu_sh("head -c 64M /dev/urandom > '%s'", img), 0);
        struct mg_scan_engine *e = scan_test_engine();
        struct mg_scan *s = NULL;
        assert_int_equal(mg_scan_new(e, img, NULL, &s), 0);
        mg_scan_cancel(s);
        enum mg_verdict v = (enum mg_verdict)77;
        assert_int_equal(mg_scan_run(s, &v), -ECANCELED);
        assert_int_equal((int)v, 77);
        mg_scan_free(s);
        mg_scan_engine_unref(e);
        free(img);
        tu_rmtree(dir);
}

/* The database's version and build time are reported when the files carry them. */
static void test_dated_db(void **state)
{
        struct mg_scan_engine_options o = {.db_path = SCAN_TEST_SIGDB "/dated-old"};
        struct mg_scan_engine *e = NULL;
        int r = mg_scan_engine_new(&o, &e);
        if (r == -ENOENT)
                skip(); /* sigtool could not build a dated container on this machine */
        assert_int_equal(r, 0);
        struct mg_scan_engine_info ei;
        mg_scan_engine_get_info(e, &ei);
        assert_true(ei.dated);
        assert_int_equal(ei.version, 6);
        assert_int_equal(ei.built, 1577836800); /* 2020-01-01T00:00:00Z */
        mg_scan_engine_unref(e);

        o.db_path = SCAN_TEST_SIGDB "/dated";
        assert_int_equal(mg_scan_engine_new(&o, &e), 0);
        mg_scan_engine_get_info(e, &ei);
        assert_true(ei.dated);
        assert_int_equal(ei.version, 7);
        assert_true(ei.built > 1577836800);
        mg_scan_engine_unref(e);

        /* the plain test database has no dates */
        e = scan_test_engine();
        mg_scan_engine_get_info(e, &ei);
        assert_false(ei.dated);
        assert_true(ei.signatures >= 3);
        mg_scan_engine_unref(e);
}

/* --max-signature-age refuses old or undated databases with exit status 75. */
static void test_cli_signature_age(void **state)
{
        char *img = NULL;
        char *dir = tu_mkdtemp("age");
        assert_true(asprintf(&img, "%s/z.img", dir) > 0);
        assert_int_equal(tu_sh("truncate -s 1M '%s'", img), 0);
        assert_int_equal(tu_sh("'%s' scan --db '%s' --max-signature-age 30 '%s' 2>/dev/null",
                               MG_CLI, SCAN_TEST_SIGDB "/dated-old", img),
                         75);
        assert_int_equal(tu_sh("'%s' scan --db '%s' --max-signature-age 30 '%s' 2>/dev/null",
                               MG_CLI, SCAN_TEST_SIGDB, img),
                         75);
        /* a fresh database passes the check; the zeroed medium is then unreadable (4) */
        assert_int_equal(tu_sh("'%s' scan --db '%s' --max-signature-age 30 '%s' >/dev/null", MG_CLI,
                               SCAN_TEST_SIGDB "/dated", img),
                         4);
        char *out = tu_sh_output(NULL, "'%s' scan --json --db '%s' '%s'", MG_CLI,
                                 SCAN_TEST_SIGDB "/dated-old", img);
        assert_non_null(strstr(out, "\"version\":6,\"built\":\"2020-01-01T00:00:00Z\""));
        free(out);
        /* usage errors */
        assert_int_equal(tu_sh("'%s' scan 2>/dev/null", MG_CLI), 64);
        assert_int_equal(tu_sh("'%s' scan --threads 0 '%s' 2>/dev/null", MG_CLI, img), 64);
        assert_int_equal(
            tu_sh("'%s' scan --db '%s' /dev/null 2>/dev/null", MG_CLI, SCAN_TEST_SIGDB), 64);
        free(img);
        tu_rmtree(dir);
}

/* --timeout ends a scan that takes too long with status 70 and no verdict. */
static void test_cli_timeout(void **state)
{
        char *dir = tu_mkdtemp("timeout");
        char *img = NULL;
        assert_true(asprintf(&img, "%s/slow.img", dir) > 0);
        assert_int_equal(tu_sh("truncate -s 16G '%s' && head -c 200M /dev/urandom | "
                               "dd of='%s' conv=notrunc status=none",
                               img, img),
                         0);
        int st = -1;
        char *out = tu_sh_output(&st, "'%s' scan --json --timeout 1 --db '%s' '%s' 2>/dev/null",
                                 MG_CLI, SCAN_TEST_SIGDB, img);
        assert_int_equal(st, 70);
        assert_null(strstr(out, "verdict")); /* no report, no verdict */
        free(out);
        free(img);
        tu_rmtree(dir);
}

/* A recovered deleted file is scanned as a file (with its path), and its clusters are not read
 * and scanned a second time as unallocated space. */
static void test_deleted_read_once(void **state)
{
        char *dir = tu_mkdtemp("deleted");
        assert_int_equal(
            tu_sh("set -e; cd '%s'; truncate -s 64M d.img; mkfs.vfat -F 32 -s 1 d.img >/dev/null;"
                  "head -c 40M /dev/urandom > big.bin;"
                  "printf '%%s' '%s' >> big.bin; mcopy -i d.img big.bin ::/big.bin;"
                  "mdel -i d.img ::/big.bin",
                  dir, eicar),
            0);
        int st = -1;
        char *out = tu_sh_output(&st, "'%s' scan --json --db '%s' '%s/d.img'", MG_CLI,
                                 SCAN_TEST_SIGDB, dir);
        assert_int_equal(st, 1); /* infected */
        const char *br = strstr(out, "\"bytes_read\":");
        assert_non_null(br);
        unsigned long long read = strtoull(br + 13, NULL, 10), deleted = 0;
        for (const char *p = out; (p = strstr(p, "\"deleted\":true,\"region\":\"file\"")); p++)
                deleted++;
        printf("# %llu bytes read of a 64 MiB medium, %llu deleted-file detections\n", read,
               deleted);
        assert_true(deleted >= 1);
        assert_true(read < (80ULL << 20)); /* 64 MiB once, plus the boot area; not 104 */
        free(out);
        tu_rmtree(dir);
}

/* A read error (a bad sector) does not end the scan of its region: a signature after it is still
 * found, and the unread bytes are a reason, never silence. */
static void test_read_error_continues(void **state)
{
        char *dir = tu_mkdtemp("badsector");
        char *img = NULL;
        assert_true(asprintf(&img, "%s/bad.img", dir) > 0);
        assert_int_equal(tu_sh("truncate -s 96M '%s'", img), 0);
        put_eicar(img, 80 << 20);
        const char *asan = getenv("ASAN_OPTIONS");
        int st = -1;
        char *out = tu_sh_output(&st,
                                 "env ASAN_OPTIONS='%s%sverify_asan_link_order=0' LD_PRELOAD='%s' "
                                 "SCAN_SHIM_FILE='%s' SCAN_SHIM_FAIL_READ=%d:4096 "
                                 "'%s' scan --json --db '%s' '%s'",
                                 asan ? asan : "", asan ? ":" : "", SCAN_SHIM, img, 10 << 20,
                                 MG_CLI, SCAN_TEST_SIGDB, img);
        assert_int_equal(st, 1); /* infected: the EICAR after the bad range was scanned */
        assert_non_null(strstr(out, "read errors on the medium"));
        assert_non_null(strstr(out, "Eicar-Test-Body"));
        free(out);
        free(img);
        tu_rmtree(dir);
}

/* A read error inside a live file does not drop the file: the blocks after the bad ones are
 * scanned, so a signature there is found (by its body: the file's hash cannot match), and the
 * unread blocks are a reason. */
static void test_read_error_in_file(void **state)
{
        char *dir = tu_mkdtemp("badfile");
        char *img = NULL;
        assert_true(asprintf(&img, "%s/f.img", dir) > 0);
        /* a 2 MiB file of random bytes with EICAR at 1.5 MiB, on a FAT16 image */
        assert_int_equal(
            tu_sh("set -e; cd '%s'; truncate -s 32M '%s'; mkfs.vfat -F 16 '%s' "
                  ">/dev/null; head -c 2M /dev/urandom > data.bin; printf '%%s' '%s' | "
                  "dd of=data.bin bs=1 seek=1572864 conv=notrunc status=none; "
                  "mcopy -i '%s' data.bin ::/DATA.BIN",
                  dir, img, img, eicar, img),
            0);
        /* where the file's first cluster is on the image: istat's first data sector */
        int st = -1;
        char *out = tu_sh_output(&st,
                                 "ifind -n /DATA.BIN '%s' | xargs -I{} istat '%s' {} | "
                                 "sed -n '/^Sectors:/{n;p;q}' | awk '{print $1}'",
                                 img, img);
        assert_int_equal(st, 0);
        long first = strtol(out, NULL, 10);
        free(out);
        assert_true(first > 0);
        /* 64 KiB unreadable at 256 KiB into the file: before the EICAR */
        const char *asan = getenv("ASAN_OPTIONS");
        out = tu_sh_output(&st,
                           "env ASAN_OPTIONS='%s%sverify_asan_link_order=0' LD_PRELOAD='%s' "
                           "SCAN_SHIM_FILE='%s' SCAN_SHIM_FAIL_READ=%ld:65536 "
                           "'%s' scan --json --threads 1 --db '%s' '%s'",
                           asan ? asan : "", asan ? ":" : "", SCAN_SHIM, img,
                           first * 512 + (256 << 10), MG_CLI, SCAN_TEST_SIGDB, img);
        printf("# %s\n", out);
        assert_int_equal(st, 1); /* infected: the EICAR after the bad blocks was scanned */
        assert_non_null(strstr(out, "\"Eicar-Test-Body.UNOFFICIAL\",\"path\":\"/DATA.BIN\""));
        assert_non_null(strstr(out, "/DATA.BIN: file content cannot be read from offset"));
        free(out);
        free(img);
        tu_rmtree(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_zeros_unreadable),
            cmocka_unit_test(test_raw_signature),
            cmocka_unit_test(test_raw_sparse),
            cmocka_unit_test(test_fat_tables),
            cmocka_unit_test(test_empty_medium),
            cmocka_unit_test(test_bad_targets),
            cmocka_unit_test(test_missing_db),
            cmocka_unit_test(test_cancel),
            cmocka_unit_test(test_dated_db),
            cmocka_unit_test(test_cli_signature_age),
            cmocka_unit_test(test_cli_timeout),
            cmocka_unit_test(test_deleted_read_once),
            cmocka_unit_test(test_read_error_continues),
            cmocka_unit_test(test_read_error_in_file),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
