/* C2SP signed-note v1.0.0 and tlog-cosignature v1.0.1: base64, keys, notes, signatures. */
#include <sodium.h>
#include <string.h>

#include "ledger-internal.h"

#define NOTE_DASH     "\xe2\x80\x94 " /* U+2014 EM DASH, space */
#define NOTE_DASH_LEN 4
#define NOTE_MAX_SIG  6144 /* decoded signature bytes we accept (post-quantum room) */

/* Initialise libsodium once. */
static int note_sodium(void)
{
        return sodium_init() < 0 ? -EIO : 0;
}

/* Encode @n bytes as standard padded base64. */
void ledger_b64_encode(const uint8_t *p, size_t n, char *out, size_t out_size)
{
        sodium_bin2base64(out, out_size, p, n, sodium_base64_VARIANT_ORIGINAL);
}

/* Decode canonical standard base64; the encoding of the result must give back @s exactly. */
int ledger_b64_decode(const char *s, size_t len, uint8_t *out, size_t max, size_t *ret_len)
{
        size_t n = 0;
        if (len == 0 || len % 4 != 0 || len / 4 * 3 > max + 2)
                return -EINVAL;
        if (sodium_base642bin(out, max, s, len, NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL) < 0)
                return -EINVAL;
        char check[NOTE_MAX_SIG * 4 / 3 + 8];
        if (sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL) > sizeof(check))
                return -EINVAL;
        ledger_b64_encode(out, n, check, sizeof(check));
        if (strlen(check) != len || memcmp(check, s, len) != 0)
                return -EINVAL;
        if (ret_len)
                *ret_len = n;
        return 0;
}

/* Key names: non-empty, printable ASCII or UTF-8, no space, no '+', no control characters. */
bool ledger_name_valid(const char *name, size_t len)
{
        if (len == 0 || len > LEDGER_MAX_NAME || !ledger_text_valid(name, len))
                return false;
        for (size_t i = 0; i < len; i++)
                if (name[i] == ' ' || name[i] == '+' || name[i] == '\n')
                        return false;
        return true;
}

/* Compute a key ID. */
uint32_t ledger_key_id(const char *name, uint8_t type, const uint8_t pk[32])
{
        crypto_hash_sha256_state st;
        uint8_t h[32];
        const uint8_t nl = '\n';
        crypto_hash_sha256_init(&st);
        crypto_hash_sha256_update(&st, (const uint8_t *)name, strlen(name));
        crypto_hash_sha256_update(&st, &nl, 1);
        crypto_hash_sha256_update(&st, &type, 1);
        crypto_hash_sha256_update(&st, pk, 32);
        crypto_hash_sha256_final(&st, h);
        return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}

/* Parse exactly 8 lowercase hex digits. */
static int note_parse_hex32(const char *s, size_t len, uint32_t *ret)
{
        uint32_t v = 0;
        if (len != 8)
                return -EINVAL;
        for (size_t i = 0; i < 8; i++) {
                char c = s[i];
                unsigned d;
                if (c >= '0' && c <= '9')
                        d = (unsigned)(c - '0');
                else if (c >= 'a' && c <= 'f')
                        d = (unsigned)(c - 'a' + 10);
                else
                        return -EINVAL;
                v = v << 4 | d;
        }
        *ret = v;
        return 0;
}

/* Parse "name+hex+base64(type||32 bytes)" common to vkeys and private keys. */
static int note_parse_key_parts(const char *s, size_t len, char name[LEDGER_MAX_NAME + 1],
                                uint32_t *ret_id, uint8_t *ret_type, uint8_t key[32])
{
        if (!s || len == 0)
                return -EINVAL;
        const char *p1 = memchr(s, '+', len);
        if (!p1)
                return -EINVAL;
        size_t name_len = (size_t)(p1 - s);
        const char *rest = p1 + 1;
        size_t rest_len = len - name_len - 1;
        const char *p2 = memchr(rest, '+', rest_len);
        if (!p2 || !ledger_name_valid(s, name_len))
                return -EINVAL;
        uint32_t id;
        if (note_parse_hex32(rest, (size_t)(p2 - rest), &id) < 0)
                return -EINVAL;
        const char *b64 = p2 + 1;
        size_t b64_len = len - (size_t)(b64 - s);
        uint8_t raw[40];
        size_t n;
        if (ledger_b64_decode(b64, b64_len, raw, sizeof(raw), &n) < 0 || n != 33)
                return -EINVAL;
        memcpy(name, s, name_len);
        name[name_len] = 0;
        *ret_id = id;
        *ret_type = raw[0];
        memcpy(key, raw + 1, 32);
        sodium_memzero(raw, sizeof(raw));
        return 0;
}

