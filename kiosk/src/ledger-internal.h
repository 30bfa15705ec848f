/* Internal interfaces of the ledger module: note formats, Merkle tree, entries and storage. */
#ifndef MG_LEDGER_INTERNAL_H
#define MG_LEDGER_INTERNAL_H

#include <mediagate/ledger.h>
#include <time.h>

#include "util.h"

#define LEDGER_HASH_SIZE     32
#define LEDGER_MAX_ENTRY     65536 /* bytes of one entry (a signed note) */
#define LEDGER_MAX_NOTE      65536 /* bytes of any note we parse */
#define LEDGER_MAX_NAME      255   /* bytes of a key name */
#define LEDGER_MAX_ORIGIN    200
#define LEDGER_MAX_SIGS      64 /* signature lines accepted in one note (spec: at least 16) */
#define LEDGER_MAX_FIELDS    256
#define LEDGER_MAX_FIELD_KEY 64
#define LEDGER_MAX_PROOF     64 /* hashes in an inclusion or consistency proof */
#define LEDGER_MAX_ENTRIES   ((uint64_t)1 << 32)
#define LEDGER_BODY_MAGIC    "mediagate-ledger/v1"

#define LEDGER_SIG_ED25519 0x01
#define LEDGER_SIG_COSIG   0x04

typedef uint8_t ledger_hash[LEDGER_HASH_SIZE];

/* ---- ledger-note.c: base64, keys, signed notes, cosignatures ---- */

/* Standard padded base64 of @n bytes into @out (size >= 4 * ceil(n / 3) + 1). */
void ledger_b64_encode(const uint8_t *p, size_t n, char *out, size_t out_size);
/* Decode canonical standard base64 @s[0..len) into exactly @want bytes (or at most @max if want is
 * 0, length in *ret_len). Returns 0 or -EINVAL. */
int ledger_b64_decode(const char *s, size_t len, uint8_t *out, size_t max, size_t *ret_len);

/* A verifier key (type 0x01 Ed25519 or 0x04 cosignature). */
struct ledger_vkey {
        char name[LEDGER_MAX_NAME + 1];
        uint32_t id;
        uint8_t type;
        uint8_t pk[32];
};

/* A signing key; wipe with ledger_skey_wipe(). */
struct ledger_skey {
        struct ledger_vkey v;
        uint8_t seed[32];
        uint8_t sk[64];
};

/* True if @name[0..len) is a valid key name (non-empty, no spaces or '+', printable, no newline).
 */
bool ledger_name_valid(const char *name, size_t len);
/* Key ID: SHA-256(name || 0x0A || type || pk)[:4], big-endian. */
uint32_t ledger_key_id(const char *name, uint8_t type, const uint8_t pk[32]);
/* Parse "<name>+<8 hex>+<base64(type || pk)>"; the ID must match. */
int ledger_vkey_parse(const char *s, size_t len, struct ledger_vkey *ret);
/* Append a vkey's text to @b. */
int ledger_vkey_format(const struct ledger_vkey *k, struct mg_buf *b);
/* Derive a signing key from a 32-byte seed. */
int ledger_skey_from_seed(const char *name, uint8_t type, const uint8_t seed[32],
                          struct ledger_skey *ret);
/* Generate a fresh signing key. */
int ledger_skey_generate(const char *name, uint8_t type, struct ledger_skey *ret);
/* Parse "PRIVATE+KEY+<name>+<8 hex>+<base64(type || seed)>" (golang.org/x/mod/sumdb/note). */
int ledger_skey_parse(const char *s, size_t len, struct ledger_skey *ret);
/* Append a signing key's private text to @b. */
int ledger_skey_format(const struct ledger_skey *k, struct mg_buf *b);
/* Wipe a signing key. */
void ledger_skey_wipe(struct ledger_skey *k);

/* One signature line of a note; pointers into the parsed text. */
struct ledger_sig {
        const char *name;
        size_t name_len;
        uint32_t id;
        uint8_t sig[8 + 64]; /* after the key ID: Ed25519 64 bytes, cosignature 8 + 64 */
        size_t sig_len;
};

