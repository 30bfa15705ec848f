/* mediagate wipe: placeholder until the wipe module lands. */
#include "cli.h"

/* Report that the wipe command is not built yet. */
int cli_wipe(int argc, char **argv)
{
        cli_error("'wipe' is not implemented yet");
        return CLI_EXIT_SOFTWARE;
}
