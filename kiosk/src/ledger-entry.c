/* Ledger texts: entry bodies, tlog checkpoints, inclusion proof blocks, RFC 3339 times. */
#include <mediagate/escape.h>
#include <string.h>

#include "ledger-internal.h"

#define ENTRY_MAX_VALUE 4096 /* escaped bytes of one field value or actor */

/* Format a time as RFC 3339 UTC. */
void ledger_time_format(int64_t t, char out[32])
{
        struct tm tm;
        time_t tt = (time_t)t;
        if (!gmtime_r(&tt, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                snprintf(out, 32, "1970-01-01T00:00:00Z");
}

/* Parse a fixed number of decimal digits. */
static bool entry_digits(const char *s, size_t n, int *ret)
{
        int v = 0;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (s[i] - '0');
        }
        *ret = v;
        return true;
}

/* Parse "YYYY-MM-DDTHH:MM:SSZ"; the value must format back to the same text. */
int ledger_time_parse(const char *s, size_t len, int64_t *ret)
{
        struct tm tm = {0};
        int y, mo, d, h, mi, se;
        if (len != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
            s[16] != ':' || s[19] != 'Z')
                return -EINVAL;
        if (!entry_digits(s, 4, &y) || !entry_digits(s + 5, 2, &mo) ||
            !entry_digits(s + 8, 2, &d) || !entry_digits(s + 11, 2, &h) ||
            !entry_digits(s + 14, 2, &mi) || !entry_digits(s + 17, 2, &se))
                return -EINVAL;
        if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59)
                return -EINVAL;
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = se;
        time_t t = timegm(&tm);
        char back[32];
        ledger_time_format((int64_t)t, back);
        if (memcmp(back, s, 20) != 0)
                return -EINVAL;
        *ret = (int64_t)t;
        return 0;
}

/* Event types: [A-Z0-9_]{1,32}, starting with a letter. */
bool ledger_event_valid(const char *s)
{
        size_t n = s ? strlen(s) : 0;
        if (n == 0 || n > 32 || s[0] < 'A' || s[0] > 'Z')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
                        return false;
        return true;
}

/* Field keys: [a-z0-9._-]{1,64}. */
bool ledger_field_key_valid(const char *s)
{
        size_t n = s ? strlen(s) : 0;
        if (n == 0 || n > LEDGER_MAX_FIELD_KEY)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
                      s[i] == '_' || s[i] == '-'))
                        return false;
        return true;
}

/* The chain key name for entry @index. */
int ledger_chain_key_name(const char *origin, uint64_t index, char out[LEDGER_MAX_NAME + 1])
{
        int n =
            snprintf(out, LEDGER_MAX_NAME + 1, "%s/key/%llu", origin, (unsigned long long)index);
        return n < 0 || n > LEDGER_MAX_NAME ? -ENAMETOOLONG : 0;
}

/* Append @s escaped (at most ENTRY_MAX_VALUE bytes, cut and marked beyond). */
static int entry_put_escaped(struct mg_buf *b, const char *s)
{
        char *e = mg_escape(s, strlen(s), ENTRY_MAX_VALUE);
        if (!e)
                return -ENOMEM;
        int r = buf_puts(b, e);
        free(e);
        return r;
}

