/*
 * The userspace lines about OOM kills (userkill.h) among the kernel's: systemd's record of a
 * unit that lost a process, systemd-oomd's and earlyoom's kills.
 *
 * systemd learns of a kernel kill from the cgroup's memory.events and logs it for the unit and
 * for every unit above it (the slices, user@UID.service): those lines are the same kill as the
 * kernel's report, attached to it and never counted again. They are matched by the cgroup path
 * the kernel printed (task_memcg, 4.19+: the unit is one of its components) within
 * UNIT_CGROUP_WINDOW_S, or without a path by time alone within UNIT_TIME_WINDOW_S; wider gaps
 * are never bridged. Without a kernel kill near, the lines are an event of their own: systemd's
 * record, with no pid or size (systemd prints none).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "journal.h"
#include "line/logline.h"
#include "line/logtime.h"
#include "oomlog-int.h"
#include "line/userkill.h"

#define UNIT_CGROUP_WINDOW_S 10.0  /* journald's stamp of a kmsg record and pid 1's reaction */
#define UNIT_TIME_WINDOW_S 3.0     /* the same, with nothing but the time to go by */
#define UNIT_RESULT_WINDOW_S 120.0 /* "Failed with result" comes when the unit has stopped */
#define LOOK_BACK 32               /* events looked at for a match */
/* a fixed "now" for the year of syslog stamps: only differences between stamps are used */
#define STAMP_NOW ((time_t)2000000000)

/* seconds from (ta, ua) to (tb, ub); false when the two stamps cannot be compared */
static bool seconds_between(const char *ta, uint64_t ua, const char *tb, uint64_t ub, double *d)
{
    if (opt_has(ua) && opt_has(ub)) {
        *d = ((double)ub - (double)ua) / 1e6;
        return true;
    }
    time_t a, b;
    if (!ta[0] || !tb[0] || !logtime_parse(ta, STAMP_NOW, &a) || !logtime_parse(tb, STAMP_NOW, &b))
        return false;
    /* a stamp without a year (syslog's) takes the other's when that has one (ISO): the same log
     * of one machine in two forms */
    (void)logtime_parse(ta, b + 86400, &a);
    (void)logtime_parse(tb, a + 86400, &b);
    *d = difftime(b, a);
    return true;
}

static bool within(const struct oom_event *e, const char *t, uint64_t u, double window)
{
    const struct oom_victim *v = oom_event_primary(e);
    const char *et = v && v->time[0] ? v->time : e->time;
    uint64_t eu = v && opt_has(v->uptime_us) ? v->uptime_us : e->uptime_us;
    double d;
    return seconds_between(et, eu, t, u, &d) && d >= -window && d <= window;
}

/* `unit` is a component of the cgroup path */
static bool path_has_unit(const char *path, const char *unit)
{
    size_t n = strlen(unit);
    for (const char *s = path; s && *s; s = strchr(s + 1, '/')) {
        const char *c = *s == '/' ? s + 1 : s;
        if (strncmp(c, unit, n) == 0 && (c[n] == '/' || c[n] == '\0'))
            return true;
    }
    return false;
}

/* slices and user@UID.service hold other units: systemd names them for a kill below them.
 * 0: a slice, 1: a user manager's service, 2: a unit that holds processes of its own */
static int unit_rank(const char *unit)
{
    size_t n = strlen(unit);
    if (n > 6 && strcmp(unit + n - 6, ".slice") == 0)
        return 0;
    return strncmp(unit, "user@", 5) == 0 ? 1 : 2;
}

static bool container_unit(const char *unit)
{
    return unit_rank(unit) < 2;
}

static struct oom_userside *userside(struct oom_event *e)
{
    if (e->user)
        return e->user;
    struct oom_userside *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->oomd_processes = -1;
    s->swap_used = s->swap_total = OPT_ABSENT;
    s->badness = s->oom_score = s->oom_score_adj = OPT_ABSENT_I64;
    s->avail_mib = s->total_mib = s->swap_free_mib = s->swap_total_mib = OPT_ABSENT;
    return e->user = s;
}

