#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

void json_init(struct json *j, struct buf *out, bool pretty)
{
    *j = (struct json){.out = out, .pretty = pretty};
    j->first[0] = true;
}

int json_error(const struct json *j)
{
    return j->err;
}

static void put(struct json *j, const char *s, size_t n)
{
    if (j->err)
        return;
    struct buf *b = j->out;
    if (b->cap - b->len > n) {
        /* room already there (cap never passes max + 1): explain writes megabytes of small
         * pieces */
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
        return;
    }
    int r = buf_append(b, s, n);
    if (r < 0)
        j->err = r;
}

static void puts_(struct json *j, const char *s)
{
    put(j, s, strlen(s));
}

static void newline_indent(struct json *j)
{
    /* one append for the newline and the indentation (explain writes megabytes of JSON) */
    static const char spaces[] = "\n                                                                "
                                 "  ";
    if (!j->pretty)
        return;
    size_t n = 1 + 2 * (size_t)(j->depth > 0 ? j->depth : 0);
    if (n > sizeof(spaces) - 1)
        n = sizeof(spaces) - 1;
    put(j, spaces, n);
}

/* Decimal digits of v, written backwards from `end`; returns the first. */
static char *u64_digits(char *end, uint64_t v)
{
    char *p = end;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

/* Separator and indentation before a value or a key. */
static void before_item(struct json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->depth > 0) {
        if (!j->first[j->depth])
            put(j, ",", 1);
        newline_indent(j);
    }
    j->first[j->depth] = false;
}

static void open_(struct json *j, char ch)
{
    before_item(j);
    put(j, &ch, 1);
    if (j->depth + 1 >= JSON_MAX_DEPTH) {
        j->err = -E2BIG;
        return;
    }
    j->depth++;
    j->first[j->depth] = true;
}

static void close_(struct json *j, char ch)
{
    if (j->depth <= 0) {
        j->err = -EINVAL;
        return;
    }
    bool empty = j->first[j->depth];
    j->depth--;
    if (!empty)
        newline_indent(j);
    put(j, &ch, 1);
    if (j->depth == 0 && j->pretty)
        put(j, "\n", 1);
}

void json_obj_begin(struct json *j)
{
    open_(j, '{');
}
void json_obj_end(struct json *j)
{
    close_(j, '}');
}
void json_arr_begin(struct json *j)
{
    open_(j, '[');
}
void json_arr_end(struct json *j)
{
    close_(j, ']');
}

size_t utf8_valid_len(const unsigned char *s, size_t n)
{
    if (n == 0)
        return 0;
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    /* reject overlong forms, surrogates and values past U+10FFFF */
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* How many bytes from p on need no escaping: printable ASCII other than '"' and '\\' (eight at a
 * time while there are eight) */
static size_t plain_run(const unsigned char *p, const unsigned char *end)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    const unsigned char *q = p;
    while (end - q >= 8) {
        uint64_t x;
        memcpy(&x, q, sizeof(x));
        uint64_t quote = x ^ (ones * '"'), bslash = x ^ (ones * '\\');
        /* nonzero when a byte is < 0x20 or >= 0x80, or is '"' or '\\' (exact as a whole) */
        uint64_t special = ((x - ones * 0x20) & ~x) | x | ((quote - ones) & ~quote) |
                           ((bslash - ones) & ~bslash);
        if (special & highs)
            break;
        q += 8;
    }
    while (q < end && *q >= 0x20 && *q < 0x80 && *q != '"' && *q != '\\')
        q++;
    return (size_t)(q - p);
}

int json_escape_into(struct buf *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + n;
    int r = 0;
    while (p < end && r == 0) {
        /* copy the longest run that needs no escaping in one go */
        const unsigned char *run = p;
        p += plain_run(p, end);
        if (p > run)
            r = buf_append(out, run, (size_t)(p - run));
        if (p >= end || r < 0)
            break;
        unsigned char c = *p;
        if (c == '"') {
            r = buf_append(out, "\\\"", 2);
            p++;
        } else if (c == '\\') {
            r = buf_append(out, "\\\\", 2);
            p++;
        } else if (c == '\n') {
            r = buf_append(out, "\\n", 2);
            p++;
        } else if (c == '\t') {
            r = buf_append(out, "\\t", 2);
            p++;
        } else if (c == '\r') {
            r = buf_append(out, "\\r", 2);
            p++;
        } else if (c < 0x20) {
            r = buf_printf(out, "\\u%04x", c);
            p++;
        } else {
            size_t l = utf8_valid_len(p, (size_t)(end - p));
            if (l) {
                r = buf_append(out, p, l);
                p += l;
            } else {
                r = buf_append(out, "\xef\xbf\xbd", 3); /* U+FFFD */
                p++;
            }
        }
    }
    return r;
}

void json_key(struct json *j, const char *key)
{
    before_item(j);
    put(j, "\"", 1);
    if (!j->err) {
        int r = json_escape_into(j->out, key, strlen(key));
        if (r < 0)
            j->err = r;
    }
    put(j, j->pretty ? "\": " : "\":", j->pretty ? 3 : 2);
    j->after_key = true;
}

