/* Wipes of real block devices (loop devices): refusal of a non-removable, mounted, or
 * write-protected device, a whole wipe of a loop device, and the LUKS crypto-erase. Needs root and
 * loop devices; skipped otherwise. */
#include <libcryptsetup.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "test-wipe-util.h"
#include "wipe-internal.h"

#define MiB (1ull << 20)

/* Attach @img to a free loop device (extra losetup options in @opt); NULL if impossible. */
static char *loop_attach(const char *img, const char *opt)
{
        int st;
        char *out = tu_sh_output(&st, "losetup %s -f --show '%s' 2>/dev/null", opt, img);
        if (st != 0 || !out || strncmp(out, "/dev/loop", 9)) {
                free(out);
                return NULL;
        }
        out[strcspn(out, "\n")] = '\0';
        return out;
}

/* Detach a loop device. */
static void loop_detach(char *dev)
{
        if (dev)
                tu_sh("losetup -d '%s'", dev);
        free(dev);
}

/* Skip unless loop devices can be used. */
static int setup_loop(void **state)
{
        if (geteuid() != 0 || !tu_have("losetup"))
                return -1;
        return 0;
}

/* A loop device is not removable media: refused unless --force-image; then wiped and verified. */
static void test_loop_device(void **state)
{
        if (setup_loop(state) < 0) {
                skip();
                return;
        }
        char *dir = tu_mkdtemp("wipe-loop");
        char img[512], real[4096], args[1200];
        snprintf(img, sizeof(img), "%s/stick.img", dir);
        wu_image(img, 16 * MiB, 0xee);
        assert_non_null(realpath(img, real));
        char *dev = loop_attach(img, "");
        if (!dev) {
                tu_rmtree(dir);
                skip();
                return;
        }
        char *out = NULL;
        snprintf(args, sizeof(args), "wipe --no-ledger --json '%s' 2>&1", dev);
        assert_int_equal(wu_cli(&out, NULL, args), 77);
        assert_non_null(strstr(out, "not removable"));
        free(out);
        /* The image behind a loop device is in use. */
        snprintf(args, sizeof(args), "wipe --no-ledger --force-image '%s' 2>&1", img);
        assert_int_equal(wu_cli(&out, NULL, args), 75);
        assert_non_null(strstr(out, "loop device"));
        free(out);

        snprintf(args, sizeof(args), "wipe --no-ledger --force-image --json --method random '%s'",
                 dev);
        assert_int_equal(wu_cli(&out, NULL, args), 0);
        json_object *j = wu_parse(out);
        free(out);
        assert_string_equal(wu_str(j, "status"), "erased");
        assert_string_equal(wu_str(j, "device.media_type"), "loop device (image file)");
        assert_string_equal(wu_str(j, "device.serial"), real);
        assert_int_equal(wu_int(j, "device.reported_capacity"), 16 * MiB);
        assert_int_equal(wu_int(j, "bytes_verified"), 16 * MiB);
        assert_string_equal(wu_str(j, "device.io"), "O_DIRECT");
        json_object_put(j);
        loop_detach(dev);
        /* The backing file holds the tagged pattern: block 3 carries number 3. */
        size_t n;
        uint8_t *d = (uint8_t *)tu_read_file(img, &n);
        assert_int_equal(n, 16 * MiB);
        assert_int_equal(d[3 * 4096], 3);
        assert_int_equal(d[3 * 4096 + 1], 0);
        size_t old = 0;
        for (size_t i = 0; i < n; i++)
                old += d[i] == 0xee;
        assert_true(old < n / 128);
        free(d);
        tu_rmtree(dir);
}

