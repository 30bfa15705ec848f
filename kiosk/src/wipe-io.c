/* The wipe's I/O: double-buffered O_DIRECT writing and read-back, retries, bad ranges. */
#include <endian.h>
#include <fcntl.h>
#include <math.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

#include "wipe-internal.h"

#define PIPE_SLOTS 2
#define PIPE_MASKW (WIPE_IO_MAX / WIPE_SPLIT / 64) /* words of the failed-piece mask */

enum { SLOT_FREE = 0, SLOT_READY };

/* Two buffers handed between the main thread (pattern generation or comparison) and one I/O
 * thread (writing or reading), so generation overlaps I/O. */
struct wipe_pipe {
        struct mg_wipe *w;
        bool writing;
        pthread_mutex_t mu;
        pthread_cond_t cv;
        uint8_t *buf[PIPE_SLOTS];
        uint64_t off[PIPE_SLOTS];
        size_t len[PIPE_SLOTS];
        int state[PIPE_SLOTS];
        uint64_t badmask[PIPE_SLOTS][PIPE_MASKW]; /* reads: pieces that could not be read */
        bool stop;     /* main -> io: nothing more will come, or cancel */
        int fatal;     /* io -> main: the pass cannot go on */
        uint64_t done; /* bytes the I/O thread completed */
        /* reads: the plan */
        const struct wipe_region *rg;
        size_t n_rg;
};

/* Progress bookkeeping of one phase. */
struct wipe_meter {
        double t0, last_t;
        uint64_t last_bytes;
        double rate;
};

/* Monotonic seconds. */
double wipe_now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Record a bad range, merging it with the last one when they touch. */
void wipe_add_range(struct mg_wipe *w, uint64_t off, uint64_t len, char op, int err)
{
        pthread_mutex_lock(&w->lock);
        if (off < w->first_bad_off)
                w->first_bad_off = off;
        struct wipe_range *last = w->n_ranges ? &w->ranges[w->n_ranges - 1] : NULL;
        if (last && last->op == op && last->err == err && last->off + last->len == off) {
                last->len += len;
        } else {
                w->n_ranges_total++;
                if (w->n_ranges < WIPE_MAX_RANGES)
                        w->ranges[w->n_ranges++] = (struct wipe_range){off, len, op, err};
        }
        pthread_mutex_unlock(&w->lock);
}

/* Open the buffered fallback descriptor on first use. */
static int wipe_io_buffered_fd(struct mg_wipe *w)
{
        if (w->fd_buffered >= 0)
                return w->fd_buffered;
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", w->fd);
        int fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        w->fd_buffered = fd;
        return fd;
}

/* Is @r an error after which the device is gone? */
static bool wipe_io_fatal(int r)
{
        return r == -ENODEV || r == -ENXIO || r == -ENOMEDIUM || r == -EBADF;
}

/* Transfer [@off, @off + @len) once: O_DIRECT where it works, else buffered + sync + drop. */
static int wipe_io_once(struct mg_wipe *w, bool wr, uint8_t *buf, uint64_t off, size_t len)
{
        int fd = w->direct ? w->fd : wipe_io_buffered_fd(w);
        if (fd < 0)
                return fd;
        bool buffered = !w->direct;
        if (buffered && !wr)
                (void)posix_fadvise(fd, (off_t)off, (off_t)len, POSIX_FADV_DONTNEED);
        size_t done = 0;
        for (unsigned iter = 0; done < len && iter < 1024; iter++) {
                ssize_t n = wr ? pwrite(fd, buf + done, len - done, (off_t)(off + done))
                               : pread(fd, buf + done, len - done, (off_t)(off + done));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EINVAL && !buffered) {
                                /* O_DIRECT refused this request (alignment): go buffered. */
                                fd = wipe_io_buffered_fd(w);
                                if (fd < 0)
                                        return fd;
                                buffered = true;
                                if (!wr)
                                        (void)posix_fadvise(fd, (off_t)(off + done),
                                                            (off_t)(len - done),
                                                            POSIX_FADV_DONTNEED);
                                continue;
                        }
                        return -errno;
                }
                if (n == 0)
                        return wr ? -ENOSPC : -EIO; /* the medium ends before its size */
                done += (size_t)n;
        }
        if (done < len)
                return -EIO;
        if (buffered && wr) {
                if (fdatasync(fd) < 0)
                        return -errno;
                (void)posix_fadvise(fd, (off_t)off, (off_t)len, POSIX_FADV_DONTNEED);
        }
        return 0;
}

