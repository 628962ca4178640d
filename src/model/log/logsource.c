#include "logsource.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base/limits.h"
#include "journal.h"
#include "kmsg.h"
#include "oomlog.h"

#define CHUNK (1024 * 1024)

/* The unfinished last line s[0..left) moved to the start of buf, for the next chunk to
 * complete. */
static void keep_rest(char *buf, const char *s, size_t left, size_t *ret_left)
{
    if (left && s != buf)
        memmove(buf, s, left);
    *ret_left = left;
}

/* Feeds the complete lines of `buf[0..len)`; returns how many bytes of an unfinished last line
 * remain at the end (a line longer than the cap is cut and its rest skipped: *skipping). */
static int feed_lines(struct oomlog *p, char *buf, size_t len, bool last, bool *skipping,
                      struct logsource_stats *st, size_t *ret_left)
{
    const char *s = buf, *end = buf + len;
    const char *last_nl = len ? memrchr(buf, '\n', len) : NULL;
    if (last_nl) {
        if (*skipping) {
            /* the rest of a line cut at the cap */
            s = (const char *)memchr(s, '\n', (size_t)(end - s)) + 1;
            *skipping = false;
        }
        if (s <= last_nl) {
            uint64_t n = 0;
            int r = oomlog_feed_lines(p, s, (size_t)(last_nl + 1 - s), &n);
            st->lines += n;
            if (r < 0)
                return r;
        }
        s = last_nl + 1;
    }
    size_t left = (size_t)(end - s);
    if (left >= CAP_INPUT_LINE || (last && left)) {
        if (!*skipping) {
            st->lines++;
            /* at the cap with more to come is cut too (a line of exactly the cap, whose newline
             * starts the next chunk, counts as long) */
            if (left > CAP_INPUT_LINE || (left == CAP_INPUT_LINE && !last)) {
                st->long_lines++;
                left = CAP_INPUT_LINE;
            }
            int r = oomlog_feed_text(p, s, left);
            if (r < 0)
                return r;
        }
        *skipping = !last;
        left = 0;
    }
    keep_rest(buf, s, left, ret_left);
    return 0;
}

/* ---- journalctl's machine forms (journal.h) ---- */

enum form { FORM_UNKNOWN, FORM_TEXT, FORM_JSON, FORM_EXPORT, FORM_VERBOSE };

struct journal_reader {
    struct journal_entry e;
    char *pretty; /* -o json-pretty: the object's lines so far */
    size_t pretty_len, pretty_cap;
    bool in_pretty;
    bool pretty_too_long; /* this object outgrew CAP_INPUT_LINE: skipped up to its closing } */
    bool in_entry; /* -o verbose: an entry is being read */
    uint64_t base; /* st->bytes when the stream began */
};

/* The form of a stream, from its first bytes (at least a line of them, or all there is). */
static enum form detect(const char *buf, size_t len)
{
    const char *s = buf, *end = buf + len;
    while (s < end && (*s == '\n' || *s == '\r' || *s == ' ' || *s == '\t' || *s == '\x1e'))
        s++;
    if ((size_t)(end - s) >= 6 && memcmp(s, "data: ", 6) == 0)
        s += 6;
    if (journal_json_start(s, (size_t)(end - s)))
        return FORM_JSON;
    if (journal_export_start(buf, len))
        return FORM_EXPORT;
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    uint64_t t;
    if (journal_verbose_header(s, (size_t)((nl ? nl : end) - s), &t))
        return FORM_VERBOSE;
    return FORM_TEXT;
}

static void journal_reader_release(struct journal_reader *jr)
{
    journal_entry_release(&jr->e);
    free(jr->pretty);
}

static int pretty_add(struct journal_reader *jr, const char *s, size_t n)
{
    if (jr->pretty_len + n + 1 > jr->pretty_cap) {
        size_t cap = (jr->pretty_len + n + 1) * 2;
        if (cap > CAP_INPUT_LINE + 2)
            return -EFBIG;
        char *b = realloc(jr->pretty, cap);
        if (!b)
            return -ENOMEM;
        jr->pretty = b;
        jr->pretty_cap = cap;
    }
    memcpy(jr->pretty + jr->pretty_len, s, n);
    jr->pretty_len += n;
    jr->pretty[jr->pretty_len++] = '\n';
    return 0;
}

/* One line of -o json, json-seq, json-sse or json-pretty; a line that is no journal entry (a
 * paste's own words around it) is read as text. */