/* A device with a mounted file system is refused even with --force-image, and left intact. */
static void test_mounted(void **state)
{
        if (setup_loop(state) < 0 || !tu_have("mkfs.ext4")) {
                skip();
                return;
        }
        char *dir = tu_mkdtemp("wipe-mnt");
        char img[512], mnt[512], args[1200];
        snprintf(img, sizeof(img), "%s/fs.img", dir);
        snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
        wu_image(img, 16 * MiB, 0);
        assert_int_equal(tu_sh("mkfs.ext4 -q -F '%s' >/dev/null 2>&1", img), 0);
        assert_int_equal(mkdir(mnt, 0700), 0);
        char *dev = loop_attach(img, "");
        if (!dev || tu_sh("mount -t ext4 '%s' '%s' 2>/dev/null", dev, mnt) != 0) {
                loop_detach(dev);
                tu_rmtree(dir);
                skip();
                return;
        }
        assert_int_equal(tu_sh("echo keep > '%s/file'", mnt), 0);
        char *out = NULL;
        snprintf(args, sizeof(args), "wipe --no-ledger --force-image --json '%s' 2>&1", dev);
        int st = wu_cli(&out, NULL, args);
        tu_sh("umount '%s'", mnt);
        assert_int_equal(st, 75);
        assert_non_null(strstr(out, "mounted on"));
        free(out);
        /* The file system is intact. */
        assert_int_equal(tu_sh("fsck.ext4 -n '%s' >/dev/null 2>&1", dev), 0);
        loop_detach(dev);
        tu_rmtree(dir);
}

/* The write-protect flag (BLKROGET) is honoured with a clear message. */
static void test_write_protected(void **state)
{
        if (setup_loop(state) < 0) {
                skip();
                return;
        }
        char *dir = tu_mkdtemp("wipe-ro");
        char img[512], args[1200];
        snprintf(img, sizeof(img), "%s/ro.img", dir);
        wu_image(img, 4 * MiB, 0x3c);
        char *dev = loop_attach(img, "-r");
        if (!dev) {
                tu_rmtree(dir);
                skip();
                return;
        }
        char *out = NULL;
        snprintf(args, sizeof(args), "wipe --no-ledger --force-image '%s' 2>&1", dev);
        assert_int_equal(wu_cli(&out, NULL, args), 77);
        assert_non_null(strstr(out, "write-protected"));
        free(out);
        loop_detach(dev);
        size_t n;
        uint8_t *d = (uint8_t *)tu_read_file(img, &n);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(d[i], 0x3c);
        free(d);
        tu_rmtree(dir);
}

/* State for checking the LUKS header when the overwrite starts. */
struct luks_check {
        const char *img;
        bool checked;
        int active;
};

/* At the start of the first write, count the keyslots still active on the medium. */
static int luks_cb(void *ud, const struct mg_wipe_progress *p)
{
        struct luks_check *c = ud;
        if (p->phase != MG_WIPE_PHASE_WRITE || p->pass != 1 || c->checked)
                return 0;
        struct crypt_device *cd = NULL;
        assert_int_equal(crypt_init(&cd, c->img), 0);
        /* The wipe holds the image locked. */
        assert_int_equal(crypt_metadata_locking(cd, 0), 0);
        assert_int_equal(crypt_load(cd, CRYPT_LUKS, NULL), 0);
        c->active = 0;
        for (int k = 0; k < crypt_keyslot_max(crypt_get_type(cd)); k++) {
                crypt_keyslot_info ki = crypt_keyslot_status(cd, k);
                if (ki != CRYPT_SLOT_INACTIVE && ki != CRYPT_SLOT_INVALID)
                        c->active++;
        }
        crypt_free(cd);
        c->checked = true;
        return 0;
}

/* A LUKS medium has its keyslots destroyed before the overwrite; the record says so, and that it
 * does not count as sanitization by itself. */
