/*
 * oomwarden explain: kernel OOM reports in words, from the kernel log or from files.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../base/buf.h"
#include "../base/cursor.h"
#include "../base/json.h"
#include "../base/limits.h"
#include "../base/log.h"
#include "../base/opt.h"
#include "engine/report/explain/explain-report.h"
#include "engine/report/explain/explain.h"
#include "model/log/kmsg.h"
#include "model/log/logsource.h"
#include "model/log/line/logtime.h"
#include "model/log/oomlog.h"
#include "../model/sysroot.h"
#include "../model/workload/podnames.h"
#include "cli.h"

/* explain's own exit codes (the contract): events found, none, trouble reading */
#define EXPLAIN_FOUND 0
#define EXPLAIN_NONE 1
#define EXPLAIN_ERROR 2

static const char usage[] =
    "Usage: oomwarden explain [OPTIONS] [FILE...|-]\n"
    "\n"
    "Finds the kernel's OOM-killer reports and says what happened: which limit was hit (a\n"
    "memory cgroup's or the whole machine's), who asked for memory, who was killed and why that\n"
    "one, what memory it held, whether the reaper got it back, group kills, and cascades.\n"
    "\n"
    "Without FILE it reads this machine's kernel log, /dev/kmsg (<root>/dev/kmsg with --root).\n"
    "FILEs may be dmesg, dmesg -T, syslog/kern.log, journalctl -k output, raw /dev/kmsg records\n"
    "or pasted fragments, plain or gzip-compressed; '-' is standard input.\n"
    "In journalctl -b or -u output it also reads systemd's record of a unit that lost a\n"
    "process to the OOM killer (put with the kernel's report of that kill), and the kills of\n"
    "the userspace OOM killers systemd-oomd and earlyoom (with --json: in userspace_kills,\n"
    "apart from the kernel's events).\n"
    "\n"
    "  -n, --last N          only the last N events\n"
    "      --since WHEN      only events at or after WHEN: 30s, 15m, 2h, 3d (ago),\n"
    "                        YYYY-MM-DD[ HH:MM[:SS]] (local time), or "
    "uptime:SECONDS\n" CLI_COMMON_HELP "\n"
    "Exit status: 0 when OOM events or userspace killers' kills were found, 1 when none,\n"
    "2 when an input could not be read.\n";

enum {
    OPT_SINCE = OPT_FIRST_COMMAND_OPTION,
};

enum since_kind { SINCE_NONE, SINCE_WALL, SINCE_UPTIME };

struct explain_opts {
    long last;
    enum since_kind since;
    time_t since_wall;
    uint64_t since_uptime_us;
    char **files;
    int nfiles;
};

/* "YYYY-MM-DD HH:MM:SS" names a moment that exists: mktime() would move "2024-02-30" to March
 * and "25:61" to the next day without a word. Returns NULL or what is wrong, in `why`. */
static const char *impossible_date(const char *s, char *why, size_t cap)
{
    static const char *const months[] = {"January", "February", "March",     "April",
                                         "May",     "June",     "July",      "August",
                                         "September", "October", "November", "December"};
    int y, mo, d, h, mi, se;
    if (sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d", &y, &mo, &d, &h, &mi, &se) != 6)
        return NULL; /* not this form: logtime_parse decides */
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12) {
        snprintf(why, cap, "there is no month %d", mo);
        return why;
    }
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    int dim = days[mo - 1] + (mo == 2 && leap);
    if (d < 1 || d > dim)
        snprintf(why, cap, "%s %d has %d days", months[mo - 1], y, dim);
    else if (h > 23 || mi > 59 || se > 60)
        snprintf(why, cap, "%02d:%02d:%02d is not a time of day", h, mi, se);
    else
        return NULL;
    return why;
}

