/*
 * oomwarden doctor: what will go wrong on this machine when memory runs out, ranked, with the
 * evidence and the fix.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/table.h"
#include "engine/doctor/doctor.h"
#include "model/node.h"
#include "model/critical.h"
#include "model/sysroot.h"
#include "cli.h"

/* doctor's exit codes: scripts and CI branch on them */
#define DOCTOR_EXIT_OK 0       /* nothing above info */
#define DOCTOR_EXIT_WARNING 1  /* at least one warning, no critical */
#define DOCTOR_EXIT_CRITICAL 2 /* at least one critical finding */
#define DOCTOR_EXIT_ERROR 3    /* the checks could not run (no /proc, no /proc/meminfo) */

static const char usage[] =
    "Usage: oomwarden doctor [OPTIONS]\n"
    "\n"
    "Audits how this machine will behave when memory runs out and says what will go wrong,\n"
    "most severe first, each finding with its evidence and the fix.\n"
    "\n"
    "      --only ID[,ID]    run only these checks (repeatable)\n"
    "      --skip ID[,ID]    do not run these checks (repeatable)\n"
    "      --critical NAMES  node-critical process names (comm; a trailing '*' matches a prefix),\n"
    "                        comma-separated; '+NAMES' adds to the default list\n"
    "      --list            the checks and the default node-critical names\n"
    "      --interval D      the pressure check reads the refault counters twice, D apart\n"
    "                        (default 1s; 0: do not wait, no rate)\n" CLI_COMMON_HELP "\n"
    "Exit status: 0 nothing above info, 1 warnings, 2 critical findings, 3 the checks could\n"
    "not run, 64 a bad flag.\n";

enum { OPT_ONLY = OPT_FIRST_COMMAND_OPTION, OPT_SKIP, OPT_CRITICAL, OPT_LIST, OPT_INTERVAL };

struct doctor_cli {
    bool only_set, list;
    bool only[CHECK_COUNT], skip[CHECK_COUNT];
    char *critical_text;   /* owned copy the patterns point into */
    const char **critical; /* NULL: the default */
    size_t ncritical;
    uint64_t interval_ms;
};

static int parse_ids(const struct cli *c, const char *flag, const char *arg, bool *set)
{
    char *copy = strdup(arg), *save = NULL;
    if (!copy)
        return EXIT_FAIL;
    int r = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int id = doctor_check_find(tok);
        if (id < 0) {
            r = cli_usage_error(c, "%s: no check '%s' (oomwarden doctor --list)", flag, tok);
            break;
        }
        set[id] = true;
    }
    free(copy);
    return r;
}

