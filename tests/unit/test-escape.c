/* Tests for escaping of untrusted strings and the JSON writer. */
#include <mediagate/escape.h>
#include <string.h>

#include "json.h"
#include "testutil.h"

/* Printable UTF-8 passes unchanged. */
static void test_plain(void **state)
{
        char *e = mg_escape_str("/Docs/r\xc3\xa9sum\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac.txt");
        assert_string_equal(e, "/Docs/r\xc3\xa9sum\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac.txt");
        free(e);
}

/* Control bytes, ANSI escapes and invalid UTF-8 are made visible. */
static void test_controls(void **state)
{
        char *e = mg_escape("a\x1b[2Jb\nc\xff\xc0\x80\\", 12, 0);
        assert_string_equal(e, "a\\x1b[2Jb\\x0ac\\xff\\xc0\\x80\\\\");
        free(e);
        /* embedded NUL */
        e = mg_escape("x\0y", 3, 0);
        assert_string_equal(e, "x\\x00y");
        free(e);
}

/* Bidi overrides (Trojan-source names) and zero-width characters are made visible. */
static void test_bidi(void **state)
{
        char *e = mg_escape_str("invoice\xe2\x80\xaegpj.exe\xe2\x80\x8b");
        assert_string_equal(e, "invoice\\u{202e}gpj.exe\\u{200b}");
        free(e);
        /* surrogates encoded in UTF-8 are invalid */
        e = mg_escape_str("\xed\xa0\x80");
        assert_string_equal(e, "\\xed\\xa0\\x80");
        free(e);
}

/* Output is cut at the limit and marked. */
static void test_limit(void **state)
{
        char big[10000];
        memset(big, 'A', sizeof(big));
        char *e = mg_escape(big, sizeof(big), 100);
        assert_int_equal(strlen(e), 103);
        assert_string_equal(e + 100, "...");
        free(e);
}

/* JSON writer output is well formed and escapes untrusted strings. */
static void test_json(void **state)
{
        struct mg_buf b;
        struct mg_json j;
        buf_init(&b, 0);
        json_init(&j, &b);
        json_obj_begin(&j);
        json_kv_str(&j, "a", "q\"x");
        json_key(&j, "p");
        json_str_untrusted(&j, "/x\n\xff", 4);
        json_key(&j, "l");
        json_arr_begin(&j);
        json_int(&j, -1);
        json_uint(&j, 2);
        json_null(&j);
        json_bool(&j, true);
        json_arr_end(&j);
        json_obj_end(&j);
        char *s = buf_steal(&b);
        assert_string_equal(s,
                            "{\"a\":\"q\\\"x\",\"p\":\"/x\\\\x0a\\\\xff\",\"l\":[-1,2,null,true]}");
        free(s);
}

/* A buffer refuses to grow past its limit and remembers the error. */
static void test_buf_limit(void **state)
{
        struct mg_buf b;
        buf_init(&b, 16);
        assert_int_equal(buf_puts(&b, "0123456789"), 0);
        assert_int_equal(buf_puts(&b, "0123456789"), -E2BIG);
        assert_int_equal(buf_puts(&b, "x"), -E2BIG);
        assert_null(buf_steal(&b));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_plain), cmocka_unit_test(test_controls),
            cmocka_unit_test(test_bidi),  cmocka_unit_test(test_limit),
            cmocka_unit_test(test_json),  cmocka_unit_test(test_buf_limit),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