static bool names_unit(const struct oom_userside *s, const char *unit)
{
    if (!s)
        return false;
    if (!strcmp(s->unit, unit))
        return true;
    size_t n = strlen(unit);
    for (const char *a = strstr(s->slices, unit); a; a = strstr(a + 1, unit))
        if ((a == s->slices || a[-1] == ' ') && (a[n] == ',' || a[n] == '\0'))
            return true;
    return false;
}

static void add_also(struct oom_userside *s, const char *unit)
{
    if (names_unit(s, unit))
        return;
    size_t len = strlen(s->slices);
    if (len + strlen(unit) + 3 < sizeof(s->slices))
        snprintf(s->slices + len, sizeof(s->slices) - len, "%s%s", len ? ", " : "", unit);
}

/* one of systemd's lines about `unit`, into the event's record */
static void note_unit(struct oom_event *e, struct oom_userside *s, const struct userkill *k,
                      const char *time)
{
    const char *path = e->task_memcg ? e->task_memcg : s->cgroup[0] ? s->cgroup : NULL;
    bool deeper = false;
    if (s->unit[0] && path && path_has_unit(path, s->unit) && path_has_unit(path, k->unit))
        deeper = strstr(path, s->unit) < strstr(path, k->unit);
    if (!s->unit[0] ||
        (strcmp(s->unit, k->unit) && (unit_rank(s->unit) < unit_rank(k->unit) || deeper))) {
        char above[sizeof(s->unit)];
        memcpy(above, s->unit, sizeof(above));
        snprintf(s->unit, sizeof(s->unit), "%s", k->unit);
        if (above[0])
            add_also(s, above);
        if (time[0])
            snprintf(s->unit_time, sizeof(s->unit_time), "%s", time);
    } else if (strcmp(s->unit, k->unit)) {
        add_also(s, k->unit);
    }
    if (strcmp(s->unit, k->unit))
        return; /* what happened to the unit above it is the same thing */
    s->unit_oom_line |= k->kind == UK_UNIT_OOM;
    s->unit_result_oom |= k->kind == UK_UNIT_RESULT_OOM;
    s->unit_main_killed |= k->kind == UK_UNIT_MAIN_KILLED;
    if (k->kind == UK_UNIT_OOMD)
        s->oomd_processes = k->processes;
}

/* the kill (the kernel's or systemd-oomd's) a line of systemd's about `k->unit` is about */
static struct oom_event *unit_kill(struct oomlog *p, const struct userkill *k, const char *t,
                                   uint64_t u)
{
    size_t stop = p->nevents > LOOK_BACK ? p->nevents - LOOK_BACK : 0;
    for (size_t i = p->nevents; i-- > stop;) {
        struct oom_event *e = &p->events[i];
        if (e->merged || e->record == OOM_RECORD_SYSTEMD || e->record == OOM_RECORD_EARLYOOM)
            continue;
        const char *path = e->record == OOM_RECORD_OOMD ? e->user->cgroup : e->task_memcg;
        bool own = names_unit(e->user, k->unit);
        if (own && within(e, t, u, UNIT_RESULT_WINDOW_S) && k->kind != UK_UNIT_OOM)
            return e;
        if (e->record == OOM_RECORD_KERNEL && (!e->nvictims || (own && k->kind == UK_UNIT_OOM)))
            continue;
        if (path && path_has_unit(path, k->unit) && within(e, t, u, UNIT_CGROUP_WINDOW_S))
            return e;
        if (!path && e->record == OOM_RECORD_KERNEL && k->kind == UK_UNIT_OOM &&
            within(e, t, u, UNIT_TIME_WINDOW_S))
            return e;
    }
    return NULL;
}

