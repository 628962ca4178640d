#include "journal.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/opt.h"

void journal_entry_init(struct journal_entry *e)
{
    memset(e, 0, sizeof(*e));
    e->realtime_us = OPT_ABSENT;
    e->source_monotonic_us = OPT_ABSENT;
    e->source_realtime_us = OPT_ABSENT;
}

void journal_entry_release(struct journal_entry *e)
{
    free(e->message);
    journal_entry_init(e);
}

/* for the next entry: the message buffer is kept */
static void reset(struct journal_entry *e)
{
    char *m = e->message;
    size_t cap = e->message_cap;
    journal_entry_init(e);
    e->message = m;
    e->message_cap = cap;
    e->message_len = 0;
    if (m)
        m[0] = '\0';
}

static bool is_key_char(unsigned char c, bool first)
{
    return (c >= 'A' && c <= 'Z') || c == '_' || (!first && c >= '0' && c <= '9');
}

static bool span_is(const char *k, size_t kn, const char *s)
{
    return kn == strlen(s) && memcmp(k, s, kn) == 0;
}

/* a decimal microsecond count; OPT_ABSENT when it is not one */
static uint64_t parse_us(const char *v, size_t n)
{
    uint64_t x = 0;
    if (n == 0 || n > 19)
        return OPT_ABSENT;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return OPT_ABSENT;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    return x;
}

static int set_message(struct journal_entry *e, const char *v, size_t n)
{
    if (n + 1 > e->message_cap) {
        size_t cap = n + 1 < 256 ? 256 : n + 1;
        char *m = realloc(e->message, cap);
        if (!m)
            return -ENOMEM;
        e->message = m;
        e->message_cap = cap;
    }
    if (n)
        memcpy(e->message, v, n);
    e->message[n] = '\0';
    e->message_len = n;
    e->has_message = true;
    return 0;
}

/* One field of an entry (the first value of a field given more than once wins). */
static int field(struct journal_entry *e, const char *k, size_t kn, const char *v, size_t vn,
                 bool binary)
{
    if (span_is(k, kn, "MESSAGE")) {
        if (e->has_message)
            return 0;
        e->message_binary = binary;
        return set_message(e, v, vn);
    }
    if (span_is(k, kn, "_TRANSPORT")) {
        if (e->transport == JOURNAL_UNKNOWN)
            e->transport = span_is(v, vn, "kernel") ? JOURNAL_KERNEL : JOURNAL_OTHER;
    } else if (span_is(k, kn, "SYSLOG_IDENTIFIER")) {
        if (!e->identifier[0]) {
            size_t n = vn < sizeof(e->identifier) - 1 ? vn : sizeof(e->identifier) - 1;
            memcpy(e->identifier, v, n);
            e->identifier[n] = '\0';
        }
    } else if (span_is(k, kn, "__REALTIME_TIMESTAMP")) {
        if (e->realtime_us == OPT_ABSENT)
            e->realtime_us = parse_us(v, vn);
    } else if (span_is(k, kn, "_SOURCE_REALTIME_TIMESTAMP")) {
        if (e->source_realtime_us == OPT_ABSENT)
            e->source_realtime_us = parse_us(v, vn);
    } else if (span_is(k, kn, "_SOURCE_MONOTONIC_TIMESTAMP")) {
        if (e->source_monotonic_us == OPT_ABSENT)
            e->source_monotonic_us = parse_us(v, vn);
    }
    return 0;
}

/* what the fields say together */
static void settle(struct journal_entry *e)
{
    if (e->source_realtime_us != OPT_ABSENT)
        e->realtime_us = e->source_realtime_us;
    e->kernel = e->transport == JOURNAL_KERNEL ||
                (e->transport == JOURNAL_UNKNOWN && strcmp(e->identifier, "kernel") == 0);
    /* the kernel's stamp only from the kernel's record: a userspace _SOURCE_MONOTONIC is
     * another clock's */
    if (!e->kernel)
        e->source_monotonic_us = OPT_ABSENT;
}

/* ---- JSON ---- */

/* A value as bytes: a string; an array of byte numbers (not printable UTF-8); the first of an
 * array of values (a field given more than once). False for null and anything else. */
