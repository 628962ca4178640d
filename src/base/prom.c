#include "prom.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"

#include "limits.h"

void prom_init(struct prom_registry *r)
{
    *r = (struct prom_registry){0};
}

void prom_release(struct prom_registry *r)
{
    for (size_t i = 0; i < r->n; i++)
        buf_release(&r->v[i].samples);
    free(r->v);
    *r = (struct prom_registry){0};
}

static bool name_char(char c, bool first, bool colon)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':'))
        return true;
    return !first && c >= '0' && c <= '9';
}

bool prom_valid_metric_name(const char *s)
{
    if (!s || !*s)
        return false;
    for (size_t i = 0; s[i]; i++)
        if (!name_char(s[i], i == 0, true))
            return false;
    return true;
}

bool prom_valid_label_name(const char *s)
{
    if (!s || !*s || (s[0] == '_' && s[1] == '_'))
        return false;
    for (size_t i = 0; s[i]; i++)
        if (!name_char(s[i], i == 0, false))
            return false;
    return true;
}

int prom_family(struct prom_registry *r, const char *name, enum prom_type type, const char *help)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->v[i].name, name) == 0)
            return (int)i;
    if (!prom_valid_metric_name(name)) {
        r->err = -EINVAL;
        return -1;
    }
    if (ARRAY_GROW(r->v, r->n, r->cap, 32) < 0) {
        r->err = -ENOMEM;
        return -1;
    }
    r->v[r->n] = (struct prom_family){.name = name, .type = type, .help = help};
    buf_init(&r->v[r->n].samples, CAP_OUTPUT);
    return (int)r->n++;
}

static int escape_label_value(struct buf *b, const char *s)
{
    int q = 0;
    for (const char *p = s; *p && q == 0; p++) {
        if (*p == '\\')
            q = buf_puts(b, "\\\\");
        else if (*p == '"')
            q = buf_puts(b, "\\\"");
        else if (*p == '\n')
            q = buf_puts(b, "\\n");
        else
            q = buf_putc(b, *p);
    }
    return q;
}

static int sample_prefix(struct prom_registry *r, int fam, const struct prom_label *labels,
                         size_t nlabels, struct buf **ret)
{
    if (fam < 0 || (size_t)fam >= r->n)
        return -EINVAL;
    struct prom_family *f = &r->v[fam];
    struct buf *b = &f->samples;
    int q = buf_puts(b, f->name);
    bool open = false;
    for (size_t i = 0; i < nlabels && q == 0; i++) {
        if (!labels[i].value)
            continue;
        if (!prom_valid_label_name(labels[i].name))
            return -EINVAL;
        q = buf_printf(b, "%s%s=\"", open ? "," : "{", labels[i].name);
        open = true;
        if (q == 0)
            q = escape_label_value(b, labels[i].value);
        if (q == 0)
            q = buf_putc(b, '"');
    }
    if (q == 0 && open)
        q = buf_putc(b, '}');
    if (q == 0)
        q = buf_putc(b, ' ');
    f->nsamples++;
    *ret = b;
    return q;
}

void prom_sample_u64(struct prom_registry *r, int fam, const struct prom_label *labels,
                     size_t nlabels, uint64_t value)
{
    struct buf *b;
    int q = sample_prefix(r, fam, labels, nlabels, &b);
    if (q == 0)
        q = buf_printf(b, "%" PRIu64 "\n", value);
    if (q < 0 && !r->err)
        r->err = q;
}

void prom_sample_double(struct prom_registry *r, int fam, const struct prom_label *labels,
                        size_t nlabels, double value)
{
    struct buf *b;
    int q = sample_prefix(r, fam, labels, nlabels, &b);
    if (q == 0) {
        if (isnan(value))
            q = buf_puts(b, "NaN\n");
        else if (isinf(value))
            q = buf_puts(b, value > 0 ? "+Inf\n" : "-Inf\n");
        else
            q = buf_printf(b, "%.15g\n", value); /* microsecond totals print exactly */
    }
    if (q < 0 && !r->err)
        r->err = q;
}

static int escape_help(struct buf *b, const char *s)
{
    int q = 0;
    for (const char *p = s; *p && q == 0; p++) {
        if (*p == '\\')
            q = buf_puts(b, "\\\\");
        else if (*p == '\n')
            q = buf_puts(b, "\\n");
        else
            q = buf_putc(b, *p);
    }
    return q;
}

int prom_render(const struct prom_registry *r, struct buf *out)
{
    static const char *const types[] = {"gauge", "counter", "untyped"};
    if (r->err)
        return r->err;
    for (size_t i = 0; i < r->n; i++) {
        const struct prom_family *f = &r->v[i];
        if (f->nsamples == 0)
            continue;
        int q = buf_printf(out, "# HELP %s ", f->name);
        if (q == 0)
            q = escape_help(out, f->help ? f->help : "");
        if (q == 0)
            q = buf_printf(out, "\n# TYPE %s %s\n", f->name, types[f->type]);
        if (q == 0)
            q = buf_append(out, f->samples.data, f->samples.len);
        if (q < 0)
            return q;
    }
    return 0;
}
