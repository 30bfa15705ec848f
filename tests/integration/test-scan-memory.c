/* Memory bound: scanning a medium with many files stays within the configured limit above the
 * loaded engine, and does not grow with the file count (peak RSS from getrusage, measured in a
 * child process per scan so each peak is its own). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scan-util.h"
#include "testutil.h"

#define LIMIT_MIB 64

struct rss {
        uint64_t engine, peak, files;
        int verdict;
};

/* Build a 400 MiB ext4 image with @n small files (and an EICAR at the end) using mke2fs -d:
 * the same size whatever @n, so only the file count differs. */
static char *make_medium(const char *dir, unsigned n)
{
        char *img = NULL;
        assert_true(asprintf(&img, "%s/many-%u.img", dir, n) > 0);
        assert_int_equal(tu_sh("set -e; d='%s/tree-%u'; mkdir -p \"$d\"; cd \"$d\";"
                               "python3 - %u <<'PY'\n"
                               "import os, sys\n"
                               "n = int(sys.argv[1])\n"
                               "for i in range(n):\n"
                               "    sub = 'd%%03d' %% (i // 500)\n"
                               "    os.makedirs(sub, exist_ok=True)\n"
                               "    with open(os.path.join(sub, 'f%%06d.txt' %% i), 'w') as f:\n"
                               "        f.write(('file %%d ' %% i) * (1 + i %% 50))\n"
                               "PY\n"
                               "printf '%%s' 'X5O!P%%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-"
                               "ANTIVIRUS-TEST-FILE!$H+H*' > last.com;"
                               "mke2fs -q -t ext4 -N %u -d \"$d\" '%s' 400M",
                               dir, n, n, n + 1024, img),
                         0);
        return img;
}

/* Scan in a child; report engine RSS, peak RSS and the file count through a pipe. */
static struct rss scan_in_child(const char *img)
{
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(fds[0]);
                struct rss r = {0};
                struct mg_scan_engine_options eo = {.db_path = SCAN_TEST_SIGDB};
                struct mg_scan_engine *e = NULL;
                if (mg_scan_engine_new(&eo, &e) < 0)
                        _exit(3);
                r.engine = tu_peak_rss();
                struct mg_scan_options o = {.threads = 2,
                                            .memory_limit = (uint64_t)LIMIT_MIB << 20};
                struct mg_scan *s = NULL;
                enum mg_verdict v;
                if (mg_scan_new(e, img, &o, &s) < 0 || mg_scan_run(s, &v) < 0)
                        _exit(4);
                struct mg_scan_stats st;
                mg_scan_get_stats(s, &st);
                r.peak = tu_peak_rss();
                r.files = st.files;
                r.verdict = (int)v;
                if (write(fds[1], &r, sizeof(r)) != sizeof(r))
                        _exit(5);
                _exit(0);
        }
        close(fds[1]);
        struct rss r = {0};
        ssize_t k = read(fds[0], &r, sizeof(r));
        close(fds[0]);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
        assert_int_equal(k, (ssize_t)sizeof(r));
        return r;
}

/* Peak memory above the engine stays under the limit plus fixed overhead, for 2,000 and
 * 30,000 files alike. */
static void test_memory_bound(void **state)
{
        char *dir = tu_mkdtemp("memory");
        char *small = make_medium(dir, 2000);
        char *big = make_medium(dir, 30000);
        struct rss a = scan_in_child(small);
        struct rss b = scan_in_child(big);
        printf("# 2000 files: engine %llu MiB, peak %llu MiB, %llu files\n",
               (unsigned long long)(a.engine >> 20), (unsigned long long)(a.peak >> 20),
               (unsigned long long)a.files);
        printf("# 30000 files: engine %llu MiB, peak %llu MiB, %llu files\n",
               (unsigned long long)(b.engine >> 20), (unsigned long long)(b.peak >> 20),
               (unsigned long long)b.files);
        /* every file was scanned, and the EICAR at the end was found */
        assert_true(a.files >= 2001);
        assert_true(b.files >= 30001);
        assert_int_equal(a.verdict, MG_VERDICT_INFECTED);
        assert_int_equal(b.verdict, MG_VERDICT_INFECTED);
#if defined(__SANITIZE_ADDRESS__)
        printf("# ASan build: RSS includes shadow memory and quarantine; bounds not checked\n");
#else
        /* the data in flight is bounded by the limit; threads, libclamav's per-scan state and
         * the inode sets add a fixed overhead */
        uint64_t overhead = (uint64_t)48 << 20;
        assert_true(a.peak - a.engine <= ((uint64_t)LIMIT_MIB << 20) + overhead);
        assert_true(b.peak - b.engine <= ((uint64_t)LIMIT_MIB << 20) + overhead);
        /* no growth with the file count beyond a few bytes per file */
        assert_true(b.peak - b.engine <= a.peak - a.engine + ((uint64_t)16 << 20));
#endif
        free(small);
        free(big);
        tu_rmtree(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_memory_bound)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}
