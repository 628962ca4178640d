#include "config.h"

#include <errno.h>
#include <ini.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cursor.h"
#include "units.h"

static const struct config_option *find(const struct config_schema *s, const char *section,
                                        const char *key)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->opts[i].section, section) == 0 && strcmp(s->opts[i].key, key) == 0)
            return &s->opts[i];
    return NULL;
}

static bool section_known(const struct config_schema *s, const char *section)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->opts[i].section, section) == 0)
            return true;
    return false;
}

const struct config_option *config_find_flag(const struct config_schema *s, const char *flag)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->opts[i].key, flag) == 0)
            return &s->opts[i];
    return NULL;
}

static int parse_bool(const char *v, bool *ret)
{
    static const char *const yes[] = {"1", "yes", "true", "on"};
    static const char *const no[] = {"0", "no", "false", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *ret = true;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *ret = false;
            return 0;
        }
    }
    return -EINVAL;
}

static int list_add(struct config_list *l, const char *item, size_t n)
{
    char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    l->v = v;
    l->v[l->n] = span_strdup((struct span){item, n});
    if (!l->v[l->n])
        return -ENOMEM;
    l->n++;
    return 0;
}

int config_set(const struct config_schema *s, void *out, const char *section, const char *key,
               const char *value, struct buf *err)
{
    const struct config_option *o = find(s, section, key);
    if (!o) {
        if (!section_known(s, section) && s->other_section)
            return s->other_section(s->ctx, section, key, value, err);
        if (!section_known(s, section))
            buf_printf(err, "unknown section [%s]", section);
        else
            buf_printf(err, "unknown key '%s' in section [%s]", key, section);
        return -ENOENT;
    }
    void *p = (char *)out + o->offset;
    int r = 0;
    uint64_t v = 0;
    switch (o->type) {
    case CONFIG_STRING: {
        char *copy = strdup(value);
        if (!copy)
            return -ENOMEM;
        free(*(char **)p);
        *(char **)p = copy;
        return 0;
    }
    case CONFIG_BOOL:
        r = parse_bool(value, (bool *)p);
        if (r < 0)
            buf_printf(err, "%s: '%s' is not a boolean (yes/no, true/false, on/off, 1/0)", key,
                       value);
        return r;
    case CONFIG_UINT:
        r = parse_u64(value, &v);
        if (r < 0)
            buf_printf(err, "%s: '%s' is not a whole number", key, value);
        break;
    case CONFIG_DURATION:
        r = parse_duration_ms(value, &v);
        if (r < 0)
            buf_printf(err, "%s: '%s' is not a duration (e.g. 500ms, 10s, 5m)", key, value);
        break;
    case CONFIG_SIZE:
        r = parse_size(value, &v);
        if (r < 0)
            buf_printf(err, "%s: '%s' is not a size (e.g. 4096, 512K, 256M, 2G)", key, value);
        break;
    case CONFIG_LIST: {
        struct config_list *l = p;
        const char *q = value;
        while (*q) {
            const char *e = strchr(q, ',');
            size_t n = e ? (size_t)(e - q) : strlen(q);
            struct span it = span_trim((struct span){q, n});
            if (it.n && (r = list_add(l, it.p, it.n)) < 0)
                return r;
            q = e ? e + 1 : q + n;
        }
        return 0;
    }
    }
    if (r < 0)
        return r;
    if (v < o->min || v > o->max) {
        buf_printf(err, "%s: %s is out of range (%" PRIu64 "..%" PRIu64 ")", key, value, o->min,
                   o->max);
        return -ERANGE;
    }
    *(uint64_t *)p = v;
    return 0;
}

struct load_ctx {
    const struct config_schema *s;
    void *out;
    struct buf msg; /* first error only */
    bool failed;
};

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
    struct load_ctx *c = user;
    if (c->failed)
        return 1; /* report the first problem, not a cascade */
    if (!name) /* inih calls with name NULL for a section line only when INI_CALL_HANDLER_ON_NEW_SECTION */
        return 1;
    if (!*section) {
        buf_printf(&c->msg, "'%s' is outside any [section]", name);
        c->failed = true;
        return 0;
    }
    int r = config_set(c->s, c->out, section, name, value, &c->msg);
    if (r < 0) {
        c->failed = true;
        return 0;
    }
    return 1;
}

