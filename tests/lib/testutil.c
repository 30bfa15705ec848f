/* Helpers for the cmocka tests. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* Create a temporary directory. */
char *tu_mkdtemp(const char *tag)
{
        const char *base = getenv("TMPDIR");
        char *p = NULL;
        if (asprintf(&p, "%s/mg-%s-XXXXXX", base && *base ? base : "/tmp", tag) < 0)
                fail_msg("asprintf");
        if (!mkdtemp(p))
                fail_msg("mkdtemp %s: %s", p, strerror(errno));
        return p;
}

/* Remove a directory tree. */
void tu_rmtree(char *dir)
{
        if (!dir)
                return;
        if (!getenv("MG_KEEP_TMP"))
                tu_sh("rm -rf '%s'", dir);
        free(dir);
}

/* Run a shell command. */
int tu_sh(const char *fmt, ...)
{
        char *cmd = NULL;
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&cmd, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -1;
        fflush(stdout);
        fflush(stderr);
        int st = system(cmd);
        free(cmd);
        if (st == -1 || !WIFEXITED(st))
                return -1;
        return WEXITSTATUS(st);
}

/* Run a shell command and capture stdout. */
char *tu_sh_output(int *ret_status, const char *fmt, ...)
{
        char *cmd = NULL;
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&cmd, fmt, ap);
        va_end(ap);
        if (n < 0)
                return NULL;
        fflush(stdout);
        FILE *f = popen(cmd, "r");
        free(cmd);
        if (!f)
                return NULL;
        size_t cap = 4096, len = 0;
        char *out = malloc(cap);
        size_t k;
        while (out && (k = fread(out + len, 1, cap - len - 1, f)) > 0) {
                len += k;
                if (cap - len < 2) {
                        char *o = realloc(out, cap * 2);
                        if (!o) {
                                free(out);
                                out = NULL;
                                break;
                        }
                        out = o;
                        cap *= 2;
                }
        }
        int st = pclose(f);
        if (out)
                out[len] = 0;
        if (ret_status)
                *ret_status = (st != -1 && WIFEXITED(st)) ? WEXITSTATUS(st) : -1;
        return out;
}

/* Read a whole file. */
char *tu_read_file(const char *path, size_t *ret_len)
{
        FILE *f = fopen(path, "rb");
        if (!f)
                return NULL;
        size_t cap = 4096, len = 0, k;
        char *out = malloc(cap);
        while (out && (k = fread(out + len, 1, cap - len - 1, f)) > 0) {
                len += k;
                if (cap - len < 2) {
                        char *o = realloc(out, cap * 2);
                        if (!o) {
                                free(out);
                                out = NULL;
                                break;
                        }
                        out = o;
                        cap *= 2;
                }
        }
        fclose(f);
        if (out) {
                out[len] = 0;
                if (ret_len)
                        *ret_len = len;
        }
        return out;
}

/* Write a file. */
int tu_write_file(const char *path, const void *data, size_t len)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        const char *p = data;
        while (len > 0) {
                ssize_t k = write(fd, p, len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        int e = errno;
                        close(fd);
                        return -e;
                }
                p += k;
                len -= (size_t)k;
        }
        return close(fd) < 0 ? -errno : 0;
}

/* Is a program on PATH? */
int tu_have(const char *prog)
{
        return tu_sh("command -v '%s' >/dev/null 2>&1", prog) == 0;
}

/* Peak RSS of this process. */
uint64_t tu_peak_rss(void)
{
        struct rusage ru;
        if (getrusage(RUSAGE_SELF, &ru) < 0)
                return 0;
        return (uint64_t)ru.ru_maxrss * 1024;
}
