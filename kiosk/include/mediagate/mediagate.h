/* mediagate: common definitions shared by every module of libmediagate. */
#ifndef MEDIAGATE_MEDIAGATE_H
#define MEDIAGATE_MEDIAGATE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Log levels, as syslog's. The library never prints; it hands messages to a callback. */
enum mg_log_level {
        MG_LOG_ERR = 3,
        MG_LOG_WARNING = 4,
        MG_LOG_NOTICE = 5,
        MG_LOG_INFO = 6,
        MG_LOG_DEBUG = 7,
};

/* A log sink. @msg is already escaped: it never carries raw bytes from a medium. */
typedef void (*mg_log_fn)(void *userdata, enum mg_log_level level, const char *msg);

/* Return the library version string, e.g. "0.1.0". */
const char *mg_version(void);

#ifdef __cplusplus
}
#endif
#endif
