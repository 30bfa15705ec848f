/* The wipe module: options, the run (crypto-erase, passes, verification) and the record. */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "wipe-internal.h"

static const char *const wipe_method_names[] = {
    [MG_WIPE_RANDOM] = "random",
    [MG_WIPE_ZERO] = "zero",
    [MG_WIPE_RANDOM_ZERO] = "random+zero",
};

static const char *const wipe_verify_names[] = {
    [MG_WIPE_VERIFY_FULL] = "full",
    [MG_WIPE_VERIFY_SAMPLE] = "sample",
    [MG_WIPE_VERIFY_OFF] = "off",
};

/* Parse a method name. */
int mg_wipe_method_from_string(const char *s, enum mg_wipe_method *ret)
{
        for (size_t i = 0; s && i < MG_ARRAY_SIZE(wipe_method_names); i++)
                if (!strcmp(s, wipe_method_names[i])) {
                        *ret = (enum mg_wipe_method)i;
                        return 0;
                }
        return -EINVAL;
}

/* Parse a verify mode name. */
int mg_wipe_verify_from_string(const char *s, enum mg_wipe_verify *ret)
{
        for (size_t i = 0; s && i < MG_ARRAY_SIZE(wipe_verify_names); i++)
                if (!strcmp(s, wipe_verify_names[i])) {
                        *ret = (enum mg_wipe_verify)i;
                        return 0;
                }
        return -EINVAL;
}

/* Name a method. */
const char *mg_wipe_method_to_string(enum mg_wipe_method m)
{
        return (unsigned)m < MG_ARRAY_SIZE(wipe_method_names) ? wipe_method_names[m] : "?";
}

/* Name a verify mode. */
const char *mg_wipe_verify_to_string(enum mg_wipe_verify v)
{
        return (unsigned)v < MG_ARRAY_SIZE(wipe_verify_names) ? wipe_verify_names[v] : "?";
}

/* Create a wipe of @target. */
int mg_wipe_new(const char *target, struct mg_wipe **ret)
{
        if (!target || !*target || !ret)
                return -EINVAL;
        struct mg_wipe *w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->target = strdup(target);
        if (!w->target) {
                free(w);
                return -ENOMEM;
        }
        w->fd = w->fd_buffered = -1;
        w->io_size = WIPE_IO_DEFAULT;
        pthread_mutex_init(&w->lock, NULL);
        *ret = w;
        return 0;
}

/* Free a wipe and its key. */
void mg_wipe_free(struct mg_wipe *w)
{
        if (!w)
                return;
        wipe_target_close(w);
        wipe_stream_free(&w->stream);
        pthread_mutex_destroy(&w->lock);
        free(w->target);
        free(w->operator_name);
        free(w->ledger_path);
        explicit_bzero(w, sizeof(*w));
        free(w);
}

/* Choose the method. */
void mg_wipe_set_method(struct mg_wipe *w, enum mg_wipe_method m)
{
        w->method = m;
}

/* Choose the verification. */
void mg_wipe_set_verify(struct mg_wipe *w, enum mg_wipe_verify v)
{
        w->verify = v;
}

/* Set MG_WIPE_* flags. */
void mg_wipe_set_flags(struct mg_wipe *w, unsigned flags)
{
        w->flags = flags;
}

/* Route log messages to @fn. */
void mg_wipe_set_log(struct mg_wipe *w, mg_log_fn fn, void *userdata)
{
        w->log = fn;
        w->log_ud = userdata;
}

/* Route progress reports to @fn. */
void mg_wipe_set_progress(struct mg_wipe *w, mg_wipe_progress_fn fn, void *userdata)
{
        w->progress = fn;
        w->progress_ud = userdata;
}

/* Replace the string *@dst with a copy of @s (NULL clears it). */
static int wipe_set_str(char **dst, const char *s)
{
        char *c = NULL;
        if (s && !(c = strdup(s)))
                return -ENOMEM;
        free(*dst);
        *dst = c;
        return 0;
}