/* Build an entry body. */
int ledger_entry_body(struct mg_buf *b, const char *origin, uint64_t index, int64_t time,
                      const char *event, const char *actor, const ledger_hash prev,
                      const struct mg_ledger_field *fields, size_t n_fields,
                      const struct ledger_vkey *next_key)
{
        char ts[32], b64[64];
        if (!ledger_event_valid(event) || n_fields > LEDGER_MAX_FIELDS)
                return -EINVAL;
        if (n_fields > 0 && !fields)
                return -EINVAL;
        for (size_t i = 0; i < n_fields; i++)
                if (!ledger_field_key_valid(fields[i].key))
                        return -EINVAL;
        ledger_time_format(time, ts);
        buf_printf(b, LEDGER_BODY_MAGIC "\norigin %s\nindex %llu\ntime %s\nevent %s\nactor ",
                   origin, (unsigned long long)index, ts, event);
        entry_put_escaped(b, actor && *actor ? actor : "system");
        buf_puts(b, "\n");
        if (prev) {
                ledger_b64_encode(prev, LEDGER_HASH_SIZE, b64, sizeof(b64));
                buf_printf(b, "prev %s\n", b64);
        }
        for (size_t i = 0; i < n_fields; i++) {
                buf_printf(b, "field %s ", fields[i].key);
                entry_put_escaped(b, fields[i].value ? fields[i].value : ""); /* NULL: empty */
                buf_puts(b, "\n");
        }
        buf_puts(b, "next-key ");
        ledger_vkey_format(next_key, b);
        buf_puts(b, "\n");
        if (b->err == -E2BIG)
                return -EMSGSIZE;
        return b->err;
}

/* Parse a decimal u64 without sign, leading zeros or overflow. */
static int entry_parse_u64(const char *s, size_t len, uint64_t *ret)
{
        uint64_t v = 0;
        if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                unsigned d = (unsigned)(s[i] - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -EINVAL;
                v = v * 10 + d;
        }
        *ret = v;
        return 0;
}

/* Take the next line of @*s (NUL-terminated, lines end in '\n'), NUL it and split "name value". */
static char *entry_next_line(char **s, const char *name)
{
        char *line = *s;
        char *nl = strchr(line, '\n');
        if (!nl)
                return NULL;
        *nl = 0;
        *s = nl + 1;
        size_t n = strlen(name);
        if (strncmp(line, name, n) != 0 || line[n] != ' ')
                return NULL;
        return line + n + 1;
}

/* Is the next line of @s named @name? */
static bool entry_peek(const char *s, const char *name)
{
        size_t n = strlen(name);
        return strncmp(s, name, n) == 0 && s[n] == ' ';
}

/* Parse an entry's body (a copy in e->buf, NUL-terminated). */
static int entry_parse_body(struct ledger_entry *e, char *s)
{
        char *v;
        char *nl = strchr(s, '\n');
        if (!nl)
                return -EBADMSG;
        *nl = 0;
        if (strcmp(s, LEDGER_BODY_MAGIC) != 0)
                return -EBADMSG;
        s = nl + 1;
        if (!(v = entry_next_line(&s, "origin")) || !ledger_name_valid(v, strlen(v)) ||
            strlen(v) > LEDGER_MAX_ORIGIN)
                return -EBADMSG;
        e->origin = v;
        if (!(v = entry_next_line(&s, "index")) || entry_parse_u64(v, strlen(v), &e->index) < 0)
                return -EBADMSG;
        if (!(v = entry_next_line(&s, "time")) || ledger_time_parse(v, strlen(v), &e->time) < 0)
                return -EBADMSG;
        if (!(v = entry_next_line(&s, "event")) || !ledger_event_valid(v))
                return -EBADMSG;
        e->event = v;
        if (!(v = entry_next_line(&s, "actor")) || !*v)
                return -EBADMSG;
        e->actor = v;
        if (entry_peek(s, "prev")) {
                v = entry_next_line(&s, "prev");
                size_t n;
                if (!v || ledger_b64_decode(v, strlen(v), e->prev, LEDGER_HASH_SIZE, &n) < 0 ||
                    n != LEDGER_HASH_SIZE)
                        return -EBADMSG;
                e->has_prev = true;
        }
        while (entry_peek(s, "field")) {
                if (e->n_fields >= LEDGER_MAX_FIELDS)
                        return -EBADMSG;
                v = entry_next_line(&s, "field");
                char *sp = v ? strchr(v, ' ') : NULL;
                if (!sp)
                        return -EBADMSG;
                *sp = 0;
                if (!ledger_field_key_valid(v))
                        return -EBADMSG;
                e->fields[e->n_fields].key = v;
                e->fields[e->n_fields].value = sp + 1;
                e->n_fields++;
        }
        if (!(v = entry_next_line(&s, "next-key")) ||
            ledger_vkey_parse(v, strlen(v), &e->next_key) < 0 ||
            e->next_key.type != LEDGER_SIG_ED25519)
                return -EBADMSG;
        if (*s)
                return -EBADMSG; /* trailing lines */
        if ((e->index == 0) == e->has_prev)
                return -EBADMSG; /* prev on every entry but the first */
        return 0;
}

