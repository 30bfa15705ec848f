/* Whole wipes of image files through the library: every method and verify mode, a flipped byte
 * anywhere caught by the verify, the buffered fallback, cancellation, the certificate field by
 * field, its PDF, and the WIPE ledger entry. */
#include <endian.h>
#include <mediagate/ledger.h>
#include <regex.h>
#include <sys/stat.h>

#include "test-wipe-util.h"

#define MiB (1ull << 20)

/* Read a whole image. */
static uint8_t *read_image(const char *path, size_t *len)
{
        uint8_t *d = (uint8_t *)tu_read_file(path, len);
        assert_non_null(d);
        return d;
}

/* Check that every byte of @path is zero. */
static void assert_all_zero(const char *path)
{
        size_t n;
        uint8_t *d = read_image(path, &n);
        for (size_t i = 0; i < n; i++)
                if (d[i])
                        fail_msg("byte %zu is %#x after a zero pass", i, d[i]);
        free(d);
}

/* Check that @path holds the tagged random pattern: each block starts with its number, no block
 * still holds the old fill, and the body is not zero. */
static void assert_random_pattern(const char *path, int old_fill)
{
        size_t n;
        uint8_t *d = read_image(path, &n);
        size_t zeros = 0, olds = 0;
        for (size_t b = 0; b < n; b += 4096) {
                uint64_t no;
                memcpy(&no, d + b, 8);
                assert_int_equal(le64toh(no), b / 4096);
        }
        for (size_t i = 0; i < n; i++) {
                zeros += d[i] == 0;
                olds += d[i] == old_fill;
        }
        /* Random bytes hit any one value about 1/256 of the time (plus the headers' zeroes). */
        assert_true(zeros < n / 64);
        assert_true(olds < n / 128);
        free(d);
}

/* Every method with full and sample verify erases a 40 MiB image end to end. */
static void test_methods(void **state)
{
        char *dir = tu_mkdtemp("wipe-methods");
        char img[512];
        snprintf(img, sizeof(img), "%s/stick.img", dir);
        const uint64_t size = 40 * MiB;
        for (int m = MG_WIPE_RANDOM; m <= MG_WIPE_RANDOM_ZERO; m++) {
                for (int v = MG_WIPE_VERIFY_FULL; v <= MG_WIPE_VERIFY_OFF; v++) {
                        wu_image(img, size, 0xa5);
                        struct wu_opts o = {.method = m, .verify = v};
                        bool erased = false;
                        json_object *j = wu_wipe(img, &o, &erased);
                        unsigned passes = m == MG_WIPE_RANDOM_ZERO ? 2 : 1;
                        assert_true(erased);
                        assert_string_equal(wu_str(j, "status"), "erased");
                        assert_string_equal(wu_str(j, "method"), mg_wipe_method_to_string(m));
                        assert_string_equal(wu_str(j, "verify"), mg_wipe_verify_to_string(v));
                        assert_int_equal(wu_int(j, "bytes_written"), passes * size);
                        assert_int_equal(wu_int(j, "errors"), 0);
                        assert_true(wu_null(j, "failure"));
                        int64_t ver = wu_int(j, "bytes_verified");
                        if (v == MG_WIPE_VERIFY_FULL)
                                assert_int_equal(ver, passes * size);
                        else if (v == MG_WIPE_VERIFY_SAMPLE) {
                                /* NIST sampling: >= 10% of each pass, far from all of it. */
                                assert_true(ver * 10 >= (int64_t)(passes * size));
                                assert_true(ver < (int64_t)(passes * size) / 2);
                                assert_true(
                                    wu_int(json_object_array_get_idx(wu_get(j, "passes"), 0),
                                           "subsections") >= 1000);
                        } else
                                assert_int_equal(ver, 0);
                        /* Only a verified tagged pass confirms the capacity. */
                        assert_int_equal(wu_int(j, "verified_capacity"),
                                         m != MG_WIPE_ZERO && v != MG_WIPE_VERIFY_OFF ? size : 0);
                        assert_string_equal(wu_str(j, "verification.result"),
                                            v == MG_WIPE_VERIFY_OFF ? "not performed" : "passed");
                        assert_int_equal(json_object_array_length(wu_get(j, "passes")), passes);
                        if (m == MG_WIPE_RANDOM)
                                assert_random_pattern(img, 0xa5);
                        else
                                assert_all_zero(img);
                        json_object_put(j);
                }
        }
        tu_rmtree(dir);
}