/* Transfer one request with bounded retries; on failure narrow it down to the pieces that fail,
 * record them as bad ranges, mark them in @badmask and count their bytes in *@failed. Returns 0,
 * -EIO (too many errors in all) or a fatal error (then nothing of the request counts). */
static int wipe_io_request(struct mg_wipe *w, bool wr, uint8_t *buf, uint64_t off, size_t len,
                           uint64_t badmask[PIPE_MASKW], size_t *failed)
{
        int r = 0;
        *failed = 0;
        for (unsigned a = 0; a < WIPE_RETRIES; a++) {
                r = wipe_io_once(w, wr, buf, off, len);
                if (r == 0 || wipe_io_fatal(r))
                        return r;
        }
        unsigned nfail = 0;
        for (size_t p = 0, i = 0; p < len; p += WIPE_SPLIT, i++) {
                size_t n = MG_MIN((size_t)WIPE_SPLIT, len - p);
                int rp = 0;
                for (unsigned a = 0; a < 2; a++) {
                        rp = wipe_io_once(w, wr, buf + p, off + p, n);
                        if (rp == 0 || wipe_io_fatal(rp))
                                break;
                }
                if (wipe_io_fatal(rp))
                        return rp;
                if (rp < 0) {
                        nfail++;
                        *failed += n;
                        if (i < PIPE_MASKW * 64)
                                badmask[i / 64] |= 1ull << (i % 64);
                        wipe_add_range(w, off + p, n, wr ? 'w' : 'r', -rp);
                }
        }
        if (!nfail)
                return 0;
        pthread_mutex_lock(&w->lock);
        if (wr)
                w->write_errors += nfail;
        else
                w->read_errors += nfail;
        uint64_t total = w->write_errors + w->read_errors;
        pthread_mutex_unlock(&w->lock);
        if (off + len >= w->size)
                wipe_log(w, MG_LOG_WARNING,
                         "%s error in the last request, at the end of the medium (common on cheap "
                         "sticks, or a capacity the medium does not have)",
                         wr ? "write" : "read");
        wipe_log(w, MG_LOG_WARNING, "%s error at offset %llu (+%zu bytes), %u piece(s) failed",
                 wr ? "write" : "read", (unsigned long long)off, len, nfail);
        return total > WIPE_MAX_ERRORS ? -EIO : 0;
}

/* The I/O thread of a write pass: write each ready buffer in order. */
static void *wipe_pipe_writer(void *arg)
{
        struct wipe_pipe *pp = arg;
        for (size_t i = 0;; i++) {
                int s = (int)(i % PIPE_SLOTS);
                pthread_mutex_lock(&pp->mu);
                while (pp->state[s] != SLOT_READY && !pp->stop)
                        pthread_cond_wait(&pp->cv, &pp->mu);
                bool go = pp->state[s] == SLOT_READY && !pp->w->cancel;
                if (!go && pp->w->cancel && !pp->fatal)
                        pp->fatal = -ECANCELED; /* wakes a main thread waiting for a slot */
                pthread_cond_broadcast(&pp->cv);
                pthread_mutex_unlock(&pp->mu);
                if (!go)
                        break;
                uint64_t mask[PIPE_MASKW] = {0};
                size_t failed = 0;
                int r =
                    wipe_io_request(pp->w, true, pp->buf[s], pp->off[s], pp->len[s], mask, &failed);
                pthread_mutex_lock(&pp->mu);
                if (r < 0 && !pp->fatal)
                        pp->fatal = r;
                if (r == 0 || r == -EIO)
                        pp->done += pp->len[s] - failed;
                pp->state[s] = SLOT_FREE;
                pthread_cond_broadcast(&pp->cv);
                pthread_mutex_unlock(&pp->mu);
                if (r < 0)
                        break;
        }
        return NULL;
}