/* Record who runs the wipe. */
int mg_wipe_set_operator(struct mg_wipe *w, const char *name)
{
        return wipe_set_str(&w->operator_name, name);
}

/* Record the WIPE entry in the ledger at @path. */
int mg_wipe_set_ledger(struct mg_wipe *w, const char *path)
{
        return wipe_set_str(&w->ledger_path, path);
}

/* Set the size of each I/O request. */
int mg_wipe_set_io_size(struct mg_wipe *w, size_t bytes)
{
        if (bytes < WIPE_SPLIT || bytes > WIPE_IO_MAX || bytes % WIPE_SPLIT)
                return -EINVAL;
        w->io_size = bytes;
        return 0;
}

/* Ask a running wipe to stop (async-signal-safe). */
void mg_wipe_cancel(struct mg_wipe *w)
{
        w->cancel = 1;
}

/* The WIPE ledger entry of a finished wipe. */
int mg_wipe_ledger_entry(const struct mg_wipe *w, uint64_t *ret_index, uint8_t ret_leaf_hash[32])
{
        if (!w || w->status == WIPE_NONE)
                return -EINVAL;
        if (!w->ledger_path)
                return -ENOENT;
        if (!w->ledger_done)
                return w->ledger_err < 0 ? w->ledger_err : -EIO;
        if (ret_index)
                *ret_index = w->ledger_index;
        if (ret_leaf_hash)
                memcpy(ret_leaf_hash, w->ledger_leaf, 32);
        return 0;
}

/* Log through the wipe's callback. */
void wipe_log(struct mg_wipe *w, enum mg_log_level level, const char *fmt, ...)
{
        if (!w->log)
                return;
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        w->log(w->log_ud, level, msg);
}

/* Set the failure reason once (the first cause wins). */
static void wipe_fail(struct mg_wipe *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void wipe_fail(struct mg_wipe *w, const char *fmt, ...)
{
        w->status = WIPE_FAILED;
        if (w->failure[0])
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->failure, sizeof(w->failure), fmt, ap);
        va_end(ap);
}

/* Turn a pass's error into the failure reason. */
static void wipe_fail_errno(struct mg_wipe *w, int r, const char *what)
{
        if (r == -ECANCELED)
                wipe_fail(w, "cancelled during the %s", what);
        else
                wipe_fail(w, "%s stopped: %s", what, strerror(-r));
}

/* Does the full verify of a tagged pass show a medium that keeps nothing past some point (writes
 * beyond its real size lost): one run of differing blocks from there to the end, 1 MiB or more?
 * Then *ret_usable is where it starts. */
static bool wipe_lost_tail(const struct mg_wipe *w, const struct wipe_pass *p, uint64_t *ret_usable)
{
        if (strcmp(p->pattern, "random") || p->verify != MG_WIPE_VERIFY_FULL || !p->verified ||
            w->read_errors || w->n_ranges_total != 1 || w->n_ranges != 1)
                return false;
        const struct wipe_range *r = &w->ranges[0];
        if (r->op != 'v' || r->off == 0 || r->off + r->len != w->size || r->len < (1u << 20))
                return false;
        *ret_usable = r->off;
        return true;
}

