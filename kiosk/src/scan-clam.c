/* Adapter to libclamav: engine loading, database freshness, scanning one item from memory,
 * the scanner's own archive-bomb accounting, and carving of embedded executables. */
#include <clamav.h>
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "scan-internal.h"

static pthread_once_t clam_once = PTHREAD_ONCE_INIT;
static int clam_init_result;

/* Drop libclamav's own messages: the library never prints, and they carry file names. */
static void clam_msg(enum cl_msg severity, const char *fullmsg, const char *msg, void *ctx)
{
}

/* Initialise libclamav once per process. */
static void clam_init_once(void)
{
        cl_set_clcb_msg(clam_msg);
        clam_init_result = cl_init(CL_INIT_DEFAULT);
}

/* Read version and build time from a dated database file header. */
static bool clam_db_header(const char *path, uint32_t *ret_version, int64_t *ret_built)
{
        struct cl_cvd *h = cl_cvdhead(path);
        if (!h)
                return false;
        *ret_version = h->version;
        *ret_built = (int64_t)h->stime;
        cl_cvdfree(h);
        return true;
}

/* True if @name ends in a dated database suffix. */
static bool clam_is_dated(const char *name)
{
        size_t n = strlen(name);
        return n > 4 && (!strcmp(name + n - 4, ".cvd") || !strcmp(name + n - 4, ".cld") ||
                         !strcmp(name + n - 4, ".cud"));
}

/* Find the freshest dated database: daily.* if present (a fresh bytecode.cvd must not hide a
 * stale daily), else the newest of any. */
static void clam_db_info(const char *db, struct mg_scan_engine_info *info)
{
        struct stat st;
        info->dated = false;
        if (stat(db, &st) < 0)
                return;
        if (!S_ISDIR(st.st_mode)) {
                if (clam_is_dated(db))
                        info->dated = clam_db_header(db, &info->version, &info->built);
                return;
        }
        DIR *d = opendir(db);
        if (!d)
                return;
        bool have_daily = false;
        struct dirent *de;
        unsigned n = 0;
        while ((de = readdir(d)) && n++ < 10000) {
                if (!clam_is_dated(de->d_name))
                        continue;
                char path[4096];
                if (snprintf(path, sizeof(path), "%s/%s", db, de->d_name) >= (int)sizeof(path))
                        continue;
                uint32_t v;
                int64_t built;
                if (!clam_db_header(path, &v, &built))
                        continue;
                bool daily = !strncmp(de->d_name, "daily.", 6);
                if (have_daily && !daily)
                        continue;
                if ((daily && !have_daily) || !info->dated || built > info->built) {
                        info->version = v;
                        info->built = built;
                        info->dated = true;
                        have_daily = have_daily || daily;
                }
        }
        closedir(d);
}

static void clam_set_callbacks(struct cl_engine *cl);

/* Create and compile the engine from the database. */
int scan_clam_engine_load(struct mg_scan_engine *e, const struct mg_scan_engine_options *o)
{
        pthread_once(&clam_once, clam_init_once);
        if (clam_init_result != CL_SUCCESS)
                return -EIO;
        const char *db = o->db_path ? o->db_path : "/var/lib/clamav";
        struct stat st;
        if (stat(db, &st) < 0)
                return -errno;

        e->cl = cl_engine_new();
        if (!e->cl)
                return -ENOMEM;
        uint64_t mfs = o->max_file_size ? o->max_file_size : SCAN_DEFAULT_MAX_FILE_SIZE;
        if (mfs > (uint64_t)INT32_MAX - 2)
                mfs = (uint64_t)INT32_MAX - 2;
        e->max_file_size = mfs;
        uint64_t mss = o->max_scan_size ? o->max_scan_size : ((uint64_t)400 << 20);
        cl_engine_set_num(e->cl, CL_ENGINE_MAX_FILESIZE, (long long)mfs);
        cl_engine_set_num(e->cl, CL_ENGINE_MAX_SCANSIZE, (long long)MG_MAX(mss, mfs));
        cl_engine_set_num(e->cl, CL_ENGINE_MAX_FILES, o->max_files ? o->max_files : 10000);
        cl_engine_set_num(e->cl, CL_ENGINE_MAX_RECURSION, o->max_recursion ? o->max_recursion : 17);
        cl_engine_set_num(e->cl, CL_ENGINE_MAX_SCANTIME,
                          (long long)(o->max_scan_time_s ? o->max_scan_time_s : 120) * 1000);
        /* no clean cache: a verdict must never be carried over from another medium (an archive
         * bomb cut short by the accounting below would be cached as clean, and the same
         * bytes on the next stick would then skip the accounting entirely) */
        cl_engine_set_num(e->cl, CL_ENGINE_DISABLE_CACHE, 1);
        if (cl_engine_set_str(e->cl, CL_ENGINE_TMPDIR, e->tmpdir) != CL_SUCCESS)
                return -EIO;

        unsigned sigs = 0;
        cl_error_t r = cl_load(db, e->cl, &sigs, CL_DB_STDOPT | CL_DB_PUA);
        if (r != CL_SUCCESS)
                return r == CL_EOPEN ? -ENOENT : r == CL_EMEM ? -ENOMEM : -EINVAL;
        if (sigs == 0)
                return -ENOENT;
        r = cl_engine_compile(e->cl);
        if (r != CL_SUCCESS)
                return r == CL_EMEM ? -ENOMEM : -EINVAL;
        clam_set_callbacks(e->cl);
        e->info.signatures = sigs;
        clam_db_info(db, &e->info);
        return 0;
}

