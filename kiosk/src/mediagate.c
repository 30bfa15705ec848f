/* Library-wide definitions. */
#include <mediagate/mediagate.h>

/* Return the library version. */
const char *mg_version(void)
{
        return MG_VERSION;
}
