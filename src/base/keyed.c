#include "keyed.h"

#include <string.h>

#include "cursor.h"

int keyed_parse(const char *buf, size_t len, const struct keyed_field *fields, size_t nfields,
                void *out)
{
    struct cursor c = cursor_make(buf, len);
    int set = 0;
    while (!cursor_eof(&c)) {
        struct cursor line = cursor_from_span(cursor_line(&c));
        struct span key = cursor_word(&line);
        if (key.n && key.p[key.n - 1] == ':')
            key.n--;
        if (key.n == 0)
            continue;
        const struct keyed_field *f = NULL;
        for (size_t i = 0; i < nfields; i++) {
            /* most lines match no field: rule them out on the first byte before any strlen */
            if (fields[i].key[0] != key.p[0])
                continue;
            if (strlen(fields[i].key) == key.n && memcmp(fields[i].key, key.p, key.n) == 0) {
                f = &fields[i];
                break;
            }
        }
        if (!f)
            continue;
        cursor_skip_blanks(&line);
        uint64_t v;
        if (cursor_u64(&line, &v) < 0)
            continue;
        uint64_t scaled = v * f->scale;
        if (f->scale && scaled / f->scale != v)
            scaled = UINT64_MAX - 1; /* saturate: never collide with the absent marker */
        memcpy((char *)out + f->offset, &scaled, sizeof(scaled));
        set++;
    }
    return set;
}