void json_strn(struct json *j, const char *s, size_t n)
{
    before_item(j);
    put(j, "\"", 1);
    if (!j->err) {
        int r = json_escape_into(j->out, s, n);
        if (r < 0)
            j->err = r;
    }
    put(j, "\"", 1);
}

void json_str(struct json *j, const char *s)
{
    if (!s) {
        json_null(j);
        return;
    }
    json_strn(j, s, strlen(s));
}

void json_u64(struct json *j, uint64_t v)
{
    char tmp[24];
    char *p = u64_digits(tmp + sizeof(tmp), v);
    before_item(j);
    put(j, p, (size_t)(tmp + sizeof(tmp) - p));
}

void json_i64(struct json *j, int64_t v)
{
    char tmp[24];
    /* the magnitude as unsigned: -INT64_MIN does not fit an int64 */
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char *p = u64_digits(tmp + sizeof(tmp), m);
    if (v < 0)
        *--p = '-';
    before_item(j);
    put(j, p, (size_t)(tmp + sizeof(tmp) - p));
}

void json_double(struct json *j, double v, int decimals)
{
    if (!isfinite(v)) {
        json_null(j);
        return;
    }
    char tmp[64];
    int n = snprintf(tmp, sizeof(tmp), "%.*f", decimals, v);
    before_item(j);
    put(j, tmp, (size_t)n);
}

void json_bool(struct json *j, bool v)
{
    before_item(j);
    puts_(j, v ? "true" : "false");
}

void json_null(struct json *j)
{
    before_item(j);
    puts_(j, "null");
}

void json_kv_obj_begin(struct json *j, const char *k)
{
    json_key(j, k);
    json_obj_begin(j);
}

void json_kv_arr_begin(struct json *j, const char *k)
{
    json_key(j, k);
    json_arr_begin(j);
}

void json_kv_str(struct json *j, const char *k, const char *v)
{
    json_key(j, k);
    json_str(j, v);
}

void json_kv_strv(struct json *j, const char *k, char *const *v, size_t n)
{
    json_key(j, k);
    json_arr_begin(j);
    for (size_t i = 0; i < n; i++)
        json_str(j, v[i]);
    json_arr_end(j);
}
void json_kv_strn(struct json *j, const char *k, const char *v, size_t n)
{
    json_key(j, k);
    json_strn(j, v, n);
}
void json_kv_u64(struct json *j, const char *k, uint64_t v)
{
    json_key(j, k);
    json_u64(j, v);
}
void json_kv_i64(struct json *j, const char *k, int64_t v)
{
    json_key(j, k);
    json_i64(j, v);
}
void json_kv_bool(struct json *j, const char *k, bool v)
{
    json_key(j, k);
    json_bool(j, v);
}
void json_kv_null(struct json *j, const char *k)
{
    json_key(j, k);
    json_null(j);
}
void json_kv_double(struct json *j, const char *k, double v, int decimals)
{
    json_key(j, k);
    json_double(j, v, decimals);
}

void json_kv_u64_opt(struct json *j, const char *k, uint64_t v)
{
    json_key(j, k);
    if (v == UINT64_MAX)
        json_null(j);
    else
        json_u64(j, v);
}

void json_kv_i64_opt(struct json *j, const char *k, int64_t v)
{
    json_key(j, k);
    if (v == INT64_MIN)
        json_null(j);
    else
        json_i64(j, v);
}

void json_kv_u64_fields(struct json *j, const void *obj, const struct json_u64_field *fields,
                        size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t v;
        memcpy(&v, (const char *)obj + fields[i].offset, sizeof(v));
        json_kv_u64_opt(j, fields[i].key, v);
    }
}

void json_raw(struct json *j, const char *text, size_t n)
{
    const char *p = text, *end = text + n;
    while (p < end && !j->err) {
        char c = *p;
        if (c == '{' || c == '[') {
            open_(j, c);
            p++;
        } else if (c == '}' || c == ']') {
            close_(j, c);
            p++;
        } else if (c == ',' || c == ':' || c == ' ' || c == '\n') {
            p++;
        } else if (c == '"') {
            const char *s = p++;
            while (p < end && *p != '"')
                p += *p == '\\' && p + 1 < end ? 2 : 1;
            if (p < end)
                p++;
            const char *q = p;
            while (q < end && (*q == ' ' || *q == '\n'))
                q++;
            if (q < end && *q == ':') {
                before_item(j);
                put(j, s, (size_t)(p - s));
                put(j, j->pretty ? ": " : ":", j->pretty ? 2 : 1);
                j->after_key = true;
            } else {
                before_item(j);
                put(j, s, (size_t)(p - s));
            }
        } else {
            const char *s = p;
            while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n')
                p++;
            before_item(j);
            put(j, s, (size_t)(p - s));
        }
    }
}