/* The I/O thread of a verify pass: read the plan's regions into free buffers in order. */
static void *wipe_pipe_reader(void *arg)
{
        struct wipe_pipe *pp = arg;
        struct mg_wipe *w = pp->w;
        size_t i = 0;
        for (size_t g = 0; g < pp->n_rg; g++) {
                for (uint64_t o = 0; o < pp->rg[g].len; o += w->io_size, i++) {
                        int s = (int)(i % PIPE_SLOTS);
                        pthread_mutex_lock(&pp->mu);
                        while (pp->state[s] != SLOT_FREE && !pp->stop)
                                pthread_cond_wait(&pp->cv, &pp->mu);
                        bool go = !pp->stop && !w->cancel;
                        if (!go && w->cancel && !pp->fatal)
                                pp->fatal = -ECANCELED;
                        pthread_cond_broadcast(&pp->cv);
                        pthread_mutex_unlock(&pp->mu);
                        if (!go)
                                return NULL;
                        uint64_t off = pp->rg[g].off + o;
                        size_t len = (size_t)MG_MIN((uint64_t)w->io_size, pp->rg[g].len - o);
                        memset(pp->badmask[s], 0, sizeof(pp->badmask[s]));
                        size_t failed = 0;
                        int r = wipe_io_request(w, false, pp->buf[s], off, len, pp->badmask[s],
                                                &failed);
                        pthread_mutex_lock(&pp->mu);
                        pp->off[s] = off;
                        pp->len[s] = len;
                        if (r < 0 && !pp->fatal)
                                pp->fatal = r;
                        pp->state[s] = SLOT_READY;
                        pthread_cond_broadcast(&pp->cv);
                        pthread_mutex_unlock(&pp->mu);
                        if (r < 0)
                                return NULL;
                }
        }
        return NULL;
}

/* Allocate the pipe's buffers. */
static int wipe_pipe_init(struct wipe_pipe *pp, struct mg_wipe *w, bool writing)
{
        *pp = (struct wipe_pipe){.w = w, .writing = writing};
        for (int s = 0; s < PIPE_SLOTS; s++) {
                /* 2 MiB aligned, huge pages where the kernel has them: pinning the buffer for
                 * each O_DIRECT request is then much cheaper. */
                void *b = NULL;
                if (posix_memalign(&b, 2u << 20, w->io_size) != 0)
                        return -ENOMEM;
                pp->buf[s] = b;
                (void)madvise(b, w->io_size, MADV_HUGEPAGE);
                memset(pp->buf[s], 0, w->io_size);
        }
        pthread_mutex_init(&pp->mu, NULL);
        pthread_cond_init(&pp->cv, NULL);
        return 0;
}

/* Free the pipe's buffers. */
static void wipe_pipe_done(struct wipe_pipe *pp)
{
        for (int s = 0; s < PIPE_SLOTS; s++)
                free(pp->buf[s]);
        pthread_mutex_destroy(&pp->mu);
        pthread_cond_destroy(&pp->cv);
}

/* Report progress; returns nonzero when the wipe is to stop. */
static int wipe_report(struct mg_wipe *w, struct wipe_meter *m, enum mg_wipe_phase phase,
                       unsigned pass_no, const char *pattern, uint64_t done, uint64_t total)
{
        double t = wipe_now();
        double dt = t - m->last_t;
        if (dt > 0.05 && done >= m->last_bytes) {
                double inst = (double)(done - m->last_bytes) / dt;
                double alpha = 1.0 - exp(-dt / 3.0);
                m->rate = m->rate > 0 ? m->rate + alpha * (inst - m->rate) : inst;
                m->last_t = t;
                m->last_bytes = done;
        }
        if (w->progress) {
                struct mg_wipe_progress p = {
                    .phase = phase,
                    .pass = pass_no,
                    .n_passes = w->n_passes,
                    .pattern = pattern,
                    .bytes_done = done,
                    .bytes_total = total,
                    .rate = m->rate,
                    .eta = m->rate > 0 ? (double)(total - MG_MIN(done, total)) / m->rate : -1,
                };
                if (w->progress(w->progress_ud, &p))
                        w->cancel = 1;
        }
        return w->cancel != 0;
}

#define WIPE_CMP_MAX (WIPE_IO_MAX / WIPE_BLOCK) /* blocks in the largest request */

