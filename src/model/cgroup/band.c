#include "band.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/cursor.h"
#include "base/limits.h"
#include "base/sys/fileio.h"
#include "cgroup.h"
#include "model/sysroot.h"

void band_records_release(struct band_records *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->v[i].path);
    free(r->v);
    *r = (struct band_records){0};
}

const struct band_record *band_records_find(const struct band_records *r, const char *path)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->v[i].path, path) == 0)
            return &r->v[i];
    return NULL;
}

int band_records_put(struct band_records *r, const char *path, uint64_t set, uint64_t previous)
{
    if (strchr(path, '\n'))
        return -EINVAL;
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->v[i].path, path) == 0) {
            r->v[i].set = set;
            r->v[i].previous = previous;
            return 0;
        }
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        struct band_record *v = realloc(r->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        r->v = v;
        r->cap = cap;
    }
    char *p = strdup(path);
    if (!p)
        return -ENOMEM;
    r->v[r->n++] = (struct band_record){.path = p, .set = set, .previous = previous};
    return 0;
}

void band_records_drop(struct band_records *r, const char *path)
{
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->v[i].path, path) == 0) {
            free(r->v[i].path);
            r->v[i] = r->v[--r->n];
            return;
        }
    }
}

int band_records_parse(const char *buf, size_t len, struct band_records *ret, size_t *bad_line)
{
    struct band_records r = {0};
    struct cursor c = cursor_make(buf, len);
    size_t line = 0;
    *bad_line = 0;
    while (!cursor_eof(&c)) {
        line++;
        struct cursor l = cursor_from_span(cursor_line(&c));
        cursor_skip_blanks(&l);
        if (cursor_eof(&l) || cursor_peek(&l) == '#')
            continue;
        uint64_t set, previous;
        bool ok = cursor_u64(&l, &set) == 0 && set > 0 && cursor_skip_char(&l, ' ');
        if (ok && cursor_skip_prefix(&l, "max"))
            previous = CGROUP_UNLIMITED;
        else if (ok)
            ok = cursor_u64(&l, &previous) == 0 && previous != CGROUP_UNLIMITED;
        /* the path is the rest of the line, exactly: a cgroup's name may hold spaces */
        ok = ok && cursor_skip_char(&l, ' ') && cursor_peek(&l) == '/';
        struct span path = cursor_rest(&l);
        /* PATH_MAX: a longer one cannot be opened */
        if (ok && (path.n > 4096 || memchr(path.p, '\0', path.n)))
            ok = false;
        char *p = ok ? span_strdup(path) : NULL;
        if (!ok || !p) {
            band_records_release(&r);
            if (!ok)
                *bad_line = line;
            return ok ? -ENOMEM : -EBADMSG;
        }
        int q = band_records_put(&r, p, set, previous);
        free(p);
        if (q < 0) {
            band_records_release(&r);
            return q;
        }
    }
    *ret = r;
    return 0;
}

int band_records_read(const struct sysroot *sr, struct band_records *ret, size_t *bad_line)
{
    *ret = (struct band_records){0};
    *bad_line = 0;
    struct buf b = BUF_INIT(CAP_CONFIG);
    int n = read_regular_at(sr->root_fd, BAND_RECORD_PATH, &b);
    int r = 0;
    if (n >= 0)
        r = band_records_parse(b.data, b.len, ret, bad_line);
    else if (n != -ENOENT && n != -ENOTDIR)
        r = n;
    buf_release(&b);
    return r;
}

void band_records_format(const struct band_records *r, struct buf *out)
{
    buf_puts(out, "# oomwarden guard band: memory.high SET by the guard, PREVIOUS value, cgroup\n"
                  "# (the agent puts PREVIOUS back when it stops or the band is turned off)\n");
    for (size_t i = 0; i < r->n; i++) {
        const struct band_record *b = &r->v[i];
        buf_printf(out, "%" PRIu64 " ", b->set);
        if (cgroup_limit_set(b->previous))
            buf_printf(out, "%" PRIu64 " ", b->previous);
        else
            buf_puts(out, "max ");
        buf_puts(out, b->path);
        buf_putc(out, '\n');
    }
}