/* Free the libclamav engine. */
void scan_clam_engine_free(struct mg_scan_engine *e)
{
        if (e->cl)
                cl_engine_free(e->cl);
        e->cl = NULL;
}

/* Per-item state shared with the libclamav callbacks. */
struct clam_ctx {
        struct mg_scan *s;
        const struct scan_item *it;
        /* archive-bomb accounting for this top-level object */
        uint64_t top_size, expanded, members;
        uint32_t depth;
        bool bomb, rar, encrypted_doc, container;
        bool charged; /* libclamav's unpacking is charged against the memory limit */
        char bomb_why[128];
        int error;
};

static const char *const clam_container_types[] = {
    "CL_TYPE_ZIP",     "CL_TYPE_7Z",     "CL_TYPE_RAR",    "CL_TYPE_CAB",     "CL_TYPE_MSCAB",
    "CL_TYPE_ARJ",     "CL_TYPE_GZ",     "CL_TYPE_BZ",     "CL_TYPE_XZ",      "CL_TYPE_POSIX_TAR",
    "CL_TYPE_OLD_TAR", "CL_TYPE_MSOLE2", "CL_TYPE_PDF",    "CL_TYPE_ISO9660", "CL_TYPE_DMG",
    "CL_TYPE_UDF",     "CL_TYPE_EGG",    "CL_TYPE_ALZ",    "CL_TYPE_HFSPLUS", "CL_TYPE_XAR",
    "CL_TYPE_SIS",     "CL_TYPE_NULSFT", "CL_TYPE_AUTOIT", "CL_TYPE_MSCHM",   "CL_TYPE_GPT",
    "CL_TYPE_MBR",     "CL_TYPE_ZIPSFX", "CL_TYPE_RARSFX", "CL_TYPE_7ZSFX",   "CL_TYPE_CABSFX",
};

/* The reader's guess, from magic numbers, at what libclamav will unpack (the types above, and
 * executables, which may be packed or self-extracting): before the engine has seen the bytes. */
bool scan_clam_sniff_container(const unsigned char *p, size_t n)
{
        static const struct {
                const char *magic;
                size_t len, at;
        } m[] = {
            {"PK\x03\x04", 4, 0},
            {"\x1f\x8b", 2, 0},
            {"7z\xbc\xaf\x27\x1c", 6, 0},
            {"\xfd"
             "7zXZ",
             5, 0},
            {"BZh", 3, 0},
            {"Rar!", 4, 0},
            {"MSCF", 4, 0},
            {"\xd0\xcf\x11\xe0", 4, 0},
            {"%PDF", 4, 0},
            {"ustar", 5, 257},
            {"CD001", 5, 32769},
            {"07070", 5, 0},
            {"xar!", 4, 0},
            {"MZ", 2, 0},
        };
        for (size_t i = 0; i < MG_ARRAY_SIZE(m); i++)
                if (n >= m[i].at + m[i].len && !memcmp(p + m[i].at, m[i].magic, m[i].len))
                        return true;
        return false;
}