static void test_luks_crypto_erase(void **state)
{
        if (!tu_have("cryptsetup")) {
                skip();
                return;
        }
        char *dir = tu_mkdtemp("wipe-luks");
        char img[512], key[512];
        snprintf(img, sizeof(img), "%s/luks.img", dir);
        snprintf(key, sizeof(key), "%s/key", dir);
        assert_int_equal(tu_write_file(key, "secret", 6), 0);
        const char *types[] = {"luks2", "luks1"};
        for (size_t i = 0; i < 2; i++) {
                wu_image(img, 20 * MiB, 0);
                assert_int_equal(tu_sh("cryptsetup luksFormat --type %s --batch-mode --pbkdf "
                                       "pbkdf2 --pbkdf-force-iterations 1000 '%s' '%s'",
                                       types[i], img, key),
                                 0);
                assert_int_equal(tu_sh("cryptsetup luksAddKey --batch-mode --pbkdf pbkdf2 "
                                       "--pbkdf-force-iterations 1000 --key-file '%s' '%s' '%s'",
                                       key, img, key),
                                 0);
                struct luks_check c = {.img = img, .active = -1};
                struct wu_opts o = {
                    .method = MG_WIPE_RANDOM, .progress = luks_cb, .progress_ud = &c};
                bool erased = false;
                json_object *j = wu_wipe(img, &o, &erased);
                assert_true(erased);
                assert_true(c.checked);
                assert_int_equal(c.active, 0);
                assert_true(wu_bool(j, "crypto_erase.luks"));
                assert_true(wu_bool(j, "crypto_erase.performed"));
                assert_int_equal(wu_int(j, "crypto_erase.keyslots_destroyed"), 2);
                assert_string_equal(wu_str(j, "crypto_erase.luks_type"),
                                    i == 0 ? "LUKS2" : "LUKS1");
                assert_false(wu_bool(j, "crypto_erase.counts_as_sanitization"));
                assert_non_null(strstr(wu_str(j, "crypto_erase.note"), "provisioned"));
                json_object_put(j);
                /* After the overwrite no LUKS header is left at all. */
                assert_int_not_equal(tu_sh("cryptsetup isLuks '%s'", img), 0);
        }
        /* A volume the kiosk provisioned (the caller says so): the crypto-erase counts. */
        wu_image(img, 20 * MiB, 0);
        assert_int_equal(tu_sh("cryptsetup luksFormat --type luks2 --batch-mode --pbkdf pbkdf2 "
                               "--pbkdf-force-iterations 1000 '%s' '%s'",
                               img, key),
                         0);
        struct wu_opts ko = {.flags = MG_WIPE_KIOSK_PROVISIONED};
        json_object *kj = wu_wipe(img, &ko, NULL);
        assert_true(wu_bool(kj, "crypto_erase.performed"));
        assert_true(wu_bool(kj, "crypto_erase.kiosk_provisioned"));
        assert_true(wu_bool(kj, "crypto_erase.counts_as_sanitization"));
        json_object_put(kj);
        /* Not LUKS: nothing to count, whatever the caller says. */
        kj = wu_wipe(img, &ko, NULL);
        assert_false(wu_bool(kj, "crypto_erase.luks"));
        assert_false(wu_bool(kj, "crypto_erase.counts_as_sanitization"));
        json_object_put(kj);
        /* The same on a block device the wipe holds open exclusively. */
        wu_image(img, 20 * MiB, 0);
        assert_int_equal(tu_sh("cryptsetup luksFormat --type luks2 --batch-mode --pbkdf pbkdf2 "
                               "--pbkdf-force-iterations 1000 '%s' '%s'",
                               img, key),
                         0);
        char *dev = geteuid() == 0 ? loop_attach(img, "") : NULL;
        if (dev) {
                char args[1200], *out = NULL;
                snprintf(args, sizeof(args), "wipe --no-ledger --force-image --json '%s'", dev);
                assert_int_equal(wu_cli(&out, NULL, args), 0);
                json_object *j = wu_parse(out);
                free(out);
                assert_true(wu_bool(j, "crypto_erase.performed"));
                assert_int_equal(wu_int(j, "crypto_erase.keyslots_destroyed"), 1);
                json_object_put(j);
                loop_detach(dev);
        }
        tu_rmtree(dir);
}

/* Build a fake sysfs tree under @root in which the block device @dev (a loop device) appears as a
 * SCSI disk "sdz" behind a USB stick (@usb) or a platform controller, with @removable. */