static bool json_value_bytes(struct json_object *v, char *scratch, size_t cap, const char **p,
                             size_t *n, bool *binary)
{
    *binary = false;
    if (json_object_is_type(v, json_type_string)) {
        *p = json_object_get_string(v);
        *n = (size_t)json_object_get_string_len(v);
        return true;
    }
    if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0)
        return false;
    struct json_object *first = json_object_array_get_idx(v, 0);
    if (!json_object_is_type(first, json_type_int))
        return json_value_bytes(first, scratch, cap, p, n, binary);
    size_t len = json_object_array_length(v);
    if (len > cap)
        len = cap;
    for (size_t i = 0; i < len; i++) {
        struct json_object *b = json_object_array_get_idx(v, i);
        if (!json_object_is_type(b, json_type_int))
            return false;
        int64_t x = json_object_get_int64(b);
        if (x < 0 || x > 255)
            return false;
        scratch[i] = (char)x;
    }
    *p = scratch;
    *n = len;
    *binary = true;
    return true;
}

/* The one JSON value that is all of buf[0..len) (blanks around it allowed), or NULL. */
static struct json_object *json_whole(const char *buf, size_t len)
{
    if (len > INT32_MAX)
        return NULL;
    struct json_tokener *tok = json_tokener_new();
    if (!tok)
        return NULL;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    struct json_object *o = json_tokener_parse_ex(tok, buf, (int)len);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!o)
        return NULL;
    for (; end < len; end++)
        if (buf[end] != ' ' && buf[end] != '\t' && buf[end] != '\r' && buf[end] != '\n') {
            json_object_put(o);
            return NULL;
        }
    return o;
}

