/* The base layer: buffers, cursors, keyed files, JSON, tables, formatting. */
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/cursor.h"
#include "base/sys/fileio.h"
#include "base/fmt.h"
#include "base/json.h"
#include "base/keyed.h"
#include "base/opt.h"
#include "base/table.h"

static void buf_caps_and_grows(void **state)
{
    (void)state;
    struct buf b = BUF_INIT(10);
    assert_string_equal(buf_cstr(&b), "");
    assert_int_equal(buf_puts(&b, "hello"), 0);
    assert_int_equal(buf_printf(&b, "%d", 12345), 0);
    assert_string_equal(buf_cstr(&b), "hello12345");
    /* at the cap: one more byte fails and the contents stay */
    assert_int_equal(buf_putc(&b, 'x'), -EFBIG);
    assert_int_equal(buf_printf(&b, "%s", "yy"), -EFBIG);
    assert_string_equal(buf_cstr(&b), "hello12345");
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    size_t len;
    char *s = buf_detach(&b, &len);
    assert_string_equal(s, "");
    free(s);
    struct buf big = BUF_INIT(1 << 20);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(buf_printf(&big, "%04d", i % 10000), 0);
    assert_int_equal(big.len, 40000);
    assert_memory_equal(big.data + 39996, "9999", 4);
    buf_release(&big);
}

static void cursor_numbers(void **state)
{
    (void)state;
    struct cursor c = cursor_make("18446744073709551615 18446744073709551616 -42 +7 x", 50);
    uint64_t u;
    int64_t i;
    assert_int_equal(cursor_u64(&c, &u), 0);
    assert_true(u == UINT64_MAX);
    cursor_skip_blanks(&c);
    const char *before = c.p;
    assert_int_equal(cursor_u64(&c, &u), -ERANGE);
    assert_ptr_equal(c.p, before); /* a failed parse does not move */
    c.p += 20;
    cursor_skip_blanks(&c);
    assert_int_equal(cursor_i64(&c, &i), 0);
    assert_int_equal(i, -42);
    cursor_skip_blanks(&c);
    assert_int_equal(cursor_i64(&c, &i), 0);
    assert_int_equal(i, 7);
    cursor_skip_blanks(&c);
    assert_int_equal(cursor_u64(&c, &u), -EINVAL);

    struct cursor h = cursor_make("0x24280ca(GFP_X)", 16);
    assert_int_equal(cursor_hex_u64(&h, &u), 0);
    assert_int_equal(u, 0x24280ca);
    assert_int_equal(cursor_peek(&h), '(');

    struct cursor p = cursor_make("12.34 0.5 7", 11);
    assert_int_equal(cursor_centi(&p, &u), 0);
    assert_int_equal(u, 1234);
    cursor_skip_blanks(&p);
    assert_int_equal(cursor_centi(&p, &u), 0);
    assert_int_equal(u, 50);
    cursor_skip_blanks(&p);
    assert_int_equal(cursor_centi(&p, &u), 0);
    assert_int_equal(u, 700);

    /* cursor_decimal: digits past the places cut; the largest value that fits, and one more
     * thousandth that does not (the cursor stays where it was) */
    struct cursor m = cursor_make("1.23456 18446744073709551.615 18446744073709551.616", 51);
    assert_int_equal(cursor_decimal(&m, 3, &u), 0);
    assert_int_equal(u, 1234);
    cursor_skip_blanks(&m);
    assert_int_equal(cursor_decimal(&m, 3, &u), 0);
    assert_true(u == UINT64_MAX);
    cursor_skip_blanks(&m);
    const char *at = m.p;
    assert_int_equal(cursor_decimal(&m, 3, &u), -ERANGE);
    assert_ptr_equal(m.p, at);

    assert_int_equal(parse_u64("12a", &u), -EINVAL);
    assert_int_equal(parse_u64("", &u), -EINVAL);
    int v;
    assert_int_equal(parse_int_range("-1000", -1000, 1000, &v), 0);
    assert_int_equal(v, -1000);
    assert_int_equal(parse_int_range("1001", -1000, 1000, &v), -ERANGE);
}

static void cursor_spans(void **state)
{
    (void)state;
    const char *text = "a b\tc\nsecond line\r\nthird";
    struct cursor c = cursor_make(text, strlen(text));
    assert_span_equal(cursor_word(&c), "a");
    cursor_skip_blanks(&c);
    assert_span_equal(cursor_word(&c), "b");
    assert_span_equal(cursor_line(&c), "\tc");
    assert_span_equal(span_trim(cursor_line(&c)), "second line");
    assert_span_equal(cursor_line(&c), "third");
    assert_true(cursor_eof(&c));
    struct span s = {text, strlen(text)};
    assert_ptr_equal(span_find(s, "line"), text + 13);
    assert_null(span_find(s, "nope"));
    struct cursor k = cursor_make("key=value,next", 14);
    assert_true(cursor_skip_past(&k, "="));
    assert_span_equal(cursor_until(&k, ','), "value");
    assert_span_equal(cursor_rest(&k), "next");
}

