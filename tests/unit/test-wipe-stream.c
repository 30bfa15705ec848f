/* Unit tests of the wipe pattern stream and the NIST 800-88 sample plan. */
#include <endian.h>
#include <mediagate/wipe.h>
#include <string.h>

#include "testutil.h"
#include "wipe-internal.h"

static const uint8_t key1[32] = {1, 2, 3};
static const uint8_t key2[32] = {1, 2, 4};
static const uint8_t nonce[8] = {9, 9};

/* The stream is a function of (key, offset): a block comes out the same whichever request it is
 * generated in, so the verify can re-derive any block alone. */
static void test_indexed_by_block(void **state)
{
        struct wipe_stream s = {0};
        assert_int_equal(wipe_stream_init_key(&s, key1, nonce, 0x1122334455667788ull), 0);
        size_t n = 20 * WIPE_BLOCK;
        uint8_t *all = malloc(n), *one = malloc(3 * WIPE_BLOCK);
        assert_non_null(all);
        assert_non_null(one);
        assert_int_equal(wipe_stream_fill(&s, 0, all, n), 0);
        for (unsigned b = 0; b + 3 <= 20; b += 3) {
                assert_int_equal(
                    wipe_stream_fill(&s, (uint64_t)b * WIPE_BLOCK, one, 3 * WIPE_BLOCK), 0);
                assert_memory_equal(one, all + (size_t)b * WIPE_BLOCK, 3 * WIPE_BLOCK);
        }
        /* A misaligned offset is refused. */
        assert_int_equal(wipe_stream_fill(&s, 100, one, WIPE_BLOCK), -EINVAL);
        /* Each block carries its number and the wipe id. */
        for (unsigned b = 0; b < 20; b++) {
                uint64_t no, id;
                memcpy(&no, all + (size_t)b * WIPE_BLOCK, 8);
                memcpy(&id, all + (size_t)b * WIPE_BLOCK + 8, 8);
                assert_int_equal(le64toh(no), b);
                assert_int_equal(le64toh(id), 0x1122334455667788ull);
        }
        /* Far offsets (a 2 TB device) work and carry their number. */
        uint64_t far = (2ull << 40) - WIPE_BLOCK;
        assert_int_equal(wipe_stream_fill(&s, far, one, WIPE_BLOCK), 0);
        uint64_t no;
        memcpy(&no, one, 8);
        assert_int_equal(le64toh(no), far / WIPE_BLOCK);
        free(all);
        free(one);
        wipe_stream_free(&s);
}

/* Different keys give unrelated streams; the body of a block looks random. */
static void test_keyed(void **state)
{
        struct wipe_stream a = {0}, b = {0};
        assert_int_equal(wipe_stream_init_key(&a, key1, nonce, 1), 0);
        assert_int_equal(wipe_stream_init_key(&b, key2, nonce, 1), 0);
        size_t n = 64 * WIPE_BLOCK;
        uint8_t *x = malloc(n), *y = malloc(n);
        assert_int_equal(wipe_stream_fill(&a, 0, x, n), 0);
        assert_int_equal(wipe_stream_fill(&b, 0, y, n), 0);
        size_t same = 0, ones = 0, bits = 0;
        for (size_t blk = 0; blk < n; blk += WIPE_BLOCK)
                for (size_t i = WIPE_HDR; i < WIPE_BLOCK; i++) {
                        same += x[blk + i] == y[blk + i];
                        ones += (size_t)__builtin_popcount(x[blk + i]);
                        bits += 8;
                }
        /* Equal bytes by chance: about 1/256 of them. */
        assert_true(same < n / 128);
        assert_true(ones > bits * 49 / 100 && ones < bits * 51 / 100);
        free(x);
        free(y);
        wipe_stream_free(&a);
        wipe_stream_free(&b);
        /* Fresh streams get fresh keys and ids. */
        struct wipe_stream r1 = {0}, r2 = {0};
        assert_int_equal(wipe_stream_init(&r1), 0);
        assert_int_equal(wipe_stream_init(&r2), 0);
        assert_true(memcmp(r1.key, r2.key, 32) != 0);
        assert_true(r1.wipe_id != r2.wipe_id);
        wipe_stream_free(&r1);
        wipe_stream_free(&r2);
}

/* Check a plan for a device of @size: >= 1000 subsections, each with >= 10% read in two samples,
 * first and last locations, sorted, disjoint, aligned. */