/* What comparing part of a buffer found; merged into the pass in offset order. */
struct wipe_cmp {
        uint64_t verified, mismatched, aliased, min_alias;
        size_t n_bad;
        uint64_t bad_off[WIPE_CMP_MAX];
        uint32_t bad_len[WIPE_CMP_MAX];
};

/* Compare [@off, @off + @len) of the medium, read into @buf, with the pattern. @piece0 is the index
 * of @buf's first 64 KiB piece in @badmask (pieces that could not be read are skipped). */
static int wipe_cmp_range(const struct mg_wipe *w, struct wipe_stream *st, bool random,
                          const uint8_t *buf, uint64_t off, size_t len,
                          const uint64_t badmask[PIPE_MASKW], size_t piece0, uint8_t *exp,
                          struct wipe_cmp *c)
{
        static const uint8_t zero[WIPE_SPLIT];
        for (size_t q = 0, i = piece0; q < len; q += WIPE_SPLIT, i++) {
                size_t n = MG_MIN((size_t)WIPE_SPLIT, len - q);
                if (i < PIPE_MASKW * 64 && (badmask[i / 64] >> (i % 64)) & 1)
                        continue; /* unreadable: already a bad range */
                const uint8_t *want = zero;
                if (random) {
                        int r = wipe_stream_fill(st, off + q, exp, n);
                        if (r < 0)
                                return r;
                        want = exp;
                }
                if (!memcmp(buf + q, want, n)) {
                        c->verified += n;
                        continue;
                }
                /* Find the blocks that differ, and whether they hold another block's data. */
                for (size_t b = 0; b < n; b += WIPE_BLOCK) {
                        size_t bl = MG_MIN((size_t)WIPE_BLOCK, n - b);
                        const uint8_t *got = buf + q + b;
                        uint64_t here = off + q + b;
                        if (!memcmp(got, want + b, bl)) {
                                c->verified += bl;
                                continue;
                        }
                        if (random && bl >= WIPE_HDR) {
                                uint64_t no, id;
                                memcpy(&no, got, 8);
                                memcpy(&id, got + 8, 8);
                                no = le64toh(no);
                                id = le64toh(id);
                                uint64_t nblocks = (w->size + WIPE_BLOCK - 1) / WIPE_BLOCK;
                                uint8_t other[WIPE_BLOCK] __attribute__((aligned(16)));
                                if (id == st->wipe_id && no < nblocks && no != here / WIPE_BLOCK &&
                                    wipe_stream_fill(st, no * WIPE_BLOCK, other, WIPE_BLOCK) == 0 &&
                                    !memcmp(got, other, bl)) {
                                        uint64_t d =
                                            (no > here / WIPE_BLOCK ? no - here / WIPE_BLOCK
                                                                    : here / WIPE_BLOCK - no) *
                                            WIPE_BLOCK;
                                        c->aliased++;
                                        if (!c->min_alias || d < c->min_alias)
                                                c->min_alias = d;
                                }
                        }
                        c->mismatched++;
                        if (c->n_bad < WIPE_CMP_MAX) {
                                c->bad_off[c->n_bad] = here;
                                c->bad_len[c->n_bad++] = (uint32_t)bl;
                        }
                }
        }
        return 0;
}

/* Add what a comparison found to the pass and the record. */
static void wipe_cmp_merge(struct mg_wipe *w, struct wipe_pass *p, const struct wipe_cmp *c)
{
        p->bytes_verified += c->verified;
        p->mismatched_blocks += c->mismatched;
        p->aliased_blocks += c->aliased;
        if (c->min_alias && (!w->min_alias_distance || c->min_alias < w->min_alias_distance))
                w->min_alias_distance = c->min_alias;
        for (size_t i = 0; i < c->n_bad; i++)
                wipe_add_range(w, c->bad_off[i], c->bad_len[i], 'v', 0);
}

/* A second thread that generates or compares the upper half of each buffer, so the pattern work
 * runs on two cores while a third thread does the I/O. */