/* "30s", "15m", "2h", "3d", "2024-05-19", "2024-05-19 18:14[:43]", "uptime:5864.7" */
static int parse_since(const char *arg, time_t now, struct explain_opts *o, char *why, size_t cap)
{
    if (strncmp(arg, "uptime:", 7) == 0) {
        struct cursor c = cursor_make(arg + 7, strlen(arg + 7));
        uint64_t sec, frac = 0;
        int digits = 0;
        if (cursor_u64(&c, &sec) < 0 || sec > 1000000000ull)
            return -EINVAL;
        if (cursor_skip_char(&c, '.')) {
            while (!cursor_eof(&c) && *c.p >= '0' && *c.p <= '9') {
                if (digits < 6) {
                    frac = frac * 10 + (uint64_t)(*c.p - '0');
                    digits++;
                }
                c.p++;
            }
        }
        if (!cursor_eof(&c))
            return -EINVAL;
        for (; digits < 6; digits++)
            frac *= 10;
        o->since = SINCE_UPTIME;
        o->since_uptime_us = sec * 1000000 + frac;
        return 0;
    }
    size_t n = strlen(arg);
    if (n >= 2 && strchr("smhd", arg[n - 1])) {
        char num[32];
        if (n - 1 >= sizeof(num))
            return -EINVAL;
        memcpy(num, arg, n - 1);
        num[n - 1] = '\0';
        uint64_t v;
        if (parse_u64(num, &v) < 0 || v > 100ull * 365 * 86400)
            return -EINVAL;
        uint64_t mult = arg[n - 1] == 's'   ? 1
                        : arg[n - 1] == 'm' ? 60
                        : arg[n - 1] == 'h' ? 3600
                                            : 86400;
        o->since = SINCE_WALL;
        o->since_wall = now - (time_t)(v * mult);
        return 0;
    }
    /* dates: complete the forms logtime_parse knows */
    char full[40];
    if (n == 10)
        snprintf(full, sizeof(full), "%s 00:00:00", arg);
    else if (n == 16)
        snprintf(full, sizeof(full), "%s:00", arg);
    else if (n < sizeof(full))
        snprintf(full, sizeof(full), "%s", arg);
    else
        return -EINVAL;
    if (impossible_date(full, why, cap))
        return -ERANGE;
    time_t t;
    if (full[0] < '0' || full[0] > '9' || !logtime_parse(full, now, &t))
        return -EINVAL;
    o->since = SINCE_WALL;
    o->since_wall = t;
    return 0;
}

static int parse_args(struct cli *c, struct explain_opts *o, int argc, char **argv)
{
    static const struct args_option opts[] = {
        {"last", 'n', ARGS_VALUE, 'n'},
        {"since", 0, ARGS_VALUE, OPT_SINCE},
        CLI_COMMON_OPTIONS,
    };
    struct args a;
    int opt, r;
    cli_args_init(c, &a, argc, argv, opts);
    while ((opt = cli_next_option(c, &a, usage)) > 0) {
        switch (opt) {
        case 'n':
            if ((r = cli_parse_count(c, "--last", a.value, &o->last)))
                return r;
            break;
        case OPT_SINCE: {
            char why[80];
            int q = parse_since(a.value, time(NULL), o, why, sizeof(why));
            if (q == -ERANGE)
                return cli_usage_error(c, "--since '%s' is not a date: %s", a.value, why);
            if (q < 0)
                return cli_usage_error(c,
                                       "--since takes 30s, 15m, 2h, 3d, YYYY-MM-DD[ HH:MM[:SS]] "
                                       "or uptime:SECONDS, not '%s'",
                                       a.value);
            break;
        }
        }
    }
    if (opt < 0)
        return opt == CLI_ARGS_HELP ? -1 : EXIT_USAGE;
    o->files = a.operands;
    o->nfiles = a.noperands;
    return 0;
}

/* <root>/dev/kmsg, the kernel log of this machine or of --root */
static void kmsg_path(const struct cli *c, char *path, size_t cap)
{
    const char *root = c->root;
    if (!root || !*root) {
        const char *env = getenv("OOMWARDEN_ROOT");
        root = env && *env ? env : "/";
    }
    snprintf(path, cap, "%s%sdev/kmsg", root, root[strlen(root) - 1] == '/' ? "" : "/");
}

/* The kernel log is the live device (its records carry only uptimes, which --since turns into
 * dates with this boot's clock), not a saved copy under a fixture --root. */
static bool kmsg_is_device(const struct cli *c)
{
    char path[4096];
    struct stat sb;
    kmsg_path(c, path, sizeof(path));
    return stat(path, &sb) == 0 && S_ISCHR(sb.st_mode);
}