int config_load_string(const struct config_schema *s, void *out, const char *text,
                       const char *name, struct buf *err)
{
    struct load_ctx c = {.s = s, .out = out};
    buf_init(&c.msg, 4096);
    int line = ini_parse_string(text, on_ini, &c);
    int r = 0;
    if (line != 0) {
        if (c.msg.len == 0)
            buf_puts(&c.msg, "syntax error (expected [section] or key = value)");
        buf_printf(err, "%s:%d: %s", name, line, buf_cstr(&c.msg));
        r = -EINVAL;
    }
    buf_release(&c.msg);
    return r;
}

int config_load_file(const struct config_schema *s, void *out, const char *path, struct buf *err)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        int e = errno;
        buf_printf(err, "%s: %s", path, strerror(e));
        return -e;
    }
    struct load_ctx c = {.s = s, .out = out};
    buf_init(&c.msg, 4096);
    int line = ini_parse_file(f, on_ini, &c);
    fclose(f);
    int r = 0;
    if (line != 0) {
        if (c.msg.len == 0)
            buf_puts(&c.msg, "syntax error (expected [section] or key = value)");
        buf_printf(err, "%s:%d: %s", path, line, buf_cstr(&c.msg));
        r = -EINVAL;
    }
    buf_release(&c.msg);
    return r;
}

void config_release(const struct config_schema *s, void *out)
{
    for (size_t i = 0; i < s->n; i++) {
        void *p = (char *)out + s->opts[i].offset;
        if (s->opts[i].type == CONFIG_STRING) {
            free(*(char **)p);
            *(char **)p = NULL;
        } else if (s->opts[i].type == CONFIG_LIST) {
            struct config_list *l = p;
            for (size_t k = 0; k < l->n; k++)
                free(l->v[k]);
            free(l->v);
            *l = (struct config_list){0};
        }
    }
}

int config_dump(const struct config_schema *s, const void *cfg, struct buf *out)
{
    const char *section = NULL;
    int r = 0;
    for (size_t i = 0; i < s->n && r == 0; i++) {
        const struct config_option *o = &s->opts[i];
        if (!section || strcmp(section, o->section) != 0) {
            section = o->section;
            r = buf_printf(out, "%s[%s]\n", i ? "\n" : "", section);
        }
        const void *p = (const char *)cfg + o->offset;
        if (o->help)
            buf_printf(out, "# %s\n", o->help);
        switch (o->type) {
        case CONFIG_STRING: {
            const char *v = *(char *const *)p;
            r = buf_printf(out, "%s = %s\n", o->key, v ? v : "");
            break;
        }
        case CONFIG_BOOL:
            r = buf_printf(out, "%s = %s\n", o->key, *(const bool *)p ? "yes" : "no");
            break;
        case CONFIG_UINT:
            r = buf_printf(out, "%s = %" PRIu64 "\n", o->key, *(const uint64_t *)p);
            break;
        case CONFIG_DURATION: {
            uint64_t ms = *(const uint64_t *)p;
            if (ms % 1000)
                r = buf_printf(out, "%s = %" PRIu64 "ms\n", o->key, ms);
            else
                r = buf_printf(out, "%s = %" PRIu64 "s\n", o->key, ms / 1000);
            break;
        }
        case CONFIG_SIZE:
            r = buf_printf(out, "%s = %" PRIu64 "\n", o->key, *(const uint64_t *)p);
            break;
        case CONFIG_LIST: {
            const struct config_list *l = p;
            r = buf_printf(out, "%s = ", o->key);
            for (size_t k = 0; k < l->n && r == 0; k++)
                r = buf_printf(out, "%s%s", k ? ", " : "", l->v[k]);
            if (r == 0)
                r = buf_putc(out, '\n');
            break;
        }
        }
    }
    return r;
}
