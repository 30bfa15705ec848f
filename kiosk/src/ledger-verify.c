/* Ledger verification, auditor export bundle, backups and the auditor's cosignature. */
#include <dirent.h>
#include <fcntl.h>
#include <mediagate/escape.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "ledger-internal.h"

#define VERIFY_AUDIT_AGE   (183 * 86400LL)
#define VERIFY_MAX_CP_FILE LEDGER_MAX_NOTE

struct verify_ctx {
        struct mg_ledger *l;
        struct mg_ledger_verify_result *res;
};

/* Record one finding; the most severe one (the first of that severity) is the result. */
static void verify_finding(struct verify_ctx *c, enum mg_ledger_problem p, bool has_index,
                           uint64_t index, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void verify_finding(struct verify_ctx *c, enum mg_ledger_problem p, bool has_index,
                           uint64_t index, const char *fmt, ...)
{
        char msg[sizeof(c->res->message)];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        c->res->n_findings++;
        ledger_log(c->l, p >= MG_LEDGER_INCONSISTENT ? MG_LOG_ERR : MG_LOG_WARNING, "%s", msg);
        if (p > c->res->problem) {
                c->res->problem = p;
                c->res->has_index = has_index;
                c->res->bad_index = has_index ? index : 0;
                memcpy(c->res->message, msg, sizeof(msg));
        }
}

/* Read the trusted log vkey. */
static int verify_log_vkey(struct mg_ledger *l, const char *text, struct ledger_vkey *ret)
{
        _cleanup_free_ char *buf = NULL;
        size_t len;
        if (!text) {
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s/log.vkey", l->path) < 0)
                        return -ENOMEM;
                int r = ledger_read_file(path, 4096, &buf, &len);
                if (r < 0)
                        return r;
                text = buf;
        }
        len = strlen(text);
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
                len--;
        if (ledger_vkey_parse(text, len, ret) < 0 || ret->type != LEDGER_SIG_ED25519)
                return -EBADMSG;
        return 0;
}

/* Check an AUDIT entry's cosignature; sets *ret_time when it is valid and trusted. */
static void verify_audit(struct verify_ctx *c, const struct mg_ledger_verify_opts *o,
                         const struct ledger_entry *e, const ledger_hash *leaves,
                         int64_t *last_audit)
{
        const char *size_s = ledger_entry_field(e, "checkpoint.size");
        const char *root_s = ledger_entry_field(e, "checkpoint.root");
        const char *cosigner = ledger_entry_field(e, "cosigner");
        const char *sig = ledger_entry_field(e, "cosignature");
        struct ledger_vkey k;
        struct ledger_checkpoint cp = {0};
        size_t hl;
        char *end;
        if (!size_s || !root_s || !cosigner || !sig)
                return; /* an AUDIT note without a cosignature: nothing to check */
        unsigned long long size = strtoull(size_s, &end, 10);
        if (*end || size > e->index ||
            ledger_b64_decode(root_s, strlen(root_s), cp.root, LEDGER_HASH_SIZE, &hl) < 0 ||
            hl != LEDGER_HASH_SIZE || ledger_vkey_parse(cosigner, strlen(cosigner), &k) < 0 ||
            k.type != LEDGER_SIG_COSIG) {
                verify_finding(c, MG_LEDGER_CHECKPOINT, true, e->index,
                               "entry %llu: malformed audit cosignature fields",
                               (unsigned long long)e->index);
                return;
        }
        snprintf(cp.origin, sizeof(cp.origin), "%s", e->origin);
        cp.size = size;
        struct mg_buf b;
        buf_init(&b, LEDGER_MAX_NOTE);
        ledger_checkpoint_format(&cp, &b);
        buf_printf(&b, "\n\xe2\x80\x94 %s %s\n", k.name, sig);
        struct ledger_note n;
        uint64_t ts = 0;
        int r = b.err ? b.err : ledger_note_parse(b.data, b.len, &n);
        if (r == 0)
                r = ledger_cosig_verify(&n, &k, &ts);
        buf_free(&b);
        if (r < 0) {
                verify_finding(c, MG_LEDGER_CHECKPOINT, true, e->index,
                               "entry %llu: the auditor's cosignature does not verify",
                               (unsigned long long)e->index);
                return;
        }
        ledger_hash root;
        ledger_merkle_root(leaves, size, root);
        if (sodium_memcmp(root, cp.root, LEDGER_HASH_SIZE) != 0) {
                verify_finding(c, MG_LEDGER_INCONSISTENT, true, e->index,
                               "entry %llu: the audited checkpoint (size %llu) is not a prefix "
                               "of this ledger",
                               (unsigned long long)e->index, size);
                return;
        }
        bool trusted = o->n_auditor_vkeys == 0;
        for (size_t i = 0; i < o->n_auditor_vkeys; i++) {
                struct ledger_vkey t;
                const char *s = o->auditor_vkeys[i];
                size_t len = strlen(s);
                while (len > 0 && s[len - 1] == '\n')
                        len--;
                if (ledger_vkey_parse(s, len, &t) == 0 && t.id == k.id &&
                    strcmp(t.name, k.name) == 0 && memcmp(t.pk, k.pk, 32) == 0)
                        trusted = true;
        }
        if (!trusted) {
                verify_finding(c, MG_LEDGER_CHECKPOINT, true, e->index,
                               "entry %llu: audit cosigned by a key that is not a trusted auditor",
                               (unsigned long long)e->index);
                return;
        }
        if ((int64_t)ts > *last_audit)
                *last_audit = (int64_t)ts;
}

/* Check a signed checkpoint note against the verified tree. */
static void verify_checkpoint(struct verify_ctx *c, const char *what, const char *text,
                              const struct ledger_vkey *logkey, const ledger_hash *leaves,
                              uint64_t n)
{
        struct ledger_note note;
        struct ledger_checkpoint cp;
        size_t len = strlen(text);
        if (ledger_note_parse(text, len, &note) < 0 ||
            ledger_checkpoint_parse(note.text, note.text_len, &cp) < 0) {
                verify_finding(c, MG_LEDGER_CHECKPOINT, false, 0, "%s: not a signed checkpoint",
                               what);
                return;
        }
        if (ledger_note_verify(&note, logkey) < 0 || strcmp(cp.origin, logkey->name) != 0) {
                verify_finding(c, MG_LEDGER_CHECKPOINT, false, 0,
                               "%s: checkpoint signature does not verify with the log key", what);
                return;
        }
        if (cp.size > n) {
                verify_finding(c, MG_LEDGER_INCONSISTENT, true, n,
                               "%s: checkpoint has %llu entries but the ledger only %llu: "
                               "truncated or rolled back",
                               what, (unsigned long long)cp.size, (unsigned long long)n);
                return;
        }
        ledger_hash proof[LEDGER_MAX_PROOF], root;
        size_t plen = 0;
        ledger_merkle_root(leaves, n, root);
        int r = cp.size == 0 ? 0 : ledger_merkle_consistency(leaves, n, cp.size, proof, &plen);
        if (r == 0)
                r = ledger_merkle_verify_consistency(cp.size, n, cp.root, root, proof, plen);
        if (r < 0) {
                /* Name the first entry where the histories can differ: the checkpoint's size
                 * bounds it; find the smallest prefix whose root is not a prefix of ours. */
                verify_finding(c, MG_LEDGER_INCONSISTENT, false, 0,
                               "%s: the ledger is not an extension of the checkpoint of size "
                               "%llu (history rewritten or forked)",
                               what, (unsigned long long)cp.size);
        }
}

/* Where verification reads entries from: the live database or an export bundle. */
struct verify_source {
        sqlite3_stmt *st;   /* the database's entries, or NULL */
        const char *bundle; /* an export bundle directory, or NULL */
        uint64_t next;      /* bundle: the next file to read */
        char *buf;
        /* the current entry */
        int64_t idx;
        const char *body;
        size_t len;
        const void *stored_leaf; /* the database's leaf column; NULL in a bundle */
        size_t stored_leaf_len;
};

/* Fetch the next entry: 1 if there is one, 0 at the end, or -errno. */
static int verify_source_next(struct verify_source *s)
{
        if (s->st) {
                int rc = sqlite3_step(s->st);
                if (rc == SQLITE_DONE)
                        return 0;
                if (rc != SQLITE_ROW)
                        return ledger_store_errno(rc);
                s->idx = sqlite3_column_int64(s->st, 0);
                s->body = sqlite3_column_blob(s->st, 1);
                s->len = (size_t)sqlite3_column_bytes(s->st, 1);
                s->stored_leaf = sqlite3_column_blob(s->st, 2);
                s->stored_leaf_len = (size_t)sqlite3_column_bytes(s->st, 2);
                return 1;
        }
        free(s->buf);
        s->buf = NULL;
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/entries/%llu", s->bundle, (unsigned long long)s->next) < 0)
                return -ENOMEM;
        int r = ledger_read_file(path, LEDGER_MAX_ENTRY, &s->buf, &s->len);
        s->idx = (int64_t)s->next;
        if (r == -ENOENT) {
                /* the end, unless a later entry exists: then this one is missing */
                free(path);
                path = NULL;
                if (asprintf(&path, "%s/entries/%llu", s->bundle, (unsigned long long)s->next + 1) <
                    0)
                        return -ENOMEM;
                if (access(path, F_OK) != 0)
                        return 0;
                s->idx = (int64_t)s->next + 1;
                s->body = NULL;
                return 1;
        }
        if (r == -EFBIG) {
                s->body = NULL; /* larger than any entry: reported as malformed */
                s->next++;
                return 1;
        }
        if (r < 0)
                return r;
        s->body = s->buf;
        s->next++;
        return 1;
}

/* Check an export bundle's own checkpoints: the latest must cover exactly its entries. */
static void verify_bundle_checkpoints(struct verify_ctx *c, const char *dir,
                                      const struct ledger_vkey *logkey, const ledger_hash *leaves,
                                      uint64_t n)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        if (asprintf(&path, "%s/checkpoint", dir) < 0)
                return;
        if (ledger_read_file(path, VERIFY_MAX_CP_FILE, &text, NULL) < 0) {
                verify_finding(c, MG_LEDGER_CHECKPOINT, false, 0, "bundle: no checkpoint file");
                return;
        }
        unsigned before = c->res->n_findings;
        verify_checkpoint(c, "bundle checkpoint", text, logkey, leaves, n);
        struct ledger_note note;
        struct ledger_checkpoint cp;
        if (c->res->n_findings == before && ledger_note_parse(text, strlen(text), &note) == 0 &&
            ledger_checkpoint_parse(note.text, note.text_len, &cp) == 0 && cp.size != n)
                verify_finding(c, MG_LEDGER_INCONSISTENT, true, cp.size,
                               "bundle: the checkpoint covers %llu entries but the bundle has "
                               "%llu (entries added or removed)",
                               (unsigned long long)cp.size, (unsigned long long)n);
        static const char *const subdirs[] = {"checkpoints", "cosignatures"};
        for (size_t i = 0; i < MG_ARRAY_SIZE(subdirs); i++) {
                _cleanup_free_ char *d = NULL;
                if (asprintf(&d, "%s/%s", dir, subdirs[i]) < 0)
                        return;
                DIR *dd = opendir(d);
                if (!dd)
                        continue;
                struct dirent *de;
                unsigned k = 0;
                while ((de = readdir(dd)) != NULL && k++ < 100000) {
                        if (de->d_name[0] == '.')
                                continue;
                        _cleanup_free_ char *p = NULL, *t = NULL, *what = NULL;
                        if (asprintf(&p, "%s/%s", d, de->d_name) < 0 ||
                            ledger_read_file(p, VERIFY_MAX_CP_FILE, &t, NULL) < 0)
                                continue;
                        char *e = mg_escape_str(de->d_name);
                        if (asprintf(&what, "bundle %s/%s", subdirs[i], e ? e : "?") >= 0)
                                verify_checkpoint(c, what, t, logkey, leaves, n);
                        free(e);
                }
                closedir(dd);
        }
}

