#include "passwd.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/cursor.h"

void passwd_db_release(struct passwd_db *db)
{
    free(db->v);
    free(db->names);
    *db = (struct passwd_db){0};
}

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v';
}

/*
 * A uid or gid field as glibc 2.36 reads it (strtoul, and a value past 32 bits refuses the line):
 * leading blanks, an optional sign, decimal digits to the end of the field. "-0" is 0; "-1" is
 * 2^64 - 1 to strtoul, so no entry.
 */
static bool parse_id(struct span f, uint32_t *ret)
{
    size_t i = 0;
    while (i < f.n && is_blank(f.p[i]))
        i++;
    bool neg = false;
    if (i < f.n && (f.p[i] == '+' || f.p[i] == '-'))
        neg = f.p[i++] == '-';
    if (i == f.n)
        return false;
    uint64_t v = 0;
    for (; i < f.n; i++) {
        if (f.p[i] < '0' || f.p[i] > '9')
            return false;
        unsigned d = (unsigned)(f.p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false; /* strtoul's ERANGE */
        v = v * 10 + d;
    }
    if (neg)
        v = -v; /* strtoul negates in unsigned arithmetic */
    if (v > UINT32_MAX)
        return false;
    *ret = (uint32_t)v;
    return true;
}

static bool name_ok(struct span name)
{
    if (name.n == 0 || name.p[0] == '+' || name.p[0] == '-')
        return false;
    for (size_t i = 0; i < name.n; i++) {
        unsigned char ch = (unsigned char)name.p[i];
        if (ch < 0x20 || ch == 0x7f)
            return false;
    }
    return true;
}

/* One line without its '\n'. Returns 1 with the name and uid of an entry, 0 when it is none. */
static int parse_line(struct span line, struct span *name, uint32_t *uid)
{
    struct cursor c = cursor_from_span(line);
    *name = cursor_until(&c, ':');
    if (name->n == line.n)
        return 0; /* no ':' at all */
    (void)cursor_until(&c, ':'); /* password */
    struct span fuid = cursor_until(&c, ':');
    /* the gid must be there too, as glibc requires; the fields after it may be missing */
    struct span fgid = cursor_until(&c, ':');
    uint32_t gid;
    if (!name_ok(*name) || !parse_id(fuid, uid) || !parse_id(fgid, &gid))
        return 0;
    return *uid <= PASSWD_UID_MAX;
}

static int by_uid(const void *a, const void *b)
{
    const struct passwd_entry *x = a, *y = b;
    if (x->uid != y->uid)
        return x->uid < y->uid ? -1 : 1;
    return x->name < y->name ? -1 : x->name > y->name; /* names are stored in file order */
}

int passwd_parse(const char *buf, size_t len, struct passwd_db *out)
{
    *out = (struct passwd_db){0};
    if (len >= UINT32_MAX)
        return -EFBIG; /* names are found by 32-bit offsets */
    /* upper bounds: one entry per line, every name shorter than its line */
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += buf[i] == '\n';
    out->v = malloc(lines * sizeof(*out->v));
    out->names = malloc(len + 1);
    if (!out->v || !out->names) {
        passwd_db_release(out);
        return -ENOMEM;
    }
    struct cursor c = cursor_make(buf, len);
    while (!cursor_eof(&c)) {
        struct span line = cursor_line(&c);
        size_t i = 0;
        while (i < line.n && is_blank(line.p[i]))
            i++;
        if (i == line.n || line.p[i] == '#')
            continue;
        line.p += i;
        line.n -= i;
        struct span name;
        uint32_t uid;
        /* a NUL ends the line for glibc's string functions: the entry is whatever came before */
        const char *nul = memchr(line.p, '\0', line.n);
        if (nul)
            line.n = (size_t)(nul - line.p);
        if (!parse_line(line, &name, &uid)) {
            out->skipped++;
            continue;
        }
        out->v[out->n++] = (struct passwd_entry){.uid = uid, .name = (uint32_t)out->names_len};
        memcpy(out->names + out->names_len, name.p, name.n);
        out->names_len += name.n;
        out->names[out->names_len++] = '\0';
    }
    if (out->n > 1)
        qsort(out->v, out->n, sizeof(*out->v), by_uid);
    return 0;
}

const char *passwd_db_name(const struct passwd_db *db, uint32_t uid)
{
    size_t lo = 0, hi = db->n;
    while (lo < hi) { /* the first entry with uid >= this one */
        size_t mid = lo + (hi - lo) / 2;
        if (db->v[mid].uid < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < db->n && db->v[lo].uid == uid ? db->names + db->v[lo].name : NULL;
}

int passwd_db_uid(const struct passwd_db *db, const char *name, uint32_t *ret)
{
    const struct passwd_entry *first = NULL;
    for (size_t i = 0; i < db->n; i++)
        if ((!first || db->v[i].name < first->name) && strcmp(db->names + db->v[i].name, name) == 0)
            first = &db->v[i];
    if (!first)
        return -ENOENT;
    *ret = first->uid;
    return 0;
}
