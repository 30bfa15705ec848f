/* Helpers shared by the wipe integration tests: images, running wipes, reading certificates. */
#ifndef TEST_WIPE_UTIL_H
#define TEST_WIPE_UTIL_H

#include <fcntl.h>
#include <json-c/json.h>
#include <mediagate/wipe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <errno.h>
#include <time.h>

#include "testutil.h"
#include "util.h"

/* Create @path of @size bytes filled with @fill. */
static inline void wu_image(const char *path, uint64_t size, int fill)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        static uint8_t buf[1 << 20];
        memset(buf, fill, sizeof(buf));
        for (uint64_t off = 0; off < size;) {
                size_t n = (size_t)(size - off < sizeof(buf) ? size - off : sizeof(buf));
                assert_int_equal(pwrite(fd, buf, n, (off_t)off), (ssize_t)n);
                off += n;
        }
        assert_int_equal(fsync(fd), 0);
        close(fd);
}

/* Look up a dotted path ("device.serial") in a JSON object; fails the test if missing. */
static inline json_object *wu_get(json_object *o, const char *path)
{
        char key[128];
        const char *p = path;
        while (*p) {
                size_t n = strcspn(p, ".");
                assert_true(n < sizeof(key));
                memcpy(key, p, n);
                key[n] = '\0';
                json_object *next = NULL;
                if (!json_object_object_get_ex(o, key, &next))
                        fail_msg("certificate has no field '%s'", path);
                o = next;
                p += n;
                if (*p == '.')
                        p++;
        }
        return o;
}

static inline int64_t wu_int(json_object *o, const char *path)
{
        json_object *v = wu_get(o, path);
        if (!json_object_is_type(v, json_type_int))
                fail_msg("field '%s' is not an integer", path);
        return json_object_get_int64(v);
}

static inline const char *wu_str(json_object *o, const char *path)
{
        json_object *v = wu_get(o, path);
        if (!json_object_is_type(v, json_type_string))
                fail_msg("field '%s' is not a string", path);
        return json_object_get_string(v);
}

static inline bool wu_bool(json_object *o, const char *path)
{
        json_object *v = wu_get(o, path);
        if (!json_object_is_type(v, json_type_boolean))
                fail_msg("field '%s' is not a boolean", path);
        return json_object_get_boolean(v);
}

static inline bool wu_null(json_object *o, const char *path)
{
        return json_object_is_type(wu_get(o, path), json_type_null);
}

/* Parse certificate text; fails the test on malformed JSON. */
static inline json_object *wu_parse(const char *s)
{
        assert_non_null(s);
        json_tokener *tok = json_tokener_new();
        json_object *o = json_tokener_parse_ex(tok, s, (int)strlen(s));
        bool ok = o && json_tokener_get_error(tok) == json_tokener_success;
        json_tokener_free(tok);
        if (!ok)
                fail_msg("certificate is not valid JSON: %.200s", s);
        return o;
}

struct wu_opts {
        enum mg_wipe_method method;
        enum mg_wipe_verify verify;
        unsigned flags;
        size_t io_size;
        mg_wipe_progress_fn progress;
        void *progress_ud;
        const char *ledger;
        const char *operator_name;
        const char *pdf;
};

/* Run a wipe in this process; returns its certificate. *ret_erased if not NULL. */
static inline json_object *wu_wipe(const char *target, const struct wu_opts *o, bool *ret_erased)
{
        struct mg_wipe *w = NULL;
        assert_int_equal(mg_wipe_new(target, &w), 0);
        mg_wipe_set_method(w, o->method);
        mg_wipe_set_verify(w, o->verify);
        mg_wipe_set_flags(w, o->flags | MG_WIPE_FORCE_IMAGE);
        if (o->io_size)
                assert_int_equal(mg_wipe_set_io_size(w, o->io_size), 0);
        if (o->progress)
                mg_wipe_set_progress(w, o->progress, o->progress_ud);
        if (o->ledger)
                assert_int_equal(mg_wipe_set_ledger(w, o->ledger), 0);
        if (o->operator_name)
                assert_int_equal(mg_wipe_set_operator(w, o->operator_name), 0);
        bool erased = false;
        assert_int_equal(mg_wipe_run(w, &erased), 0);
        /* A wipe runs once. */
        assert_int_equal(mg_wipe_run(w, NULL), -EALREADY);
        char *s = NULL;
        assert_int_equal(mg_wipe_certificate_json(w, &s), 0);
        if (o->pdf)
                assert_int_equal(mg_wipe_certificate_pdf(w, o->pdf), 0);
        uint64_t index = 0;
        int lr = mg_wipe_ledger_entry(w, &index, NULL);
        mg_wipe_free(w);
        json_object *j = wu_parse(s);
        free(s);
        if (!o->ledger) {
                assert_int_equal(lr, -ENOENT);
        } else {
                assert_int_equal(lr, 0);
                assert_int_equal(wu_int(j, "ledger.index"), index);
        }
        assert_int_equal(strcmp(wu_str(j, "status"), erased ? "erased" : "failed"), 0);
        if (ret_erased)
                *ret_erased = erased;
        return j;
}

/* Run the CLI with @env and @args, capture stdout; returns the exit status. */
static inline int wu_cli(char **ret_out, const char *env, const char *args)
{
        int status = -1;
        char *out = tu_sh_output(&status, "%s %s %s", env ? env : "", MG_CLI, args);
        assert_non_null(out);
        if (ret_out)
                *ret_out = out;
        else
                free(out);
        return status;
}

/* Does the bad-range list hold [off, off+len) of @kind exactly? */
static inline bool wu_has_range(json_object *j, uint64_t off, uint64_t len, const char *kind)
{
        json_object *a = wu_get(j, "bad_ranges");
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                json_object *r = json_object_array_get_idx(a, i);
                if ((uint64_t)wu_int(r, "offset") == off && (uint64_t)wu_int(r, "length") == len &&
                    !strcmp(wu_str(r, "kind"), kind))
                        return true;
        }
        return false;
}

#endif
