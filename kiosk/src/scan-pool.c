/* The scanning pipeline: the reader fills jobs (small files batched together), scanning threads
 * drain them with the shared engine, and the bytes in flight stay under the memory limit. */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "scan-internal.h"

/* Free a job and its items. */
void scan_job_free(struct scan_job *j)
{
        if (!j)
                return;
        for (size_t i = 0; i < j->n_items; i++) {
                free(j->items[i].path);
                free(j->items[i].stream);
        }
        free(j->items);
        if (j->buf)
                munmap(j->buf, j->buf_cap);
        free(j);
}

/* Free a finished job and give its memory back to the budget, keeping its buffer as a spare. */
static void pool_retire(struct scan_pool *p, struct scan_job *j)
{
        unsigned char *buf = TAKE_PTR(j->buf);
        size_t cap = j->buf_cap;
        uint64_t mem = j->mem, charge = 0;
        for (size_t i = 0; i < j->n_items; i++)
                charge += j->items[i].charged ? SCAN_EXPAND_CHARGE : 0;
        scan_job_free(j);
        pthread_mutex_lock(&p->lock);
        p->mem_used -= mem;
        p->engine_charge -= charge;
        p->jobs--;
        if (buf && p->n_spares < SCAN_MAX_SPARES && !p->closing) {
                p->spares[p->n_spares++] = (struct scan_spare){buf, cap};
                p->spare_bytes += cap;
                buf = NULL;
        }
        pthread_cond_broadcast(&p->cond_space);
        pthread_mutex_unlock(&p->lock);
        if (buf)
                munmap(buf, cap);
}

/* Scan every item of a job. */
static int pool_run_job(struct mg_scan *s, struct scan_job *j)
{
        for (size_t i = 0; i < j->n_items; i++) {
                const struct scan_item *it = &j->items[i];
                if (atomic_load(&s->cancelled))
                        return -ECANCELED;
                int r = scan_clam_item(s, it, j->buf + it->data_off);
                if (r < 0)
                        return r;
                pthread_mutex_lock(&s->lock);
                if (it->region == MG_REGION_FILE && !it->chunk)
                        s->files++;
                else if (it->region == MG_REGION_FILE && it->first_chunk)
                        s->files++;
                s->bytes_scanned += it->len;
                pthread_mutex_unlock(&s->lock);
        }
        return 0;
}

/* A scanning thread: take jobs until the queue is closed and empty. */
static void *pool_worker(void *arg)
{
        struct mg_scan *s = arg;
        struct scan_pool *p = &s->pool;
        for (;;) {
                pthread_mutex_lock(&p->lock);
                while (!p->head && !p->closing)
                        pthread_cond_wait(&p->cond_work, &p->lock);
                struct scan_job *j = p->head;
                if (!j) {
                        pthread_mutex_unlock(&p->lock);
                        return NULL;
                }
                p->head = j->next;
                if (!p->head)
                        p->tail = NULL;
                bool failed = p->error != 0;
                p->busy++;
                pthread_mutex_unlock(&p->lock);

                int r = failed ? 0 : pool_run_job(s, j);
                pthread_mutex_lock(&p->lock);
                p->busy--;
                if (r < 0 && !p->error)
                        p->error = r;
                pthread_mutex_unlock(&p->lock);
                pool_retire(p, j); /* wakes whoever waits for memory or for this thread */
        }
}

/* Start the scanning threads (none when one thread is asked for: jobs then run inline). */
int scan_pool_start(struct mg_scan *s)
{
        struct scan_pool *p = &s->pool;
        /* the limit also covers libclamav's heap in each scanning thread (parsers, decoders,
         * what glibc keeps in the thread's arena), which nothing here counts: measured about
         * 16 MiB per thread above the unpacking charges on the benchmark's large files */
        unsigned threads = MG_MAX(s->opts.threads, 1u);
        uint64_t heap = MG_MIN((uint64_t)threads * SCAN_THREAD_HEAP, s->opts.memory_limit / 4);
        p->mem_limit = s->opts.memory_limit - heap;
        if (s->opts.threads <= 1)
                return 0;
        p->threads = calloc(s->opts.threads, sizeof(pthread_t));
        if (!p->threads)
                return -ENOMEM;
        for (unsigned i = 0; i < s->opts.threads; i++) {
                int r = pthread_create(&p->threads[i], NULL, pool_worker, s);
                if (r) {
                        scan_pool_finish(s);
                        return -r;
                }
                p->n_threads++;
        }
        return 0;
}

