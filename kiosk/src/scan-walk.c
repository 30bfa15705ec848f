/* Walking a medium with The Sleuth Kit: partitions, gaps, boot records, file systems, every
 * file and stream (deleted ones too), and unallocated space. Nothing is mounted. */
#include <mediagate/escape.h>
#include <string.h>

#include "scan-internal.h"

/* A set of inode numbers (open addressing), to notice files the directory walk missed. */
struct inum_set {
        uint64_t *slots; /* value + 1; 0 = empty */
        size_t cap, n;
};

/* Insert @v; returns 1 if new, 0 if present, -ENOMEM. */
static int inum_set_add(struct inum_set *set, uint64_t v)
{
        if ((set->n + 1) * 2 > set->cap) {
                size_t cap = set->cap ? set->cap * 2 : 1024;
                if (cap > ((size_t)1 << 28))
                        return -ENOMEM;
                uint64_t *n = calloc(cap, sizeof(uint64_t));
                if (!n)
                        return -ENOMEM;
                for (size_t i = 0; i < set->cap; i++) {
                        if (!set->slots[i])
                                continue;
                        size_t h =
                            (size_t)((set->slots[i] * 0x9e3779b97f4a7c15ULL) >> 7) & (cap - 1);
                        while (n[h])
                                h = (h + 1) & (cap - 1);
                        n[h] = set->slots[i];
                }
                free(set->slots);
                set->slots = n;
                set->cap = cap;
        }
        uint64_t key = v + 1;
        size_t h = (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 7) & (set->cap - 1);
        while (set->slots[h]) {
                if (set->slots[h] == key)
                        return 0;
                h = (h + 1) & (set->cap - 1);
        }
        set->slots[h] = key;
        set->n++;
        return 1;
}

/* True if @v is in the set. */
static bool inum_set_has(const struct inum_set *set, uint64_t v)
{
        if (!set->cap)
                return false;
        uint64_t key = v + 1;
        size_t h = (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 7) & (set->cap - 1);
        while (set->slots[h]) {
                if (set->slots[h] == key)
                        return true;
                h = (h + 1) & (set->cap - 1);
        }
        return false;
}

/* A directory waiting to be walked. */
struct walk_dir {
        TSK_INUM_T inum;
        char *path;
        uint32_t depth;
        bool deleted;
};

/* A range of file-system blocks, [start, end). */
struct walk_range {
        uint64_t start, end;
};

/* State of the walk over one file system. */
struct walk_fs {
        struct mg_scan *s;
        TSK_FS_INFO *fs;
        int volume;
        uint64_t vol_off, vol_len;
        bool corrupt;
        struct inum_set files, dirs;
        struct walk_dir *stack;
        size_t n_stack, cap_stack;
        /* unallocated run being merged */
        uint64_t run_start, run_len;
        /* blocks already scanned as content of recovered deleted files (sorted before the
         * block walk, which then skips them) */
        struct walk_range *done;
        size_t n_done, cap_done, done_pos;
        /* FAT's orphan directory, walked after the unallocated space (see walk_entry) */
        TSK_INUM_T orphan_inum;
        char *orphan_path;
        bool orphans_now;
        int error;
};

/* FAT12/16/32 and exFAT. */
static bool walk_is_fat(const TSK_FS_INFO *fs)
{
        return TSK_FS_TYPE_ISFAT(fs->ftype) || fs->ftype == TSK_FS_TYPE_EXFAT;
}

/* The fill byte if all @n bytes are 0x00, or all are 0xFF; -1 otherwise. */
static int walk_blank_fill(const unsigned char *p, size_t n)
{
        static const unsigned char zero[4096], ones[4096] = {[0 ... 4095] = 0xff};
        if (n == 0 || (p[0] != 0 && p[0] != 0xff))
                return -1;
        const unsigned char *ref = p[0] ? ones : zero;
        for (size_t i = 0; i < n; i += sizeof(zero))
                if (memcmp(p + i, ref, MG_MIN(sizeof(zero), n - i)) != 0)
                        return -1;
        return p[0];
}

/* Raw state of one region: where reading stands, and its read errors. */
struct walk_raw {
        struct mg_scan *s;
        enum mg_region region;
        int volume;
        const char *path; /* a libtsk virtual file read as raw space, or NULL */
        uint64_t off, len, pos;
        int fill;          /* the byte of the blank space just before pos, or -1 */
        bool blank_before; /* pos follows blank space that no chunk covered */
        uint64_t bad, first_bad;
        unsigned char *probe; /* WALK_PROBE bytes */
};

/* Skip blank space cheaply: read ahead in small pieces that stay in the CPU cache while they are
 * all 0x00 (never written) or all 0xFF (erased flash), the same byte throughout. Stops at the
 * first piece that is not, or on a read error, with r->pos at that piece. */
#define WALK_PROBE ((size_t)256 << 10)
static int walk_raw_skip_blank(struct walk_raw *r)
{
        struct mg_scan *s = r->s;
        int fill = r->fill;
        while (r->pos < r->len) {
                if (atomic_load(&s->cancelled))
                        return -ECANCELED;
                size_t n = (size_t)MG_MIN((uint64_t)WALK_PROBE, r->len - r->pos);
                ssize_t k = tsk_img_read(s->img, (TSK_OFF_T)(r->off + r->pos), (char *)r->probe, n);
                if (k != (ssize_t)n) {
                        tsk_error_reset();
                        return 0; /* the chunk read meets the error and records it */
                }
                int f = walk_blank_fill(r->probe, n);
                if (f < 0 || (fill >= 0 && f != fill))
                        return 0;
                fill = f;
                r->blank_before = true;
                atomic_fetch_add(&s->bytes_read, (uint64_t)n);
                r->pos += n;
                scan_progress(s, r->off + r->pos, NULL, false);
        }
        return 0;
}

