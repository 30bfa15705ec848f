/* Fuzz target: vkey and private key texts. */
#include <stdlib.h>
#include <string.h>

#include "ledger-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parse as a vkey and as a private key; accepted keys must format back to the same text. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct ledger_vkey v;
        struct ledger_skey s;
        struct mg_buf b;
        if (size > 4096)
                return 0;
        if (ledger_vkey_parse((const char *)data, size, &v) == 0) {
                buf_init(&b, 4096);
                ledger_vkey_format(&v, &b);
                if (b.len != size || memcmp(b.data, data, size) != 0)
                        abort();
                buf_free(&b);
        }
        if (ledger_skey_parse((const char *)data, size, &s) == 0) {
                buf_init(&b, 4096);
                ledger_skey_format(&s, &b);
                size_t n = size;
                while (n > 0 && data[n - 1] == '\n')
                        n--;
                if (b.len != n || memcmp(b.data, data, n) != 0)
                        abort();
                buf_free(&b);
                ledger_skey_wipe(&s);
        }
        return 0;
}