struct wipe_helper {
        pthread_t th;
        pthread_mutex_t mu;
        pthread_cond_t cv;
        bool has_job, quit;
        int ret;
        struct wipe_stream stream; /* same key, its own cipher context */
        uint8_t *exp;
        /* the job */
        const struct mg_wipe *w;
        bool fill, random;
        uint8_t *buf;
        uint64_t off;
        size_t len;
        const uint64_t *badmask;
        size_t piece0;
        struct wipe_cmp *cmp;
};

/* The helper thread: run jobs until told to quit. */
static void *wipe_helper_main(void *arg)
{
        struct wipe_helper *h = arg;
        pthread_mutex_lock(&h->mu);
        for (;;) {
                while (!h->has_job && !h->quit)
                        pthread_cond_wait(&h->cv, &h->mu);
                if (!h->has_job)
                        break;
                pthread_mutex_unlock(&h->mu);
                int r = h->fill ? wipe_stream_fill(&h->stream, h->off, h->buf, h->len)
                                : wipe_cmp_range(h->w, &h->stream, h->random, h->buf, h->off,
                                                 h->len, h->badmask, h->piece0, h->exp, h->cmp);
                pthread_mutex_lock(&h->mu);
                h->ret = r;
                h->has_job = false;
                pthread_cond_broadcast(&h->cv);
        }
        pthread_mutex_unlock(&h->mu);
        return NULL;
}

/* Start a helper; NULL when it cannot (the work then stays on one thread). */
static struct wipe_helper *wipe_helper_start(const struct mg_wipe *w)
{
        struct wipe_helper *h = calloc(1, sizeof(*h));
        if (!h)
                return NULL;
        h->w = w;
        h->exp = aligned_alloc(WIPE_BLOCK, WIPE_SPLIT);
        if (!h->exp || wipe_stream_init_key(&h->stream, w->stream.key, w->stream.nonce,
                                            w->stream.wipe_id) < 0) {
                free(h->exp);
                wipe_stream_free(&h->stream);
                free(h);
                return NULL;
        }
        pthread_mutex_init(&h->mu, NULL);
        pthread_cond_init(&h->cv, NULL);
        if (pthread_create(&h->th, NULL, wipe_helper_main, h) != 0) {
                pthread_mutex_destroy(&h->mu);
                pthread_cond_destroy(&h->cv);
                free(h->exp);
                wipe_stream_free(&h->stream);
                free(h);
                return NULL;
        }
        return h;
}

/* Stop and free a helper; accepts NULL. */
static void wipe_helper_stop(struct wipe_helper *h)
{
        if (!h)
                return;
        pthread_mutex_lock(&h->mu);
        h->quit = true;
        pthread_cond_broadcast(&h->cv);
        pthread_mutex_unlock(&h->mu);
        pthread_join(h->th, NULL);
        pthread_mutex_destroy(&h->mu);
        pthread_cond_destroy(&h->cv);
        free(h->exp);
        wipe_stream_free(&h->stream);
        free(h);
}

/* Hand the helper its job (fields already set). */
static void wipe_helper_submit(struct wipe_helper *h)
{
        pthread_mutex_lock(&h->mu);
        h->has_job = true;
        pthread_cond_broadcast(&h->cv);
        pthread_mutex_unlock(&h->mu);
}

/* Wait for the helper's job; returns its result. */
static int wipe_helper_wait(struct wipe_helper *h)
{
        pthread_mutex_lock(&h->mu);
        while (h->has_job)
                pthread_cond_wait(&h->cv, &h->mu);
        int r = h->ret;
        pthread_mutex_unlock(&h->mu);
        return r;
}

/* Where a buffer of @len bytes is cut between the threads (0: not worth it). */
static size_t wipe_half(const struct wipe_helper *h, size_t len)
{
        if (!h || len < 2 * WIPE_SPLIT)
                return 0;
        return len / 2 / WIPE_SPLIT * WIPE_SPLIT;
}

/* Fill a write buffer with the pattern, on two threads when there is a helper. */
static int wipe_fill(struct mg_wipe *w, struct wipe_helper *h, uint64_t off, uint8_t *buf,
                     size_t len)
{
        size_t half = wipe_half(h, len);
        if (!half)
                return wipe_stream_fill(&w->stream, off, buf, len);
        h->fill = true;
        h->buf = buf + half;
        h->off = off + half;
        h->len = len - half;
        wipe_helper_submit(h);
        int r = wipe_stream_fill(&w->stream, off, buf, half);
        int rh = wipe_helper_wait(h);
        return r < 0 ? r : rh;
}

