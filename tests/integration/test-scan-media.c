/* Integration test: build one real medium (tests/media/mkmedia.sh CASE) and check that the scan
 * gives the verdict and detections tests/media/cases.tsv expects, with one thread and with
 * several (the parallel pipeline must give identical results), and a well-formed JSON report.
 * Usage: test-scan-media CASE */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan-util.h"
#include "testutil.h"

static const char *case_name;

struct expect {
        char verdict[32];
        char *dets; /* the manifest's detection column */
};

/* Read the case's line from the manifest. */
static void load_case(const char *name, struct expect *ret)
{
        char *tsv = tu_read_file(MG_SOURCE_DIR "/tests/media/cases.tsv", NULL);
        assert_non_null(tsv);
        char *save = NULL;
        for (char *line = strtok_r(tsv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (line[0] == '#')
                        continue;
                char *f[3] = {0};
                char *fs = NULL;
                int n = 0;
                for (char *t = strtok_r(line, "\t", &fs); t && n < 3; t = strtok_r(NULL, "\t", &fs))
                        f[n++] = t;
                if (n < 2 || strcmp(f[0], name) != 0)
                        continue;
                snprintf(ret->verdict, sizeof(ret->verdict), "%s", f[1]);
                ret->dets = strdup(n > 2 ? f[2] : "-");
                free(tsv);
                return;
        }
        free(tsv);
        fail_msg("case %s is not in cases.tsv", name);
}

/* Decode the manifest's PATH escapes (\n \t \\ \xHH) in place. */
static void unescape(char *p)
{
        char *w = p;
        while (*p) {
                if (p[0] == '\\' && p[1] == 'n') {
                        *w++ = '\n';
                        p += 2;
                } else if (p[0] == '\\' && p[1] == 't') {
                        *w++ = '\t';
                        p += 2;
                } else if (p[0] == '\\' && p[1] == '\\') {
                        *w++ = '\\';
                        p += 2;
                } else if (p[0] == '\\' && p[1] == 'x' && p[2] && p[3]) {
                        char hex[3] = {p[2], p[3], 0};
                        *w++ = (char)strtoul(hex, NULL, 16);
                        p += 4;
                } else {
                        *w++ = *p++;
                }
        }
        *w = 0;
}

/* Find a detection not yet used that matches "SIG,REGION,PATH,STREAM,DELETED"; mark it used. */
static bool find_detection(const struct scan_result *r, const char *exp, bool *used)
{
        char buf[8192];
        snprintf(buf, sizeof(buf), "%s", exp);
        char *f[5] = {0};
        char *save = NULL;
        int n = 0;
        for (char *t = strtok_r(buf, ",", &save); t && n < 5; t = strtok_r(NULL, ",", &save))
                f[n++] = t;
        if (n != 5)
                fail_msg("malformed expectation '%s'", exp);
        unescape(f[2]);
        for (size_t i = 0; i < r->n; i++) {
                if (used[i])
                        continue;
                char line[8192];
                snprintf(line, sizeof(line), "%s", r->lines[i]);
                char *g[6] = {0};
                char *s2 = line;
                for (int k = 0; k < 5; k++)
                        g[k] = strsep(&s2, "|");
                g[5] = s2;
                if (!g[5])
                        continue;
                if (strcmp(g[0], f[1]) != 0)
                        continue;
                if (strcmp(f[2], "*") != 0 && strcmp(g[2], f[2]) != 0)
                        continue;
                if (strcmp(g[3], f[3]) != 0 || strcmp(g[4], f[4]) != 0)
                        continue;
                if (strncmp(g[5], f[0], strlen(f[0])) != 0)
                        continue;
                /* one detection per signature name family: mark every line of this object
                 * with the same prefix (hash and body signatures of one file) as used */
                used[i] = true;
                return true;
        }
        return false;
}

/* Print what the scan found, to make a failure readable. */
static void dump(const struct scan_result *r)
{
        printf("# verdict %s, %zu detections, %zu reasons\n", mg_verdict_to_string(r->verdict),
               r->n, r->n_reasons);
        for (size_t i = 0; i < r->n; i++)
                printf("#   %s\n", r->lines[i]);
        if (r->json)
                printf("# %s", r->json);
}

/* The case: verdict, detections, parallel equivalence, JSON. */
static void test_case(void **state)
{
        struct expect ex = {0};
        load_case(case_name, &ex);
        char *dir = tu_mkdtemp("media");
        char *img = scan_test_build(case_name, dir);
        if (!img) {
                free(ex.dets);
                tu_rmtree(dir);
                skip();
        }
        struct mg_scan_engine *e = scan_test_engine();
        struct scan_result one, par;
        scan_test_run(e, img, 1, 600, &one);
        assert_int_equal(one.rc, 0);
        dump(&one);
        assert_string_equal(mg_verdict_to_string(one.verdict), ex.verdict);
        if (strcmp(ex.verdict, "clean") == 0)
                assert_int_equal(one.n, 0);
        if (strcmp(ex.dets, "-") != 0) {
                bool *used = calloc(one.n + 1, sizeof(bool));
                char *save = NULL;
                for (char *d = strtok_r(ex.dets, ";", &save); d; d = strtok_r(NULL, ";", &save))
                        if (!find_detection(&one, d, used))
                                fail_msg("expected detection not found: %s", d);
                free(used);
        } else if (strcmp(ex.verdict, "infected") != 0) {
                /* no signature matched: only heuristic alerts may be listed */
                for (size_t i = 0; i < one.n; i++)
                        assert_non_null(strstr(one.lines[i], "|Heuristics."));
        }

        /* the parallel pipeline must find exactly the same */
        scan_test_run(e, img, 3, 600, &par);
        assert_int_equal(par.rc, 0);
        assert_int_equal(par.verdict, one.verdict);
        assert_int_equal(par.n, one.n);
        for (size_t i = 0; i < one.n; i++)
                assert_string_equal(par.lines[i], one.lines[i]);
        assert_int_equal(par.n_reasons, one.n_reasons);

        /* the report is valid JSON whatever the names on the medium */
        char *jp = NULL;
        assert_true(asprintf(&jp, "%s/report.json", dir) > 0);
        assert_int_equal(tu_write_file(jp, one.json, strlen(one.json)), 0);
        assert_int_equal(tu_sh("python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
                               "assert d[\"verdict\"]==sys.argv[2]' '%s' '%s'",
                               jp, ex.verdict),
                         0);
        free(jp);
        scan_result_free(&one);
        scan_result_free(&par);
        mg_scan_engine_unref(e);
        free(img);
        free(ex.dets);
        tu_rmtree(dir);
}

int main(int argc, char **argv)
{
        if (argc != 2) {
                fprintf(stderr, "usage: %s CASE\n", argv[0]);
                return 2;
        }
        case_name = argv[1];
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_case)};
        return cmocka_run_group_tests_name(case_name, tests, NULL, NULL);
}
