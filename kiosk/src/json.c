/* Streaming JSON writer. */
#include "json.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

/* Initialise a writer appending to @b. */
void json_init(struct mg_json *j, struct mg_buf *b)
{
        *j = (struct mg_json){.b = b};
}

/* Emit the separator a new value needs. */
static void json_sep(struct mg_json *j)
{
        if (j->after_key) {
                j->after_key = false;
                return;
        }
        if (j->depth > 0 && j->need_comma[j->depth - 1])
                buf_puts(j->b, ",");
        if (j->depth > 0)
                j->need_comma[j->depth - 1] = true;
}

/* Open a container with @c. */
static void json_open(struct mg_json *j, const char *c)
{
        json_sep(j);
        buf_puts(j->b, c);
        if (j->depth >= JSON_MAX_DEPTH) {
                j->b->err = j->b->err ? j->b->err : -E2BIG;
                return;
        }
        j->need_comma[j->depth++] = false;
}

/* Close a container with @c. */
static void json_close(struct mg_json *j, const char *c)
{
        if (j->depth > 0)
                j->depth--;
        buf_puts(j->b, c);
}

void json_obj_begin(struct mg_json *j)
{
        json_open(j, "{");
}

void json_obj_end(struct mg_json *j)
{
        json_close(j, "}");
}

void json_arr_begin(struct mg_json *j)
{
        json_open(j, "[");
}

void json_arr_end(struct mg_json *j)
{
        json_close(j, "]");
}

/* Write @len bytes of @s as a JSON string body (quotes included). */
static void json_quote(struct mg_buf *b, const char *s, size_t len)
{
        buf_puts(b, "\"");
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c == '"')
                        buf_puts(b, "\\\"");
                else if (c == '\\')
                        buf_puts(b, "\\\\");
                else if (c == '\n')
                        buf_puts(b, "\\n");
                else if (c == '\t')
                        buf_puts(b, "\\t");
                else if (c < 0x20 || c == 0x7f)
                        buf_printf(b, "\\u%04x", c);
                else
                        buf_append(b, &c, 1);
        }
        buf_puts(b, "\"");
}

/* Write an object key. */
void json_key(struct mg_json *j, const char *key)
{
        json_sep(j);
        json_quote(j->b, key, strlen(key));
        buf_puts(j->b, ":");
        j->after_key = true;
}

void json_str(struct mg_json *j, const char *s)
{
        if (!s) {
                json_null(j);
                return;
        }
        json_sep(j);
        json_quote(j->b, s, strlen(s));
}

void json_str_untrusted(struct mg_json *j, const char *s, size_t len)
{
        if (!s) {
                json_null(j);
                return;
        }
        struct mg_buf e;
        buf_init(&e, 0);
        buf_escape(&e, s, len);
        if (e.err) {
                j->b->err = j->b->err ? j->b->err : e.err;
                buf_free(&e);
                return;
        }
        json_sep(j);
        json_quote(j->b, e.data ? e.data : "", e.len);
        buf_free(&e);
}

void json_int(struct mg_json *j, int64_t v)
{
        json_sep(j);
        buf_printf(j->b, "%" PRId64, v);
}

void json_uint(struct mg_json *j, uint64_t v)
{
        json_sep(j);
        buf_printf(j->b, "%" PRIu64, v);
}

void json_double(struct mg_json *j, double v)
{
        json_sep(j);
        if (!isfinite(v))
                buf_puts(j->b, "null");
        else
                buf_printf(j->b, "%.6g", v);
}

void json_bool(struct mg_json *j, bool v)
{
        json_sep(j);
        buf_puts(j->b, v ? "true" : "false");
}

void json_null(struct mg_json *j)
{
        json_sep(j);
        buf_puts(j->b, "null");
}

void json_kv_str(struct mg_json *j, const char *key, const char *s)
{
        json_key(j, key);
        json_str(j, s);
}

void json_kv_int(struct mg_json *j, const char *key, int64_t v)
{
        json_key(j, key);
        json_int(j, v);
}

void json_kv_uint(struct mg_json *j, const char *key, uint64_t v)
{
        json_key(j, key);
        json_uint(j, v);
}

void json_kv_double(struct mg_json *j, const char *key, double v)
{
        json_key(j, key);
        json_double(j, v);
}

void json_kv_bool(struct mg_json *j, const char *key, bool v)
{
        json_key(j, key);
        json_bool(j, v);
}