/* Compare one read buffer with the pattern; count good bytes, record mismatches in order. */
static int wipe_verify_buf(struct mg_wipe *w, struct wipe_pass *p, struct wipe_helper *h,
                           bool random, const uint8_t *buf, uint64_t off, size_t len,
                           const uint64_t badmask[PIPE_MASKW], uint8_t *exp, struct wipe_cmp cmp[2])
{
        size_t half = wipe_half(h, len);
        memset(&cmp[0], 0, offsetof(struct wipe_cmp, bad_off));
        memset(&cmp[1], 0, offsetof(struct wipe_cmp, bad_off));
        if (half) {
                h->fill = false;
                h->random = random;
                h->buf = (uint8_t *)buf + half;
                h->off = off + half;
                h->len = len - half;
                h->badmask = badmask;
                h->piece0 = half / WIPE_SPLIT;
                h->cmp = &cmp[1];
                wipe_helper_submit(h);
        }
        int r = wipe_cmp_range(w, &w->stream, random, buf, off, half ? half : len, badmask, 0, exp,
                               &cmp[0]);
        int rh = half ? wipe_helper_wait(h) : 0;
        if (r < 0 || rh < 0)
                return r < 0 ? r : rh;
        wipe_cmp_merge(w, p, &cmp[0]);
        if (half)
                wipe_cmp_merge(w, p, &cmp[1]);
        return 0;
}

/* Write the pattern of pass @p over the whole target. */
int wipe_io_write_pass(struct mg_wipe *w, struct wipe_pass *p, unsigned pass_no)
{
        bool random = !strcmp(p->pattern, "random");
        struct wipe_meter m = {.t0 = wipe_now()};
        m.last_t = m.t0;
        if (wipe_report(w, &m, MG_WIPE_PHASE_WRITE, pass_no, p->pattern, 0, w->size))
                return -ECANCELED;

        struct wipe_pipe pp;
        int r = wipe_pipe_init(&pp, w, true);
        if (r < 0) {
                wipe_pipe_done(&pp);
                return r;
        }
        pthread_t th;
        r = -pthread_create(&th, NULL, wipe_pipe_writer, &pp);
        if (r < 0) {
                wipe_pipe_done(&pp);
                return r;
        }
        struct wipe_helper *h = random ? wipe_helper_start(w) : NULL;
        size_t i = 0;
        for (uint64_t off = 0; off < w->size; off += w->io_size, i++) {
                int s = (int)(i % PIPE_SLOTS);
                pthread_mutex_lock(&pp.mu);
                while (pp.state[s] != SLOT_FREE && !pp.fatal)
                        pthread_cond_wait(&pp.cv, &pp.mu);
                int fatal = pp.fatal;
                uint64_t done = pp.done;
                pthread_mutex_unlock(&pp.mu);
                if (fatal) {
                        r = fatal;
                        break;
                }
                if (wipe_report(w, &m, MG_WIPE_PHASE_WRITE, pass_no, p->pattern, done, w->size)) {
                        r = -ECANCELED;
                        break;
                }
                size_t len = (size_t)MG_MIN((uint64_t)w->io_size, w->size - off);
                if (random) {
                        r = wipe_fill(w, h, off, pp.buf[s], len);
                        if (r < 0)
                                break;
                }
                pthread_mutex_lock(&pp.mu);
                pp.off[s] = off;
                pp.len[s] = len;
                pp.state[s] = SLOT_READY;
                pthread_cond_broadcast(&pp.cv);
                pthread_mutex_unlock(&pp.mu);
        }
        pthread_mutex_lock(&pp.mu);
        pp.stop = true;
        pthread_cond_broadcast(&pp.cv);
        pthread_mutex_unlock(&pp.mu);
        pthread_join(th, NULL);
        wipe_helper_stop(h);
        if (r == 0 && pp.fatal)
                r = pp.fatal;
        if (r == 0 && w->cancel)
                r = -ECANCELED;
        p->bytes_written = pp.done;
        p->write_seconds = wipe_now() - m.t0;
        p->written = r == 0;
        if (r == 0)
                (void)wipe_report(w, &m, MG_WIPE_PHASE_WRITE, pass_no, p->pattern, pp.done,
                                  w->size);
        wipe_pipe_done(&pp);
        return r;
}