/* Parse a verifier key. */
int ledger_vkey_parse(const char *s, size_t len, struct ledger_vkey *ret)
{
        struct ledger_vkey k = {0};
        if (note_sodium() < 0)
                return -EIO;
        if (len > 2 * LEDGER_MAX_NAME ||
            note_parse_key_parts(s, len, k.name, &k.id, &k.type, k.pk) < 0)
                return -EINVAL;
        if (k.type != LEDGER_SIG_ED25519 && k.type != LEDGER_SIG_COSIG)
                return -EINVAL;
        if (ledger_key_id(k.name, k.type, k.pk) != k.id)
                return -EINVAL;
        *ret = k;
        return 0;
}

/* Format a verifier key. */
int ledger_vkey_format(const struct ledger_vkey *k, struct mg_buf *b)
{
        uint8_t raw[33];
        char b64[64];
        raw[0] = k->type;
        memcpy(raw + 1, k->pk, 32);
        ledger_b64_encode(raw, sizeof(raw), b64, sizeof(b64));
        return buf_printf(b, "%s+%08x+%s", k->name, k->id, b64);
}

/* Derive a signing key from a seed. */
int ledger_skey_from_seed(const char *name, uint8_t type, const uint8_t seed[32],
                          struct ledger_skey *ret)
{
        if (note_sodium() < 0)
                return -EIO;
        size_t len = strlen(name);
        if (!ledger_name_valid(name, len))
                return -EINVAL;
        if (type != LEDGER_SIG_ED25519 && type != LEDGER_SIG_COSIG)
                return -EINVAL;
        struct ledger_skey k = {0};
        memcpy(k.v.name, name, len + 1);
        k.v.type = type;
        memcpy(k.seed, seed, 32);
        if (crypto_sign_seed_keypair(k.v.pk, k.sk, k.seed) != 0) {
                ledger_skey_wipe(&k);
                return -EIO;
        }
        k.v.id = ledger_key_id(k.v.name, type, k.v.pk);
        *ret = k;
        ledger_skey_wipe(&k);
        return 0;
}

/* Generate a new signing key from the system's randomness. */
int ledger_skey_generate(const char *name, uint8_t type, struct ledger_skey *ret)
{
        uint8_t seed[32];
        if (note_sodium() < 0)
                return -EIO;
        randombytes_buf(seed, sizeof(seed));
        int r = ledger_skey_from_seed(name, type, seed, ret);
        sodium_memzero(seed, sizeof(seed));
        return r;
}

/* Parse a private key text. */
int ledger_skey_parse(const char *s, size_t len, struct ledger_skey *ret)
{
        static const char prefix[] = "PRIVATE+KEY+";
        char name[LEDGER_MAX_NAME + 1];
        uint32_t id;
        uint8_t type, seed[32];
        while (s && len > 0 && s[len - 1] == '\n')
                len--;
        if (!s || len < sizeof(prefix) || len > 2 * LEDGER_MAX_NAME ||
            memcmp(s, prefix, sizeof(prefix) - 1) != 0)
                return -EINVAL;
        if (note_parse_key_parts(s + sizeof(prefix) - 1, len - (sizeof(prefix) - 1), name, &id,
                                 &type, seed) < 0)
                return -EINVAL;
        struct ledger_skey k;
        int r = ledger_skey_from_seed(name, type, seed, &k);
        sodium_memzero(seed, sizeof(seed));
        if (r < 0)
                return r;
        if (k.v.id != id) {
                ledger_skey_wipe(&k);
                return -EINVAL;
        }
        *ret = k;
        ledger_skey_wipe(&k);
        return 0;
}

/* Format a private key text. */
int ledger_skey_format(const struct ledger_skey *k, struct mg_buf *b)
{
        uint8_t raw[33];
        char b64[64];
        raw[0] = k->v.type;
        memcpy(raw + 1, k->seed, 32);
        ledger_b64_encode(raw, sizeof(raw), b64, sizeof(b64));
        int r = buf_printf(b, "PRIVATE+KEY+%s+%08x+%s", k->v.name, k->v.id, b64);
        sodium_memzero(raw, sizeof(raw));
        sodium_memzero(b64, sizeof(b64));
        return r;
}

/* Wipe a signing key. */
void ledger_skey_wipe(struct ledger_skey *k)
{
        sodium_memzero(k, sizeof(*k));
}