/* True if libclamav's type names a container whose content must be unpacked to be judged. */
static bool clam_type_is_container(const char *type)
{
        if (!type)
                return false;
        if (!strncmp(type, "CL_TYPE_CPIO", 12) || !strncmp(type, "CL_TYPE_OOXML", 13))
                return true;
        for (size_t i = 0; i < MG_ARRAY_SIZE(clam_container_types); i++)
                if (!strcmp(type, clam_container_types[i]))
                        return true;
        return false;
}

/* Account every layer libclamav unpacks, before its clean cache can hide repeats. */
static cl_error_t clam_cb_inspect(int fd, const char *type, const char **ancestors,
                                  size_t parent_size, const char *name, size_t size,
                                  const char *buf, uint32_t level, uint32_t attrs, void *context)
{
        struct clam_ctx *c = context;
        struct mg_scan_options *o = &c->s->opts;
        if (atomic_load(&c->s->cancelled))
                return CL_BREAK;
        if (type && !strcmp(type, "CL_TYPE_RAR"))
                c->rar = true;
        if (name && !strcasecmp(name, "EncryptedPackage"))
                c->encrypted_doc = true;
        if (level == 0) {
                c->top_size = size;
                c->container = clam_type_is_container(type);
                if (c->container && size > SCAN_EXPAND_LARGE && !c->charged && !c->it->charged) {
                        scan_pool_expand_charge(c->s, SCAN_EXPAND_CHARGE);
                        c->charged = true;
                }
                return CL_CLEAN;
        }
        if (c->bomb)
                return CL_BREAK; /* already judged: do not spend time on the rest */
        c->members++;
        c->expanded += size;
        if (level > c->depth)
                c->depth = level;
        uint64_t packed = MG_MAX(c->top_size, (uint64_t)1);
        if (c->expanded > o->bomb_max_expanded)
                snprintf(c->bomb_why, sizeof(c->bomb_why), "expands to more than %llu bytes",
                         (unsigned long long)o->bomb_max_expanded);
        else if (c->members > o->bomb_max_members)
                snprintf(c->bomb_why, sizeof(c->bomb_why), "more than %u members",
                         o->bomb_max_members);
        else if (c->depth > o->bomb_max_depth)
                snprintf(c->bomb_why, sizeof(c->bomb_why), "nested more than %u levels",
                         o->bomb_max_depth);
        else if (c->expanded > ((uint64_t)64 << 20) && c->expanded / packed > o->bomb_max_ratio)
                snprintf(c->bomb_why, sizeof(c->bomb_why), "expansion ratio over %u:1",
                         o->bomb_max_ratio);
        else {
                if (size > SCAN_EXPAND_LARGE && !c->charged && !c->it->charged) {
                        scan_pool_expand_charge(c->s, SCAN_EXPAND_CHARGE);
                        c->charged = true;
                }
                return CL_CLEAN;
        }
        c->bomb = true;
        return CL_BREAK;
}

/* Record each signature that matched (all-match mode calls this once per match). */
static void clam_cb_virus(int fd, const char *virname, void *context)
{
        struct clam_ctx *c = context;
        if (!virname)
                return;
        int r = scan_add_detection(c->s, c->it, virname, c->it->offset);
        if (r < 0 && !c->error)
                c->error = r;
}

/* Install the callbacks on a freshly compiled engine. */
static void clam_set_callbacks(struct cl_engine *cl)
{
        cl_engine_set_clcb_file_inspection(cl, clam_cb_inspect);
        cl_engine_set_clcb_virus_found(cl, clam_cb_virus);
}

/* Map a libclamav error to: 0 (judged), 1 (could not be judged: unsafe) or a negative errno. */
static int clam_classify(cl_error_t r)
{
        switch (r) {
        case CL_CLEAN:
        case CL_VIRUS:
        case CL_BREAK:
                return 0;
        case CL_EMEM:
                return -ENOMEM;
        case CL_ETMPFILE:
        case CL_ETMPDIR:
        case CL_ECREAT:
        case CL_EWRITE:
        case CL_EUNLINK:
        case CL_EMAP:
        case CL_EOPEN:
        case CL_EDUP:
        case CL_ESTAT:
        case CL_EREAD:
        case CL_ESEEK:
                return -EIO;
        default:
                return 1; /* CL_EFORMAT, CL_EPARSE, CL_ETIMEOUT, ... */
        }
}

