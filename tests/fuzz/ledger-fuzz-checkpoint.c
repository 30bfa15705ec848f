/* Fuzz target: tlog-checkpoint bodies (and signed checkpoint notes). */
#include <stdlib.h>
#include <string.h>

#include "ledger-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parse a checkpoint body, or a note carrying one; format must round-trip the first 3 lines. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct ledger_checkpoint c;
        struct ledger_note n;
        const char *text = (const char *)data;
        size_t len = size;
        if (size && ledger_note_parse((const char *)data, size, &n) == 0) {
                text = n.text;
                len = n.text_len;
        }
        if (!len || ledger_checkpoint_parse(text, len, &c) < 0)
                return 0;
        struct mg_buf b;
        buf_init(&b, LEDGER_MAX_NOTE);
        ledger_checkpoint_format(&c, &b);
        if (b.err || b.len > len || memcmp(b.data, text, b.len) != 0)
                abort(); /* the parsed fields must be exactly the text's first lines */
        buf_free(&b);
        return 0;
}