/* Read and queue one chunk from r->pos; sets *tail_blank if its last bytes are blank. */
static int walk_raw_chunk(struct walk_raw *r, bool *tail_blank)
{
        struct mg_scan *s = r->s;
        size_t n = (size_t)MG_MIN((uint64_t)SCAN_RAW_CHUNK, r->len - r->pos);
        uint64_t at = r->off + r->pos;
        struct scan_job *j;
        int ret = scan_job_new(s, n, &j);
        if (ret < 0)
                return ret;
        struct scan_item tmpl = {.region = r->region,
                                 .volume = r->volume,
                                 .carve = true,
                                 .path = (char *)r->path,
                                 .offset = at};
        unsigned char *buf = scan_job_add(j, &tmpl, n);
        if (!buf) {
                scan_job_drop(s, j);
                return -ENOMEM;
        }
        ssize_t k = tsk_img_read(s->img, (TSK_OFF_T)at, (char *)buf, n);
        if (k != (ssize_t)n) {
                /* a read error must not end the region: scan what came back, note the rest, and
                 * go on with the next chunk */
                tsk_error_reset();
                if (!r->bad++)
                        r->first_bad = at + (k > 0 ? (uint64_t)k : 0);
                k = k > 0 ? k : 0;
                j->items[0].len = (size_t)k;
                j->buf_len = (size_t)k;
        }
        atomic_fetch_add(&s->bytes_read, (uint64_t)k);
        bool full = k == (ssize_t)n;
        int fill = k > 0 ? walk_blank_fill(buf, (size_t)k) : -1;
        size_t keep = (size_t)k;
        if (k == 0 || fill >= 0) {
                /* unread, or blank throughout: nothing can match here that the overlap with
                 * its neighbours does not already cover */
                scan_job_drop(s, j);
                ret = 0;
        } else {
                s->raw_data_chunks++;
                /* leave blank space at the end out (but a seam's width): the probe goes on
                 * after it, and a little data at a chunk's start does not cost 24 MiB */
                while (full && keep >= 2 * WALK_PROBE) {
                        int f = walk_blank_fill(buf + keep - WALK_PROBE, WALK_PROBE);
                        if (f < 0 || (fill >= 0 && f != fill))
                                break;
                        fill = f;
                        keep -= WALK_PROBE;
                }
                if (keep < (size_t)k) {
                        j->items[0].len = keep + SCAN_RAW_OVERLAP;
                        j->buf_len = keep + SCAN_RAW_OVERLAP;
                }
                ret = scan_job_submit(s, j);
        }
        if (!full)
                s->raw_data_chunks++; /* unread: it may hold data */
        if (ret < 0)
                return ret;
        scan_progress(s, at + n, NULL, false);
        /* blank to its end (all of it, or the part left out): the probe goes on after it */
        *tail_blank = full && fill >= 0;
        r->fill = *tail_blank ? fill : -1;
        r->blank_before = *tail_blank;
        if (r->pos + n >= r->len)
                r->pos = r->len;
        else if (*tail_blank)
                r->pos += n;
        else
                r->pos += n - SCAN_RAW_OVERLAP;
        return 0;
}

/* Scan a range of raw medium bytes in overlapping chunks, skipping blank space. */
static int walk_raw(struct mg_scan *s, enum mg_region region, int volume, uint64_t off,
                    uint64_t len, const char *path)
{
        if (off >= s->size)
                return 0;
        /* page-aligned: the kernel copies into a buffer misaligned by 16 bytes (malloc's) at a
         * quarter of the speed on this class of CPU */
        if (!s->probe && !(s->probe = aligned_alloc(4096, WALK_PROBE)))
                return -ENOMEM;
        struct walk_raw r = {.s = s,
                             .region = region,
                             .volume = volume,
                             .path = path,
                             .off = off,
                             .len = MG_MIN(len, s->size - off),
                             .fill = -1,
                             .probe = s->probe};
        bool probing = true;
        while (r.pos < r.len) {
                if (atomic_load(&s->cancelled))
                        return -ECANCELED;
                if (probing) {
                        int ret = walk_raw_skip_blank(&r);
                        if (ret < 0)
                                return ret;
                        if (r.pos >= r.len)
                                break;
                        /* start the chunk a seam's width into the blank space, as a chunk after
                         * a blank one always did */
                        if (r.blank_before)
                                r.pos -= MG_MIN(r.pos, (uint64_t)SCAN_RAW_OVERLAP);
                }
                int ret = walk_raw_chunk(&r, &probing);
                if (ret < 0)
                        return ret;
        }
        if (r.bad)
                scan_flag(
                    s, MG_VERDICT_UNREADABLE,
                    "read errors on the medium in %llu chunk(s) from offset %llu: those bytes "
                    "were not scanned",
                    (unsigned long long)r.bad, (unsigned long long)r.first_bad);
        return 0;
}

/* Reader of one attribute for scan_batch_add(). */
struct walk_attr_read {
        struct walk_fs *w;
        const TSK_FS_ATTR *attr;
        const char *path;
        bool deleted;
        bool ok; /* the last fill read everything */
        uint64_t off;
};

/* Read what can be read of [@off, @off + @len) of the attribute block by block, zero-filling the
 * blocks that fail; returns how many failed (at most @max_bad, then the rest is zeros too). */
static uint64_t walk_attr_salvage(struct walk_attr_read *r, unsigned char *buf, uint64_t off,
                                  size_t len, uint64_t max_bad, uint64_t *first_bad)
{
        size_t bs = MG_MAX((size_t)r->w->fs->block_size, (size_t)512);
        uint64_t bad = 0;
        for (size_t done = 0; done < len;) {
                size_t want = MG_MIN(len - done, bs - (size_t)((off + done) % bs));
                ssize_t k =
                    bad >= max_bad || atomic_load(&r->w->s->cancelled)
                        ? -1
                        : tsk_fs_attr_read(r->attr, (TSK_OFF_T)(off + done), (char *)buf + done,
                                           want, TSK_FS_FILE_READ_FLAG_NONE);
                if (k <= 0) {
                        tsk_error_reset();
                        memset(buf + done, 0, want);
                        if (!bad++)
                                *first_bad = off + done;
                        k = (ssize_t)want;
                }
                done += (size_t)k;
        }
        return bad;
}