bool journal_json_start(const char *buf, size_t len)
{
    const char *s = buf, *end = buf + len;
    while (s < end && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
        s++;
    if (s >= end || *s++ != '{')
        return false;
    while (s < end && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
        s++;
    if (s >= end || *s++ != '"' || s >= end || !is_key_char((unsigned char)*s, true))
        return false;
    while (s < end && is_key_char((unsigned char)*s, false))
        s++;
    if (s >= end || *s++ != '"')
        return false;
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    return s < end && *s == ':';
}

int journal_json_parse(const char *buf, size_t len, struct journal_entry *e)
{
    reset(e);
    struct json_object *o = json_whole(buf, len);
    if (!o)
        return -EINVAL;
    if (!json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return -EINVAL;
    }
    /* a byte array is at most as long as its text ("1," per byte) */
    size_t cap = len / 2 + 1;
    char *scratch = malloc(cap);
    if (!scratch) {
        json_object_put(o);
        return -ENOMEM;
    }
    bool journal = false;
    int r = 0;
    json_object_object_foreach(o, key, v)
    {
        size_t kn = strlen(key);
        if (kn == 0 || !is_key_char((unsigned char)key[0], true))
            continue;
        if (span_is(key, kn, "__CURSOR") || span_is(key, kn, "__REALTIME_TIMESTAMP") ||
            span_is(key, kn, "MESSAGE"))
            journal = true;
        if (span_is(key, kn, "MESSAGE") && !v) {
            e->message_hidden = true;
            continue;
        }
        const char *p;
        size_t n;
        bool binary;
        if (v && json_value_bytes(v, scratch, cap, &p, &n, &binary) &&
            (r = field(e, key, kn, p, n, binary)) < 0)
            break;
    }
    free(scratch);
    json_object_put(o);
    if (r < 0)
        return r;
    if (!journal)
        return -EINVAL;
    settle(e);
    return 0;
}

/* ---- export ---- */

bool journal_export_start(const char *buf, size_t len)
{
    const char *s = buf, *end = buf + len;
    while (s < end && *s == '\n')
        s++;
    if (end - s < 3 || s[0] != '_' || s[1] != '_')
        return false;
    for (s += 2; s < end && is_key_char((unsigned char)*s, false); s++)
        ;
    return s < end && *s == '=';
}

static uint64_t le64(const char *p)
{
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--)
        x = x << 8 | (unsigned char)p[i];
    return x;
}

int journal_export_next(const char *buf, size_t len, bool eof, struct journal_entry *e,
                        size_t *used)
{
    reset(e);
    size_t pos = 0;
    bool any = false;
    *used = 0;
    for (;;) {
        if (pos >= len) {
            if (eof && any)
                break;
            return 0;
        }
        const char *line = buf + pos;
        const char *nl = memchr(line, '\n', len - pos);
        if (nl == line) {
            pos++;
            if (any)
                break;
            continue;
        }
        if (!nl && !eof)
            return 0;
        const char *le = nl ? nl : buf + len;
        const char *eq = memchr(line, '=', (size_t)(le - line));
        const char *ke = eq ? eq : le;
        if (ke == line || !is_key_char((unsigned char)line[0], true))
            return -EINVAL;
        for (const char *k = line + 1; k < ke; k++)
            if (!is_key_char((unsigned char)*k, false))
                return -EINVAL;
        int r;
        if (eq) {
            r = field(e, line, (size_t)(ke - line), eq + 1, (size_t)(le - eq - 1), false);
            pos = (size_t)(le - buf) + (nl ? 1 : 0);
        } else {
            /* a binary field: its length, its bytes, a newline */
            if (!nl)
                return -EINVAL;
            size_t at = (size_t)(nl + 1 - buf);
            if (len - at < 8)
                return eof ? -EINVAL : 0;
            uint64_t size = le64(buf + at);
            at += 8;
            if (size > len - at || len - at - size < 1)
                return eof ? -EINVAL : 0;
            if (buf[at + size] != '\n')
                return -EINVAL;
            r = field(e, line, (size_t)(ke - line), buf + at, (size_t)size, true);
            pos = at + (size_t)size + 1;
        }
        if (r < 0)
            return r;
        any = true;
    }
    *used = pos;
    settle(e);
    return 1;
}

/* ---- verbose ---- */

/* a hexadecimal number of at most 16 digits, up to `end` or the first byte that is not one */
static bool hex_us(const char *p, const char *end, uint64_t *ret)
{
    uint64_t x = 0;
    const char *q = p;
    for (; q < end && q - p < 16; q++) {
        int d = *q >= '0' && *q <= '9' ? *q - '0' : *q >= 'a' && *q <= 'f' ? *q - 'a' + 10 : -1;
        if (d < 0)
            break;
        x = x << 4 | (uint64_t)d;
    }
    *ret = x;
    return q > p;
}

bool journal_verbose_header(const char *line, size_t len, uint64_t *realtime_us)
{
    const char *end = line + len;
    if (len && end[-1] == '\r')
        end--;
    if (end - line < 20 || end[-1] != ']' || line[0] == ' ')
        return false;
    /* the entry's cursor: "[s=...;i=...;b=...;m=...;t=<realtime, hex>;x=...]" */
    const char *c = NULL;
    for (const char *q = line; q + 4 <= end; q++)
        if (q[0] == ' ' && q[1] == '[' && q[2] == 's' && q[3] == '=') {
            c = q + 2;
            break;
        }
    if (!c)
        return false;
    *realtime_us = OPT_ABSENT;
    for (const char *q = c; q + 2 < end; q++)
        if ((q[-1] == ';') && q[0] == 't' && q[1] == '=') {
            uint64_t t;
            if (hex_us(q + 2, end, &t))
                *realtime_us = t;
            break;
        }
    return true;
}

void journal_verbose_begin(struct journal_entry *e, uint64_t realtime_us)
{
    reset(e);
    e->realtime_us = realtime_us;
}

int journal_verbose_field(struct journal_entry *e, const char *line, size_t len)
{
    const char *end = line + len;
    if (len && end[-1] == '\r')
        end--;
    if (end - line < 5 || memcmp(line, "    ", 4) != 0)
        return -EINVAL;
    const char *k = line + 4;
    if (!is_key_char((unsigned char)*k, true)) {
        /* a continuation line of a multi-line MESSAGE, indented under its value */
        if (!e->has_message || e->message_binary)
            return -EINVAL;
        const char *t = k;
        while (t < end && *t == ' ' && t - line < 12)
            t++;
        size_t old = e->message_len, n = (size_t)(end - t);
        char *m = realloc(e->message, old + n + 2);
        if (!m)
            return -ENOMEM;
        m[old] = '\n';
        memcpy(m + old + 1, t, n);
        m[old + 1 + n] = '\0';
        e->message = m;
        e->message_len = old + 1 + n;
        e->message_cap = old + n + 2;
        return 0;
    }
    const char *q = k;
    while (q < end && is_key_char((unsigned char)*q, false))
        q++;
    if (q >= end || *q != '=')
        return -EINVAL;
    const char *v = q + 1;
    size_t vn = (size_t)(end - v);
    /* a value that is not printable text: "[57B blob data]", "[1.2K blob data]" (its bytes are
     * not shown) */
    if (vn > 13 && v[0] == '[' && memcmp(end - 11, " blob data]", 11) == 0) {
        if (span_is(k, (size_t)(q - k), "MESSAGE"))
            e->message_hidden = true;
        return 0;
    }
    return field(e, k, (size_t)(q - k), v, vn, false);
}

void journal_verbose_end(struct journal_entry *e)
{
    settle(e);
}

void journal_format_time(const struct journal_entry *e, char *out, size_t cap)
{
    if (cap)
        out[0] = '\0';
    if (e->realtime_us == OPT_ABSENT || cap == 0)
        return;
    time_t t = (time_t)(e->realtime_us / 1000000);
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return;
    char day[32];
    if (strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        return;
    snprintf(out, cap, "%s.%06u+00:00", day, (unsigned)(e->realtime_us % 1000000));
}
