/* Replays a committed seed corpus through a libFuzzer entry point (normal builds, as a ctest). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Run every file of LEDGER_CORPUS through the target; also a few synthetic edge inputs. */
static void test_replay(void **state)
{
        DIR *d = opendir(LEDGER_CORPUS);
        assert_non_null(d);
        struct dirent *de;
        unsigned n = 0;
        while ((de = readdir(d)) != NULL && n < 10000) {
                if (de->d_name[0] == '.')
                        continue;
                char *path = NULL;
                assert_true(asprintf(&path, "%s/%s", LEDGER_CORPUS, de->d_name) > 0);
                size_t len = 0;
                char *data = tu_read_file(path, &len);
                assert_non_null(data);
                /* Every prefix of each seed too: truncated inputs are the common attack. */
                for (size_t cut = 0; cut <= len; cut += 1 + len / 64)
                        LLVMFuzzerTestOneInput((const uint8_t *)data, cut);
                LLVMFuzzerTestOneInput((const uint8_t *)data, len);
                free(data);
                free(path);
                n++;
        }
        closedir(d);
        assert_true(n >= 3); /* the corpus is committed: an empty one is a broken checkout */
        LLVMFuzzerTestOneInput(NULL, 0);
        static const uint8_t junk[] = {0xe2, 0x80, 0x94, ' ', '\n', '\n', 0, 0xff, '+'};
        LLVMFuzzerTestOneInput(junk, sizeof(junk));
}

int main(void)
{
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_replay)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}
