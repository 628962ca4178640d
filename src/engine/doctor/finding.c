#include "doctor-int.h"
#include "base/array.h"
#include "base/limits.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- building findings ------------------------------------------------------------------- */


void fb_begin(struct fb *b, enum doctor_check_id check)
{
    *b = (struct fb){.f = {.check = check}, .data = BUF_INIT(CAP_TEXT_BLOCK)};
    json_init(&b->j, &b->data, false);
    json_obj_begin(&b->j);
}

static char *vfmt(const char *fmt, va_list ap)
{
    char *s = NULL;
    return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

void fb_title(struct fb *b, enum doctor_severity s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    free(b->f.title);
    b->f.title = vfmt(fmt, ap);
    va_end(ap);
    b->f.severity = s;
    if (!b->f.title)
        b->err = -ENOMEM;
}

static void push_line(struct fb *b, char ***v, size_t *n, size_t *cap, char *s)
{
    if (!s) {
        b->err = -ENOMEM;
        return;
    }
    if (ARRAY_GROW(*v, *n, *cap, 8) < 0) {
        free(s);
        b->err = -ENOMEM;
        return;
    }
    (*v)[(*n)++] = s;
}

void fb_ev(struct fb *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vfmt(fmt, ap);
    va_end(ap);
    push_line(b, &b->f.evidence, &b->f.nevidence, &b->cap_e, s);
}

void fb_more(struct fb *b, size_t total, size_t shown)
{
    if (total > shown)
        fb_ev(b, "  ... and %zu more", total - shown);
}

void fb_fix(struct fb *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vfmt(fmt, ap);
    va_end(ap);
    push_line(b, &b->f.fix, &b->f.nfix, &b->cap_f, s);
}

void finding_release(struct finding *f)
{
    free(f->title);
    for (size_t i = 0; i < f->nevidence; i++)
        free(f->evidence[i]);
    free(f->evidence);
    for (size_t i = 0; i < f->nfix; i++)
        free(f->fix[i]);
    free(f->fix);
    free(f->data);
    *f = (struct finding){0};
}

void fb_discard(struct fb *b)
{
    finding_release(&b->f);
    buf_release(&b->data);
}

int fb_commit(struct doctor_report *r, struct fb *b)
{
    json_obj_end(&b->j);
    if (!b->err)
        b->err = json_error(&b->j);
    if (!b->err && !b->f.title)
        b->err = -EINVAL;
    if (b->err) {
        int e = b->err;
        fb_discard(b);
        return e;
    }
    b->f.data = buf_detach(&b->data, NULL);
    struct finding *v = realloc(r->v, (r->n + 1) * sizeof(*v));
    if (!v) {
        fb_discard(b);
        return -ENOMEM;
    }
    r->v = v;
    r->v[r->n++] = b->f;
    r->result[b->f.check] = RESULT_FINDING;
    r->count[b->f.severity]++;
    b->f = (struct finding){0};
    return 0;
}

int doctor_note(struct doctor_report *r, enum doctor_check_id c, enum doctor_result res,
                const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vfmt(fmt, ap);
    va_end(ap);
    if (!s)
        return -ENOMEM;
    free(r->note[c]);
    r->note[c] = s;
    r->result[c] = res;
    return 0;
}

/* ---- words ------------------------------------------------------------------------------- */

void doctor_cgroup_words(const struct node *node, const char *path, char *out, size_t n)
{
    struct identity id;
    podnames_identity(&node->names, path, &id);
    identity_brief(&id, out, n);
    if (!out[0])
        cgpath_short(path, 48, out, n);
}

void doctor_victim_json(struct json *j, const struct node *n, const struct victim *v,
                        enum pclass c)
{
    json_obj_begin(j);
    victim_json_fields(v, j);
    struct identity id;
    proc_identity(n, v->proc, &id);
    identity_names_json_fields(&id, j);
    json_kv_str(j, "class", class_name(c));
    json_obj_end(j);
}