struct kv_out {
    uint64_t a, b, c, missing;
};

static void keyed_by_key_not_position(void **state)
{
    (void)state;
    static const struct keyed_field f[] = {
        KEYED_FIELD(struct kv_out, "Alpha", a, 1024),
        KEYED_FIELD(struct kv_out, "Beta(x)", b, 1),
        KEYED_FIELD(struct kv_out, "gamma", c, 1),
        KEYED_FIELD(struct kv_out, "Missing", missing, 1),
    };
    const char *text = "gamma 7\nUnknown: 99 kB\nBeta(x):   12\nAlpha:  3 kB\nbroken\n\nAlpha2: 5\n";
    struct kv_out o;
    memset(&o, 0xff, sizeof(o));
    assert_int_equal(keyed_parse(text, strlen(text), f, 4, &o), 3);
    assert_int_equal(o.a, 3072);
    assert_int_equal(o.b, 12);
    assert_int_equal(o.c, 7);
    assert_true(o.missing == OPT_ABSENT);
}

static void json_escapes_and_structure(void **state)
{
    (void)state;
    struct buf b = BUF_INIT(4096);
    struct json j;
    json_init(&j, &b, false);
    json_obj_begin(&j);
    json_kv_str(&j, "s", "q\"b\\n\n\t\x01");
    json_kv_strn(&j, "bad", "a\xff\xc3(z\xe2\x82\xac", 8);
    json_key(&j, "arr");
    json_arr_begin(&j);
    json_i64(&j, -5);
    json_u64(&j, UINT64_MAX - 1);
    json_null(&j);
    json_bool(&j, true);
    json_arr_end(&j);
    json_key(&j, "empty");
    json_obj_begin(&j);
    json_obj_end(&j);
    json_kv_u64_opt(&j, "absent", OPT_ABSENT);
    json_kv_double(&j, "d", 1.5, 2);
    json_obj_end(&j);
    assert_int_equal(json_error(&j), 0);
    assert_string_equal(buf_cstr(&b),
                        "{\"s\":\"q\\\"b\\\\n\\n\\t\\u0001\",\"bad\":\"a\xef\xbf\xbd\xef\xbf\xbd(z\xe2\x82\xac\","
                        "\"arr\":[-5,18446744073709551614,null,true],\"empty\":{},\"absent\":null,"
                        "\"d\":1.50}");
    buf_release(&b);

    /* pretty output */
    json_init(&j, &b, true);
    json_obj_begin(&j);
    json_key(&j, "a");
    json_arr_begin(&j);
    json_u64(&j, 1);
    json_arr_end(&j);
    json_obj_end(&j);
    assert_string_equal(buf_cstr(&b), "{\n  \"a\": [\n    1\n  ]\n}\n");
    buf_release(&b);

    /* unbalanced close is reported, not written past */
    json_init(&j, &b, false);
    json_obj_end(&j);
    assert_int_equal(json_error(&j), -EINVAL);
    buf_release(&b);
}

/* a run of optional numbers from a table: the table's order, not the struct's; absent is null */
static void json_u64_fields_from_table(void **state)
{
    (void)state;
    struct sample {
        char tag;
        uint64_t a;
        uint32_t pad;
        uint64_t b, c;
    } x = {'x', 7, 0, OPT_ABSENT, UINT64_MAX - 1};
    static const struct json_u64_field fields[] = {
        JSON_U64_FIELD(struct sample, "c", c),
        JSON_U64_FIELD(struct sample, "a", a),
        JSON_U64_FIELD(struct sample, "b", b),
    };
    struct buf b = BUF_INIT(256);
    struct json j;
    json_init(&j, &b, false);
    json_obj_begin(&j);
    json_kv_u64_fields(&j, &x, fields, 3);
    json_kv_u64_fields(&j, &x, fields, 0);
    json_obj_end(&j);
    assert_int_equal(json_error(&j), 0);
    assert_string_equal(buf_cstr(&b), "{\"c\":18446744073709551614,\"a\":7,\"b\":null}");
    buf_release(&b);
}

