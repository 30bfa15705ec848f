/* The ledger's storage: SQLite (WAL, synchronous=FULL), one transaction per entry; keys; syslog. */
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include "ledger-internal.h"

#define STORE_DB        "ledger.db"
#define STORE_LOG_KEY   "log.key"
#define STORE_LOG_VKEY  "log.vkey"
#define STORE_MAX_KEY   4096
#define STORE_SYSLOG    1024
#define STORE_HEARTBEAT 300
/* Every this many entries, checkpoint and truncate the WAL: its old frames hold old state rows,
 * with the signing keys of entries already written. This bounds how long they linger there. */
#define STORE_WAL_FLUSH 64

static const char store_schema[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE entries(idx INTEGER PRIMARY KEY, body BLOB NOT NULL, leaf BLOB NOT NULL,"
    " time INTEGER NOT NULL, event TEXT NOT NULL);"
    "CREATE TABLE state(id INTEGER PRIMARY KEY CHECK (id = 1), size INTEGER NOT NULL,"
    " compact BLOB NOT NULL, last_leaf BLOB, last_time INTEGER NOT NULL, next_seed BLOB);"
    "CREATE TABLE checkpoints(size INTEGER NOT NULL, created INTEGER NOT NULL,"
    " note TEXT NOT NULL);"
    /* Append-only, as a guard against mistakes (root can drop these; verify catches that). */
    "CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries"
    " BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;"
    "CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries"
    " BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;";

/* Map a SQLite result code to a negative errno. */
int ledger_store_errno(int rc)
{
        switch (rc & 0xff) {
        case SQLITE_OK:
        case SQLITE_DONE:
        case SQLITE_ROW:
                return 0;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_READONLY:
        case SQLITE_PERM:
        case SQLITE_AUTH:
                return -EACCES;
        case SQLITE_CANTOPEN:
                return -ENOENT;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
        case SQLITE_SCHEMA:
        case SQLITE_CONSTRAINT:
        case SQLITE_MISMATCH:
                return -EBADMSG;
        case SQLITE_TOOBIG:
                return -EMSGSIZE;
        default:
                return -EIO;
        }
}

/* Send a message to the log callback. */
void ledger_log(struct mg_ledger *l, enum mg_log_level level, const char *fmt, ...)
{
        char msg[1024];
        va_list ap;
        if (!l || !l->log_fn)
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        l->log_fn(l->log_userdata, level, msg);
}

/* Read a small file whole. */
int ledger_read_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if ((uint64_t)st.st_size > max)
                return -EFBIG;
        _cleanup_free_ char *p = malloc((size_t)st.st_size + 1);
        if (!p)
                return -ENOMEM;
        size_t len = 0;
        while (len < (size_t)st.st_size) {
                ssize_t k = read(fd, p + len, (size_t)st.st_size - len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                len += (size_t)k;
        }
        p[len] = 0;
        if (ret_len)
                *ret_len = len;
        *ret = TAKE_PTR(p);
        return 0;
}

/* fsync the directory containing @path. */
static int store_sync_dir(const char *path)
{
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        _cleanup_close_ int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return fsync(fd) < 0 ? -errno : 0;
}

/* Write a file durably: temporary file, fsync, rename, fsync the directory. */
int ledger_write_file(const char *path, const void *p, size_t n, mode_t mode)
{
        _cleanup_free_ char *tmp = NULL;
        if (asprintf(&tmp, "%s.tmp", path) < 0)
                return -ENOMEM;
        unlink(tmp);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;
        const char *q = p;
        size_t left = n;
        int r = 0;
        while (left > 0) {
                ssize_t k = write(fd, q, left);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = -errno;
                        break;
                }
                q += k;
                left -= (size_t)k;
        }
        if (r == 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return r;
        }
        return store_sync_dir(path);
}

/* Run SQL without results. */
static int store_exec(struct mg_ledger *l, const char *sql)
{
        char *err = NULL;
        int rc = sqlite3_exec(l->db, sql, NULL, NULL, &err);
        if (rc != SQLITE_OK) {
                ledger_log(l, MG_LOG_ERR, "ledger database: %s", err ? err : sqlite3_errstr(rc));
                sqlite3_free(err);
                return ledger_store_errno(rc);
        }
        return 0;
}

/* The current time. */
static int64_t store_clock(void)
{
        return (int64_t)time(NULL);
}

/* Build "<dir>/<name>". */
static char *store_path(const struct mg_ledger *l, const char *name)
{
        char *p = NULL;
        return asprintf(&p, "%s/%s", l->path, name) < 0 ? NULL : p;
}

/* Open the SQLite database and set the durability pragmas. */
static int store_open_db(struct mg_ledger *l, bool create)
{
        _cleanup_free_ char *db = store_path(l, STORE_DB);
        if (!db)
                return -ENOMEM;
        if (create) {
                /* Create it 0600 first: SQLite gives the -wal and -shm files the same mode. */
                int fd = open(db, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd < 0)
                        return -errno;
                close(fd);
        } else if (access(db, F_OK) < 0) {
                return -errno;
        }
        int rc = sqlite3_open_v2(db, &l->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL);
        if (rc != SQLITE_OK)
                return ledger_store_errno(rc);
        sqlite3_busy_timeout(l->db, 10000);
        sqlite3_extended_result_codes(l->db, 1);
        int r = store_exec(l, "PRAGMA journal_mode=WAL;");
        if (r == 0)
                r = store_exec(l, "PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;"
                                  " PRAGMA cell_size_check=ON;");
        return r;
}

/* Create a handle for @path without opening anything. */
static int store_new(const char *path, unsigned flags, struct mg_ledger **ret)
{
        if (!path || !*path)
                return -EINVAL;
        struct mg_ledger *l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        l->path = strdup(path);
        if (!l->path) {
                free(l);
                return -ENOMEM;
        }
        l->flags = flags;
        l->clock = store_clock;
        l->heartbeat_s = STORE_HEARTBEAT;
        *ret = l;
        return 0;
}

/* Read one meta value into @out. */
static int store_meta(struct mg_ledger *l, const char *key, char *out, size_t size)
{
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(l->db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL);
        if (rc != SQLITE_OK)
                return ledger_store_errno(rc);
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        int r = 0;
        if (rc == SQLITE_ROW) {
                const char *v = (const char *)sqlite3_column_text(st, 0);
                if (!v || strlen(v) >= size)
                        r = -EBADMSG;
                else
                        memcpy(out, v, strlen(v) + 1);
        } else {
                r = rc == SQLITE_DONE ? -EBADMSG : ledger_store_errno(rc);
        }
        sqlite3_finalize(st);
        return r;
}

/* Open an existing ledger. */
int mg_ledger_open(const char *path, unsigned flags, struct mg_ledger **ret)
{
        struct mg_ledger *l = NULL;
        int r = store_new(path, flags, &l);
        if (r < 0)
                return r;
        r = store_open_db(l, false);
        char hb[32];
        if (r == 0)
                r = store_meta(l, "origin", l->origin, sizeof(l->origin));
        if (r == 0)
                r = store_meta(l, "heartbeat", hb, sizeof(hb));
        if (r == 0) {
                char *end;
                long long v = strtoll(hb, &end, 10);
                if (*end || v <= 0 || v > 86400 * 366)
                        r = -EBADMSG;
                else
                        l->heartbeat_s = v;
        }
        if (r < 0) {
                mg_ledger_close(l);
                return r == -ENOTDIR ? -ENOENT : r;
        }
        *ret = l;
        return 0;
}

/* Close a handle. */
void mg_ledger_close(struct mg_ledger *l)
{
        if (!l)
                return;
        if (l->db)
                sqlite3_close_v2(l->db);
        free(l->path);
        sodium_memzero(l, sizeof(*l));
        free(l);
}

/* Set the log callback. */
void mg_ledger_set_log(struct mg_ledger *l, mg_log_fn fn, void *userdata)
{
        l->log_fn = fn;
        l->log_userdata = userdata;
}

/* The origin. */
const char *mg_ledger_origin(const struct mg_ledger *l)
{
        return l->origin;
}

/* Turn off fsync for benchmark setup. */
int ledger_store_set_nosync(struct mg_ledger *l)
{
        return store_exec(l, "PRAGMA synchronous=OFF;");
}

/* Load the long-term log signing key. */
int ledger_store_log_key(struct mg_ledger *l, struct ledger_skey *ret)
{
        _cleanup_free_ char *path = store_path(l, STORE_LOG_KEY);
        _cleanup_free_ char *text = NULL;
        size_t len;
        if (!path)
                return -ENOMEM;
        int r = ledger_read_file(path, STORE_MAX_KEY, &text, &len);
        if (r < 0)
                return r;
        struct ledger_skey k;
        r = ledger_skey_parse(text, len, &k);
        sodium_memzero(text, len);
        if (r < 0)
                return -EBADMSG;
        if (k.v.type != LEDGER_SIG_ED25519 || strcmp(k.v.name, l->origin) != 0) {
                ledger_skey_wipe(&k);
                return -EBADMSG;
        }
        *ret = k;
        ledger_skey_wipe(&k);
        return 0;
}

/* Format the syslog line of an entry. */
int ledger_syslog_line(const struct ledger_entry *e, const ledger_hash leaf, struct mg_buf *b)
{
        char ts[32], hex[2 * LEDGER_HASH_SIZE + 1];
        ledger_time_format(e->time, ts);
        sodium_bin2hex(hex, sizeof(hex), leaf, LEDGER_HASH_SIZE);
        buf_printf(b, "MEDIAGATE_LEDGER origin=%s index=%llu time=%s event=%s actor=\"%s\" leaf=%s",
                   e->origin, (unsigned long long)e->index, ts, e->event, e->actor, hex);
        for (size_t i = 0; i < e->n_fields; i++)
                buf_printf(b, " %s=\"%s\"", e->fields[i].key, e->fields[i].value);
        return b->err;
}

/* Copy a durable entry to the system log (structured key=value text; journald keeps it too). */
static void store_syslog(struct mg_ledger *l, const char *note, size_t len, const ledger_hash leaf)
{
        if (l->flags & MG_LEDGER_NO_SYSLOG)
                return;
        struct ledger_entry *e = NULL;
        if (ledger_entry_parse(note, len, &e) < 0)
                return;
        struct mg_buf b;
        buf_init(&b, STORE_SYSLOG);
        ledger_syslog_line(e, leaf, &b);
        if (b.data)
                syslog(LOG_AUTHPRIV | LOG_NOTICE, "%s%s", b.data, b.err ? " ..." : "");
        buf_free(&b);
        ledger_entry_free(e);
}

/* The tree state, read inside a transaction. */
struct store_state {
        uint64_t size;
        struct ledger_compact compact;
        bool has_last;
        ledger_hash last_leaf;
        int64_t last_time;
        uint8_t next_seed[32];
        bool has_seed;
};

/* Read the state row. */
static int store_read_state(struct mg_ledger *l, struct store_state *s)
{
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(
            l->db, "SELECT size, compact, last_leaf, last_time, next_seed FROM state WHERE id = 1",
            -1, &st, NULL);
        if (rc != SQLITE_OK)
                return ledger_store_errno(rc);
        int r = 0;
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW) {
                r = rc == SQLITE_DONE ? -EBADMSG : ledger_store_errno(rc);
                goto out;
        }
        *s = (struct store_state){0};
        sqlite3_int64 size = sqlite3_column_int64(st, 0);
        if (size < 0 || (uint64_t)size >= LEDGER_MAX_ENTRIES) {
                r = -EBADMSG;
                goto out;
        }
        s->size = (uint64_t)size;
        s->compact.size = s->size;
        s->compact.n = (unsigned)__builtin_popcountll(s->size);
        const void *c = sqlite3_column_blob(st, 1);
        if ((size_t)sqlite3_column_bytes(st, 1) != s->compact.n * LEDGER_HASH_SIZE) {
                r = -EBADMSG;
                goto out;
        }
        if (s->compact.n)
                memcpy(s->compact.h, c, s->compact.n * LEDGER_HASH_SIZE);
        if (sqlite3_column_type(st, 2) == SQLITE_BLOB) {
                if (sqlite3_column_bytes(st, 2) != LEDGER_HASH_SIZE) {
                        r = -EBADMSG;
                        goto out;
                }
                memcpy(s->last_leaf, sqlite3_column_blob(st, 2), LEDGER_HASH_SIZE);
                s->has_last = true;
        }
        s->last_time = sqlite3_column_int64(st, 3);
        if (sqlite3_column_type(st, 4) == SQLITE_BLOB && sqlite3_column_bytes(st, 4) == 32) {
                memcpy(s->next_seed, sqlite3_column_blob(st, 4), 32);
                s->has_seed = true;
        }
        if (s->has_last != (s->size > 0) || (s->size > 0 && !s->has_seed))
                r = -EBADMSG;
out:
        sqlite3_finalize(st);
        return r;
}

