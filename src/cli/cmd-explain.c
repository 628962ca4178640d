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
#include "../engine/explain.h"
#include "../model/kmsg.h"
#include "../model/logsource.h"
#include "../model/logtime.h"
#include "../model/oomlog.h"
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
    "\n"
    "  -n, --last N          only the last N events\n"
    "      --since WHEN      only events at or after WHEN: 30s, 15m, 2h, 3d (ago),\n"
    "                        YYYY-MM-DD[ HH:MM[:SS]] (local time), or "
    "uptime:SECONDS\n" CLI_COMMON_HELP "\n"
    "Exit status: 0 when events were found, 1 when none, 2 when an input could not be read.\n";

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

/* "30s", "15m", "2h", "3d", "2024-05-19", "2024-05-19 18:14[:43]", "uptime:5864.7" */
static int parse_since(const char *arg, time_t now, struct explain_opts *o)
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
        case OPT_SINCE:
            if (parse_since(a.value, time(NULL), o) < 0)
                return cli_usage_error(c,
                                       "--since takes 30s, 15m, 2h, 3d, YYYY-MM-DD[ HH:MM[:SS]] "
                                       "or uptime:SECONDS, not '%s'",
                                       a.value);
            break;
        }
    }
    if (opt < 0)
        return opt == CLI_ARGS_HELP ? -1 : EXIT_USAGE;
    o->files = a.operands;
    o->nfiles = a.noperands;
    return 0;
}

/* The kernel log of this machine (or of --root): a character device, or a saved copy. */
static int read_kmsg(const struct cli *c, struct oomlog *log, struct logsource_stats *st,
                     bool *live, char *path, size_t cap)
{
    const char *root = c->root;
    if (!root || !*root) {
        const char *env = getenv("OOMWARDEN_ROOT");
        root = env && *env ? env : "/";
    }
    snprintf(path, cap, "%s%sdev/kmsg", root, root[strlen(root) - 1] == '/' ? "" : "/");
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
                   double mono_now, size_t *undated)
{
    switch (o->since) {
    case SINCE_NONE:
        return true;
    case SINCE_UPTIME:
        return opt_has(e->uptime_us) && e->uptime_us >= o->since_uptime_us;
    case SINCE_WALL: {
        time_t t;
        if (!event_wall(e, live, now, mono_now, &t)) {
            (*undated)++;
            return false;
        }
        return t >= o->since_wall;
    }
    }
    return true;
}

/* The split in parentheses counts processes, like the total before it: an oom.group event kills
 * several in one memcg, and "5 processes killed (1 in memory cgroups)" reads as 4 elsewhere. */
static void summary_line(const struct oom_event *ev, size_t n, const char *source, struct buf *out)
{
    size_t kills = 0, memcg = 0, global = 0, other = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        for (size_t v = 0; v < ev[i].nvictims; v++)
            k += ev[i].victims[v].kind != OOM_VICTIM_EXITING;
        kills += k;
        if (ev[i].scope == OOM_SCOPE_MEMCG)
            memcg += k;
        else if (ev[i].scope == OOM_SCOPE_GLOBAL)
            global += k;
        else
            other += k;
    }
    buf_printf(out, "%zu OOM event%s in %s: %zu process%s killed", n, n == 1 ? "" : "s", source,
               kills, kills == 1 ? "" : "es");
    const char *sep = " (";
    if (memcg) {
        buf_printf(out, "%s%zu in memory cgroups", sep, memcg);
        sep = ", ";
    }
    if (global) {
        buf_printf(out, "%s%zu machine-wide", sep, global);
        sep = ", ";
    }
    if (other) {
        buf_printf(out, "%s%zu other or unknown scope", sep, other);
        sep = ", ";
    }
    buf_puts(out, *sep == ',' ? ").\n" : ".\n");
    size_t limited = 0;
    uint64_t suppressed = 0;
    for (size_t i = 0; i < n; i++) {
        limited += ev[i].rate_limited;
        suppressed += ev[i].suppressed_reports;
    }
    if (suppressed)
        buf_printf(out,
                   "The kernel counted %" PRIu64 " suppressed report%s (\"callbacks suppressed\": "
                   "it prints at most 10 OOM reports per 5 s).\n",
                   suppressed, suppressed == 1 ? "" : "s");
    if (limited)
        buf_printf(out, "%zu of these kills printed only the kill line: the kernel rate-limited %s.\n",
                   limited, limited == 1 ? "its report" : "their reports");
}