/* Verify the entries from @bundle (an export directory) or, if NULL, @l's database. */
static int verify_run(struct mg_ledger *l, const char *bundle,
                      const struct mg_ledger_verify_opts *opts, struct mg_ledger_verify_result *res)
{
        static const struct mg_ledger_verify_opts no_opts = {0};
        const struct mg_ledger_verify_opts *o = opts ? opts : &no_opts;
        struct verify_ctx c = {.l = l, .res = res};
        struct ledger_vkey logkey;
        *res = (struct mg_ledger_verify_result){0};
        int r = verify_log_vkey(l, o->log_vkey, &logkey);
        if (r < 0)
                return r;
        int64_t now = o->now ? o->now : (int64_t)time(NULL);
        int64_t max_gap = o->max_gap_s;
        int64_t audit_age = o->audit_max_age_s ? o->audit_max_age_s : VERIFY_AUDIT_AGE;

        ledger_hash *leaves = NULL;
        size_t cap = 0;
        uint64_t n = 0;
        struct ledger_entry *prev = NULL;
        bool broken = false;
        int64_t genesis_time = 0, last_audit = INT64_MIN;
        struct verify_source src = {.bundle = bundle};
        if (!bundle) {
                int rc = sqlite3_prepare_v2(
                    l->db, "SELECT idx, body, leaf FROM entries ORDER BY idx", -1, &src.st, NULL);
                if (rc != SQLITE_OK)
                        return ledger_store_errno(rc);
        }
        int sr;
        while ((sr = verify_source_next(&src)) > 0) {
                if (n >= LEDGER_MAX_ENTRIES) {
                        r = -E2BIG;
                        break;
                }
                if (n == cap) {
                        size_t ncap = cap ? cap * 2 : 1024;
                        ledger_hash *p = realloc(leaves, ncap * sizeof(ledger_hash));
                        if (!p) {
                                r = -ENOMEM;
                                break;
                        }
                        leaves = p;
                        cap = ncap;
                }
                unsigned long long i = n;
                const char *body = src.body;
                size_t len = body ? src.len : 0;
                ledger_leaf_hash(body ? body : "", len, leaves[n]);
                struct ledger_entry *e = NULL;
                if (src.idx != (int64_t)n) {
                        verify_finding(&c, MG_LEDGER_CHAIN, true, n,
                                       "entry %llu: missing (the next stored entry is %lld)", i,
                                       (long long)src.idx);
                        broken = true;
                        break;
                }
                if (!body || ledger_entry_parse(body, len, &e) < 0) {
                        verify_finding(&c, MG_LEDGER_TAMPERED, true, n,
                                       "entry %llu: malformed (not a signed ledger entry)", i);
                        broken = true;
                        break;
                }
                if (strcmp(e->origin, logkey.name) != 0) {
                        verify_finding(&c, MG_LEDGER_TAMPERED, true, n,
                                       "entry %llu: origin differs from the log key's name", i);
                        broken = true;
                } else if (e->index != n) {
                        verify_finding(&c, MG_LEDGER_CHAIN, true, n,
                                       "entry %llu: carries index %llu (deleted, inserted or "
                                       "reordered entries)",
                                       i, (unsigned long long)e->index);
                        broken = true;
                } else {
                        const struct ledger_vkey *expect = n == 0 ? &logkey : &prev->next_key;
                        char name[LEDGER_MAX_NAME + 1];
                        int vr = ledger_note_verify(&e->note, expect);
                        if (vr == -EBADMSG) {
                                verify_finding(&c, MG_LEDGER_TAMPERED, true, n,
                                               "entry %llu: content does not match its signature",
                                               i);
                                broken = true;
                        } else if (vr < 0) {
                                verify_finding(&c, MG_LEDGER_CHAIN, true, n,
                                               "entry %llu: not signed by the key announced in "
                                               "the previous entry (broken key chain)",
                                               i);
                                broken = true;
                        } else if (ledger_chain_key_name(e->origin, n + 1, name) < 0 ||
                                   strcmp(e->next_key.name, name) != 0) {
                                verify_finding(&c, MG_LEDGER_CHAIN, true, n,
                                               "entry %llu: announces a next key not bound to "
                                               "position %llu",
                                               i, i + 1);
                                broken = true;
                        } else if (n > 0 &&
                                   sodium_memcmp(e->prev, leaves[n - 1], LEDGER_HASH_SIZE) != 0) {
                                verify_finding(&c, MG_LEDGER_CHAIN, true, n,
                                               "entry %llu: predecessor hash does not match "
                                               "entry %llu",
                                               i, i - 1);
                                broken = true;
                        } else if (!bundle &&
                                   (src.stored_leaf_len != LEDGER_HASH_SIZE ||
                                    memcmp(src.stored_leaf, leaves[n], LEDGER_HASH_SIZE) != 0)) {
                                verify_finding(&c, MG_LEDGER_TAMPERED, true, n,
                                               "entry %llu: stored leaf hash is wrong", i);
                                broken = true;
                        }
                }
                if (!broken && n == 0) {
                        struct mg_buf vb;
                        buf_init(&vb, 1024);
                        ledger_vkey_format(&logkey, &vb);
                        const char *lk = ledger_entry_field(e, "log-key");
                        const char *hb = ledger_entry_field(e, "heartbeat");
                        if (strcmp(e->event, "INIT") != 0 || !lk || !vb.data ||
                            strcmp(lk, vb.data) != 0) {
                                verify_finding(&c, MG_LEDGER_CHAIN, true, 0,
                                               "entry 0: not a genesis entry for this log key");
                                broken = true;
                        }
                        buf_free(&vb);
                        if (hb && max_gap == 0)
                                max_gap = 2 * strtoll(hb, NULL, 10);
                        genesis_time = e->time;
                }
                if (broken) {
                        ledger_entry_free(e);
                        break;
                }
                if (n > 0) {
                        if (e->time < prev->time)
                                verify_finding(&c, MG_LEDGER_BACKDATED, true, n,
                                               "entry %llu: time is earlier than entry %llu's "
                                               "(backdated)",
                                               i, i - 1);
                        else if (max_gap > 0 && e->time - prev->time > max_gap &&
                                 strcmp(prev->event, "SHUTDOWN") != 0)
                                verify_finding(&c, MG_LEDGER_GAP, true, n,
                                               "entry %llu: %lld s after entry %llu (heartbeat "
                                               "gap, limit %lld s)",
                                               i, (long long)(e->time - prev->time), i - 1,
                                               (long long)max_gap);
                }
                if (strcmp(e->event, "AUDIT") == 0)
                        verify_audit(&c, o, e, leaves, &last_audit);
                ledger_entry_free(prev);
                prev = e;
                n++;
        }
        if (r == 0 && sr < 0)
                r = sr;
        sqlite3_finalize(src.st);
        free(src.buf);
        ledger_entry_free(prev);
        if (r < 0) {
                free(leaves);
                return r;
        }
        res->size = n;
        ledger_merkle_root(leaves, n, res->root);
        if (n == 0 && !broken)
                verify_finding(&c, MG_LEDGER_TAMPERED, true, 0, "entry 0: missing");
        if (!broken && n > 0 && bundle) {
                verify_bundle_checkpoints(&c, bundle, &logkey, leaves, n);
        } else if (!broken && n > 0) {
                /* The stored tree state must describe exactly these entries. */
                uint64_t size = 0;
                if (mg_ledger_size(l, &size) < 0 || size != n)
                        verify_finding(&c, MG_LEDGER_INCONSISTENT, true, MG_MIN(size, n),
                                       "the tree state records %llu entries but %llu are stored "
                                       "(entries removed or added outside the ledger)",
                                       (unsigned long long)size, (unsigned long long)n);
                /* Checkpoints stored in the database. */
                sqlite3_stmt *q = NULL;
                if (sqlite3_prepare_v2(l->db, "SELECT note FROM checkpoints", -1, &q, NULL) ==
                    SQLITE_OK) {
                        unsigned k = 0;
                        while (sqlite3_step(q) == SQLITE_ROW && k++ < 100000) {
                                const char *t = (const char *)sqlite3_column_text(q, 0);
                                if (t)
                                        verify_checkpoint(&c, "stored checkpoint", t, &logkey,
                                                          leaves, n);
                        }
                }
                sqlite3_finalize(q);
        }
        if (!broken && n > 0) {
                for (size_t i = 0; i < o->n_checkpoints; i++)
                        verify_checkpoint(&c, "given checkpoint", o->checkpoints[i], &logkey,
                                          leaves, n);
                if (audit_age > 0) {
                        int64_t since = last_audit != INT64_MIN ? last_audit : genesis_time;
                        if (now - since > audit_age)
                                verify_finding(&c, MG_LEDGER_AUDIT_OVERDUE, false, 0,
                                               "audit overdue: the last auditor cosignature is "
                                               "%lld days old (limit %lld)",
                                               (long long)((now - since) / 86400),
                                               (long long)(audit_age / 86400));
                }
        }
        free(leaves);
        return 0;
}

