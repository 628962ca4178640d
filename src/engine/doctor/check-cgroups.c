#include "doctor-int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/limits.h"

/* ---- 2. limits over RAM -------------------------------------------------------------------- */

static bool has_limit(const struct cgroup_memory *cg)
{
    return !is_root(cg) && cgroup_limit_set(cg->max);
}

/* How the limits of a snapshot's cgroups add up (per cgroup: index into the snapshot). */
struct limit_sums {
    uint64_t ram, swap, cap; /* cap: RAM + swap, what any limit is counted as at most */
    bool *under;             /* a limited ancestor above whose limit sees the charges */
    uint64_t *commit;        /* what the cgroup can reach: limited ones at their limit */
    uint64_t *kids_limits;   /* the limits of its top-most limited descendants */
    size_t *top;             /* the top-most limited cgroups, ntop of them */
    uint64_t sum, biggest;   /* of the top-most limits */
    size_t ntop, nlimited, at_ram;
    uint64_t committed; /* the root's commit */
    size_t nested;      /* limited cgroups whose children's limits add up beyond theirs */
    size_t over;        /* the top-most limit whose children's add up most beyond cap */
};

static void limit_sums_release(struct limit_sums *l)
{
    free(l->under);
    free(l->commit);
    free(l->kids_limits);
    free(l->top);
}

static uint64_t capped(const struct limit_sums *l, uint64_t v)
{
    return v < l->cap ? v : l->cap;
}

/* Which limits are top-most, their sum and the largest. */
static void limit_sums_top(const struct cgroup_snapshot *s, struct limit_sums *l)
{
    for (size_t i = 0; i < s->n; i++) {
        size_t p = s->v[i].parent;
        /* v1 memory.use_hierarchy 0 (until 5.10): the parent's limit never sees its charges */
        l->under[i] =
            p != SIZE_MAX && cgroup_charges_reach(&s->v[p]) && (has_limit(&s->v[p]) || l->under[p]);
        if (!has_limit(&s->v[i]))
            continue;
        l->nlimited++;
        uint64_t lim = capped(l, s->v[i].max);
        if (s->v[i].max >= l->ram)
            l->at_ram++;
        if (!l->under[i]) {
            l->sum += lim;
            l->top[l->ntop++] = i;
            if (lim > l->biggest)
                l->biggest = lim;
        }
    }
}

/* Whether c's limit is one of i's top-most limited descendants: no limited cgroup between them,
 * and c's charges reach i. */
static bool limit_reaches_directly(const struct cgroup_snapshot *s, size_t c, size_t i)
{
    bool direct = true;
    for (size_t a = s->v[c].parent; a != SIZE_MAX; a = s->v[a].parent) {
        if (!cgroup_charges_reach(&s->v[a]) || (a != i && has_limit(&s->v[a])))
            direct = false;
        if (a == i)
            break;
    }
    return direct;
}

/* What the cgroups can reach: each limited one at its limit, the others as they are now
 * (their own charge plus what their children can reach). Bottom-up over the pre-order. */
