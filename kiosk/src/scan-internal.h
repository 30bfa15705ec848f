/* Internal structures of the scan module, shared by scan*.c. */
#ifndef MG_SCAN_INTERNAL_H
#define MG_SCAN_INTERNAL_H

#include <mediagate/scan.h>
#include <pthread.h>
#include <stdatomic.h>
#include <tsk/libtsk.h>

#include "util.h"

struct cl_engine;

#define SCAN_DEFAULT_MAX_FILE_SIZE ((uint64_t)100 << 20)
#define SCAN_DEFAULT_MEMORY_LIMIT  ((uint64_t)256 << 20)
/* raw regions are scanned in chunks larger than libclamav's MaxScriptNormalize (20 MB): it
 * script-normalizes smaller binary maps, doubling the cost per byte */
#define SCAN_RAW_CHUNK    ((size_t)24 << 20)
#define SCAN_RAW_OVERLAP  ((size_t)64 << 10) /* so a pattern across a seam is found */
#define SCAN_FILE_CHUNK   ((size_t)32 << 20) /* oversize files: chunk size */
#define SCAN_FILE_OVERLAP ((size_t)1 << 20)
#define SCAN_BATCH_BYTES  ((size_t)4 << 20) /* small files are batched per job */
#define SCAN_BATCH_ITEMS  256
/* libclamav's own memory for unpacking one large archive (decompression dictionaries, the
 * maps of its layers): measured 38-87 MiB for 18-50 MB zip, 7z and tar.gz files. An item
 * whose unpacking goes past SCAN_EXPAND_LARGE is charged this much against the limit. */
#define SCAN_EXPAND_LARGE  ((uint64_t)16 << 20)
#define SCAN_EXPAND_CHARGE ((uint64_t)64 << 20)
#define SCAN_THREAD_HEAP   ((uint64_t)16 << 20) /* see scan_pool_start() */
#define SCAN_BOOT_AREA     ((uint64_t)64 << 10) /* first bytes of a volume: boot records */
#define SCAN_MAX_PATH      ((size_t)32 << 10)
#define SCAN_MAX_PARTS     256
#define SCAN_MAX_DIR_BYTES ((uint64_t)64 << 20) /* a directory's own size */

struct mg_scan_engine {
        atomic_int refs;
        struct cl_engine *cl;
        char *tmpdir;
        struct mg_scan_engine_info info;
        uint64_t max_file_size;
        mg_log_fn log;
        void *log_userdata;
};

/* One object handed to the signature engine. */
struct scan_item {
        enum mg_region region;
        int volume;
        bool deleted;
        bool carve; /* raw bytes: also carve embedded executables */
        bool chunk; /* one chunk of an oversize file */
        bool first_chunk;
        bool charged;    /* SCAN_EXPAND_CHARGE held for its unpacking until the job retires */
        char *path;      /* raw bytes, owned; NULL outside files */
        char *stream;    /* owned; NULL for the default stream */
        uint64_t offset; /* on the medium */
        size_t data_off; /* into the job's buffer */
        size_t len;
};

/* A unit of work for a scanning thread: one or more items and their bytes. */
struct scan_job {
        struct scan_item *items;
        size_t n_items, cap_items;
        unsigned char *buf;
        size_t buf_len, buf_cap;
        uint64_t mem; /* bytes charged against the memory limit */
        struct scan_job *next;
};

/* A job buffer kept for reuse: mapping and faulting in a fresh 24 MiB per raw chunk cost more
 * than reading it. Spares stay charged against the memory limit until evicted. */
struct scan_spare {
        unsigned char *buf;
        size_t cap;
};
#define SCAN_MAX_SPARES 8

struct scan_pool {
        pthread_mutex_t lock;
        pthread_cond_t cond_work, cond_space;
        struct scan_job *head, *tail;
        uint64_t mem_used, mem_limit; /* mem_used: jobs in flight, spares not included */
        uint64_t engine_charge;       /* unpacking in progress (SCAN_EXPAND_CHARGE per item) */
        unsigned busy;                /* scanning threads at work (not waiting for memory) */
        struct scan_spare spares[SCAN_MAX_SPARES];
        unsigned n_spares;
        uint64_t spare_bytes;
        unsigned jobs; /* jobs charged and not yet released */
        bool closing;
        int error; /* first error of a worker */
        pthread_t *threads;
        unsigned n_threads;
};