/* Flip one byte of the image at the start of one verify pass. */
struct flip {
        const char *path;
        uint64_t off;
        unsigned pass;
        bool done;
};

static int flip_cb(void *ud, const struct mg_wipe_progress *p)
{
        struct flip *f = ud;
        if (p->phase != MG_WIPE_PHASE_VERIFY || p->pass != f->pass || f->done)
                return 0;
        int fd = open(f->path, O_RDWR | O_CLOEXEC);
        assert_true(fd >= 0);
        uint8_t c;
        assert_int_equal(pread(fd, &c, 1, (off_t)f->off), 1);
        c ^= 0x01;
        assert_int_equal(pwrite(fd, &c, 1, (off_t)f->off), 1);
        assert_int_equal(fdatasync(fd), 0);
        close(fd);
        f->done = true;
        return 0;
}

/* Wipe @img with a byte flipped at @off before verify pass @pass; check it is caught. */
static void check_flip(const char *img, uint64_t size, enum mg_wipe_method m, enum mg_wipe_verify v,
                       unsigned flags, unsigned pass, uint64_t off)
{
        wu_image(img, size, 0x5a);
        struct flip f = {.path = img, .off = off, .pass = pass};
        struct wu_opts o = {.method = m,
                            .verify = v,
                            .flags = flags,
                            .io_size = 1 * MiB,
                            .progress = flip_cb,
                            .progress_ud = &f};
        bool erased = true;
        json_object *j = wu_wipe(img, &o, &erased);
        assert_true(f.done);
        if (erased)
                fail_msg("flip at %llu (method %d pass %u) not detected", (unsigned long long)off,
                         m, pass);
        assert_int_equal(wu_int(j, "mismatched_blocks"), 1);
        assert_int_equal(wu_int(j, "errors"), 1);
        assert_false(wu_bool(j, "fake_capacity"));
        uint64_t blk = off / 4096 * 4096;
        uint64_t len = MG_MIN(4096, size - blk);
        assert_true(wu_has_range(j, blk, len, "verify"));
        assert_string_equal(wu_str(j, "verification.result"), "failed");
        assert_non_null(strstr(wu_str(j, "disposition"), "destroy"));
        json_object_put(j);
}

/* One flipped byte anywhere (first, last, in a header, in a body, on request boundaries) fails the
 * verify of a random or a zero pass, and of either pass of random+zero. */
static void test_flip_anywhere(void **state)
{
        char *dir = tu_mkdtemp("wipe-flip");
        char img[512];
        snprintf(img, sizeof(img), "%s/stick.img", dir);
        const uint64_t size = 6 * MiB;
        const uint64_t offs[] = {
            0, 7, 15, 16, 4095, 4096 + 8, MiB - 1, MiB, 3 * MiB + 1234, size - 4096, size - 1};
        for (size_t i = 0; i < MG_ARRAY_SIZE(offs); i++) {
                check_flip(img, size, MG_WIPE_RANDOM, MG_WIPE_VERIFY_FULL, 0, 1, offs[i]);
                check_flip(img, size, MG_WIPE_ZERO, MG_WIPE_VERIFY_FULL, 0, 1, offs[i]);
        }
        check_flip(img, size, MG_WIPE_RANDOM_ZERO, MG_WIPE_VERIFY_FULL, 0, 1, 2 * MiB + 77);
        check_flip(img, size, MG_WIPE_RANDOM_ZERO, MG_WIPE_VERIFY_FULL, 0, 2, 2 * MiB + 77);
        /* A random flip position, told in the log so a failure can be replayed. */
        uint64_t r = (uint64_t)getpid() * 2654435761u % size;
        print_message("random flip offset %llu\n", (unsigned long long)r);
        check_flip(img, size, MG_WIPE_RANDOM, MG_WIPE_VERIFY_FULL, 0, 1, r);
        /* Too small to sample (under 32 MB): verified in full, and the record says so. */
        wu_image(img, size, 0);
        struct wu_opts so = {.verify = MG_WIPE_VERIFY_SAMPLE};
        json_object *j = wu_wipe(img, &so, NULL);
        assert_string_equal(wu_str(j, "verification.requested"), "sample");
        assert_string_equal(wu_str(j, "verification.method"), "full");
        assert_int_equal(wu_int(j, "bytes_verified"), size);
        json_object_put(j);
        /* Sampling always reads the first and last locations. */
        const uint64_t big = 40 * MiB;
        check_flip(img, big, MG_WIPE_RANDOM, MG_WIPE_VERIFY_SAMPLE, 0, 1, 0);
        check_flip(img, big, MG_WIPE_RANDOM, MG_WIPE_VERIFY_SAMPLE, 0, 1, big - 1);
        tu_rmtree(dir);
}