static void limit_sums_commit(const struct cgroup_snapshot *s, struct limit_sums *l)
{
    for (size_t i = s->n; i-- > 0;) {
        const struct cgroup_memory *cg = &s->v[i];
        uint64_t kids_now = 0, kids_commit = 0;
        for (size_t c = i + 1; c < s->n && s->v[c].depth > cg->depth; c++)
            if (s->v[c].parent == i) {
                kids_now += or0(s->v[c].current);
                kids_commit += l->commit[c];
            }
        if (!cgroup_charges_reach(cg)) {
            /* v1 memory.use_hierarchy 0: its usage and limit are its own tasks'; the children
             * count apart */
            l->commit[i] = (has_limit(cg) ? capped(l, cg->max) : or0(cg->current)) + kids_commit;
        } else if (has_limit(cg)) {
            l->commit[i] = capped(l, cg->max);
        } else {
            uint64_t own = or0(cg->current) > kids_now ? or0(cg->current) - kids_now : 0;
            l->commit[i] = own + kids_commit;
        }
        /* the limits of the top-most limited descendants, for nested overcommit */
        for (size_t c = i + 1; c < s->n && s->v[c].depth > cg->depth; c++)
            if (has_limit(&s->v[c]) && limit_reaches_directly(s, c, i))
                l->kids_limits[i] += capped(l, s->v[c].max);
    }
    l->committed = l->commit[0];
    l->over = SIZE_MAX;
    for (size_t i = 0; i < s->n; i++) {
        l->nested += has_limit(&s->v[i]) && l->kids_limits[i] > s->v[i].max;
        /* a top-most limit whose children's limits add up beyond RAM (+ swap) */
        if (has_limit(&s->v[i]) && !l->under[i] && l->kids_limits[i] > l->cap &&
            (l->over == SIZE_MAX || l->kids_limits[i] > l->kids_limits[l->over]))
            l->over = i;
    }
}

static int limit_sums_measure(const struct node *n, struct limit_sums *l)
{
    const struct cgroup_snapshot *s = &n->cgroups;
    size_t m = s->n ? s->n : 1;
    *l = (struct limit_sums){.ram = or0(n->mem.mem_total), .swap = or0(n->mem.swap_total)};
    l->cap = l->ram + l->swap;
    l->under = calloc(m, sizeof(bool));
    l->commit = calloc(m, sizeof(uint64_t));
    l->kids_limits = calloc(m, sizeof(uint64_t));
    l->top = calloc(m, sizeof(size_t));
    if (!l->under || !l->commit || !l->kids_limits || !l->top)
        return -ENOMEM;
    limit_sums_top(s, l);
    limit_sums_commit(s, l);
    return 0;
}

/* The finding's title, or false when the limits fit. */
static bool limits_title(const struct cgroup_snapshot *s, const struct limit_sums *l, struct fb *b)
{
    char a[24], b2[24], c2[24];
    const char *plus_swap = l->swap ? " + swap" : "";
    if (l->sum > l->cap)
        fb_title(b, DOCTOR_WARNING,
                 "memory limits add up to %s, more than RAM%s (%s): a machine-wide OOM can come "
                 "before any cgroup reaches its own limit",
                 szl(a, l->sum), plus_swap, szl(b2, l->cap));
    else if (l->committed > l->cap)
        fb_title(b, DOCTOR_WARNING,
                 "the limited cgroups at their limits plus what the others use now need %s, more "
                 "than RAM%s (%s): a machine-wide OOM can come first",
                 szl(a, l->committed), plus_swap, szl(b2, l->cap));
    /* kubepods at 95%+ of RAM (little or nothing reserved) with pod limits beyond RAM: the
     * pods can take all but what is left, and a machine-wide OOM among the daemons comes
     * as soon as those need more (the seed incident's node had kubepods at 100%) */
    else if (l->over != SIZE_MAX && l->sum >= l->ram / 100 * 95)
        fb_title(b, DOCTOR_WARNING,
                 "the limits under %s add up to %s, more than RAM%s (%s), and the top-most limits "
                 "take %u%% of RAM: %s is all the node's own daemons and the kernel have left",
                 s->v[l->over].path, szl(a, l->kids_limits[l->over]), plus_swap, szl(b2, l->cap),
                 fmt_percent(l->sum, l->ram), szl(c2, l->ram > l->sum ? l->ram - l->sum : 0));
    else if (l->sum > l->ram)
        fb_title(b, DOCTOR_INFO,
                 "memory limits add up to %s, more than RAM (%s) but within RAM + swap: at their "
                 "limits together the machine swaps",
                 szl(a, l->sum), szl(b2, l->ram));
    else if (l->nested)
        fb_title(b, DOCTOR_INFO,
                 "the limits of the cgroups under %zu limited cgroup%s add up to more than the "
                 "parent's limit",
                 l->nested, l->nested == 1 ? "" : "s");
    else
        return false;
    return true;
}

