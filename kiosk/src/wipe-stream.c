/* The wipe pattern: a keyed AES-256-CTR stream indexed by block, each block tagged with its number;
 * and the NIST 800-88 sample plan. */
#include <endian.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/random.h>

#include "wipe-internal.h"

/* 64 KiB of zeroes: the plaintext the stream encrypts. */
static const uint8_t wipe_zeroes[64 << 10];

/* Fill @buf with @len bytes from the kernel CSPRNG. */
static int wipe_getrandom(void *buf, size_t len)
{
        uint8_t *p = buf;
        for (unsigned tries = 0; len > 0 && tries < 64; tries++) {
                ssize_t n = getrandom(p, len, 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t)n;
        }
        return len ? -EIO : 0;
}

/* Set up a stream with a fresh random key, nonce and wipe id. */
int wipe_stream_init(struct wipe_stream *s)
{
        uint8_t key[32], nonce[8];
        uint64_t id;
        int r = wipe_getrandom(key, sizeof(key));
        if (r >= 0)
                r = wipe_getrandom(nonce, sizeof(nonce));
        if (r >= 0)
                r = wipe_getrandom(&id, sizeof(id));
        if (r >= 0)
                r = wipe_stream_init_key(s, key, nonce, id);
        explicit_bzero(key, sizeof(key));
        return r;
}

/* Set up a stream with a given key. */
int wipe_stream_init_key(struct wipe_stream *s, const uint8_t key[32], const uint8_t nonce[8],
                         uint64_t wipe_id)
{
        EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        if (!ctx)
                return -ENOMEM;
        memcpy(s->key, key, 32);
        memcpy(s->nonce, nonce, 8);
        s->wipe_id = wipe_id;
        s->ctx = ctx;
        return 0;
}

/* Free a stream and wipe its key. */
void wipe_stream_free(struct wipe_stream *s)
{
        if (s->ctx)
                EVP_CIPHER_CTX_free(s->ctx);
        explicit_bzero(s, sizeof(*s));
}

/* Fill @buf with the pattern of device bytes [@off, @off + @len). */
int wipe_stream_fill(struct wipe_stream *s, uint64_t off, uint8_t *buf, size_t len)
{
        if (off % WIPE_BLOCK || !s->ctx)
                return -EINVAL;
        uint8_t iv[16];
        uint64_t ctr = htobe64(off / 16);
        memcpy(iv, s->nonce, 8);
        memcpy(iv + 8, &ctr, 8);
        if (EVP_EncryptInit_ex(s->ctx, EVP_aes_256_ctr(), NULL, s->key, iv) != 1)
                return -EIO;
        for (size_t done = 0; done < len;) {
                size_t n = MG_MIN(len - done, sizeof(wipe_zeroes));
                int outl = 0;
                if (EVP_EncryptUpdate(s->ctx, buf + done, &outl, wipe_zeroes, (int)n) != 1 ||
                    (size_t)outl != n)
                        return -EIO;
                done += n;
        }
        /* Tag every block with its number and the wipe id. */
        uint64_t id = htole64(s->wipe_id);
        for (size_t b = 0; b < len; b += WIPE_BLOCK) {
                uint64_t no = htole64((off + b) / WIPE_BLOCK);
                size_t room = len - b;
                uint8_t hdr[WIPE_HDR];
                memcpy(hdr, &no, 8);
                memcpy(hdr + 8, &id, 8);
                memcpy(buf + b, hdr, MG_MIN(room, sizeof(hdr)));
        }
        return 0;
}

/* Compare regions by offset. */
static int wipe_region_cmp(const void *a, const void *b)
{
        const struct wipe_region *x = a, *y = b;
        return x->off < y->off ? -1 : x->off > y->off;
}

/* A uniform random number in [0, n) from the kernel CSPRNG (n > 0). */
static int wipe_uniform(uint64_t n, uint64_t *ret)
{
        uint64_t lim = UINT64_MAX - UINT64_MAX % n, v;
        for (unsigned i = 0; i < 64; i++) {
                int r = wipe_getrandom(&v, sizeof(v));
                if (r < 0)
                        return r;
                if (v < lim) {
                        *ret = v % n;
                        return 0;
                }
        }
        return -EIO;
}

/* Build the NIST 800-88 sample plan: in each of >= 1000 subsections two non-overlapping
 * pseudorandom samples of >= 5% of it, plus the first and last locations. */
int wipe_sample_plan(uint64_t size, struct wipe_region **ret, size_t *ret_n, unsigned *ret_n_sub)
{
        const uint64_t nsub = WIPE_SAMPLE_SUBSECT;
        uint64_t sub = size / nsub / WIPE_BLOCK * WIPE_BLOCK;
        /* Each half of a subsection must hold a sample with room to move. */
        if (sub < 8 * WIPE_BLOCK) {
                *ret = NULL;
                *ret_n = 0;
                *ret_n_sub = 0;
                return 0;
        }
        uint64_t slen = (sub * 5 + 99) / 100;
        slen = (slen + WIPE_BLOCK - 1) / WIPE_BLOCK * WIPE_BLOCK;
        uint64_t half = sub / 2 / WIPE_BLOCK * WIPE_BLOCK;
        size_t n = (size_t)nsub * 2 + 2;
        _cleanup_free_ struct wipe_region *rg = calloc(n, sizeof(*rg));
        if (!rg)
                return -ENOMEM;
        size_t k = 0;
        for (uint64_t i = 0; i < nsub; i++) {
                uint64_t base = i * sub;
                for (int h = 0; h < 2; h++) {
                        uint64_t lo = base + (uint64_t)h * half;
                        uint64_t hi = h ? base + sub : base + half; /* exclusive */
                        uint64_t slots = (hi - lo - slen) / WIPE_BLOCK + 1;
                        uint64_t pick;
                        int r = wipe_uniform(slots, &pick);
                        if (r < 0)
                                return r;
                        rg[k++] = (struct wipe_region){lo + pick * WIPE_BLOCK, slen};
                }
        }
        /* First and last locations (the last may be a partial block). */
        rg[k++] = (struct wipe_region){0, slen};
        uint64_t last = size > slen ? (size - slen) / WIPE_BLOCK * WIPE_BLOCK : 0;
        rg[k++] = (struct wipe_region){last, size - last};
        qsort(rg, k, sizeof(*rg), wipe_region_cmp);
        /* Merge overlapping or touching regions. */
        size_t m = 0;
        for (size_t i = 0; i < k; i++) {
                if (m > 0 && rg[i].off <= rg[m - 1].off + rg[m - 1].len) {
                        uint64_t end = MG_MAX(rg[m - 1].off + rg[m - 1].len, rg[i].off + rg[i].len);
                        rg[m - 1].len = end - rg[m - 1].off;
                } else {
                        rg[m++] = rg[i];
                }
        }
        *ret = TAKE_PTR(rg);
        *ret_n = m;
        *ret_n_sub = (unsigned)nsub;
        return 0;
}
