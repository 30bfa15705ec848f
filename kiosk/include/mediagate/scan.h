/* mediagate scan: judge a medium (block device or disk image) from its raw bytes, never mounting
 * it. */
#ifndef MEDIAGATE_SCAN_H
#define MEDIAGATE_SCAN_H

#include <mediagate/mediagate.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Verdicts, ordered from best to worst: a medium's verdict is the maximum over its parts. */
enum mg_verdict {
        MG_VERDICT_CLEAN = 0,
        MG_VERDICT_UNREADABLE = 1, /* corrupt or unknown file system or partition table */
        MG_VERDICT_ENCRYPTED =
            2,                 /* an encrypted volume (LUKS, BitLocker, FileVault, high entropy) */
        MG_VERDICT_UNSAFE = 3, /* content that could not be judged or breaks policy */
        MG_VERDICT_INFECTED = 4, /* a signature matched */
};

/* Where a detection was found. */
enum mg_region {
        MG_REGION_FILE = 0,    /* a file's stream (live or deleted) */
        MG_REGION_UNALLOCATED, /* unallocated space inside a file system */
        MG_REGION_GAP,         /* bytes outside every partition */
        MG_REGION_BOOT,        /* MBR, partition tables, volume boot records */
        MG_REGION_RAW,         /* a volume whose file system could not be read */
};

/* State of one volume (partition, or the whole device without a partition table). */
enum mg_volume_status {
        MG_VOLUME_OK = 0,         /* file system read and scanned */
        MG_VOLUME_UNREADABLE = 1, /* unknown or corrupt: scanned as raw bytes */
        MG_VOLUME_ENCRYPTED = 2,  /* encrypted: scanned as raw bytes */
};

/* The signature engine: loaded once, shared by many scans and threads (reference counted). */
struct mg_scan_engine;
/* One scan of one medium. */
struct mg_scan;

struct mg_scan_engine_options {
        const char *db_path;    /* directory or file; NULL: /var/lib/clamav */
        const char *tmpdir;     /* parent of the engine's private temp dir; NULL: $TMPDIR or /tmp */
        uint64_t max_file_size; /* engine per-file limit; larger files are scanned in chunks
                                   (0: 100 MiB) */
        uint64_t max_scan_size; /* bytes scanned per file including unpacked content (0: 400 MiB) */
        uint32_t max_files;     /* members per archive (0: 10000) */
        uint32_t max_recursion; /* archive nesting (0: 17) */
        uint32_t max_scan_time_s; /* per file (0: 120) */
        mg_log_fn log;
        void *log_userdata;
};

struct mg_scan_engine_info {
        uint64_t signatures; /* signatures loaded */
        bool dated;          /* a .cvd/.cld/.cud header gave version and build time */
        uint32_t version;    /* of the newest dated database file (daily if present) */
        int64_t built;       /* build time, seconds since the epoch (valid if dated) */
        double load_seconds; /* time to load and compile */
};

/* Load and compile the signature database. Returns 0 or -errno (-ENOENT: no database). */
int mg_scan_engine_new(const struct mg_scan_engine_options *opts, struct mg_scan_engine **ret);
/* Take a reference. */
struct mg_scan_engine *mg_scan_engine_ref(struct mg_scan_engine *e);
/* Drop a reference; the last one frees the engine and its temp dir. Accepts NULL. */
void mg_scan_engine_unref(struct mg_scan_engine *e);
/* Describe the loaded database. */
void mg_scan_engine_get_info(const struct mg_scan_engine *e, struct mg_scan_engine_info *ret);

struct mg_scan_progress {
        uint64_t bytes_done;  /* approximate position in the medium */
        uint64_t bytes_total; /* medium size */
        uint64_t files;       /* streams scanned so far */
        const char *path;     /* current path (escaped, may be NULL) */
        double seconds;       /* since the scan started */
};

