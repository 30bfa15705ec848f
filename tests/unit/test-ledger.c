/* Unit tests of the ledger's formats: C2SP signed notes, vkeys, cosignatures, checkpoints, entry
 * bodies, proof blocks, times, and the RFC 6962 tree with its proofs (vectors and negatives). */
#include <sodium.h>
#include <string.h>

#include "ledger-internal.h"
#include "testutil.h"

#define EM "\xe2\x80\x94"

/* The C2SP signed-note v1.0.0 example. */
static const char spec_vkey[] =
    "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
static const char spec_note[] =
    "This is an example message.\n\n" EM " example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3m"
    "FXmRKuwHjG1Yu72IneyaQM=\n";

/* golang.org/x/mod/sumdb/note's example (package documentation and example_test.go). */
static const char go_skey[] =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
static const char go_vkey[] = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
static const char go_text[] = "If you think cryptography is the answer to your problem,\n"
                              "then you don't know what your problem is.\n";
static const char go_sigline[] =
    EM " PeterNeumann "
       "x08go/ZJkuBS9UG/"
       "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

/* Parse a hex string into bytes. */
static void hex2bin(const char *hex, uint8_t *out, size_t n)
{
        assert_int_equal(strlen(hex), 2 * n);
        assert_int_equal(sodium_hex2bin(out, n, hex, 2 * n, NULL, NULL, NULL), 0);
}

/* The spec's vkey parses, its ID is right, and it verifies the spec's note. */
static void test_note_spec_vector(void **state)
{
        struct ledger_vkey k;
        struct ledger_note n;
        assert_int_equal(ledger_vkey_parse(spec_vkey, strlen(spec_vkey), &k), 0);
        assert_string_equal(k.name, "example.com/foo");
        assert_int_equal(k.id, 0x530d903a);
        assert_int_equal(k.type, LEDGER_SIG_ED25519);
        assert_int_equal(ledger_key_id(k.name, k.type, k.pk), 0x530d903a);
        struct mg_buf b;
        buf_init(&b, 0);
        ledger_vkey_format(&k, &b);
        assert_string_equal(b.data, spec_vkey);
        buf_free(&b);

        assert_int_equal(ledger_note_parse(spec_note, strlen(spec_note), &n), 0);
        assert_int_equal(n.text_len, strlen("This is an example message.\n"));
        assert_memory_equal(n.text, "This is an example message.\n", n.text_len);
        assert_int_equal(n.n_sigs, 1);
        assert_int_equal(ledger_note_verify(&n, &k), 0);

        /* One changed byte of the text: the known key's signature fails. */
        char *bad = strdup(spec_note);
        bad[5] = 'I';
        assert_int_equal(ledger_note_parse(bad, strlen(bad), &n), 0);
        assert_int_equal(ledger_note_verify(&n, &k), -EBADMSG);
        free(bad);

        /* Same name, other ID: not the known key. */
        struct ledger_vkey other = k;
        other.id ^= 1;
        assert_int_equal(ledger_note_parse(spec_note, strlen(spec_note), &n), 0);
        assert_int_equal(ledger_note_verify(&n, &other), -ENOKEY);
}

/* Go's private key format: the derived vkey and the (deterministic) signature are Go's. */
static void test_note_go_vector(void **state)
{
        struct ledger_skey sk;
        struct ledger_vkey vk;
        assert_int_equal(ledger_skey_parse(go_skey, strlen(go_skey), &sk), 0);
        assert_int_equal(ledger_vkey_parse(go_vkey, strlen(go_vkey), &vk), 0);
        assert_int_equal(sk.v.id, vk.id);
        assert_memory_equal(sk.v.pk, vk.pk, 32);
        struct mg_buf b;
        buf_init(&b, 0);
        ledger_skey_format(&sk, &b);
        assert_string_equal(b.data, go_skey);
        b.len = 0;
        assert_int_equal(ledger_note_sign(&b, go_text, strlen(go_text), &sk), 0);
        assert_string_equal(b.data, go_sigline);
        buf_free(&b);
        ledger_skey_wipe(&sk);
}