static int json_line(struct oomlog *p, struct journal_reader *jr, const char *s, size_t n,
                     struct logsource_stats *st)
{
    if (n && s[n - 1] == '\r')
        n--;
    if (jr->in_pretty) {
        bool closing = n == 1 && s[0] == '}';
        if (jr->pretty_too_long) {
            /* its lines are pieces of one entry, not text of their own: skipped to its end */
            jr->in_pretty = !closing;
            return 0;
        }
        int r = pretty_add(jr, s, n);
        if (r == -EFBIG) {
            st->long_entries++;
            jr->pretty_too_long = true;
            jr->in_pretty = !closing;
            return 0;
        }
        if (r < 0 || !closing)
            return r;
        jr->in_pretty = false;
        if (journal_json_parse(jr->pretty, jr->pretty_len, &jr->e) == 0)
            return oomlog_feed_journal(p, &jr->e);
        return 0;
    }
    const char *t = s, *end = s + n;
    while (t < end && *t == '\x1e') /* json-seq's record separator */
        t++;
    if (end - t >= 6 && memcmp(t, "data: ", 6) == 0) /* json-sse */
        t += 6;
    if (end - t == 1 && *t == '{') {
        jr->in_pretty = true;
        jr->pretty_too_long = false;
        jr->pretty_len = 0;
        return pretty_add(jr, t, 1);
    }
    if (t == end)
        return 0;
    if (*t == '{' && journal_json_parse(t, (size_t)(end - t), &jr->e) == 0)
        return oomlog_feed_journal(p, &jr->e);
    return oomlog_feed_text(p, s, n);
}

/* One line of -o verbose: a header ends the entry before it; a line that is neither a header
 * nor a field is read as text. */
static int verbose_line(struct oomlog *p, struct journal_reader *jr, const char *s, size_t n)
{
    uint64_t t;
    if (journal_verbose_header(s, n, &t)) {
        int r = 0;
        if (jr->in_entry) {
            journal_verbose_end(&jr->e);
            r = oomlog_feed_journal(p, &jr->e);
        }
        journal_verbose_begin(&jr->e, t);
        jr->in_entry = true;
        return r;
    }
    if (jr->in_entry) {
        int r = journal_verbose_field(&jr->e, s, n);
        if (r != -EINVAL)
            return r;
    }
    return oomlog_feed_text(p, s, n);
}

/* the entry the end of input completes */
static int verbose_end(struct oomlog *p, struct journal_reader *jr)
{
    if (!jr->in_entry)
        return 0;
    jr->in_entry = false;
    journal_verbose_end(&jr->e);
    return oomlog_feed_journal(p, &jr->e);
}

/* The complete lines of buf[0..len) (all of it at the end), as json_line (verbose_line for -o
 * verbose); the bytes of an unfinished last line remain. */
static int feed_journal_lines(struct oomlog *p, struct journal_reader *jr, char *buf, size_t len,
                              bool last, struct logsource_stats *st, size_t *ret_left, bool verbose)
{
    const char *s = buf, *end = buf + len;
    for (;;) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        if (!nl && !(last && s < end))
            break;
        const char *le = nl ? nl : end;
        st->lines++;
        size_t n = (size_t)(le - s);
        if (n > CAP_INPUT_LINE) {
            st->long_lines++;
            n = CAP_INPUT_LINE;
        }
        int r = verbose ? verbose_line(p, jr, s, n) : json_line(p, jr, s, n, st);
        if (r < 0)
            return r;
        s = nl ? nl + 1 : end;
    }
    if (last && verbose) {
        int r = verbose_end(p, jr);
        if (r < 0)
            return r;
    }
    size_t left = (size_t)(end - s);
    if (left > CAP_INPUT_LINE) {
        /* a line longer than the cap: what there is of it, the rest as its own */
        st->lines++;
        st->long_lines++;
        int r =
            verbose ? verbose_line(p, jr, s, CAP_INPUT_LINE)
                    : json_line(p, jr, s, CAP_INPUT_LINE, st);
        if (r < 0)
            return r;
        left = 0;
    }
    keep_rest(buf, s, left, ret_left);
    return 0;
}

/* The complete entries of -o export text in buf[0..len); the bytes of an unfinished last one
 * remain. */
static int feed_export(struct oomlog *p, struct journal_reader *jr, char *buf, size_t len,
                       bool last, struct logsource_stats *st, size_t *ret_left)
{
    size_t off = 0;
    for (;;) {
        size_t used;
        int r = journal_export_next(buf + off, len - off, last, &jr->e, &used);
        if (r < 0) {
            st->broken_at = st->bytes - jr->base - len + off;
            return -EBADMSG;
        }
        if (r == 0)
            break;
        st->records++;
        if ((r = oomlog_feed_journal(p, &jr->e)) < 0)
            return r;
        off += used;
    }
    size_t left = len - off;
    if (left >= CAP_INPUT_LINE) {
        /* an entry larger than any journalctl prints (its MESSAGE is capped far below) */
        st->broken_at = st->bytes - jr->base - len + off;
        return -EBADMSG;
    }
    if (left && off)
        memmove(buf, buf + off, left);
    *ret_left = left;
    return 0;
}

/* What has been read (buf[0..len), `last` at the end of input), in the form of the stream,
 * decided at its first bytes. */
