/* Fuzz target: inclusion proof blocks (the output of 'mediagate ledger prove'). */
#include <stdlib.h>
#include <string.h>

#include "ledger-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parse a proof block; it must round-trip and verifying it against anything must be safe. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct ledger_proof p;
        size_t used = 0;
        if (!size || ledger_proof_parse((const char *)data, size, &p, &used) < 0)
                return 0;
        if (used > size || p.n > LEDGER_MAX_PROOF || p.index >= p.size)
                abort();
        struct mg_buf b;
        buf_init(&b, LEDGER_MAX_NOTE);
        ledger_proof_format(&p, &b);
        if (b.err || b.len != used || memcmp(b.data, data, used) != 0)
                abort();
        buf_free(&b);
        ledger_hash root = {0};
        (void)ledger_merkle_verify_inclusion(p.index, p.size, p.leaf, p.path, p.n, root);
        (void)ledger_merkle_verify_consistency(p.index, p.size, p.leaf, root, p.path, p.n);
        return 0;
}
