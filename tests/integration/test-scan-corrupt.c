/* Robustness: corrupted variants of real media (random bytes over partition tables, boot
 * sectors and file-system metadata) must end in a verdict or a clean error within a time bound,
 * never a crash or a hang (run under ASan+UBSan in CI). Usage: test-scan-corrupt CASE [N] */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scan-util.h"
#include "testutil.h"

static const char *case_name;
static unsigned n_variants = 10;

/* Write @len random bytes at @off of the file. */
static void scribble(int fd, uint64_t off, size_t len, unsigned short seed[3])
{
        unsigned char buf[4096];
        len = len > sizeof(buf) ? sizeof(buf) : len;
        for (size_t i = 0; i < len; i++)
                buf[i] = (unsigned char)nrand48(seed);
        assert_int_equal(pwrite(fd, buf, len, (off_t)off), (ssize_t)len);
}

/* Corrupt a copy of the medium: tables, boot records and metadata areas of each volume. */
static void corrupt(const char *path, const struct mg_scan_volume *vols, size_t nv, uint64_t size,
                    unsigned short seed[3])
{
        int fd = open(path, O_RDWR);
        assert_true(fd >= 0);
        int hits = 4 + (int)(nrand48(seed) % 12);
        for (int h = 0; h < hits; h++) {
                unsigned kind = (unsigned)nrand48(seed) % 4;
                uint64_t off;
                if (kind == 0 || nv == 0) {
                        /* partition tables: MBR, GPT header and entries */
                        off = (uint64_t)(nrand48(seed) % 34) * 512;
                } else {
                        const struct mg_scan_volume *v = &vols[(size_t)nrand48(seed) % nv];
                        uint64_t span = kind == 1   ? 64 * 512              /* boot area */
                                        : kind == 2 ? (v->length / 8 + 512) /* metadata */
                                                    : v->length;            /* anywhere */
                        off =
                            v->offset + ((uint64_t)nrand48(seed) << 16 ^ (uint64_t)nrand48(seed)) %
                                            (span ? span : 1);
                }
                if (off >= size)
                        continue;
                size_t len = (nrand48(seed) % 3 == 0) ? 1 + (size_t)nrand48(seed) % 8
                                                      : 512 * (1 + (size_t)nrand48(seed) % 8);
                if (off + len > size)
                        len = (size_t)(size - off);
                scribble(fd, off, len, seed);
        }
        close(fd);
}

/* Many corrupted variants: each ends with a verdict (or a clean error) in bounded time. */
static void test_variants(void **state)
{
        char *dir = tu_mkdtemp("corrupt");
        char *img = scan_test_build(case_name, dir);
        if (!img) {
                tu_rmtree(dir);
                skip();
        }
        struct mg_scan_engine *e = scan_test_engine();
        struct mg_scan *s = NULL;
        struct mg_scan_options o = {.threads = 1};
        enum mg_verdict v;
        assert_int_equal(mg_scan_new(e, img, &o, &s), 0);
        assert_int_equal(mg_scan_run(s, &v), 0);
        size_t nv = mg_scan_n_volumes(s);
        struct mg_scan_volume *vols = calloc(nv + 1, sizeof(*vols));
        for (size_t i = 0; i < nv; i++)
                vols[i] = *mg_scan_get_volume(s, i);
        mg_scan_free(s);
        size_t len = 0;
        char *sz = tu_sh_output(NULL, "stat -c %%s '%s'", img);
        uint64_t size = strtoull(sz, NULL, 10);
        free(sz);
        (void)len;

        for (unsigned i = 0; i < n_variants; i++) {
                unsigned short seed[3] = {(unsigned short)i, 0x5eed, (unsigned short)case_name[0]};
                char *var = NULL;
                assert_true(asprintf(&var, "%s/variant.img", dir) > 0);
                assert_int_equal(tu_sh("cp --sparse=always '%s' '%s'", img, var), 0);
                corrupt(var, vols, nv, size, seed);
                struct scan_result r;
                scan_test_run(e, var, 2, 120, &r);
                printf("# %s variant %u: rc %d verdict %s, %zu detections\n", case_name, i, r.rc,
                       r.rc == 0 ? mg_verdict_to_string(r.verdict) : "-", r.n);
                /* a verdict, or a clean error: never a crash, a hang or a cancellation */
                assert_true(r.rc == 0 || r.rc == -EIO || r.rc == -ENOMEM);
                scan_result_free(&r);
                free(var);
        }
        free(vols);
        mg_scan_engine_unref(e);
        free(img);
        tu_rmtree(dir);
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                fprintf(stderr, "usage: %s CASE [N]\n", argv[0]);
                return 2;
        }
        case_name = argv[1];
        if (argc > 2)
                n_variants = (unsigned)strtoul(argv[2], NULL, 10);
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_variants)};
        return cmocka_run_group_tests_name(case_name, tests, NULL, NULL);
}
