/* The wipe module's hook into the ledger: the WIPE entry. Built without the ledger library, the
 * hook records nothing and the certificate says so. */
#include <inttypes.h>
#include <string.h>

#include "wipe-internal.h"

/* MG_WIPE_HAVE_LEDGER is set by kiosk/modules/wipe.cmake when the ledger module is built in. */
#if defined(MG_WIPE_HAVE_LEDGER)
#include <mediagate/ledger.h>
#define WIPE_HAVE_LEDGER 1
#else
#define WIPE_HAVE_LEDGER 0
#endif

/* Check before the wipe that the ledger can be opened. */
int wipe_ledger_check(struct mg_wipe *w)
{
        if (!w->ledger_path)
                return 0;
#if WIPE_HAVE_LEDGER
        struct mg_ledger *l = NULL;
        int r = mg_ledger_open(w->ledger_path, 0, &l);
        if (r < 0) {
                wipe_log(w, MG_LOG_ERR, "ledger cannot be opened: %s", strerror(-r));
                return r;
        }
        mg_ledger_close(l);
        return 0;
#else
        wipe_log(w, MG_LOG_WARNING,
                 "built without the ledger library: the WIPE entry will not be recorded");
        return 0;
#endif
}

/* Record the WIPE entry in the ledger. */
int wipe_ledger_record(struct mg_wipe *w)
{
#if WIPE_HAVE_LEDGER
        char digest[65];
        int r = wipe_cert_digest(w, digest);
        if (r < 0)
                goto out;
        char size[32], written[32], verified[32], errors[32], id[17];
        uint64_t wr = 0, ve = 0, mm = 0;
        for (unsigned i = 0; i < w->n_passes; i++) {
                wr += w->passes[i].bytes_written;
                ve += w->passes[i].bytes_verified;
                mm += w->passes[i].mismatched_blocks;
        }
        snprintf(size, sizeof(size), "%" PRIu64, w->size);
        snprintf(written, sizeof(written), "%" PRIu64, wr);
        snprintf(verified, sizeof(verified), "%" PRIu64, ve);
        snprintf(errors, sizeof(errors), "%" PRIu64, w->write_errors + w->read_errors + mm);
        snprintf(id, sizeof(id), "%016" PRIx64, w->stream.wipe_id);
        const struct mg_ledger_field f[] = {
            {"status", w->status == WIPE_ERASED ? "erased" : "failed"},
            {"failure", w->failure},
            {"method", mg_wipe_method_to_string(w->method)},
            {"verify", mg_wipe_verify_to_string(w->verify)},
            {"target", w->target},
            {"media_type", w->media_type},
            {"vendor", w->vendor},
            {"model", w->model},
            {"serial", w->serial},
            {"reported_capacity", size},
            {"bytes_written", written},
            {"bytes_verified", verified},
            {"errors", errors},
            {"fake_capacity", w->fake_capacity ? "true" : "false"},
            {"crypto_erase", w->luks ? "luks keyslots destroyed" : "none"},
            {"wipe_id", id},
            {"record_sha256", digest},
        };
        struct mg_ledger *l = NULL;
        r = mg_ledger_open(w->ledger_path, 0, &l);
        if (r < 0)
                goto out;
        uint64_t index = 0;
        uint8_t leaf[32];
        r = mg_ledger_append(l, "WIPE", w->operator_name ? w->operator_name : "", f,
                             MG_ARRAY_SIZE(f), &index, leaf);
        mg_ledger_close(l);
        if (r < 0)
                goto out;
        w->ledger_done = true;
        w->ledger_index = index;
        memcpy(w->ledger_leaf, leaf, 32);
out:
        w->ledger_err = r < 0 ? r : 0;
        return r;
#else
        w->ledger_err = -EOPNOTSUPP;
        return -EOPNOTSUPP;
#endif
}
