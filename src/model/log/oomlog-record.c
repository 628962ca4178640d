/*
 * A log store's records inside a text paste, read with the time the record gives them:
 *   - a journalctl -o verbose entry (journal.h) among other text (a shell prompt, prose, a
 *     fence): its header "Thu 2023-02-02 11:49:13.015489 CET [s=..;i=..;b=..;m=..;t=..;x=..]"
 *     (quoted or indented as the paste has it), then its "    KEY=value" fields; read as the
 *     whole-file form reads it (its realtime, _SOURCE_REALTIME_TIMESTAMP first, and the kernel's
 *     _SOURCE_MONOTONIC_TIMESTAMP), the entry ending at the first line that is no field;
 *   - a Google Cloud Logging entry (the console's JSON download, gcloud logging read as JSON or
 *     YAML) whose kernel line is its "textPayload" and whose time is its "timestamp": both keys
 *     of one entry, in either order (the API and gcloud put textPayload first), with others
 *     between them. The payload line is read when the entry's timestamp is seen, or without a
 *     time when the entry ends first (the brace that closes it, YAML's "---", 64 lines).
 * A verbose entry filtered to its MESSAGE (--output-fields=MESSAGE) does not say who wrote it:
 * its message is read as a bare line is.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "journal.h"
#include "oomlog-int.h"

#define REC_QUOTE_MAX 16   /* the indentation and mail quotes before a verbose header */
#define REC_ENTRY_LINES 64 /* a Cloud Logging entry's lines between its payload and its time */

/* blanks and mail quotes ("> ") before `s`'s text: their length */
static size_t quote_len(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && i < REC_QUOTE_MAX && (s[i] == ' ' || s[i] == '\t' || s[i] == '>'))
        i++;
    return i;
}

/* `t` (blanks trimmed) is the field `key` of a JSON object ("key": ...) or a YAML map (key: ...):
 * its value, quotes and a trailing comma taken off */
static bool entry_field(struct span t, const char *key, struct span *value)
{
    size_t k = strlen(key);
    size_t at = t.n && t.p[0] == '"' ? 1 : 0;
    if (t.n < at + k + 2 || memcmp(t.p + at, key, k) != 0)
        return false;
    at += k;
    if (t.p[0] == '"' && t.p[at++] != '"')
        return false;
    if (at >= t.n || t.p[at++] != ':')
        return false;
    struct span v = trim(after(t, at));
    if (v.n && v.p[v.n - 1] == ',')
        v.n--;
    if (v.n >= 2 && (v.p[0] == '"' || v.p[0] == '\'') && v.p[v.n - 1] == v.p[0]) {
        v.p++;
        v.n -= 2;
    }
    *value = v;
    return true;
}

bool oomrec_maybe(const char *line, size_t len)
{
    size_t n = len && line[len - 1] == '\r' ? len - 1 : len;
    if (n && line[n - 1] == ']')
        return true; /* a verbose header ends with its cursor */
    size_t q = quote_len(line, len);
    return len - q > 12 && (line[q] == '"' || line[q] == 't');
}

/* ---- journalctl -o verbose ---- */

static int verbose_end(struct oomlog *p)
{
    struct journal_entry *e = p->rec_entry;
    p->rec_verbose = false;
    uint64_t mono = e->source_monotonic_us;
    journal_verbose_end(e);
    if (e->transport == JOURNAL_UNKNOWN && !e->identifier[0]) {
        e->kernel = true;
        e->source_monotonic_us = mono;
    }
    return oomlog_feed_journal(p, e);
}

/* 1: the line was the entry's (or began one), 0: it is text, < 0: an error */
static int verbose_line(struct oomlog *p, const char *line, size_t len)
{
    if (p->rec_verbose) {
        if (len >= p->rec_quote_len && memcmp(line, p->rec_quote, p->rec_quote_len) == 0) {
            int r = journal_verbose_field(p->rec_entry, line + p->rec_quote_len,
                                          len - p->rec_quote_len);
            if (r != -EINVAL)
                return r < 0 ? r : 1;
        }
        int r = verbose_end(p);
        if (r < 0)
            return r;
    }
    size_t q = quote_len(line, len);
    uint64_t t;
    if (!journal_verbose_header(line + q, len - q, &t))
        return 0;
    if (!p->rec_entry) {
        if (!(p->rec_entry = malloc(sizeof(*p->rec_entry))))
            return -ENOMEM;
        journal_entry_init(p->rec_entry);
    }
    journal_verbose_begin(p->rec_entry, t);
    memcpy(p->rec_quote, line, q);
    p->rec_quote_len = q;
    p->rec_verbose = true;
    return 1;
}

