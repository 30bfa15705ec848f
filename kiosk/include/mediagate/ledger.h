/* mediagate: the signed, append-only ledger (C2SP signed notes, RFC 6962 tree, forward-secure
 * keys). */
#ifndef MEDIAGATE_LEDGER_H
#define MEDIAGATE_LEDGER_H

#include <mediagate/mediagate.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MG_LEDGER_DEFAULT_PATH "/var/lib/mediagate/ledger"

struct mg_ledger; /* opaque */

/* One KEY=VALUE detail of an event. @key: [a-z0-9._-]{1,64}; @value: untrusted text, escaped by the
 * ledger before it is recorded (NULL is recorded as empty). */
struct mg_ledger_field {
        const char *key;
        const char *value;
};

/* Flags for mg_ledger_open(). */
enum {
        MG_LEDGER_NO_SYSLOG = 1u << 0, /* do not copy entries to the system log */
};

/* Open an existing ledger directory (created by mg_ledger_init). flags: 0 or MG_LEDGER_NO_SYSLOG.
 * Returns 0, -ENOENT (no ledger there), -EBADMSG (not a ledger database) or another -errno. */
int mg_ledger_open(const char *path, unsigned flags, struct mg_ledger **ret);

/* Create keys and database in @path (keys readable by root only, mode 0600, dir 0700) and record
 * the genesis entry (index 0, event INIT) signed with the new long-term log key. @origin: the log's
 * name, printable ASCII without spaces or '+', at most 200 bytes. -EEXIST if a ledger is there. */
int mg_ledger_init(const char *path, const char *origin);

/* As mg_ledger_init() with an explicit heartbeat interval in seconds (recorded in the genesis
 * entry; verify flags gaps longer than twice this). mg_ledger_init() uses 300. */
int mg_ledger_init_heartbeat(const char *path, const char *origin, uint32_t heartbeat_s);

/* Append one event durably. @event: "SCAN", "WIPE", ... ([A-Z0-9_]{1,32}); @actor: operator name
 * (untrusted, escaped; NULL means "system"). On success the entry is durable (fsync'd) and
 * *ret_index / ret_leaf_hash (RFC 6962 leaf hash, 32 bytes) are set; both out parameters may be
 * NULL. Any I/O, fsync or disk-full error stops the handle: this and every later append fail with
 * the first error (nothing that is not durable is acknowledged). -EMSGSIZE if the entry would
 * exceed 64 KiB, -EINVAL for a malformed event or field key. */
int mg_ledger_append(struct mg_ledger *l, const char *event, const char *actor,
                     const struct mg_ledger_field *fields, size_t n_fields, uint64_t *ret_index,
                     uint8_t ret_leaf_hash[32]);

/* Close the handle and wipe key material held in memory. Accepts NULL. */
void mg_ledger_close(struct mg_ledger *l);

/* Route the library's messages (verification findings, errors) to @fn. */
void mg_ledger_set_log(struct mg_ledger *l, mg_log_fn fn, void *userdata);

/* The ledger's origin (log name); valid while @l is open. */
const char *mg_ledger_origin(const struct mg_ledger *l);

/* Number of entries. Returns 0 or -errno. */
int mg_ledger_size(struct mg_ledger *l, uint64_t *ret_size);

/* Append a HEARTBEAT entry (actor "system"). */
int mg_ledger_heartbeat(struct mg_ledger *l, uint64_t *ret_index);

/* Read entry @index exactly as stored (the leaf bytes, a signed note). Caller frees *ret_text. */
int mg_ledger_entry(struct mg_ledger *l, uint64_t index, char **ret_text, size_t *ret_len);

/* Sign a C2SP tlog-checkpoint for the current tree with the log key, store it and return the signed
 * note text (caller frees). */
int mg_ledger_checkpoint(struct mg_ledger *l, char **ret_note);

/* An inclusion proof of entry @index in the tree of size @size (0: current size), as text: a proof
 * block, a blank line and a signed checkpoint for that size (see mediagate-ledger(1)). */
int mg_ledger_prove(struct mg_ledger *l, uint64_t index, uint64_t size, char **ret_text);

