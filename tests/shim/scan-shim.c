/* LD_PRELOAD fault shim for the scan tests: read() on one file fails with EIO in a range, like a
 * stick with bad sectors (the scanner reads with pread; libtsk's own raw reader with lseek + read).
 *   SCAN_SHIM_FILE=PATH         the file (absolute, as /proc/self/fd shows it)
 *   SCAN_SHIM_FAIL_READ=OFF:LEN reads touching [OFF, OFF+LEN) fail with EIO */
#undef _FILE_OFFSET_BITS /* pread and pread64 are two symbols here */
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
typedef ssize_t (*pread_fn)(int, void *, size_t, off_t);

ssize_t read(int fd, void *buf, size_t n);
ssize_t pread(int fd, void *buf, size_t n, off_t pos);
ssize_t pread64(int fd, void *buf, size_t n, off64_t pos);

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

/* Does a read of @n bytes at @pos of @fd touch the failing range? */
static bool shim_fails(int fd, off_t pos, size_t n)
{
        const char *fail = getenv("SCAN_SHIM_FAIL_READ");
        uint64_t off = 0, len = 0;
        return fail && n > 0 && pos >= 0 && shim_match(fd) &&
               sscanf(fail, "%" SCNu64 ":%" SCNu64, &off, &len) == 2 && (uint64_t)pos < off + len &&
               (uint64_t)pos + n > off;
}

/* Fail reads that touch the configured range. */
ssize_t read(int fd, void *buf, size_t n)
{
        static read_fn real_read;
        if (!real_read)
                real_read = (read_fn)dlsym(RTLD_NEXT, "read");
        if (shim_fails(fd, lseek(fd, 0, SEEK_CUR), n)) {
                errno = EIO;
                return -1;
        }
        return real_read(fd, buf, n);
}

/* The same for positioned reads (both names: 64-bit offsets are the default here). */
static ssize_t shim_pread(const char *name, int fd, void *buf, size_t n, off_t pos)
{
        pread_fn real = (pread_fn)dlsym(RTLD_NEXT, name);
        if (shim_fails(fd, pos, n)) {
                errno = EIO;
                return -1;
        }
        return real(fd, buf, n, pos);
}

ssize_t pread(int fd, void *buf, size_t n, off_t pos)
{
        return shim_pread("pread", fd, buf, n, pos);
}

ssize_t pread64(int fd, void *buf, size_t n, off64_t pos)
{
        return shim_pread("pread64", fd, buf, n, pos);
}
