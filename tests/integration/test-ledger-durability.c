/* Durability failures stop the ledger cleanly: an fsync that fails (fsync and fdatasync are
 * interposed in this test program, so SQLite's calls land here) and a full disk (a tiny tmpfs).
 * Nothing is acknowledged that is not durable, the failure is sticky, and what is on disk still
 * verifies. */
#include <mediagate/ledger.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "ledger-internal.h"
#include "testutil.h"

static int fail_sync;
static unsigned sync_calls;

/* Interposed fsync: fails with EIO while fail_sync is set. */
int fsync(int fd)
{
        sync_calls++;
        if (fail_sync) {
                errno = EIO;
                return -1;
        }
        return (int)syscall(SYS_fsync, fd);
}

/* Interposed fdatasync, the same. */
int fdatasync(int fd)
{
        sync_calls++;
        if (fail_sync) {
                errno = EIO;
                return -1;
        }
        return (int)syscall(SYS_fdatasync, fd);
}

/* An fsync failure stops the ledger; after a reopen it verifies and goes on. */
static void test_fsync_failure(void **state)
{
        char *tmp = tu_mkdtemp("ledger-fsync"), *dir = NULL;
        assert_true(asprintf(&dir, "%s/l", tmp) > 0);
        assert_int_equal(mg_ledger_init(dir, "kiosk.test/fsync"), 0);
        struct mg_ledger *l = NULL;
        assert_int_equal(mg_ledger_open(dir, MG_LEDGER_NO_SYSLOG, &l), 0);
        unsigned before = sync_calls;
        for (int i = 0; i < 3; i++)
                assert_int_equal(mg_ledger_append(l, "SCAN", "a", NULL, 0, NULL, NULL), 0);
        /* SQLite's syncs really come through here (else this test would prove nothing) */
        assert_true(sync_calls >= before + 3);
        fail_sync = 1;
        uint64_t idx = 777;
        int r = mg_ledger_append(l, "SCAN", "a", NULL, 0, &idx, NULL);
        assert_true(r == -EIO || r == -ENOSPC);
        assert_int_equal(idx, 777); /* not acknowledged */
        fail_sync = 0;
        /* sticky: the handle stays stopped although the disk is fine again */
        assert_int_equal(mg_ledger_append(l, "SCAN", "a", NULL, 0, &idx, NULL), r);
        assert_int_equal(mg_ledger_heartbeat(l, NULL), r);
        mg_ledger_close(l);

        /* after the operator resolves it: reopen, verify, continue */
        assert_int_equal(mg_ledger_open(dir, MG_LEDGER_NO_SYSLOG, &l), 0);
        uint64_t size;
        assert_int_equal(mg_ledger_size(l, &size), 0);
        assert_true(size == 4 || size == 5); /* the unacknowledged one may or may not be there */
        struct mg_ledger_verify_result res;
        assert_int_equal(mg_ledger_verify(l, NULL, &res), 0);
        assert_int_equal(res.problem, MG_LEDGER_OK);
        assert_int_equal(mg_ledger_append(l, "RECOVERY", "admin", NULL, 0, &idx, NULL), 0);
        assert_int_equal(idx, size);
        assert_int_equal(mg_ledger_verify(l, NULL, &res), 0);
        assert_int_equal(res.problem, MG_LEDGER_OK);
        mg_ledger_close(l);
        free(dir);
        tu_rmtree(tmp);
}

/* A full disk stops the ledger cleanly; every acknowledged entry is there and verifies. */
static void test_disk_full(void **state)
{
        char *tmp = tu_mkdtemp("ledger-full"), *mnt = NULL, *dir = NULL;
        assert_true(asprintf(&mnt, "%s/mnt", tmp) > 0);
        assert_true(asprintf(&dir, "%s/l", mnt) > 0);
        assert_int_equal(mkdir(mnt, 0700), 0);
        if (mount("tmpfs", mnt, "tmpfs", 0, "size=320k") < 0) {
                printf("# cannot mount a tmpfs (%s): needs root\n", strerror(errno));
                tu_rmtree(tmp);
                free(mnt);
                free(dir);
                skip();
        }
        assert_int_equal(mg_ledger_init(dir, "kiosk.test/full"), 0);
        struct mg_ledger *l = NULL;
        assert_int_equal(mg_ledger_open(dir, MG_LEDGER_NO_SYSLOG, &l), 0);
        char *blob = malloc(3001);
        memset(blob, 'z', 3000);
        blob[3000] = 0;
        const struct mg_ledger_field f[] = {{"a", blob}, {"b", blob}};
        uint64_t acked = 0, idx;
        int r = 0;
        for (int i = 0; i < 1000 && r == 0; i++) {
                r = mg_ledger_append(l, "SCAN", "a", f, 2, &idx, NULL);
                if (r == 0)
                        acked = idx;
        }
        printf("# disk full after %llu entries: %s\n", (unsigned long long)acked, strerror(-r));
        assert_true(r == -ENOSPC || r == -EIO);
        assert_true(acked > 5);
        assert_int_equal(mg_ledger_append(l, "HEARTBEAT", "a", NULL, 0, NULL, NULL), r);
        mg_ledger_close(l);
        assert_int_equal(mg_ledger_open(dir, MG_LEDGER_NO_SYSLOG, &l), 0);
        uint64_t size;
        assert_int_equal(mg_ledger_size(l, &size), 0);
        assert_true(size >= acked + 1);
        struct mg_ledger_verify_result res;
        assert_int_equal(mg_ledger_verify(l, NULL, &res), 0);
        if (res.problem != MG_LEDGER_OK)
                fail_msg("%s", res.message);
        mg_ledger_close(l);
        free(blob);
        assert_int_equal(umount(mnt), 0);
        free(mnt);
        free(dir);
        tu_rmtree(tmp);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_fsync_failure),
            cmocka_unit_test(test_disk_full),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
