/* Choosing: the guard's order over a domain's ranking, and the table that shows it. Pure. */
#include "guard.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "base/table.h"
#include "base/units.h"
#include "model/proc/procs.h"
#include "model/proc/victims.h"

const char *guard_reason_name(enum guard_reason r)
{
    switch (r) {
    case GUARD_REASON_MEMORY_FLOOR:
        return "memory_floor";
    case GUARD_REASON_CGROUP_HEADROOM:
        return "cgroup_headroom";
    case GUARD_REASON_PSI:
        return "psi";
    case GUARD_REASON_THRASH:
        return "thrash";
    case GUARD_REASON_COUNT:
        break;
    }
    return "?";
}

int guard_amount_parse(const char *s, struct guard_amount *ret)
{
    size_t n = strlen(s);
    *ret = (struct guard_amount){0};
    if (n > 1 && s[n - 1] == '%') {
        /* digits only: strtoul would also take " 5%", "+5%" and "-0%" */
        if (s[0] < '0' || s[0] > '9')
            return -EINVAL;
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        if (end != s + n - 1 || v > 100)
            return -EINVAL;
        ret->percent = (unsigned)v;
        /* 0% is "off": the amount is 0 bytes */
        return 0;
    }
    return parse_size(s, &ret->bytes) < 0 ? -EINVAL : 0;
}

uint64_t guard_amount_of(const struct guard_amount *a, uint64_t total)
{
    return a->percent ? percent_of(total, a->percent) : a->bytes;
}

static int tier(enum guard_weight w)
{
    return w == WEIGHT_PREFER ? 0 : w == WEIGHT_AVOID ? 2 : 1;
}

static const struct guard_candidate *sort_base;

static int cmp_order(const void *a, const void *b)
{
    const struct guard_candidate *x = &sort_base[*(const size_t *)a];
    const struct guard_candidate *y = &sort_base[*(const size_t *)b];
    bool cx = !x->excluded, cy = !y->excluded;
    if (cx != cy)
        return cx ? -1 : 1;
    if (cx) {
        int tx = tier(x->verdict.weight), ty = tier(y->verdict.weight);
        if (tx != ty)
            return tx < ty ? -1 : 1;
        return x->kernel_rank < y->kernel_rank ? -1 : x->kernel_rank > y->kernel_rank;
    }
    /* excluded rows: those the kernel would take first, then by pid */
    size_t rx = x->kernel_rank ? x->kernel_rank : SIZE_MAX,
           ry = y->kernel_rank ? y->kernel_rank : SIZE_MAX;
    if (rx != ry)
        return rx < ry ? -1 : 1;
    return x->proc->pid < y->proc->pid ? -1 : x->proc->pid > y->proc->pid;
}

size_t guard_order(const struct victim_list *vl, const struct policy_verdict *verdicts, pid_t self,
                   struct guard_candidate *c, size_t *order)
{
    size_t ncand = 0;
    for (size_t i = 0; i < vl->n; i++) {
        const struct victim *v = &vl->v[i];
        const struct proc *p = v->proc;
        struct guard_candidate *g = &c[i];
        *g = (struct guard_candidate){
            .proc = p, .eligible = v->eligible, .badness = v->badness, .kernel_rank = v->rank};
        if (verdicts)
            g->verdict = verdicts[i];
        else
            g->verdict = (struct policy_verdict){.adj = POLICY_ADJ_UNSET,
                                                 .adj_rule = SIZE_MAX,
                                                 .weight = WEIGHT_NORMAL,
                                                 .weight_rule = SIZE_MAX,
                                                 .kill_unit = KILL_UNIT_PROCESS,
                                                 .unit_rule = SIZE_MAX};
        /* the order of these tests is the order of the reasons people need to read */
        if (p->pid == 1)
            g->excluded = "init (pid 1)";
        else if (p->kernel_thread)
            g->excluded = "kernel thread";
        else if (p->pid == self)
            g->excluded = "oomwarden itself";
        else if (p->has_oom && p->oom_score_adj == -1000)
            g->excluded = "oom_score_adj -1000";
        else if (g->verdict.weight == WEIGHT_PROTECT)
            g->excluded = "protected by policy";
        else if (!v->scored)
            g->excluded = "gone before it was read";
        else if (!v->eligible)
            g->excluded = "no memory to free (no mm, exiting, or in vfork)";
        else
            ncand++;
        order[i] = i;
    }
    sort_base = c;
    qsort(order, vl->n, sizeof(*order), cmp_order);
    sort_base = NULL;
    size_t k = 0;
    for (size_t i = 0; i < vl->n; i++)
        c[order[i]].order = c[order[i]].excluded ? 0 : ++k;
    return ncand;
}

int guard_table_text(const struct policy *p, const struct guard_candidate *c, const size_t *order,
                     size_t n, size_t rows, long page_size, struct buf *out)
{
    buf_printf(out, "  %-3s %7s %-15s %7s %6s %9s %5s %-8s %-7s %s\n", "#", "PID", "COMM", "RSS",
               "ADJ", "BADNESS", "KERN", "GUARD", "UNIT", "CGROUP / WHY NOT");
    size_t shown = 0, i;
    for (i = 0; i < n; i++) {
        const struct guard_candidate *g = &c[order[i]];
        if (shown >= rows)
            break;
        /* the excluded rows that matter: those the kernel itself would take */
        if (g->excluded && !g->kernel_rank && g->verdict.weight != WEIGHT_PROTECT)
            continue;
        shown++;
        char rss[FMT_SIZE_LEN], pos[8], bad[24], kr[8], w[40];
        fmt_size(rss, g->proc->has_mm ? proc_rss(g->proc) : 0);
        snprintf(pos, sizeof(pos), "%zu", g->order);
        snprintf(bad, sizeof(bad), "%" PRId64, g->badness);
        snprintf(kr, sizeof(kr), "%zu", g->kernel_rank);
        if (g->verdict.weight_rule != SIZE_MAX && p)
            snprintf(w, sizeof(w), "%s:%s", guard_weight_name(g->verdict.weight),
                     p->v[g->verdict.weight_rule].name);
        else
            snprintf(w, sizeof(w), "%s", guard_weight_name(g->verdict.weight));
        const char *cg = proc_cgroup_path(g->proc);
        (void)page_size;
        /* anyone can name a process: no control bytes into the log (or a terminal) */
        char comm[16];
        size_t cn = 0;
        for (const unsigned char *q = (const unsigned char *)g->proc->comm; *q && cn < 15; q++)
            comm[cn++] = *q < 0x20 || *q >= 0x7f ? '?' : (char)*q;
        comm[cn] = '\0';
        buf_printf(out, "  %-3s %7d %-15s %7s %6d %9s %5s %-8s %-7s ", g->excluded ? "-" : pos,
                   (int)g->proc->pid, comm, rss, g->proc->oom_score_adj, g->eligible ? bad : "-",
                   g->kernel_rank ? kr : "-", w, kill_unit_name(g->verdict.kill_unit));
        text_sanitize_into(out, cg ? cg : "?", strlen(cg ? cg : "?"));
        buf_printf(out, "%s%s\n", g->excluded ? ": never: " : "", g->excluded ? g->excluded : "");
    }
    size_t rest = 0;
    for (; i < n; i++)
        rest += c[order[i]].excluded == NULL;
    if (rest)
        buf_printf(out, "  ... %zu more candidates\n", rest);
    return 0;
}