/* Malformed notes are rejected. */
static void test_note_negative(void **state)
{
        struct ledger_note n;
        static const char *const bad[] = {
            "",
            "text\n",                          /* no signatures */
            "text\n\n",                        /* blank line, no signature */
            "text\n\n" EM " k AAAAAA==\n",     /* only a key ID, no signature */
            "text\n\n" EM " k AAAAAAA\n",      /* unpadded base64 */
            "text\n\n" EM " k+x AAAAAAAA\n",   /* '+' in name */
            "text\n\n" EM "  AAAAAAAA\n",      /* empty name */
            "text\n\n- k AAAAAAAA\n",          /* not an em dash */
            "text\n\n" EM " k AAAAAAAA",       /* no final newline */
            "te\x01xt\n\n" EM " k AAAAAAAA\n", /* control character */
            "te\xffxt\n\n" EM " k AAAAAAAA\n", /* invalid UTF-8 */
            "text\n\n" EM " k AAAAAAB=\n",     /* non-canonical base64 */
            "text\n\n" EM " k AAAAAAAA\n\n",   /* trailing blank line */
        };
        for (size_t i = 0; i < MG_ARRAY_SIZE(bad); i++)
                assert_int_equal(ledger_note_parse(bad[i], strlen(bad[i]), &n) == 0 ? (int)i : -1,
                                 -1);
        /* Valid: text may contain blank lines; the last one separates. */
        static const char ok[] = "a\n\nb\n\n" EM " k AAAAAAAAAAAA\n";
        assert_int_equal(ledger_note_parse(ok, strlen(ok), &n), 0);
        assert_int_equal(n.text_len, 5);
        /* At least 16 signatures are accepted; more than LEDGER_MAX_SIGS are not. */
        struct mg_buf b;
        buf_init(&b, 0);
        buf_puts(&b, "text\n\n");
        for (int i = 0; i < LEDGER_MAX_SIGS; i++)
                buf_printf(&b, EM " k%d AAAAAAAAAAAA\n", i);
        assert_int_equal(ledger_note_parse(b.data, b.len, &n), 0);
        assert_int_equal(n.n_sigs, LEDGER_MAX_SIGS);
        buf_puts(&b, EM " one-too-many AAAAAAAAAAAA\n");
        assert_int_equal(ledger_note_parse(b.data, b.len, &n), -EBADMSG);
        buf_free(&b);
}

/* vkeys with a wrong ID, type or length are rejected. */
static void test_vkey_negative(void **state)
{
        struct ledger_vkey k;
        static const char *const bad[] = {
            "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", /* id */
            "example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", /* case */
            "example.com/foo+530d903a+AkyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  /* len */
            "example.com/foo+530d903a+BekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", /* type */
            "example.com/foo+530d903a",
            "+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            "exa mple+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        };
        for (size_t i = 0; i < MG_ARRAY_SIZE(bad); i++)
                assert_int_equal(ledger_vkey_parse(bad[i], strlen(bad[i]), &k) == 0 ? (int)i : -1,
                                 -1);
}