/* Without O_DIRECT the wipe syncs and drops the cache, and still catches a flip. */
static void test_buffered_fallback(void **state)
{
        char *dir = tu_mkdtemp("wipe-buffered");
        char img[512];
        snprintf(img, sizeof(img), "%s/stick.img", dir);
        wu_image(img, 8 * MiB, 0x11);
        struct wu_opts o = {.method = MG_WIPE_RANDOM_ZERO, .flags = MG_WIPE_NO_DIRECT};
        bool erased = false;
        json_object *j = wu_wipe(img, &o, &erased);
        assert_true(erased);
        assert_int_equal(strncmp(wu_str(j, "device.io"), "buffered", 8), 0);
        assert_int_equal(wu_int(j, "bytes_verified"), 16 * MiB);
        json_object_put(j);
        assert_all_zero(img);
        check_flip(img, 8 * MiB, MG_WIPE_RANDOM, MG_WIPE_VERIFY_FULL, MG_WIPE_NO_DIRECT, 1,
                   5 * MiB + 3);
        tu_rmtree(dir);
}

/* Sizes that are not a multiple of the block or of the sector: the tail is written and verified. */
static void test_odd_sizes(void **state)
{
        char *dir = tu_mkdtemp("wipe-odd");
        char img[512];
        snprintf(img, sizeof(img), "%s/stick.img", dir);
        const uint64_t sizes[] = {4 * MiB + 1536, 3 * MiB + 100, 100};
        for (size_t i = 0; i < MG_ARRAY_SIZE(sizes); i++) {
                wu_image(img, sizes[i], 0x77);
                struct wu_opts o = {.method = MG_WIPE_RANDOM};
                bool erased = false;
                json_object *j = wu_wipe(img, &o, &erased);
                assert_true(erased);
                assert_int_equal(wu_int(j, "bytes_written"), sizes[i]);
                assert_int_equal(wu_int(j, "bytes_verified"), sizes[i]);
                assert_int_equal(wu_int(j, "device.reported_capacity"), sizes[i]);
                json_object_put(j);
                check_flip(img, sizes[i], MG_WIPE_RANDOM, MG_WIPE_VERIFY_FULL, 0, 1, sizes[i] - 1);
        }
        tu_rmtree(dir);
}

/* Cancel at a given phase once half of it is done. */
struct cancel {
        enum mg_wipe_phase phase;
        unsigned pass;
        unsigned calls;
};

static int cancel_cb(void *ud, const struct mg_wipe_progress *p)
{
        struct cancel *c = ud;
        c->calls++;
        return p->phase == c->phase && p->pass == c->pass && p->bytes_done >= p->bytes_total / 2;
}

/* Cancelling midway leaves a FAILED record that says so, and the medium is not claimed erased. */
static void test_cancel(void **state)
{
        char *dir = tu_mkdtemp("wipe-cancel");
        char img[512];
        snprintf(img, sizeof(img), "%s/stick.img", dir);
        const uint64_t size = 16 * MiB;
        struct {
                enum mg_wipe_phase phase;
                unsigned pass;
        } at[] = {{MG_WIPE_PHASE_WRITE, 1}, {MG_WIPE_PHASE_VERIFY, 1}, {MG_WIPE_PHASE_WRITE, 2}};
        for (size_t i = 0; i < MG_ARRAY_SIZE(at); i++) {
                wu_image(img, size, 0x33);
                struct cancel c = {.phase = at[i].phase, .pass = at[i].pass};
                struct wu_opts o = {.method = MG_WIPE_RANDOM_ZERO,
                                    .io_size = 1 * MiB,
                                    .progress = cancel_cb,
                                    .progress_ud = &c};
                bool erased = true;
                json_object *j = wu_wipe(img, &o, &erased);
                assert_false(erased);
                assert_string_equal(wu_str(j, "status"), "failed");
                assert_non_null(strstr(wu_str(j, "failure"), "cancelled"));
                assert_true(wu_int(j, "bytes_written") < (int64_t)(2 * size));
                assert_int_equal(wu_int(j, "verified_capacity"),
                                 at[i].phase == MG_WIPE_PHASE_WRITE && at[i].pass == 2 ? size : 0);
                assert_string_not_equal(wu_str(j, "verification.result"), "passed");
                assert_non_null(strstr(wu_str(j, "disposition"), "not sanitized"));
                json_object_put(j);
        }
        /* Cancelling before anything is written. */
        wu_image(img, size, 0x33);
        struct cancel c = {.phase = MG_WIPE_PHASE_CRYPTO_ERASE, .pass = 0};
        struct wu_opts o = {.progress = cancel_cb, .progress_ud = &c};
        json_object *j = wu_wipe(img, &o, NULL);
        assert_int_equal(wu_int(j, "bytes_written"), 0);
        json_object_put(j);
        tu_rmtree(dir);
}