/* Verify the ledger. */
int mg_ledger_verify(struct mg_ledger *l, const struct mg_ledger_verify_opts *opts,
                     struct mg_ledger_verify_result *res)
{
        return verify_run(l, NULL, opts, res);
}

/* Verify an export bundle. */
int mg_ledger_verify_bundle(const char *dir, const struct mg_ledger_verify_opts *opts,
                            mg_log_fn log_fn, void *userdata, struct mg_ledger_verify_result *res)
{
        struct mg_ledger b = {.path = (char *)dir, .log_fn = log_fn, .log_userdata = userdata};
        struct stat st;
        if (!dir || stat(dir, &st) < 0)
                return -ENOENT;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        return verify_run(&b, dir, opts, res);
}

/* Write a file without fsync (export bundles are copies, not the ledger). */
static int verify_put(const char *dir, const char *name, const void *p, size_t n)
{
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd =
            open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;
        const char *q = p;
        while (n > 0) {
                ssize_t k = write(fd, q, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                q += k;
                n -= (size_t)k;
        }
        return 0;
}

static const char export_readme[] =
    "This directory is an export of a mediagate ledger, for offline verification.\n"
    "\n"
    "Formats (public specifications, so tools written by others can check it):\n"
    "  log.vkey        the log's Ed25519 verifier key, C2SP signed-note v1.0.0 vkey text.\n"
    "  checkpoint      the latest checkpoint, C2SP tlog-checkpoint v1.0.0, a signed note\n"
    "                  exactly as signed by the log key.\n"
    "  entries/<i>     entry i (decimal) as its exact leaf bytes. The tree is RFC 6962\n"
    "                  (SHA-256; leaf hash SHA-256(0x00 || bytes)); checkpoint's root must be\n"
    "                  the tree hash of entries/0 .. entries/<size-1>.\n"
    "  checkpoints/<n> every checkpoint the log signed, by tree size.\n"
    "  cosignatures/<n> checkpoints cosigned by an auditor (C2SP tlog-cosignature v1.0.1).\n"
    "  proofs/consistency-<m>-<n>  RFC 9162 consistency proof from each older checkpoint\n"
    "                  size m to the latest size n, one base64 hash per line.\n"
    "\n"
    "Each entry is itself a C2SP signed note. Entry 0 (INIT) is signed by the log key and\n"
    "carries it in 'field log-key'. Every entry announces, in its 'next-key' line, the\n"
    "vkey that must sign the following entry (a fresh key per entry, destroyed after use),\n"
    "and carries the leaf hash of its predecessor in its 'prev' line.\n"
    "\n"
    "To verify:\n"
    "  1. Obtain log.vkey independently (not from this bundle alone) and compare.\n"
    "  2. Verify 'checkpoint' with log.vkey (e.g. golang.org/x/mod/sumdb/note: note.Open).\n"
    "  3. Hash every entry and compute the RFC 6962 root (golang.org/x/mod/sumdb/tlog:\n"
    "     tlog.RecordHash, tlog.StoredHashes, tlog.TreeHash); compare with the checkpoint.\n"
    "  4. Verify entry 0 with log.vkey and every entry i > 0 with the vkey in entry i-1's\n"
    "     next-key line; check index, prev and non-decreasing times.\n"
    "  5. Check every checkpoint you kept from earlier reviews: its size must not exceed\n"
    "     the latest, and its root must equal the tree hash of that prefix (or verify the\n"
    "     consistency proof); otherwise the ledger was truncated, rolled back or forked.\n"
    "  6. Verify cosignatures with your auditor vkey.\n"
    "mediagate does all of this: on the kiosk, mediagate ledger verify --checkpoint FILE;\n"
    "on this bundle, mediagate ledger verify --bundle DIR --log-key YOUR-COPY-OF-log.vkey\n"
    "[--checkpoint FILE]... [--auditor-key FILE]...\n";

/* Write the export bundle. */
int mg_ledger_export(struct mg_ledger *l, const char *dir)
{
        if (mkdir(dir, 0755) < 0)
                return -errno;
        _cleanup_free_ char *cp = NULL, *vkey = NULL, *vpath = NULL;
        size_t vlen;
        int r = mg_ledger_checkpoint(l, &cp);
        if (r < 0)
                return r;
        if (asprintf(&vpath, "%s/log.vkey", l->path) < 0)
                return -ENOMEM;
        r = ledger_read_file(vpath, 4096, &vkey, &vlen);
        if (r == 0)
                r = verify_put(dir, "log.vkey", vkey, vlen);
        if (r == 0)
                r = verify_put(dir, "checkpoint", cp, strlen(cp));
        if (r == 0)
                r = verify_put(dir, "README", export_readme, sizeof(export_readme) - 1);
        static const char *const subdirs[] = {"entries", "checkpoints", "cosignatures", "proofs"};
        for (size_t i = 0; r == 0 && i < MG_ARRAY_SIZE(subdirs); i++) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s/%s", dir, subdirs[i]) < 0)
                        r = -ENOMEM;
                else if (mkdir(p, 0755) < 0)
                        r = -errno;
        }
        if (r < 0)
                return r;
        _cleanup_free_ ledger_hash *leaves = NULL;
        uint64_t n;
        r = ledger_store_leaves(l, &leaves, &n);
        if (r < 0)
                return r;
        sqlite3_stmt *st = NULL;
        int rc =
            sqlite3_prepare_v2(l->db, "SELECT idx, body FROM entries ORDER BY idx", -1, &st, NULL);
        if (rc != SQLITE_OK)
                return ledger_store_errno(rc);
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                char name[48];
                snprintf(name, sizeof(name), "entries/%lld",
                         (long long)sqlite3_column_int64(st, 0));
                r = verify_put(dir, name, sqlite3_column_blob(st, 1),
                               (size_t)sqlite3_column_bytes(st, 1));
        }
        sqlite3_finalize(st);
        if (r < 0)
                return r;
        /* Stored checkpoints (latest per size), cosigned ones, and consistency proofs. */
        rc = sqlite3_prepare_v2(l->db, "SELECT size, note FROM checkpoints ORDER BY rowid", -1, &st,
                                NULL);
        if (rc != SQLITE_OK)
                return ledger_store_errno(rc);
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                sqlite3_int64 size = sqlite3_column_int64(st, 0);
                const char *note = (const char *)sqlite3_column_text(st, 1);
                struct ledger_note parsed;
                if (!note || size < 0 || (uint64_t)size > n ||
                    ledger_note_parse(note, strlen(note), &parsed) < 0)
                        continue;
                char name[64];
                snprintf(name, sizeof(name), "%s/%lld",
                         parsed.n_sigs > 1 ? "cosignatures" : "checkpoints", (long long)size);
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s/%s", dir, name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                unlink(path);
                r = verify_put(dir, name, note, strlen(note));
                if (r < 0 || size == 0 || (uint64_t)size >= n)
                        continue;
                ledger_hash proof[LEDGER_MAX_PROOF];
                size_t plen;
                r = ledger_merkle_consistency(leaves, n, (uint64_t)size, proof, &plen);
                if (r < 0)
                        break;
                struct mg_buf b;
                buf_init(&b, 8192);
                for (size_t i = 0; i < plen; i++) {
                        char b64[64];
                        ledger_b64_encode(proof[i], LEDGER_HASH_SIZE, b64, sizeof(b64));
                        buf_printf(&b, "%s\n", b64);
                }
                snprintf(name, sizeof(name), "proofs/consistency-%lld-%llu", (long long)size,
                         (unsigned long long)n);
                _cleanup_free_ char *pp = NULL;
                if (asprintf(&pp, "%s/%s", dir, name) >= 0)
                        unlink(pp);
                r = b.err ? b.err : verify_put(dir, name, b.data ? b.data : "", b.len);
                buf_free(&b);
        }
        sqlite3_finalize(st);
        return r;
}

