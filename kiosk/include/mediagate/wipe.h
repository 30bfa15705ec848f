/* mediagate: verified overwrite of removable media, fake-capacity detection and certificates. */
#ifndef MEDIAGATE_WIPE_H
#define MEDIAGATE_WIPE_H

#include <mediagate/mediagate.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One wipe of one target: options, the run, and the resulting record. Opaque. */
struct mg_wipe;

enum mg_wipe_method {
        MG_WIPE_RANDOM = 0,  /* one pass of a keyed AES-256-CTR stream, each 4 KiB block tagged */
        MG_WIPE_ZERO,        /* one pass of zeroes */
        MG_WIPE_RANDOM_ZERO, /* NIST 800-88 Clear: the random pass (verified), then zeroes */
};

enum mg_wipe_verify {
        MG_WIPE_VERIFY_FULL = 0, /* O_DIRECT read-back of every block */
        MG_WIPE_VERIFY_SAMPLE,   /* NIST 800-88 sampling: >= 1000 subsections, >= 10% */
        MG_WIPE_VERIFY_OFF,
};

enum mg_wipe_phase {
        MG_WIPE_PHASE_CRYPTO_ERASE = 0,
        MG_WIPE_PHASE_WRITE,
        MG_WIPE_PHASE_VERIFY,
        MG_WIPE_PHASE_DONE,
};

enum mg_wipe_flags {
        /* Allow a regular image file or a loop device (never a mounted or held one). */
        MG_WIPE_FORCE_IMAGE = 1u << 0,
        /* Do not try O_DIRECT: buffered I/O with fdatasync and POSIX_FADV_DONTNEED. */
        MG_WIPE_NO_DIRECT = 1u << 1,
        /* The caller knows (from its own records) that the kiosk provisioned this LUKS volume, so
         * every write to it was encrypted and every key copy is accounted for: the crypto-erase
         * then counts as sanitization in the record. Never set for a stranger's medium. */
        MG_WIPE_KIOSK_PROVISIONED = 1u << 2,
};

/* A progress report. Bytes count within the current phase of the current pass. */
struct mg_wipe_progress {
        enum mg_wipe_phase phase;
        unsigned pass;       /* 1-based */
        unsigned n_passes;   /* passes of the method */
        const char *pattern; /* "random" or "zero" */
        uint64_t bytes_done;
        uint64_t bytes_total;
        double rate; /* bytes per second, moving average over the last few seconds */
        double eta;  /* seconds left in this phase, < 0 when unknown */
};

/* Progress callback: called, in the thread that runs mg_wipe_run(), at the start of each phase and
 * after every I/O request. Return nonzero to cancel the wipe (the record then says FAILED,
 * cancelled). */
typedef int (*mg_wipe_progress_fn)(void *userdata, const struct mg_wipe_progress *p);

/* Create a wipe of @target (a block device or, with MG_WIPE_FORCE_IMAGE, an image file).
 * Nothing is opened yet. Returns 0 or -ENOMEM / -EINVAL. */
int mg_wipe_new(const char *target, struct mg_wipe **ret);
/* Free a wipe; accepts NULL. Key material is wiped. */
void mg_wipe_free(struct mg_wipe *w);

void mg_wipe_set_method(struct mg_wipe *w, enum mg_wipe_method m);
void mg_wipe_set_verify(struct mg_wipe *w, enum mg_wipe_verify v);
void mg_wipe_set_flags(struct mg_wipe *w, unsigned flags);
void mg_wipe_set_log(struct mg_wipe *w, mg_log_fn fn, void *userdata);
void mg_wipe_set_progress(struct mg_wipe *w, mg_wipe_progress_fn fn, void *userdata);
/* Operator name recorded in the certificate (untrusted text: escaped on output). */
int mg_wipe_set_operator(struct mg_wipe *w, const char *name);
/* Ledger directory to record the WIPE entry in; NULL: none. */
int mg_wipe_set_ledger(struct mg_wipe *w, const char *path);
/* Size of each I/O request, a multiple of 64 KiB between 64 KiB and 8 MiB (default 4 MiB). */
int mg_wipe_set_io_size(struct mg_wipe *w, size_t bytes);

/* Ask a running wipe to stop. Async-signal-safe and thread-safe. */
void mg_wipe_cancel(struct mg_wipe *w);

/*
 * Run the wipe. Returns a negative errno when the target is refused or cannot be opened, before
 * anything was written (-EPERM: image file without MG_WIPE_FORCE_IMAGE, not removable, not USB;
 * -EBUSY: mounted, held or in use; -EROFS: write-protected; -ENOENT...): no record then.
 * Returns 0 when a record was produced, whether the medium is erased or not; *ret_erased (may be
 * NULL) says which. A wipe can run once.
 */
int mg_wipe_run(struct mg_wipe *w, bool *ret_erased);

/* The outcome of a finished wipe, for front ends (the certificate has everything). */
struct mg_wipe_result {
        bool erased;
        const char *failure; /* why not erased ("" when erased); valid while the wipe lives */
        uint64_t reported_capacity;
        uint64_t verified_capacity; /* 0 when no tagged pass was verified */
        bool fake_capacity;
        uint64_t usable_capacity; /* when fake_capacity */
        uint64_t bytes_written;
        uint64_t bytes_verified;
        uint64_t errors; /* write errors + read errors + mismatched blocks */
        double seconds;
};

/* Fill *ret with the outcome. -EINVAL before mg_wipe_run produced a record. */
int mg_wipe_get_result(const struct mg_wipe *w, struct mg_wipe_result *ret);

/* The record as certificate JSON (malloc'd string). -EINVAL before mg_wipe_run produced one. */
int mg_wipe_certificate_json(const struct mg_wipe *w, char **ret);
/* Write the certificate as a PDF to @path, with a QR code of the ledger entry. */
int mg_wipe_certificate_pdf(const struct mg_wipe *w, const char *path);

/* The WIPE ledger entry of a finished wipe: its index and RFC 6962 leaf hash. Returns 0, -ENOENT
 * when no ledger was asked for, or the error that kept the entry from being recorded
 * (-EOPNOTSUPP: built without the ledger library). Out parameters may be NULL. */
int mg_wipe_ledger_entry(const struct mg_wipe *w, uint64_t *ret_index, uint8_t ret_leaf_hash[32]);

/* Parse "random", "zero", "random+zero"; "full", "sample", "off". 0 or -EINVAL. */
int mg_wipe_method_from_string(const char *s, enum mg_wipe_method *ret);
int mg_wipe_verify_from_string(const char *s, enum mg_wipe_verify *ret);
const char *mg_wipe_method_to_string(enum mg_wipe_method m);
const char *mg_wipe_verify_to_string(enum mg_wipe_verify v);

#ifdef __cplusplus
}
#endif
#endif