static int parse_critical(const struct cli *c, struct doctor_cli *o, const char *arg)
{
    bool add = arg[0] == '+';
    free(o->critical_text);
    free(o->critical);
    o->critical = NULL;
    o->ncritical = 0;
    o->critical_text = strdup(add ? arg + 1 : arg);
    size_t ndef = 0;
    while (critical_default_names[ndef])
        ndef++;
    size_t cap = strlen(arg) + 1 + (add ? ndef : 0);
    o->critical = calloc(cap, sizeof(*o->critical));
    if (!o->critical_text || !o->critical)
        return EXIT_FAIL;
    if (add)
        for (size_t i = 0; i < ndef; i++)
            o->critical[o->ncritical++] = critical_default_names[i];
    char *save = NULL;
    for (char *tok = strtok_r(o->critical_text, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        o->critical[o->ncritical++] = tok;
    if (o->ncritical == 0)
        return cli_usage_error(c, "--critical needs at least one name");
    return 0;
}

static int doctor_option(struct cli *c, int opt, const char *value, void *ctx)
{
    struct doctor_cli *o = ctx;
    switch (opt) {
    case OPT_ONLY:
        o->only_set = true;
        return parse_ids(c, "--only", value, o->only);
    case OPT_SKIP:
        return parse_ids(c, "--skip", value, o->skip);
    case OPT_CRITICAL:
        return parse_critical(c, o, value);
    case OPT_LIST:
        o->list = true;
        break;
    case OPT_INTERVAL:
        return cli_parse_interval(c, value, &o->interval_ms);
    }
    return 0;
}

static int parse_args(struct cli *c, struct doctor_cli *o, int argc, char **argv)
{
    static const struct args_option opts[] = {
        {"only", 0, ARGS_VALUE, OPT_ONLY},
        {"skip", 0, ARGS_VALUE, OPT_SKIP},
        {"critical", 0, ARGS_VALUE, OPT_CRITICAL},
        {"list", 0, ARGS_NO_VALUE, OPT_LIST},
        {"interval", 0, ARGS_VALUE, OPT_INTERVAL},
        CLI_COMMON_OPTIONS,
    };
    return cli_parse_options_only(c, argc, argv, opts, usage, doctor_option, o);
}

static void list_checks(struct buf *out)
{
    buf_puts(out, "checks, in the order of their impact:\n");
    for (int i = 0; i < CHECK_COUNT; i++)
        buf_printf(out, "  %-13s %s\n", doctor_checks[i].id, doctor_checks[i].summary);
    buf_puts(out, "\ndefault node-critical names (--critical):\n ");
    for (size_t i = 0; critical_default_names[i]; i++)
        buf_printf(out, " %s", critical_default_names[i]);
    buf_putc(out, '\n');
}

static const char *result_name(enum doctor_result r, const struct doctor_report *rep, int check)
{
    if (r == RESULT_FINDING) {
        for (size_t i = 0; i < rep->n; i++)
            if ((int)rep->v[i].check == check)
                return doctor_severity_name(rep->v[i].severity);
    }
    return r == RESULT_OK ? "ok" : r == RESULT_SKIPPED ? "skipped" : "not_run";
}

static int exit_for(const struct doctor_report *rep)
{
    int w = doctor_worst(rep);
    return w == DOCTOR_CRITICAL  ? DOCTOR_EXIT_CRITICAL
           : w == DOCTOR_WARNING ? DOCTOR_EXIT_WARNING
                                 : DOCTOR_EXIT_OK;
}

static void render_json(const struct node *n, const struct doctor_report *rep, struct buf *out)
{
    struct json j;
    json_init(&j, out, true);
    json_obj_begin(&j);
    json_kv_str(&j, "kernel_release", n->kernel.known ? n->kernel.release : NULL);
    json_kv_obj_begin(&j, "summary");
    json_kv_u64(&j, "critical", rep->count[DOCTOR_CRITICAL]);
    json_kv_u64(&j, "warning", rep->count[DOCTOR_WARNING]);
    json_kv_u64(&j, "info", rep->count[DOCTOR_INFO]);
    json_kv_i64(&j, "exit_code", exit_for(rep));
    json_obj_end(&j);
    json_kv_arr_begin(&j, "findings");
    for (size_t i = 0; i < rep->n; i++)
        doctor_finding_json(&rep->v[i], &j);
    json_arr_end(&j);
    json_kv_arr_begin(&j, "checks");
    for (int c = 0; c < CHECK_COUNT; c++) {
        json_obj_begin(&j);
        json_kv_str(&j, "id", doctor_checks[c].id);
        json_kv_str(&j, "result", result_name(rep->result[c], rep, c));
        json_kv_str(&j, "note", rep->note[c]);
        json_obj_end(&j);
    }
    json_arr_end(&j);
    json_obj_end(&j);
}

static enum table_style severity_style(enum doctor_severity s)
{
    return s == DOCTOR_CRITICAL ? STYLE_BOLD_RED : s == DOCTOR_WARNING ? STYLE_YELLOW : STYLE_CYAN;
}

static void put_sanitized(struct buf *out, const char *s)
{
    text_sanitize_into(out, s, strlen(s));
}

static void render_text(const struct cli *c, const struct node *n, const struct doctor_report *rep,
                        struct buf *out)
{
    bool color = term_use_color(STDOUT_FILENO, c->color);
    size_t ran = 0, ok = 0, skipped = 0;
    for (int i = 0; i < CHECK_COUNT; i++) {
        ran += rep->result[i] != RESULT_NOT_RUN;
        ok += rep->result[i] == RESULT_OK;
        skipped += rep->result[i] == RESULT_SKIPPED;
    }
    buf_printf(out,
               "oomwarden doctor: %zu critical, %zu warning%s, %zu info; %zu of %zu check%s "
               "passed, %zu skipped",
               rep->count[DOCTOR_CRITICAL], rep->count[DOCTOR_WARNING],
               rep->count[DOCTOR_WARNING] == 1 ? "" : "s", rep->count[DOCTOR_INFO], ok, ran,
               ran == 1 ? "" : "s", skipped);
    if (n->kernel.known)
        buf_printf(out, " (kernel %s)", n->kernel.release);
    buf_puts(out, "\n");
    for (size_t i = 0; i < rep->n; i++) {
        const struct finding *f = &rep->v[i];
        buf_putc(out, '\n');
        if (color)
            buf_puts(out, style_ansi(severity_style(f->severity)));
        const char *sev = f->severity == DOCTOR_CRITICAL  ? "CRITICAL"
                          : f->severity == DOCTOR_WARNING ? "WARNING"
                                                          : "INFO";
        buf_puts(out, sev);
        if (color)
            buf_puts(out, STYLE_RESET);
        buf_printf(out, " %s: ", doctor_checks[f->check].id);
        put_sanitized(out, f->title);
        buf_putc(out, '\n');
        for (size_t k = 0; k < f->nevidence; k++) {
            const char *e = f->evidence[k];
            /* lines that start with two spaces are items of the line above */
            if (e[0] == ' ' && e[1] == ' ')
                buf_puts(out, "    ");
            else
                buf_puts(out, "  - ");
            put_sanitized(out, e[0] == ' ' && e[1] == ' ' ? e + 2 : e);
            buf_putc(out, '\n');
        }
        for (size_t k = 0; k < f->nfix; k++) {
            if (color)
                buf_puts(out, style_ansi(STYLE_GREEN));
            buf_puts(out, "  fix: ");
            if (color)
                buf_puts(out, STYLE_RESET);
            put_sanitized(out, f->fix[k]);
            buf_putc(out, '\n');
        }
    }
    for (int pass = 0; pass < 2; pass++) {
        enum doctor_result want = pass == 0 ? RESULT_OK : RESULT_SKIPPED;
        bool header = false;
        for (int i = 0; i < CHECK_COUNT; i++) {
            if (rep->result[i] != want)
                continue;
            if (!header) {
                buf_puts(out, pass == 0 ? "\npassed\n" : "\nskipped\n");
                header = true;
            }
            buf_printf(out, "  %-13s ", doctor_checks[i].id);
            put_sanitized(out, rep->note[i] ? rep->note[i] : "");
            buf_putc(out, '\n');
        }
    }
}

static void doctor_cli_release(struct doctor_cli *o)
{
    free(o->critical_text);
    free(o->critical);
}

/* Which checks run (--only, --skip) and what of the node they need read. */
static unsigned plan_checks(const struct doctor_cli *o, struct doctor_opts *dopts)
{
    *dopts = (struct doctor_opts){.critical = o->critical, .ncritical = o->ncritical};
    unsigned parts = 0;
    for (int i = 0; i < CHECK_COUNT; i++) {
        dopts->run[i] = (!o->only_set || o->only[i]) && !o->skip[i];
        if (!dopts->run[i])
            continue;
        if (i == CHECK_KILL_ORDER || i == CHECK_OOM_DAEMON || i == CHECK_ADJ ||
            i == CHECK_OOM_GROUP)
            parts |= NODE_READ_PROCS;
        if ((i >= CHECK_LIMITS && i <= CHECK_PSI_CGROUPS) || i == CHECK_GUARD_BAND)
            parts |= NODE_READ_CGROUPS;
        if (i == CHECK_RECENT_KILLS || i == CHECK_KERNEL_LOG)
            parts |= NODE_READ_KMSG;
    }
    return parts;
}

/* The checks on a node read, and their report; the exit status. */
static int diagnose(const struct cli *c, const struct doctor_cli *o,
                    const struct doctor_opts *dopts, struct node *n, struct buf *out)
{
    int q;
    /* page-cache refaults per second: a second reading of the counters */
    if (dopts->run[CHECK_PRESSURE] && (q = node_measure_refaults(n, o->interval_ms)) < 0) {
        log_error("doctor: %s", strerror(-q));
        return DOCTOR_EXIT_ERROR;
    }
    struct doctor_report rep;
    if ((q = doctor_run(n, dopts, &rep)) < 0) {
        log_error("doctor: %s", strerror(-q));
        return DOCTOR_EXIT_ERROR;
    }
    if (c->json)
        render_json(n, &rep, out);
    else
        render_text(c, n, &rep, out);
    int r = cli_emit(out) ? DOCTOR_EXIT_ERROR : exit_for(&rep);
    doctor_report_release(&rep);
    return r;
}

int cmd_doctor(struct cli *c, int argc, char **argv)
{
    _cleanup_(doctor_cli_release) struct doctor_cli o = {.interval_ms = 1000};
    int r = parse_args(c, &o, argc, argv);
    if (r)
        return r < 0 ? EXIT_OK : r;
    _cleanup_(buf_release) struct buf out = BUF_INIT(CAP_OUTPUT);
    if (o.list) {
        list_checks(&out);
        return cli_emit(&out);
    }
    struct doctor_opts dopts;
    unsigned parts = plan_checks(&o, &dopts);
    _cleanup_(sysroot_close) struct sysroot sr; /* cli_open_root sets it up, failing or not */
    if (cli_open_root(c, &sr))
        return DOCTOR_EXIT_ERROR;
    struct node n;
    int q = node_read(&sr, parts, &n);
    if (q < 0) {
        log_error("cannot read %s: %s", sysroot_path(&sr, "/proc"), strerror(-q));
        return DOCTOR_EXIT_ERROR;
    }
    r = diagnose(c, &o, &dopts, &n, &out);
    node_release(&n);
    return r;
}