/* Fill @buf with @len bytes of the attribute; 1 if the content cannot be read at all. A read
 * error inside a live file does not drop the file: its readable blocks are scanned (the bad ones
 * as zeros), and the medium is unreadable in part. */
static int walk_attr_fill(void *ud, unsigned char *buf, size_t len)
{
        struct walk_attr_read *r = ud;
        struct mg_scan *s = r->w->s;
        size_t done = 0;
        uint64_t bad = 0;
        while (done < len) {
                if (atomic_load(&s->cancelled))
                        return -ECANCELED;
                size_t want = MG_MIN(len - done, (size_t)4 << 20);
                ssize_t k = tsk_fs_attr_read(r->attr, (TSK_OFF_T)(r->off + done),
                                             (char *)buf + done, want, TSK_FS_FILE_READ_FLAG_NONE);
                if (k <= 0 && r->deleted) {
                        tsk_error_reset();
                        return 1; /* a recovered deleted file: its space is scanned raw anyway */
                }
                if (k <= 0) {
                        _cleanup_free_ char *e = mg_escape_str(tsk_error_get_errstr());
                        tsk_error_reset();
                        /* a dying stick can take seconds per bad block: give up after 256 */
                        uint64_t at = 0;
                        uint64_t n = walk_attr_salvage(r, buf + done, r->off + done, want,
                                                       256 - MG_MIN(bad, (uint64_t)256), &at);
                        if (!bad && n) {
                                _cleanup_free_ char *p = scan_escape_path(r->path);
                                scan_flag(s, MG_VERDICT_UNREADABLE,
                                          "volume %d: %s: file content cannot be read from "
                                          "offset %llu: %s (its readable blocks are scanned)",
                                          r->w->volume, p ? p : "?", (unsigned long long)at,
                                          e ? e : "?");
                        }
                        r->w->corrupt = r->w->corrupt || n;
                        bad += n;
                        if (bad >= 256) {
                                _cleanup_free_ char *p = scan_escape_path(r->path);
                                scan_flag(s, MG_VERDICT_UNREADABLE,
                                          "volume %d: %s: over 256 unreadable blocks: the file "
                                          "was not scanned",
                                          r->w->volume, p ? p : "?");
                                return 1;
                        }
                        k = (ssize_t)want;
                }
                done += (size_t)k;
        }
        atomic_fetch_add(&s->bytes_read, (uint64_t)len);
        r->ok = !bad;
        return 0;
}

/* Remember the whole blocks of a recovered deleted stream, so the unallocated-space walk does not
 * read and scan them a second time. */
static void walk_note_deleted(struct walk_fs *w, const TSK_FS_ATTR *a, uint64_t size)
{
        if (!(a->flags & TSK_FS_ATTR_NONRES))
                return;
        uint64_t bs = w->fs->block_size, left = size;
        unsigned runs = 0;
        for (const TSK_FS_ATTR_RUN *run = a->nrd.run; run && left && runs < 100000;
             run = run->next, runs++) {
                uint64_t bytes = MG_MIN((uint64_t)run->len * bs, left);
                left -= bytes;
                uint64_t whole = bytes / bs; /* a partly used last block stays in the walk */
                if (!whole ||
                    (run->flags & (TSK_FS_ATTR_RUN_FLAG_SPARSE | TSK_FS_ATTR_RUN_FLAG_FILLER)))
                        continue;
                if (w->n_done == w->cap_done) {
                        size_t cap = w->cap_done ? w->cap_done * 2 : 64;
                        if (cap > ((size_t)1 << 22))
                                return; /* beyond this, scanning twice is the lesser evil */
                        struct walk_range *n = realloc(w->done, cap * sizeof(*n));
                        if (!n)
                                return;
                        w->done = n;
                        w->cap_done = cap;
                }
                w->done[w->n_done++] = (struct walk_range){run->addr, run->addr + whole};
        }
}

/* Order ranges by start. */
static int walk_range_cmp(const void *a, const void *b)
{
        const struct walk_range *x = a, *y = b;
        return x->start < y->start ? -1 : x->start > y->start;
}

