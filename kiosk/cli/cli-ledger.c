/* mediagate ledger: placeholder until the ledger module lands. */
#include "cli.h"

/* Report that the ledger command is not built yet. */
int cli_ledger(int argc, char **argv)
{
        cli_error("'ledger' is not implemented yet");
        return CLI_EXIT_SOFTWARE;
}