/* What verification found; ordered by severity (the worst finding is reported). */
enum mg_ledger_problem {
        MG_LEDGER_OK = 0,
        MG_LEDGER_AUDIT_OVERDUE, /* no auditor cosignature within the allowed age */
        MG_LEDGER_GAP,           /* consecutive entries further apart than the heartbeat allows */
        MG_LEDGER_BACKDATED,     /* an entry's time is earlier than its predecessor's */
        MG_LEDGER_INCONSISTENT,  /* not an extension of an older checkpoint (truncation, rollback,
                                    fork) or stored tree state disagrees with the entries */
        MG_LEDGER_CHECKPOINT,    /* a checkpoint or cosignature signature does not verify */
        MG_LEDGER_CHAIN,         /* broken key chain: wrong signer, index, predecessor, order */
        MG_LEDGER_TAMPERED, /* an entry's content does not match its signature or is malformed */
};

struct mg_ledger_verify_opts {
        const char *const *checkpoints; /* older signed checkpoint notes (text) to check against */
        size_t n_checkpoints;
        const char *const
            *auditor_vkeys; /* trusted auditor vkeys; none: accept the recorded ones */
        size_t n_auditor_vkeys;
        const char *log_vkey;    /* trusted log vkey; NULL: the ledger directory's log.vkey */
        int64_t max_gap_s;       /* 0: twice the genesis heartbeat; negative: no gap check */
        int64_t audit_max_age_s; /* 0: 183 days; negative: no audit check */
        int64_t now;             /* 0: the current time (for the audit age) */
};

struct mg_ledger_verify_result {
        enum mg_ledger_problem problem;
        bool has_index;      /* the problem is at one entry */
        uint64_t bad_index;  /* the first bad entry (for the reported problem) */
        uint64_t size;       /* entries checked */
        uint8_t root[32];    /* RFC 6962 root of the entries checked */
        unsigned n_findings; /* all findings, each also sent to the log callback */
        char message[512];   /* the reported finding, escaped, human readable */
};

/* Recompute everything: every entry's format, index, predecessor hash, signature and key chain, the
 * tree root against the stored state and stored checkpoints, the given checkpoints (signature and
 * consistency), auditor cosignatures, times, heartbeat gaps and audit age. Returns 0 when
 * verification ran (the verdict is in @res), or -errno if it could not run. */
int mg_ledger_verify(struct mg_ledger *l, const struct mg_ledger_verify_opts *opts,
                     struct mg_ledger_verify_result *res);

/* Verify an export bundle (see mg_ledger_export) the same way, offline: its entries, their key
 * chain and tree, its checkpoint (which must cover exactly its entries), its stored checkpoints and
 * cosignatures, and the given older checkpoints. Give the trusted log vkey in @opts->log_vkey (the
 * bundle's own log.vkey is used otherwise). Messages go to @log_fn (may be NULL). */
int mg_ledger_verify_bundle(const char *dir, const struct mg_ledger_verify_opts *opts,
                            mg_log_fn log_fn, void *userdata, struct mg_ledger_verify_result *res);

/* Write a self-contained bundle for an auditor to @dir (created, must not exist): checkpoint,
 * log.vkey, entries/<index>, cosignatures/<size>, proofs/, README. */
int mg_ledger_export(struct mg_ledger *l, const char *dir);

/* Back the ledger up into @dir (NULL: <ledger>/backups), rotating two generations (ledger-1.db
 * newest, ledger-2.db), with the signing key removed from the copy; each copy is verified as a
 * prefix of the live ledger, then a BACKUP entry is recorded. *ret_size: entries in the copy. */
int mg_ledger_backup(struct mg_ledger *l, const char *dir, uint64_t *ret_size);

/* Create an auditor's cosigning key (C2SP tlog-cosignature, Ed25519): the private key text goes to
 * @key_path (mode 0600), the vkey to @key_path + ".vkey". @name: the auditor's key name. */
int mg_ledger_keygen(const char *name, const char *key_path);

/* The auditor's review: verify the ledger (it must pass, apart from an overdue audit), sign a
 * checkpoint, cosign it with the key in @key_path at the current time, record an AUDIT entry
 * carrying the cosignature, and return the cosigned checkpoint note (caller frees). -EBADMSG if
 * verification fails. */
int mg_ledger_cosign(struct mg_ledger *l, const char *key_path, const char *actor, char **ret_note);

#ifdef __cplusplus
}
#endif
#endif
