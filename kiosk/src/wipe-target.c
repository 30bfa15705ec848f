/* The wipe target: refusal checks (mounted, held, system, removable, USB, write-protect), device
 * identity from sysfs, the exclusive open; and the LUKS crypto-erase. */
#include <dirent.h>
#include <fcntl.h>
#include <libcryptsetup.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <mediagate/escape.h>

#include "wipe-internal.h"

/* Where sysfs is: "/sys", or a fake tree in tests. */
static const char *wipe_sysfs = "/sys";

/* Read sysfs from @root instead of /sys (tests); NULL restores /sys. Not thread-safe. */
void wipe_target_set_sysfs_root(const char *root)
{
        wipe_sysfs = root ? root : "/sys";
}

/* Copy @src into @dst of @n bytes, cut if it does not fit. */
static void wipe_copy(char *dst, size_t n, const char *src)
{
        size_t l = strnlen(src, n - 1);
        memcpy(dst, src, l);
        dst[l] = '\0';
}

/* Read a one-line sysfs attribute into @out (trailing whitespace cut). 0 or -errno. */
static int wipe_sysfs_read(const char *dir, const char *attr, char *out, size_t outsz)
{
        char path[PATH_MAX];
        if (snprintf(path, sizeof(path), "%s/%s", dir, attr) >= (int)sizeof(path))
                return -ENAMETOOLONG;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t n = read(fd, out, outsz - 1);
        if (n < 0)
                return -errno;
        out[n] = '\0';
        while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
                out[--n] = '\0';
        return 0;
}

/* Is the device @devnum, or a partition of disk @sysdir, in /proc/self/mountinfo or /proc/swaps? */
static int wipe_target_mounted(const char *sysdir, dev_t devnum, char *what, size_t whatsz)
{
        /* Collect the device and its partitions. */
        dev_t devs[130];
        size_t n = 0;
        devs[n++] = devnum;
        DIR *d = opendir(sysdir);
        if (d) {
                struct dirent *de;
                while ((de = readdir(d)) && n < MG_ARRAY_SIZE(devs)) {
                        if (de->d_name[0] == '.')
                                continue;
                        char sub[PATH_MAX], buf[32], part[16];
                        if (snprintf(sub, sizeof(sub), "%s/%s", sysdir, de->d_name) >=
                            (int)sizeof(sub))
                                continue;
                        unsigned ma, mi;
                        if (wipe_sysfs_read(sub, "partition", part, sizeof(part)) < 0 ||
                            wipe_sysfs_read(sub, "dev", buf, sizeof(buf)) < 0 ||
                            sscanf(buf, "%u:%u", &ma, &mi) != 2)
                                continue;
                        devs[n++] = makedev(ma, mi);
                }
                closedir(d);
        }
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        if (!f)
                return -errno;
        char line[4096];
        for (unsigned lines = 0; fgets(line, sizeof(line), f) && lines < 100000; lines++) {
                unsigned ma, mi;
                char mnt[1024];
                if (sscanf(line, "%*u %*u %u:%u %*s %1023s", &ma, &mi, mnt) != 3)
                        continue;
                for (size_t i = 0; i < n; i++)
                        if (devs[i] == makedev(ma, mi)) {
                                snprintf(what, whatsz, "mounted on %s", mnt);
                                return 1;
                        }
        }
        _cleanup_fclose_ FILE *sw = fopen("/proc/swaps", "re");
        for (unsigned lines = 0; sw && fgets(line, sizeof(line), sw) && lines < 10000; lines++) {
                char name[1024];
                struct stat st;
                if (sscanf(line, "%1023s", name) != 1 || stat(name, &st) < 0 ||
                    !S_ISBLK(st.st_mode))
                        continue;
                for (size_t i = 0; i < n; i++)
                        if (devs[i] == st.st_rdev) {
                                snprintf(what, whatsz, "used as swap");
                                return 1;
                        }
        }
        return 0;
}