/* Read the leaf hashes of the database file @path (read-only), recomputed from the bodies. */
static int verify_file_leaves(const char *path, ledger_hash **ret, uint64_t *ret_n)
{
        sqlite3 *db = NULL;
        int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
        if (rc != SQLITE_OK) {
                sqlite3_close(db);
                return ledger_store_errno(rc);
        }
        sqlite3_stmt *st = NULL;
        rc = sqlite3_prepare_v2(db, "SELECT idx, body FROM entries ORDER BY idx", -1, &st, NULL);
        ledger_hash *v = NULL;
        size_t cap = 0;
        uint64_t n = 0;
        int r = rc == SQLITE_OK ? 0 : ledger_store_errno(rc);
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                if (sqlite3_column_int64(st, 0) != (sqlite3_int64)n || n >= LEDGER_MAX_ENTRIES) {
                        r = -EBADMSG;
                        break;
                }
                if (n == cap) {
                        size_t nc = cap ? cap * 2 : 1024;
                        ledger_hash *p = realloc(v, nc * sizeof(ledger_hash));
                        if (!p) {
                                r = -ENOMEM;
                                break;
                        }
                        v = p;
                        cap = nc;
                }
                const void *b = sqlite3_column_blob(st, 1);
                ledger_leaf_hash(b ? b : "", (size_t)sqlite3_column_bytes(st, 1), v[n++]);
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = ledger_store_errno(rc);
        sqlite3_finalize(st);
        sqlite3_close(db);
        if (r < 0) {
                free(v);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* Check that the backup at @path is a non-empty prefix of the live ledger's entries. */
static int verify_backup_prefix(struct mg_ledger *l, const char *path, const ledger_hash *live,
                                uint64_t n, uint64_t *ret_size, ledger_hash ret_root)
{
        _cleanup_free_ ledger_hash *b = NULL;
        uint64_t m = 0;
        int r = verify_file_leaves(path, &b, &m);
        if (r < 0)
                return r;
        if (m == 0 || m > n || memcmp(b, live, m * sizeof(ledger_hash)) != 0) {
                ledger_log(l, MG_LOG_ERR, "backup %s is not a prefix of the live ledger", path);
                return -EBADMSG;
        }
        if (ret_size)
                *ret_size = m;
        if (ret_root)
                ledger_merkle_root(b, m, ret_root);
        return 0;
}

/* Back up into two rotating generations. */
int mg_ledger_backup(struct mg_ledger *l, const char *dir, uint64_t *ret_size)
{
        _cleanup_free_ char *d = NULL, *tmp = NULL, *gen1 = NULL, *gen2 = NULL;
        if (!dir) {
                if (asprintf(&d, "%s/backups", l->path) < 0)
                        return -ENOMEM;
                dir = d;
        }
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return -errno;
        if (asprintf(&tmp, "%s/ledger-new.db", dir) < 0 ||
            asprintf(&gen1, "%s/ledger-1.db", dir) < 0 ||
            asprintf(&gen2, "%s/ledger-2.db", dir) < 0)
                return -ENOMEM;
        unlink(tmp);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        close(fd);
        sqlite3 *dst = NULL;
        int rc = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE, NULL);
        int r = 0;
        if (rc == SQLITE_OK) {
                sqlite3_backup *bk = sqlite3_backup_init(dst, "main", l->db, "main");
                if (!bk) {
                        rc = sqlite3_errcode(dst);
                } else {
                        rc = sqlite3_backup_step(bk, -1);
                        int rc2 = sqlite3_backup_finish(bk);
                        rc = rc == SQLITE_DONE ? rc2 : rc;
                }
        }
        /* The copy must not carry the next signing key: a thief of the backup could otherwise
         * fork the ledger from that point. Overwrite it and rewrite the file. */
        if (rc == SQLITE_OK)
                rc = sqlite3_exec(dst,
                                  "PRAGMA journal_mode=DELETE; PRAGMA secure_delete=ON;"
                                  " DROP TRIGGER IF EXISTS entries_no_update;"
                                  " UPDATE state SET next_seed = NULL;"
                                  " CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries"
                                  " BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only');"
                                  " END; VACUUM; PRAGMA synchronous=FULL;",
                                  NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
                ledger_log(l, MG_LOG_ERR, "backup: %s", sqlite3_errmsg(dst));
                r = ledger_store_errno(rc);
        }
        sqlite3_close(dst);
        if (r == 0) {
                _cleanup_close_ int f = open(tmp, O_RDONLY | O_CLOEXEC);
                if (f < 0 || fsync(f) < 0)
                        r = -errno;
        }
        _cleanup_free_ ledger_hash *live = NULL;
        uint64_t n = 0, m = 0;
        ledger_hash root;
        if (r == 0)
                r = ledger_store_leaves(l, &live, &n);
        if (r == 0)
                r = verify_backup_prefix(l, tmp, live, n, &m, root);
        if (r == 0 && access(gen1, F_OK) == 0 && rename(gen1, gen2) < 0)
                r = -errno;
        if (r == 0 && rename(tmp, gen1) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return r;
        }
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd) < 0)
                return -errno;
        /* The older generation must still be a prefix too. */
        if (access(gen2, F_OK) == 0) {
                r = verify_backup_prefix(l, gen2, live, n, NULL, NULL);
                if (r < 0)
                        return r;
        }
        char sz[32], rootb64[64];
        snprintf(sz, sizeof(sz), "%llu", (unsigned long long)m);
        ledger_b64_encode(root, LEDGER_HASH_SIZE, rootb64, sizeof(rootb64));
        const struct mg_ledger_field f[] = {
            {"backup.path", gen1},
            {"backup.size", sz},
            {"backup.root", rootb64},
        };
        r = mg_ledger_append(l, "BACKUP", "system", f, MG_ARRAY_SIZE(f), NULL, NULL);
        if (r == 0 && ret_size)
                *ret_size = m;
        return r;
}