/* The kernel log of this machine (or of --root): a character device, or a saved copy. */
static int read_kmsg(const struct cli *c, struct oomlog *log, struct logsource_stats *st,
                     bool *live, char *path, size_t cap)
{
    kmsg_path(c, path, cap);
    int r = logsource_feed_kernel_log(log, AT_FDCWD, path, st, live);
    if (r == -EPERM || r == -EACCES)
        log_error("cannot read %s: %s. kernel.dmesg_restrict=1 lets only processes with "
                  "CAP_SYSLOG read the kernel log: run as root, or pass a saved log "
                  "(journalctl -k > k.log; oomwarden explain k.log)",
                  path, strerror(-r));
    else if (r < 0)
        log_error("cannot read %s: %s", path, strerror(-r));
    if (*live && st->lost)
        log_warn("%" PRIu64 " kernel log records were overwritten before they could be read "
                 "(%u ring-buffer overruns); reports among them are lost",
                 st->lost, st->overruns);
    return r;
}

/* The wall time of an event, when the text gives one (or /dev/kmsg lets us compute it). */
static bool event_wall(const struct oom_event *e, bool live, time_t now, double mono_now,
                       time_t *ret)
{
    if (e->time[0])
        return logtime_parse(e->time, now, ret);
    if (live && opt_has(e->uptime_us)) {
        /* printk stamps are local_clock(): like CLOCK_MONOTONIC, they stop during suspend */
        *ret = now - (time_t)(mono_now - (double)e->uptime_us / 1e6);
        return true;
    }
    return false;
}

static bool wanted(const struct explain_opts *o, const struct oom_event *e, bool live, time_t now,
                   double mono_now)
{
    switch (o->since) {
    case SINCE_NONE:
        return true;
    case SINCE_UPTIME:
        return opt_has(e->uptime_us) && e->uptime_us >= o->since_uptime_us;
    case SINCE_WALL: {
        time_t t;
        return event_wall(e, live, now, mono_now, &t) && t >= o->since_wall;
    }
    }
    return true;
}

/* --since, for the report's filter */
struct since_ctx {
    const struct explain_opts *o;
    bool live;
    time_t now;
    double mono;
};

static bool since_wanted(void *ctx, const struct oom_event *e)
{
    const struct since_ctx *s = ctx;
    return wanted(s->o, e, s->live, s->now, s->mono);
}

static bool since_undated(void *ctx, const struct oom_event *e)
{
    const struct since_ctx *s = ctx;
    time_t t;
    return s->o->since == SINCE_WALL && !event_wall(e, s->live, s->now, s->mono, &t);
}

/* The files named, in order, each a source of its own; "what was read" into `source`. */
static bool read_files(const struct explain_opts *o, struct oomlog *log,
                       struct logsource_stats *st, struct buf *source)
{
    bool errors = false;
    for (int i = 0; i < o->nfiles; i++) {
        const char *f = o->files[i];
        int r = logsource_feed_path(log, AT_FDCWD, f, st);
        int q = oomlog_end_source(log);
        if (r == 0)
            r = q;
        if (r < 0) {
            if (r == -EBADMSG)
                log_error("cannot read %s: journalctl -o export data broken at byte %" PRIu64
                          " (neither a KEY=value line nor a binary field whose length fits); "
                          "only the events before it are shown",
                          strcmp(f, "-") ? f : "standard input", st->broken_at);
            else
                log_error("cannot read %s: %s", strcmp(f, "-") ? f : "standard input",
                          r == -EINVAL  ? "corrupt compressed data"
                          : r == -EPIPE ? "the compressed data stops short: the file was cut, "
                                          "and only the events before the cut are shown"
                                        : strerror(-r));
            errors = true;
        }
    }
    if (o->nfiles == 1)
        buf_puts(source, strcmp(o->files[0], "-") ? o->files[0] : "standard input");
    else
        buf_printf(source, "%d files", o->nfiles);
    return errors;
}