struct scan_detection_rec {
        struct mg_scan_detection pub;
        char *signature, *path, *stream;
};

struct mg_scan {
        struct mg_scan_engine *engine;
        char *target;
        struct mg_scan_options opts;
        atomic_bool cancelled;

        /* medium */
        TSK_IMG_INFO *img;
        uint64_t size;

        /* results, protected by lock */
        pthread_mutex_t lock;
        enum mg_verdict verdict;
        bool ran;
        struct scan_detection_rec *dets;
        size_t n_dets, cap_dets;
        struct mg_scan_volume *vols;
        size_t n_vols, cap_vols;
        char **reasons;
        size_t n_reasons, cap_reasons;
        uint64_t files, bytes_scanned;
        atomic_uint_fast64_t bytes_read;

        /* progress (reader thread only) */
        uint64_t progress_pos;
        double t_start, t_last_progress;
        double seconds;
        uint64_t peak_rss;

        struct scan_pool pool;
        struct scan_job *batch;   /* small files being batched by the reader */
        unsigned char *probe;     /* the reader's look-ahead over blank raw space */
        uint64_t raw_data_chunks; /* raw chunks that were not blank (or not read) */
};

/* scan.c */
double scan_now(void);
void scan_log(struct mg_scan *s, enum mg_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Raise the verdict to at least @v and record a reason (printf-style, already escaped). */
void scan_flag(struct mg_scan *s, enum mg_verdict v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int scan_add_detection(struct mg_scan *s, const struct scan_item *it, const char *signature,
                       uint64_t offset);
int scan_add_volume(struct mg_scan *s, uint64_t off, uint64_t len, const char *scheme,
                    int *ret_index);
void scan_set_volume(struct mg_scan *s, int index, const char *filesystem,
                     enum mg_volume_status status, const char *reason);
void scan_progress(struct mg_scan *s, uint64_t pos, const char *path, bool force);
/* Escape a raw path for a reason line (malloc'd, never NULL on success). */
char *scan_escape_path(const char *path);

/* scan-clam.c */
int scan_clam_engine_load(struct mg_scan_engine *e, const struct mg_scan_engine_options *o);
void scan_clam_engine_free(struct mg_scan_engine *e);
/* Do the first bytes look like an archive or document libclamav unpacks (magic numbers)? */
bool scan_clam_sniff_container(const unsigned char *p, size_t n);
/* Scan one item's bytes; records detections and reasons in @s. */
int scan_clam_item(struct mg_scan *s, const struct scan_item *it, const unsigned char *data);

/* scan-pool.c */
int scan_pool_start(struct mg_scan *s);
/* Stop the workers after the queue drained; returns the first worker error. */
int scan_pool_finish(struct mg_scan *s);
/* A new job able to hold @bytes, charged against the memory limit (blocks while over it). */
int scan_job_new(struct mg_scan *s, size_t bytes, struct scan_job **ret);
/* Add an item to @j, reserving @len bytes in its buffer; returns its data pointer. */
unsigned char *scan_job_add(struct scan_job *j, const struct scan_item *tmpl, size_t len);
/* Hand a job to the workers (or scan it inline with one thread). Takes ownership. */
int scan_job_submit(struct mg_scan *s, struct scan_job *j);
void scan_job_free(struct scan_job *j);
/* Release a job that needs no scanning, with its memory. */
void scan_job_drop(struct mg_scan *s, struct scan_job *j);
/* Charge libclamav's unpacking of a large archive against the memory limit; waits while that
 * would go over it and another thread is at work (whose end frees memory). */
void scan_pool_expand_charge(struct mg_scan *s, uint64_t bytes);
void scan_pool_expand_release(struct mg_scan *s, uint64_t bytes);
/* Queue a file's bytes through the small-file batch; @read fills the buffer. */
int scan_batch_add(struct mg_scan *s, const struct scan_item *tmpl, size_t len,
                   int (*read)(void *ud, unsigned char *buf, size_t len), void *ud);
int scan_batch_flush(struct mg_scan *s);

/* scan-img.c */
/* Open a regular file or block device for libtsk (closed by tsk_img_close()). */
int scan_img_open(const char *path, TSK_IMG_INFO **ret);

/* scan-walk.c */
int scan_walk_medium(struct mg_scan *s);

#endif