/* Parse an entry: a signed note whose text is an entry body. */
int ledger_entry_parse(const char *s, size_t len, struct ledger_entry **ret)
{
        if (len > LEDGER_MAX_ENTRY)
                return -EBADMSG;
        struct ledger_entry *e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        /* buf holds the note as signed; body a copy of its text that parsing cuts into strings. */
        e->buf = malloc(len + 1);
        if (!e->buf) {
                free(e);
                return -ENOMEM;
        }
        memcpy(e->buf, s, len);
        e->buf[len] = 0;
        int r = ledger_note_parse(e->buf, len, &e->note);
        if (r == 0) {
                e->body = strndup(e->note.text, e->note.text_len);
                r = e->body ? entry_parse_body(e, e->body) : -ENOMEM;
        }
        if (r < 0) {
                ledger_entry_free(e);
                return r == -ENOMEM ? r : -EBADMSG;
        }
        *ret = e;
        return 0;
}

/* Free a parsed entry. */
void ledger_entry_free(struct ledger_entry *e)
{
        if (!e)
                return;
        free(e->body);
        free(e->buf);
        free(e);
}

/* Look a field up by key. */
const char *ledger_entry_field(const struct ledger_entry *e, const char *key)
{
        for (size_t i = 0; i < e->n_fields; i++)
                if (strcmp(e->fields[i].key, key) == 0)
                        return e->fields[i].value;
        return NULL;
}

/* Format a checkpoint body. */
int ledger_checkpoint_format(const struct ledger_checkpoint *c, struct mg_buf *b)
{
        char b64[64];
        ledger_b64_encode(c->root, LEDGER_HASH_SIZE, b64, sizeof(b64));
        return buf_printf(b, "%s\n%llu\n%s\n", c->origin, (unsigned long long)c->size, b64);
}

/* Take one line [s, s + len) up to '\n'; returns its length or -1. */
static ssize_t entry_line(const char *s, size_t len)
{
        const char *nl = memchr(s, '\n', len);
        return nl ? nl - s : -1;
}

/* Parse a checkpoint body. */
int ledger_checkpoint_parse(const char *text, size_t len, struct ledger_checkpoint *ret)
{
        struct ledger_checkpoint c = {0};
        const char *s = text;
        size_t left = len;
        ssize_t n;
        if (len > LEDGER_MAX_NOTE || !ledger_text_valid(text, len))
                return -EBADMSG;
        /* origin: non-empty, no spaces or '+' (it is also the key name) */
        if ((n = entry_line(s, left)) <= 0 || (size_t)n > LEDGER_MAX_ORIGIN ||
            !ledger_name_valid(s, (size_t)n))
                return -EBADMSG;
        memcpy(c.origin, s, (size_t)n);
        s += n + 1;
        left -= (size_t)n + 1;
        if ((n = entry_line(s, left)) <= 0 || entry_parse_u64(s, (size_t)n, &c.size) < 0)
                return -EBADMSG;
        s += n + 1;
        left -= (size_t)n + 1;
        size_t hl;
        if ((n = entry_line(s, left)) <= 0 ||
            ledger_b64_decode(s, (size_t)n, c.root, LEDGER_HASH_SIZE, &hl) < 0 ||
            hl != LEDGER_HASH_SIZE)
                return -EBADMSG;
        s += n + 1;
        left -= (size_t)n + 1;
        /* Extension lines: non-empty. */
        while (left > 0) {
                if ((n = entry_line(s, left)) <= 0)
                        return -EBADMSG;
                s += n + 1;
                left -= (size_t)n + 1;
        }
        *ret = c;
        return 0;
}

