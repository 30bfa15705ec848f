/* LD_PRELOAD fault shim for the wipe tests: makes one image file behave like a faulty or fake
 * medium for pread/pwrite.
 *   WIPE_SHIM_FILE=PATH          the file (absolute, as /proc/self/fd shows it) to act on
 *   WIPE_SHIM_WRAP=BYTES         fake capacity: offsets >= BYTES land at offset % BYTES
 *   WIPE_SHIM_FAIL_WRITE=OFF:LEN writes touching [OFF, OFF+LEN) fail with EIO
 *   WIPE_SHIM_FAIL_READ=OFF:LEN  reads touching [OFF, OFF+LEN) fail with EIO
 *   WIPE_SHIM_FLIP_READ=OFF      a read covering OFF returns that byte inverted
 *   WIPE_SHIM_DELAY_US=N         every write takes N microseconds longer (a slow stick)
 *   WIPE_SHIM_DROP=BYTES         fake capacity: writes at or beyond BYTES are acknowledged and
 * lost, reads there return zeroes */
/* Both pread and pread64 are defined here: no 64-bit redirection of the names. */
#undef _FILE_OFFSET_BITS
#undef _FORTIFY_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

typedef ssize_t (*pread_fn)(int, void *, size_t, off_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);

ssize_t pread64(int fd, void *buf, size_t n, off_t off);
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off);
ssize_t pread(int fd, void *buf, size_t n, off_t off);
ssize_t pwrite(int fd, const void *buf, size_t n, off_t off);

/* Is @fd the shimmed file? */
static bool shim_match(int fd)
{
        const char *want = getenv("WIPE_SHIM_FILE");
        if (!want)
                return false;
        char link[64], path[4096];
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        ssize_t k = readlink(link, path, sizeof(path) - 1);
        if (k < 0)
                return false;
        path[k] = '\0';
        return !strcmp(path, want);
}

/* Parse "OFF:LEN" from the environment. */
static bool shim_range(const char *var, uint64_t *off, uint64_t *len)
{
        const char *v = getenv(var);
        unsigned long long a, b;
        if (!v || sscanf(v, "%llu:%llu", &a, &b) != 2)
                return false;
        *off = a;
        *len = b;
        return true;
}

/* Does [off, off+n) touch the range in @var? */
static bool shim_hits(const char *var, uint64_t off, uint64_t n)
{
        uint64_t a, l;
        return shim_range(var, &a, &l) && off < a + l && a < off + n;
}

/* The wrap size, 0 for none. */
static uint64_t shim_wrap(void)
{
        const char *v = getenv("WIPE_SHIM_WRAP");
        return v ? strtoull(v, NULL, 10) : 0;
}

/* Transfer through the real call, splitting at wrap boundaries. */
static ssize_t shim_io(bool wr, int fd, void *buf, size_t n, off_t off)
{
        static pread_fn real_pread;
        static pwrite_fn real_pwrite;
        if (!real_pread)
                real_pread = (pread_fn)dlsym(RTLD_NEXT, "pread64");
        if (!real_pwrite)
                real_pwrite = (pwrite_fn)dlsym(RTLD_NEXT, "pwrite64");
        if (!shim_match(fd))
                return wr ? real_pwrite(fd, buf, n, off) : real_pread(fd, buf, n, off);
        if (shim_hits(wr ? "WIPE_SHIM_FAIL_WRITE" : "WIPE_SHIM_FAIL_READ", (uint64_t)off, n)) {
                errno = EIO;
                return -1;
        }
        const char *delay = getenv("WIPE_SHIM_DELAY_US");
        if (wr && delay)
                usleep((useconds_t)strtoul(delay, NULL, 10));
        const char *drop = getenv("WIPE_SHIM_DROP");
        uint64_t lim = drop ? strtoull(drop, NULL, 10) : UINT64_MAX;
        if ((uint64_t)off + n > lim) {
                /* The part past the limit is acknowledged and lost; reads there give zeroes. */
                size_t keep = (uint64_t)off < lim ? (size_t)(lim - (uint64_t)off) : 0;
                if (keep) {
                        ssize_t k =
                            wr ? real_pwrite(fd, buf, keep, off) : real_pread(fd, buf, keep, off);
                        if (k < (ssize_t)keep)
                                return k;
                }
                if (!wr)
                        memset((char *)buf + keep, 0, n - keep);
                return (ssize_t)n;
        }
        uint64_t wrap = shim_wrap();
        size_t done = 0;
        while (done < n) {
                uint64_t o = (uint64_t)off + done;
                size_t piece = n - done;
                if (wrap) {
                        uint64_t room = wrap - o % wrap;
                        if (piece > room)
                                piece = (size_t)room;
                        o %= wrap;
                }
                ssize_t k = wr ? real_pwrite(fd, (char *)buf + done, piece, (off_t)o)
                               : real_pread(fd, (char *)buf + done, piece, (off_t)o);
                if (k < 0)
                        return done ? (ssize_t)done : -1;
                done += (size_t)k;
                if ((size_t)k < piece)
                        break;
        }
        const char *flip = getenv("WIPE_SHIM_FLIP_READ");
        if (!wr && flip) {
                uint64_t f = strtoull(flip, NULL, 10);
                if (f >= (uint64_t)off && f < (uint64_t)off + done)
                        ((unsigned char *)buf)[f - (uint64_t)off] ^= 0xff;
        }
        return (ssize_t)done;
}

/* The interposed calls. */
ssize_t pread64(int fd, void *buf, size_t n, off_t off)
{
        return shim_io(false, fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
        return shim_io(true, fd, (void *)buf, n, off);
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
        return shim_io(false, fd, buf, n, off);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
        return shim_io(true, fd, (void *)buf, n, off);
}