/* Close the queue, wait for the threads, and return the first error. */
int scan_pool_finish(struct mg_scan *s)
{
        struct scan_pool *p = &s->pool;
        pthread_mutex_lock(&p->lock);
        p->closing = true;
        pthread_cond_broadcast(&p->cond_work);
        pthread_mutex_unlock(&p->lock);
        for (unsigned i = 0; i < p->n_threads; i++)
                pthread_join(p->threads[i], NULL);
        p->n_threads = 0;
        free(p->threads);
        p->threads = NULL;
        while (p->head) {
                struct scan_job *j = p->head;
                p->head = j->next;
                p->mem_used -= j->mem;
                p->jobs--;
                scan_job_free(j);
        }
        p->tail = NULL;
        for (unsigned i = 0; i < p->n_spares; i++)
                munmap(p->spares[i].buf, p->spares[i].cap);
        p->n_spares = 0;
        p->spare_bytes = 0;
        return p->error;
}

/* Under the lock: would @need more bytes keep everything charged within the limit? */
static bool pool_fits_locked(const struct scan_pool *p, uint64_t need)
{
        return p->mem_used + p->spare_bytes + p->engine_charge + need <= p->mem_limit;
}

/* Under the lock: unmap spares until @need more bytes fit in the budget (or none is left). True
 * if any were: the lock was dropped meanwhile, so the caller looks again. */
static bool pool_make_room_locked(struct scan_pool *p, uint64_t need)
{
        struct scan_spare out[SCAN_MAX_SPARES];
        unsigned n = 0;
        while (p->n_spares && !pool_fits_locked(p, need)) {
                struct scan_spare sp = p->spares[--p->n_spares];
                p->spare_bytes -= sp.cap;
                out[n++] = sp;
        }
        if (!n)
                return false;
        pthread_mutex_unlock(&p->lock); /* unmapping is slow: not under the lock */
        for (unsigned i = 0; i < n; i++)
                munmap(out[i].buf, out[i].cap);
        pthread_mutex_lock(&p->lock);
        return true;
}

/* Charge libclamav's unpacking of a large archive (see scan-internal.h). */
void scan_pool_expand_charge(struct mg_scan *s, uint64_t bytes)
{
        struct scan_pool *p = &s->pool;
        pthread_mutex_lock(&p->lock);
        /* wait only while another thread is at work: its end frees memory (two threads never
         * wait for each other; with none at work, go over the limit rather than stall) */
        unsigned me = p->n_threads > 0 ? 1 : 0;
        for (;;) {
                if (pool_make_room_locked(p, bytes))
                        continue;
                if (pool_fits_locked(p, bytes) || p->busy <= me || p->error ||
                    atomic_load(&s->cancelled))
                        break;
                p->busy -= me;
                pthread_cond_wait(&p->cond_space, &p->lock);
                p->busy += me;
        }
        p->engine_charge += bytes;
        pthread_mutex_unlock(&p->lock);
}

/* Give an unpacking charge back. */
void scan_pool_expand_release(struct mg_scan *s, uint64_t bytes)
{
        struct scan_pool *p = &s->pool;
        pthread_mutex_lock(&p->lock);
        p->engine_charge -= bytes;
        pthread_cond_broadcast(&p->cond_space);
        pthread_mutex_unlock(&p->lock);
}

/* Discard a job that needs no scanning. */
void scan_job_drop(struct mg_scan *s, struct scan_job *j)
{
        pool_retire(&s->pool, j);
}

/* The smallest spare able to hold @bytes without wasting more than a quarter of it, or -1. */
static int pool_find_spare(const struct scan_pool *p, size_t bytes)
{
        int best = -1;
        for (unsigned i = 0; i < p->n_spares; i++) {
                size_t cap = p->spares[i].cap;
                if (cap >= bytes && cap - bytes <= bytes / 4 &&
                    (best < 0 || cap < p->spares[best].cap))
                        best = (int)i;
        }
        return best;
}