/* A parsed signed note; pointers into the caller's buffer. */
struct ledger_note {
        const char *text; /* includes its final newline */
        size_t text_len;
        size_t n_sigs;
        struct ledger_sig sigs[LEDGER_MAX_SIGS];
};

/* Check that @s[0..len) is valid UTF-8 without control characters other than newline. */
bool ledger_text_valid(const char *s, size_t len);
/* Parse a C2SP signed note. Returns 0 or -EBADMSG. */
int ledger_note_parse(const char *s, size_t len, struct ledger_note *ret);
/* Append an Ed25519 signature line for @text by @k to @b. */
int ledger_note_sign(struct mg_buf *b, const char *text, size_t len, const struct ledger_skey *k);
/* Verify @n's signature by @k: 0 if a signature with @k's name and ID verifies, -ENOKEY if there
 * is none, -EBADMSG if one fails. */
int ledger_note_verify(const struct ledger_note *n, const struct ledger_vkey *k);
/* Append a tlog-cosignature/v1 line over checkpoint @text by @k at @timestamp to @b. */
int ledger_cosig_sign(struct mg_buf *b, const char *text, size_t len, const struct ledger_skey *k,
                      uint64_t timestamp);
/* Verify a cosignature by @k on @n (whose text is a checkpoint); sets *ret_time. Same returns as
 * ledger_note_verify(). */
int ledger_cosig_verify(const struct ledger_note *n, const struct ledger_vkey *k,
                        uint64_t *ret_time);

/* ---- ledger-merkle.c: RFC 6962 / RFC 9162 ---- */

void ledger_leaf_hash(const void *p, size_t n, ledger_hash out);
void ledger_node_hash(const ledger_hash l, const ledger_hash r, ledger_hash out);
/* Root of @n leaf hashes (SHA-256 of nothing for n = 0). */
void ledger_merkle_root(const ledger_hash *leaves, uint64_t n, ledger_hash out);
/* Inclusion proof PATH(index, D[0:n]); *ret_len hashes into @proof (LEDGER_MAX_PROOF room). */
int ledger_merkle_inclusion(const ledger_hash *leaves, uint64_t n, uint64_t index,
                            ledger_hash *proof, size_t *ret_len);
/* Consistency proof PROOF(m, D[0:n]), 0 < m <= n (empty if m == n). */
int ledger_merkle_consistency(const ledger_hash *leaves, uint64_t n, uint64_t m, ledger_hash *proof,
                              size_t *ret_len);
/* RFC 9162 2.1.3.2: 0 if @leaf at @index is in the tree of @size with @root; else -EBADMSG. */
int ledger_merkle_verify_inclusion(uint64_t index, uint64_t size, const ledger_hash leaf,
                                   const ledger_hash *proof, size_t len, const ledger_hash root);
/* RFC 9162 2.1.4.2: 0 if the tree (@size1, @root1) is a prefix of (@size2, @root2). */
int ledger_merkle_verify_consistency(uint64_t size1, uint64_t size2, const ledger_hash root1,
                                     const ledger_hash root2, const ledger_hash *proof, size_t len);

/* The right edge of a tree: roots of its perfect subtrees, largest first. */
struct ledger_compact {
        uint64_t size;
        unsigned n;
        ledger_hash h[64];
};
void ledger_compact_append(struct ledger_compact *c, const ledger_hash leaf);
void ledger_compact_root(const struct ledger_compact *c, ledger_hash out);

/* ---- ledger-entry.c: entry bodies, checkpoints, proofs, time ---- */

/* Format @t as RFC 3339 UTC "YYYY-MM-DDTHH:MM:SSZ" into @out (>= 21 bytes). */
void ledger_time_format(int64_t t, char out[32]);
/* Parse exactly that form. */
int ledger_time_parse(const char *s, size_t len, int64_t *ret);

struct ledger_field {
        char *key;
        char *value;
};

/* A parsed entry: a signed note (in @buf) whose text is an entry body (strings point into @body).
 */
struct ledger_entry {
        char *buf;
        char *body;
        struct ledger_note note;
        char *origin;
        uint64_t index;
        int64_t time;
        char *event;
        char *actor;
        bool has_prev;
        ledger_hash prev;
        size_t n_fields;
        struct ledger_field fields[LEDGER_MAX_FIELDS];
        struct ledger_vkey next_key;
};