/* Read back and compare pass @p. */
int wipe_io_verify_pass(struct mg_wipe *w, struct wipe_pass *p, unsigned pass_no)
{
        bool random = !strcmp(p->pattern, "random");
        _cleanup_free_ struct wipe_region *plan = NULL;
        struct wipe_region full = {0, w->size};
        size_t n_rg = 1;
        const struct wipe_region *rg = &full;
        uint64_t total = w->size;
        if (p->verify == MG_WIPE_VERIFY_SAMPLE) {
                unsigned nsub = 0;
                int r = wipe_sample_plan(w->size, &plan, &n_rg, &nsub);
                if (r < 0)
                        return r;
                if (nsub == 0) {
                        wipe_log(w, MG_LOG_NOTICE, "medium too small to sample: full verify");
                        p->verify = MG_WIPE_VERIFY_FULL;
                        n_rg = 1;
                } else {
                        rg = plan;
                        p->subsections = nsub;
                        total = 0;
                        for (size_t i = 0; i < n_rg; i++)
                                total += plan[i].len;
                }
        }

        struct wipe_meter m = {.t0 = wipe_now()};
        m.last_t = m.t0;
        if (wipe_report(w, &m, MG_WIPE_PHASE_VERIFY, pass_no, p->pattern, 0, total))
                return -ECANCELED;
        _cleanup_free_ uint8_t *exp = aligned_alloc(WIPE_BLOCK, WIPE_SPLIT);
        _cleanup_free_ struct wipe_cmp *cmp = calloc(2, sizeof(*cmp));
        if (!exp || !cmp)
                return -ENOMEM;
        struct wipe_pipe pp;
        int r = wipe_pipe_init(&pp, w, false);
        if (r < 0) {
                wipe_pipe_done(&pp);
                return r;
        }
        pp.rg = rg;
        pp.n_rg = n_rg;
        pthread_t th;
        r = -pthread_create(&th, NULL, wipe_pipe_reader, &pp);
        if (r < 0) {
                wipe_pipe_done(&pp);
                return r;
        }
        struct wipe_helper *h = random ? wipe_helper_start(w) : NULL;
        uint64_t done = 0;
        for (size_t i = 0; done < total; i++) {
                int s = (int)(i % PIPE_SLOTS);
                pthread_mutex_lock(&pp.mu);
                while (pp.state[s] != SLOT_READY && !pp.fatal)
                        pthread_cond_wait(&pp.cv, &pp.mu);
                bool ready = pp.state[s] == SLOT_READY;
                int fatal = pp.fatal;
                pthread_mutex_unlock(&pp.mu);
                if (!ready) {
                        r = fatal;
                        break;
                }
                /* After a fatal error the buffer holds nothing worth comparing. */
                if (fatal && fatal != -EIO)
                        r = 0;
                else
                        r = wipe_verify_buf(w, p, h, random, pp.buf[s], pp.off[s], pp.len[s],
                                            pp.badmask[s], exp, cmp);
                done += pp.len[s];
                pthread_mutex_lock(&pp.mu);
                pp.state[s] = SLOT_FREE;
                pthread_cond_broadcast(&pp.cv);
                pthread_mutex_unlock(&pp.mu);
                if (r < 0)
                        break;
                if (fatal) {
                        r = fatal;
                        break;
                }
                if (wipe_report(w, &m, MG_WIPE_PHASE_VERIFY, pass_no, p->pattern, done, total)) {
                        r = -ECANCELED;
                        break;
                }
        }
        pthread_mutex_lock(&pp.mu);
        pp.stop = true;
        pthread_cond_broadcast(&pp.cv);
        pthread_mutex_unlock(&pp.mu);
        pthread_join(th, NULL);
        wipe_helper_stop(h);
        p->verify_seconds = wipe_now() - m.t0;
        p->verified = r == 0 && done >= total;
        p->verify_ok = p->verified && p->mismatched_blocks == 0 && p->bytes_verified == total;
        wipe_pipe_done(&pp);
        return r;
}