/* an event of systemd's lines alone that this line adds to */
static struct oom_event *unit_record(struct oomlog *p, const struct userkill *k, const char *t,
                                     uint64_t u)
{
    size_t stop = p->nevents > LOOK_BACK ? p->nevents - LOOK_BACK : 0;
    for (size_t i = p->nevents; i-- > stop;) {
        struct oom_event *e = &p->events[i];
        if (e->merged || e->record != OOM_RECORD_SYSTEMD)
            continue;
        const struct oom_userside *s = e->user;
        if (!strcmp(s->unit, k->unit))
            return (k->kind == UK_UNIT_OOM && s->unit_oom_line) ||
                           !within(e, t, u, UNIT_RESULT_WINDOW_S)
                       ? NULL
                       : e;
        /* the units above a kill, named in the same second */
        if ((container_unit(k->unit) || container_unit(s->unit)) && within(e, t, u, 2.0))
            return e;
    }
    return NULL;
}

static struct oom_event *new_record(struct oomlog *p, enum oom_record rec, struct span time,
                                    uint64_t uptime)
{
    struct oomlog_line l = {.time = time, .uptime_us = uptime};
    uint64_t pending = p->suppressed_pending; /* the next kernel report's */
    struct oom_event *e = oomlog_open_event(p, &l);
    if (!e)
        return NULL;
    p->open = false; /* no kernel line belongs to it */
    e->suppressed_reports = 0;
    p->suppressed_pending = pending;
    e->record = rec;
    e->killer = rec == OOM_RECORD_OOMD       ? OOM_KILLER_OOMD
                : rec == OOM_RECORD_EARLYOOM ? OOM_KILLER_EARLYOOM
                                             : OOM_KILLER_KERNEL;
    e->header = false;
    return userside(e) ? e : NULL;
}

static int unit_line(struct oomlog *p, const struct userkill *k, struct span time, uint64_t up,
                     const char *t)
{
    struct oom_event *e = unit_kill(p, k, t, up);
    if (!e)
        e = unit_record(p, k, t, up);
    if (!e) {
        /* a unit's main process killed by SIGKILL is no OOM kill on its own word */
        if (k->kind == UK_UNIT_MAIN_KILLED)
            return 0;
        if (!(e = new_record(p, OOM_RECORD_SYSTEMD, time, up)))
            return -ENOMEM;
    }
    struct oom_userside *s = userside(e);
    if (!s)
        return -ENOMEM;
    note_unit(e, s, k, t);
    if (e->record != OOM_RECORD_SYSTEMD)
        return 0;
    if (s->unit_oom_line)
        e->killer = OOM_KILLER_KERNEL;
    else if (s->oomd_processes >= 0) /* systemd-oomd's kill, its own line not in the text */
        e->killer = OOM_KILLER_OOMD;
    else if (s->unit_result_oom)
        e->killer = OOM_KILLER_UNKNOWN; /* 'oom-kill' is also systemd-oomd's result (251+) */
    else
        e->killer = OOM_KILLER_KERNEL;
    return 0;
}

static void copy_oomd(struct oom_userside *s, const struct userkill *k)
{
    memcpy(s->cgroup, k->cgroup, sizeof(s->cgroup));
    memcpy(s->pressure_cgroup, k->pressure_cgroup, sizeof(s->pressure_cgroup));
    memcpy(s->pressure, k->pressure, sizeof(s->pressure));
    memcpy(s->limit, k->limit, sizeof(s->limit));
    memcpy(s->duration, k->duration, sizeof(s->duration));
    s->swap = k->swap;
    s->marked = k->marked;
    s->swap_used = k->swap_used;
    s->swap_total = k->swap_total;
}

/* earlyoom before 1.6 sent SIGTERM again every 100 ms to a process that lived on, and logged
 * each: the same kill, tried again */
