/* Shared helpers of the scan integration tests. */
#include "scan-util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

/* Load the engine on the test database. */
struct mg_scan_engine *scan_test_engine(void)
{
        struct mg_scan_engine_options o = {.db_path = SCAN_TEST_SIGDB};
        struct mg_scan_engine *e = NULL;
        int r = mg_scan_engine_new(&o, &e);
        if (r < 0)
                fail_msg("cannot load the test signature database %s: %s", SCAN_TEST_SIGDB,
                         strerror(-r));
        return e;
}

/* Build a medium with the real tools. */
char *scan_test_build(const char *name, const char *dir)
{
        int st =
            tu_sh("bash '%s' '%s' '%s' >'%s/%s.log' 2>&1", SCAN_TEST_MKMEDIA, name, dir, dir, name);
        if (st == 77)
                return NULL;
        if (st != 0) {
                tu_sh("cat '%s/%s.log'", dir, name);
                fail_msg("mkmedia.sh %s failed with status %d", name, st);
        }
        char *img = NULL;
        if (asprintf(&img, "%s/%s.img", dir, name) < 0)
                fail_msg("asprintf");
        return img;
}

struct watchdog {
        struct mg_scan *s;
        double timeout;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool done, fired;
};

/* Cancel the scan if it runs past the time bound. */
static void *watchdog_main(void *arg)
{
        struct watchdog *w = arg;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += (time_t)w->timeout;
        pthread_mutex_lock(&w->lock);
        while (!w->done) {
                if (pthread_cond_timedwait(&w->cond, &w->lock, &ts) == ETIMEDOUT) {
                        w->fired = true;
                        mg_scan_cancel(w->s);
                        break;
                }
        }
        pthread_mutex_unlock(&w->lock);
        return NULL;
}

/* Compare two strings for qsort. */
static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Scan an image and copy the results out. */
void scan_test_run(struct mg_scan_engine *e, const char *img, unsigned threads, double timeout_s,
                   struct scan_result *ret)
{
        memset(ret, 0, sizeof(*ret));
        struct mg_scan_options o = {.threads = threads};
        struct mg_scan *s = NULL;
        int r = mg_scan_new(e, img, &o, &s);
        assert_int_equal(r, 0);
        struct watchdog w = {.s = s, .timeout = timeout_s};
        pthread_t t;
        pthread_mutex_init(&w.lock, NULL);
        pthread_cond_init(&w.cond, NULL);
        if (timeout_s > 0)
                assert_int_equal(pthread_create(&t, NULL, watchdog_main, &w), 0);
        ret->rc = mg_scan_run(s, &ret->verdict);
        if (timeout_s > 0) {
                pthread_mutex_lock(&w.lock);
                w.done = true;
                pthread_cond_signal(&w.cond);
                pthread_mutex_unlock(&w.lock);
                pthread_join(t, NULL);
                if (w.fired)
                        fail_msg("scan of %s did not finish within %.0f s", img, timeout_s);
        }
        if (ret->rc == 0) {
                ret->n = mg_scan_n_detections(s);
                ret->lines = calloc(ret->n + 1, sizeof(char *));
                for (size_t i = 0; i < ret->n; i++) {
                        const struct mg_scan_detection *d = mg_scan_get_detection(s, i);
                        if (asprintf(&ret->lines[i], "%s|%d|%s|%s|%d|%s",
                                     mg_region_to_string(d->region), d->volume,
                                     d->path ? d->path : "*", d->stream ? d->stream : "-",
                                     d->deleted ? 1 : 0, d->signature) < 0)
                                fail_msg("asprintf");
                }
                qsort(ret->lines, ret->n, sizeof(char *), cmp_str);
                ret->n_reasons = mg_scan_n_reasons(s);
                assert_int_equal(mg_scan_report_json(s, &ret->json), 0);
        }
        mg_scan_free(s);
        pthread_mutex_destroy(&w.lock);
        pthread_cond_destroy(&w.cond);
}

/* Free a result. */
void scan_result_free(struct scan_result *r)
{
        for (size_t i = 0; i < r->n; i++)
                free(r->lines[i]);
        free(r->lines);
        free(r->json);
        memset(r, 0, sizeof(*r));
}
