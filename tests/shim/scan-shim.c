/* LD_PRELOAD fault shim for the scan tests: read() on one file fails with EIO in a range, like a
 * stick with bad sectors (libtsk reads raw images with lseek + read).
 *   SCAN_SHIM_FILE=PATH         the file (absolute, as /proc/self/fd shows it)
 *   SCAN_SHIM_FAIL_READ=OFF:LEN reads touching [OFF, OFF+LEN) fail with EIO */
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

typedef ssize_t (*read_fn)(int, void *, size_t);

ssize_t read(int fd, void *buf, size_t n);

/* Is @fd the shimmed file? */
static bool shim_match(int fd)
{
        const char *want = getenv("SCAN_SHIM_FILE");
        if (!want)
                return false;
        char link[64], path[4096];
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        ssize_t k = readlink(link, path, sizeof(path) - 1);
        if (k <= 0)
                return false;
        path[k] = 0;
        return strcmp(path, want) == 0;
}

/* Fail reads that touch the configured range. */
ssize_t read(int fd, void *buf, size_t n)
{
        static read_fn real_read;
        if (!real_read)
                real_read = (read_fn)dlsym(RTLD_NEXT, "read");
        const char *fail = getenv("SCAN_SHIM_FAIL_READ");
        if (fail && n > 0 && shim_match(fd)) {
                uint64_t off = 0, len = 0;
                off_t pos = lseek(fd, 0, SEEK_CUR);
                if (sscanf(fail, "%" SCNu64 ":%" SCNu64, &off, &len) == 2 && pos >= 0 &&
                    (uint64_t)pos < off + len && (uint64_t)pos + n > off) {
                        errno = EIO;
                        return -1;
                }
        }
        return real_read(fd, buf, n);
}