/* Does the device or one of its partitions have holders (device-mapper, md)? */
static bool wipe_target_held(const char *sysdir)
{
        char path[PATH_MAX];
        DIR *d = opendir(sysdir);
        if (!d)
                return false;
        bool held = false;
        struct dirent *de;
        for (unsigned k = 0; !held && (de = readdir(d)) && k < 10000; k++) {
                if (de->d_name[0] == '.')
                        continue;
                bool self = !strcmp(de->d_name, "holders");
                if (!self && snprintf(path, sizeof(path), "%s/%s/holders", sysdir, de->d_name) >=
                                 (int)sizeof(path))
                        continue;
                if (self && snprintf(path, sizeof(path), "%s/holders", sysdir) >= (int)sizeof(path))
                        continue;
                DIR *h = opendir(path);
                if (!h)
                        continue;
                struct dirent *he;
                while ((he = readdir(h)))
                        if (he->d_name[0] != '.') {
                                held = true;
                                break;
                        }
                closedir(h);
        }
        closedir(d);
        return held;
}

/* Is the image file attached to a loop device? */
static bool wipe_image_on_loop(const char *real)
{
        char blockdir[PATH_MAX];
        if (snprintf(blockdir, sizeof(blockdir), "%s/block", wipe_sysfs) >= (int)sizeof(blockdir))
                return false;
        DIR *d = opendir(blockdir);
        if (!d)
                return false;
        bool found = false;
        struct dirent *de;
        for (unsigned k = 0; !found && (de = readdir(d)) && k < 100000; k++) {
                if (strncmp(de->d_name, "loop", 4))
                        continue;
                char dir[PATH_MAX], back[PATH_MAX];
                if (snprintf(dir, sizeof(dir), "%s/%s/loop", blockdir, de->d_name) >=
                    (int)sizeof(dir))
                        continue;
                if (wipe_sysfs_read(dir, "backing_file", back, sizeof(back)) == 0 &&
                    !strcmp(back, real))
                        found = true;
        }
        closedir(d);
        return found;
}

/* Walk up from a block device's sysfs path to its USB device and read its identity. */
static void wipe_usb_identity(struct mg_wipe *w, const char *real)
{
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%s", real);
        for (unsigned depth = 0; depth < 32; depth++) {
                char *slash = strrchr(dir, '/');
                if (!slash || slash == dir)
                        return;
                *slash = '\0';
                char v[16];
                if (wipe_sysfs_read(dir, "idVendor", v, sizeof(v)) == 0) {
                        (void)wipe_sysfs_read(dir, "serial", w->serial, sizeof(w->serial));
                        if (!w->vendor[0])
                                (void)wipe_sysfs_read(dir, "manufacturer", w->vendor,
                                                      sizeof(w->vendor));
                        return;
                }
        }
}

/* Check a block device and fill in its identity. */
static int wipe_target_check_block(struct mg_wipe *w, const struct stat *st)
{
        char link[PATH_MAX], sysdir[PATH_MAX], buf[64], what[1100];
        if (snprintf(link, sizeof(link), "%s/dev/block/%u:%u", wipe_sysfs, major(st->st_rdev),
                     minor(st->st_rdev)) >= (int)sizeof(link))
                return -ENAMETOOLONG;
        if (!realpath(link, sysdir))
                return -errno;
        w->is_block = true;
        struct stat lst;
        char loopdir[PATH_MAX];
        w->is_loop = snprintf(loopdir, sizeof(loopdir), "%s/loop", sysdir) < (int)sizeof(loopdir) &&
                     stat(loopdir, &lst) == 0 && S_ISDIR(lst.st_mode);
        if (wipe_sysfs_read(sysdir, "partition", buf, sizeof(buf)) == 0) {
                wipe_log(w, MG_LOG_ERR, "target is a partition: wipe the whole device");
                return -EPERM;
        }
        int r = wipe_target_mounted(sysdir, st->st_rdev, what, sizeof(what));
        if (r < 0)
                return r;
        if (r > 0) {
                _cleanup_free_ char *e = mg_escape_str(what);
                wipe_log(w, MG_LOG_ERR, "target is in use by the running system: %s",
                         e ? e : "mounted");
                return -EBUSY;
        }
        if (wipe_target_held(sysdir)) {
                wipe_log(w, MG_LOG_ERR, "target is held by another device (device-mapper, md)");
                return -EBUSY;
        }
        w->removable =
            wipe_sysfs_read(sysdir, "removable", buf, sizeof(buf)) == 0 && !strcmp(buf, "1");
        w->is_usb = strstr(sysdir, "/usb") != NULL;
        if (w->is_loop) {
                if (!(w->flags & MG_WIPE_FORCE_IMAGE)) {
                        wipe_log(w, MG_LOG_ERR,
                                 "target is a loop device, not removable media (--force-image "
                                 "allows an image)");
                        return -EPERM;
                }
                snprintf(w->media_type, sizeof(w->media_type), "loop device (image file)");
                snprintf(w->vendor, sizeof(w->vendor), "Linux");
                snprintf(w->model, sizeof(w->model), "loop");
                (void)wipe_sysfs_read(sysdir, "loop/backing_file", w->serial, sizeof(w->serial));
                return 0;
        }
        if (!w->removable) {
                wipe_log(w, MG_LOG_ERR, "target is not removable media");
                return -EPERM;
        }
        if (!w->is_usb) {
                wipe_log(w, MG_LOG_ERR, "target is not on USB");
                return -EPERM;
        }
        (void)wipe_sysfs_read(sysdir, "device/vendor", w->vendor, sizeof(w->vendor));
        (void)wipe_sysfs_read(sysdir, "device/model", w->model, sizeof(w->model));
        wipe_usb_identity(w, sysdir);
        snprintf(w->media_type, sizeof(w->media_type), "USB removable flash");
        return 0;
}