/* Run the passes of the method and judge the result. */
static void wipe_run_passes(struct mg_wipe *w)
{
        for (unsigned i = 0; i < w->n_passes; i++) {
                struct wipe_pass *p = &w->passes[i];
                int r = wipe_io_write_pass(w, p, i + 1);
                if (r < 0) {
                        wipe_fail_errno(w, r, "write");
                        return;
                }
                if (w->write_errors) {
                        wipe_fail(w, "write errors: the medium must be destroyed");
                        return;
                }
                if (p->verify == MG_WIPE_VERIFY_OFF)
                        continue;
                r = wipe_io_verify_pass(w, p, i + 1);
                if (p->aliased_blocks) {
                        w->fake_capacity = true;
                        w->usable_size = MG_MIN(w->min_alias_distance, w->size);
                        wipe_fail(w,
                                  "fake capacity: blocks come back with other blocks' data; "
                                  "real usable size about %" PRIu64 " bytes",
                                  w->usable_size);
                        return;
                }
                if (r < 0) {
                        wipe_fail_errno(w, r, "verify");
                        return;
                }
                if (w->read_errors) {
                        wipe_fail(w, "read errors during verify: the medium must be destroyed");
                        return;
                }
                uint64_t usable;
                if (!p->verify_ok && wipe_lost_tail(w, p, &usable)) {
                        w->fake_capacity = true;
                        w->usable_size = usable;
                        wipe_fail(w,
                                  "fake capacity: nothing written past %" PRIu64
                                  " bytes reads back; real usable size about that",
                                  usable);
                        return;
                }
                if (!p->verify_ok) {
                        wipe_fail(w,
                                  "verify found %" PRIu64 " block(s) that differ from what "
                                  "was written",
                                  p->mismatched_blocks);
                        return;
                }
        }
}

/* Run the wipe. */
int mg_wipe_run(struct mg_wipe *w, bool *ret_erased)
{
        if (!w || w->status != WIPE_NONE || w->fd >= 0)
                return -EALREADY;
        int r = wipe_ledger_check(w);
        if (r < 0)
                return r;
        r = wipe_target_open(w);
        if (r < 0)
                return r;
        r = wipe_stream_init(&w->stream);
        if (r < 0) {
                wipe_target_close(w);
                return r;
        }
        w->start = time(NULL);
        double t0 = wipe_now();

        bool rnd = w->method != MG_WIPE_ZERO;
        w->n_passes = w->method == MG_WIPE_RANDOM_ZERO ? 2 : 1;
        w->passes[0] = (struct wipe_pass){.pattern = rnd ? "random" : "zero", .verify = w->verify};
        if (w->n_passes == 2)
                w->passes[1] = (struct wipe_pass){.pattern = "zero", .verify = w->verify};
        wipe_log(w, MG_LOG_INFO, "wiping %" PRIu64 " bytes, method %s, verify %s, %s I/O", w->size,
                 mg_wipe_method_to_string(w->method), mg_wipe_verify_to_string(w->verify),
                 w->direct ? "O_DIRECT" : "buffered");

        if (w->progress) {
                struct mg_wipe_progress p = {.phase = MG_WIPE_PHASE_CRYPTO_ERASE,
                                             .pass = 0,
                                             .n_passes = w->n_passes,
                                             .pattern = "",
                                             .eta = -1};
                if (w->progress(w->progress_ud, &p))
                        w->cancel = 1;
        }
        if (w->cancel)
                wipe_fail(w, "cancelled before writing");
        else
                (void)wipe_luks_erase(w); /* its result is part of the record */
        if (w->status != WIPE_FAILED)
                wipe_run_passes(w);
        if (w->status != WIPE_FAILED)
                w->status = WIPE_ERASED;

        w->end = time(NULL);
        w->seconds = wipe_now() - t0;
        wipe_target_close(w);
        wipe_log(w, w->status == WIPE_ERASED ? MG_LOG_NOTICE : MG_LOG_ERR, "wipe %s%s%s",
                 w->status == WIPE_ERASED ? "erased" : "FAILED", w->failure[0] ? ": " : "",
                 w->failure);
        if (w->ledger_path) {
                r = wipe_ledger_record(w);
                if (r < 0)
                        wipe_log(w, MG_LOG_ERR, "the WIPE entry could not be recorded: %s",
                                 strerror(-r));
        }
        if (w->progress) {
                struct mg_wipe_progress p = {.phase = MG_WIPE_PHASE_DONE,
                                             .pass = w->n_passes,
                                             .n_passes = w->n_passes,
                                             .pattern = "",
                                             .eta = 0};
                (void)w->progress(w->progress_ud, &p);
        }
        if (ret_erased)
                *ret_erased = w->status == WIPE_ERASED;
        return 0;
}