/* Insert the entry row and update the state row. */
static int store_write(struct mg_ledger *l, uint64_t index, const char *note, size_t len,
                       const ledger_hash leaf, int64_t t, const char *event,
                       const struct ledger_compact *c, const uint8_t next_seed[32])
{
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(
            l->db, "INSERT INTO entries(idx, body, leaf, time, event) VALUES (?, ?, ?, ?, ?)", -1,
            &st, NULL);
        if (rc == SQLITE_OK) {
                sqlite3_bind_int64(st, 1, (sqlite3_int64)index);
                sqlite3_bind_blob(st, 2, note, (int)len, SQLITE_STATIC);
                sqlite3_bind_blob(st, 3, leaf, LEDGER_HASH_SIZE, SQLITE_STATIC);
                sqlite3_bind_int64(st, 4, t);
                sqlite3_bind_text(st, 5, event, -1, SQLITE_STATIC);
                rc = sqlite3_step(st);
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
                return ledger_store_errno(rc ? rc : SQLITE_ERROR);
        rc = sqlite3_prepare_v2(l->db,
                                "UPDATE state SET size = ?, compact = ?, last_leaf = ?,"
                                " last_time = ?, next_seed = ? WHERE id = 1",
                                -1, &st, NULL);
        if (rc == SQLITE_OK) {
                sqlite3_bind_int64(st, 1, (sqlite3_int64)(index + 1));
                sqlite3_bind_blob(st, 2, c->h, (int)(c->n * LEDGER_HASH_SIZE), SQLITE_STATIC);
                sqlite3_bind_blob(st, 3, leaf, LEDGER_HASH_SIZE, SQLITE_STATIC);
                sqlite3_bind_int64(st, 4, t);
                sqlite3_bind_blob(st, 5, next_seed, 32, SQLITE_STATIC);
                rc = sqlite3_step(st);
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
                return ledger_store_errno(rc ? rc : SQLITE_ERROR);
        if (sqlite3_changes(l->db) != 1)
                return -EBADMSG;
        return 0;
}

/* Build and sign entry @s->size; returns the note in @note. */
static int store_build(struct mg_ledger *l, const struct store_state *s, int64_t t,
                       const char *event, const char *actor, const struct mg_ledger_field *fields,
                       size_t n_fields, const struct ledger_skey *next, struct mg_buf *note)
{
        struct ledger_skey signer;
        int r;
        if (s->size == 0) {
                r = ledger_store_log_key(l, &signer);
        } else {
                char name[LEDGER_MAX_NAME + 1];
                r = ledger_chain_key_name(l->origin, s->size, name);
                if (r == 0)
                        r = ledger_skey_from_seed(name, LEDGER_SIG_ED25519, s->next_seed, &signer);
        }
        if (r < 0)
                return r;
        r = ledger_entry_body(note, l->origin, s->size, t, event, actor,
                              s->has_last ? s->last_leaf : NULL, fields, n_fields, &next->v);
        if (r == 0) {
                size_t body_len = note->len;
                buf_puts(note, "\n");
                r = ledger_note_sign(note, note->data, body_len, &signer);
        }
        ledger_skey_wipe(&signer);
        if (r == 0 && note->err)
                r = note->err;
        if (r == -E2BIG)
                r = -EMSGSIZE;
        return r;
}

/* Append one entry in one transaction. */
int ledger_store_append(struct mg_ledger *l, int64_t t, const char *event, const char *actor,
                        const struct mg_ledger_field *fields, size_t n_fields, uint64_t *ret_index,
                        uint8_t ret_leaf_hash[32])
{
        if (!l || !l->db)
                return -EINVAL;
        if (l->failed)
                return l->failed;
        if (!ledger_event_valid(event) || n_fields > LEDGER_MAX_FIELDS || (n_fields && !fields))
                return -EINVAL;
        for (size_t i = 0; i < n_fields; i++)
                if (!ledger_field_key_valid(fields[i].key))
                        return -EINVAL;
        int r = store_exec(l, "BEGIN IMMEDIATE");
        if (r < 0)
                return r == -EBUSY ? r : (l->failed = r);
        struct store_state s = {0};
        struct ledger_skey next = {0};
        struct mg_buf note;
        buf_init(&note, LEDGER_MAX_ENTRY);
        ledger_hash leaf;
        bool fatal = false;
        r = store_read_state(l, &s);
        if (r == 0 && s.size + 1 >= LEDGER_MAX_ENTRIES)
                r = -EOVERFLOW;
        if (r == 0) {
                char name[LEDGER_MAX_NAME + 1];
                r = ledger_chain_key_name(l->origin, s.size + 1, name);
                if (r == 0)
                        r = ledger_skey_generate(name, LEDGER_SIG_ED25519, &next);
        }
        if (r == 0 && t < s.last_time)
                t = s.last_time; /* times never go backwards */
        if (r == 0)
                r = store_build(l, &s, t, event, actor, fields, n_fields, &next, &note);
        if (r == 0) {
                ledger_leaf_hash(note.data, note.len, leaf);
                ledger_compact_append(&s.compact, leaf);
                r = store_write(l, s.size, note.data, note.len, leaf, t, event, &s.compact,
                                next.seed);
                fatal = r < 0;
        }
        if (r == 0) {
                /* The commit syncs the WAL (synchronous=FULL): after it, the entry is durable. */
                r = store_exec(l, "COMMIT");
                fatal = r < 0;
        }
        if (r < 0) {
                if (!sqlite3_get_autocommit(l->db))
                        sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
                if (fatal || r == -EIO || r == -ENOSPC) {
                        l->failed = r;
                        ledger_log(l, MG_LOG_ERR,
                                   "ledger stopped: could not record entry %llu durably: %s",
                                   (unsigned long long)s.size, strerror(-r));
                }
        } else {
                store_syslog(l, note.data, note.len, leaf);
                if ((s.size + 1) % STORE_WAL_FLUSH == 0) {
                        int rc = sqlite3_wal_checkpoint_v2(l->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
                                                           NULL, NULL);
                        if (rc != SQLITE_OK) /* the entry is durable; old key copies linger */
                                ledger_log(l, MG_LOG_WARNING, "ledger WAL checkpoint: %s",
                                           sqlite3_errstr(rc));
                }
                if (ret_index)
                        *ret_index = s.size;
                if (ret_leaf_hash)
                        memcpy(ret_leaf_hash, leaf, LEDGER_HASH_SIZE);
        }
        /* The key that signed this entry was in the state row the commit overwrote (secure_delete;
         * old WAL frames are truncated every STORE_WAL_FLUSH entries). Wipe the copies in memory.
         */
        sodium_memzero(&s, sizeof(s));
        ledger_skey_wipe(&next);
        buf_free(&note);
        return r;
}

/* Append one event now. */
int mg_ledger_append(struct mg_ledger *l, const char *event, const char *actor,
                     const struct mg_ledger_field *fields, size_t n_fields, uint64_t *ret_index,
                     uint8_t ret_leaf_hash[32])
{
        if (!l)
                return -EINVAL;
        return ledger_store_append(l, l->clock(), event, actor, fields, n_fields, ret_index,
                                   ret_leaf_hash);
}

/* Append a heartbeat. */
int mg_ledger_heartbeat(struct mg_ledger *l, uint64_t *ret_index)
{
        return mg_ledger_append(l, "HEARTBEAT", "system", NULL, 0, ret_index, NULL);
}

/* Create a ledger. */
int mg_ledger_init_heartbeat(const char *path, const char *origin, uint32_t heartbeat_s)
{
        if (!origin || strlen(origin) > LEDGER_MAX_ORIGIN ||
            !ledger_name_valid(origin, strlen(origin)) || heartbeat_s == 0 ||
            heartbeat_s > 86400 * 366)
                return -EINVAL;
        for (const char *p = origin; *p; p++)
                if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
                        return -EINVAL;
        struct mg_ledger *l = NULL;
        int r = store_new(path, MG_LEDGER_NO_SYSLOG, &l);
        if (r < 0)
                return r;
        snprintf(l->origin, sizeof(l->origin), "%s", origin);
        l->heartbeat_s = heartbeat_s;
        struct ledger_skey key = {0};
        struct mg_buf b;
        buf_init(&b, STORE_MAX_KEY);
        _cleanup_free_ char *kpath = store_path(l, STORE_LOG_KEY);
        _cleanup_free_ char *vpath = store_path(l, STORE_LOG_VKEY);
        _cleanup_free_ char *dbpath = store_path(l, STORE_DB);
        if (!kpath || !vpath || !dbpath) {
                r = -ENOMEM;
                goto out;
        }
        int mk = mkdir(path, 0700) < 0 ? -errno : 0;
        if (mk == -ENOENT) {
                /* e.g. /var/lib/mediagate on a fresh system: create the parent, one level */
                _cleanup_free_ char *parent = strdup(path);
                if (!parent) {
                        r = -ENOMEM;
                        goto out;
                }
                if (mkdir(dirname(parent), 0755) < 0 && errno != EEXIST) {
                        r = -errno;
                        goto out;
                }
                mk = mkdir(path, 0700) < 0 ? -errno : 0;
        }
        if (mk < 0 && mk != -EEXIST) {
                r = mk;
                goto out;
        }
        if (access(dbpath, F_OK) == 0 || access(kpath, F_OK) == 0) {
                r = -EEXIST;
                goto out;
        }
        if (chmod(path, 0700) < 0) {
                r = -errno;
                goto out;
        }
        r = ledger_skey_generate(origin, LEDGER_SIG_ED25519, &key);
        if (r < 0)
                goto out;
        ledger_skey_format(&key, &b);
        buf_puts(&b, "\n");
        r = b.err ? b.err : ledger_write_file(kpath, b.data, b.len, 0600);
        sodium_memzero(b.data, b.len);
        if (r < 0)
                goto out;
        b.len = 0;
        ledger_vkey_format(&key.v, &b);
        buf_puts(&b, "\n");
        r = b.err ? b.err : ledger_write_file(vpath, b.data, b.len, 0644);
        if (r < 0)
                goto out;
        r = store_open_db(l, true);
        if (r < 0)
                goto out;
        r = store_exec(l, store_schema);
        if (r < 0)
                goto out;
        char sql[512];
        snprintf(sql, sizeof(sql),
                 "INSERT INTO meta VALUES ('version', '1'), ('heartbeat', '%u');"
                 "INSERT INTO state(id, size, compact, last_time) VALUES (1, 0, x'', 0);",
                 heartbeat_s);
        r = store_exec(l, sql);
        if (r == 0) {
                sqlite3_stmt *st = NULL;
                int rc = sqlite3_prepare_v2(l->db, "INSERT INTO meta VALUES ('origin', ?)", -1, &st,
                                            NULL);
                if (rc == SQLITE_OK) {
                        sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
                        rc = sqlite3_step(st);
                }
                sqlite3_finalize(st);
                r = rc == SQLITE_DONE ? 0 : ledger_store_errno(rc);
        }
        if (r < 0)
                goto out;
        b.len = 0;
        ledger_vkey_format(&key.v, &b);
        char hb[16];
        snprintf(hb, sizeof(hb), "%u", heartbeat_s);
        const struct mg_ledger_field f[] = {
            {"log-key", b.data},
            {"heartbeat", hb},
            {"software", "mediagate " MG_VERSION},
        };
        r = ledger_store_append(l, l->clock(), "INIT", "system", f, MG_ARRAY_SIZE(f), NULL, NULL);
        if (r == 0)
                r = store_sync_dir(dbpath); /* the new database's (and WAL's) directory entries */
out:
        ledger_skey_wipe(&key);
        buf_free(&b);
        mg_ledger_close(l);
        return r;
}

/* Create a ledger with the default heartbeat. */
int mg_ledger_init(const char *path, const char *origin)
{
        return mg_ledger_init_heartbeat(path, origin, STORE_HEARTBEAT);
}

/* Number of entries (from the state row). */
int mg_ledger_size(struct mg_ledger *l, uint64_t *ret_size)
{
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(l->db, "SELECT size FROM state WHERE id = 1", -1, &st, NULL);
        if (rc != SQLITE_OK)
                return ledger_store_errno(rc);
        rc = sqlite3_step(st);
        int r = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -EBADMSG : ledger_store_errno(rc);
        sqlite3_int64 v = r == 0 ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_finalize(st);
        if (r == 0 && v < 0)
                r = -EBADMSG;
        if (r == 0)
                *ret_size = (uint64_t)v;
        return r;
}

/* Read one stored entry. */
int mg_ledger_entry(struct mg_ledger *l, uint64_t index, char **ret_text, size_t *ret_len)
{
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(l->db, "SELECT body FROM entries WHERE idx = ?", -1, &st, NULL);
        if (rc != SQLITE_OK)
                return ledger_store_errno(rc);
        sqlite3_bind_int64(st, 1, (sqlite3_int64)index);
        rc = sqlite3_step(st);
        int r = 0;
        if (rc == SQLITE_ROW) {
                size_t n = (size_t)sqlite3_column_bytes(st, 0);
                const void *p = sqlite3_column_blob(st, 0);
                char *t = n <= LEDGER_MAX_ENTRY ? malloc(n + 1) : NULL;
                if (!t) {
                        r = n <= LEDGER_MAX_ENTRY ? -ENOMEM : -EBADMSG;
                } else {
                        if (n)
                                memcpy(t, p, n);
                        t[n] = 0;
                        *ret_text = t;
                        if (ret_len)
                                *ret_len = n;
                }
        } else {
                r = rc == SQLITE_DONE ? -ENOENT : ledger_store_errno(rc);
        }
        sqlite3_finalize(st);
        return r;
}

/* Read every stored leaf hash in index order. */
int ledger_store_leaves(struct mg_ledger *l, ledger_hash **ret, uint64_t *ret_n)
{
        uint64_t size;
        int r = mg_ledger_size(l, &size);
        if (r < 0)
                return r;
        if (size >= LEDGER_MAX_ENTRIES)
                return -EBADMSG;
        _cleanup_free_ ledger_hash *v = malloc((size ? size : 1) * sizeof(ledger_hash));
        if (!v)
                return -ENOMEM;
        sqlite3_stmt *st = NULL;
        int rc =
            sqlite3_prepare_v2(l->db, "SELECT idx, leaf FROM entries ORDER BY idx", -1, &st, NULL);
        if (rc != SQLITE_OK)
                return ledger_store_errno(rc);
        uint64_t n = 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                if (n >= size || sqlite3_column_int64(st, 0) != (sqlite3_int64)n ||
                    sqlite3_column_bytes(st, 1) != LEDGER_HASH_SIZE) {
                        r = -EBADMSG;
                        break;
                }
                memcpy(v[n++], sqlite3_column_blob(st, 1), LEDGER_HASH_SIZE);
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = ledger_store_errno(rc);
        sqlite3_finalize(st);
        if (r == 0 && n != size)
                r = -EBADMSG;
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

/* Store a signed checkpoint. */
int ledger_store_add_checkpoint(struct mg_ledger *l, uint64_t size, const char *note)
{
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(
            l->db, "INSERT INTO checkpoints(size, created, note) VALUES (?, ?, ?)", -1, &st, NULL);
        if (rc == SQLITE_OK) {
                sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
                sqlite3_bind_int64(st, 2, l->clock());
                sqlite3_bind_text(st, 3, note, -1, SQLITE_STATIC);
                rc = sqlite3_step(st);
        }
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? 0 : ledger_store_errno(rc);
}

/* Sign a checkpoint for the tree of @size with root @root. */
static int store_sign_checkpoint(struct mg_ledger *l, uint64_t size, const ledger_hash root,
                                 char **ret)
{
        struct ledger_checkpoint c = {.size = size};
        struct ledger_skey key;
        snprintf(c.origin, sizeof(c.origin), "%s", l->origin);
        memcpy(c.root, root, LEDGER_HASH_SIZE);
        int r = ledger_store_log_key(l, &key);
        if (r < 0)
                return r;
        struct mg_buf b;
        buf_init(&b, LEDGER_MAX_NOTE);
        ledger_checkpoint_format(&c, &b);
        size_t text_len = b.len;
        buf_puts(&b, "\n");
        r = b.err ? b.err : ledger_note_sign(&b, b.data, text_len, &key);
        ledger_skey_wipe(&key);
        if (r == 0 && !(*ret = buf_steal(&b)))
                r = -ENOMEM;
        buf_free(&b);
        return r;
}

/* Sign, store and return a checkpoint for the current tree. */
int mg_ledger_checkpoint(struct mg_ledger *l, char **ret_note)
{
        int r = store_exec(l, "BEGIN IMMEDIATE");
        if (r < 0)
                return r;
        struct store_state s;
        ledger_hash root;
        char *note = NULL;
        uint64_t size = 0;
        r = store_read_state(l, &s);
        if (r == 0) {
                size = s.size;
                ledger_compact_root(&s.compact, root);
                r = store_sign_checkpoint(l, size, root, &note);
        }
        sodium_memzero(&s, sizeof(s));
        if (r == 0)
                r = ledger_store_add_checkpoint(l, size, note);
        if (r == 0)
                r = store_exec(l, "COMMIT");
        if (r < 0) {
                if (!sqlite3_get_autocommit(l->db))
                        sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
                free(note);
                return r;
        }
        *ret_note = note;
        return 0;
}

/* Produce an inclusion proof block and a checkpoint for @size. */
int mg_ledger_prove(struct mg_ledger *l, uint64_t index, uint64_t size, char **ret_text)
{
        _cleanup_free_ ledger_hash *leaves = NULL;
        uint64_t n;
        int r = ledger_store_leaves(l, &leaves, &n);
        if (r < 0)
                return r;
        if (size == 0)
                size = n;
        if (size > n || index >= size)
                return -ERANGE;
        struct ledger_proof p = {.index = index, .size = size};
        snprintf(p.origin, sizeof(p.origin), "%s", l->origin);
        memcpy(p.leaf, leaves[index], LEDGER_HASH_SIZE);
        r = ledger_merkle_inclusion(leaves, size, index, p.path, &p.n);
        if (r < 0)
                return r;
        ledger_hash root;
        ledger_merkle_root(leaves, size, root);
        _cleanup_free_ char *cp = NULL;
        r = store_sign_checkpoint(l, size, root, &cp);
        if (r < 0)
                return r;
        struct mg_buf b;
        buf_init(&b, 4 * LEDGER_MAX_NOTE);
        ledger_proof_format(&p, &b);
        buf_puts(&b, "\n");
        buf_puts(&b, cp);
        r = b.err;
        if (r == 0 && !(*ret_text = buf_steal(&b)))
                r = -ENOMEM;
        buf_free(&b);
        return r;
}
