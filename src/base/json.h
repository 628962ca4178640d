/*
 * A streaming JSON writer into a capped buffer. Strings are escaped per RFC 8259 and any byte
 * sequence that is not valid UTF-8 (process names can hold anything) is replaced by U+FFFD, so
 * the output is always valid JSON. Errors are sticky: check json_error() once at the end.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define JSON_MAX_DEPTH 32

struct json {
    struct buf *out;
    bool pretty;
    int depth;
    bool first[JSON_MAX_DEPTH]; /* no member written yet at this depth */
    bool after_key;
    int err;
};

void json_init(struct json *j, struct buf *out, bool pretty);
int json_error(const struct json *j);

void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
void json_key(struct json *j, const char *key);

void json_str(struct json *j, const char *s);
void json_strn(struct json *j, const char *s, size_t n);
void json_u64(struct json *j, uint64_t v);
void json_i64(struct json *j, int64_t v);
void json_double(struct json *j, double v, int decimals);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);

/*
 * A value that is already JSON text, as a json writer without `pretty` produced it (a nested
 * document kept for later): re-emitted token by token, so it takes this writer's indentation.
 * Only for text this program wrote; it is not validated.
 */
void json_raw(struct json *j, const char *text, size_t n);

/* key + value shorthands */
/* "k": { and "k": [ (closed with json_obj_end / json_arr_end) */
void json_kv_obj_begin(struct json *j, const char *k);
void json_kv_arr_begin(struct json *j, const char *k);
void json_kv_str(struct json *j, const char *k, const char *v); /* NULL → null */
/* "k": [v[0], ..., v[n-1]] */
void json_kv_strv(struct json *j, const char *k, char *const *v, size_t n);
void json_kv_strn(struct json *j, const char *k, const char *v, size_t n);
void json_kv_u64(struct json *j, const char *k, uint64_t v);
void json_kv_i64(struct json *j, const char *k, int64_t v);
void json_kv_bool(struct json *j, const char *k, bool v);
void json_kv_null(struct json *j, const char *k);
void json_kv_double(struct json *j, const char *k, double v, int decimals);

/* Appends `s` escaped as the inside of a JSON string (no quotes). Used by other writers too. */
int json_escape_into(struct buf *out, const char *s, size_t n);
/* Length of the valid UTF-8 sequence at s (1..4), or 0 when the bytes there are not valid UTF-8. */
size_t utf8_valid_len(const unsigned char *s, size_t n);

/* Optional numbers (opt.h): null when absent. */
void json_kv_u64_opt(struct json *j, const char *k, uint64_t v);
void json_kv_i64_opt(struct json *j, const char *k, int64_t v);

/*
 * An object's run of optional numbers written from a table, as memory.stat's are read
 * (keyed.h): one line per field instead of one call per key, so the keys of one struct stay
 * in one place. Each is json_kv_u64_opt(key, the uint64_t at offset in the struct).
 */
struct json_u64_field {
    const char *key;
    size_t offset;
};

/* a member that is not a uint64_t does not compile (_Generic has no other case) */
#define JSON_U64_FIELD(type, key, member)                                                          \
    {key, _Generic(((type *)0)->member, uint64_t: offsetof(type, member))}

void json_kv_u64_fields(struct json *j, const void *obj, const struct json_u64_field *fields,
                        size_t n);