/* ---- Cloud Logging ---- */

/* the payload line held, read with the entry's time (or none), and the entry forgotten */
static int payload_flush(struct oomlog *p)
{
    int r = 0;
    if (p->rec_payload_len) {
        p->rec_time = (struct span){p->rec_ts, p->rec_ts_len};
        r = oomlog_feed_text_raw(p, p->rec_payload, p->rec_payload_len);
        p->rec_time = (struct span){NULL, 0};
    }
    p->rec_payload_len = p->rec_ts_len = 0;
    p->rec_entry_open = false;
    return r;
}

static int payload_keep(struct oomlog *p, const char *line, size_t len)
{
    if (len > p->rec_payload_cap) {
        if (len > CAP_INPUT_LINE)
            return oomlog_feed_text_raw(p, line, len); /* too long to hold: read now */
        char *b = realloc(p->rec_payload, len);
        if (!b)
            return -ENOMEM;
        p->rec_payload = b;
        p->rec_payload_cap = len;
    }
    memcpy(p->rec_payload, line, len);
    p->rec_payload_len = len;
    return 0;
}

/* a line of an entry that is neither key: the entry goes on, or ends before it (0 either way) */
static int entry_line(struct oomlog *p, struct span t)
{
    if (!p->rec_entry_open)
        return 0;
    for (size_t i = 0; i < t.n; i++)
        p->rec_depth += t.p[i] == '{' ? 1 : t.p[i] == '}' ? -1 : 0;
    if (p->rec_depth < 0 || ++p->rec_lines > REC_ENTRY_LINES || starts(t, "---"))
        return payload_flush(p);
    return 0;
}

static int cloud_line(struct oomlog *p, const char *line, size_t len)
{
    struct span t = trim((struct span){line, len}), v;
    size_t q = quote_len(t.p, t.n);
    t = after(t, q);
    if (entry_field(t, "textPayload", &v)) {
        if (p->rec_payload_len) {
            int r = payload_flush(p); /* the entry before had no time */
            if (r < 0)
                return r;
        }
        if (p->rec_entry_open && p->rec_ts_len) {
            /* its time came first */
            int r = payload_keep(p, line, len);
            if (r == 0)
                r = payload_flush(p);
            return r < 0 ? r : 1;
        }
        int r = payload_keep(p, line, len);
        if (r < 0 || !p->rec_payload_len)
            return r < 0 ? r : 1;
    } else if (entry_field(t, "timestamp", &v) && v.n && v.n < sizeof(p->rec_ts) && v.p[0] >= '0' &&
               v.p[0] <= '9') {
        if (p->rec_entry_open && p->rec_ts_len && !p->rec_payload_len)
            p->rec_entry_open = false; /* another entry's: the one before had no payload */
        memcpy(p->rec_ts, v.p, v.n);
        p->rec_ts_len = v.n;
        if (p->rec_payload_len) {
            int r = payload_flush(p);
            return r < 0 ? r : 1;
        }
    } else {
        return entry_line(p, t);
    }
    if (!p->rec_entry_open) {
        p->rec_entry_open = true;
        p->rec_depth = 0;
        p->rec_lines = 0;
    }
    return 1;
}

int oomrec_line(struct oomlog *p, const char *line, size_t len)
{
    int r = verbose_line(p, line, len);
    if (r)
        return r;
    return cloud_line(p, line, len);
}

int oomrec_end(struct oomlog *p)
{
    int r = p->rec_verbose ? verbose_end(p) : 0;
    int q = payload_flush(p);
    return r < 0 ? r : q;
}

void oomrec_release(struct oomlog *p)
{
    if (p->rec_entry) {
        journal_entry_release(p->rec_entry);
        free(p->rec_entry);
    }
    free(p->rec_payload);
}