/* The numbers, the largest top-most limits (sorted in place), the nested overcommits. */
static void limits_evidence(const struct node *n, struct limit_sums *l, struct fb *b)
{
    const struct cgroup_snapshot *s = &n->cgroups;
    char a[24], b2[24], c2[24], d[24];
    fb_ev(b,
          "RAM %s, swap %s; %zu memory cgroups have a limit, %zu of them top-most (no limited "
          "cgroup above them, so their children are not counted again)",
          szl(a, l->ram), szl(b2, l->swap), l->nlimited, l->ntop);
    fb_ev(b,
          "top-most limits: %s in all (%u%% of RAM%s); with the unlimited cgroups at what they "
          "use now: %s",
          szl(a, l->sum), fmt_percent(l->sum, l->swap ? l->cap : l->ram), l->swap ? " + swap" : "",
          szl(b2, l->committed));
    size_t *top = l->top;
    for (size_t k = 0; k < l->ntop && k < 6; k++) {
        size_t best = k;
        for (size_t m = k + 1; m < l->ntop; m++)
            if (s->v[top[m]].max > s->v[top[best]].max)
                best = m;
        size_t t = top[k];
        top[k] = top[best];
        top[best] = t;
        const struct cgroup_memory *cg = &s->v[top[k]];
        fb_ev(b, "  %s %s (%u%% of RAM), using %s: %s",
              n->hier.memory_version == 2 ? "memory.max" : "limit_in_bytes", szl(a, cg->max),
              fmt_percent(cg->max, l->ram), szl(b2, or0(cg->current)), cg->path);
    }
    fb_more(b, l->ntop, 6);
    if (l->at_ram)
        fb_ev(b,
              "%zu limit%s at or above RAM (%s): such a limit protects nothing, the machine "
              "runs out first",
              l->at_ram, l->at_ram == 1 ? " is" : "s are", szl(a, l->ram));
    size_t shown = 0;
    for (size_t i = 0; i < s->n && shown < 3; i++)
        if (has_limit(&s->v[i]) && l->kids_limits[i] > s->v[i].max) {
            fb_ev(b,
                  "the cgroups under %s have limits adding up to %s over its %s: its own OOM "
                  "(choosing among all of them) can come before any of them reaches its limit",
                  s->v[i].path, szl(c2, l->kids_limits[i]), szl(d, s->v[i].max));
            shown++;
        }
}

static void limits_json(const struct cgroup_snapshot *s, const struct limit_sums *l, struct json *j)
{
    json_kv_u64(j, "ram", l->ram);
    json_kv_u64(j, "swap", l->swap);
    json_kv_u64(j, "limits_sum", l->sum);
    json_kv_u64(j, "committed", l->committed);
    json_kv_u64(j, "limited_cgroups", l->nlimited);
    json_kv_arr_begin(j, "top_limits");
    for (size_t k = 0; k < l->ntop; k++) {
        const struct cgroup_memory *cg = &s->v[l->top[k]];
        json_obj_begin(j);
        json_kv_str(j, "path", cg->path);
        json_kv_u64(j, "max", cg->max);
        json_kv_u64_opt(j, "current", cg->current);
        json_obj_end(j);
    }
    json_arr_end(j);
    json_kv_arr_begin(j, "nested");
    for (size_t i = 0; i < s->n; i++)
        if (has_limit(&s->v[i]) && l->kids_limits[i] > s->v[i].max) {
            json_obj_begin(j);
            json_kv_str(j, "path", s->v[i].path);
            json_kv_u64(j, "max", s->v[i].max);
            json_kv_u64(j, "children_limits", l->kids_limits[i]);
            json_obj_end(j);
        }
    json_arr_end(j);
}

