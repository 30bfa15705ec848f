/* Shared helpers of the scan integration tests: the test signature database and media. */
#ifndef MG_TEST_SCAN_UTIL_H
#define MG_TEST_SCAN_UTIL_H

#include <mediagate/scan.h>

/* Directory of the signature database built by tests/media/sigdb.sh at build time. */
#define SCAN_TEST_SIGDB   MG_BINARY_DIR "/sigdb"
#define SCAN_TEST_MKMEDIA MG_SOURCE_DIR "/tests/media/mkmedia.sh"

/* Result of one scan, copied out of the scan handle. */
struct scan_result {
        int rc;
        enum mg_verdict verdict;
        size_t n;
        char **lines; /* "region|volume|path|stream|deleted|signature" per detection, sorted */
        size_t n_reasons;
        char *json;
};

/* Load the engine on the test database (fails the test if it cannot). */
struct mg_scan_engine *scan_test_engine(void);
/* Build medium @name into @dir with mkmedia.sh; returns the image path, or NULL to skip. */
char *scan_test_build(const char *name, const char *dir);
/* Scan @img with @threads, optional cancellation after @timeout_s seconds (0: none). */
void scan_test_run(struct mg_scan_engine *e, const char *img, unsigned threads, double timeout_s,
                   struct scan_result *ret);
void scan_result_free(struct scan_result *r);

#endif
