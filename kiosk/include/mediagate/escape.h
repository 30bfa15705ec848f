/* mediagate: escaping of untrusted strings (file names, labels, USB strings). */
#ifndef MEDIAGATE_ESCAPE_H
#define MEDIAGATE_ESCAPE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Escape @len bytes of @s for display or logging. Printable UTF-8 passes through; a backslash
 * becomes "\\"; control characters, invalid UTF-8, and characters that can disguise text on a
 * screen (bidirectional overrides, zero-width characters, the BOM) become "\xNN" or "\u{XXXX}".
 * The result is unambiguous, NUL-free and at most 4 * @len + 16 bytes (a longer input is cut at
 * @max_out bytes and marked with "..."). Returns a malloc'd string, or NULL with errno ENOMEM.
 */
char *mg_escape(const char *s, size_t len, size_t max_out);

/* As mg_escape() for a NUL-terminated string, with no output limit beyond 4 * strlen + 16. */
char *mg_escape_str(const char *s);

#ifdef __cplusplus
}
#endif
#endif