/* Format an inclusion proof block. */
int ledger_proof_format(const struct ledger_proof *p, struct mg_buf *b)
{
        char b64[64];
        buf_printf(b, "mediagate-ledger-proof/v1\n%s\nindex %llu\nsize %llu\n", p->origin,
                   (unsigned long long)p->index, (unsigned long long)p->size);
        ledger_b64_encode(p->leaf, LEDGER_HASH_SIZE, b64, sizeof(b64));
        buf_printf(b, "leaf %s\n", b64);
        for (size_t i = 0; i < p->n; i++) {
                ledger_b64_encode(p->path[i], LEDGER_HASH_SIZE, b64, sizeof(b64));
                buf_printf(b, "%s\n", b64);
        }
        return b->err;
}

/* Parse "<name> <u64>" from a line. */
static int entry_named_u64(const char *s, size_t n, const char *name, uint64_t *ret)
{
        size_t k = strlen(name);
        if (n <= k + 1 || memcmp(s, name, k) != 0 || s[k] != ' ')
                return -EBADMSG;
        return entry_parse_u64(s + k + 1, n - k - 1, ret) < 0 ? -EBADMSG : 0;
}

/* Parse an inclusion proof block. */
int ledger_proof_parse(const char *s, size_t len, struct ledger_proof *ret, size_t *ret_used)
{
        static const char magic[] = "mediagate-ledger-proof/v1";
        struct ledger_proof p = {0};
        const char *q = s;
        size_t left = MG_MIN(len, (size_t)LEDGER_MAX_NOTE);
        ssize_t n;
        size_t hl;
        if (!ledger_text_valid(s, left))
                return -EBADMSG;
        if ((n = entry_line(q, left)) != (ssize_t)(sizeof(magic) - 1) ||
            memcmp(q, magic, sizeof(magic) - 1) != 0)
                return -EBADMSG;
        q += n + 1;
        left -= (size_t)n + 1;
        if ((n = entry_line(q, left)) <= 0 || (size_t)n > LEDGER_MAX_ORIGIN ||
            !ledger_name_valid(q, (size_t)n))
                return -EBADMSG;
        memcpy(p.origin, q, (size_t)n);
        q += n + 1;
        left -= (size_t)n + 1;
        if ((n = entry_line(q, left)) <= 0 || entry_named_u64(q, (size_t)n, "index", &p.index) < 0)
                return -EBADMSG;
        q += n + 1;
        left -= (size_t)n + 1;
        if ((n = entry_line(q, left)) <= 0 || entry_named_u64(q, (size_t)n, "size", &p.size) < 0)
                return -EBADMSG;
        q += n + 1;
        left -= (size_t)n + 1;
        if ((n = entry_line(q, left)) <= 5 || memcmp(q, "leaf ", 5) != 0 ||
            ledger_b64_decode(q + 5, (size_t)n - 5, p.leaf, LEDGER_HASH_SIZE, &hl) < 0 ||
            hl != LEDGER_HASH_SIZE)
                return -EBADMSG;
        q += n + 1;
        left -= (size_t)n + 1;
        while (left > 0) {
                n = entry_line(q, left);
                if (n < 0)
                        return -EBADMSG;
                if (n == 0)
                        break; /* blank line: end of the block */
                if (p.n >= LEDGER_MAX_PROOF ||
                    ledger_b64_decode(q, (size_t)n, p.path[p.n], LEDGER_HASH_SIZE, &hl) < 0 ||
                    hl != LEDGER_HASH_SIZE)
                        return -EBADMSG;
                p.n++;
                q += n + 1;
                left -= (size_t)n + 1;
        }
        if (p.index >= p.size)
                return -EBADMSG;
        *ret = p;
        if (ret_used)
                *ret_used = (size_t)(q - s);
        return 0;
}