int check_limits(const struct node *n, struct doctor_report *r)
{
    _cleanup_(limit_sums_release) struct limit_sums l;
    if (limit_sums_measure(n, &l) < 0)
        return -ENOMEM;
    char a[24], b2[24], c2[24];
    if (l.nlimited == 0)
        return doctor_note(r, CHECK_LIMITS, RESULT_OK, "no memory cgroup has a limit");
    struct fb b;
    fb_begin(&b, CHECK_LIMITS);
    if (!limits_title(&n->cgroups, &l, &b)) {
        fb_discard(&b);
        return doctor_note(r, CHECK_LIMITS, RESULT_OK,
                           "%zu limited cgroup%s; the top-most limits add up to %s, %u%% of "
                           "RAM%s (%s); at their limits with the other cgroups as they are now: %s",
                           l.nlimited, l.nlimited == 1 ? "" : "s", szl(a, l.sum),
                           fmt_percent(l.sum, l.cap), l.swap ? " + swap" : "", szl(b2, l.cap),
                           szl(c2, l.committed));
    }
    limits_evidence(n, &l, &b);
    fb_fix(&b, "lower the limits (memory.max; Kubernetes: resources.limits.memory; systemd: "
               "MemoryMax=) so that the top-most ones add up to less than RAM minus what the "
               "system itself needs");
    fb_fix(&b, "or put them under one parent whose memory.max is below RAM (Kubernetes: kubelet "
               "systemReserved/kubeReserved with enforceNodeAllocatable: [pods] limits "
               "kubepods): the OOM is then that parent's, among its children, not the machine's");
    limits_json(&n->cgroups, &l, &b.j);
    return fb_commit(r, &b);
}

/* ---- 3. memory.max without memory.high --------------------------------------------------------
 */

/* Limited cgroups without memory.high on them or an ancestor; the busy ones in hit[]. */
static size_t busy_without_high(const struct cgroup_snapshot *s, size_t *hit, size_t *quiet,
                                size_t *withhigh)
{
    size_t nhit = 0;
    for (size_t i = 0; i < s->n; i++) {
        const struct cgroup_memory *cg = &s->v[i];
        if (!has_limit(cg))
            continue;
        bool high = false;
        for (size_t a = i; a != SIZE_MAX && !high; a = s->v[a].parent)
            high = !is_root(&s->v[a]) && cgroup_limit_set(s->v[a].high);
        if (high) {
            (*withhigh)++;
            continue;
        }
        bool busy = fmt_percent(or0(cg->current), cg->max) >= 50 || or0(cg->events.max) > 0 ||
                    or0(cg->events.oom_kill) > 0;
        if (busy)
            hit[nhit++] = i;
        else
            (*quiet)++;
    }
    return nhit;
}

static void sort_fullest_first(const struct cgroup_snapshot *s, size_t *hit, size_t nhit)
{
    for (size_t k = 0; k < nhit; k++)
        for (size_t m = k + 1; m < nhit; m++) {
            const struct cgroup_memory *x = &s->v[hit[k]], *y = &s->v[hit[m]];
            if ((long double)or0(y->current) / (long double)y->max >
                (long double)or0(x->current) / (long double)x->max) {
                size_t t = hit[k];
                hit[k] = hit[m];
                hit[m] = t;
            }
        }
}

static void memory_high_json(const struct cgroup_snapshot *s, const size_t *hit, size_t nhit,
                             size_t quiet, struct json *j)
{
    json_kv_arr_begin(j, "cgroups");
    for (size_t k = 0; k < nhit; k++) {
        const struct cgroup_memory *cg = &s->v[hit[k]];
        json_obj_begin(j);
        json_kv_str(j, "path", cg->path);
        json_kv_u64_opt(j, "current", cg->current);
        json_kv_u64(j, "max", cg->max);
        json_kv_u64_opt(j, "events_max", cg->events.max);
        json_kv_u64_opt(j, "oom_kill", cg->events.oom_kill);
        json_obj_end(j);
    }
    json_arr_end(j);
    json_kv_u64(j, "quiet_without_high", quiet);
}

