/* The wipe module's internals shared by kiosk/src/wipe*.c. */
#ifndef MG_WIPE_INTERNAL_H
#define MG_WIPE_INTERNAL_H

#include <mediagate/wipe.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>

#include "util.h"

#define WIPE_BLOCK          4096u       /* tagging unit: every block carries its number */
#define WIPE_HDR            16u         /* block header: u64 LE block number, u64 LE wipe id */
#define WIPE_IO_DEFAULT     (4u << 20)  /* bytes per I/O request */
#define WIPE_IO_MAX         (8u << 20)  /* two buffers of this stay well within 32 MiB */
#define WIPE_MAX_RANGES     256         /* bad ranges kept in the record (the count goes on) */
#define WIPE_MAX_ERRORS     4096        /* I/O errors before a pass gives up */
#define WIPE_RETRIES        3           /* attempts per request before it is split */
#define WIPE_SPLIT          (64u << 10) /* granularity of bad ranges after a failed request */
#define WIPE_SAMPLE_SUBSECT 1000u       /* NIST 800-88 minimum subsections */
#define WIPE_STR            256         /* identity strings */

/* The keyed pattern stream: AES-256-CTR over zeroes, counter = byte offset / 16. */
struct wipe_stream {
        uint8_t key[32];
        uint8_t nonce[8];
        uint64_t wipe_id;
        void *ctx; /* EVP_CIPHER_CTX */
};

int wipe_stream_init(struct wipe_stream *s);
/* Use a given key and id (tests and the benchmark). */
int wipe_stream_init_key(struct wipe_stream *s, const uint8_t key[32], const uint8_t nonce[8],
                         uint64_t wipe_id);
void wipe_stream_free(struct wipe_stream *s);
/* Fill @buf with the pattern of device bytes [@off, @off + @len); @off is block-aligned. */
int wipe_stream_fill(struct wipe_stream *s, uint64_t off, uint8_t *buf, size_t len);

/* One verified or failed range. */
struct wipe_range {
        uint64_t off;
        uint64_t len;
        char op; /* 'w' write error, 'r' read error, 'v' verify mismatch */
        int err; /* errno for w/r */
};

/* One read-back region of a verify plan. */
struct wipe_region {
        uint64_t off;
        uint64_t len;
};

/* Build the NIST 800-88 sample plan for a device of @size bytes: sorted, merged, block-aligned
 * regions. *ret_n_sub is the number of subsections (0: device too small, use a full verify). */
int wipe_sample_plan(uint64_t size, struct wipe_region **ret, size_t *ret_n, unsigned *ret_n_sub);

/* What one pass did. */
struct wipe_pass {
        const char *pattern; /* "random" / "zero" */
        bool written;
        uint64_t bytes_written;
        double write_seconds;
        enum mg_wipe_verify verify;
        bool verified; /* a verify ran to completion */
        bool verify_ok;
        uint64_t bytes_verified;
        double verify_seconds;
        unsigned subsections;
        uint64_t mismatched_blocks;
        uint64_t aliased_blocks;
};

enum wipe_status { WIPE_NONE = 0, WIPE_ERASED, WIPE_FAILED };

struct mg_wipe {
        char *target;
        char *operator_name;
        char *ledger_path;
        enum mg_wipe_method method;
        enum mg_wipe_verify verify;
        unsigned flags;
        size_t io_size;
        mg_log_fn log;
        void *log_ud;
        mg_wipe_progress_fn progress;
        void *progress_ud;
        atomic_int cancel; /* lock-free: set from signal handlers and other threads */

        /* target */
        int fd;
        int fd_buffered; /* for requests O_DIRECT refuses */
        bool direct;
        bool is_block, is_loop, is_image, is_usb, removable;
        uint64_t size;
        unsigned lbs, pbs;
        char vendor[WIPE_STR], model[WIPE_STR], serial[WIPE_STR], media_type[64];

        /* crypto-erase */
        bool luks;
        char luks_type[16];
        int keyslots_destroyed;
        int luks_err;

        struct wipe_stream stream;
        bool stream_ready;

        /* record */
        enum wipe_status status;
        char failure[192]; /* why the wipe failed; empty when erased */
        time_t start, end;
        double seconds;
        struct wipe_pass passes[2];
        unsigned n_passes;
        uint64_t write_errors, read_errors;
        bool fake_capacity;
        uint64_t usable_size;        /* estimated real size when fake */
        uint64_t min_alias_distance; /* bytes */
        uint64_t first_bad_off;      /* UINT64_MAX: none */
        pthread_mutex_t lock;        /* ranges and error counters */
        struct wipe_range ranges[WIPE_MAX_RANGES];
        size_t n_ranges;
        uint64_t n_ranges_total;

        /* ledger */
        bool ledger_done;
        int ledger_err;
        uint64_t ledger_index;
        uint8_t ledger_leaf[32];
};

/* Log through the wipe's callback (message must not carry raw medium bytes). */
void wipe_log(struct mg_wipe *w, enum mg_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Read sysfs from @root instead of /sys (tests only); NULL restores /sys. */
void wipe_target_set_sysfs_root(const char *root);
/* Target checks, identity and the exclusive open. */
int wipe_target_open(struct mg_wipe *w);
void wipe_target_close(struct mg_wipe *w);
/* Crypto-erase LUKS keyslots if the target carries a LUKS header. 0 also when it does not. */
int wipe_luks_erase(struct mg_wipe *w);

/* Record a bad range (merging with the previous one when adjacent). Thread-safe. */
void wipe_add_range(struct mg_wipe *w, uint64_t off, uint64_t len, char op, int err);
/* Write the pattern of pass @p over the whole target. 0, or -ECANCELED / -EIO (too many errors). */
int wipe_io_write_pass(struct mg_wipe *w, struct wipe_pass *p, unsigned pass_no);
/* Read back and compare pass @p (full or sample). 0, or -ECANCELED / -EIO. */
int wipe_io_verify_pass(struct mg_wipe *w, struct wipe_pass *p, unsigned pass_no);

/* The certificate as JSON into @b; @ledger: with the ledger fields (the record's digest is taken
 * without them, since the ledger entry carries the digest). */
int wipe_cert_json(const struct mg_wipe *w, struct mg_buf *b, bool ledger);
/* SHA-256 of the certificate JSON without its ledger fields, as lowercase hex (65 bytes). */
int wipe_cert_digest(const struct mg_wipe *w, char hex[65]);

/* Record the WIPE entry in the ledger (when the ledger library is built in). */
int wipe_ledger_record(struct mg_wipe *w);
/* Check before the wipe that the ledger can be opened. */
int wipe_ledger_check(struct mg_wipe *w);

/* Monotonic seconds. */
double wipe_now(void);

#endif
