/* A small streaming JSON writer on top of struct mg_buf. */
#ifndef MG_JSON_H
#define MG_JSON_H

#include "util.h"

#define JSON_MAX_DEPTH 32

struct mg_json {
        struct mg_buf *b;
        int depth;
        bool need_comma[JSON_MAX_DEPTH];
        bool after_key;
};

void json_init(struct mg_json *j, struct mg_buf *b);
void json_obj_begin(struct mg_json *j);
void json_obj_end(struct mg_json *j);
void json_arr_begin(struct mg_json *j);
void json_arr_end(struct mg_json *j);
void json_key(struct mg_json *j, const char *key);
/* A trusted UTF-8 string (JSON escaping only). */
void json_str(struct mg_json *j, const char *s);
/* Untrusted bytes: escaped with mg_escape() rules first, so invalid UTF-8 and disguising
 * characters appear as \xNN / \u{XXXX} text and a literal backslash as two. */
void json_str_untrusted(struct mg_json *j, const char *s, size_t len);
void json_int(struct mg_json *j, int64_t v);
void json_uint(struct mg_json *j, uint64_t v);
void json_double(struct mg_json *j, double v);
void json_bool(struct mg_json *j, bool v);
void json_null(struct mg_json *j);

/* Shorthands for "key": value. */
void json_kv_str(struct mg_json *j, const char *key, const char *s);
void json_kv_int(struct mg_json *j, const char *key, int64_t v);
void json_kv_uint(struct mg_json *j, const char *key, uint64_t v);
void json_kv_double(struct mg_json *j, const char *key, double v);
void json_kv_bool(struct mg_json *j, const char *key, bool v);

#endif