int check_memory_high(const struct node *n, struct doctor_report *r)
{
    if (n->hier.memory_version != 2)
        return doctor_note(r, CHECK_MEMORY_HIGH, RESULT_SKIPPED,
                           "cgroup v1 has no memory.high (see psi-cgroups)");
    const struct cgroup_snapshot *s = &n->cgroups;
    _cleanup_free_ size_t *hit = calloc(s->n ? s->n : 1, sizeof(size_t));
    if (!hit)
        return -ENOMEM;
    size_t quiet = 0, withhigh = 0;
    size_t nhit = busy_without_high(s, hit, &quiet, &withhigh);
    if (nhit == 0 && withhigh + quiet == 0)
        return doctor_note(r, CHECK_MEMORY_HIGH, RESULT_OK, "no memory cgroup has a limit");
    if (nhit == 0)
        return doctor_note(
            r, CHECK_MEMORY_HIGH, RESULT_OK,
            "%zu limited cgroups with memory.high set on them or an ancestor; %zu without, under "
            "half full and never at their limit",
            withhigh, quiet);
    sort_fullest_first(s, hit, nhit);
    struct fb b;
    fb_begin(&b, CHECK_MEMORY_HIGH);
    char a[24], c[24];
    fb_title(&b, DOCTOR_WARNING,
             "%zu busy cgroup%s ha%s memory.max but no memory.high: nothing slows %s down before "
             "the OOM killer",
             nhit, nhit == 1 ? "" : "s", nhit == 1 ? "s" : "ve", nhit == 1 ? "it" : "them");
    fb_ev(&b, "busy: at least half of memory.max in use, or memory.events max/oom_kill above 0; "
              "memory.high on the cgroup or an ancestor would throttle and reclaim first");
    for (size_t k = 0; k < nhit && k < 6; k++) {
        const struct cgroup_memory *cg = &s->v[hit[k]];
        fb_ev(
            &b, "  %s: %s of memory.max %s (%u%%), memory.events max %" PRIu64 " oom_kill %" PRIu64,
            cg->path, szl(a, or0(cg->current)), szl(c, cg->max),
            fmt_percent(or0(cg->current), cg->max), or0(cg->events.max), or0(cg->events.oom_kill));
    }
    fb_more(&b, nhit, 6);
    const struct cgroup_memory *e = &s->v[hit[0]];
    fb_fix(&b,
           "set memory.high below memory.max, e.g. 90%%: echo %" PRIu64
           " > /sys/fs/cgroup%s/memory.high (systemd: MemoryHigh=)",
           e->max / 10 * 9, e->path);
    fb_fix(&b, "Kubernetes: the MemoryQoS feature gate (alpha, cgroup v2) makes kubelet set "
               "memory.high on containers with a memory limit (memoryThrottlingFactor)");
    memory_high_json(s, hit, nhit, quiet, &b.j);
    return fb_commit(r, &b);
}

/* ---- 4. memory.oom.group ------------------------------------------------------------------- */

/* Processes whose memcg is snapshot entry i or below it. */
static size_t members(const struct node *n, size_t i, const struct proc **out, size_t cap,
                      size_t *killable)
{
    size_t end = subtree_end(&n->cgroups, i), k = 0;
    *killable = 0;
    for (size_t p = 0; p < n->procs.n; p++) {
        size_t m = n->proc_memcg ? n->proc_memcg[p] : SIZE_MAX;
        if (m == SIZE_MAX || m < i || m >= end)
            continue;
        const struct proc *pr = &n->procs.v[p];
        if (pr->kernel_thread)
            continue;
        if (k < cap)
            out[k] = pr;
        k++;
        if (oomdomain_group_kills(pr))
            (*killable)++;
    }
    return k;
}