static void json_rejects_overlong_utf8(void **state)
{
    (void)state;
    const unsigned char overlong[] = {0xc0, 0xaf};
    const unsigned char surrogate[] = {0xed, 0xa0, 0x80};
    const unsigned char ok4[] = {0xf0, 0x9f, 0x98, 0x80};
    assert_int_equal(utf8_valid_len(overlong, 2), 0);
    assert_int_equal(utf8_valid_len(surrogate, 3), 0);
    assert_int_equal(utf8_valid_len(ok4, 4), 4);
    assert_int_equal(utf8_valid_len(ok4, 3), 0);
}

static void fmt_sizes(void **state)
{
    (void)state;
    char s[FMT_SIZE_LEN], l[24], d[24];
    assert_string_equal(fmt_size(s, 0), "0");
    assert_string_equal(fmt_size(s, 512), "512B");
    assert_string_equal(fmt_size(s, 4096), "4.0K");
    assert_string_equal(fmt_size(s, 151552), "148K");
    assert_string_equal(fmt_size(s, 10188 * 1024), "9.9M");
    assert_string_equal(fmt_size(s, 10199 * 1024), "10M");
    assert_string_equal(fmt_size(s, 1023ull * 1024 * 1024 + 1000 * 1024), "1.0G");
    assert_string_equal(fmt_size(s, 24ull << 30), "24G");
    assert_string_equal(fmt_size_long(l, 100ull << 20), "100 MiB");
    assert_string_equal(fmt_duration(d, 0.25), "250ms");
    assert_string_equal(fmt_duration(d, 4.2), "4.2s");
    assert_string_equal(fmt_duration(d, 190), "3m10s");
    assert_string_equal(fmt_duration(d, 7500), "2h05m");
}

static void table_aligns_sanitises_and_cuts(void **state)
{
    (void)state;
    static const struct table_column cols[] = {{"N", TABLE_RIGHT}, {"NAME", TABLE_LEFT},
                                               {"CMD", TABLE_LEFT}};
    struct table t;
    table_init(&t, cols, 3);
    table_add_row(&t);
    table_cellf(&t, 0, "%d", 7);
    table_cell_text(&t, 1, "a\x1b[31m\n", 7);
    table_cellf(&t, 2, "run");
    table_add_row(&t);
    table_cellf(&t, 0, "%d", 1234);
    table_cell_text(&t, 1, "h\xc3\xa9", 3); /* é: one column */
    table_cellf(&t, 2, "a long command line");
    struct buf out = BUF_INIT(4096);
    struct table_render_opts o = {.header = true};
    assert_int_equal(table_render(&t, &o, &out), 0);
    assert_string_equal(buf_cstr(&out), "   N  NAME     CMD\n"
                                         "   7  a?[31m?  run\n"
                                         "1234  h\xc3\xa9       a long command line\n");
    buf_reset(&out);
    o.max_width = 20;
    o.header = false;
    o.color = true;
    table_cell_style(&t, 0, STYLE_RED);
    assert_int_equal(table_render(&t, &o, &out), 0);
    assert_string_equal(buf_cstr(&out), "   7  a?[31m?  run\n"
                                         "\033[31m1234\033[0m  h\xc3\xa9       a lon\n");
    buf_release(&out);
    table_release(&t);
}

static void virtual_file_reads_grow(void **state)
{
    (void)state;
    char path[] = "/tmp/oomwarden-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char big[20000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)('a' + i % 26);
    assert_int_equal(write(fd, big, sizeof(big)), (ssize_t)sizeof(big));
    close(fd);
    struct buf b = BUF_INIT(1 << 20);
    assert_int_equal(read_virtual_at(AT_FDCWD, path, &b), (int)sizeof(big));
    assert_memory_equal(b.data, big, sizeof(big));
    struct buf small = BUF_INIT(100);
    assert_int_equal(read_virtual_at(AT_FDCWD, path, &small), -EFBIG);
    assert_int_equal(read_virtual_at(AT_FDCWD, "/nonexistent/oomwarden", &b), -ENOENT);
    unlink(path);
    buf_release(&b);
    buf_release(&small);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_caps_and_grows),
        cmocka_unit_test(cursor_numbers),
        cmocka_unit_test(cursor_spans),
        cmocka_unit_test(keyed_by_key_not_position),
        cmocka_unit_test(json_escapes_and_structure),
        cmocka_unit_test(json_u64_fields_from_table),
        cmocka_unit_test(json_rejects_overlong_utf8),
        cmocka_unit_test(fmt_sizes),
        cmocka_unit_test(table_aligns_sanitises_and_cuts),
        cmocka_unit_test(virtual_file_reads_grow),
    };
    return cmocka_run_group_tests_name("base", tests, NULL, NULL);
}