static void fake_sysfs(const char *root, const char *dev, bool usb, int removable, bool partition,
                       bool held)
{
        struct stat st;
        assert_int_equal(stat(dev, &st), 0);
        const char *parent =
            usb ? "devices/pci0000:00/0000:00:14.0/usb1/1-1" : "devices/platform/ahci.0/ata1";
        char scsi[1024], disk[1100];
        snprintf(scsi, sizeof(scsi), "%s/%s/1-1:1.0/host6/target6:0:0/6:0:0:0", root, parent);
        snprintf(disk, sizeof(disk), "%s/block/sdz", scsi);
        assert_int_equal(
            tu_sh("rm -rf '%s' && mkdir -p '%s/holders' '%s/dev/block'", root, disk, root), 0);
        assert_int_equal(tu_sh("printf 'SanDisk \n' > '%s/vendor' && printf 'Cruzer Blade    \n' "
                               "> '%s/model' && ln -s ../.. '%s/device'",
                               scsi, scsi, disk),
                         0);
        assert_int_equal(tu_sh("printf '%d\n' > '%s/removable' && printf '%u:%u\n' > '%s/dev'",
                               removable, disk, major(st.st_rdev), minor(st.st_rdev), disk),
                         0);
        if (usb)
                assert_int_equal(tu_sh("printf '0781\n' > '%s/%s/idVendor' && printf "
                                       "'4C53\033[31m0001\n' > '%s/%s/serial' && printf "
                                       "'SanDisk Corp.\n' > '%s/%s/manufacturer'",
                                       root, parent, root, parent, root, parent),
                                 0);
        if (partition)
                assert_int_equal(tu_sh("echo 1 > '%s/partition'", disk), 0);
        if (held)
                assert_int_equal(tu_sh("mkdir '%s/holders/dm-0'", disk), 0);
        assert_int_equal(tu_sh("ln -s '%s' '%s/dev/block/%u:%u'", disk, root, major(st.st_rdev),
                               minor(st.st_rdev)),
                         0);
}

/* Wipe @dev as the library does for a real stick (no --force-image); returns mg_wipe_run's result
 * and, when a record was made, its certificate. */
static int wipe_device(const char *dev, json_object **ret)
{
        struct mg_wipe *w = NULL;
        assert_int_equal(mg_wipe_new(dev, &w), 0);
        mg_wipe_set_io_size(w, 1u << 20);
        bool erased = false;
        int r = mg_wipe_run(w, &erased);
        *ret = NULL;
        if (r == 0) {
                char *s = NULL;
                assert_int_equal(mg_wipe_certificate_json(w, &s), 0);
                *ret = wu_parse(s);
                free(s);
        }
        mg_wipe_free(w);
        return r;
}

/* A removable disk on USB (as sysfs shows it) is wiped without --force-image, with its vendor,
 * model and serial (escaped) in the record; not removable, not USB, a partition, or held: refused.
 */
static void test_usb_identity(void **state)
{
        if (setup_loop(state) < 0) {
                skip();
                return;
        }
        char *dir = tu_mkdtemp("wipe-usb");
        char img[512], root[512];
        snprintf(img, sizeof(img), "%s/stick.img", dir);
        snprintf(root, sizeof(root), "%s/sys", dir);
        wu_image(img, 8 * MiB, 0x55);
        char *dev = loop_attach(img, "");
        if (!dev) {
                tu_rmtree(dir);
                skip();
                return;
        }
        fake_sysfs(root, dev, true, 1, false, false);
        wipe_target_set_sysfs_root(root);
        json_object *j = NULL;
        assert_int_equal(wipe_device(dev, &j), 0);
        assert_non_null(j);
        assert_string_equal(wu_str(j, "status"), "erased");
        assert_string_equal(wu_str(j, "device.media_type"), "USB removable flash");
        assert_string_equal(wu_str(j, "device.vendor"), "SanDisk");
        assert_string_equal(wu_str(j, "device.model"), "Cruzer Blade");
        assert_string_equal(wu_str(j, "device.serial"), "4C53\\x1b[31m0001");
        assert_true(wu_bool(j, "device.removable"));
        assert_true(wu_bool(j, "device.usb"));
        assert_int_equal(wu_int(j, "device.reported_capacity"), 8 * MiB);
        json_object_put(j);

        struct {
                bool usb;
                int removable;
                bool partition, held;
                int err;
        } bad[] = {
            {true, 0, false, false, -EPERM},  /* not removable */
            {false, 1, false, false, -EPERM}, /* removable but not on USB */
            {true, 1, true, false, -EPERM},   /* a partition */
            {true, 1, false, true, -EBUSY},   /* held by device-mapper */
        };
        for (size_t i = 0; i < MG_ARRAY_SIZE(bad); i++) {
                fake_sysfs(root, dev, bad[i].usb, bad[i].removable, bad[i].partition, bad[i].held);
                assert_int_equal(wipe_device(dev, &j), bad[i].err);
                assert_null(j);
        }
        wipe_target_set_sysfs_root(NULL);
        loop_detach(dev);
        tu_rmtree(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_loop_device),     cmocka_unit_test(test_mounted),
            cmocka_unit_test(test_write_protected), cmocka_unit_test(test_luks_crypto_erase),
            cmocka_unit_test(test_usb_identity),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