/* The top-most cgroups with memory.oom.group=1 (none above them set it). */
static size_t oom_group_tops(const struct node *n, size_t *tops, size_t *multi, size_t *containers)
{
    const struct cgroup_snapshot *s = &n->cgroups;
    size_t ntops = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i].oom_group != 1)
            continue;
        bool above = false;
        for (size_t a = s->v[i].parent; a != SIZE_MAX && !above; a = s->v[a].parent)
            above = s->v[a].oom_group == 1;
        if (above)
            continue;
        tops[ntops++] = i;
        size_t kill;
        members(n, i, NULL, 0, &kill);
        *multi += kill >= 2;
        struct identity id;
        identity_from_cgroup(s->v[i].path, &id);
        *containers += id.container_id[0] != '\0';
    }
    return ntops;
}

/* One group's line of evidence: its first members and its group kills so far. */
static void oom_group_line(const struct node *n, const struct cgroup_memory *cg,
                           const struct proc *const *m, size_t nm, size_t kill, struct fb *b)
{
    char a[FMT_SIZE_LEN], w[IDENTITY_BRIEF_MAX];
    struct buf line = BUF_INIT(CAP_TEXT_LINE);
    doctor_cgroup_words(n, cg->path, w, sizeof(w));
    buf_printf(&line, "  %s (%s): %zu process%s, %zu die%s together", cg->path, w, nm,
               nm == 1 ? "" : "es", kill, kill == 1 ? "s" : "");
    for (size_t q = 0; q < nm && q < 5; q++)
        buf_printf(&line, "%s %s %d (%s)", q ? "," : ":", m[q]->comm, (int)m[q]->pid,
                   sz(a, proc_rss_swap(m[q])));
    if (nm > 5)
        buf_printf(&line, ", ...");
    if (opt_has(cg->events.oom_group_kill) && cg->events.oom_group_kill)
        buf_printf(&line, "; %" PRIu64 " group kill%s so far (memory.events)",
                   cg->events.oom_group_kill, cg->events.oom_group_kill == 1 ? "" : "s");
    fb_ev(b, "%s", buf_cstr(&line));
    buf_release(&line);
}

static void oom_group_json(const struct node *n, size_t i, size_t nm, size_t kill, struct json *j)
{
    const struct cgroup_memory *cg = &n->cgroups.v[i];
    json_obj_begin(j);
    json_kv_str(j, "path", cg->path);
    json_kv_u64(j, "processes", nm);
    json_kv_u64(j, "die_together", kill);
    const struct proc *all[64];
    size_t na = members(n, i, all, 64, &kill);
    json_kv_arr_begin(j, "pids");
    for (size_t q = 0; q < na && q < 64; q++)
        json_i64(j, all[q]->pid);
    json_arr_end(j);
    json_kv_u64_opt(j, "oom_group_kill", cg->events.oom_group_kill);
    json_obj_end(j);
}

/* The example for the fix: the first group where two or more die together. */
static size_t oom_group_example(const struct node *n, const size_t *tops, size_t ntops)
{
    for (size_t k = 0; k < ntops; k++) {
        size_t kill;
        members(n, tops[k], NULL, 0, &kill);
        if (kill >= 2)
            return tops[k];
    }
    return tops[0];
}

