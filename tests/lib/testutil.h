/* Helpers for the cmocka tests: temporary directories and running real tools. */
#ifndef MG_TESTUTIL_H
#define MG_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* Create a fresh temporary directory (under $TMPDIR or /tmp); aborts the test on failure. */
char *tu_mkdtemp(const char *tag);
/* Remove a directory tree (best effort) and free @dir. */
void tu_rmtree(char *dir);
/* Run a shell command built from a format; return its exit status (or -1). Output goes to the
 * test log unless quiet. */
int tu_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run a shell command and capture its stdout (malloc'd, NUL-terminated); sets *ret_status. */
char *tu_sh_output(int *ret_status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Read a whole file (malloc'd, NUL-terminated), NULL on error; *ret_len if not NULL. */
char *tu_read_file(const char *path, size_t *ret_len);
/* Write @len bytes to @path. Returns 0 or -errno. */
int tu_write_file(const char *path, const void *data, size_t len);
/* True if the program is on PATH. */
int tu_have(const char *prog);
/* Peak resident set size of this process in bytes. */
uint64_t tu_peak_rss(void);

#endif