/* Does @s match the extended regular expression @re? */
static bool matches(const char *s, const char *re)
{
        regex_t r;
        assert_int_equal(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
        bool ok = regexec(&r, s, 0, NULL, 0) == 0;
        regfree(&r);
        return ok;
}

/* The certificate, parsed back, holds every NIST field with the right value; untrusted text in it
 * is escaped. */
static void test_certificate_fields(void **state)
{
        char *dir = tu_mkdtemp("wipe-cert");
        char img[512], pdf[512];
        snprintf(img, sizeof(img), "%s/st\x1b[2Jick.img", dir);
        snprintf(pdf, sizeof(pdf), "%s/cert.pdf", dir);
        const uint64_t size = 12 * MiB;
        wu_image(img, size, 0);
        struct wu_opts o = {.method = MG_WIPE_RANDOM_ZERO,
                            .verify = MG_WIPE_VERIFY_FULL,
                            .operator_name = "Ana \xe2\x80\xae Diaz",
                            .pdf = pdf};
        time_t before = time(NULL);
        json_object *j = wu_wipe(img, &o, NULL);
        assert_string_equal(wu_str(j, "status"), "erased");
        assert_string_equal(wu_str(j, "method"), "random+zero");
        assert_string_equal(wu_str(j, "sanitization_level"), "clear");
        assert_string_equal(wu_str(j, "tool"), "mediagate wipe");
        assert_string_equal(wu_str(j, "tool_version"), mg_version());
        assert_true(matches(wu_str(j, "wipe_id"), "^[0-9a-f]{16}$"));
        assert_true(
            matches(wu_str(j, "start_time"), "^20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-9:]{8}Z$"));
        assert_true(matches(wu_str(j, "end_time"), "^20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-9:]{8}Z$"));
        assert_true(strcmp(wu_str(j, "start_time"), wu_str(j, "end_time")) <= 0);
        double secs = json_object_get_double(wu_get(j, "seconds"));
        assert_true(secs > 0 && secs <= (double)(time(NULL) - before) + 1);
        assert_string_equal(wu_str(j, "device.media_type"), "image file");
        assert_int_equal(wu_int(j, "device.reported_capacity"), size);
        assert_int_equal(wu_int(j, "device.verified_capacity"), size);
        assert_int_equal(wu_int(j, "verified_capacity"), size);
        /* The escape sequence in the name and the bidi override in the operator are visible. */
        assert_non_null(strstr(wu_str(j, "device.target"), "st\\x1b[2Jick.img"));
        assert_null(strchr(wu_str(j, "device.target"), 0x1b));
        assert_string_equal(wu_str(j, "operator"), "Ana \\u{202e} Diaz");
        assert_int_equal(wu_int(j, "bytes_written"), 2 * size);
        assert_int_equal(wu_int(j, "bytes_verified"), 2 * size);
        assert_int_equal(wu_int(j, "errors"), 0);
        assert_int_equal(wu_int(j, "write_errors"), 0);
        assert_int_equal(wu_int(j, "read_errors"), 0);
        assert_false(wu_bool(j, "fake_capacity"));
        assert_true(wu_null(j, "usable_capacity"));
        assert_int_equal(json_object_array_length(wu_get(j, "bad_ranges")), 0);
        assert_true(json_object_get_double(wu_get(j, "write_throughput")) > 0);
        assert_string_equal(wu_str(j, "verification.method"), "full");
        assert_string_equal(wu_str(j, "verification.result"), "passed");
        assert_non_null(strstr(wu_str(j, "verification.read_back"), "O_DIRECT"));
        json_object *p0 = json_object_array_get_idx(wu_get(j, "passes"), 0);
        json_object *p1 = json_object_array_get_idx(wu_get(j, "passes"), 1);
        assert_string_equal(wu_str(p0, "pattern"), "random");
        assert_string_equal(wu_str(p1, "pattern"), "zero");
        assert_string_equal(wu_str(p0, "verify_result"), "passed");
        assert_string_equal(wu_str(p1, "verify_result"), "passed");
        assert_int_equal(wu_int(p0, "bytes_verified"), size);
        assert_false(wu_bool(j, "crypto_erase.luks"));
        assert_false(wu_bool(j, "crypto_erase.performed"));
        assert_false(wu_bool(j, "crypto_erase.counts_as_sanitization"));
        assert_true(wu_null(j, "ledger"));
        assert_non_null(strstr(wu_str(j, "notes"), "spare cells"));
        assert_non_null(strstr(wu_str(j, "disposition"), "cleared"));
        json_object_put(j);
        /* The summary for front ends agrees with the certificate. */
        struct mg_wipe *w = NULL;
        struct mg_wipe_result res;
        assert_int_equal(mg_wipe_new(img, &w), 0);
        assert_int_equal(mg_wipe_get_result(w, &res), -EINVAL);
        mg_wipe_set_flags(w, MG_WIPE_FORCE_IMAGE);
        mg_wipe_set_method(w, MG_WIPE_ZERO);
        bool erased = false;
        assert_int_equal(mg_wipe_run(w, &erased), 0);
        assert_int_equal(mg_wipe_get_result(w, &res), 0);
        assert_true(res.erased && erased);
        assert_string_equal(res.failure, "");
        assert_int_equal(res.reported_capacity, size);
        assert_int_equal(res.verified_capacity, 0);
        assert_int_equal(res.bytes_written, size);
        assert_int_equal(res.bytes_verified, size);
        assert_int_equal(res.errors, 0);
        assert_false(res.fake_capacity);
        assert_true(res.seconds > 0);
        mg_wipe_free(w);

        /* The PDF opens: pdftoppm renders it and pdftotext finds the fields. */
        struct stat st;
        assert_int_equal(stat(pdf, &st), 0);
        assert_true(st.st_size > 500);
        assert_int_equal(tu_sh("pdftoppm -r 40 -png '%s' '%s/page' 2>&1", pdf, dir), 0);
        char png[600];
        snprintf(png, sizeof(png), "%s/page-1.png", dir);
        assert_int_equal(stat(png, &st), 0);
        assert_true(st.st_size > 1000);
        int status;
        char *txt = tu_sh_output(&status, "pdftotext '%s' -", pdf);
        assert_int_equal(status, 0);
        assert_non_null(strstr(txt, "Certificate of Media Sanitization"));
        assert_non_null(strstr(txt, "ERASED"));
        assert_non_null(strstr(txt, "random+zero"));
        assert_non_null(strstr(txt, "Sanitized by"));
        assert_non_null(strstr(txt, "Verified by"));
        assert_non_null(strstr(txt, "Property number"));
        assert_non_null(strstr(txt, "12582912"));
        free(txt);
        /* Not recorded in a ledger: the QR code carries the record's digest. */
        assert_true(tu_have("zbarimg"));
        assert_int_equal(tu_sh("pdftoppm -r 150 -png '%s' '%s/qr' 2>&1", pdf, dir), 0);
        char *qr = tu_sh_output(&status, "zbarimg -q --raw '%s/qr-1.png' 2>/dev/null", dir);
        assert_int_equal(status, 0);
        assert_true(matches(qr, "^mediagate-wipe:unrecorded:sha256=[0-9a-f]{64}\n$"));
        free(qr);
        tu_rmtree(dir);
}

/* What the progress callback saw. */
struct seen {
        unsigned n;
        enum mg_wipe_phase phase[8];
        unsigned pass[8];
        unsigned n_phases;
        uint64_t last_done, last_total;
        bool ended_full[8];
        bool bad;
};

static int seen_cb(void *ud, const struct mg_wipe_progress *p)
{
        struct seen *s = ud;
        s->n++;
        bool fresh = !s->n_phases || s->phase[s->n_phases - 1] != p->phase ||
                     s->pass[s->n_phases - 1] != p->pass;
        if (fresh) {
                if (s->n_phases >= 8) {
                        s->bad = true;
                        return 0;
                }
                s->phase[s->n_phases] = p->phase;
                s->pass[s->n_phases++] = p->pass;
                s->last_done = 0;
                if (p->bytes_done != 0)
                        s->bad = true; /* a phase starts at 0 */
        }
        if (p->bytes_done < s->last_done || p->bytes_done > p->bytes_total || p->rate < 0 ||
            p->n_passes != 2 || (p->eta < 0 && p->eta != -1))
                s->bad = true;
        s->last_done = p->bytes_done;
        if (p->bytes_total && p->bytes_done == p->bytes_total)
                s->ended_full[s->n_phases - 1] = true;
        return 0;
}

/* Progress reports come in phase order, each phase from 0 to its total, monotonic. */
static void test_progress(void **state)
{
        char *dir = tu_mkdtemp("wipe-progress");
        char img[512];
        snprintf(img, sizeof(img), "%s/stick.img", dir);
        wu_image(img, 8 * MiB, 0);
        struct seen s = {0};
        struct wu_opts o = {.method = MG_WIPE_RANDOM_ZERO,
                            .io_size = 256 << 10,
                            .progress = seen_cb,
                            .progress_ud = &s};
        bool erased = false;
        json_object *j = wu_wipe(img, &o, &erased);
        assert_true(erased);
        json_object_put(j);
        assert_false(s.bad);
        const enum mg_wipe_phase want[] = {MG_WIPE_PHASE_CRYPTO_ERASE, MG_WIPE_PHASE_WRITE,
                                           MG_WIPE_PHASE_VERIFY,       MG_WIPE_PHASE_WRITE,
                                           MG_WIPE_PHASE_VERIFY,       MG_WIPE_PHASE_DONE};
        const unsigned want_pass[] = {0, 1, 1, 2, 2, 2};
        assert_int_equal(s.n_phases, MG_ARRAY_SIZE(want));
        for (size_t i = 0; i < MG_ARRAY_SIZE(want); i++) {
                assert_int_equal(s.phase[i], want[i]);
                assert_int_equal(s.pass[i], want_pass[i]);
                if (want[i] == MG_WIPE_PHASE_WRITE || want[i] == MG_WIPE_PHASE_VERIFY)
                        assert_true(s.ended_full[i]);
        }
        /* 32 requests per phase, each reported. */
        assert_true(s.n >= 4 * 32);
        tu_rmtree(dir);
}

/* Through the library: the WIPE entry lands in the ledger with the certificate's index, and carries
 * the wipe id and status; a failed wipe is recorded too. */
static void test_ledger_entry(void **state)
{
        char *dir = tu_mkdtemp("wipe-ledger-lib");
        char img[512], led[512];
        snprintf(img, sizeof(img), "%s/stick.img", dir);
        snprintf(led, sizeof(led), "%s/ledger", dir);
        assert_int_equal(mg_ledger_init(led, "test.example/wipe"), 0);
        wu_image(img, 4 * MiB, 0x21);
        struct wu_opts o = {.method = MG_WIPE_ZERO, .ledger = led, .operator_name = "clerk"};
        json_object *j = wu_wipe(img, &o, NULL);
        assert_int_equal(wu_int(j, "ledger.index"), 1);
        char id[32];
        snprintf(id, sizeof(id), "field wipe_id %s\n", wu_str(j, "wipe_id"));
        json_object_put(j);
        struct cancel c = {.phase = MG_WIPE_PHASE_WRITE, .pass = 1};
        struct wu_opts o2 = {
            .ledger = led, .io_size = 1 * MiB, .progress = cancel_cb, .progress_ud = &c};
        j = wu_wipe(img, &o2, NULL);
        assert_int_equal(wu_int(j, "ledger.index"), 2);
        json_object_put(j);

        struct mg_ledger *l = NULL;
        assert_int_equal(mg_ledger_open(led, MG_LEDGER_NO_SYSLOG, &l), 0);
        char *text = NULL;
        size_t len = 0;
        assert_int_equal(mg_ledger_entry(l, 1, &text, &len), 0);
        assert_non_null(strstr(text, "event WIPE\n"));
        assert_non_null(strstr(text, id));
        assert_non_null(strstr(text, "field status erased\n"));
        free(text);
        assert_int_equal(mg_ledger_entry(l, 2, &text, &len), 0);
        assert_non_null(strstr(text, "field status failed\n"));
        free(text);
        mg_ledger_close(l);
        tu_rmtree(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_methods),
            cmocka_unit_test(test_flip_anywhere),
            cmocka_unit_test(test_buffered_fallback),
            cmocka_unit_test(test_odd_sizes),
            cmocka_unit_test(test_cancel),
            cmocka_unit_test(test_certificate_fields),
            cmocka_unit_test(test_ledger_entry),
            cmocka_unit_test(test_progress),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