/* Strict UTF-8 without ASCII control characters (below U+0020) other than newline. */
bool ledger_text_valid(const char *s, size_t len)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t i = 0;
        while (i < len) {
                unsigned char c = p[i];
                if (c < 0x80) {
                        if (c < 0x20 && c != '\n')
                                return false;
                        i++;
                        continue;
                }
                size_t n;
                uint32_t cp;
                if ((c & 0xe0) == 0xc0) {
                        n = 2;
                        cp = c & 0x1f;
                } else if ((c & 0xf0) == 0xe0) {
                        n = 3;
                        cp = c & 0x0f;
                } else if ((c & 0xf8) == 0xf0) {
                        n = 4;
                        cp = c & 0x07;
                } else {
                        return false;
                }
                if (n > len - i)
                        return false;
                for (size_t j = 1; j < n; j++) {
                        if ((p[i + j] & 0xc0) != 0x80)
                                return false;
                        cp = cp << 6 | (p[i + j] & 0x3f);
                }
                static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
                if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                i += n;
        }
        return true;
}

/* Parse one signature line @s[0..len) (without its newline). */
static int note_parse_sig(const char *s, size_t len, struct ledger_sig *ret)
{
        if (len < NOTE_DASH_LEN || memcmp(s, NOTE_DASH, NOTE_DASH_LEN) != 0)
                return -EBADMSG;
        s += NOTE_DASH_LEN;
        len -= NOTE_DASH_LEN;
        const char *sp = memchr(s, ' ', len);
        if (!sp)
                return -EBADMSG;
        size_t name_len = (size_t)(sp - s);
        if (!ledger_name_valid(s, name_len))
                return -EBADMSG;
        const char *b64 = sp + 1;
        size_t b64_len = len - name_len - 1;
        if (b64_len > NOTE_MAX_SIG / 3 * 4 + 4)
                return -EBADMSG;
        uint8_t raw[NOTE_MAX_SIG + 4];
        size_t n;
        if (ledger_b64_decode(b64, b64_len, raw, sizeof(raw), &n) < 0 || n < 5)
                return -EBADMSG;
        ret->name = s;
        ret->name_len = name_len;
        ret->id = (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 | (uint32_t)raw[2] << 8 | raw[3];
        if (n - 4 <= sizeof(ret->sig)) {
                memcpy(ret->sig, raw + 4, n - 4);
                ret->sig_len = n - 4;
        } else {
                ret->sig_len = 0; /* too long for any type we verify: only an unknown key */
        }
        return 0;
}

/* Parse a signed note. */
int ledger_note_parse(const char *s, size_t len, struct ledger_note *ret)
{
        if (len < 3 || len > LEDGER_MAX_NOTE || s[len - 1] != '\n' || !ledger_text_valid(s, len))
                return -EBADMSG;
        /* The text ends at the last blank line. */
        size_t split = 0;
        bool found = false;
        for (size_t i = len - 1; i > 0; i--)
                if (s[i] == '\n' && s[i - 1] == '\n') {
                        split = i; /* s[split] is the blank line */
                        found = true;
                        break;
                }
        if (!found || split < 1)
                return -EBADMSG;
        struct ledger_note n = {.text = s, .text_len = split};
        size_t pos = split + 1;
        if (pos >= len)
                return -EBADMSG;
        while (pos < len) {
                const char *nl = memchr(s + pos, '\n', len - pos);
                if (!nl || n.n_sigs >= LEDGER_MAX_SIGS)
                        return -EBADMSG;
                size_t line_len = (size_t)(nl - (s + pos));
                if (note_parse_sig(s + pos, line_len, &n.sigs[n.n_sigs]) < 0)
                        return -EBADMSG;
                n.n_sigs++;
                pos += line_len + 1;
        }
        if (n.n_sigs == 0)
                return -EBADMSG;
        *ret = n;
        return 0;
}

/* Append "— name base64(id || sig)\n". */
static int note_append_sig(struct mg_buf *b, const char *name, uint32_t id, const uint8_t *sig,
                           size_t sig_len)
{
        uint8_t raw[4 + 72];
        char b64[sizeof(raw) * 4 / 3 + 8];
        if (sig_len > 72)
                return -EINVAL;
        raw[0] = (uint8_t)(id >> 24);
        raw[1] = (uint8_t)(id >> 16);
        raw[2] = (uint8_t)(id >> 8);
        raw[3] = (uint8_t)id;
        memcpy(raw + 4, sig, sig_len);
        ledger_b64_encode(raw, 4 + sig_len, b64, sizeof(b64));
        return buf_printf(b, NOTE_DASH "%s %s\n", name, b64);
}

/* Sign @text with Ed25519 and append the signature line. */
int ledger_note_sign(struct mg_buf *b, const char *text, size_t len, const struct ledger_skey *k)
{
        uint8_t sig[64];
        if (k->v.type != LEDGER_SIG_ED25519)
                return -EINVAL;
        if (crypto_sign_detached(sig, NULL, (const uint8_t *)text, len, k->sk) != 0)
                return -EIO;
        return note_append_sig(b, k->v.name, k->v.id, sig, sizeof(sig));
}

/* Is signature line @sg by key @k (name and ID)? */
static bool note_sig_matches(const struct ledger_sig *sg, const struct ledger_vkey *k)
{
        return sg->id == k->id && sg->name_len == strlen(k->name) &&
               memcmp(sg->name, k->name, sg->name_len) == 0;
}

/* Verify an Ed25519 signature of @n by @k. */
int ledger_note_verify(const struct ledger_note *n, const struct ledger_vkey *k)
{
        bool seen = false;
        if (k->type != LEDGER_SIG_ED25519)
                return -EINVAL;
        for (size_t i = 0; i < n->n_sigs; i++) {
                const struct ledger_sig *sg = &n->sigs[i];
                if (!note_sig_matches(sg, k))
                        continue;
                if (sg->sig_len != 64 ||
                    crypto_sign_verify_detached(sg->sig, (const uint8_t *)n->text, n->text_len,
                                                k->pk) != 0)
                        return -EBADMSG;
                seen = true;
        }
        return seen ? 0 : -ENOKEY;
}

/* Build the cosigned message: "cosignature/v1\ntime <ts>\n" || checkpoint text. */
static int note_cosig_message(struct mg_buf *m, const char *text, size_t len, uint64_t ts)
{
        buf_printf(m, "cosignature/v1\ntime %llu\n", (unsigned long long)ts);
        return buf_append(m, text, len);
}

/* Cosign a checkpoint text and append the cosignature line. */
int ledger_cosig_sign(struct mg_buf *b, const char *text, size_t len, const struct ledger_skey *k,
                      uint64_t timestamp)
{
        struct mg_buf m;
        uint8_t sig[72];
        if (k->v.type != LEDGER_SIG_COSIG || timestamp >= (uint64_t)1 << 63)
                return -EINVAL;
        buf_init(&m, LEDGER_MAX_NOTE + 64);
        int r = note_cosig_message(&m, text, len, timestamp);
        if (r < 0) {
                buf_free(&m);
                return r;
        }
        for (int i = 0; i < 8; i++)
                sig[i] = (uint8_t)(timestamp >> (56 - 8 * i));
        r = crypto_sign_detached(sig + 8, NULL, (const uint8_t *)m.data, m.len, k->sk) != 0 ? -EIO
                                                                                            : 0;
        buf_free(&m);
        if (r < 0)
                return r;
        return note_append_sig(b, k->v.name, k->v.id, sig, sizeof(sig));
}

/* Verify a cosignature of @n by @k. */
int ledger_cosig_verify(const struct ledger_note *n, const struct ledger_vkey *k,
                        uint64_t *ret_time)
{
        bool seen = false;
        uint64_t ts = 0;
        if (k->type != LEDGER_SIG_COSIG)
                return -EINVAL;
        for (size_t i = 0; i < n->n_sigs; i++) {
                const struct ledger_sig *sg = &n->sigs[i];
                if (!note_sig_matches(sg, k))
                        continue;
                if (sg->sig_len != 72)
                        return -EBADMSG;
                uint64_t t = 0;
                for (int j = 0; j < 8; j++)
                        t = t << 8 | sg->sig[j];
                if (t >= (uint64_t)1 << 63)
                        return -EBADMSG;
                struct mg_buf m;
                buf_init(&m, LEDGER_MAX_NOTE + 64);
                int r = note_cosig_message(&m, n->text, n->text_len, t);
                if (r == 0 && crypto_sign_verify_detached(sg->sig + 8, (const uint8_t *)m.data,
                                                          m.len, k->pk) != 0)
                        r = -EBADMSG;
                buf_free(&m);
                if (r < 0)
                        return -EBADMSG;
                seen = true;
                ts = t;
        }
        if (!seen)
                return -ENOKEY;
        if (ret_time)
                *ret_time = ts;
        return 0;
}