/* Log why the target could not be opened; return @r. */
static int wipe_open_error(struct mg_wipe *w, int r)
{
        if (r == -EBUSY)
                wipe_log(w, MG_LOG_ERR, "target is in use (exclusive open refused)");
        else if (r == -EROFS || r == -EACCES || r == -EPERM)
                wipe_log(w, MG_LOG_ERR, "target cannot be opened for writing");
        return r;
}

/* Check the target, open it exclusively and read its size. */
int wipe_target_open(struct mg_wipe *w)
{
        struct stat st;
        if (stat(w->target, &st) < 0)
                return -errno;
        char real[PATH_MAX];
        if (!realpath(w->target, real))
                return -errno;
        int r;
        if (S_ISBLK(st.st_mode)) {
                r = wipe_target_check_block(w, &st);
                if (r < 0)
                        return r;
        } else if (S_ISREG(st.st_mode)) {
                if (!(w->flags & MG_WIPE_FORCE_IMAGE)) {
                        wipe_log(w, MG_LOG_ERR,
                                 "target is an image file (--force-image allows it)");
                        return -EPERM;
                }
                if (wipe_image_on_loop(real)) {
                        wipe_log(w, MG_LOG_ERR, "image file is attached to a loop device");
                        return -EBUSY;
                }
                w->is_image = true;
                snprintf(w->media_type, sizeof(w->media_type), "image file");
                snprintf(w->vendor, sizeof(w->vendor), "-");
                snprintf(w->model, sizeof(w->model), "image file");
                wipe_copy(w->serial, sizeof(w->serial), real);
        } else {
                wipe_log(w, MG_LOG_ERR, "target is neither a block device nor an image file");
                return -EINVAL;
        }

        if (w->is_block) {
                /* The write-protect switch first: a read-write open of it may fail otherwise. */
                _cleanup_close_ int rfd = open(real, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                int ro = 0;
                if (rfd < 0)
                        return -errno;
                if (ioctl(rfd, BLKROGET, &ro) < 0)
                        return -errno;
                if (ro) {
                        wipe_log(w, MG_LOG_ERR,
                                 "target is write-protected (switch or read-only flag): not wiped");
                        return -EROFS;
                }
        }
        int flags = O_RDWR | O_CLOEXEC | O_EXCL | O_NOCTTY;
        int fd = -1;
        w->direct = false;
        if (!(w->flags & MG_WIPE_NO_DIRECT)) {
                fd = open(real, flags | O_DIRECT);
                if (fd >= 0)
                        w->direct = true;
                else if (errno != EINVAL)
                        return wipe_open_error(w, -errno);
        }
        if (fd < 0)
                fd = open(real, flags);
        if (fd < 0)
                return wipe_open_error(w, -errno);
        _cleanup_close_ int fdc = fd;
        /* What was opened must be what was checked. */
        struct stat ost;
        if (fstat(fd, &ost) < 0)
                return -errno;
        if ((ost.st_mode & S_IFMT) != (st.st_mode & S_IFMT) ||
            (w->is_block ? ost.st_rdev != st.st_rdev
                         : (ost.st_dev != st.st_dev || ost.st_ino != st.st_ino))) {
                wipe_log(w, MG_LOG_ERR, "target changed while it was being checked");
                return -ESTALE;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                wipe_log(w, MG_LOG_ERR, "target is locked by another process");
                return -EBUSY;
        }
        if (w->is_block) {
                int ro = 0;
                if (ioctl(fd, BLKROGET, &ro) < 0)
                        return -errno;
                if (ro) {
                        wipe_log(w, MG_LOG_ERR, "target became write-protected: not wiped");
                        return -EROFS;
                }
                uint64_t size = 0;
                int lbs = 512, pbs = 512;
                if (ioctl(fd, BLKGETSIZE64, &size) < 0)
                        return -errno;
                (void)ioctl(fd, BLKSSZGET, &lbs);
                (void)ioctl(fd, BLKPBSZGET, &pbs);
                w->size = size;
                w->lbs = (unsigned)lbs;
                w->pbs = (unsigned)pbs;
        } else {
                if (fstat(fd, &st) < 0)
                        return -errno;
                w->size = (uint64_t)st.st_size;
                w->lbs = 512;
                w->pbs = (unsigned)st.st_blksize;
        }
        if (w->size == 0) {
                wipe_log(w, MG_LOG_ERR, "target has no capacity");
                return -EINVAL;
        }
        if (w->size % 512) {
                wipe_log(w, MG_LOG_WARNING, "size is not a multiple of 512: tail written buffered");
        }
        w->fd = fdc;
        fdc = -1;
        return 0;
}

/* Close the target. */
void wipe_target_close(struct mg_wipe *w)
{
        if (w->fd_buffered >= 0)
                close(w->fd_buffered);
        if (w->fd >= 0)
                close(w->fd);
        w->fd = w->fd_buffered = -1;
}

/* Forward libcryptsetup's messages to the wipe's log at debug level. */
static void wipe_luks_log(int level, const char *msg, void *usrptr)
{
        struct mg_wipe *w = usrptr;
        _cleanup_free_ char *e = mg_escape_str(msg);
        wipe_log(w, level == CRYPT_LOG_ERROR ? MG_LOG_WARNING : MG_LOG_DEBUG, "cryptsetup: %s",
                 e ? e : "?");
}

/* Destroy every keyslot of a LUKS header on the target (the overwrite follows). */
int wipe_luks_erase(struct mg_wipe *w)
{
        char magic[6];
        _cleanup_free_ uint8_t *blk = aligned_alloc(WIPE_BLOCK, WIPE_BLOCK);
        if (!blk)
                return -ENOMEM;
        if (w->size < WIPE_BLOCK)
                return 0;
        ssize_t n = pread(w->fd, blk, WIPE_BLOCK, 0);
        if (n < (ssize_t)sizeof(magic))
                return 0; /* unreadable start: the overwrite will report it */
        memcpy(magic, blk, sizeof(magic));
        if (memcmp(magic, "LUKS\xba\xbe", 6) && memcmp(magic, "SKUL\xba\xbe", 6))
                return 0;
        w->luks = true;
        struct crypt_device *cd = NULL;
        /* The medium this process holds open, not whatever the path names by now. */
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", w->fd);
        int r = crypt_init(&cd, path);
        if (r < 0) {
                w->luks_err = r;
                return r;
        }
        crypt_set_log_callback(cd, wipe_luks_log, w);
        /* This process holds the medium exclusively (O_EXCL, flock): cryptsetup's own metadata
         * lock would wait for us. */
        (void)crypt_metadata_locking(cd, 0);
        r = crypt_load(cd, CRYPT_LUKS, NULL);
        if (r < 0) {
                w->luks_err = r;
                crypt_free(cd);
                return r;
        }
        const char *type = crypt_get_type(cd);
        snprintf(w->luks_type, sizeof(w->luks_type), "%s", type ? type : "LUKS");
        int max = crypt_keyslot_max(type);
        for (int k = 0; k >= 0 && k < max && k < 256; k++) {
                crypt_keyslot_info ki = crypt_keyslot_status(cd, k);
                if (ki == CRYPT_SLOT_INACTIVE || ki == CRYPT_SLOT_INVALID)
                        continue;
                int rk = crypt_keyslot_destroy(cd, k);
                if (rk < 0) {
                        w->luks_err = rk;
                        wipe_log(w, MG_LOG_WARNING, "LUKS keyslot %d could not be destroyed", k);
                        continue;
                }
                w->keyslots_destroyed++;
        }
        crypt_free(cd);
        wipe_log(w, MG_LOG_NOTICE, "crypto-erase: %d LUKS keyslot(s) destroyed",
                 w->keyslots_destroyed);
        return w->luks_err;
}
