/* The ledger on a real SQLite database: the API contract, verification, and every tampering case
 * (change a byte, delete, insert, reorder, re-sign with a stolen key, truncate, truncate and
 * extend, roll back to a backup, backdate, fork), each detected at the right entry; gaps and
 * audits. */
#include <mediagate/ledger.h>
#include <sodium.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>

#include "ledger-internal.h"
#include "testutil.h"

#define ORIGIN "kiosk.test/ledger"

static int64_t fake_now;

/* A controllable clock: every call advances 10 seconds. */
static int64_t fake_clock(void)
{
        fake_now += 10;
        return fake_now;
}

/* Open @dir with the fake clock. */
static struct mg_ledger *open_ledger(const char *dir)
{
        struct mg_ledger *l = NULL;
        assert_int_equal(mg_ledger_open(dir, MG_LEDGER_NO_SYSLOG, &l), 0);
        l->clock = fake_clock;
        return l;
}

/* Create a ledger in @dir with @n entries after the genesis entry. */
static struct mg_ledger *make_ledger(const char *dir, unsigned n)
{
        assert_int_equal(mg_ledger_init(dir, ORIGIN), 0);
        struct mg_ledger *l = open_ledger(dir);
        uint64_t last;
        fake_now = 0;
        assert_int_equal(mg_ledger_size(l, &last), 0);
        /* start after the genesis entry's real time */
        char *text = NULL;
        size_t len;
        struct ledger_entry *e = NULL;
        assert_int_equal(mg_ledger_entry(l, 0, &text, &len), 0);
        assert_int_equal(ledger_entry_parse(text, len, &e), 0);
        fake_now = e->time;
        ledger_entry_free(e);
        free(text);
        for (unsigned i = 0; i < n; i++) {
                char serial[32];
                snprintf(serial, sizeof(serial), "SN%u", i);
                const struct mg_ledger_field f[] = {{"device.serial", serial},
                                                    {"report.sha256", "00ff"}};
                assert_int_equal(mg_ledger_append(l, "SCAN", "alice", f, 2, NULL, NULL), 0);
        }
        return l;
}

/* Verify with @o and return the result. */
static struct mg_ledger_verify_result verify(struct mg_ledger *l,
                                             const struct mg_ledger_verify_opts *o)
{
        struct mg_ledger_verify_result res;
        assert_int_equal(mg_ledger_verify(l, o, &res), 0);
        return res;
}

/* Expect @problem at @index (index ignored if negative). */
static void expect(struct mg_ledger *l, const struct mg_ledger_verify_opts *o,
                   enum mg_ledger_problem problem, long long index)
{
        struct mg_ledger_verify_result r = verify(l, o);
        if (r.problem != problem ||
            (index >= 0 && (!r.has_index || r.bad_index != (uint64_t)index)))
                fail_msg("want problem %d at %lld, got %d at %s%llu: %s", problem, index, r.problem,
                         r.has_index ? "" : "(none) ", (unsigned long long)r.bad_index, r.message);
}