static void check_plan(uint64_t size)
{
        struct wipe_region *rg = NULL;
        size_t n = 0;
        unsigned nsub = 0;
        assert_int_equal(wipe_sample_plan(size, &rg, &n, &nsub), 0);
        assert_true(nsub >= 1000);
        assert_non_null(rg);
        uint64_t sub = size / nsub / WIPE_BLOCK * WIPE_BLOCK;
        uint64_t total = 0;
        uint64_t *cover = calloc(nsub, sizeof(*cover));
        for (size_t i = 0; i < n; i++) {
                assert_int_equal(rg[i].off % WIPE_BLOCK, 0);
                assert_true(rg[i].len > 0);
                assert_true(rg[i].off + rg[i].len <= size);
                if (i)
                        assert_true(rg[i].off > rg[i - 1].off + rg[i - 1].len);
                total += rg[i].len;
                for (uint64_t s = rg[i].off / sub; s < nsub && s * sub < rg[i].off + rg[i].len;
                     s++) {
                        uint64_t lo = MG_MAX(rg[i].off, s * sub);
                        uint64_t hi = MG_MIN(rg[i].off + rg[i].len, (s + 1) * sub);
                        if (hi > lo)
                                cover[s] += hi - lo;
                }
        }
        for (unsigned s = 0; s < nsub; s++)
                assert_true(cover[s] * 10 >= sub);
        assert_true(total * 10 >= size);
        assert_true(total < size / 2);
        assert_int_equal(rg[0].off, 0);
        assert_int_equal(rg[n - 1].off + rg[n - 1].len, size);
        free(cover);
        free(rg);
}

/* The sample plan follows NIST 800-88 for a range of sizes, and differs between wipes. */
static void test_sample_plan(void **state)
{
        check_plan(40ull << 20);
        check_plan((1ull << 30) + 512 * 7);
        check_plan(16000000000ull);
        struct wipe_region *a = NULL, *b = NULL;
        size_t na, nb;
        unsigned s1, s2;
        assert_int_equal(wipe_sample_plan(1ull << 30, &a, &na, &s1), 0);
        assert_int_equal(wipe_sample_plan(1ull << 30, &b, &nb, &s2), 0);
        assert_false(na == nb && !memcmp(a, b, na * sizeof(*a)));
        free(a);
        free(b);
        /* Too small to sample: the caller verifies in full. */
        assert_int_equal(wipe_sample_plan(8ull << 20, &a, &na, &s1), 0);
        assert_int_equal(s1, 0);
        assert_null(a);
}

/* Names of methods and verify modes round-trip; others are refused. */
static void test_names(void **state)
{
        const char *m[] = {"random", "zero", "random+zero"};
        for (size_t i = 0; i < 3; i++) {
                enum mg_wipe_method x;
                assert_int_equal(mg_wipe_method_from_string(m[i], &x), 0);
                assert_string_equal(mg_wipe_method_to_string(x), m[i]);
        }
        const char *v[] = {"full", "sample", "off"};
        for (size_t i = 0; i < 3; i++) {
                enum mg_wipe_verify x;
                assert_int_equal(mg_wipe_verify_from_string(v[i], &x), 0);
                assert_string_equal(mg_wipe_verify_to_string(x), v[i]);
        }
        enum mg_wipe_method x;
        assert_int_equal(mg_wipe_method_from_string("dod", &x), -EINVAL);
        assert_int_equal(mg_wipe_method_from_string(NULL, &x), -EINVAL);
        struct mg_wipe *w = NULL;
        assert_int_equal(mg_wipe_new("", &w), -EINVAL);
        assert_int_equal(mg_wipe_new("/nonexistent", &w), 0);
        assert_int_equal(mg_wipe_set_io_size(w, 1000), -EINVAL);
        assert_int_equal(mg_wipe_set_io_size(w, 32u << 20), -EINVAL);
        assert_int_equal(mg_wipe_set_io_size(w, (8u << 20) + 65536), -EINVAL);
        assert_int_equal(mg_wipe_set_io_size(w, 8u << 20), 0);
        assert_int_equal(mg_wipe_set_io_size(w, 1u << 20), 0);
        char *j = NULL;
        assert_int_equal(mg_wipe_certificate_json(w, &j), -EINVAL);
        mg_wipe_set_flags(w, MG_WIPE_FORCE_IMAGE);
        assert_int_equal(mg_wipe_run(w, NULL), -ENOENT);
        mg_wipe_free(w);
        mg_wipe_free(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_indexed_by_block),
            cmocka_unit_test(test_keyed),
            cmocka_unit_test(test_sample_plan),
            cmocka_unit_test(test_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
