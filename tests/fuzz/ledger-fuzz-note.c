/* Fuzz target: C2SP signed notes (and their signature check, cosignatures). */
#include <stdlib.h>
#include <string.h>

#include "ledger-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parse a note; if it parses, its parts must be consistent and verification must not crash. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char vkey[] =
            "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
        struct ledger_vkey k;
        struct ledger_note n;
        if (ledger_vkey_parse(vkey, sizeof(vkey) - 1, &k) < 0)
                abort();
        if (size && ledger_note_parse((const char *)data, size, &n) == 0) {
                if (n.text_len == 0 || n.text_len >= size || n.text[n.text_len - 1] != '\n' ||
                    n.n_sigs == 0 || n.n_sigs > LEDGER_MAX_SIGS)
                        abort();
                for (size_t i = 0; i < n.n_sigs; i++)
                        if (!ledger_name_valid(n.sigs[i].name, n.sigs[i].name_len))
                                abort();
                (void)ledger_note_verify(&n, &k);
                struct ledger_vkey c = k;
                uint64_t ts;
                c.type = LEDGER_SIG_COSIG;
                (void)ledger_cosig_verify(&n, &c, &ts);
        }
        return 0;
}