/* Scan one stream of a file: in one piece up to the engine limit, else in overlapping chunks. */
static int walk_stream(struct walk_fs *w, const TSK_FS_ATTR *a, const char *path,
                       const char *stream, bool deleted)
{
        struct mg_scan *s = w->s;
        uint64_t size = a->size > 0 ? (uint64_t)a->size : 0;
        uint64_t cap = MG_MAX(w->vol_len * 4, (uint64_t)16 << 30);
        if (deleted)
                cap = w->vol_len; /* a deleted file's recovered size is a guess */
        if (size > cap) {
                if (!deleted) {
                        _cleanup_free_ char *p = scan_escape_path(path);
                        scan_flag(s, MG_VERDICT_UNSAFE,
                                  "volume %d: %s: claims %llu bytes, more than the scanner reads",
                                  w->volume, p ? p : "?", (unsigned long long)size);
                }
                size = cap;
        }
        uint64_t first = 0;
        if ((a->flags & TSK_FS_ATTR_NONRES) && a->nrd.run &&
            !(a->nrd.run->flags & TSK_FS_ATTR_RUN_FLAG_SPARSE))
                first = w->vol_off + (uint64_t)a->nrd.run->addr * w->fs->block_size;
        /* a deleted file's blocks are skipped by the unallocated walk: carve them here */
        struct scan_item tmpl = {.region = MG_REGION_FILE,
                                 .volume = w->volume,
                                 .deleted = deleted,
                                 .carve = deleted,
                                 .path = (char *)path,
                                 .stream = (char *)stream,
                                 .offset = first};
        /* libtsk's virtual files ($MBR, $FAT1, $FAT2: the volume's own structures) are read
         * as raw space, blank parts skipped: no one's whole file for a hash to match, and mostly
         * empty on a new stick */
        const TSK_FS_ATTR_RUN *run = (a->flags & TSK_FS_ATTR_NONRES) ? a->nrd.run : NULL;
        if (a->fs_file && a->fs_file->meta && a->fs_file->meta->type == TSK_FS_META_TYPE_VIRT &&
            !deleted && run && !run->next &&
            !(run->flags & (TSK_FS_ATTR_RUN_FLAG_SPARSE | TSK_FS_ATTR_RUN_FLAG_FILLER)) &&
            (uint64_t)run->len * w->fs->block_size >= size &&
            run->addr <= (w->vol_len / w->fs->block_size))
                return walk_raw(s, MG_REGION_FILE, w->volume, first, size, path);
        struct walk_attr_read rd = {.w = w, .attr = a, .path = path, .deleted = deleted};
        /* progress: the position on the medium, as far as a file's first block tells it */
        uint64_t at = first ? first : w->vol_off;
        if (size <= s->engine->max_file_size) {
                scan_progress(s, at + size, path, false);
                int r = scan_batch_add(s, &tmpl, (size_t)size, walk_attr_fill, &rd);
                if (r == 0 && deleted && rd.ok) /* read in full and queued */
                        walk_note_deleted(w, a, size);
                return r;
        }

        tmpl.chunk = true;
        for (uint64_t off = 0; off < size;) {
                size_t n = (size_t)MG_MIN((uint64_t)SCAN_FILE_CHUNK, size - off);
                tmpl.first_chunk = off == 0;
                struct scan_job *j;
                int r = scan_job_new(s, n, &j);
                if (r < 0)
                        return r;
                unsigned char *buf = scan_job_add(j, &tmpl, n);
                if (!buf) {
                        scan_job_drop(s, j);
                        return -ENOMEM;
                }
                rd.off = off;
                r = walk_attr_fill(&rd, buf, n);
                if (r != 0) {
                        scan_job_drop(s, j);
                        return r < 0 ? r : 0;
                }
                r = scan_job_submit(s, j);
                if (r < 0)
                        return r;
                scan_progress(s, at + off + n, path, false);
                if (off + n >= size)
                        break;
                off += n - SCAN_FILE_OVERLAP;
        }
        if (deleted)
                walk_note_deleted(w, a, size);
        return 0;
}

/* True for attributes that hold content: default data, NTFS data streams and extended
 * attributes, HFS+ data and resource forks. */
static bool walk_attr_is_content(const TSK_FS_ATTR *a)
{
        switch ((int)a->type) {
        case TSK_FS_ATTR_TYPE_DEFAULT:
        case TSK_FS_ATTR_TYPE_NTFS_DATA:
        case TSK_FS_ATTR_TYPE_NTFS_EA:
        case TSK_FS_ATTR_TYPE_HFS_DATA:
        case TSK_FS_ATTR_TYPE_HFS_RSRC:
                return true;
        default:
                return false;
        }
}

/* The stream name to report for an attribute, or NULL for the file's main content. */
static const char *walk_stream_name(const TSK_FS_ATTR *a)
{
        if ((int)a->type == TSK_FS_ATTR_TYPE_NTFS_EA)
                return "$EA";
        if ((int)a->type == TSK_FS_ATTR_TYPE_HFS_RSRC)
                return "rsrc";
        if ((int)a->type == TSK_FS_ATTR_TYPE_NTFS_DATA && a->name && a->name[0] &&
            strcmp(a->name, "$Data") != 0)
                return a->name;
        return NULL;
}

/* Scan every content stream of a file (only named streams for a directory). */
static int walk_file(struct walk_fs *w, TSK_FS_FILE *f, const char *path, bool deleted,
                     bool named_only)
{
        int n = tsk_fs_file_attr_getsize(f);
        if (n < 0) {
                tsk_error_reset();
                return 0;
        }
        bool any = false;
        for (int i = 0; i < n && i < 1024; i++) {
                const TSK_FS_ATTR *a = tsk_fs_file_attr_get_idx(f, i);
                if (!a || !walk_attr_is_content(a))
                        continue;
                const char *stream = walk_stream_name(a);
                if (named_only && !stream)
                        continue;
                if (stream && !strcmp(stream, "$Bad"))
                        continue; /* $BadClus:$Bad spans the volume */
                any = true;
                int r = walk_stream(w, a, path, stream, deleted);
                if (r < 0)
                        return r;
        }
        tsk_error_reset();
        if (!any && !named_only && f->meta && f->meta->size == 0) {
                /* an empty file: count it */
                pthread_mutex_lock(&w->s->lock);
                w->s->files++;
                pthread_mutex_unlock(&w->s->lock);
        }
        return 0;
}

