/* Internal helpers shared by the modules of libmediagate: ownership and bounded buffers. */
#ifndef MG_UTIL_H
#define MG_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define MG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MG_MIN(a, b)     ((a) < (b) ? (a) : (b))
#define MG_MAX(a, b)     ((a) > (b) ? (a) : (b))
/* @x rounded up to a multiple of @a, a power of two */
#define MG_ALIGN_UP(x, a) (((x) + (a)-1) & ~((a)-1))

/* Free *p. */
static inline void mg_freep(void *p)
{
        free(*(void **)p);
}

/* Close *fd if it is open, keeping errno. */
static inline void mg_closep(int *fd)
{
        if (*fd >= 0) {
                int e = errno;
                close(*fd);
                errno = e;
        }
}

/* Close *f if it is open. */
static inline void mg_fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}

#define _cleanup_(f)     __attribute__((cleanup(f)))
#define _cleanup_free_   _cleanup_(mg_freep)
#define _cleanup_close_  _cleanup_(mg_closep)
#define _cleanup_fclose_ _cleanup_(mg_fclosep)

/* Return *pp and set it to NULL: hands ownership out of a cleanup variable. */
#define TAKE_PTR(p)                                                                                \
        ({                                                                                         \
                __typeof__(p) _tp = (p);                                                           \
                (p) = NULL;                                                                        \
                _tp;                                                                               \
        })

/* Return *fdp and set it to -1: hands a descriptor out of a cleanup variable. */
#define TAKE_FD(fd)                                                                                \
        ({                                                                                         \
                int _tf = (fd);                                                                    \
                (fd) = -1;                                                                         \
                _tf;                                                                               \
        })

/* A growable byte buffer with a hard capacity limit; always NUL-terminated. */
struct mg_buf {
        char *data;
        size_t len;
        size_t cap;
        size_t limit; /* 0: 64 MiB */
        int err;      /* first error (-ENOMEM or -E2BIG); later appends are no-ops */
};

void buf_init(struct mg_buf *b, size_t limit);
void buf_free(struct mg_buf *b);
int buf_append(struct mg_buf *b, const void *p, size_t n);
int buf_puts(struct mg_buf *b, const char *s);
int buf_printf(struct mg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct mg_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Take the buffer's string (caller frees); the buffer is left empty. NULL on a recorded error. */
char *buf_steal(struct mg_buf *b);

/* Append @len bytes of @s escaped as by mg_escape(). */
int buf_escape(struct mg_buf *b, const char *s, size_t len);

#endif