/* Which of the events the text shows: --since keeps `matched` of them, --last the last `shown`. */
static void showing_line(const struct explain_opts *o, size_t shown, size_t matched,
                         struct buf *out)
{
    if (o->since != SINCE_NONE && shown < matched)
        buf_printf(out, "Showing the last %zu of the %zu from --since on.\n", shown, matched);
    else if (o->since != SINCE_NONE)
        buf_printf(out, "Showing the %zu from --since on.\n", shown);
    else
        buf_printf(out, "Showing the last %zu.\n", shown);
}

int cmd_explain(struct cli *c, int argc, char **argv)
{
    struct explain_opts o = {0};
    int r = parse_args(c, &o, argc, argv);
    if (r)
        return r < 0 ? EXIT_OK : r;

    struct oomlog *log = malloc(sizeof(*log));
    if (!log)
        return EXPLAIN_ERROR;
    oomlog_init(log);
    struct logsource_stats st = {0};
    bool errors = false, live = false;
    struct buf source = BUF_INIT(64 * 1024);
    if (o.nfiles == 0) {
        char path[4096];
        if (read_kmsg(c, log, &st, &live, path, sizeof(path)) < 0)
            errors = true;
        if (live)
            buf_printf(&source, "the kernel log (%s)", path);
        else
            buf_printf(&source, "%s (saved records)", path);
    } else {
        for (int i = 0; i < o.nfiles; i++) {
            const char *f = o.files[i];
            r = logsource_feed_path(log, AT_FDCWD, f, &st);
            if (r == 0)
                r = oomlog_end_source(log);
            if (r < 0) {
                log_error("cannot read %s: %s", strcmp(f, "-") ? f : "standard input",
                          r == -EINVAL ? "corrupt compressed data" : strerror(-r));
                errors = true;
            }
        }
        if (o.nfiles == 1)
            buf_puts(&source, strcmp(o.files[0], "-") ? o.files[0] : "standard input");
        else
            buf_printf(&source, "%d files", o.nfiles);
    }
    if ((r = oomlog_finish(log)) < 0) {
        log_error("cannot parse the log: %s", strerror(-r));
        errors = true;
    }
    if (st.long_lines)
        log_warn("%" PRIu64 " lines longer than %lu bytes were cut", st.long_lines,
                 (unsigned long)CAP_INPUT_LINE);

    /* --since, then --last */
    time_t now = time(NULL);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double mono = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    size_t undated = 0, first = 0, n = 0;
    struct oom_event *ev = log->events;
    size_t *keep = calloc(log->nevents ? log->nevents : 1, sizeof(*keep));
    if (!keep) {
        oomlog_release(log);
        free(log);
        buf_release(&source);
        return EXPLAIN_ERROR;
    }
    for (size_t i = 0; i < log->nevents; i++)
        if (wanted(&o, &ev[i], live, now, mono, &undated))
            keep[n++] = i;
    if (undated)
        log_notice("%zu event%s without a date in the text left out by --since", undated,
                   undated == 1 ? "" : "s");
    if (o.last && (size_t)o.last < n)
        first = n - (size_t)o.last;
    /* the shown events, contiguous, for the cascade analysis */
    struct oom_event *shown = malloc((n - first ? n - first : 1) * sizeof(*shown));
    size_t ns = 0;
    if (shown)
        for (size_t i = first; i < n; i++)
            shown[ns++] = ev[keep[i]];

    struct buf out = BUF_INIT(CAP_OUTPUT);
    struct cascade *cas = NULL;
    size_t ncas = 0;
    int q = shown ? explain_cascades(shown, ns, &cas, &ncas) : -ENOMEM;
    if (q == 0 && c->json) {
        struct json j;
        json_init(&j, &out, true);
        json_obj_begin(&j);
        json_key(&j, "events");
        json_arr_begin(&j);
        for (size_t i = 0; i < ns && q == 0; i++) {
            q = explain_event_json(&shown[i], &j);
            /* stream: a 200 MB log makes tens of MB of JSON; the writer's state is in `j` */
            if (q == 0 && out.len > 1024 * 1024) {
                if (cli_emit(&out))
                    q = -EIO; /* cli_emit said why */
                buf_reset(&out);
            }
        }
        json_arr_end(&j);
        json_key(&j, "cascades");
        json_arr_begin(&j);
        for (size_t i = 0; i < ncas && q == 0; i++) {
            struct buf t = BUF_INIT(64 * 1024);
            q = explain_cascade_text(shown, &cas[i], &t);
            json_obj_begin(&j);
            json_kv_u64(&j, "first_event", cas[i].first);
            json_kv_u64(&j, "last_event", cas[i].last);
            json_kv_u64(&j, "kills", cas[i].kills);
            json_key(&j, "seconds");
            json_double(&j, (double)cas[i].span_us / 1e6, 6);
            json_kv_u64(&j, "max_freed_kb", cas[i].max_freed_kb);
            json_kv_u64(&j, "last_freed_kb", cas[i].last_freed_kb);
            json_kv_u64(&j, "positive_oom_score_adj", cas[i].positive_adj);
            if (t.len && t.data[t.len - 1] == '\n')
                t.data[--t.len] = '\0';
            json_kv_str(&j, "summary", buf_cstr(&t));
            json_obj_end(&j);
            buf_release(&t);
        }
        json_arr_end(&j);
        json_key(&j, "input");
        json_obj_begin(&j);
        json_kv_str(&j, "source", buf_cstr(&source));
        json_kv_u64(&j, "bytes", st.bytes);
        json_kv_u64(&j, "lines", st.lines ? st.lines : st.records);
        json_kv_u64(&j, "kernel_lines", log->kernel_lines);
        json_kv_u64(&j, "userspace_lines", log->user_lines);
        json_kv_u64(&j, "kmsg_records_lost", st.lost);
        json_kv_u64(&j, "events_found", log->nevents);
        json_kv_u64(&j, "suppressed_reports", log->suppressed_reports);
        json_obj_end(&j);
        json_obj_end(&j);
        if (q == 0)
            q = json_error(&j);
    } else if (q == 0) {
        struct explain_style style = {
            .color = term_use_color(STDOUT_FILENO, c->color),
            .boot_wall = live ? (double)now - mono : 0,
        };
        if (ns == 0 && !errors) {
            buf_printf(&out, "No OOM-killer reports in %s", buf_cstr(&source));
            if (log->nevents)
                buf_printf(&out, " match (%zu found)", log->nevents);
            buf_puts(&out, ".\n");
        } else if (ns) {
            /* the headline counts what the input holds; a subset says which */
            summary_line(log->events, log->nevents, buf_cstr(&source), &out);
            if (ns < log->nevents)
                showing_line(&o, ns, n, &out);
        }
        for (size_t i = 0; i < ns && q == 0; i++) {
            buf_putc(&out, '\n');
            q = explain_event_text(&shown[i], first + i + 1, n, &style, &out);
            if (q == 0 && out.len > 1024 * 1024) {
                if (cli_emit(&out))
                    q = -EIO; /* cli_emit said why */
                buf_reset(&out);
            }
        }
        for (size_t i = 0; i < ncas && q == 0; i++) {
            buf_puts(&out, i ? "" : "\n");
            buf_puts(&out, "Cascade: ");
            q = explain_cascade_text(shown, &cas[i], &out);
        }
    }
    int rc;
    if (q < 0) {
        if (q != -EIO)
            log_error("cannot format the output: %s", strerror(-q));
        rc = EXPLAIN_ERROR;
    } else {
        rc = cli_emit(&out) ? EXPLAIN_ERROR
             : errors       ? EXPLAIN_ERROR
             : ns           ? EXPLAIN_FOUND
                            : EXPLAIN_NONE;
    }
    buf_release(&out);
    free(cas);
    free(shown);
    free(keep);
    oomlog_release(log);
    free(log);
    buf_release(&source);
    return rc;
}