static struct oom_event *earlyoom_again(struct oomlog *p, const struct userkill *k, const char *t)
{
    struct oom_event *e = p->nevents ? &p->events[p->nevents - 1] : NULL;
    if (!e || e->record != OOM_RECORD_EARLYOOM || e->victims[0].pid != k->pid ||
        strcmp(e->victims[0].comm, k->comm))
        return NULL;
    double d;
    bool near = (!t[0] && !e->time[0]) ||
                (seconds_between(e->time, OPT_ABSENT, t, OPT_ABSENT, &d) && d >= 0 && d <= 60);
    return near ? e : NULL;
}

static int earlyoom_kill(struct oomlog *p, const struct userkill *k, struct span time, uint64_t up,
                         const char *t)
{
    struct oom_event *again = earlyoom_again(p, k, t);
    if (again) {
        again->user->attempts++;
        memcpy(again->user->signal, k->signal, sizeof(again->user->signal));
        oomlog_user_reset(p);
        return 0;
    }
    struct oom_event *e = new_record(p, OOM_RECORD_EARLYOOM, time, up);
    struct oom_victim *v = e ? oomlog_add_victim(e) : NULL;
    if (!v)
        return -ENOMEM;
    struct oom_userside *s = e->user;
    /* its "mem avail" and "low memory!" lines, printed right before the kill */
    struct oom_userside *pend = &p->earlyoom_pending;
    double d;
    if (pend->limit_signal[0] || opt_has(pend->avail_mib)) {
        bool both_bare = !t[0] && !p->earlyoom_time[0];
        if (both_bare ||
            (seconds_between(p->earlyoom_time, OPT_ABSENT, t, OPT_ABSENT, &d) && d >= 0 && d <= 2))
            *s = *pend;
    }
    oomlog_user_reset(p);
    memcpy(s->signal, k->signal, sizeof(s->signal));
    s->attempts = 1;
    s->badness = k->badness;
    s->oom_score = k->oom_score;
    s->oom_score_adj = k->oom_score_adj;
    s->oomd_processes = -1;
    s->swap_used = s->swap_total = OPT_ABSENT;
    v->pid = k->pid;
    v->uid = k->uid;
    v->oom_score_adj = k->oom_score_adj;
    snprintf(v->comm, sizeof(v->comm), "%s", k->comm);
    v->vm_rss_kb = opt_has(k->vm_rss_mib) ? k->vm_rss_mib * 1024 : OPT_ABSENT;
    snprintf(v->time, sizeof(v->time), "%s", t);
    v->uptime_us = up;
    return 0;
}

static void earlyoom_context(struct oomlog *p, const struct userkill *k, const char *t)
{
    struct oom_userside *s = &p->earlyoom_pending;
    if (k->kind == UK_EARLYOOM_LOW) {
        memcpy(s->mem_limit, k->mem_limit, sizeof(s->mem_limit));
        memcpy(s->swap_limit, k->swap_limit, sizeof(s->swap_limit));
        memcpy(s->limit_signal, k->limit_signal, sizeof(s->limit_signal));
    } else {
        s->avail_mib = k->avail_mib;
        s->total_mib = k->total_mib;
        s->swap_free_mib = k->swap_free_mib;
        s->swap_total_mib = k->swap_total_mib;
    }
    snprintf(p->earlyoom_time, sizeof(p->earlyoom_time), "%s", t);
}

void oomlog_user_reset(struct oomlog *p)
{
    struct oom_userside *s = &p->earlyoom_pending;
    memset(s, 0, sizeof(*s));
    s->avail_mib = s->total_mib = s->swap_free_mib = s->swap_total_mib = OPT_ABSENT;
    p->earlyoom_time[0] = '\0';
}