static int feed_some(struct oomlog *p, enum form *form, struct journal_reader *jr, char *buf,
                     size_t len, bool last, bool *skipping, struct logsource_stats *st,
                     size_t *ret_left)
{
    if (*form == FORM_UNKNOWN) {
        if (!last && len < 4096 && !memchr(buf, '\n', len)) {
            *ret_left = len;
            return 0;
        }
        *form = detect(buf, len);
    }
    switch (*form) {
    case FORM_JSON:
    case FORM_VERBOSE:
        return feed_journal_lines(p, jr, buf, len, last, st, ret_left, *form == FORM_VERBOSE);
    case FORM_EXPORT:
        return feed_export(p, jr, buf, len, last, st, ret_left);
    default:
        return feed_lines(p, buf, len, last, skipping, st, ret_left);
    }
}

int logsource_feed_fd(struct oomlog *p, int fd, struct logsource_stats *st)
{
    /* `buf` holds the unfinished last line of the previous chunk, then the new chunk */
    size_t cap = CHUNK + CAP_INPUT_LINE;
    char *buf = malloc(cap);
    if (!buf)
        return -ENOMEM;
    size_t have = 0;
    bool skipping = false; /* inside a line longer than the cap: drop its rest */
    int r = 0;
    enum form form = FORM_UNKNOWN;
    struct journal_reader jr = {.base = st->bytes};
    journal_entry_init(&jr.e);
    /* gzip is recognised by its magic bytes; anything else is read as it is (the fast path:
     * one copy, into a buffer that stays in cache) */
    unsigned char magic[2];
    ssize_t m = pread(fd, magic, sizeof(magic), 0);
    bool seekable = m >= 0 || errno != ESPIPE;
    bool gzip = m == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    if (seekable && !gzip) {
        for (;;) {
            ssize_t n = read(fd, buf + have, CHUNK);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                r = -errno;
                break;
            }
            st->bytes += (uint64_t)n;
            if ((r = feed_some(p, &form, &jr, buf, have + (size_t)n, n == 0, &skipping, st,
                               &have)) < 0 ||
                n == 0)
                break;
        }
        free(buf);
        journal_reader_release(&jr);
        return r;
    }
    /* gzip, or a pipe (which may carry gzip: gzdopen() passes plain data through unchanged);
     * it takes the fd over, so give it a duplicate */
    int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    gzFile gz = dfd >= 0 ? gzdopen(dfd, "rb") : NULL;
    if (!gz) {
        r = dfd < 0 ? -errno : -ENOMEM;
        if (dfd >= 0)
            close(dfd);
        free(buf);
        journal_reader_release(&jr);
        return r;
    }
    (void)gzbuffer(gz, 256 * 1024);
    for (;;) {
        int n = gzread(gz, buf + have, CHUNK);
        if (n < 0) {
            int zerr;
            (void)gzerror(gz, &zerr);
            r = zerr == Z_ERRNO ? -errno : -EINVAL;
            break;
        }
        st->bytes += (uint64_t)n;
        if ((r = feed_some(p, &form, &jr, buf, have + (size_t)n, n == 0, &skipping, st, &have)) <
                0 ||
            n == 0)
            break;
    }
    if (r == 0) {
        /* zlib ends a stream cut short like a whole one, and says so only here */
        int zerr;
        (void)gzerror(gz, &zerr);
        if (zerr == Z_BUF_ERROR)
            r = -EPIPE;
    }
    free(buf);
    journal_reader_release(&jr);
    gzclose(gz);
    return r;
}

int logsource_feed_path(struct oomlog *p, int dirfd, const char *path, struct logsource_stats *st)
{
    if (strcmp(path, "-") == 0)
        return logsource_feed_fd(p, STDIN_FILENO, st);
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    int r = logsource_feed_fd(p, fd, st);
    close(fd);
    return r;
}

int logsource_feed_kmsg(struct oomlog *p, struct kmsg_reader *rd, struct logsource_stats *st)
{
    struct kmsg_record rec;
    int r;
    while ((r = kmsg_reader_next(rd, &rec)) > 0) {
        st->records++;
        st->bytes += rec.text.n;
        if ((r = oomlog_feed_kmsg(p, &rec)) < 0)
            return r;
    }
    st->lost = rd->lost;
    st->overruns = rd->overruns;
    return r;
}

int logsource_feed_kernel_log(struct oomlog *p, int dirfd, const char *path,
                              struct logsource_stats *st, bool *ret_live)
{
    *ret_live = false;
    struct kmsg_reader *rd = malloc(sizeof(*rd));
    if (!rd)
        return -ENOMEM;
    int r = kmsg_reader_open_at(rd, dirfd, path);
    if (r < 0) {
        free(rd);
        return r;
    }
    struct stat sb;
    if (fstat(rd->fd, &sb) == 0 && !S_ISCHR(sb.st_mode)) {
        r = logsource_feed_fd(p, rd->fd, st);
    } else {
        *ret_live = true;
        r = logsource_feed_kmsg(p, rd, st);
    }
    kmsg_reader_close(rd);
    free(rd);
    if (r == 0)
        r = oomlog_end_source(p);
    return r;
}