/* Scan @len bytes at @data as one object for item @it (a carved object uses its own offset). */
static int clam_scan_mem(struct mg_scan *s, const struct scan_item *it, const unsigned char *data,
                         size_t len)
{
        struct clam_ctx c = {.s = s, .it = it};
        const char *virname = NULL;
        unsigned long scanned = 0;
        struct cl_scan_options so = {
            .general = CL_SCAN_GENERAL_HEURISTICS | CL_SCAN_GENERAL_ALLMATCHES,
            .parse = ~0u,
            .heuristic = CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE | CL_SCAN_HEURISTIC_ENCRYPTED_DOC |
                         CL_SCAN_HEURISTIC_EXCEEDS_MAX,
        };
        cl_fmap_t *map = cl_fmap_open_memory(len ? (const void *)data : (const void *)"", len);
        if (!map)
                return -ENOMEM;
        cl_error_t r = cl_scanmap_callback(map, NULL, &virname, &scanned, s->engine->cl, &so, &c);
        cl_fmap_close(map);
        if (c.charged)
                scan_pool_expand_release(s, SCAN_EXPAND_CHARGE);
        if (c.error)
                return c.error;
        if (atomic_load(&s->cancelled))
                return -ECANCELED;

        _cleanup_free_ char *where = NULL;
        if (it->path || c.bomb || c.rar || c.encrypted_doc || clam_classify(r) != 0 ||
            (it->chunk && it->first_chunk && c.container)) {
                where = it->path ? scan_escape_path(it->path) : NULL;
                if (it->path && !where)
                        return -ENOMEM;
        }
        const char *w = where ? where : "(raw bytes)";
        int k = clam_classify(r);
        if (k < 0)
                return k;
        if (k > 0)
                scan_flag(s, MG_VERDICT_UNSAFE,
                          "%s at offset %llu: the engine could not judge it (%s)", w,
                          (unsigned long long)it->offset, cl_strerror(r));
        if (c.bomb)
                scan_flag(s, MG_VERDICT_UNSAFE, "%s: archive bomb: %s", w, c.bomb_why);
        if (c.rar)
                scan_flag(s, MG_VERDICT_UNSAFE, "%s: RAR content cannot be unpacked by this engine",
                          w);
        if (c.encrypted_doc)
                scan_flag(s, MG_VERDICT_UNSAFE, "%s: encrypted document", w);
        if (it->chunk && it->first_chunk && c.container)
                scan_flag(s, MG_VERDICT_UNSAFE,
                          "%s: archive or document larger than the per-file limit: its content "
                          "was not unpacked",
                          w);
        return 0;
}

/* Read a little-endian integer. */
static uint32_t clam_le(const unsigned char *p, int n)
{
        uint32_t v = 0;
        for (int i = n - 1; i >= 0; i--)
                v = (v << 8) | p[i];
        return v;
}

/* Candidate sizes of a PE whose headers are in @h (@hlen bytes from the "MZ"): the end of the
 * last section, of the headers, and of the certificate table (an overlay). 0 if not a PE. */
static size_t clam_pe_sizes(const unsigned char *h, size_t hlen, uint64_t out[3])
{
        if (hlen < 0x40 || h[0] != 'M' || h[1] != 'Z')
                return 0;
        uint32_t pe = clam_le(h + 0x3c, 4);
        if (pe < 0x40 || pe > hlen - 24 || memcmp(h + pe, "PE\0\0", 4) != 0)
                return 0;
        uint32_t nsec = clam_le(h + pe + 6, 2), optsz = clam_le(h + pe + 20, 2);
        uint64_t opt = (uint64_t)pe + 24, sect = opt + optsz;
        if (nsec == 0 || nsec > 96 || optsz < 64 || sect + (uint64_t)nsec * 40 > hlen)
                return 0;
        uint64_t end = 0;
        for (uint32_t i = 0; i < nsec; i++) {
                const unsigned char *sh = h + sect + (uint64_t)i * 40;
                uint64_t raw = clam_le(sh + 16, 4), ptr = clam_le(sh + 20, 4);
                if (raw && ptr + raw > end)
                        end = ptr + raw;
        }
        size_t n = 0;
        if (end)
                out[n++] = end;
        uint64_t hdrs = clam_le(h + opt + 60, 4);
        if (hdrs > end)
                out[n++] = end = hdrs;
        /* data directory 4 (certificate table) holds a file offset, unlike the others */
        uint32_t magic = clam_le(h + opt, 2);
        uint64_t dd = opt + (magic == 0x20b ? 112 : 96);
        if ((magic == 0x10b || magic == 0x20b) && dd + 5 * 8 <= sect) {
                uint64_t coff = clam_le(h + dd + 32, 4), csize = clam_le(h + dd + 36, 4);
                if (coff && csize && coff + csize > end)
                        out[n++] = coff + csize;
        }
        return n;
}

