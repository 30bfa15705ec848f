/* mediagate scan: placeholder until the scan module lands. */
#include "cli.h"

/* Report that the scan command is not built yet. */
int cli_scan(int argc, char **argv)
{
        cli_error("'scan' is not implemented yet");
        return CLI_EXIT_SOFTWARE;
}