int check_oom_group(const struct node *n, struct doctor_report *r)
{
    if (n->hier.memory_version != 2)
        return doctor_note(r, CHECK_OOM_GROUP, RESULT_SKIPPED,
                           "cgroup v1 has no memory.oom.group: an OOM kills one process");
    const struct cgroup_snapshot *s = &n->cgroups;
    _cleanup_free_ size_t *tops = calloc(s->n ? s->n : 1, sizeof(size_t));
    if (!tops)
        return -ENOMEM;
    size_t multi = 0, containers = 0;
    size_t ntops = oom_group_tops(n, tops, &multi, &containers);
    if (ntops == 0)
        return doctor_note(r, CHECK_OOM_GROUP, RESULT_OK,
                           "memory.oom.group is 0 everywhere: an OOM kill takes one process");
    struct fb b;
    fb_begin(&b, CHECK_OOM_GROUP);
    fb_title(&b, multi ? DOCTOR_WARNING : DOCTOR_INFO,
             "memory.oom.group=1 on %zu cgroup%s (%zu container%s): an OOM kill of one process "
             "there kills every process of the cgroup%s",
             ntops, ntops == 1 ? "" : "s", containers, containers == 1 ? "" : "s",
             multi ? "" : " (each holds one killable process now)");
    fb_ev(&b, "the kernel kills the victim, then every other process of the highest cgroup with "
              "memory.oom.group=1 between it and the OOMing cgroup (the root, for a machine-wide "
              "OOM), except those at oom_score_adj -1000");
    json_kv_arr_begin(&b.j, "groups");
    size_t shown = 0;
    for (size_t k = 0; k < ntops; k++) {
        const struct proc *m[5];
        size_t kill, nm = members(n, tops[k], m, 5, &kill);
        if (shown < 6 && (kill >= 2 || !multi)) {
            oom_group_line(n, &s->v[tops[k]], m, nm, kill, &b);
            shown++;
        }
        oom_group_json(n, tops[k], nm, kill, &b.j);
    }
    json_arr_end(&b.j);
    fb_more(&b, ntops, shown);
    if (containers) {
        fb_ev(&b, "kubelet 1.28+ sets memory.oom.group=1 on every container cgroup on cgroup v2, "
                  "unless singleProcessOOMKill is true (1.32+); on cgroup v1 it kills single "
                  "processes");
        fb_fix(&b, "Kubernetes 1.32+: singleProcessOOMKill: true in the kubelet configuration "
                   "brings back single-process kills on cgroup v2");
    }
    fb_fix(&b,
           "for one cgroup: echo 0 > /sys/fs/cgroup%s/memory.oom.group (kubelet writes it "
           "again for a new container; systemd sets it for OOMPolicy=kill)",
           s->v[oom_group_example(n, tops, ntops)].path);
    fb_fix(&b, "or keep it, deliberately: a group kill is right when the processes cannot work "
               "without each other");
    return fb_commit(r, &b);
}

/* ---- 5. page cache at the limit -------------------------------------------------------------- */

/* Limited cgroups at 90% of their limit with page cache at half of it; in `sticky` those
 * where reclaim cannot make room. */
static size_t page_cache_full(const struct node *n, size_t *hit, size_t *sticky)
{
    const struct cgroup_snapshot *s = &n->cgroups;
    size_t nhit = 0;
    for (size_t i = 0; i < s->n; i++) {
        const struct cgroup_memory *cg = &s->v[i];
        if (!has_limit(cg) || !opt_has(cg->current) || !opt_has(cg->stat.file))
            continue;
        if (fmt_percent(cg->current, cg->max) < 90 || fmt_percent(cg->stat.file, cg->current) < 50)
            continue;
        hit[nhit++] = i;
        /* what reclaim can really take (active page cache too), not the working set */
        struct cgroup_outlook ol;
        node_outlook(n, i, &ol);
        if (ol.verdict == OUTLOOK_TIGHT || ol.verdict == OUTLOOK_OOM_NEXT)
            (*sticky)++;
    }
    return nhit;
}

