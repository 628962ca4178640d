#include "psi.h"

#include <errno.h>
#include <string.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/cursor.h"
#include "base/sys/fileio.h"
#include "base/limits.h"
#include "model/sysroot.h"

static int parse_line(struct cursor *line, struct psi_line *ret)
{
    struct psi_line l = {0};
    bool a10 = false, a60 = false, a300 = false, tot = false;
    while (!cursor_eof(line)) {
        cursor_skip_blanks(line);
        struct span word = cursor_word(line);
        if (word.n == 0)
            break;
        struct cursor w = cursor_from_span(word);
        struct span key = cursor_until(&w, '=');
        int r = -EINVAL;
        if (span_eq(key, "avg10"))
            r = cursor_centi(&w, &l.avg10), a10 = r == 0;
        else if (span_eq(key, "avg60"))
            r = cursor_centi(&w, &l.avg60), a60 = r == 0;
        else if (span_eq(key, "avg300"))
            r = cursor_centi(&w, &l.avg300), a300 = r == 0;
        else if (span_eq(key, "total"))
            r = cursor_u64(&w, &l.total), tot = r == 0;
        else
            continue; /* a field a later kernel added */
        if (r < 0 || !cursor_eof(&w))
            return -EBADMSG;
    }
    if (!a10 || !a60 || !a300 || !tot)
        return -EBADMSG;
    l.present = true;
    *ret = l;
    return 0;
}

int psi_parse(const char *buf, size_t len, struct psi *ret)
{
    struct psi p = {0};
    struct cursor c = cursor_make(buf, len);
    while (!cursor_eof(&c)) {
        struct cursor line = cursor_from_span(cursor_line(&c));
        struct span kind = cursor_word(&line);
        struct psi_line *dst = span_eq(kind, "some")   ? &p.some
                               : span_eq(kind, "full") ? &p.full
                                                       : NULL;
        if (!dst)
            continue;
        if (parse_line(&line, dst) < 0)
            *dst = (struct psi_line){0};
    }
    if (!p.some.present && !p.full.present)
        return -EBADMSG;
    *ret = p;
    return 0;
}

int psi_read_at(int dirfd, const char *path, struct psi *ret)
{
    struct buf b = BUF_INIT(CAP_KERNEL_LINE);
    int r = read_virtual_at(dirfd, path, &b);
    if (r >= 0)
        r = psi_parse(b.data, b.len, ret);
    buf_release(&b);
    return r < 0 ? r : 0;
}

int psi_read_system(const struct sysroot *sr, struct psi *ret)
{
    return psi_read_at(sr->proc_fd, "pressure/memory", ret);
}

void psi_line_json_fields(const struct psi_line *l, struct json *j)
{
    json_kv_double(j, "avg10", (double)l->avg10 / 100.0, 2);
    json_kv_double(j, "avg60", (double)l->avg60 / 100.0, 2);
    json_kv_double(j, "avg300", (double)l->avg300 / 100.0, 2);
    json_kv_u64(j, "total_us", l->total);
}

void psi_json_fields(const struct psi *p, struct json *j)
{
    const struct psi_line *lines[] = {&p->some, &p->full};
    const char *names[] = {"some", "full"};
    for (int i = 0; i < 2; i++) {
        json_key(j, names[i]);
        if (!lines[i]->present) {
            json_null(j);
            continue;
        }
        json_obj_begin(j);
        psi_line_json_fields(lines[i], j);
        json_obj_end(j);
    }
}