/* Wait until @bytes fit in the memory budget, then charge them. A spare buffer that fits is
 * handed out in *buf (its whole capacity charged, in *cap); spares that do not fit are unmapped
 * when the budget needs their room. */
static int pool_acquire(struct mg_scan *s, size_t bytes, unsigned char **buf, size_t *cap)
{
        struct scan_pool *p = &s->pool;
        *buf = NULL;
        *cap = bytes;
        pthread_mutex_lock(&p->lock);
        unsigned max_jobs = 2 * MG_MAX(p->n_threads, 1u) + 2;
        int r;
        for (;;) {
                r = p->error ? p->error : atomic_load(&s->cancelled) ? -ECANCELED : 0;
                if (r < 0)
                        break;
                int k = bytes ? pool_find_spare(p, bytes) : -1;
                if (k < 0 && pool_make_room_locked(p, bytes))
                        continue;
                uint64_t need = k < 0 ? bytes : 0; /* a spare is charged already */
                /* a job larger than the whole budget waits until nothing else is in flight */
                if (p->mem_used == 0 || (pool_fits_locked(p, need) && p->jobs < max_jobs)) {
                        if (k >= 0) {
                                *buf = p->spares[k].buf;
                                *cap = p->spares[k].cap;
                                p->spare_bytes -= *cap;
                                p->spares[k] = p->spares[--p->n_spares];
                        }
                        p->mem_used += *cap;
                        p->jobs++;
                        break;
                }
                pthread_cond_wait(&p->cond_space, &p->lock);
        }
        pthread_mutex_unlock(&p->lock);
        return r;
}

/* Charge and map a job's buffer (or reuse a spare one). */
static int pool_job_new(struct mg_scan *s, size_t bytes, struct scan_job **ret)
{
        struct scan_job *j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        int r = pool_acquire(s, bytes, &j->buf, &j->buf_cap);
        if (r < 0) {
                free(j);
                return r;
        }
        j->mem = j->buf_cap;
        /* job buffers are mapped, not malloc'd: freed at once, they never fragment the heap or
         * the scanning threads' arenas */
        if (bytes && !j->buf) {
                j->buf =
                    mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (j->buf == MAP_FAILED) {
                        j->buf = NULL;
                        pool_retire(&s->pool, j);
                        return -ENOMEM;
                }
        }
        *ret = j;
        return 0;
}

/* Create a job with a buffer of @bytes, charged against the memory limit. The small-file batch
 * is sent first: the reader must never wait for memory while holding some. */
int scan_job_new(struct mg_scan *s, size_t bytes, struct scan_job **ret)
{
        int r = scan_batch_flush(s);
        if (r < 0)
                return r;
        return pool_job_new(s, bytes, ret);
}

/* How many bytes one more item could have in @j. */
static size_t scan_job_room(const struct scan_job *j)
{
        size_t at = MG_ALIGN_UP(j->buf_len, (size_t)64);
        return at >= j->buf_cap ? 0 : j->buf_cap - at;
}

/* Append an item to a job and reserve its bytes; NULL if it does not fit or on ENOMEM. */
unsigned char *scan_job_add(struct scan_job *j, const struct scan_item *tmpl, size_t len)
{
        /* each item starts on a cache line: reads into misaligned buffers are several times
         * slower (the kernel's copy to user space) */
        if (len > scan_job_room(j))
                return NULL;
        size_t at = MG_ALIGN_UP(j->buf_len, (size_t)64);
        if (j->n_items == j->cap_items) {
                size_t cap = j->cap_items ? j->cap_items * 2 : 8;
                struct scan_item *n = realloc(j->items, cap * sizeof(*n));
                if (!n)
                        return NULL;
                j->items = n;
                j->cap_items = cap;
        }
        struct scan_item *it = &j->items[j->n_items];
        *it = *tmpl;
        it->path = tmpl->path ? strdup(tmpl->path) : NULL;
        it->stream = tmpl->stream ? strdup(tmpl->stream) : NULL;
        if ((tmpl->path && !it->path) || (tmpl->stream && !it->stream)) {
                free(it->path);
                free(it->stream);
                return NULL;
        }
        it->data_off = at;
        it->len = len;
        j->buf_len = at + len;
        j->n_items++;
        return j->buf + it->data_off;
}