/* One cgroup: a line of evidence (the first 6) and its JSON object. */
static void page_cache_cgroup(const struct node *n, size_t i, bool say, struct fb *b)
{
    const struct cgroup_memory *cg = &n->cgroups.v[i];
    const struct cgroup_memstat *st = &cg->stat;
    char a[24], c[24], d[24], e[24], f[24], g[24], h[24], i2[24], j2[24];
    uint64_t ws = cgroup_working_set(cg);
    uint64_t dirty = or0(st->file_dirty) + or0(st->file_writeback);
    struct cgroup_outlook ol;
    node_outlook(n, i, &ol);
    if (say)
        fb_ev(b,
              "  %s: %s of %s (%u%%); page cache %s (%u%% of usage): inactive %s, active %s, "
              "shmem %s, dirty+writeback %s; reclaim can drop %s: room before an OOM kill "
              "%s (%s, confidence %s)",
              cg->path, szl(a, cg->current), szl(c, cg->max), fmt_percent(cg->current, cg->max),
              szl(d, st->file), fmt_percent(st->file, cg->current), szl(e, or0(st->inactive_file)),
              szl(f, or0(st->active_file)), szl(g, or0(st->shmem)), szl(h, dirty),
              szl(i2, ol.file_free), szl(j2, ol.room), outlook_verdict_name(ol.verdict),
              outlook_confidence_name(ol.confidence));
    struct json *j = &b->j;
    json_obj_begin(j);
    json_kv_str(j, "path", cg->path);
    json_kv_u64(j, "current", cg->current);
    json_kv_u64(j, "max", cg->max);
    json_kv_u64_opt(j, "file", st->file);
    json_kv_u64_opt(j, "inactive_file", st->inactive_file);
    json_kv_u64_opt(j, "active_file", st->active_file);
    json_kv_u64_opt(j, "shmem", st->shmem);
    json_kv_u64(j, "dirty_writeback", dirty);
    json_kv_u64_opt(j, "working_set", ws);
    json_key(j, "outlook");
    cgroup_outlook_json(&ol, j);
    json_obj_end(j);
}

static void page_cache_fixes(const struct node *n, const size_t *hit, size_t nhit, struct fb *b)
{
    /* the example is the cgroup where reclaim has the most to take */
    const struct cgroup_memory *first = NULL;
    uint64_t most = 0;
    for (size_t k = 0; k < nhit; k++) {
        struct cgroup_outlook ol;
        node_outlook(n, hit[k], &ol);
        if (ol.file_free > most) {
            most = ol.file_free;
            first = &n->cgroups.v[hit[k]];
        }
    }
    if (n->hier.memory_version == 2 && first)
        fb_fix(b, "reclaim now (5.19+): echo %" PRIu64 " > /sys/fs/cgroup%s/memory.reclaim", most,
               first->path);
    fb_fix(b, "drop the cache of files you name: oomwarden evict FILE... (POSIX_FADV_DONTNEED)");
    if (n->hier.memory_version == 2)
        fb_fix(b, "set memory.high a little below memory.max so that reclaim starts before the "
                  "limit");
    fb_fix(b, "tmpfs/shmem: delete files or size the mount (Kubernetes emptyDir medium: Memory "
              "takes a sizeLimit); streaming readers and writers: posix_fadvise(DONTNEED) or "
              "O_DIRECT");
}

int check_page_cache(const struct node *n, struct doctor_report *r)
{
    const struct cgroup_snapshot *s = &n->cgroups;
    _cleanup_free_ size_t *hit = calloc(s->n ? s->n : 1, sizeof(size_t));
    if (!hit)
        return -ENOMEM;
    size_t sticky = 0;
    size_t nhit = page_cache_full(n, hit, &sticky);
    if (nhit == 0)
        return doctor_note(
            r, CHECK_PAGE_CACHE, RESULT_OK,
            "no limited cgroup is at 90%% of its limit with page cache at half of it");
    struct fb b;
    fb_begin(&b, CHECK_PAGE_CACHE);
    fb_title(&b, sticky ? DOCTOR_WARNING : DOCTOR_INFO,
             "page cache fills %zu cgroup%s to 90%% or more of %s limit%s", nhit,
             nhit == 1 ? "" : "s", nhit == 1 ? "its" : "their",
             sticky ? ", and in some reclaim cannot make room"
                    : ": the kernel reclaims it, active pages too, before it OOM-kills");
    fb_ev(&b, "page cache counts toward a cgroup's limit; at the limit the kernel reclaims "
              "inactive file pages first, active ones only after they turn inactive, dirty ones "
              "after writeback, and shmem/tmpfs not at all without swap");
    json_kv_arr_begin(&b.j, "cgroups");
    for (size_t k = 0; k < nhit; k++)
        page_cache_cgroup(n, hit[k], k < 6, &b);
    json_arr_end(&b.j);
    fb_more(&b, nhit, 6);
    page_cache_fixes(n, hit, nhit, &b);
    return fb_commit(r, &b);
}
