/* mediagate scan: engine lifetime, scan lifetime, results and the JSON report. */
#include <mediagate/escape.h>
#include <mediagate/scan.h>
#include <ftw.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "json.h"
#include "scan-internal.h"

/* Monotonic seconds. */
double scan_now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *mg_verdict_to_string(enum mg_verdict v)
{
        static const char *const n[] = {"clean", "unreadable", "encrypted", "unsafe", "infected"};
        return (unsigned)v < MG_ARRAY_SIZE(n) ? n[v] : "invalid";
}

const char *mg_region_to_string(enum mg_region r)
{
        static const char *const n[] = {"file", "unallocated", "gap", "boot", "raw"};
        return (unsigned)r < MG_ARRAY_SIZE(n) ? n[r] : "invalid";
}

const char *mg_volume_status_to_string(enum mg_volume_status st)
{
        static const char *const n[] = {"ok", "unreadable", "encrypted"};
        return (unsigned)st < MG_ARRAY_SIZE(n) ? n[st] : "invalid";
}

/* Remove one entry of the engine's temp dir (nftw callback). */
static int scan_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        if (flag == FTW_DP)
                rmdir(path);
        else
                unlink(path);
        return 0;
}

/* Remove the engine's private temp dir and what libclamav left in it. */
static void scan_rmtree(const char *dir)
{
        nftw(dir, scan_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Load the signature engine. */
int mg_scan_engine_new(const struct mg_scan_engine_options *opts, struct mg_scan_engine **ret)
{
        struct mg_scan_engine_options o = opts ? *opts : (struct mg_scan_engine_options){0};
        struct mg_scan_engine *e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        atomic_init(&e->refs, 1);
        e->log = o.log;
        e->log_userdata = o.log_userdata;
        /* libclamav makes a directory per scanned object: on a tmpfs that costs microseconds,
         * on a busy disk file system it can cost milliseconds per file */
        const char *base = o.tmpdir ? o.tmpdir : getenv("TMPDIR");
        if (!base || !*base)
                base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        if (asprintf(&e->tmpdir, "%s/mediagate-engine-XXXXXX", base) < 0) {
                e->tmpdir = NULL;
                free(e);
                return -ENOMEM;
        }
        if (!mkdtemp(e->tmpdir)) {
                int r = -errno;
                free(e->tmpdir);
                free(e);
                return r;
        }
        double t0 = scan_now();
        int r = scan_clam_engine_load(e, &o);
        if (r < 0) {
                mg_scan_engine_unref(e);
                return r;
        }
        e->info.load_seconds = scan_now() - t0;
        *ret = e;
        return 0;
}

struct mg_scan_engine *mg_scan_engine_ref(struct mg_scan_engine *e)
{
        if (e)
                atomic_fetch_add(&e->refs, 1);
        return e;
}

void mg_scan_engine_unref(struct mg_scan_engine *e)
{
        if (!e || atomic_fetch_sub(&e->refs, 1) != 1)
                return;
        scan_clam_engine_free(e);
        if (e->tmpdir)
                scan_rmtree(e->tmpdir);
        free(e->tmpdir);
        free(e);
}

void mg_scan_engine_get_info(const struct mg_scan_engine *e, struct mg_scan_engine_info *ret)
{
        *ret = e->info;
}

/* Log through the caller's callback. */
void scan_log(struct mg_scan *s, enum mg_log_level level, const char *fmt, ...)
{
        if (!s->opts.log)
                return;
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        s->opts.log(s->opts.log_userdata, level, msg);
}

/* Append to a growable array of @size-byte elements. */
static void *scan_grow(void **arr, size_t *n, size_t *cap, size_t size, size_t max)
{
        if (*n >= max)
                return NULL;
        if (*n == *cap) {
                size_t c = *cap ? *cap * 2 : 16;
                void *p = realloc(*arr, c * size);
                if (!p)
                        return NULL;
                *arr = p;
                *cap = c;
        }
        return (char *)*arr + (*n)++ * size;
}

/* Raise the verdict and record why. */
void scan_flag(struct mg_scan *s, enum mg_verdict v, const char *fmt, ...)
{
        char *msg = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        pthread_mutex_lock(&s->lock);
        if (v > s->verdict)
                s->verdict = v;
        char **slot = msg ? scan_grow((void **)&s->reasons, &s->n_reasons, &s->cap_reasons,
                                      sizeof(char *), 10000)
                          : NULL;
        if (slot)
                *slot = TAKE_PTR(msg);
        pthread_mutex_unlock(&s->lock);
        free(msg);
        if (slot)
                scan_log(s, MG_LOG_NOTICE, "%s: %s", mg_verdict_to_string(v), *slot);
}

/* Unsafe (cannot be judged) versus infected (a signature matched). */
static enum mg_verdict scan_classify_signature(const char *sig)
{
        if (!strncmp(sig, "Heuristics.Encrypted.", 21) ||
            !strncmp(sig, "Heuristics.Limits.Exceeded.", 27))
                return MG_VERDICT_UNSAFE;
        return MG_VERDICT_INFECTED;
}

/* Record a detection and tell the caller. */
int scan_add_detection(struct mg_scan *s, const struct scan_item *it, const char *signature,
                       uint64_t offset)
{
        struct scan_detection_rec rec = {0};
        rec.signature = strdup(signature);
        rec.path = it->path ? strdup(it->path) : NULL;
        rec.stream = it->stream ? strdup(it->stream) : NULL;
        if (!rec.signature || (it->path && !rec.path) || (it->stream && !rec.stream)) {
                free(rec.signature);
                free(rec.path);
                free(rec.stream);
                return -ENOMEM;
        }
        rec.pub = (struct mg_scan_detection){
            .signature = rec.signature,
            .path = rec.path,
            .stream = rec.stream,
            .deleted = it->deleted,
            .region = it->region,
            .volume = it->volume,
            .offset = offset,
        };
        enum mg_verdict v = scan_classify_signature(signature);
        pthread_mutex_lock(&s->lock);
        struct scan_detection_rec *slot =
            scan_grow((void **)&s->dets, &s->n_dets, &s->cap_dets, sizeof(rec), 100000);
        if (slot) {
                *slot = rec;
                if (v > s->verdict)
                        s->verdict = v;
        }
        pthread_mutex_unlock(&s->lock);
        if (!slot) {
                free(rec.signature);
                free(rec.path);
                free(rec.stream);
                scan_flag(s, v, "too many detections: the rest are not listed");
                return 0;
        }
        if (v == MG_VERDICT_UNSAFE) {
                _cleanup_free_ char *w = it->path ? scan_escape_path(it->path) : NULL;
                scan_flag(s, v, "%s: %s", w ? w : "(raw bytes)", signature);
        }
        if (s->opts.detection)
                s->opts.detection(s->opts.userdata, &rec.pub);
        return 0;
}

/* Escape a path (with a stream) for messages. */
char *scan_escape_path(const char *path)
{
        return mg_escape(path, strlen(path), 512);
}

/* Add a volume to the report. */
int scan_add_volume(struct mg_scan *s, uint64_t off, uint64_t len, const char *scheme,
                    int *ret_index)
{
        pthread_mutex_lock(&s->lock);
        struct mg_scan_volume *v =
            scan_grow((void **)&s->vols, &s->n_vols, &s->cap_vols, sizeof(*v), SCAN_MAX_PARTS);
        if (v)
                *v = (struct mg_scan_volume){
                    .index = (int)(s->n_vols - 1), .offset = off, .length = len, .scheme = scheme};
        pthread_mutex_unlock(&s->lock);
        if (!v)
                return -E2BIG;
        *ret_index = v->index;
        return 0;
}

/* Set what was found on a volume. */
void scan_set_volume(struct mg_scan *s, int index, const char *filesystem,
                     enum mg_volume_status status, const char *reason)
{
        pthread_mutex_lock(&s->lock);
        struct mg_scan_volume *v = &s->vols[index];
        v->filesystem = filesystem;
        v->status = status;
        free((char *)v->reason);
        v->reason = reason ? mg_escape_str(reason) : NULL;
        pthread_mutex_unlock(&s->lock);
}

/* Report progress, at most ten times a second unless forced. */
void scan_progress(struct mg_scan *s, uint64_t pos, const char *path, bool force)
{
        if (pos > s->progress_pos)
                s->progress_pos = MG_MIN(pos, s->size);
        if (!s->opts.progress)
                return;
        double now = scan_now();
        if (!force && now - s->t_last_progress < 0.1)
                return;
        s->t_last_progress = now;
        _cleanup_free_ char *p = path ? scan_escape_path(path) : NULL;
        pthread_mutex_lock(&s->lock);
        struct mg_scan_progress pr = {
            .bytes_done = s->progress_pos,
            .bytes_total = s->size,
            .files = s->files,
            .path = p,
            .seconds = now - s->t_start,
        };
        pthread_mutex_unlock(&s->lock);
        s->opts.progress(s->opts.userdata, &pr);
}

/* Prepare a scan of a target. */
int mg_scan_new(struct mg_scan_engine *e, const char *target, const struct mg_scan_options *opts,
                struct mg_scan **ret)
{
        if (!e || !target || !ret)
                return -EINVAL;
        struct stat st;
        if (stat(target, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
                return -EINVAL;
        struct mg_scan *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->opts = opts ? *opts : (struct mg_scan_options){0};
        struct mg_scan_options *o = &s->opts;
        if (o->threads == 0) {
                long n = sysconf(_SC_NPROCESSORS_ONLN);
                o->threads = n > 0 && n < 256 ? (unsigned)n : 1;
        }
        if (!o->memory_limit)
                o->memory_limit = SCAN_DEFAULT_MEMORY_LIMIT;
        if (!o->bomb_max_expanded)
                o->bomb_max_expanded = (uint64_t)1 << 30;
        if (!o->bomb_max_ratio)
                o->bomb_max_ratio = 200;
        if (!o->bomb_max_members)
                o->bomb_max_members = 20000;
        if (!o->bomb_max_depth)
                o->bomb_max_depth = 16; /* libclamav's own recursion limit is 17 */
        if (!o->max_dir_depth)
                o->max_dir_depth = 4096;
        s->target = strdup(target);
        if (!s->target) {
                free(s);
                return -ENOMEM;
        }
        s->engine = mg_scan_engine_ref(e);
        pthread_mutex_init(&s->lock, NULL);
        pthread_mutex_init(&s->pool.lock, NULL);
        pthread_cond_init(&s->pool.cond_work, NULL);
        pthread_cond_init(&s->pool.cond_space, NULL);
        *ret = s;
        return 0;
}

/* Order detections for a stable report whatever the thread count. */
static int scan_det_cmp(const void *a, const void *b)
{
        const struct mg_scan_detection *x = &((const struct scan_detection_rec *)a)->pub;
        const struct mg_scan_detection *y = &((const struct scan_detection_rec *)b)->pub;
        if (x->volume != y->volume)
                return x->volume < y->volume ? -1 : 1;
        if (x->region != y->region)
                return x->region < y->region ? -1 : 1;
        int c = strcmp(x->path ? x->path : "", y->path ? y->path : "");
        if (c)
                return c;
        c = strcmp(x->stream ? x->stream : "", y->stream ? y->stream : "");
        if (c)
                return c;
        if (x->offset != y->offset)
                return x->offset < y->offset ? -1 : 1;
        return strcmp(x->signature, y->signature);
}

/* Sort detections and drop the repeats that overlapping raw chunks produce. */
static void scan_finish_detections(struct mg_scan *s)
{
        if (s->n_dets > 1)
                qsort(s->dets, s->n_dets, sizeof(*s->dets), scan_det_cmp);
        size_t w = 0;
        for (size_t i = 0; i < s->n_dets; i++) {
                struct scan_detection_rec *d = &s->dets[i];
                if (w > 0) {
                        struct scan_detection_rec *p = &s->dets[w - 1];
                        bool same = p->pub.volume == d->pub.volume &&
                                    p->pub.region == d->pub.region &&
                                    !strcmp(p->signature, d->signature) &&
                                    !strcmp(p->path ? p->path : "", d->path ? d->path : "") &&
                                    !strcmp(p->stream ? p->stream : "", d->stream ? d->stream : "");
                        same = same && p->pub.deleted == d->pub.deleted;
                        /* raw chunks overlap; a file's chunks carry the file's offset */
                        bool near = d->pub.region == MG_REGION_FILE
                                        ? d->pub.offset == p->pub.offset
                                        : d->pub.offset - p->pub.offset <= SCAN_RAW_CHUNK;
                        if (same && near) {
                                free(d->signature);
                                free(d->path);
                                free(d->stream);
                                continue;
                        }
                }
                s->dets[w++] = *d;
        }
        s->n_dets = w;
}

/* Run the scan. */
int mg_scan_run(struct mg_scan *s, enum mg_verdict *ret_verdict)
{
        if (!s || !ret_verdict || s->ran)
                return -EINVAL;
        s->ran = true;
        s->t_start = scan_now();
        int r = scan_img_open(s->target, &s->img);
        if (r < 0) {
                scan_log(s, MG_LOG_ERR, "cannot open the medium: %s", strerror(-r));
                return r;
        }
        s->size = (uint64_t)s->img->size;
        r = scan_pool_start(s);
        if (r < 0)
                return r;
        r = scan_walk_medium(s);
        if (r == 0)
                r = scan_batch_flush(s);
        else
                scan_job_free(TAKE_PTR(s->batch));
        int r2 = scan_pool_finish(s);
        if (r == 0)
                r = r2;
        if (r == 0 && atomic_load(&s->cancelled))
                r = -ECANCELED;
        s->seconds = scan_now() - s->t_start;
        struct rusage ru;
        if (getrusage(RUSAGE_SELF, &ru) == 0)
                s->peak_rss = (uint64_t)ru.ru_maxrss * 1024;
        if (r < 0)
                return r;
        scan_finish_detections(s);
        scan_progress(s, s->size, NULL, true);
        *ret_verdict = s->verdict;
        return 0;
}

void mg_scan_cancel(struct mg_scan *s)
{
        if (s)
                atomic_store(&s->cancelled, true);
}

size_t mg_scan_n_detections(const struct mg_scan *s)
{
        return s->n_dets;
}

const struct mg_scan_detection *mg_scan_get_detection(const struct mg_scan *s, size_t i)
{
        return i < s->n_dets ? &s->dets[i].pub : NULL;
}

size_t mg_scan_n_volumes(const struct mg_scan *s)
{
        return s->n_vols;
}

const struct mg_scan_volume *mg_scan_get_volume(const struct mg_scan *s, size_t i)
{
        return i < s->n_vols ? &s->vols[i] : NULL;
}

size_t mg_scan_n_reasons(const struct mg_scan *s)
{
        return s->n_reasons;
}

const char *mg_scan_get_reason(const struct mg_scan *s, size_t i)
{
        return i < s->n_reasons ? s->reasons[i] : NULL;
}

void mg_scan_get_stats(const struct mg_scan *s, struct mg_scan_stats *ret)
{
        *ret = (struct mg_scan_stats){
            .files = s->files,
            .bytes = s->bytes_scanned,
            .bytes_read = atomic_load(&((struct mg_scan *)s)->bytes_read),
            .seconds = s->seconds,
            .peak_rss_bytes = s->peak_rss,
        };
}

/* Format seconds since the epoch as RFC 3339 UTC. */
static void scan_rfc3339(int64_t t, char out[32])
{
        time_t tt = (time_t)t;
        struct tm tm;
        if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
                snprintf(out, 32, "invalid");
}

/* Build the JSON report. */
int mg_scan_report_json(const struct mg_scan *s, char **ret_json)
{
        if (!s->ran)
                return -EINVAL;
        const struct mg_scan_engine_info *info = &s->engine->info;
        struct mg_buf b;
        struct mg_json j;
        buf_init(&b, (size_t)256 << 20);
        json_init(&j, &b);
        json_obj_begin(&j);
        json_key(&j, "target");
        json_str_untrusted(&j, s->target, strlen(s->target));
        json_kv_str(&j, "verdict", mg_verdict_to_string(s->verdict));
        json_key(&j, "reasons");
        json_arr_begin(&j);
        for (size_t i = 0; i < s->n_reasons; i++)
                json_str(&j, s->reasons[i]);
        json_arr_end(&j);

        json_key(&j, "signatures");
        json_obj_begin(&j);
        if (info->dated) {
                char built[32];
                scan_rfc3339(info->built, built);
                json_kv_uint(&j, "version", info->version);
                json_kv_str(&j, "built", built);
        } else {
                json_key(&j, "version");
                json_null(&j);
                json_key(&j, "built");
                json_null(&j);
        }
        json_kv_uint(&j, "count", info->signatures);
        json_key(&j, "age_days");
        if (info->dated)
                json_double(&j, (double)(time(NULL) - info->built) / 86400.0);
        else
                json_null(&j);
        json_obj_end(&j);

        json_key(&j, "volumes");
        json_arr_begin(&j);
        for (size_t i = 0; i < s->n_vols; i++) {
                const struct mg_scan_volume *v = &s->vols[i];
                json_obj_begin(&j);
                json_kv_int(&j, "index", v->index);
                json_kv_uint(&j, "offset", v->offset);
                json_kv_uint(&j, "length", v->length);
                json_kv_str(&j, "scheme", v->scheme);
                json_kv_str(&j, "filesystem", v->filesystem);
                json_kv_str(&j, "status", mg_volume_status_to_string(v->status));
                json_kv_str(&j, "reason", v->reason);
                json_obj_end(&j);
        }
        json_arr_end(&j);

        json_key(&j, "detections");
        json_arr_begin(&j);
        for (size_t i = 0; i < s->n_dets; i++) {
                const struct mg_scan_detection *d = &s->dets[i].pub;
                json_obj_begin(&j);
                json_key(&j, "name");
                json_str_untrusted(&j, d->signature, strlen(d->signature));
                json_key(&j, "path");
                json_str_untrusted(&j, d->path, d->path ? strlen(d->path) : 0);
                json_key(&j, "stream");
                json_str_untrusted(&j, d->stream, d->stream ? strlen(d->stream) : 0);
                json_kv_bool(&j, "deleted", d->deleted);
                json_kv_str(&j, "region", mg_region_to_string(d->region));
                json_key(&j, "volume");
                if (d->volume >= 0)
                        json_int(&j, d->volume);
                else
                        json_null(&j);
                json_kv_uint(&j, "offset", d->offset);
                json_obj_end(&j);
        }
        json_arr_end(&j);

        json_key(&j, "stats");
        json_obj_begin(&j);
        json_kv_uint(&j, "files", s->files);
        json_kv_uint(&j, "bytes", s->bytes_scanned);
        json_kv_double(&j, "seconds", s->seconds);
        json_kv_double(&j, "load_seconds", info->load_seconds);
        json_kv_double(&j, "scan_seconds", s->seconds);
        json_kv_uint(&j, "bytes_read", atomic_load(&((struct mg_scan *)s)->bytes_read));
        json_kv_uint(&j, "peak_rss_bytes", s->peak_rss);
        json_kv_uint(&j, "threads", s->opts.threads);
        json_obj_end(&j);
        json_obj_end(&j);
        buf_puts(&b, "\n");
        char *out = buf_steal(&b);
        if (!out)
                return b.err ? b.err : -ENOMEM;
        *ret_json = out;
        return 0;
}

/* Free a scan. */
void mg_scan_free(struct mg_scan *s)
{
        if (!s)
                return;
        if (s->pool.n_threads)
                scan_pool_finish(s);
        scan_job_free(s->batch);
        free(s->probe);
        if (s->img)
                tsk_img_close(s->img);
        for (size_t i = 0; i < s->n_dets; i++) {
                free(s->dets[i].signature);
                free(s->dets[i].path);
                free(s->dets[i].stream);
        }
        free(s->dets);
        for (size_t i = 0; i < s->n_vols; i++)
                free((char *)s->vols[i].reason);
        free(s->vols);
        for (size_t i = 0; i < s->n_reasons; i++)
                free(s->reasons[i]);
        free(s->reasons);
        pthread_mutex_destroy(&s->lock);
        pthread_mutex_destroy(&s->pool.lock);
        pthread_cond_destroy(&s->pool.cond_work);
        pthread_cond_destroy(&s->pool.cond_space);
        mg_scan_engine_unref(s->engine);
        free(s->target);
        free(s);
}
