/* Fuzz target: ledger entries (a signed note whose text is an entry body). */
#include <mediagate/escape.h>
#include <stdlib.h>
#include <string.h>

#include "ledger-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Is @s unchanged by the ledger's escaping (as recorded values are)? */
static bool fixed_point(const char *s)
{
        char *e = mg_escape(s, strlen(s), 4096);
        bool same = e && strcmp(e, s) == 0;
        free(e);
        return same;
}

/* Parse an entry; a parsed entry whose values are escaped must rebuild to the same body. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct ledger_entry *e = NULL;
        if (!size || ledger_entry_parse((const char *)data, size, &e) < 0)
                return 0;
        struct mg_ledger_field f[LEDGER_MAX_FIELDS];
        bool canonical = fixed_point(e->actor);
        for (size_t i = 0; i < e->n_fields; i++) {
                f[i] = (struct mg_ledger_field){e->fields[i].key, e->fields[i].value};
                canonical = canonical && fixed_point(e->fields[i].value);
        }
        struct mg_buf b;
        buf_init(&b, LEDGER_MAX_ENTRY);
        int r = ledger_entry_body(&b, e->origin, e->index, e->time, e->event, e->actor,
                                  e->has_prev ? e->prev : NULL, f, e->n_fields, &e->next_key);
        if (canonical &&
            (r < 0 || b.len != e->note.text_len || memcmp(b.data, e->note.text, b.len) != 0))
                abort(); /* the parser accepted something the writer would not produce */
        buf_free(&b);
        ledger_entry_free(e);
        return 0;
}