/* Push a directory for walking. */
static int walk_push(struct walk_fs *w, TSK_INUM_T inum, const char *path, uint32_t depth,
                     bool deleted)
{
        if (w->n_stack == w->cap_stack) {
                size_t cap = w->cap_stack ? w->cap_stack * 2 : 64;
                struct walk_dir *n = realloc(w->stack, cap * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                w->stack = n;
                w->cap_stack = cap;
        }
        char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        w->stack[w->n_stack++] = (struct walk_dir){inum, p, depth, deleted};
        return 0;
}

/* Build "parent/name" into a new string; NULL (with a reason recorded) if too long. */
static char *walk_join(struct walk_fs *w, const char *parent, const char *name)
{
        size_t plen = strlen(parent), nlen = strlen(name);
        if (plen + 1 + nlen >= SCAN_MAX_PATH) {
                _cleanup_free_ char *p = scan_escape_path(parent);
                scan_flag(w->s, MG_VERDICT_UNSAFE, "volume %d: path longer than %zu bytes under %s",
                          w->volume, SCAN_MAX_PATH, p ? p : "?");
                errno = E2BIG;
                return NULL;
        }
        char *path = malloc(plen + nlen + 2);
        if (!path) {
                errno = ENOMEM;
                return NULL;
        }
        memcpy(path, parent, plen);
        size_t k = plen;
        if (k == 0 || path[k - 1] != '/')
                path[k++] = '/';
        memcpy(path + k, name, nlen + 1);
        return path;
}

/* Scan a directory's own content and queue it for walking. */
static int walk_enter_dir(struct walk_fs *w, const struct walk_dir *parent, TSK_FS_FILE *f,
                          const char *path, bool deleted)
{
        struct mg_scan *s = w->s;
        int r = walk_file(w, f, path, deleted, true);
        if (r < 0)
                return r;
        r = inum_set_add(&w->dirs, f->meta->addr);
        if (r <= 0)
                return r; /* seen: a loop or a second link */
        if (parent->depth + 1 > s->opts.max_dir_depth) {
                _cleanup_free_ char *p = scan_escape_path(path);
                scan_flag(s, MG_VERDICT_UNSAFE,
                          "volume %d: %s: directory tree deeper than %u levels", w->volume,
                          p ? p : "?", s->opts.max_dir_depth);
                return 0;
        }
        return walk_push(w, f->meta->addr, path, parent->depth + 1, deleted);
}

/* A deleted name whose metadata libtsk did not load: open it by address, and scan it if it was
 * not reused (still unallocated and, on NTFS, the sequence number matches). */
static int walk_deleted_meta(struct walk_fs *w, const struct walk_dir *parent,
                             const TSK_FS_NAME *nm)
{
        TSK_FS_FILE *f = tsk_fs_file_open_meta(w->fs, NULL, nm->meta_addr);
        if (!f) {
                tsk_error_reset();
                return 0;
        }
        int r = 0;
        TSK_FS_META *m = f->meta;
        /* NTFS bumps a record's sequence number when it frees it: one more than the name's
         * means the same file, deleted and not reused since */
        bool same = m && (m->flags & TSK_FS_META_FLAG_UNALLOC) &&
                    (!TSK_FS_TYPE_ISNTFS(w->fs->ftype) || m->seq == nm->meta_seq ||
                     m->seq == (uint16_t)(nm->meta_seq + 1)) &&
                    (m->type == TSK_FS_META_TYPE_REG || m->type == TSK_FS_META_TYPE_DIR);
        if (same) {
                char *path = walk_join(w, parent->path, nm->name);
                if (path && m->type == TSK_FS_META_TYPE_DIR)
                        r = walk_enter_dir(w, parent, f, path, true); /* a deleted directory */
                else if (path)
                        r = walk_file(w, f, path, true, false);
                else if (errno == ENOMEM)
                        r = -ENOMEM;
                free(path);
        }
        tsk_fs_file_close(f);
        return r;
}

/* Handle one directory entry. */
static int walk_entry(struct walk_fs *w, const struct walk_dir *parent, TSK_FS_FILE *f)
{
        const TSK_FS_NAME *nm = f->name;
        if (!nm || !nm->name)
                return 0;
        if (!strcmp(nm->name, ".") || !strcmp(nm->name, ".."))
                return 0;
        TSK_FS_META *m = f->meta;
        bool name_deleted = nm->flags & TSK_FS_NAME_FLAG_UNALLOC;
        if (!m && name_deleted && nm->meta_addr)
                return walk_deleted_meta(w, parent, nm);
        if (!m)
                return 0; /* a name with no metadata left: nothing to read */
        bool meta_deleted = m->flags & TSK_FS_META_FLAG_UNALLOC;
        if (name_deleted && !meta_deleted && m->type != TSK_FS_META_TYPE_VIRT_DIR)
                return 0; /* the inode was reused by a live file, scanned under its own name */
        bool deleted = parent->deleted || name_deleted || meta_deleted;

        _cleanup_free_ char *path = walk_join(w, parent->path, nm->name);
        if (!path)
                return errno == ENOMEM ? -ENOMEM : 0;

        if (m->type == TSK_FS_META_TYPE_VIRT_DIR && walk_is_fat(w->fs) && !w->orphans_now &&
            !w->orphan_path) {
                /* libtsk finds FAT orphans (entries of deleted directories) by reading every
                 * sector of the volume, as long again as the scan of a blank stick. They can
                 * only be in unallocated space: looked for after it, if it holds any data. */
                w->orphan_inum = m->addr;
                w->orphan_path = TAKE_PTR(path);
                return 0;
        }
        if (m->type == TSK_FS_META_TYPE_VIRT_DIR && TSK_FS_TYPE_ISEXT(w->fs->ftype))
                return 0; /* libtsk's ext orphan search trusts corrupt inodes (gigabytes of
                           * memory, crashes); deleted ext content is scanned as unallocated */
        if (m->type == TSK_FS_META_TYPE_DIR || m->type == TSK_FS_META_TYPE_VIRT_DIR)
                return walk_enter_dir(w, parent, f, path, deleted);
        if (!deleted) {
                int r = inum_set_add(&w->files, m->addr);
                if (r < 0)
                        return r;
                if (r == 0)
                        return 0; /* a hard link to a file already scanned */
        }
        return walk_file(w, f, path, deleted, false);
}

/* Walk directories from the stack until it is empty (no depth limit but ours). */
static int walk_dirs(struct walk_fs *w)
{
        struct mg_scan *s = w->s;
        int r = 0;
        while (w->n_stack > 0 && r == 0) {
                struct walk_dir d = w->stack[--w->n_stack];
                if (atomic_load(&s->cancelled)) {
                        free(d.path);
                        return -ECANCELED;
                }
                tsk_error_reset();
                /* libtsk reads a whole directory into one buffer sized from its inode: check
                 * the size first, a corrupt inode can claim gigabytes */
                TSK_FS_FILE *df = tsk_fs_file_open_meta(w->fs, NULL, d.inum);
                uint64_t dsize =
                    df && df->meta && df->meta->size > 0 ? (uint64_t)df->meta->size : 0;
                bool virt = df && df->meta && df->meta->type == TSK_FS_META_TYPE_VIRT_DIR;
                if (df)
                        tsk_fs_file_close(df);
                tsk_error_reset();
                if (!virt && dsize > MG_MIN(w->vol_len, (uint64_t)SCAN_MAX_DIR_BYTES)) {
                        _cleanup_free_ char *p = scan_escape_path(d.path);
                        w->corrupt = true;
                        scan_flag(s, MG_VERDICT_UNREADABLE,
                                  "volume %d: directory %s claims %llu bytes: not read", w->volume,
                                  p ? p : "?", (unsigned long long)dsize);
                        free(d.path);
                        continue;
                }
                TSK_FS_DIR *dir = tsk_fs_dir_open_meta(w->fs, d.inum);
                if (!dir) {
                        if (!d.deleted) {
                                _cleanup_free_ char *p = scan_escape_path(d.path);
                                _cleanup_free_ char *e = mg_escape_str(tsk_error_get_errstr());
                                w->corrupt = true;
                                scan_flag(s, MG_VERDICT_UNREADABLE,
                                          "volume %d: directory %s cannot be read: %s", w->volume,
                                          p ? p : "?", e ? e : "?");
                        }
                        tsk_error_reset();
                        free(d.path);
                        continue;
                }
                size_t n = tsk_fs_dir_getsize(dir);
                for (size_t i = 0; i < n && r == 0; i++) {
                        TSK_FS_FILE *f = tsk_fs_dir_get(dir, i);
                        if (!f) {
                                tsk_error_reset();
                                continue;
                        }
                        r = walk_entry(w, &d, f);
                        tsk_fs_file_close(f);
                }
                tsk_fs_dir_close(dir);
                free(d.path);
        }
        return r;
}

/* Meta walk: files and directories the directory walk did not reach. */
static TSK_WALK_RET_ENUM walk_meta_cb(TSK_FS_FILE *f, void *ptr)
{
        struct walk_fs *w = ptr;
        if (atomic_load(&w->s->cancelled)) {
                w->error = -ECANCELED;
                return TSK_WALK_STOP;
        }
        TSK_FS_META *m = f->meta;
        if (!m || !(m->flags & TSK_FS_META_FLAG_ALLOC))
                return TSK_WALK_CONT;
        char path[64];
        if (m->type == TSK_FS_META_TYPE_REG && !inum_set_has(&w->files, m->addr)) {
                snprintf(path, sizeof(path), "/$Unreached/inode-%llu", (unsigned long long)m->addr);
                inum_set_add(&w->files, m->addr);
                int r = walk_file(w, f, path, false, false);
                if (r < 0) {
                        w->error = r;
                        return TSK_WALK_STOP;
                }
        } else if (m->type == TSK_FS_META_TYPE_DIR && !inum_set_has(&w->dirs, m->addr)) {
                snprintf(path, sizeof(path), "/$Unreached/inode-%llu", (unsigned long long)m->addr);
                if (inum_set_add(&w->dirs, m->addr) < 0 ||
                    walk_push(w, m->addr, path, 1, false) < 0) {
                        w->error = -ENOMEM;
                        return TSK_WALK_STOP;
                }
        }
        return TSK_WALK_CONT;
}

/* Scan the merged unallocated run. */
static int walk_unalloc_flush(struct walk_fs *w)
{
        if (!w->run_len)
                return 0;
        uint64_t bs = w->fs->block_size;
        int r = walk_raw(w->s, MG_REGION_UNALLOCATED, w->volume, w->vol_off + w->run_start * bs,
                         w->run_len * bs, NULL);
        w->run_len = 0;
        return r;
}

/* Block walk: merge unallocated blocks into runs. */
static TSK_WALK_RET_ENUM walk_block_cb(const TSK_FS_BLOCK *b, void *ptr)
{
        struct walk_fs *w = ptr;
        uint64_t addr = b->addr, bs = w->fs->block_size;
        while (w->done_pos < w->n_done && w->done[w->done_pos].end <= addr)
                w->done_pos++;
        if (w->done_pos < w->n_done && w->done[w->done_pos].start <= addr)
                return TSK_WALK_CONT; /* scanned already, as a deleted file's content */
        if (w->run_len && addr == w->run_start + w->run_len &&
            (w->run_len + 1) * bs <= (uint64_t)SCAN_RAW_CHUNK * 4) {
                w->run_len++;
                return TSK_WALK_CONT;
        }
        int r = walk_unalloc_flush(w);
        if (r < 0) {
                w->error = r;
                return TSK_WALK_STOP;
        }
        w->run_start = addr;
        w->run_len = 1;
        return TSK_WALK_CONT;
}

/* Walk one readable file system. */
static int walk_fs(struct mg_scan *s, TSK_FS_INFO *fs, int volume, uint64_t off, uint64_t len)
{
        struct walk_fs w = {.s = s, .fs = fs, .volume = volume, .vol_off = off, .vol_len = len};
        int r = inum_set_add(&w.dirs, fs->root_inum);
        if (r >= 0)
                r = walk_push(&w, fs->root_inum, "/", 0, false);
        if (r >= 0)
                r = walk_dirs(&w);

        /* libtsk's own walks stop at 128 levels; ours does not, and the inode tables tell if
         * anything was still missed (FAT has no inode table: its "inodes" are directory
         * entries, all reached by the walk above) */
        if (r >= 0 && !walk_is_fat(fs)) {
                tsk_error_reset();
                if (tsk_fs_meta_walk(fs, fs->first_inum, fs->last_inum, TSK_FS_META_FLAG_ALLOC,
                                     walk_meta_cb, &w))
                        tsk_error_reset();
                r = w.error;
                if (r >= 0)
                        r = walk_dirs(&w);
        }
        uint64_t data_before = s->raw_data_chunks;
        bool unalloc_walked = false;
        if (r >= 0) {
                tsk_error_reset();
                w.error = 0;
                if (w.n_done > 1)
                        qsort(w.done, w.n_done, sizeof(*w.done), walk_range_cmp);
                unalloc_walked = !tsk_fs_block_walk(
                    fs, fs->first_block, fs->last_block,
                    TSK_FS_BLOCK_WALK_FLAG_UNALLOC | TSK_FS_BLOCK_WALK_FLAG_CONT |
                        TSK_FS_BLOCK_WALK_FLAG_META | TSK_FS_BLOCK_WALK_FLAG_AONLY,
                    walk_block_cb, &w);
                tsk_error_reset();
                r = w.error;
                if (r >= 0)
                        r = walk_unalloc_flush(&w);
        }
        /* FAT orphans, unless the unallocated space was walked and is blank throughout (their
         * blocks were scanned as unallocated space already: found here, they are scanned again
         * as files, for what only a whole file shows) */
        if (r >= 0 && w.orphan_path && (!unalloc_walked || s->raw_data_chunks != data_before)) {
                w.orphans_now = true;
                r = inum_set_add(&w.dirs, w.orphan_inum);
                if (r > 0)
                        r = walk_push(&w, w.orphan_inum, w.orphan_path, 1, false);
                if (r >= 0)
                        r = walk_dirs(&w);
        }
        /* bytes of the partition past the end of the file system */
        uint64_t fs_end = (uint64_t)(fs->last_block_act + 1) * fs->block_size;
        if (r >= 0 && fs_end < len)
                r = walk_raw(s, MG_REGION_UNALLOCATED, volume, off + fs_end, len - fs_end, NULL);

        for (size_t i = 0; i < w.n_stack; i++)
                free(w.stack[i].path);
        free(w.stack);
        free(w.files.slots);
        free(w.dirs.slots);
        free(w.done);
        free(w.orphan_path);
        if (r >= 0 && w.corrupt)
                scan_set_volume(s, volume, tsk_fs_type_toname(fs->ftype), MG_VOLUME_UNREADABLE,
                                "file system damaged: some content could not be read");
        return r < 0 ? r : 0;
}

/* Scan one volume: its boot area, then its file system or, failing that, its raw bytes. */
static int walk_volume(struct mg_scan *s, uint64_t off, uint64_t len, const char *scheme,
                       uint64_t hybrid_end)
{
        int vi;
        int r = scan_add_volume(s, off, len, scheme, &vi);
        if (r < 0) {
                scan_flag(s, MG_VERDICT_UNREADABLE, "too many partitions");
                return 0;
        }
        r = walk_raw(s, MG_REGION_BOOT, vi, off, MG_MIN(len, SCAN_BOOT_AREA), NULL);
        if (r < 0)
                return r;
        tsk_error_reset();
        TSK_FS_INFO *fs = tsk_fs_open_img(s->img, (TSK_OFF_T)off, TSK_FS_TYPE_DETECT);
        if (fs) {
                scan_set_volume(s, vi, tsk_fs_type_toname(fs->ftype), MG_VOLUME_OK, NULL);
                r = walk_fs(s, fs, vi, off, len);
                tsk_fs_close(fs);
                scan_progress(s, off + len, NULL, false);
                return r;
        }
        uint32_t err = tsk_error_get_errno();
        const char *es = tsk_error_get_errstr();
        _cleanup_free_ char *why = mg_escape_str(es && *es ? es : "no known file system found");
        tsk_error_reset();
        if (err == TSK_ERR_FS_ENCRYPTED) {
                scan_set_volume(s, vi, NULL, MG_VOLUME_ENCRYPTED, why);
                scan_flag(s, MG_VERDICT_ENCRYPTED, "volume %d: encrypted volume (%s)", vi,
                          why ? why : "?");
        } else if (err == TSK_ERR_FS_POSSIBLY_ENCRYPTED) {
                scan_set_volume(s, vi, NULL, MG_VOLUME_ENCRYPTED, "high-entropy data");
                scan_flag(s, MG_VERDICT_ENCRYPTED,
                          "volume %d: high-entropy data: probably an encrypted volume (e.g. "
                          "VeraCrypt)",
                          vi);
        } else if (off + len <= hybrid_end) {
                /* a slice of a hybrid ISO 9660 image, whose files were walked on the whole
                 * device: its bytes are still scanned raw below */
                scan_set_volume(s, vi, NULL, MG_VOLUME_OK, "part of the hybrid ISO 9660 image");
        } else {
                scan_set_volume(s, vi, NULL, MG_VOLUME_UNREADABLE, why);
                scan_flag(s, MG_VERDICT_UNREADABLE,
                          "volume %d: unknown or corrupt file system (%s)", vi, why ? why : "?");
        }
        if (len > SCAN_BOOT_AREA)
                r = walk_raw(s, MG_REGION_RAW, vi, off + SCAN_BOOT_AREA, len - SCAN_BOOT_AREA,
                             NULL);
        return r;
}

/* A partition-table entry, in bytes. */
struct walk_part {
        uint64_t start, end;
        int prio; /* 3 volume, 2 table, 1 unallocated */
};

/* Scan the bytes no volume covers: tables as boot records, the rest as gaps. */
static int walk_between(struct mg_scan *s, const struct walk_part *parts, size_t n)
{
        size_t nb = 0;
        _cleanup_free_ uint64_t *pts = malloc((2 * n + 2) * sizeof(uint64_t));
        if (!pts)
                return -ENOMEM;
        pts[nb++] = 0;
        pts[nb++] = s->size;
        for (size_t i = 0; i < n; i++) {
                pts[nb++] = parts[i].start;
                pts[nb++] = parts[i].end;
        }
        /* sort the boundaries (n is small) */
        for (size_t i = 1; i < nb; i++)
                for (size_t k = i; k > 0 && pts[k - 1] > pts[k]; k--) {
                        uint64_t t = pts[k];
                        pts[k] = pts[k - 1];
                        pts[k - 1] = t;
                }
        uint64_t seg_start = 0;
        int seg_prio = -1;
        for (size_t i = 0; i + 1 < nb; i++) {
                uint64_t a = pts[i], b = pts[i + 1];
                if (a >= b || a >= s->size)
                        continue;
                int prio = 0;
                for (size_t k = 0; k < n; k++)
                        if (parts[k].start <= a && parts[k].end >= b && parts[k].prio > prio)
                                prio = parts[k].prio;
                if (prio != seg_prio) {
                        if (seg_prio == 2 || seg_prio == 1 || seg_prio == 0) {
                                int r = walk_raw(s, seg_prio == 2 ? MG_REGION_BOOT : MG_REGION_GAP,
                                                 -1, seg_start, a - seg_start, NULL);
                                if (r < 0)
                                        return r;
                        }
                        seg_start = a;
                        seg_prio = prio;
                }
        }
        if (seg_prio >= 0 && seg_prio <= 2 && seg_start < s->size)
                return walk_raw(s, seg_prio == 2 ? MG_REGION_BOOT : MG_REGION_GAP, -1, seg_start,
                                s->size - seg_start, NULL);
        return 0;
}

/* Name of a partition-table scheme. */
static const char *walk_scheme(TSK_VS_TYPE_ENUM t)
{
        switch (t) {
        case TSK_VS_TYPE_DOS:
                return "dos";
        case TSK_VS_TYPE_GPT:
                return "gpt";
        case TSK_VS_TYPE_MAC:
                return "mac";
        case TSK_VS_TYPE_BSD:
                return "bsd";
        case TSK_VS_TYPE_SUN:
                return "sun";
        default:
                return "other";
        }
}

/* Walk the whole medium: partitions, or one volume when there is no partition table. */
int scan_walk_medium(struct mg_scan *s)
{
        if (s->size == 0) {
                /* a card reader without a card, or a stick that failed: nothing to judge */
                scan_flag(s, MG_VERDICT_UNREADABLE, "the medium is empty (0 bytes)");
                return 0;
        }
        tsk_error_reset();
        TSK_VS_INFO *vs = tsk_vs_open(s->img, 0, TSK_VS_TYPE_DETECT);
        if (!vs) {
                uint32_t err = tsk_error_get_errno();
                if (err && err != TSK_ERR_VS_UNKTYPE) {
                        _cleanup_free_ char *e = mg_escape_str(tsk_error_get_errstr());
                        scan_flag(s, MG_VERDICT_UNREADABLE, "partition table: %s", e ? e : "?");
                }
                tsk_error_reset();
                return walk_volume(s, 0, s->size, "none", 0);
        }
        const char *scheme = walk_scheme(vs->vstype);
        /* a hybrid image (installer sticks): ISO 9660 on the whole device beside the table */
        uint64_t hybrid_end = 0;
        int r = 0;
        TSK_FS_INFO *iso = tsk_fs_open_img(s->img, 0, TSK_FS_TYPE_ISO9660_DETECT);
        if (iso) {
                uint64_t isolen = MG_MIN((uint64_t)iso->block_count * iso->block_size, s->size);
                int vi;
                r = scan_add_volume(s, 0, isolen, "none", &vi);
                if (r == 0) {
                        scan_set_volume(s, vi, tsk_fs_type_toname(iso->ftype), MG_VOLUME_OK, NULL);
                        r = walk_fs(s, iso, vi, 0, isolen);
                        hybrid_end = isolen;
                }
                tsk_fs_close(iso);
                if (r < 0) {
                        tsk_vs_close(vs);
                        return r;
                }
        }
        tsk_error_reset();
        uint64_t bs = vs->block_size;
        size_t n = MG_MIN((size_t)vs->part_count, (size_t)SCAN_MAX_PARTS * 4);
        _cleanup_free_ struct walk_part *parts = calloc(n + 1, sizeof(*parts));
        if (!parts) {
                tsk_vs_close(vs);
                return -ENOMEM;
        }
        size_t np = 0;
        for (size_t i = 0; i < n && r == 0; i++) {
                const TSK_VS_PART_INFO *p = tsk_vs_part_get(vs, (TSK_PNUM_T)i);
                if (!p)
                        continue;
                uint64_t start = (uint64_t)p->start * bs, len = (uint64_t)p->len * bs;
                if (start >= s->size) {
                        if (p->flags & TSK_VS_PART_FLAG_ALLOC)
                                scan_flag(s, MG_VERDICT_UNREADABLE,
                                          "partition %zu lies beyond the end of the medium", i);
                        continue;
                }
                len = MG_MIN(len, s->size - start);
                int prio = (p->flags & TSK_VS_PART_FLAG_ALLOC)  ? 3
                           : (p->flags & TSK_VS_PART_FLAG_META) ? (p->len <= 64 ? 2 : 0)
                                                                : 1;
                parts[np++] = (struct walk_part){start, start + len, prio};
                if (prio == 3)
                        r = walk_volume(s, start, len, scheme, hybrid_end);
        }
        tsk_vs_close(vs);
        tsk_error_reset();
        if (r == 0)
                r = walk_between(s, parts, np);
        return r;
}
