/* RFC 6962 / RFC 9162 Merkle tree (SHA-256): roots, inclusion and consistency proofs. */
#include <sodium.h>
#include <string.h>

#include "ledger-internal.h"

/* Hash a leaf: SHA-256(0x00 || entry). */
void ledger_leaf_hash(const void *p, size_t n, ledger_hash out)
{
        crypto_hash_sha256_state st;
        const uint8_t zero = 0;
        crypto_hash_sha256_init(&st);
        crypto_hash_sha256_update(&st, &zero, 1);
        crypto_hash_sha256_update(&st, p, n);
        crypto_hash_sha256_final(&st, out);
}

/* Hash an interior node: SHA-256(0x01 || left || right). */
void ledger_node_hash(const ledger_hash l, const ledger_hash r, ledger_hash out)
{
        uint8_t m[1 + 2 * LEDGER_HASH_SIZE];
        m[0] = 1;
        memcpy(m + 1, l, LEDGER_HASH_SIZE);
        memcpy(m + 1 + LEDGER_HASH_SIZE, r, LEDGER_HASH_SIZE);
        crypto_hash_sha256(out, m, sizeof(m));
}

/* The largest power of two smaller than @n (n >= 2). */
static uint64_t merkle_split(uint64_t n)
{
        uint64_t k = 1;
        while (k << 1 < n)
                k <<= 1;
        return k;
}

/* Append a leaf to a compact range, merging equal-sized subtrees. */
void ledger_compact_append(struct ledger_compact *c, const ledger_hash leaf)
{
        ledger_hash h;
        memcpy(h, leaf, LEDGER_HASH_SIZE);
        /* Each trailing one bit of size is a perfect subtree that merges with the new one. */
        for (uint64_t s = c->size; (s & 1) && c->n > 0; s >>= 1) {
                ledger_node_hash(c->h[c->n - 1], h, h);
                c->n--;
        }
        memcpy(c->h[c->n], h, LEDGER_HASH_SIZE);
        c->n++;
        c->size++;
}

/* Fold a compact range into the root, right to left. */
void ledger_compact_root(const struct ledger_compact *c, ledger_hash out)
{
        if (c->n == 0) {
                crypto_hash_sha256(out, NULL, 0);
                return;
        }
        ledger_hash h;
        memcpy(h, c->h[c->n - 1], LEDGER_HASH_SIZE);
        for (unsigned i = c->n - 1; i > 0; i--)
                ledger_node_hash(c->h[i - 1], h, h);
        memcpy(out, h, LEDGER_HASH_SIZE);
}

/* Root of leaves[0..n): a compact range built left to right (O(n), O(log n) memory). */
void ledger_merkle_root(const ledger_hash *leaves, uint64_t n, ledger_hash out)
{
        struct ledger_compact c = {0};
        for (uint64_t i = 0; i < n; i++)
                ledger_compact_append(&c, leaves[i]);
        ledger_compact_root(&c, out);
}

/* PATH(m, D[0:n]) into proof[*len...], RFC 6962 section 2.1.1, recursion depth <= 64. */
static int merkle_path(const ledger_hash *d, uint64_t n, uint64_t m, ledger_hash *proof,
                       size_t *len)
{
        if (n <= 1)
                return 0;
        uint64_t k = merkle_split(n);
        ledger_hash sub;
        int r;
        if (m < k) {
                r = merkle_path(d, k, m, proof, len);
                ledger_merkle_root(d + k, n - k, sub);
        } else {
                r = merkle_path(d + k, n - k, m - k, proof, len);
                ledger_merkle_root(d, k, sub);
        }
        if (r < 0)
                return r;
        if (*len >= LEDGER_MAX_PROOF)
                return -E2BIG;
        memcpy(proof[(*len)++], sub, LEDGER_HASH_SIZE);
        return 0;
}

/* Inclusion proof for leaf @index in the tree of size @n. */
int ledger_merkle_inclusion(const ledger_hash *leaves, uint64_t n, uint64_t index,
                            ledger_hash *proof, size_t *ret_len)
{
        size_t len = 0;
        if (index >= n)
                return -EINVAL;
        int r = merkle_path(leaves, n, index, proof, &len);
        if (r < 0)
                return r;
        *ret_len = len;
        return 0;
}