struct mg_scan_detection {
        const char *signature; /* signature name */
        const char *path;      /* raw path bytes inside its file system (NUL-terminated); NULL
                                  outside files. Untrusted: escape before display. */
        const char *stream;    /* alternate data stream name (raw), or NULL */
        bool deleted;          /* in a deleted file */
        enum mg_region region;
        int volume;      /* index into the volumes, -1 outside every volume */
        uint64_t offset; /* byte offset on the medium of the scanned object (0 if unknown
                            for a file) */
};

struct mg_scan_volume {
        int index;
        uint64_t offset, length; /* bytes on the medium */
        const char *scheme;      /* "dos", "gpt", "mac", "bsd", "sun", "none" */
        const char *filesystem;  /* "fat32", "ntfs", "ext4", ... or NULL if unknown */
        enum mg_volume_status status;
        const char *reason; /* why it is unreadable or encrypted (escaped), or NULL */
};

struct mg_scan_stats {
        uint64_t files;          /* file streams scanned */
        uint64_t bytes;          /* bytes handed to the engine */
        uint64_t bytes_read;     /* bytes read from the medium */
        double seconds;          /* wall time of the scan */
        uint64_t peak_rss_bytes; /* process peak RSS at the end of the scan */
};

typedef void (*mg_scan_progress_fn)(void *userdata, const struct mg_scan_progress *p);
/* Called for each detection as it is found, from the scanning thread that found it. */
typedef void (*mg_scan_detection_fn)(void *userdata, const struct mg_scan_detection *d);

struct mg_scan_options {
        unsigned threads;      /* scanning threads; 0: one per core; 1: no worker threads */
        uint64_t memory_limit; /* bytes above the engine: data in flight, unpacking (0: 256 MiB) */
        /* The scanner's own archive-bomb accounting, per top-level file (0: default). */
        uint64_t bomb_max_expanded; /* total bytes unpacked (default 1 GiB) */
        uint32_t bomb_max_ratio;    /* unpacked / packed (default 200) */
        uint32_t bomb_max_members;  /* archive members (default 20000) */
        uint32_t bomb_max_depth;    /* nesting depth (default 16) */
        uint32_t max_dir_depth;     /* directory levels walked (default 4096) */
        mg_scan_progress_fn progress;
        mg_scan_detection_fn detection;
        void *userdata;
        mg_log_fn log;
        void *log_userdata;
};

/* Prepare a scan of @target (opened read-only; nothing is mounted or written). */
int mg_scan_new(struct mg_scan_engine *e, const char *target, const struct mg_scan_options *opts,
                struct mg_scan **ret);
/* Run the scan. On success returns 0 and sets *ret_verdict; on error (-ECANCELED if cancelled,
 * -EIO, -ENOMEM, ...) returns -errno and never sets a verdict. */
int mg_scan_run(struct mg_scan *s, enum mg_verdict *ret_verdict);
/* Ask a running scan to stop; safe from any thread or a signal handler. */
void mg_scan_cancel(struct mg_scan *s);
/* Results, valid after mg_scan_run() returned 0 and until mg_scan_free(). */
size_t mg_scan_n_detections(const struct mg_scan *s);
const struct mg_scan_detection *mg_scan_get_detection(const struct mg_scan *s, size_t i);
size_t mg_scan_n_volumes(const struct mg_scan *s);
const struct mg_scan_volume *mg_scan_get_volume(const struct mg_scan *s, size_t i);
/* Why the verdict is not clean: escaped, human-readable lines. */
size_t mg_scan_n_reasons(const struct mg_scan *s);
const char *mg_scan_get_reason(const struct mg_scan *s, size_t i);
void mg_scan_get_stats(const struct mg_scan *s, struct mg_scan_stats *ret);
/* The whole report as one JSON document (malloc'd). Needs a verdict from mg_scan_run(). */
int mg_scan_report_json(const struct mg_scan *s, char **ret_json);
/* Free a scan. Accepts NULL. */
void mg_scan_free(struct mg_scan *s);

/* Names for the enums ("clean", "file", "ok", ...). */
const char *mg_verdict_to_string(enum mg_verdict v);
const char *mg_region_to_string(enum mg_region r);
const char *mg_volume_status_to_string(enum mg_volume_status s);

#ifdef __cplusplus
}
#endif
#endif