/* Everything read and parsed into the report; true when an input could not be read. */
static bool read_all(struct cli *c, const struct explain_opts *o, struct oomlog *log,
                     struct logsource_stats *st, struct since_ctx *since, struct buf *source)
{
    bool errors = false;
    if (o->nfiles == 0) {
        char path[4096];
        if (read_kmsg(c, log, st, &since->live, path, sizeof(path)) < 0)
            errors = true;
        if (since->live)
            buf_printf(source, "the kernel log (%s)", path);
        else
            buf_printf(source, "%s (saved records)", path);
    } else {
        errors = read_files(o, log, st, source);
    }
    int r = oomlog_finish(log);
    if (r < 0) {
        if (r != -EIO)
            log_error("cannot parse the log: %s", strerror(-r));
        errors = true;
    }
    if (st->long_lines)
        log_warn("%" PRIu64 " lines longer than %lu bytes were cut", st->long_lines,
                 (unsigned long)CAP_INPUT_LINE);
    if (st->long_entries)
        log_warn("%" PRIu64 " journal entr%s of -o json-pretty longer than %lu bytes %s skipped (a "
                 "kernel message is never that long; journalctl --all prints big fields whole, "
                 "a core dump's among them)",
                 st->long_entries, st->long_entries == 1 ? "y" : "ies",
                 (unsigned long)CAP_INPUT_LINE, st->long_entries == 1 ? "was" : "were");
    if (log->hidden_messages)
        log_warn("%" PRIu64 " kernel message%s shown only as journalctl's \"[... blob data]\" "
                 "(not printable UTF-8, e.g. a process name; a kill line may be among them): "
                 "journalctl --all or -o export shows them",
                 log->hidden_messages, log->hidden_messages == 1 ? " is" : "s are");
    return errors;
}

static int flush_out(struct buf *out)
{
    int r = cli_emit(out);
    buf_reset(out);
    return r;
}

int cmd_explain(struct cli *c, int argc, char **argv)
{
    struct explain_opts o = {0};
    int r = parse_args(c, &o, argc, argv);
    if (r)
        return r < 0 ? EXIT_OK : r;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    struct since_ctx since = {.o = &o, .now = time(NULL)};
    since.mono = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    since.live = o.nfiles == 0 && kmsg_is_device(c);
    /* the pods still on this node (or under --root) name their kills; a pod deleted since is
     * named only in the agent's events, which named it when it saw the kill */
    struct podnames names = PODNAMES_INIT;
    struct sysroot sr;
    if (sysroot_open(&sr, c->root, NULL) == 0) {
        if (podnames_read(&sr, &names) < 0)
            log_debug("out of memory reading the pods' names; they stay unnamed");
        sysroot_close(&sr);
    }
    struct explain_style style = {
        .color = !c->json && term_use_color(STDOUT_FILENO, c->color),
        .boot_wall = since.live ? (double)since.now - since.mono : 0,
        .names = &names,
    };
    struct explain_report_opts ro = {
        .json = c->json,
        .last = (size_t)o.last,
        .style = &style,
        .wanted = o.since != SINCE_NONE ? since_wanted : NULL,
        .undated = since_undated,
        .ctx = &since,
        .flush = flush_out,
    };
    struct explain_report *rep = explain_report_new(&ro);
    struct oomlog *log = malloc(sizeof(*log));
    if (!rep || !log) {
        explain_report_free(rep);
        free(log);
        podnames_release(&names);
        return EXPLAIN_ERROR;
    }
    oomlog_init(log);
    oomlog_stream(log, explain_report_event, rep);
    struct logsource_stats st = {0};
    struct buf source = BUF_INIT(64 * 1024);
    bool errors = read_all(c, &o, log, &st, &since, &source);
    struct explain_input in = {
        .source = buf_cstr(&source),
        .bytes = st.bytes,
        .lines = st.lines ? st.lines : st.records,
        .kernel_lines = log->kernel_lines,
        .user_lines = log->user_lines,
        .kmsg_lost = st.lost,
        .suppressed_reports = log->suppressed_reports,
    };
    struct explain_report_result res;
    int q = explain_report_end(rep, &in, errors, &res);
    if (res.undated)
        log_notice("%zu event%s without a date in the text left out by --since", res.undated,
                   res.undated == 1 ? "" : "s");
    if (q < 0 && q != -EIO)
        log_error("cannot format the output: %s", strerror(-q));
    int rc = q < 0 || errors ? EXPLAIN_ERROR : res.shown ? EXPLAIN_FOUND : EXPLAIN_NONE;
    explain_report_free(rep);
    oomlog_release(log);
    free(log);
    buf_release(&source);
    podnames_release(&names);
    return rc;
}
