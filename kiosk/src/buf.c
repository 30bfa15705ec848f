/* Bounded growable buffers. */
#include "util.h"

#include <string.h>

#define BUF_DEFAULT_LIMIT ((size_t)64 << 20)

/* Initialise @b with a capacity limit (0: 64 MiB). */
void buf_init(struct mg_buf *b, size_t limit)
{
        *b = (struct mg_buf){.limit = limit ? limit : BUF_DEFAULT_LIMIT};
}

/* Release @b's memory. */
void buf_free(struct mg_buf *b)
{
        free(b->data);
        b->data = NULL;
        b->len = b->cap = 0;
}

/* Make room for @n more bytes plus the terminating NUL. */
static int buf_reserve(struct mg_buf *b, size_t n)
{
        if (b->err)
                return b->err;
        if (n > b->limit || b->len > b->limit - n) {
                b->err = -E2BIG;
                return b->err;
        }
        size_t need = b->len + n + 1;
        if (need <= b->cap)
                return 0;
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need)
                cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p) {
                b->err = -ENOMEM;
                return b->err;
        }
        b->data = p;
        b->cap = cap;
        return 0;
}

/* Append @n bytes. */
int buf_append(struct mg_buf *b, const void *p, size_t n)
{
        int r = buf_reserve(b, n);
        if (r < 0)
                return r;
        if (n)
                memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = 0;
        return 0;
}

/* Append a NUL-terminated string. */
int buf_puts(struct mg_buf *b, const char *s)
{
        return buf_append(b, s, strlen(s));
}

/* Append formatted text. */
int buf_vprintf(struct mg_buf *b, const char *fmt, va_list ap)
{
        va_list aq;
        va_copy(aq, ap);
        int n = vsnprintf(NULL, 0, fmt, aq);
        va_end(aq);
        if (n < 0) {
                b->err = b->err ? b->err : -EINVAL;
                return b->err;
        }
        int r = buf_reserve(b, (size_t)n);
        if (r < 0)
                return r;
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        b->len += (size_t)n;
        return 0;
}

/* Append formatted text. */
int buf_printf(struct mg_buf *b, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = buf_vprintf(b, fmt, ap);
        va_end(ap);
        return r;
}

/* Hand the string to the caller. */
char *buf_steal(struct mg_buf *b)
{
        if (b->err) {
                buf_free(b);
                return NULL;
        }
        if (!b->data && buf_reserve(b, 0) < 0)
                return NULL;
        b->data[b->len] = 0;
        char *s = b->data;
        b->data = NULL;
        b->len = b->cap = 0;
        return s;
}
