/* The wipe certificate: NIST SP 800-88 fields as JSON, and a PDF with a QR code to sign. */
#include <hpdf.h>
#include <inttypes.h>
#include <mediagate/escape.h>
#include <openssl/evp.h>
#include <qrencode.h>
#include <string.h>

#include "json.h"
#include "wipe-internal.h"

#define WIPE_NOTE_FLASH                                                                            \
        "Flash media keep remapped and spare cells that no overwrite reaches; for data that "      \
        "needs Purge, destroy the medium."

/* Format @t as ISO 8601 UTC. */
static void wipe_iso_time(time_t t, char out[32])
{
        struct tm tm;
        if (!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
                snprintf(out, 32, "?");
}

/* Hex-encode @n bytes into @out (2n+1 bytes). */
static void wipe_hex(const uint8_t *p, size_t n, char *out)
{
        static const char d[] = "0123456789abcdef";
        for (size_t i = 0; i < n; i++) {
                out[2 * i] = d[p[i] >> 4];
                out[2 * i + 1] = d[p[i] & 15];
        }
        out[2 * n] = '\0';
}

/* Total bytes written and verified over the passes. */
static void wipe_totals(const struct mg_wipe *w, uint64_t *written, uint64_t *verified,
                        uint64_t *mismatched)
{
        *written = *verified = *mismatched = 0;
        for (unsigned i = 0; i < w->n_passes; i++) {
                *written += w->passes[i].bytes_written;
                *verified += w->passes[i].bytes_verified;
                *mismatched += w->passes[i].mismatched_blocks;
        }
}

/* The capacity the verification confirmed: a verified tagged pass confirms every block is where it
 * claims to be; a fake medium confirms only its real size; zeroes alone confirm nothing. */
static uint64_t wipe_verified_capacity(const struct mg_wipe *w)
{
        if (w->fake_capacity)
                return w->usable_size;
        if (w->n_passes >= 1 && !strcmp(w->passes[0].pattern, "random") && w->passes[0].verify_ok)
                return w->size;
        return 0;
}

/* Verification result of a pass as text. */
static const char *wipe_pass_result(const struct wipe_pass *p)
{
        if (p->verify == MG_WIPE_VERIFY_OFF || (!p->verified && !p->mismatched_blocks))
                return "not performed";
        return p->verify_ok ? "passed" : "failed";
}

/* Overall verification result. */
static const char *wipe_verify_result(const struct mg_wipe *w)
{
        if (w->verify == MG_WIPE_VERIFY_OFF)
                return "not performed";
        bool any = false;
        for (unsigned i = 0; i < w->n_passes; i++) {
                const char *r = wipe_pass_result(&w->passes[i]);
                if (!strcmp(r, "failed"))
                        return "failed";
                if (!strcmp(r, "passed"))
                        any = true;
        }
        if (!any)
                return "not performed";
        return w->status == WIPE_ERASED ? "passed" : "incomplete";
}

/* The disposition the record asks for. */
static const char *wipe_disposition(const struct mg_wipe *w)
{
        if (w->status == WIPE_ERASED)
                return "cleared: may be reused or released";
        if (w->fake_capacity)
                return "fake-capacity medium: destroy it";
        if (w->write_errors || w->read_errors || w->n_ranges_total)
                return "not sanitized: bad ranges remain, the medium must be destroyed";
        return "not sanitized: wipe again or destroy the medium";
}

/* Write a trusted-or-NULL string value. */
static void wipe_kv_untrusted(struct mg_json *j, const char *key, const char *s)
{
        json_key(j, key);
        if (s)
                json_str_untrusted(j, s, strlen(s));
        else
                json_null(j);
}

/* The certificate as JSON into @b; @ledger: with the ledger fields. */
int wipe_cert_json(const struct mg_wipe *w, struct mg_buf *b, bool ledger)
{
        if (w->status == WIPE_NONE)
                return -EINVAL;
        struct mg_json j;
        json_init(&j, b);
        char t0[32], t1[32], id[17];
        wipe_iso_time(w->start, t0);
        wipe_iso_time(w->end, t1);
        snprintf(id, sizeof(id), "%016" PRIx64, w->stream.wipe_id);
        uint64_t written, verified, mismatched;
        wipe_totals(w, &written, &verified, &mismatched);

        json_obj_begin(&j);
        json_kv_str(&j, "certificate", "media sanitization record (NIST SP 800-88)");
        json_kv_str(&j, "status", w->status == WIPE_ERASED ? "erased" : "failed");
        json_key(&j, "failure");
        if (w->failure[0])
                json_str(&j, w->failure);
        else
                json_null(&j);
        json_kv_str(&j, "disposition", wipe_disposition(w));
        json_kv_str(&j, "method", mg_wipe_method_to_string(w->method));
        json_kv_str(&j, "sanitization_level", "clear");
        json_kv_str(&j, "technique",
                    w->method == MG_WIPE_ZERO
                        ? "overwrite with zeroes"
                        : (w->method == MG_WIPE_RANDOM
                               ? "overwrite with a keyed AES-256-CTR stream, every 4096-byte block "
                                 "tagged with its number"
                               : "overwrite with a keyed AES-256-CTR stream (tagged blocks, "
                                 "verified), then with zeroes"));
        json_kv_str(&j, "verify", mg_wipe_verify_to_string(w->verify));
        json_kv_str(&j, "tool", "mediagate wipe");
        json_kv_str(&j, "tool_version", mg_version());
        json_kv_str(&j, "wipe_id", id);

        json_key(&j, "device");
        json_obj_begin(&j);
        wipe_kv_untrusted(&j, "target", w->target);
        json_kv_str(&j, "media_type", w->media_type);
        wipe_kv_untrusted(&j, "vendor", w->vendor);
        wipe_kv_untrusted(&j, "model", w->model);
        wipe_kv_untrusted(&j, "serial", w->serial);
        json_kv_uint(&j, "reported_capacity", w->size);
        json_kv_uint(&j, "verified_capacity", wipe_verified_capacity(w));
        json_kv_uint(&j, "logical_sector_size", w->lbs);
        json_kv_uint(&j, "physical_sector_size", w->pbs);
        json_kv_bool(&j, "removable", w->removable);
        json_kv_bool(&j, "usb", w->is_usb);
        json_kv_str(&j, "io", w->direct ? "O_DIRECT" : "buffered, fdatasync, cache dropped");
        json_obj_end(&j);

        json_kv_str(&j, "start_time", t0);
        json_kv_str(&j, "end_time", t1);
        json_kv_double(&j, "seconds", w->seconds);
        json_kv_uint(&j, "bytes_written", written);
        json_kv_uint(&j, "bytes_verified", verified);
        json_kv_uint(&j, "verified_capacity", wipe_verified_capacity(w));
        double wsec = 0;
        for (unsigned i = 0; i < w->n_passes; i++)
                wsec += w->passes[i].write_seconds;
        json_kv_double(&j, "write_throughput", wsec > 0 ? (double)written / wsec : 0);
        json_kv_uint(&j, "errors", w->write_errors + w->read_errors + mismatched);
        json_kv_uint(&j, "write_errors", w->write_errors);
        json_kv_uint(&j, "read_errors", w->read_errors);
        json_kv_uint(&j, "mismatched_blocks", mismatched);
        json_kv_bool(&j, "fake_capacity", w->fake_capacity);
        json_key(&j, "usable_capacity");
        if (w->fake_capacity)
                json_uint(&j, w->usable_size);
        else
                json_null(&j);

        json_key(&j, "bad_ranges");
        json_arr_begin(&j);
        for (size_t i = 0; i < w->n_ranges; i++) {
                const struct wipe_range *r = &w->ranges[i];
                json_obj_begin(&j);
                json_kv_uint(&j, "offset", r->off);
                json_kv_uint(&j, "length", r->len);
                json_kv_str(&j, "kind",
                            r->op == 'w' ? "write" : (r->op == 'r' ? "read" : "verify"));
                if (r->err)
                        json_kv_str(&j, "error", strerror(r->err));
                json_obj_end(&j);
        }
        json_arr_end(&j);
        json_kv_uint(&j, "bad_ranges_total", w->n_ranges_total);

        json_key(&j, "verification");
        json_obj_begin(&j);
        /* A medium too small to sample is verified in full. */
        json_kv_str(&j, "method",
                    mg_wipe_verify_to_string(w->n_passes ? w->passes[0].verify : w->verify));
        json_kv_str(&j, "requested", mg_wipe_verify_to_string(w->verify));
        json_kv_str(&j, "result", wipe_verify_result(w));
        json_kv_str(&j, "read_back",
                    w->direct ? "O_DIRECT (not from the page cache)"
                              : "buffered after the cache was dropped");
        json_obj_end(&j);

        json_key(&j, "passes");
        json_arr_begin(&j);
        for (unsigned i = 0; i < w->n_passes; i++) {
                const struct wipe_pass *p = &w->passes[i];
                json_obj_begin(&j);
                json_kv_str(&j, "pattern", p->pattern);
                json_kv_uint(&j, "bytes_written", p->bytes_written);
                json_kv_double(&j, "write_seconds", p->write_seconds);
                json_kv_str(&j, "verify", mg_wipe_verify_to_string(p->verify));
                json_kv_str(&j, "verify_result", wipe_pass_result(p));
                json_kv_uint(&j, "bytes_verified", p->bytes_verified);
                json_kv_double(&j, "verify_seconds", p->verify_seconds);
                json_kv_uint(&j, "subsections", p->subsections);
                json_kv_uint(&j, "mismatched_blocks", p->mismatched_blocks);
                json_kv_uint(&j, "aliased_blocks", p->aliased_blocks);
                json_obj_end(&j);
        }
        json_arr_end(&j);

        json_key(&j, "crypto_erase");
        json_obj_begin(&j);
        json_kv_bool(&j, "luks", w->luks);
        json_kv_bool(&j, "performed", w->luks && w->keyslots_destroyed > 0 && !w->luks_err);
        if (w->luks) {
                json_kv_str(&j, "luks_type", w->luks_type);
                json_kv_int(&j, "keyslots_destroyed", w->keyslots_destroyed);
                if (w->luks_err)
                        json_kv_str(&j, "error", strerror(-w->luks_err));
        }
        json_kv_bool(&j, "kiosk_provisioned", (w->flags & MG_WIPE_KIOSK_PROVISIONED) != 0);
        json_kv_bool(&j, "counts_as_sanitization",
                     w->luks && w->keyslots_destroyed > 0 && !w->luks_err &&
                         (w->flags & MG_WIPE_KIOSK_PROVISIONED));
        json_kv_str(&j, "note",
                    "crypto-erase counts only where the kiosk itself provisioned the LUKS "
                    "volume; here it precedes, and does not replace, the verified overwrite");
        json_obj_end(&j);

        wipe_kv_untrusted(&j, "operator", w->operator_name);
        json_kv_str(&j, "notes", WIPE_NOTE_FLASH);
        if (!ledger) {
                json_obj_end(&j);
                return b->err;
        }
        json_key(&j, "ledger");
        if (w->ledger_done) {
                char leaf[65];
                wipe_hex(w->ledger_leaf, 32, leaf);
                json_obj_begin(&j);
                json_kv_uint(&j, "index", w->ledger_index);
                json_kv_str(&j, "leaf_hash", leaf);
                json_obj_end(&j);
        } else {
                json_null(&j);
        }
        if (w->ledger_err)
                json_kv_str(&j, "ledger_error", strerror(-w->ledger_err));
        json_obj_end(&j);
        return b->err;
}

/* The outcome of a finished wipe. */
int mg_wipe_get_result(const struct mg_wipe *w, struct mg_wipe_result *ret)
{
        if (!w || w->status == WIPE_NONE || !ret)
                return -EINVAL;
        uint64_t written, verified, mismatched;
        wipe_totals(w, &written, &verified, &mismatched);
        *ret = (struct mg_wipe_result){
            .erased = w->status == WIPE_ERASED,
            .failure = w->failure,
            .reported_capacity = w->size,
            .verified_capacity = wipe_verified_capacity(w),
            .fake_capacity = w->fake_capacity,
            .usable_capacity = w->fake_capacity ? w->usable_size : 0,
            .bytes_written = written,
            .bytes_verified = verified,
            .errors = w->write_errors + w->read_errors + mismatched,
            .seconds = w->seconds,
        };
        return 0;
}

/* The record as certificate JSON. */
int mg_wipe_certificate_json(const struct mg_wipe *w, char **ret)
{
        struct mg_buf b;
        buf_init(&b, 1 << 20);
        int r = wipe_cert_json(w, &b, true);
        if (r < 0) {
                buf_free(&b);
                return r;
        }
        buf_puts(&b, "\n");
        char *s = buf_steal(&b);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* SHA-256 of the certificate JSON as hex. */
int wipe_cert_digest(const struct mg_wipe *w, char hex[65])
{
        struct mg_buf b;
        buf_init(&b, 1 << 20);
        int r = wipe_cert_json(w, &b, false);
        if (r < 0) {
                buf_free(&b);
                return r;
        }
        uint8_t md[32];
        unsigned mdlen = 0;
        if (EVP_Digest(b.data, b.len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
                buf_free(&b);
                return -EIO;
        }
        buf_free(&b);
        wipe_hex(md, 32, hex);
        return 0;
}

/* libharu error sink: keep the first error. */
static void wipe_pdf_error(HPDF_STATUS error_no, HPDF_STATUS detail_no, void *user_data)
{
        HPDF_STATUS *e = user_data;
        if (!*e)
                *e = error_no ? error_no : 1;
}

/* A PDF-safe copy of untrusted text: escaped, non-ASCII shown as '?', cut to @max chars. */
static void wipe_pdf_text(const char *s, char *out, size_t max)
{
        _cleanup_free_ char *e = mg_escape_str(s ? s : "");
        const char *src = e ? e : "?";
        size_t i = 0;
        for (; src[i] && i + 1 < max; i++)
                out[i] =
                    (unsigned char)src[i] < 0x20 || (unsigned char)src[i] > 0x7e ? '?' : src[i];
        out[i] = '\0';
}

/* PDF page drawing state. */
struct wipe_pdf {
        HPDF_Page page;
        HPDF_Font font, bold;
        float y;
};

/* Draw one "label: value" line. */
static void wipe_pdf_row(struct wipe_pdf *pd, const char *label, const char *value)
{
        HPDF_Page_BeginText(pd->page);
        HPDF_Page_SetFontAndSize(pd->page, pd->bold, 9);
        HPDF_Page_TextOut(pd->page, 50, pd->y, label);
        HPDF_Page_SetFontAndSize(pd->page, pd->font, 9);
        HPDF_Page_TextOut(pd->page, 190, pd->y, value);
        HPDF_Page_EndText(pd->page);
        pd->y -= 13;
}

/* Draw a row with a formatted value. */
static void wipe_pdf_rowf(struct wipe_pdf *pd, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void wipe_pdf_rowf(struct wipe_pdf *pd, const char *label, const char *fmt, ...)
{
        char v[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(v, sizeof(v), fmt, ap);
        va_end(ap);
        wipe_pdf_row(pd, label, v);
}

/* Draw a QR code of @text with its top-left corner at (@x, @top). */
static int wipe_pdf_qr(HPDF_Page page, const char *text, float x, float top, float module)
{
        QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
        if (!q)
                return -errno ? -errno : -EINVAL;
        int wd = q->width;
        HPDF_Page_SetRGBFill(page, 0, 0, 0);
        for (int r = 0; r < wd && r < 200; r++)
                for (int c = 0; c < wd && c < 200; c++)
                        if (q->data[r * wd + c] & 1)
                                HPDF_Page_Rectangle(page, x + (float)c * module,
                                                    top - (float)(r + 1) * module, module, module);
        HPDF_Page_Fill(page);
        QRcode_free(q);
        return 0;
}

/* The text the QR code carries: the ledger entry, or the certificate digest. */
static int wipe_qr_text(const struct mg_wipe *w, char *out, size_t outsz)
{
        if (w->ledger_done) {
                char leaf[65];
                wipe_hex(w->ledger_leaf, 32, leaf);
                snprintf(out, outsz, "mediagate-ledger:WIPE:index=%" PRIu64 ":leaf=%s",
                         w->ledger_index, leaf);
                return 0;
        }
        char d[65];
        int r = wipe_cert_digest(w, d);
        if (r < 0)
                return r;
        snprintf(out, outsz, "mediagate-wipe:unrecorded:sha256=%s", d);
        return 0;
}

/* Write the certificate as a PDF. */
int mg_wipe_certificate_pdf(const struct mg_wipe *w, const char *path)
{
        if (!w || w->status == WIPE_NONE || !path)
                return -EINVAL;
        HPDF_STATUS err = 0;
        HPDF_Doc pdf = HPDF_New(wipe_pdf_error, &err);
        if (!pdf)
                return -ENOMEM;
        HPDF_SetCompressionMode(pdf, HPDF_COMP_ALL);
        struct wipe_pdf pd = {.page = HPDF_AddPage(pdf)};
        HPDF_Page_SetSize(pd.page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
        pd.font = HPDF_GetFont(pdf, "Helvetica", NULL);
        pd.bold = HPDF_GetFont(pdf, "Helvetica-Bold", NULL);
        float h = HPDF_Page_GetHeight(pd.page);
        char t0[32], t1[32], s1[128], s2[128], s3[128], s4[200], qr[160];
        uint64_t written, verified, mismatched;
        wipe_totals(w, &written, &verified, &mismatched);
        wipe_iso_time(w->start, t0);
        wipe_iso_time(w->end, t1);

        HPDF_Page_BeginText(pd.page);
        HPDF_Page_SetFontAndSize(pd.page, pd.bold, 15);
        HPDF_Page_TextOut(pd.page, 50, h - 60, "Certificate of Media Sanitization");
        HPDF_Page_SetFontAndSize(pd.page, pd.font, 9);
        HPDF_Page_TextOut(pd.page, 50, h - 76, "NIST SP 800-88 record - mediagate wipe");
        HPDF_Page_EndText(pd.page);
        int r = wipe_qr_text(w, qr, sizeof(qr));
        if (r == 0)
                r = wipe_pdf_qr(pd.page, qr, 430, h - 40, 2.0f);
        if (r < 0) {
                HPDF_Free(pdf);
                return r;
        }

        pd.y = h - 110;
        wipe_pdf_row(&pd, "Result", w->status == WIPE_ERASED ? "ERASED" : "FAILED");
        if (w->failure[0]) {
                wipe_pdf_text(w->failure, s4, 70);
                wipe_pdf_row(&pd, "Failure", s4);
        }
        wipe_pdf_row(&pd, "Disposition", wipe_disposition(w));
        pd.y -= 6;
        wipe_pdf_text(w->vendor, s1, 60);
        wipe_pdf_row(&pd, "Manufacturer", s1);
        wipe_pdf_text(w->model, s2, 60);
        wipe_pdf_row(&pd, "Model", s2);
        wipe_pdf_text(w->serial, s3, 70);
        wipe_pdf_row(&pd, "Serial number", s3);
        wipe_pdf_text(w->target, s4, 70);
        wipe_pdf_row(&pd, "Target", s4);
        wipe_pdf_row(&pd, "Media type", w->media_type);
        wipe_pdf_row(&pd, "Property number", "______________________________ (by hand)");
        wipe_pdf_row(&pd, "Source (owner)", "______________________________ (by hand)");
        wipe_pdf_rowf(&pd, "Reported capacity", "%" PRIu64 " bytes", w->size);
        wipe_pdf_rowf(&pd, "Verified capacity", "%" PRIu64 " bytes%s", wipe_verified_capacity(w),
                      w->fake_capacity ? " (FAKE CAPACITY)" : "");
        pd.y -= 6;
        wipe_pdf_row(&pd, "Sanitization level", "Clear");
        wipe_pdf_row(&pd, "Method", mg_wipe_method_to_string(w->method));
        wipe_pdf_row(&pd, "Technique",
                     w->method == MG_WIPE_ZERO
                         ? "overwrite, zeroes"
                         : "overwrite, keyed AES-256-CTR, tagged 4 KiB blocks");
        wipe_pdf_rowf(&pd, "Tool", "mediagate wipe %s", mg_version());
        wipe_pdf_rowf(&pd, "Verification", "%s: %s", mg_wipe_verify_to_string(w->verify),
                      wipe_verify_result(w));
        wipe_pdf_rowf(&pd, "Start / end (UTC)", "%s / %s", t0, t1);
        wipe_pdf_rowf(&pd, "Bytes written / verified", "%" PRIu64 " / %" PRIu64, written, verified);
        wipe_pdf_rowf(&pd, "Errors",
                      "%" PRIu64 " (write %" PRIu64 ", read %" PRIu64 ", mismatched blocks %" PRIu64
                      ")",
                      w->write_errors + w->read_errors + mismatched, w->write_errors,
                      w->read_errors, mismatched);
        for (size_t i = 0; i < w->n_ranges && i < 8; i++)
                wipe_pdf_rowf(&pd, i ? "" : "Bad ranges", "%s at %" PRIu64 " +%" PRIu64,
                              w->ranges[i].op == 'w'   ? "write"
                              : w->ranges[i].op == 'r' ? "read"
                                                       : "verify",
                              w->ranges[i].off, w->ranges[i].len);
        if (w->n_ranges_total > 8)
                wipe_pdf_rowf(&pd, "", "... %" PRIu64 " ranges in all", w->n_ranges_total);
        wipe_pdf_rowf(&pd, "Duration", "%.1f s", w->seconds);
        if (w->luks)
                wipe_pdf_rowf(&pd, "Crypto-erase",
                              "%s: %d keyslot(s) destroyed (counts only "
                              "if the kiosk provisioned it)",
                              w->luks_type, w->keyslots_destroyed);
        wipe_pdf_text(w->operator_name ? w->operator_name : "-", s1, 60);
        wipe_pdf_row(&pd, "Operator", s1);
        if (w->ledger_done)
                wipe_pdf_rowf(&pd, "Ledger entry", "WIPE #%" PRIu64 " (QR: index and leaf hash)",
                              w->ledger_index);
        else
                wipe_pdf_row(&pd, "Ledger entry", "not recorded (QR: SHA-256 of the JSON record)");
        pd.y -= 6;
        wipe_pdf_row(&pd, "Note",
                     "Flash keeps spare cells no overwrite reaches: for Purge, destroy.");

        /* Signature blocks. */
        const char *who[2] = {"Sanitized by", "Verified by"};
        for (int k = 0; k < 2; k++) {
                float y = 150 - (float)k * 70;
                HPDF_Page_BeginText(pd.page);
                HPDF_Page_SetFontAndSize(pd.page, pd.bold, 10);
                HPDF_Page_TextOut(pd.page, 50, y + 30, who[k]);
                HPDF_Page_SetFontAndSize(pd.page, pd.font, 8);
                HPDF_Page_TextOut(pd.page, 50, y, "Name / title");
                HPDF_Page_TextOut(pd.page, 230, y, "Date / location");
                HPDF_Page_TextOut(pd.page, 400, y, "Signature");
                HPDF_Page_EndText(pd.page);
                for (int c = 0; c < 3; c++) {
                        HPDF_Page_MoveTo(pd.page, 50 + (float)c * 175, y + 12);
                        HPDF_Page_LineTo(pd.page, 210 + (float)c * 175, y + 12);
                }
                HPDF_Page_Stroke(pd.page);
        }
        if (!err)
                HPDF_SaveToFile(pdf, path);
        HPDF_Free(pdf);
        return err ? -EIO : 0;
}
