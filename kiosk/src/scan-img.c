/* The medium as libtsk sees it: our own reader behind tsk_img_open_external(), so the image
 * structure (and the read cache inside it) is page-aligned, reads are pread() with EINTR handled,
 * and only regular files and block devices are accepted. */
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scan-internal.h"

struct scan_img {
        TSK_IMG_INFO info; /* first: libtsk casts between the two */
        int fd;
        void *alloc; /* what to free: the structure is placed inside it */
};

/* Read @len bytes at @off; a short count only at the end of the medium. */
static ssize_t scan_img_read(TSK_IMG_INFO *info, TSK_OFF_T off, char *buf, size_t len)
{
        struct scan_img *img = (struct scan_img *)info;
        if (off < 0 || off >= info->size)
                len = 0;
        else
                len = (size_t)MG_MIN((uint64_t)len, (uint64_t)(info->size - off));
        size_t done = 0;
        while (done < len) {
                ssize_t k = pread(img->fd, buf + done, len - done, off + (off_t)done);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        int e = errno;
                        tsk_error_reset();
                        tsk_error_set_errno(TSK_ERR_IMG_READ);
                        tsk_error_set_errstr("read of %zu bytes at offset %lld: %s", len - done,
                                             (long long)(off + (off_t)done), strerror(e));
                        /* what was read before the error is still good */
                        return done ? (ssize_t)done : -1;
                }
                if (k == 0)
                        break; /* the medium shrank (removed): the caller sees a short read */
                done += (size_t)k;
        }
        return (ssize_t)done;
}

/* libtsk's close callback. */
static void scan_img_close(TSK_IMG_INFO *info)
{
        struct scan_img *img = (struct scan_img *)info;
        if (img->fd >= 0)
                close(img->fd);
        free(img->alloc);
}

/* libtsk's imgstat callback (istat-like tools only). */
static void scan_img_stat(TSK_IMG_INFO *info, FILE *f)
{
        fprintf(f, "IMAGE FILE INFORMATION\nType: mediagate reader\nSize: %lld\n",
                (long long)info->size);
}

int scan_img_open(const char *path, TSK_IMG_INFO **ret)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
                return -ENODEV; /* a directory, a pipe or a character device is no medium */
        off_t size = lseek(fd, 0, SEEK_END); /* also right for block devices */
        if (size < 0)
                return -errno;
        /* place the structure so its read cache starts on a page: the kernel copies into
         * buffers misaligned by malloc's 16 bytes at a quarter of the speed on some CPUs */
        const size_t page = 4096, cache_at = offsetof(TSK_IMG_INFO, cache) % page;
        const size_t shift = (page - cache_at) % page;
        void *alloc = aligned_alloc(page, MG_ALIGN_UP(sizeof(struct scan_img) + shift, page));
        if (!alloc)
                return -ENOMEM;
        struct scan_img *img = (struct scan_img *)((char *)alloc + shift);
        memset(img, 0, sizeof(*img));
        img->alloc = alloc;
        img->fd = fd;
        tsk_error_reset();
        if (!tsk_img_open_external(img, (TSK_OFF_T)size, 0, scan_img_read, scan_img_close,
                                   scan_img_stat)) {
                tsk_error_reset();
                free(alloc);
                return -EINVAL;
        }
        TAKE_FD(fd);
        *ret = &img->info;
        return 0;
}