/* tlog-cosignature/v1: round trip, the timestamp is bound, other keys and bytes fail. */
static void test_cosignature(void **state)
{
        struct ledger_skey log, aud, aud2;
        assert_int_equal(ledger_skey_generate("log.example", LEDGER_SIG_ED25519, &log), 0);
        assert_int_equal(ledger_skey_generate("auditor.example", LEDGER_SIG_COSIG, &aud), 0);
        assert_int_equal(ledger_skey_generate("auditor.example", LEDGER_SIG_COSIG, &aud2), 0);
        /* Key IDs use the type byte: the same key as type 0x01 has another ID. */
        assert_int_not_equal(aud.v.id, ledger_key_id(aud.v.name, LEDGER_SIG_ED25519, aud.v.pk));
        const char text[] = "log.example\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
        struct mg_buf b;
        buf_init(&b, 0);
        buf_puts(&b, text);
        buf_puts(&b, "\n");
        assert_int_equal(ledger_note_sign(&b, text, strlen(text), &log), 0);
        assert_int_equal(ledger_cosig_sign(&b, text, strlen(text), &aud, 1700000000), 0);
        struct ledger_note n;
        uint64_t ts = 0;
        assert_int_equal(ledger_note_parse(b.data, b.len, &n), 0);
        assert_int_equal(n.n_sigs, 2);
        assert_int_equal(ledger_cosig_verify(&n, &aud.v, &ts), 0);
        assert_int_equal(ts, 1700000000);
        assert_int_equal(ledger_note_verify(&n, &log.v), 0);
        assert_int_equal(ledger_cosig_verify(&n, &aud2.v, &ts), -ENOKEY);
        /* The timestamp is signed: change it in the signature bytes. */
        n.sigs[1].sig[7] ^= 1;
        assert_int_equal(ledger_cosig_verify(&n, &aud.v, &ts), -EBADMSG);
        assert_int_equal(ledger_cosig_sign(&b, text, strlen(text), &aud, (uint64_t)1 << 63),
                         -EINVAL);
        buf_free(&b);
        ledger_skey_wipe(&log);
        ledger_skey_wipe(&aud);
        ledger_skey_wipe(&aud2);
}

/* The Certificate Transparency reference leaves and roots. */
static const char *const ct_leaves[] = {"",
                                        "00",
                                        "10",
                                        "2021",
                                        "3031",
                                        "40414243",
                                        "5051525354555657",
                                        "606162636465666768696a6b6c6d6e6f"};
static const char *const ct_roots[] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

/* Leaf hashes of the reference leaves. */
static void ct_leaf_hashes(ledger_hash out[8])
{
        for (int i = 0; i < 8; i++) {
                uint8_t d[16];
                size_t n = strlen(ct_leaves[i]) / 2;
                if (n)
                        hex2bin(ct_leaves[i], d, n);
                ledger_leaf_hash(d, n, out[i]);
        }
}

/* RFC 6962 roots for sizes 0..8, both by the compact range and by the incremental state. */
static void test_merkle_roots(void **state)
{
        ledger_hash lh[8], root, want;
        ct_leaf_hashes(lh);
        struct ledger_compact c = {0};
        for (int n = 0; n <= 8; n++) {
                hex2bin(ct_roots[n], want, 32);
                ledger_merkle_root(lh, (uint64_t)n, root);
                assert_memory_equal(root, want, 32);
                ledger_compact_root(&c, root);
                assert_memory_equal(root, want, 32);
                if (n < 8)
                        ledger_compact_append(&c, lh[n]);
        }
}

/* Check a proof against expected hex hashes. */
static void expect_proof(const ledger_hash *p, size_t n, const char *const *hex, size_t want)
{
        assert_int_equal(n, want);
        for (size_t i = 0; i < n; i++) {
                ledger_hash h;
                hex2bin(hex[i], h, 32);
                assert_memory_equal(p[i], h, 32);
        }
}