int oomlog_feed_user(struct oomlog *p, struct span time, uint64_t uptime, struct span program,
                     struct span text)
{
    struct userkill k;
    if (!userkill_parse(program, text, &k))
        return 0;
    /* the kernel line held back for a continuation is complete: its kill is the one to match */
    int r = oomlog_flush_held(p);
    if (r < 0)
        return r;
    char t[OOMLOG_TIME_MAX];
    copy_span(t, sizeof(t), time);
    switch (k.kind) {
    case UK_UNIT_OOM:
    case UK_UNIT_RESULT_OOM:
    case UK_UNIT_MAIN_KILLED:
    case UK_UNIT_OOMD:
        r = unit_line(p, &k, time, uptime, t);
        return r < 0 ? r : 1;
    case UK_OOMD_KILL: {
        struct oom_event *e = new_record(p, OOM_RECORD_OOMD, time, uptime);
        if (!e)
            return -ENOMEM;
        copy_oomd(e->user, &k);
        return 1;
    }
    case UK_EARLYOOM_KILL:
        r = earlyoom_kill(p, &k, time, uptime, t);
        return r < 0 ? r : 1;
    case UK_EARLYOOM_LOW:
    case UK_EARLYOOM_AVAIL:
        earlyoom_context(p, &k, t);
        return 1;
    case UK_NONE:
        break;
    }
    return 0;
}

/* A kernel kill closed: systemd's lines about it that came first (a paste newest first, or
 * journald's order) are its own, not an event of their own. */
void oomlog_user_absorb(struct oomlog *p, struct oom_event *e)
{
    if (e->record != OOM_RECORD_KERNEL || !e->nvictims || e < p->events ||
        e >= p->events + p->nevents)
        return;
    size_t at = (size_t)(e - p->events);
    size_t stop = at > LOOK_BACK ? at - LOOK_BACK : 0;
    for (size_t i = at; i-- > stop;) {
        struct oom_event *s = &p->events[i];
        if (s->merged || s->record != OOM_RECORD_SYSTEMD || !s->user->unit_oom_line)
            continue;
        const char *t = s->user->unit_time[0] ? s->user->unit_time : s->time;
        bool by_path = e->task_memcg && path_has_unit(e->task_memcg, s->user->unit) &&
                       within(e, t, s->uptime_us, UNIT_CGROUP_WINDOW_S);
        bool by_time = !e->task_memcg && within(e, t, s->uptime_us, UNIT_TIME_WINDOW_S);
        if (!by_path && !by_time)
            continue;
        if (e->user) /* already told by a line after it: this one is another kill's */
            continue;
        e->user = s->user;
        s->user = NULL;
        s->merged = true;
    }
}

int oomlog_user_text(struct oomlog *p, const struct logline *ll)
{
    if (ll->kmsg)
        return 0;
    if (ll->source == LOGLINE_USER)
        return oomlog_feed_user(p, ll->time, ll->uptime_us, ll->program, ll->text);
    /* earlyoom's or systemd's lines: a terminal's copy without their syslog tag, or their tag
     * in kernel text */
    struct span prog = {ll->text.p, 0}, msg = ll->text;
    if (userkill_tagged(ll->text, &prog, &msg) || ll->source == LOGLINE_BARE)
        return oomlog_feed_user(p, ll->time, ll->uptime_us, prog, msg);
    return 0;
}

int oomlog_user_journal(struct oomlog *p, const struct journal_entry *e)
{
    p->user_lines++;
    if (!e->has_message)
        return 0;
    char time[OOMLOG_TIME_MAX];
    journal_format_time(e, time, sizeof(time));
    struct span id = {e->identifier, strlen(e->identifier)};
    int r = oomlog_feed_user(p, (struct span){time, strlen(time)}, OPT_ABSENT, id,
                             (struct span){e->message, e->message_len});
    return r < 0 ? r : 0;
}

bool oom_event_userspace_kill(const struct oom_event *e)
{
    /* systemd's record of a unit that systemd-oomd killed in is such a kill too */
    return e->killer == OOM_KILLER_OOMD || e->killer == OOM_KILLER_EARLYOOM;
}

void oomlog_drop_userspace_kills(struct oomlog *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->nevents; i++) {
        if (oom_event_userspace_kill(&p->events[i]))
            oom_event_release(&p->events[i]);
        else
            p->events[n++] = p->events[i];
    }
    p->nevents = n;
}