/* Hand a job to the scanning threads, or scan it here with one thread. */
int scan_job_submit(struct mg_scan *s, struct scan_job *j)
{
        struct scan_pool *p = &s->pool;
        if (p->n_threads == 0) {
                int r = pool_run_job(s, j);
                pool_retire(p, j);
                return r;
        }
        pthread_mutex_lock(&p->lock);
        int r = p->error;
        if (r == 0) {
                j->next = NULL;
                if (p->tail)
                        p->tail->next = j;
                else
                        p->head = j;
                p->tail = j;
                pthread_cond_signal(&p->cond_work);
        }
        pthread_mutex_unlock(&p->lock);
        if (r < 0)
                pool_retire(p, j);
        return r;
}

/* Send the batch being filled, if any. */
int scan_batch_flush(struct mg_scan *s)
{
        struct scan_job *j = s->batch;
        s->batch = NULL;
        if (!j)
                return 0;
        if (j->n_items == 0) {
                pool_retire(&s->pool, j);
                return 0;
        }
        return scan_job_submit(s, j);
}

/* The reader charges an item's unpacking: waits like for a job buffer. */
static void pool_reader_charge(struct mg_scan *s, uint64_t bytes, uint64_t own)
{
        struct scan_pool *p = &s->pool;
        pthread_mutex_lock(&p->lock);
        for (;;) {
                if (pool_make_room_locked(p, bytes))
                        continue;
                /* other jobs in flight: their end frees memory (this item's own buffer is
                 * not submitted yet, so it alone must never wait) */
                if (pool_fits_locked(p, bytes) || p->mem_used <= own || p->error ||
                    atomic_load(&s->cancelled))
                        break;
                pthread_cond_wait(&p->cond_space, &p->lock);
        }
        p->engine_charge += bytes;
        pthread_mutex_unlock(&p->lock);
}

/* Add a file's bytes: small ones go into the shared batch, larger ones get a job of their own. */
int scan_batch_add(struct mg_scan *s, const struct scan_item *tmpl, size_t len,
                   int (*read)(void *ud, unsigned char *buf, size_t len), void *ud)
{
        int r;
        struct scan_job *j;
        bool own = len > SCAN_BATCH_BYTES / 4;
        if (own) {
                r = scan_job_new(s, len, &j);
                if (r < 0)
                        return r;
        } else {
                if (s->batch &&
                    (scan_job_room(s->batch) < len || s->batch->n_items >= SCAN_BATCH_ITEMS)) {
                        r = scan_batch_flush(s);
                        if (r < 0)
                                return r;
                }
                if (!s->batch) {
                        r = pool_job_new(s, SCAN_BATCH_BYTES, &s->batch);
                        if (r < 0)
                                return r;
                }
                j = s->batch;
        }
        unsigned char *buf = scan_job_add(j, tmpl, len);
        if (!buf) {
                if (own)
                        pool_retire(&s->pool, j);
                return -ENOMEM;
        }
        r = read(ud, buf, len);
        if (r == 0 && own && len > SCAN_EXPAND_LARGE && scan_clam_sniff_container(buf, len)) {
                /* charge the engine's unpacking now, before more is read: charged only when
                 * its scan starts, the memory would already be taken by the jobs behind it */
                pool_reader_charge(s, SCAN_EXPAND_CHARGE, j->mem);
                j->items[j->n_items - 1].charged = true;
        }
        if (r < 0 || r == 1) {
                /* drop the item: nothing usable was read (the reader recorded why) */
                struct scan_item *it = &j->items[--j->n_items];
                j->buf_len = it->data_off;
                free(it->path);
                free(it->stream);
                if (own)
                        pool_retire(&s->pool, j);
                return r < 0 ? r : 0;
        }
        if (own)
                return scan_job_submit(s, j);
        return 0;
}