/* Reference inclusion and consistency proofs of the 8-leaf tree. */
static void test_merkle_proof_vectors(void **state)
{
        ledger_hash lh[8], p[LEDGER_MAX_PROOF];
        size_t n;
        ct_leaf_hashes(lh);
        static const char *const inc_0_8[] = {
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"};
        static const char *const inc_5_8[] = {
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"};
        static const char *const inc_2_3[] = {
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"};
        static const char *const inc_1_5[] = {
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"};
        assert_int_equal(ledger_merkle_inclusion(lh, 8, 0, p, &n), 0);
        expect_proof(p, n, inc_0_8, 3);
        assert_int_equal(ledger_merkle_inclusion(lh, 8, 5, p, &n), 0);
        expect_proof(p, n, inc_5_8, 3);
        assert_int_equal(ledger_merkle_inclusion(lh, 3, 2, p, &n), 0);
        expect_proof(p, n, inc_2_3, 1);
        assert_int_equal(ledger_merkle_inclusion(lh, 5, 1, p, &n), 0);
        expect_proof(p, n, inc_1_5, 3);
        assert_int_equal(ledger_merkle_inclusion(lh, 1, 0, p, &n), 0);
        assert_int_equal(n, 0);

        static const char *const con_1_8[] = {
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"};
        static const char *const con_6_8[] = {
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"};
        static const char *const con_2_5[] = {
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"};
        assert_int_equal(ledger_merkle_consistency(lh, 8, 1, p, &n), 0);
        expect_proof(p, n, con_1_8, 3);
        assert_int_equal(ledger_merkle_consistency(lh, 8, 6, p, &n), 0);
        expect_proof(p, n, con_6_8, 3);
        assert_int_equal(ledger_merkle_consistency(lh, 5, 2, p, &n), 0);
        expect_proof(p, n, con_2_5, 2);
        assert_int_equal(ledger_merkle_consistency(lh, 8, 8, p, &n), 0);
        assert_int_equal(n, 0);
}

/* Every proof of every tree up to 33 leaves verifies, and every mutation of it fails. */
static void test_merkle_proofs_exhaustive(void **state)
{
        enum { N = 33 };
        ledger_hash lh[N + 1], roots[N + 2], p[LEDGER_MAX_PROOF + 2], leaf;
        size_t n;
        for (int i = 0; i <= N; i++) {
                uint8_t d[2] = {(uint8_t)i, (uint8_t)(i * 7)};
                ledger_leaf_hash(d, 2, lh[i]);
        }
        /* A proof claims (size, root) together, as a signed checkpoint does: a wrong size is
         * always paired with that size's root here. */
        for (uint64_t s = 0; s <= N + 1; s++)
                ledger_merkle_root(lh, s, roots[s]);
        for (uint64_t s = 1; s <= N; s++) {
                for (uint64_t i = 0; i < s; i++) {
                        assert_int_equal(ledger_merkle_inclusion(lh, s, i, p, &n), 0);
                        assert_int_equal(
                            ledger_merkle_verify_inclusion(i, s, lh[i], p, n, roots[s]), 0);
                        /* index off by one, size off by one, wrong leaf, wrong root */
                        if (i + 1 < s)
                                assert_int_not_equal(
                                    ledger_merkle_verify_inclusion(i + 1, s, lh[i], p, n, roots[s]),
                                    0);
                        if (i > 0)
                                assert_int_not_equal(
                                    ledger_merkle_verify_inclusion(i - 1, s, lh[i], p, n, roots[s]),
                                    0);
                        assert_int_not_equal(
                            ledger_merkle_verify_inclusion(i, s + 1, lh[i], p, n, roots[s + 1]), 0);
                        if (s > 1 && i < s - 1)
                                assert_int_not_equal(ledger_merkle_verify_inclusion(
                                                         i, s - 1, lh[i], p, n, roots[s - 1]),
                                                     0);
                        memcpy(leaf, lh[i], 32);
                        leaf[0] ^= 1;
                        assert_int_not_equal(
                            ledger_merkle_verify_inclusion(i, s, leaf, p, n, roots[s]), 0);
                        /* flipped bit in each hash, missing and extra hashes */
                        for (size_t k = 0; k < n; k++) {
                                p[k][31] ^= 0x80;
                                assert_int_not_equal(
                                    ledger_merkle_verify_inclusion(i, s, lh[i], p, n, roots[s]), 0);
                                p[k][31] ^= 0x80;
                        }
                        if (n > 0)
                                assert_int_not_equal(
                                    ledger_merkle_verify_inclusion(i, s, lh[i], p, n - 1, roots[s]),
                                    0);
                        memcpy(p[n], lh[0], 32);
                        assert_int_not_equal(
                            ledger_merkle_verify_inclusion(i, s, lh[i], p, n + 1, roots[s]), 0);
                }
                for (uint64_t m = 1; m <= s; m++) {
                        assert_int_equal(ledger_merkle_consistency(lh, s, m, p, &n), 0);
                        assert_int_equal(
                            ledger_merkle_verify_consistency(m, s, roots[m], roots[s], p, n), 0);
                        if (m == s)
                                continue;
                        assert_int_not_equal(ledger_merkle_verify_consistency(
                                                 m + 1, s, roots[m + 1], roots[s], p, n),
                                             0);
                        assert_int_not_equal(
                            ledger_merkle_verify_consistency(
                                m - 1 ? m - 1 : s, s, roots[m - 1 ? m - 1 : s], roots[s], p, n),
                            0);
                        assert_int_not_equal(ledger_merkle_verify_consistency(m, s + 1, roots[m],
                                                                              roots[s + 1], p, n),
                                             0);
                        assert_int_not_equal(
                            ledger_merkle_verify_consistency(m, s, roots[m], roots[s - 1], p, n),
                            0);
                        assert_int_not_equal(
                            ledger_merkle_verify_consistency(m, s, roots[m - 1], roots[s], p, n),
                            0);
                        for (size_t k = 0; k < n; k++) {
                                p[k][0] ^= 1;
                                assert_int_not_equal(ledger_merkle_verify_consistency(
                                                         m, s, roots[m], roots[s], p, n),
                                                     0);
                                p[k][0] ^= 1;
                        }
                        assert_int_not_equal(
                            ledger_merkle_verify_consistency(m, s, roots[m], roots[s], p, n - 1),
                            0);
                        memcpy(p[n], lh[0], 32);
                        assert_int_not_equal(
                            ledger_merkle_verify_consistency(m, s, roots[m], roots[s], p, n + 1),
                            0);
                }
        }
        /* Empty proofs are only valid for equal trees. */
        assert_int_equal(ledger_merkle_verify_consistency(4, 4, roots[4], roots[4], p, 0), 0);
        assert_int_not_equal(ledger_merkle_verify_consistency(4, 4, roots[4], roots[5], p, 0), 0);
        assert_int_not_equal(ledger_merkle_verify_consistency(4, 8, roots[4], roots[8], p, 0), 0);
        assert_int_equal(ledger_merkle_inclusion(lh, 4, 4, p, &n), -EINVAL);
        assert_int_equal(ledger_merkle_consistency(lh, 4, 5, p, &n), -EINVAL);
}

/* The incremental state (compact range) equals the full root for many sizes. */
static void test_merkle_compact(void **state)
{
        enum { N = 300 };
        static ledger_hash lh[N];
        struct ledger_compact c = {0};
        for (int i = 0; i < N; i++) {
                ledger_hash r1, r2;
                uint8_t d[4] = {(uint8_t)i, (uint8_t)(i >> 8), 1, 2};
                ledger_leaf_hash(d, sizeof(d), lh[i]);
                ledger_compact_append(&c, lh[i]);
                assert_int_equal(c.n, __builtin_popcount((unsigned)i + 1));
                ledger_compact_root(&c, r1);
                ledger_merkle_root(lh, (uint64_t)i + 1, r2);
                assert_memory_equal(r1, r2, 32);
        }
}

/* RFC 3339 times: round trip and rejects. */
static void test_time(void **state)
{
        char out[32];
        int64_t t;
        ledger_time_format(0, out);
        assert_string_equal(out, "1970-01-01T00:00:00Z");
        assert_int_equal(ledger_time_parse("2026-11-23T12:51:41Z", 20, &t), 0);
        ledger_time_format(t, out);
        assert_string_equal(out, "2026-11-23T12:51:41Z");
        static const char *const bad[] = {"2026-02-30T00:00:00Z",      "2026-11-23 12:51:41Z",
                                          "2026-11-23T12:51:41",       "2026-11-23T24:00:00Z",
                                          "2026-11-23T12:51:41+00:00", "1969-12-31T23:59:59Z"};
        for (size_t i = 0; i < MG_ARRAY_SIZE(bad); i++)
                assert_int_not_equal(ledger_time_parse(bad[i], strlen(bad[i]), &t), 0);
}

/* Build a signed entry text. */
static char *make_entry(uint64_t index, const struct ledger_skey *signer,
                        const struct ledger_vkey *next, const struct mg_ledger_field *f, size_t nf)
{
        struct mg_buf b;
        ledger_hash prev = {1, 2, 3};
        buf_init(&b, LEDGER_MAX_ENTRY);
        assert_int_equal(ledger_entry_body(&b, "kiosk.example/l", index, 1700000000, "SCAN",
                                           "al\x1b[2Jice", index ? prev : NULL, f, nf, next),
                         0);
        size_t body = b.len;
        buf_puts(&b, "\n");
        assert_int_equal(ledger_note_sign(&b, b.data, body, signer), 0);
        return buf_steal(&b);
}

/* Entry bodies: round trip, escaping, and rejects of reordered or malformed lines. */
static void test_entry(void **state)
{
        struct ledger_skey k, next;
        assert_int_equal(ledger_skey_generate("kiosk.example/l/key/7", 1, &k), 0);
        assert_int_equal(ledger_skey_generate("kiosk.example/l/key/8", 1, &next), 0);
        const struct mg_ledger_field f[] = {{"device.serial", "AB\nC\xe2\x80\xae"}, {"empty", ""}};
        char *text = make_entry(7, &k, &next.v, f, 2);
        struct ledger_entry *e = NULL;
        assert_int_equal(ledger_entry_parse(text, strlen(text), &e), 0);
        assert_int_equal(e->index, 7);
        assert_int_equal(e->time, 1700000000);
        assert_string_equal(e->event, "SCAN");
        assert_string_equal(e->actor, "al\\x1b[2Jice");
        assert_int_equal(e->n_fields, 2);
        assert_string_equal(ledger_entry_field(e, "device.serial"), "AB\\x0aC\\u{202e}");
        assert_string_equal(ledger_entry_field(e, "empty"), "");
        assert_true(e->has_prev);
        assert_int_equal(e->next_key.id, next.v.id);
        assert_int_equal(ledger_note_verify(&e->note, &k.v), 0);
        struct mg_buf line;
        buf_init(&line, 0);
        ledger_hash leaf = {0};
        assert_int_equal(ledger_syslog_line(e, leaf, &line), 0);
        assert_non_null(strstr(line.data, "index=7 "));
        assert_non_null(strstr(line.data, "event=SCAN"));
        assert_null(strchr(line.data, '\n'));
        buf_free(&line);
        ledger_entry_free(e);

        /* Mutations of the body (re-signed, so only the format is at stake). */
        static const struct {
                const char *from, *to;
        } muts[] = {
            {"index 7\n", "index 07\n"},
            {"index 7\n", "index -7\n"},
            {"event SCAN\n", "event scan\n"},
            {"time 2023-11-14T22:13:20Z\n", "time 2023-11-14T22:13:20+00:00\n"},
            {"origin kiosk.example/l\n", ""},
            {"mediagate-ledger/v1\n", "mediagate-ledger/v2\n"},
            {"field empty \n", "field empty\n"},
            {"field empty \n", "field EMPTY x\n"},
            {"actor al\\x1b[2Jice\n", "actor \n"},
        };
        for (size_t i = 0; i < MG_ARRAY_SIZE(muts); i++) {
                char *p = strstr(text, muts[i].from);
                assert_non_null(p);
                char *sep = strstr(text, "\n\n");
                struct mg_buf b;
                buf_init(&b, 0);
                buf_append(&b, text, (size_t)(p - text));
                buf_puts(&b, muts[i].to);
                buf_append(&b, p + strlen(muts[i].from),
                           (size_t)(sep + 1 - (p + strlen(muts[i].from))));
                size_t body = b.len;
                buf_puts(&b, "\n");
                ledger_note_sign(&b, b.data, body, &k);
                assert_int_equal(ledger_entry_parse(b.data, b.len, &e) == 0 ? (int)i : -1, -1);
                buf_free(&b);
        }
        free(text);
        /* Entry 0 has no prev line; others must. */
        text = make_entry(0, &k, &next.v, NULL, 0);
        assert_int_equal(ledger_entry_parse(text, strlen(text), &e), 0);
        assert_false(e->has_prev);
        ledger_entry_free(e);
        free(text);
        /* Oversized entries are refused when built. */
        char *big = malloc(70000);
        memset(big, 'x', 69999);
        big[69999] = 0;
        struct mg_ledger_field bf[20];
        for (int i = 0; i < 20; i++)
                bf[i] = (struct mg_ledger_field){"k", big};
        struct mg_buf b;
        buf_init(&b, LEDGER_MAX_ENTRY);
        assert_int_equal(ledger_entry_body(&b, "o", 1, 0, "SCAN", "a", NULL, bf, 20, &next.v),
                         -EMSGSIZE);
        buf_free(&b);
        free(big);
        assert_false(ledger_event_valid("S CAN"));
        assert_false(ledger_event_valid(""));
        assert_false(ledger_field_key_valid("Key"));
        assert_false(ledger_field_key_valid("k=v"));
        ledger_skey_wipe(&k);
        ledger_skey_wipe(&next);
}

/* Checkpoint bodies: format and parse, extension lines, rejects. */
static void test_checkpoint(void **state)
{
        struct ledger_checkpoint c = {.origin = "kiosk.example/l", .size = 12}, d;
        memset(c.root, 0xab, 32);
        struct mg_buf b;
        buf_init(&b, 0);
        ledger_checkpoint_format(&c, &b);
        assert_int_equal(ledger_checkpoint_parse(b.data, b.len, &d), 0);
        assert_string_equal(d.origin, c.origin);
        assert_int_equal(d.size, 12);
        assert_memory_equal(d.root, c.root, 32);
        buf_puts(&b, "extension line\n");
        assert_int_equal(ledger_checkpoint_parse(b.data, b.len, &d), 0);
        buf_free(&b);
        static const char *const bad[] = {
            "o\n012\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n",
            "o\n12\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s\n",
            "o\n12\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=",
            "o\n12\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n\n",
            "o o\n12\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n",
            "o\n18446744073709551616\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n",
            "o\n12\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n",
        };
        for (size_t i = 0; i < MG_ARRAY_SIZE(bad); i++)
                assert_int_equal(
                    ledger_checkpoint_parse(bad[i], strlen(bad[i]), &d) == 0 ? (int)i : -1, -1);
}

/* Proof blocks: round trip, and rejects. */
static void test_proof_block(void **state)
{
        struct ledger_proof p = {.origin = "kiosk.example/l", .index = 3, .size = 9, .n = 2}, q;
        memset(p.leaf, 1, 32);
        memset(p.path[0], 2, 32);
        memset(p.path[1], 3, 32);
        struct mg_buf b;
        buf_init(&b, 0);
        ledger_proof_format(&p, &b);
        size_t used;
        assert_int_equal(ledger_proof_parse(b.data, b.len, &q, &used), 0);
        assert_int_equal(used, b.len);
        assert_int_equal(q.n, 2);
        assert_memory_equal(&p, &q, sizeof(p));
        buf_puts(&b, "\nsomething after\n");
        assert_int_equal(ledger_proof_parse(b.data, b.len, &q, &used), 0);
        buf_free(&b);
        p.index = 9; /* index must be below size */
        buf_init(&b, 0);
        ledger_proof_format(&p, &b);
        assert_int_equal(ledger_proof_parse(b.data, b.len, &q, &used), -EBADMSG);
        buf_free(&b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_note_spec_vector),
            cmocka_unit_test(test_note_go_vector),
            cmocka_unit_test(test_note_negative),
            cmocka_unit_test(test_vkey_negative),
            cmocka_unit_test(test_cosignature),
            cmocka_unit_test(test_merkle_roots),
            cmocka_unit_test(test_merkle_proof_vectors),
            cmocka_unit_test(test_merkle_proofs_exhaustive),
            cmocka_unit_test(test_merkle_compact),
            cmocka_unit_test(test_time),
            cmocka_unit_test(test_entry),
            cmocka_unit_test(test_checkpoint),
            cmocka_unit_test(test_proof_block),
        };
        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