/* Create an auditor key pair. */
int mg_ledger_keygen(const char *name, const char *key_path)
{
        _cleanup_free_ char *vpath = NULL;
        if (!name || !key_path || asprintf(&vpath, "%s.vkey", key_path) < 0)
                return -EINVAL;
        if (access(key_path, F_OK) == 0 || access(vpath, F_OK) == 0)
                return -EEXIST;
        struct ledger_skey k;
        int r = ledger_skey_generate(name, LEDGER_SIG_COSIG, &k);
        if (r < 0)
                return r;
        struct mg_buf b;
        buf_init(&b, 4096);
        ledger_skey_format(&k, &b);
        buf_puts(&b, "\n");
        r = b.err ? b.err : ledger_write_file(key_path, b.data, b.len, 0600);
        sodium_memzero(b.data, b.cap);
        b.len = 0;
        if (r == 0) {
                ledger_vkey_format(&k.v, &b);
                buf_puts(&b, "\n");
                r = b.err ? b.err : ledger_write_file(vpath, b.data, b.len, 0644);
        }
        buf_free(&b);
        ledger_skey_wipe(&k);
        return r;
}

/* The auditor's review: verify, checkpoint, cosign, record. */
int mg_ledger_cosign(struct mg_ledger *l, const char *key_path, const char *actor, char **ret_note)
{
        _cleanup_free_ char *text = NULL, *cp = NULL;
        size_t len;
        int r = ledger_read_file(key_path, 4096, &text, &len);
        if (r < 0)
                return r;
        struct ledger_skey k;
        r = ledger_skey_parse(text, len, &k);
        sodium_memzero(text, len);
        if (r < 0 || k.v.type != LEDGER_SIG_COSIG) {
                ledger_skey_wipe(&k);
                return -EINVAL;
        }
        struct mg_ledger_verify_opts o = {.audit_max_age_s = -1};
        struct mg_ledger_verify_result res;
        r = mg_ledger_verify(l, &o, &res);
        if (r == 0 && res.problem > MG_LEDGER_GAP) {
                ledger_log(l, MG_LOG_ERR, "refusing to cosign: %s", res.message);
                r = -EBADMSG;
        }
        if (r == 0)
                r = mg_ledger_checkpoint(l, &cp);
        struct ledger_note note;
        struct ledger_checkpoint c;
        if (r == 0 && (ledger_note_parse(cp, strlen(cp), &note) < 0 ||
                       ledger_checkpoint_parse(note.text, note.text_len, &c) < 0))
                r = -EBADMSG;
        struct mg_buf b, line;
        buf_init(&b, LEDGER_MAX_NOTE);
        buf_init(&line, 1024);
        uint64_t now = (uint64_t)l->clock();
        if (r == 0) {
                buf_puts(&b, cp);
                r = ledger_cosig_sign(&line, note.text, note.text_len, &k, now);
        }
        if (r == 0)
                r = buf_puts(&b, line.data);
        if (r == 0) {
                /* line: "— <name> <base64>\n": keep the base64 */
                char *sp = strrchr(line.data, ' ');
                char *nl = sp ? strchr(sp, '\n') : NULL;
                if (!sp || !nl) {
                        r = -EIO;
                } else {
                        *nl = 0;
                        char sz[32], ts[32], rootb64[64];
                        struct mg_buf vk;
                        buf_init(&vk, 1024);
                        ledger_vkey_format(&k.v, &vk);
                        snprintf(sz, sizeof(sz), "%llu", (unsigned long long)c.size);
                        snprintf(ts, sizeof(ts), "%llu", (unsigned long long)now);
                        ledger_b64_encode(c.root, LEDGER_HASH_SIZE, rootb64, sizeof(rootb64));
                        const struct mg_ledger_field f[] = {
                            {"checkpoint.size", sz},
                            {"checkpoint.root", rootb64},
                            {"cosigner", vk.data ? vk.data : ""},
                            {"cosignature", sp + 1},
                            {"cosignature.time", ts},
                        };
                        r = vk.err ? vk.err
                                   : mg_ledger_append(l, "AUDIT", actor ? actor : k.v.name, f,
                                                      MG_ARRAY_SIZE(f), NULL, NULL);
                        buf_free(&vk);
                }
        }
        if (r == 0)
                r = ledger_store_add_checkpoint(l, c.size, b.data);
        if (r == 0 && !(*ret_note = buf_steal(&b)))
                r = -ENOMEM;
        buf_free(&b);
        buf_free(&line);
        ledger_skey_wipe(&k);
        return r;
}
