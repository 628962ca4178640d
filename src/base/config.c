#include "config.h"
#include "base/limits.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <ini.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cursor.h"
#include "sys/fileio.h"
#include "glob.h"
#include "limits.h"
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

int config_list_parse(struct config_list *l, const char *key, const char *value, struct buf *err)
{
    const char *q = value;
    while (*q) {
        const char *e = strchr(q, ',');
        size_t n = e ? (size_t)(e - q) : strlen(q);
        struct span it = span_trim((struct span){q, n});
        q = e ? e + 1 : q + n;
        if (!it.n)
            continue;
        if (it.p[0] == ';') {
            /* --check-config writes lists back as "a, b": "a, ;b" would end in a comment */
            buf_printf(err, "%s: '%.*s': an item cannot start with ';'", key, (int)it.n, it.p);
            return -EINVAL;
        }
        char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
        if (!v)
            return -ENOMEM;
        l->v = v;
        if (!(l->v[l->n] = span_strdup(it)))
            return -ENOMEM;
        l->n++;
    }
    return 0;
}

void config_list_release(struct config_list *l)
{
    for (size_t k = 0; k < l->n; k++)
        free(l->v[k]);
    free(l->v);
    *l = (struct config_list){0};
}

int config_set(const struct config_schema *s, void *out, const char *section, const char *key,
               const char *value, struct buf *err)
{
    const struct config_option *o = find(s, section, key);
    if (!o) {
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
    case CONFIG_LIST:
    case CONFIG_GLOBS: {
        struct config_list *l = p;
        size_t first = l->n;
        if ((r = config_list_parse(l, key, value, err)) < 0)
            return r;
        for (size_t i = first; o->type == CONFIG_GLOBS && i < l->n; i++) {
            const char *why = config_glob_problem(l->v[i]);
            if (why) {
                buf_printf(err, "%s: '%s': %s", key, l->v[i], why);
                return -EINVAL;
            }
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

const char *config_glob_problem(const char *glob)
{
    if (glob[0] != '/' && glob[0] != '*')
        return "not a cgroup path glob (they start with '/': /system.slice/*)";
    return glob_problem(glob);
}

/* What the loader knows while inih reads: the text, where the reader is, what it has seen. */
struct seen {
    char *name;
    int line;
};

struct load_ctx {
    const struct config_schema *s;
    void *out;
    const char *text;
    size_t len, pos;
    int line;                    /* of the line the reader handed to inih last */
    int section_line;            /* of the last [header] the reader handed over */
    size_t section_len;          /* the length of its name, as written */
    unsigned headers, handled;   /* [header] lines handed over / met by the handler */
    struct seen *sections;       /* every section met, for "given twice" */
    size_t nsections;
    struct seen *keys;           /* the keys of the current section */
    size_t nkeys;
    struct buf msg;              /* the first error only */
    int err_line;
};

static void fail(struct load_ctx *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(struct load_ctx *c, int line, const char *fmt, ...)
{
    if (c->err_line)
        return;
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&c->msg, fmt, ap);
    va_end(ap);
    c->err_line = line;
}

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v' || ch == '\n';
}

/* inih's fgets: whole lines only. The buffer was sized for the longest line, so a line never has
 * to be split; if this libinih ever offered less, the line is refused rather than cut. */
static char *read_line(char *str, int num, void *stream)
{
    struct load_ctx *c = stream;
    if (c->err_line || c->pos >= c->len)
        return NULL;
    const char *p = c->text + c->pos;
    const char *nl = memchr(p, '\n', c->len - c->pos);
    size_t n = nl ? (size_t)(nl - p) + 1 : c->len - c->pos;
    c->line++;
    if (num < 2 || n > (size_t)num - 1) {
        fail(c, c->line, "line of %zu bytes: libinih offered %d (a line is never cut)", n, num);
        return NULL;
    }
    memcpy(str, p, n);
    str[n] = '\0';
    c->pos += n;
    size_t i = 0;
    while (i < n && is_space(p[i]))
        i++;
    if (i < n && p[i] == '[') {
        c->section_line = c->line;
        c->headers++;
        const char *end = memchr(p + i, ']', n - i);
        if (!end)
            fail(c, c->line, "a section header without its ']'");
        else
            c->section_len = (size_t)(end - (p + i + 1));
    }
    return str;
}

static int seen_add(struct seen **v, size_t *n, const char *name, int line)
{
    struct seen *nv = realloc(*v, (*n + 1) * sizeof(**v));
    if (!nv)
        return -ENOMEM;
    *v = nv;
    if (!(nv[*n].name = strdup(name)))
        return -ENOMEM;
    nv[(*n)++].line = line;
    return 0;
}

static const struct seen *seen_find(const struct seen *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return &v[i];
    return NULL;
}

static void seen_release(struct seen **v, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        free((*v)[i].name);
    free(*v);
    *v = NULL;
    *n = 0;
}

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
    struct load_ctx *c = user;
    if (c->err_line)
        return 0;
    if (c->handled != c->headers) { /* the first key of a new section */
        c->handled = c->headers;
        /* inih copies the name into a buffer of its own (50 bytes in Debian's build) */
        if (strlen(section) < c->section_len) {
            fail(c, c->section_line, "a section name of %zu characters: libinih keeps %zu "
                 "(name the rule shorter)", c->section_len, strlen(section));
            return 0;
        }
        const struct seen *first = seen_find(c->sections, c->nsections, section);
        if (first) {
            fail(c, c->section_line, "[%s] given twice (lines %d and %d): one section each",
                 section, first->line, c->section_line);
            return 0;
        }
        seen_release(&c->keys, &c->nkeys);
        if (seen_add(&c->sections, &c->nsections, section, c->section_line) < 0) {
            fail(c, c->line, "out of memory");
            return 0;
        }
    }
    if (!*section) {
        fail(c, c->line, "'%s' is outside any [section]", name);
        return 0;
    }
    const struct seen *first = seen_find(c->keys, c->nkeys, name);
    if (first) {
        fail(c, c->line, "%s: given twice in [%s] (lines %d and %d)", name, section, first->line,
             c->line);
        return 0;
    }
    if (seen_add(&c->keys, &c->nkeys, name, c->line) < 0) {
        fail(c, c->line, "out of memory");
        return 0;
    }
    if (value[0] == ';') {
        /* "key =;x" is the value ";x", but "key = ;x", as --check-config writes it back, is a
         * comment: no value may start with ';' */
        fail(c, c->line, "%s: a value cannot start with ';'", name);
        return 0;
    }
    struct buf why = BUF_INIT(CAP_MESSAGE);
    const struct config_option *o = find(c->s, section, name);
    int r;
    if (o || section_known(c->s, section) || !c->s->other_section)
        r = config_set(c->s, c->out, section, name, value, &why);
    else
        r = c->s->other_section(c->s->ctx, section, c->section_line, name, value, &why);
    if (r < 0)
        fail(c, c->line, "%s", buf_cstr(&why));
    else if (o && c->s->lines)
        c->s->lines[o - c->s->opts] = c->line;
    buf_release(&why);
    return r < 0 ? 0 : 1;
}

int config_load_text(const struct config_schema *s, void *out, const char *text, size_t len,
                     const char *name, struct buf *err)
{
    struct load_ctx c = {.s = s, .out = out, .text = text, .len = len};
    buf_init(&c.msg, 4096);
    /* what inih would read wrongly: a NUL ends its line early; a BOM is skipped here, so that
     * the reader sees a first-line [header] as inih does */
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        c.pos = 3;
    size_t longest = 0, start = c.pos;
    int line = 1;
    for (size_t i = c.pos; i < len && !c.err_line; i++) {
        if (text[i] == '\0')
            fail(&c, line, "a NUL byte (is this a binary file?)");
        if (text[i] == '\n' || i + 1 == len) {
            longest = i + 1 - start > longest ? i + 1 - start : longest;
            start = i + 1;
            line++;
        }
    }
    int r = 0;
    if (!c.err_line) {
        /* Debian's libinih (55) reads these at run time: a heap buffer as long as the longest
         * line (plus '\n', '\r' and NUL, as inih counts), one key = value per line */
        ini_use_stack = false;
        ini_allow_realloc = false;
        ini_initial_alloc = ini_max_line = (int)longest + 64;
        ini_allow_multiline = false;
        ini_stop_on_first_error = true;
        int bad = ini_parse_stream(read_line, &c, on_ini, &c);
        if (bad > 0 && !c.err_line)
            fail(&c, bad, "syntax error (expected [section] or key = value)");
        else if (bad < 0 && !c.err_line)
            fail(&c, c.line, "out of memory");
    }
    if (c.err_line) {
        buf_printf(err, "%s:%d: %s", name, c.err_line, buf_cstr(&c.msg));
        r = -EINVAL;
    }
    seen_release(&c.sections, &c.nsections);
    seen_release(&c.keys, &c.nkeys);
    buf_release(&c.msg);
    return r;
}

int config_read_file(const char *path, struct buf *text, struct buf *err)
{
    buf_release(text);
    buf_init(text, CAP_CONFIG);
    int r = read_regular_at(AT_FDCWD, path, text);
    if (r == -EISDIR)
        buf_printf(err, "%s: a directory, not a config file", path);
    else if (r == -EINVAL)
        buf_printf(err, "%s: not a regular file (a FIFO, a device or a socket is not read)", path);
    else if (r == -EFBIG)
        buf_printf(err, "%s: larger than %lu KiB, the limit for a config file", path,
                   CAP_CONFIG / KiB);
    else if (r < 0)
        buf_printf(err, "%s: %s", path, strerror(-r));
    return r < 0 ? r : 0;
}

int config_load_file(const struct config_schema *s, void *out, const char *path, struct buf *err)
{
    struct buf text = BUF_INIT(CAP_CONFIG);
    int r = config_read_file(path, &text, err);
    if (r == 0)
        r = config_load_text(s, out, buf_cstr(&text), text.len, path, err);
    buf_release(&text);
    return r;
}

void config_release(const struct config_schema *s, void *out)
{
    for (size_t i = 0; i < s->n; i++) {
        void *p = (char *)out + s->opts[i].offset;
        if (s->opts[i].type == CONFIG_STRING) {
            free(*(char **)p);
            *(char **)p = NULL;
        } else if (s->opts[i].type == CONFIG_LIST || s->opts[i].type == CONFIG_GLOBS) {
            config_list_release(p);
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
        case CONFIG_LIST:
        case CONFIG_GLOBS: {
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