/* Run SQL on the ledger's database directly, as an attacker with root would. */
static void db_exec(const char *dir, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void db_exec(const char *dir, const char *fmt, ...)
{
        char *path = NULL, *sql = NULL, *err = NULL;
        va_list ap;
        va_start(ap, fmt);
        assert_true(vasprintf(&sql, fmt, ap) > 0);
        va_end(ap);
        assert_true(asprintf(&path, "%s/ledger.db", dir) > 0);
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        if (sqlite3_exec(db,
                         "DROP TRIGGER IF EXISTS entries_no_update;"
                         "DROP TRIGGER IF EXISTS entries_no_delete;",
                         NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
                fail_msg("sql %s: %s", sql, err ? err : sqlite3_errmsg(db));
        sqlite3_close(db);
        free(sql);
        free(path);
}

/* Read an entry's body via SQL. */
/* noinline: GCC 12 at -O3 otherwise takes the returned body for a pointer to the local. */
static __attribute__((noinline)) char *db_body(struct mg_ledger *l, uint64_t i, size_t *len)
{
        char *t = NULL;
        int r = mg_ledger_entry(l, i, &t, len);
        if (r < 0 || !t)
                fail_msg("entry %llu: %d", (unsigned long long)i, r);
        return t;
}

/* Write an entry's body with a blob literal. */
static void db_set_body(const char *dir, uint64_t i, const char *body, size_t len)
{
        char *hex = malloc(2 * len + 1);
        sodium_bin2hex(hex, 2 * len + 1, (const uint8_t *)body, len);
        db_exec(dir, "UPDATE entries SET body = x'%s' WHERE idx = %llu", hex,
                (unsigned long long)i);
        free(hex);
}

/* The stolen current signing key (the seed in the state row) and the size. */
static void steal_key(const char *dir, uint8_t seed[32], uint64_t *size)
{
        char *path = NULL;
        assert_true(asprintf(&path, "%s/ledger.db", dir) > 0);
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db, "SELECT next_seed, size FROM state", -1, &st, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(sqlite3_column_bytes(st, 0), 32);
        memcpy(seed, sqlite3_column_blob(st, 0), 32);
        *size = (uint64_t)sqlite3_column_int64(st, 1);
        sqlite3_finalize(st);
        sqlite3_close(db);
        free(path);
}

/* Rewrite the state row so that it describes exactly the first @keep entries (what an attacker
 * who truncates would do to hide it), with @seed as the next key. */
static void fix_state(struct mg_ledger *l, const char *dir, uint64_t keep, const uint8_t seed[32])
{
        struct ledger_compact c = {0};
        ledger_hash leaf = {0};
        int64_t t = 0;
        for (uint64_t i = 0; i < keep; i++) {
                size_t len;
                char *b = db_body(l, i, &len);
                struct ledger_entry *e = NULL;
                ledger_leaf_hash(b, len, leaf);
                ledger_compact_append(&c, leaf);
                assert_int_equal(ledger_entry_parse(b, len, &e), 0);
                t = e->time;
                ledger_entry_free(e);
                free(b);
        }
        char ch[64 * 64 + 1] = "", lh[65], sh[65];
        sodium_bin2hex(ch, sizeof(ch), c.h[0], c.n * 32);
        sodium_bin2hex(lh, sizeof(lh), leaf, 32);
        sodium_bin2hex(sh, sizeof(sh), seed, 32);
        db_exec(dir,
                "DELETE FROM entries WHERE idx >= %llu; UPDATE state SET size = %llu, compact = "
                "x'%s', last_leaf = x'%s', last_time = %lld, next_seed = x'%s'",
                (unsigned long long)keep, (unsigned long long)keep, ch, lh, (long long)t, sh);
}

/* Forge entry @index signed by @signer (time @t, predecessor @prev) and return its text. */
static char *forge(uint64_t index, int64_t t, const ledger_hash prev,
                   const struct ledger_skey *signer, const char *serial)
{
        struct ledger_skey next;
        char name[LEDGER_MAX_NAME + 1];
        ledger_chain_key_name(ORIGIN, index + 1, name);
        assert_int_equal(ledger_skey_generate(name, LEDGER_SIG_ED25519, &next), 0);
        const struct mg_ledger_field f[] = {{"device.serial", serial}};
        struct mg_buf b;
        buf_init(&b, LEDGER_MAX_ENTRY);
        assert_int_equal(
            ledger_entry_body(&b, ORIGIN, index, t, "SCAN", "mallory", prev, f, 1, &next.v), 0);
        size_t body = b.len;
        buf_puts(&b, "\n");
        assert_int_equal(ledger_note_sign(&b, b.data, body, signer), 0);
        ledger_skey_wipe(&next);
        return buf_steal(&b);
}

/* Leaf hash of stored entry @i. */
static void leaf_of(struct mg_ledger *l, uint64_t i, ledger_hash out)
{
        size_t len;
        char *b = db_body(l, i, &len);
        ledger_leaf_hash(b, len, out);
        free(b);
}

/* Fresh temporary ledger per test. */
static int setup(void **state)
{
        *state = tu_mkdtemp("ledger");
        return 0;
}

/* Remove it. */
static int teardown(void **state)
{
        tu_rmtree(*state);
        return 0;
}

/* Path of the ledger inside the test's directory. */
static char *ldir(void **state, const char *name)
{
        char *p = NULL;
        assert_true(asprintf(&p, "%s/%s", (char *)*state, name) > 0);
        return p;
}

/* The contract the other modules use: init, open, append, close. */
static void test_contract(void **state)
{
        char *dir = ldir(state, "l");
        struct stat st;
        assert_int_equal(mg_ledger_open(dir, 0, &(struct mg_ledger *){NULL}), -ENOENT);
        assert_int_equal(mg_ledger_init(dir, "bad origin"), -EINVAL);
        assert_int_equal(mg_ledger_init(dir, ORIGIN), 0);
        assert_int_equal(mg_ledger_init(dir, ORIGIN), -EEXIST);
        /* a missing parent (/var/lib/mediagate on a fresh system) is created, one level only */
        char *nested = ldir(state, "parent/l"), *deep = ldir(state, "a/b/l");
        assert_int_equal(mg_ledger_init(nested, ORIGIN), 0);
        assert_int_equal(mg_ledger_init(deep, ORIGIN), -ENOENT);
        free(nested);
        free(deep);
        /* keys readable by root only */
        assert_int_equal(stat(dir, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        char *p = ldir(state, "l/log.key");
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        free(p);
        p = ldir(state, "l/ledger.db");
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        free(p);

        struct mg_ledger *l = NULL;
        assert_int_equal(mg_ledger_open(dir, MG_LEDGER_NO_SYSLOG, &l), 0);
        assert_string_equal(mg_ledger_origin(l), ORIGIN);
        uint64_t idx = 99, size;
        uint8_t leaf[32];
        const struct mg_ledger_field f[] = {{"device.serial", "0123\x1b[31mX"},
                                            {"wipe.sha256", "ab"}};
        assert_int_equal(mg_ledger_append(l, "WIPE", "bob", f, 2, &idx, leaf), 0);
        assert_int_equal(idx, 1);
        /* the leaf hash is RFC 6962's over the stored bytes */
        size_t len;
        char *text = db_body(l, 1, &len);
        ledger_hash want;
        ledger_leaf_hash(text, len, want);
        assert_memory_equal(leaf, want, 32);
        assert_non_null(strstr(text, "field device.serial 0123\\x1b[31mX\n"));
        free(text);
        assert_int_equal(mg_ledger_append(l, "SCAN", NULL, NULL, 0, NULL, NULL), 0);
        assert_int_equal(mg_ledger_heartbeat(l, &idx), 0);
        assert_int_equal(idx, 3);
        /* refused without side effects */
        assert_int_equal(mg_ledger_append(l, "scan", "a", NULL, 0, NULL, NULL), -EINVAL);
        const struct mg_ledger_field badkey[] = {{"Bad Key", "v"}};
        assert_int_equal(mg_ledger_append(l, "SCAN", "a", badkey, 1, NULL, NULL), -EINVAL);
        char *big = malloc(5000);
        memset(big, 'x', 4999);
        big[4999] = 0;
        struct mg_ledger_field many[20];
        for (int i = 0; i < 20; i++)
                many[i] = (struct mg_ledger_field){"k", big};
        assert_int_equal(mg_ledger_append(l, "SCAN", "a", many, 20, NULL, NULL), -EMSGSIZE);
        free(big);
        assert_int_equal(mg_ledger_size(l, &size), 0);
        assert_int_equal(size, 4);
        /* and the ledger still works after refusals */
        assert_int_equal(mg_ledger_append(l, "SCAN", "a", NULL, 0, &idx, NULL), 0);
        assert_int_equal(idx, 4);
        expect(l, NULL, MG_LEDGER_OK, -1);
        mg_ledger_close(l);
        mg_ledger_close(NULL);
        free(dir);
}

/* A good ledger verifies, with its own checkpoints and given ones. */
static void test_verify_good(void **state)
{
        char *dir = ldir(state, "l");
        struct mg_ledger *l = make_ledger(dir, 20);
        char *cp = NULL;
        assert_int_equal(mg_ledger_checkpoint(l, &cp), 0);
        for (int i = 0; i < 5; i++)
                assert_int_equal(mg_ledger_heartbeat(l, NULL), 0);
        const char *cps[] = {cp};
        struct mg_ledger_verify_opts o = {.checkpoints = cps, .n_checkpoints = 1};
        struct mg_ledger_verify_result r = verify(l, &o);
        assert_int_equal(r.problem, MG_LEDGER_OK);
        assert_int_equal(r.size, 26);
        /* the root is the checkpoint's and the stored tree state's */
        char *cp2 = NULL;
        assert_int_equal(mg_ledger_checkpoint(l, &cp2), 0);
        struct ledger_note n;
        struct ledger_checkpoint c;
        assert_int_equal(ledger_note_parse(cp2, strlen(cp2), &n), 0);
        assert_int_equal(ledger_checkpoint_parse(n.text, n.text_len, &c), 0);
        assert_int_equal(c.size, 26);
        assert_memory_equal(c.root, r.root, 32);
        /* inclusion proof output checks with the RFC 9162 verifier */
        char *proof = NULL;
        assert_int_equal(mg_ledger_prove(l, 7, 0, &proof), 0);
        struct ledger_proof p;
        size_t used;
        assert_int_equal(ledger_proof_parse(proof, strlen(proof), &p, &used), 0);
        assert_int_equal(
            ledger_merkle_verify_inclusion(p.index, p.size, p.leaf, p.path, p.n, c.root), 0);
        ledger_hash leaf;
        leaf_of(l, 7, leaf);
        assert_memory_equal(p.leaf, leaf, 32);
        assert_int_equal(mg_ledger_prove(l, 26, 0, &(char *){NULL}), -ERANGE);
        free(proof);
        free(cp);
        free(cp2);
        mg_ledger_close(l);
        free(dir);
}

/* A changed byte (content or signature) is detected at that entry. */
static void test_tamper_byte(void **state)
{
        char *dir = ldir(state, "l");
        struct mg_ledger *l = make_ledger(dir, 10);
        mg_ledger_close(l);
        tu_sh("cp -a '%s' '%s.orig'", dir, dir);
        static const uint64_t where[] = {0, 4, 10};
        for (size_t w = 0; w < MG_ARRAY_SIZE(where); w++) {
                for (int part = 0; part < 2; part++) {
                        tu_sh("rm -rf '%s' && cp -a '%s.orig' '%s'", dir, dir, dir);
                        l = open_ledger(dir);
                        size_t len;
                        char *b = db_body(l, where[w], &len);
                        /* part 0: in the text (a digit of the time); part 1: inside the
                         * base64 of the signature */
                        char *at = part == 0 ? strstr(b, "time ") + 8 : b + len - 10;
                        *at = *at == '1' ? '2' : '1';
                        db_set_body(dir, where[w], b, len);
                        free(b);
                        expect(l, NULL, MG_LEDGER_TAMPERED, (long long)where[w]);
                        mg_ledger_close(l);
                }
        }
        free(dir);
}

/* Deleting an entry breaks the chain at that position. */
static void test_tamper_delete(void **state)
{
        char *dir = ldir(state, "l");
        struct mg_ledger *l = make_ledger(dir, 10);
        db_exec(dir, "DELETE FROM entries WHERE idx = 5");
        expect(l, NULL, MG_LEDGER_CHAIN, 5);
        /* and renumbered so the rows look contiguous */
        db_exec(dir, "UPDATE entries SET idx = idx - 1 WHERE idx > 5");
        expect(l, NULL, MG_LEDGER_CHAIN, 5);
        mg_ledger_close(l);
        free(dir);
}

/* Inserting a forged entry (signed with a key the attacker made) is detected there. */
static void test_tamper_insert(void **state)
{
        char *dir = ldir(state, "l");
        struct mg_ledger *l = make_ledger(dir, 10);
        struct ledger_skey evil;
        char name[LEDGER_MAX_NAME + 1];
        ledger_chain_key_name(ORIGIN, 4, name);
        assert_int_equal(ledger_skey_generate(name, LEDGER_SIG_ED25519, &evil), 0);
        ledger_hash prev;
        leaf_of(l, 3, prev);
        char *text = forge(4, fake_now, prev, &evil, "FORGED");
        for (int i = 10; i >= 4; i--)
                db_exec(dir, "UPDATE entries SET idx = idx + 1 WHERE idx = %d", i);
        char *hex = malloc(2 * strlen(text) + 1);
        sodium_bin2hex(hex, 2 * strlen(text) + 1, (const uint8_t *)text, strlen(text));
        db_exec(dir,
                "INSERT INTO entries(idx, body, leaf, time, event) VALUES (4, x'%s', x'00', 0, "
                "'SCAN')",
                hex);
        expect(l, NULL, MG_LEDGER_CHAIN, 4);
        free(hex);
        free(text);
        ledger_skey_wipe(&evil);
        mg_ledger_close(l);
        free(dir);
}

/* Swapping two entries is detected at the first. */
static void test_tamper_reorder(void **state)
{
        char *dir = ldir(state, "l");
        struct mg_ledger *l = make_ledger(dir, 10);
        db_exec(dir, "UPDATE entries SET idx = -1 WHERE idx = 6;"
                     "UPDATE entries SET idx = 6 WHERE idx = 7;"
                     "UPDATE entries SET idx = 7 WHERE idx = -1");
        expect(l, NULL, MG_LEDGER_CHAIN, 6);
        mg_ledger_close(l);
        free(dir);
}

/* Whoever steals the current key can append, but not rewrite an older entry. */
static void test_tamper_stolen_key(void **state)
{
        char *dir = ldir(state, "l");
        struct mg_ledger *l = make_ledger(dir, 10);
        uint8_t seed[32];
        uint64_t size;
        steal_key(dir, seed, &size);
        assert_int_equal(size, 11);
        static const bool real_name[] = {false, true};
        for (size_t v = 0; v < 2; v++) {
                /* re-sign entry 5 under its own key name, or under the stolen key's real name */
                char name[LEDGER_MAX_NAME + 1];
                ledger_chain_key_name(ORIGIN, real_name[v] ? size : 5, name);
                struct ledger_skey stolen;
                assert_int_equal(ledger_skey_from_seed(name, LEDGER_SIG_ED25519, seed, &stolen), 0);
                ledger_hash prev;
                leaf_of(l, 4, prev);
                size_t len;
                char *orig = db_body(l, 5, &len);
                char *text = forge(5, fake_now, prev, &stolen, "REWRITTEN");
                db_set_body(dir, 5, text, strlen(text));
                expect(l, NULL, MG_LEDGER_CHAIN, 5);
                db_set_body(dir, 5, orig, len);
                expect(l, NULL, MG_LEDGER_OK, -1);
                free(text);
                free(orig);
                ledger_skey_wipe(&stolen);
        }
        mg_ledger_close(l);
        free(dir);
}

/* Truncation: invisible from the inside if the state is fixed up too, caught by any older
 * checkpoint kept off the box; truncate-and-extend breaks the key chain. */
static void test_tamper_truncate(void **state)
{
        char *dir = ldir(state, "l");
        struct mg_ledger *l = make_ledger(dir, 12);
        char *cp = NULL;
        assert_int_equal(mg_ledger_checkpoint(l, &cp), 0);
        mg_ledger_close(l);
        tu_sh("cp -a '%s' '%s.orig'", dir, dir);
        const char *cps[] = {cp};
        struct mg_ledger_verify_opts o = {.checkpoints = cps, .n_checkpoints = 1};

        /* 1. rows deleted, state left alone: the stored state disagrees */
        l = open_ledger(dir);
        db_exec(dir, "DELETE FROM entries WHERE idx >= 10");
        expect(l, NULL, MG_LEDGER_INCONSISTENT, 10);
        mg_ledger_close(l);

        /* 2. state fixed up and stored checkpoints deleted: only the kept checkpoint tells */
        tu_sh("rm -rf '%s' && cp -a '%s.orig' '%s'", dir, dir, dir);
        l = open_ledger(dir);
        uint8_t seed[32];
        randombytes_buf(seed, sizeof(seed));
        fix_state(l, dir, 10, seed);
        db_exec(dir, "DELETE FROM checkpoints");
        expect(l, NULL, MG_LEDGER_OK, -1);
        expect(l, &o, MG_LEDGER_INCONSISTENT, 10);

        /* 3. truncate and extend: new entries cannot carry on the destroyed key chain */
        assert_int_equal(mg_ledger_append(l, "SCAN", "mallory", NULL, 0, NULL, NULL), 0);
        assert_int_equal(mg_ledger_append(l, "SCAN", "mallory", NULL, 0, NULL, NULL), 0);
        assert_int_equal(mg_ledger_append(l, "SCAN", "mallory", NULL, 0, NULL, NULL), 0);
        expect(l, NULL, MG_LEDGER_CHAIN, 10);
        expect(l, &o, MG_LEDGER_CHAIN, 10);
        mg_ledger_close(l);
        free(cp);
        free(dir);
}

/* Rolling back to a backup (a valid prefix) is caught by a later checkpoint. */
static void test_tamper_rollback(void **state)
{
        char *dir = ldir(state, "l");
        struct mg_ledger *l = make_ledger(dir, 8);
        uint64_t bsize;
        assert_int_equal(mg_ledger_backup(l, NULL, &bsize), 0);
        assert_int_equal(bsize, 9);
        for (int i = 0; i < 3; i++)
                assert_int_equal(mg_ledger_append(l, "SCAN", "a", NULL, 0, NULL, NULL), 0);
        char *cp = NULL;
        assert_int_equal(mg_ledger_checkpoint(l, &cp), 0);
        mg_ledger_close(l);
        assert_int_equal(tu_sh("cd '%s' && rm -f ledger.db-wal ledger.db-shm && cp "
                               "backups/ledger-1.db ledger.db",
                               dir),
                         0);
        l = open_ledger(dir);
        const char *cps[] = {cp};
        struct mg_ledger_verify_opts o = {.checkpoints = cps, .n_checkpoints = 1};
        expect(l, NULL, MG_LEDGER_OK, -1); /* a prefix is internally consistent */
        expect(l, &o, MG_LEDGER_INCONSISTENT, 9);
        /* the backup carries no signing key: nothing can be appended to it */
        assert_int_equal(mg_ledger_append(l, "SCAN", "a", NULL, 0, NULL, NULL), -EBADMSG);
        mg_ledger_close(l);
        free(cp);
        free(dir);
}

/* A thief of the current key who appends an entry dated in the past is caught (the library
 * itself never writes a time earlier than the previous entry's). */
static void test_tamper_backdate(void **state)
{
        char *dir = ldir(state, "l");
        struct mg_ledger *l = make_ledger(dir, 6);
        /* the clock going backwards does not make the ledger go backwards */
        int64_t saved = fake_now;
        fake_now -= 7200;
        assert_int_equal(mg_ledger_append(l, "SCAN", "a", NULL, 0, NULL, NULL), 0);
        fake_now = saved;
        expect(l, NULL, MG_LEDGER_OK, -1);
        uint8_t seed[32];
        uint64_t size;
        steal_key(dir, seed, &size);
        char name[LEDGER_MAX_NAME + 1];
        ledger_chain_key_name(ORIGIN, size, name);
        struct ledger_skey stolen;
        assert_int_equal(ledger_skey_from_seed(name, LEDGER_SIG_ED25519, seed, &stolen), 0);
        ledger_hash prev;
        leaf_of(l, size - 1, prev);
        char *text = forge(size, fake_now - 86400, prev, &stolen, "BACKDATED");
        ledger_hash leaf;
        ledger_leaf_hash(text, strlen(text), leaf);
        char *hex = malloc(2 * strlen(text) + 1);
        sodium_bin2hex(hex, 2 * strlen(text) + 1, (const uint8_t *)text, strlen(text));
        char lh[65];
        sodium_bin2hex(lh, sizeof(lh), leaf, 32);
        db_exec(dir,
                "INSERT INTO entries(idx, body, leaf, time, event) VALUES (%llu, x'%s', x'%s', 0,"
                " 'SCAN')",
                (unsigned long long)size, hex, lh);
        uint8_t zero[32] = {0};
        fix_state(l, dir, size + 1, zero);
        expect(l, NULL, MG_LEDGER_BACKDATED, (long long)size);
        free(hex);
        free(text);
        ledger_skey_wipe(&stolen);
        mg_ledger_close(l);
        free(dir);
}

/* A history that forked from ours (same log key) is not consistent with our checkpoints. */
static void test_tamper_fork(void **state)
{
        char *dir = ldir(state, "l");
        struct mg_ledger *l = make_ledger(dir, 5);
        mg_ledger_close(l);
        tu_sh("cp -a '%s' '%s.fork'", dir, dir);
        char *fdir = NULL;
        assert_true(asprintf(&fdir, "%s.fork", dir) > 0);
        l = open_ledger(dir);
        struct mg_ledger *f = open_ledger(fdir);
        assert_int_equal(mg_ledger_append(l, "SCAN", "a", NULL, 0, NULL, NULL), 0);
        assert_int_equal(mg_ledger_append(f, "WIPE", "b", NULL, 0, NULL, NULL), 0);
        assert_int_equal(mg_ledger_append(f, "WIPE", "b", NULL, 0, NULL, NULL), 0);
        char *cp = NULL;
        assert_int_equal(mg_ledger_checkpoint(f, &cp), 0);
        const char *cps[] = {cp};
        struct mg_ledger_verify_opts o = {.checkpoints = cps, .n_checkpoints = 1};
        expect(l, &o, MG_LEDGER_INCONSISTENT, 7); /* the fork is longer than ours */
        assert_int_equal(mg_ledger_append(l, "SCAN", "a", NULL, 0, NULL, NULL), 0);
        assert_int_equal(mg_ledger_append(l, "SCAN", "a", NULL, 0, NULL, NULL), 0);
        expect(l, &o, MG_LEDGER_INCONSISTENT, -1); /* same length class, other root */
        /* a checkpoint whose signature is broken, or from another log */
        char *bad = strdup(cp);
        char *sig = strstr(bad, "\n\n") + 40;
        *sig = *sig == 'A' ? 'B' : 'A';
        cps[0] = bad;
        expect(l, &o, MG_LEDGER_CHECKPOINT, -1);
        free(bad);
        free(cp);
        mg_ledger_close(f);
        mg_ledger_close(l);
        free(fdir);
        free(dir);
}

/* Heartbeat gaps are findings, unless the kiosk shut down cleanly before them. */
static void test_gap(void **state)
{
        char *dir = ldir(state, "l");
        struct mg_ledger *l = make_ledger(dir, 3);
        fake_now += 2000; /* heartbeat 300 s: more than twice that */
        assert_int_equal(mg_ledger_heartbeat(l, NULL), 0);
        expect(l, NULL, MG_LEDGER_GAP, 4);
        struct mg_ledger_verify_opts o = {.max_gap_s = -1};
        expect(l, &o, MG_LEDGER_OK, -1);
        o.max_gap_s = 5000;
        expect(l, &o, MG_LEDGER_OK, -1);
        mg_ledger_close(l);
        tu_rmtree(dir);
        dir = ldir(state, "l");
        l = make_ledger(dir, 3);
        assert_int_equal(mg_ledger_append(l, "SHUTDOWN", "system", NULL, 0, NULL, NULL), 0);
        fake_now += 20000;
        assert_int_equal(mg_ledger_append(l, "RECOVERY", "system", NULL, 0, NULL, NULL), 0);
        expect(l, NULL, MG_LEDGER_OK, -1);
        mg_ledger_close(l);
        free(dir);
}

/* Audits: overdue after six months; an auditor's cosignature resets it; only trusted keys. */
static void test_audit(void **state)
{
        char *dir = ldir(state, "l");
        struct mg_ledger *l = make_ledger(dir, 3);
        /* (no gap checks here: the auditor comes months later) */
        struct mg_ledger_verify_opts o = {.now = fake_now + 200 * 86400LL, .max_gap_s = -1};
        expect(l, &o, MG_LEDGER_AUDIT_OVERDUE, -1);
        o.now = fake_now + 100 * 86400LL;
        expect(l, &o, MG_LEDGER_OK, -1);
        char *key = ldir(state, "auditor.key"), *key2 = ldir(state, "other.key");
        assert_int_equal(mg_ledger_keygen("auditor.test/alice", key), 0);
        assert_int_equal(mg_ledger_keygen("auditor.test/alice", key), -EEXIST);
        assert_int_equal(mg_ledger_keygen("auditor.test/eve", key2), 0);
        struct stat st;
        assert_int_equal(stat(key, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        fake_now += 150 * 86400LL; /* the auditor comes after 150 days */
        char *note = NULL;
        assert_int_equal(mg_ledger_cosign(l, key, "alice", &note), 0);
        /* the cosigned checkpoint carries the log's signature and the auditor's */
        struct ledger_note n;
        assert_int_equal(ledger_note_parse(note, strlen(note), &n), 0);
        assert_int_equal(n.n_sigs, 2);
        o.now = fake_now + 100 * 86400LL; /* 250 days after start, 100 after the audit */
        expect(l, &o, MG_LEDGER_OK, -1);
        o.now = fake_now + 190 * 86400LL;
        expect(l, &o, MG_LEDGER_AUDIT_OVERDUE, -1);
        /* with a trusted auditor list: alice's key counts, eve's alone does not */
        char *vk = NULL, *vpath = NULL, *vk2 = NULL;
        assert_true(asprintf(&vpath, "%s.vkey", key) > 0);
        vk = tu_read_file(vpath, NULL);
        free(vpath);
        assert_true(asprintf(&vpath, "%s.vkey", key2) > 0);
        vk2 = tu_read_file(vpath, NULL);
        free(vpath);
        const char *trusted[] = {vk};
        o = (struct mg_ledger_verify_opts){.now = fake_now + 100 * 86400LL,
                                           .max_gap_s = -1,
                                           .auditor_vkeys = trusted,
                                           .n_auditor_vkeys = 1};
        expect(l, &o, MG_LEDGER_OK, -1);
        trusted[0] = vk2;
        expect(l, &o, MG_LEDGER_CHECKPOINT, 4);
        free(vk);
        free(vk2);
        free(note);
        /* cosigning refuses a ledger that does not verify */
        db_exec(dir, "DELETE FROM entries WHERE idx = 2");
        assert_int_equal(mg_ledger_cosign(l, key2, NULL, &note), -EBADMSG);
        free(key);
        free(key2);
        mg_ledger_close(l);
        free(dir);
}

/* Backups: two verified generations without the signing key, each recorded. */
static void test_backup(void **state)
{
        char *dir = ldir(state, "l");
        struct mg_ledger *l = make_ledger(dir, 4);
        uint64_t n1, n2;
        assert_int_equal(mg_ledger_backup(l, NULL, &n1), 0);
        assert_int_equal(mg_ledger_append(l, "SCAN", "a", NULL, 0, NULL, NULL), 0);
        assert_int_equal(mg_ledger_backup(l, NULL, &n2), 0);
        assert_int_equal(n1, 5);
        assert_int_equal(n2, 7); /* + the first BACKUP entry + one SCAN */
        for (int g = 1; g <= 2; g++) {
                char *out = NULL;
                int status;
                out = tu_sh_output(&status,
                                   "sqlite3 -batch '%s/backups/ledger-%d.db' \"SELECT count(*), "
                                   "(SELECT count(*) FROM state WHERE next_seed IS NULL) FROM "
                                   "entries\" 2>&1",
                                   dir, g);
                if (tu_have("sqlite3")) {
                        assert_int_equal(status, 0);
                        assert_string_equal(out, g == 1 ? "7|1\n" : "5|1\n");
                }
                free(out);
                char *p = NULL;
                struct stat st;
                assert_true(asprintf(&p, "%s/backups/ledger-%d.db", dir, g) > 0);
                assert_int_equal(stat(p, &st), 0);
                assert_int_equal(st.st_mode & 07777, 0600);
                free(p);
        }
        /* BACKUP entries record what was copied */
        char *text = NULL;
        size_t len;
        assert_int_equal(mg_ledger_entry(l, 7, &text, &len), 0);
        assert_non_null(strstr(text, "event BACKUP\n"));
        assert_non_null(strstr(text, "field backup.size 7\n"));
        free(text);
        expect(l, NULL, MG_LEDGER_OK, -1);
        mg_ledger_close(l);
        free(dir);
}

/* The export bundle has every part, and each entry is the exact leaf bytes. */
static void test_export(void **state)
{
        char *dir = ldir(state, "l"), *out = ldir(state, "bundle");
        struct mg_ledger *l = make_ledger(dir, 5);
        char *cp = NULL;
        assert_int_equal(mg_ledger_checkpoint(l, &cp), 0);
        assert_int_equal(mg_ledger_append(l, "SCAN", "a", NULL, 0, NULL, NULL), 0);
        assert_int_equal(mg_ledger_export(l, out), 0);
        assert_int_equal(mg_ledger_export(l, out), -EEXIST);
        static const char *const files[] = {
            "README",    "log.vkey",      "checkpoint",    "entries/0",
            "entries/6", "checkpoints/6", "checkpoints/7", "proofs/consistency-6-7"};
        for (size_t i = 0; i < MG_ARRAY_SIZE(files); i++) {
                char *p = NULL;
                assert_true(asprintf(&p, "%s/%s", out, files[i]) > 0);
                if (access(p, F_OK) != 0)
                        fail_msg("missing %s", files[i]);
                free(p);
        }
        for (uint64_t i = 0; i < 7; i++) {
                char *p = NULL, *a, *b;
                size_t la, lb;
                assert_true(asprintf(&p, "%s/entries/%llu", out, (unsigned long long)i) > 0);
                a = tu_read_file(p, &la);
                b = db_body(l, i, &lb);
                assert_int_equal(la, lb);
                assert_memory_equal(a, b, la);
                free(a);
                free(b);
                free(p);
        }
        /* the bundle verifies offline, against the kept checkpoint too */
        struct mg_ledger_verify_result r;
        const char *cps[] = {cp};
        struct mg_ledger_verify_opts o = {.checkpoints = cps, .n_checkpoints = 1};
        assert_int_equal(mg_ledger_verify_bundle(out, &o, NULL, NULL, &r), 0);
        if (r.problem != MG_LEDGER_OK)
                fail_msg("%s", r.message);
        assert_int_equal(r.size, 7);
        /* a changed byte in an exported entry; a missing entry; a missing tail */
        assert_int_equal(tu_sh("cd '%s' && cp -a . ../b2 && sed -i 's/^actor alice$/actor alicf/' "
                               "../b2/entries/3",
                               out),
                         0);
        char *b2 = ldir(state, "b2");
        assert_int_equal(mg_ledger_verify_bundle(b2, NULL, NULL, NULL, &r), 0);
        assert_int_equal(r.problem, MG_LEDGER_TAMPERED);
        assert_int_equal(r.bad_index, 3);
        assert_int_equal(
            tu_sh("cd '%s' && cp entries/3 ../b2/entries/3 && rm ../b2/entries/4", out), 0);
        assert_int_equal(mg_ledger_verify_bundle(b2, NULL, NULL, NULL, &r), 0);
        assert_int_equal(r.problem, MG_LEDGER_CHAIN);
        assert_int_equal(r.bad_index, 4);
        assert_int_equal(
            tu_sh("cd '%s' && cp entries/4 ../b2/entries/4 && rm ../b2/entries/6", out), 0);
        assert_int_equal(mg_ledger_verify_bundle(b2, NULL, NULL, NULL, &r), 0);
        assert_int_equal(r.problem, MG_LEDGER_INCONSISTENT);
        assert_int_equal(r.bad_index, 6);
        /* the same bundle, judged with another log's key */
        char *other = ldir(state, "other"), *vk = NULL, *vpath = NULL;
        assert_int_equal(mg_ledger_init(other, ORIGIN), 0);
        assert_true(asprintf(&vpath, "%s/log.vkey", other) > 0);
        vk = tu_read_file(vpath, NULL);
        o = (struct mg_ledger_verify_opts){.log_vkey = vk};
        assert_int_equal(mg_ledger_verify_bundle(out, &o, NULL, NULL, &r), 0);
        assert_int_equal(r.problem, MG_LEDGER_CHAIN); /* entry 0 is not by the trusted key */
        assert_int_equal(r.bad_index, 0);
        assert_int_equal(mg_ledger_verify_bundle(b2, NULL, NULL, NULL, &r) == 0, 1);
        assert_int_equal(mg_ledger_verify_bundle(vpath, NULL, NULL, NULL, &r), -ENOTDIR);
        free(vk);
        free(vpath);
        free(other);
        free(b2);
        free(cp);
        mg_ledger_close(l);
        free(out);
        free(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_contract, setup, teardown),
            cmocka_unit_test_setup_teardown(test_verify_good, setup, teardown),
            cmocka_unit_test_setup_teardown(test_tamper_byte, setup, teardown),
            cmocka_unit_test_setup_teardown(test_tamper_delete, setup, teardown),
            cmocka_unit_test_setup_teardown(test_tamper_insert, setup, teardown),
            cmocka_unit_test_setup_teardown(test_tamper_reorder, setup, teardown),
            cmocka_unit_test_setup_teardown(test_tamper_stolen_key, setup, teardown),
            cmocka_unit_test_setup_teardown(test_tamper_truncate, setup, teardown),
            cmocka_unit_test_setup_teardown(test_tamper_rollback, setup, teardown),
            cmocka_unit_test_setup_teardown(test_tamper_backdate, setup, teardown),
            cmocka_unit_test_setup_teardown(test_tamper_fork, setup, teardown),
            cmocka_unit_test_setup_teardown(test_gap, setup, teardown),
            cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
            cmocka_unit_test_setup_teardown(test_backup, setup, teardown),
            cmocka_unit_test_setup_teardown(test_export, setup, teardown),
        };
        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
