/* Escaping of untrusted strings before they reach a log, a report or the screen. */
#include <mediagate/escape.h>

#include <string.h>

#include "util.h"

/* Decode one strict UTF-8 sequence at @s (at most @n bytes); return its length or 0 if invalid. */
static size_t escape_utf8_decode(const unsigned char *s, size_t n, uint32_t *ret_cp)
{
        uint32_t cp;
        size_t len;
        if (s[0] < 0x80) {
                *ret_cp = s[0];
                return 1;
        } else if ((s[0] & 0xe0) == 0xc0) {
                cp = s[0] & 0x1f;
                len = 2;
        } else if ((s[0] & 0xf0) == 0xe0) {
                cp = s[0] & 0x0f;
                len = 3;
        } else if ((s[0] & 0xf8) == 0xf0) {
                cp = s[0] & 0x07;
                len = 4;
        } else {
                return 0;
        }
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        *ret_cp = cp;
        return len;
}

/* True for code points that must not reach a screen as they are. */
static bool escape_cp_is_unsafe(uint32_t cp)
{
        return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c ||
               (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
               (cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb) ||
               (cp >= 0xe0000 && cp <= 0xe007f);
}

/* Append @len bytes of @s to @b, escaped. */
int buf_escape(struct mg_buf *b, const char *s, size_t len)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t i = 0;
        while (i < len && !b->err) {
                uint32_t cp;
                size_t n = escape_utf8_decode(p + i, len - i, &cp);
                if (n == 0) {
                        buf_printf(b, "\\x%02x", p[i]);
                        i++;
                } else if (cp == '\\') {
                        buf_puts(b, "\\\\");
                        i++;
                } else if (escape_cp_is_unsafe(cp)) {
                        if (cp < 0x80)
                                buf_printf(b, "\\x%02x", (unsigned)cp);
                        else
                                buf_printf(b, "\\u{%04x}", (unsigned)cp);
                        i += n;
                } else {
                        buf_append(b, p + i, n);
                        i += n;
                }
        }
        return b->err;
}

/* Escape a byte string into a new string, cut at @max_out bytes. */
char *mg_escape(const char *s, size_t len, size_t max_out)
{
        struct mg_buf b;
        buf_init(&b, 0);
        if (!s) {
                s = "";
                len = 0;
        }
        /* every input byte yields at least one output byte: no need to read past the limit */
        bool truncated = false;
        if (max_out && len > max_out + 4) {
                len = max_out + 4;
                truncated = true;
        }
        buf_escape(&b, s, len);
        if (!b.err && max_out && (b.len > max_out || truncated)) {
                size_t cut = MG_MIN(b.len, max_out);
                while (cut > 0 && ((unsigned char)b.data[cut] & 0xc0) == 0x80)
                        cut--;
                b.len = cut;
                b.data[cut] = 0;
                buf_puts(&b, "...");
        }
        char *r = buf_steal(&b);
        if (!r)
                errno = ENOMEM;
        return r;
}

/* Escape a NUL-terminated string. */
char *mg_escape_str(const char *s)
{
        return mg_escape(s, s ? strlen(s) : 0, 0);
}