/* SUBPROOF(m, D[0:n], b), RFC 6962 section 2.1.2. */
static int merkle_subproof(const ledger_hash *d, uint64_t n, uint64_t m, bool b, ledger_hash *proof,
                           size_t *len)
{
        ledger_hash sub;
        int r;
        if (m == n) {
                if (b)
                        return 0;
                if (*len >= LEDGER_MAX_PROOF)
                        return -E2BIG;
                ledger_merkle_root(d, n, proof[(*len)++]);
                return 0;
        }
        uint64_t k = merkle_split(n);
        if (m <= k) {
                r = merkle_subproof(d, k, m, b, proof, len);
                ledger_merkle_root(d + k, n - k, sub);
        } else {
                r = merkle_subproof(d + k, n - k, m - k, false, proof, len);
                ledger_merkle_root(d, k, sub);
        }
        if (r < 0)
                return r;
        if (*len >= LEDGER_MAX_PROOF)
                return -E2BIG;
        memcpy(proof[(*len)++], sub, LEDGER_HASH_SIZE);
        return 0;
}

/* Consistency proof between sizes @m and @n. */
int ledger_merkle_consistency(const ledger_hash *leaves, uint64_t n, uint64_t m, ledger_hash *proof,
                              size_t *ret_len)
{
        size_t len = 0;
        if (m == 0 || m > n)
                return -EINVAL;
        if (m < n) {
                int r = merkle_subproof(leaves, n, m, true, proof, &len);
                if (r < 0)
                        return r;
        }
        *ret_len = len;
        return 0;
}

/* Verify an inclusion proof, RFC 9162 section 2.1.3.2. */
int ledger_merkle_verify_inclusion(uint64_t index, uint64_t size, const ledger_hash leaf,
                                   const ledger_hash *proof, size_t len, const ledger_hash root)
{
        if (index >= size || len > LEDGER_MAX_PROOF)
                return -EBADMSG;
        uint64_t fn = index, sn = size - 1;
        ledger_hash r;
        memcpy(r, leaf, LEDGER_HASH_SIZE);
        for (size_t i = 0; i < len; i++) {
                if (sn == 0)
                        return -EBADMSG;
                if ((fn & 1) || fn == sn) {
                        ledger_node_hash(proof[i], r, r);
                        while (!(fn & 1) && fn != 0) {
                                fn >>= 1;
                                sn >>= 1;
                        }
                } else {
                        ledger_node_hash(r, proof[i], r);
                }
                fn >>= 1;
                sn >>= 1;
        }
        if (sn != 0 || sodium_memcmp(r, root, LEDGER_HASH_SIZE) != 0)
                return -EBADMSG;
        return 0;
}

/* Verify a consistency proof, RFC 9162 section 2.1.4.2. */
int ledger_merkle_verify_consistency(uint64_t size1, uint64_t size2, const ledger_hash root1,
                                     const ledger_hash root2, const ledger_hash *proof, size_t len)
{
        if (size1 > size2 || len > LEDGER_MAX_PROOF)
                return -EBADMSG;
        if (size1 == size2)
                return len == 0 && sodium_memcmp(root1, root2, LEDGER_HASH_SIZE) == 0 ? 0
                                                                                      : -EBADMSG;
        if (size1 == 0)
                return len == 0 ? 0 : -EBADMSG;
        if (len == 0)
                return -EBADMSG;
        /* Step 2: if size1 is a power of two, the path starts with root1. */
        const ledger_hash *p = proof;
        size_t n = len;
        ledger_hash first;
        bool pow2 = (size1 & (size1 - 1)) == 0;
        if (pow2)
                memcpy(first, root1, LEDGER_HASH_SIZE);
        else
                memcpy(first, p[0], LEDGER_HASH_SIZE);
        size_t start = pow2 ? 0 : 1;
        uint64_t fn = size1 - 1, sn = size2 - 1;
        while (fn & 1) {
                fn >>= 1;
                sn >>= 1;
        }
        ledger_hash fr, sr;
        memcpy(fr, first, LEDGER_HASH_SIZE);
        memcpy(sr, first, LEDGER_HASH_SIZE);
        for (size_t i = start; i < n; i++) {
                const uint8_t *c = p[i];
                if (sn == 0)
                        return -EBADMSG;
                if ((fn & 1) || fn == sn) {
                        ledger_node_hash(c, fr, fr);
                        ledger_node_hash(c, sr, sr);
                        while (!(fn & 1) && fn != 0) {
                                fn >>= 1;
                                sn >>= 1;
                        }
                } else {
                        ledger_node_hash(sr, c, sr);
                }
                fn >>= 1;
                sn >>= 1;
        }
        if (sn != 0 || sodium_memcmp(fr, root1, LEDGER_HASH_SIZE) != 0 ||
            sodium_memcmp(sr, root2, LEDGER_HASH_SIZE) != 0)
                return -EBADMSG;
        return 0;
}