bool ledger_event_valid(const char *s);
bool ledger_field_key_valid(const char *s);
/* Build an entry body (unsigned text); values are escaped. */
int ledger_entry_body(struct mg_buf *b, const char *origin, uint64_t index, int64_t time,
                      const char *event, const char *actor, const ledger_hash prev,
                      const struct mg_ledger_field *fields, size_t n_fields,
                      const struct ledger_vkey *next_key);
/* Parse an entry (signed note + body). Returns 0 or -EBADMSG; free with ledger_entry_free(). */
int ledger_entry_parse(const char *s, size_t len, struct ledger_entry **ret);
void ledger_entry_free(struct ledger_entry *e);
/* The value of field @key, or NULL. */
const char *ledger_entry_field(const struct ledger_entry *e, const char *key);
/* The key name that signs entry @index (index > 0): "<origin>/key/<index>". */
int ledger_chain_key_name(const char *origin, uint64_t index, char out[LEDGER_MAX_NAME + 1]);

struct ledger_checkpoint {
        char origin[LEDGER_MAX_ORIGIN + 1];
        uint64_t size;
        ledger_hash root;
};
/* Checkpoint body text. */
int ledger_checkpoint_format(const struct ledger_checkpoint *c, struct mg_buf *b);
/* Parse a checkpoint body (note text; extension lines are allowed and ignored). */
int ledger_checkpoint_parse(const char *text, size_t len, struct ledger_checkpoint *ret);

/* An inclusion proof block. */
struct ledger_proof {
        char origin[LEDGER_MAX_ORIGIN + 1];
        uint64_t index;
        uint64_t size;
        ledger_hash leaf;
        size_t n;
        ledger_hash path[LEDGER_MAX_PROOF];
};
int ledger_proof_format(const struct ledger_proof *p, struct mg_buf *b);
/* Parse a proof block (up to and excluding a blank line); *ret_used: bytes consumed. */
int ledger_proof_parse(const char *s, size_t len, struct ledger_proof *ret, size_t *ret_used);

/* ---- ledger-store.c ---- */

struct sqlite3;

struct mg_ledger {
        char *path;
        struct sqlite3 *db;
        unsigned flags;
        int failed; /* sticky first write error */
        char origin[LEDGER_MAX_ORIGIN + 1];
        int64_t heartbeat_s;
        mg_log_fn log_fn;
        void *log_userdata;
        int64_t (*clock)(void); /* tests may override */
};

/* Send a formatted message to the handle's log callback. */
void ledger_log(struct mg_ledger *l, enum mg_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Append with an explicit time (clamped to be non-decreasing). */
int ledger_store_append(struct mg_ledger *l, int64_t time, const char *event, const char *actor,
                        const struct mg_ledger_field *fields, size_t n_fields, uint64_t *ret_index,
                        uint8_t ret_leaf_hash[32]);
/* Turn off fsync (benchmarks that build big ledgers fast only). */
int ledger_store_set_nosync(struct mg_ledger *l);
/* Load the log signing key. */
int ledger_store_log_key(struct mg_ledger *l, struct ledger_skey *ret);
/* Read all leaf hashes (from the stored column) into a malloc'd array. */
int ledger_store_leaves(struct mg_ledger *l, ledger_hash **ret, uint64_t *ret_n);
/* Store a signed checkpoint note. */
int ledger_store_add_checkpoint(struct mg_ledger *l, uint64_t size, const char *note);
/* Map a SQLite result code to -errno. */
int ledger_store_errno(int rc);
/* Read a whole small file (<= @max bytes), NUL-terminated. */
int ledger_read_file(const char *path, size_t max, char **ret, size_t *ret_len);
/* Write a file durably (write, fsync, rename, fsync dir) with @mode. */
int ledger_write_file(const char *path, const void *p, size_t n, mode_t mode);
/* The syslog line for an entry. */
int ledger_syslog_line(const struct ledger_entry *e, const ledger_hash leaf, struct mg_buf *b);

#endif