/* The extent of non-zero data from @p: up to the first all-zero sector at or after @from,
 * with trailing zero bytes trimmed. 0 if there is no such sector within @len. */
static uint64_t clam_trimmed_size(const unsigned char *p, size_t len, uint64_t from)
{
        static const unsigned char zero[512];
        for (uint64_t o = from / 512 * 512; o + 512 <= len; o += 512) {
                if (memcmp(p + o, zero, 512) != 0)
                        continue;
                while (o > 0 && p[o - 1] == 0)
                        o--;
                return o;
        }
        return 0;
}

/* Find executables at sector-aligned offsets of raw bytes and scan each as its own object, so a
 * whole-file hash signature can match it. */
static int clam_carve(struct mg_scan *s, const struct scan_item *it, const unsigned char *data)
{
        const size_t hdr = 64 << 10;
        unsigned count = 0;
        uint64_t carved = 0;
        size_t first = (size_t)((512 - it->offset % 512) % 512);
        for (size_t i = first; i + 2 <= it->len; i += 512) {
                if (data[i] != 'M' || data[i + 1] != 'Z')
                        continue;
                if (atomic_load(&s->cancelled))
                        return -ECANCELED;
                uint64_t abs = it->offset + i;
                uint64_t avail = s->size - abs;
                _cleanup_free_ unsigned char *own = NULL;
                const unsigned char *h = data + i;
                size_t hlen = it->len - i;
                if (hlen < hdr && hlen < avail) {
                        hlen = (size_t)MG_MIN((uint64_t)hdr, avail);
                        own = malloc(hlen);
                        if (!own)
                                return -ENOMEM;
                        if (tsk_img_read(s->img, (TSK_OFF_T)abs, (char *)own, hlen) !=
                            (ssize_t)hlen) {
                                tsk_error_reset();
                                continue;
                        }
                        h = own;
                }
                uint64_t sizes[4];
                size_t n = clam_pe_sizes(h, MG_MIN(hlen, hdr), sizes);
                if (n == 0)
                        continue;
                uint64_t max = 0;
                for (size_t k = 0; k < n; k++)
                        max = MG_MAX(max, sizes[k]);
                max = MG_MIN(max + hdr, MG_MIN(s->engine->max_file_size, avail));
                if (++count > 256 || (carved += max) > 8 * (uint64_t)SCAN_RAW_CHUNK) {
                        scan_flag(s, MG_VERDICT_UNSAFE,
                                  "too many embedded executables in raw bytes at offset %llu",
                                  (unsigned long long)it->offset);
                        return 0;
                }
                /* the object's bytes: from the chunk if they are all there, else from the medium */
                _cleanup_free_ unsigned char *obj = NULL;
                const unsigned char *o = data + i;
                size_t olen = (size_t)MG_MIN((uint64_t)(it->len - i), max);
                if (olen < max && it->len - i < avail) {
                        obj = malloc((size_t)max);
                        if (!obj)
                                return -ENOMEM;
                        ssize_t k = tsk_img_read(s->img, (TSK_OFF_T)abs, (char *)obj, (size_t)max);
                        if (k <= 0) {
                                tsk_error_reset();
                                continue;
                        }
                        atomic_fetch_add(&s->bytes_read, (uint64_t)k);
                        o = obj;
                        olen = (size_t)k;
                }
                uint64_t t = clam_trimmed_size(o, olen, sizes[0]);
                if (t)
                        sizes[n++] = t;
                for (size_t k = 0; k < n; k++) {
                        bool dup = sizes[k] == 0 || sizes[k] > olen;
                        for (size_t m = 0; m < k && !dup; m++)
                                dup = sizes[m] == sizes[k];
                        if (dup)
                                continue;
                        struct scan_item sub = *it;
                        sub.offset = abs;
                        sub.len = (size_t)sizes[k];
                        int r = clam_scan_mem(s, &sub, o, (size_t)sizes[k]);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* Scan one item's bytes with the shared engine. */
int scan_clam_item(struct mg_scan *s, const struct scan_item *it, const unsigned char *data)
{
        int r = clam_scan_mem(s, it, data, it->len);
        if (r < 0)
                return r;
        if (it->carve)
                r = clam_carve(s, it, data);
        return r;
}
