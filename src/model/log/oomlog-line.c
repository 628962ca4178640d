#include <string.h>

#include "oomlog-int.h"

/* "<msg>: rest" where msg is one of the OOM killer's messages */
enum kind oomline_msg_kind(struct span t, struct span *msg, struct span *rest)
{
    const char *colon = memchr(t.p, ':', t.n < 64 ? t.n : 64);
    if (!colon || colon + 2 > t.p + t.n || colon[1] != ' ')
        return K_NONE;
    struct span m = {t.p, (size_t)(colon - t.p)};
    /* "Out of memory", "Out of Memory", "Memory cgroup out of memory",
     * "Out of memory (oom_kill_allocating_task)", "No available memory (MPOL_BIND)" */
    if (!find(m, "emory"))
        return K_NONE;
    struct span r = after(t, m.n + 2);
    *msg = m;
    *rest = r;
    if (starts_word(r, "Killed process"))
        return K_KILLED;
    if (starts_word(r, "Kill process") || starts_word(r, "kill process"))
        return K_SELECT;
    if (starts_word(r, "OOM victim"))
        return K_EXITING;
    return K_NONE;
}

/* The messages that start with a capital letter or a bracket. */
static enum kind classify_upper(struct span t)
{
    struct span m, r;
    enum kind k;
    switch (t.p[0]) {
    case '[':
        if (starts(t, "[ pid ]") || starts(t, "[  pid  ]"))
            return K_TABLE_HEADER;
        {
            size_t i = 1;
            while (i < t.n && t.p[i] == ' ')
                i++;
            size_t d = i;
            while (i < t.n && is_digit(t.p[i]))
                i++;
            if (i > d && i < t.n && t.p[i] == ']')
                return K_ROW;
        }
        break;
    case 'K':
        if (starts_word(t, "Killed process"))
            return K_KILLED;
        if (starts_word(t, "Kill process"))
            return find(t, " sharing same memory") ? K_SHARED : K_SELECT;
        if (starts(t, "Kernel panic - not syncing: ") &&
            (find(t, "Out of memory") || find(t, "deadlocked on memory")))
            return K_PANIC;
        break;
    case 'O':
        if (starts(t, "Out of memory and no killable processes"))
            return K_NO_KILLABLE;
        if ((k = oomline_msg_kind(t, &m, &r)) != K_NONE)
            return k;
        break;
    case 'C':
        if (starts(t, "CPU: ") && find(t, " PID: "))
            return K_CPU;
        break;
    case 'P':
        if ((starts(t, "Pid: ") && find(t, ", comm: ")) ||
            (starts(t, "Process ") && find(t, " (pid: ")))
            return K_CPU;
        break;
    case 'M':
        if (starts(t, "Memory cgroup stats for "))
            return K_STATS_FOR;
        if (starts(t, "Mem-Info:") || starts(t, "Mem-info:"))
            return K_MEMINFO;
        if (starts(t, "Memory cgroup min protection "))
            return K_MIN_PROTECTION;
        if ((k = oomline_msg_kind(t, &m, &r)) != K_NONE)
            return k;
        break;
    case 'N':
        if ((k = oomline_msg_kind(t, &m, &r)) != K_NONE)
            return k;
        break;
    case 'T':
        if (starts(t, "Task in ") && find(t, " killed as a result of limit of "))
            return K_TASKIN;
        if (starts(t, "Tasks in ") && find(t, " are going to be killed due to memory.oom.group"))
            return K_GROUP;
        if (starts(t, "Tasks state (memory values in pages)"))
            return K_TASKS_STATE;
        break;
    default:
        break;
    }
    return K_NONE;
}

/* The messages that start with a small letter: memcg counters, the summary, the reaper. */
static enum kind classify_lower(struct span t)
{
    switch (t.p[0]) {
    case 'm':
        if (starts(t, "memory: usage ") || starts(t, "memory+swap: usage "))
            return K_COUNTER;
        break;
    case 's':
        if (starts(t, "swap: usage "))
            return K_COUNTER;
        if (starts(t, "sysrq: ") && find(t, "Show Memory"))
            return K_SYSRQ_SHOWMEM;
        break;
    case 'S':
        if (starts(t, "SysRq : Show Memory"))
            return K_SYSRQ_SHOWMEM;
        if (starts(t, "System is deadlocked on memory"))
            return K_PANIC;
        break;
    case 'k':
        if (starts(t, "kmem: usage "))
            return K_COUNTER;
        break;
    case 'o':
        if (starts(t, "oom-kill:"))
            return K_SUMMARY;
        if (starts(t, "oom_reaper: reaped process "))
            return K_REAPED;
        if (starts(t, "oom_reaper: unable to reap pid:"))
            return K_UNREAPABLE;
        if (starts(t, "oom-killer: gfp_mask="))
            return K_HEADER;
        if (starts(t, "oom_kill_process: ") && find(t, " callbacks suppressed"))
            return K_SUPPRESSED;
        if (starts(t, "out_of_memory: ") && find(t, " callbacks suppressed"))
            return K_SUPPRESSED;
        if (starts(t, "oom killer ") && find(t, " has mm pinned by "))
            return K_PINNED;
        break;
    default:
        break;
    }
    return K_NONE;
}

enum kind oomline_classify_start(struct span t)
{
    /* the first bytes the messages above start with: most lines start with another */
    static const bool first[256] = {['['] = 1, ['K'] = 1, ['O'] = 1, ['C'] = 1, ['P'] = 1,
                                    ['M'] = 1, ['N'] = 1, ['T'] = 1, ['m'] = 1, ['s'] = 1,
                                    ['k'] = 1, ['o'] = 1};
    if (t.n < 4 || !first[(unsigned char)t.p[0]])
        return K_NONE;
    return t.p[0] >= 'a' ? classify_lower(t) : classify_upper(t);
}

enum kind oomline_classify(struct span t)
{
    enum kind k = oomline_classify_start(t);
    if (k != K_NONE || t.n < 4)
        return k;
    /* the header starts with the comm (TASK_COMM_LEN - 1 bytes; garbled pastes a little more):
     * its words follow within the first bytes (oomline_find looks further, behind prefixes) */
    if (t.n > 20) {
        /* by its '-' (memmem costs more than the rest of this function) */
        const char *q = t.p + 12, *end = t.p + t.n;
        const char *lim = t.n < OOMLOG_NAME_MAX + 20 ? end : t.p + OOMLOG_NAME_MAX + 20;
        while (q < lim && (q = memchr(q, '-', (size_t)(lim - q))) != NULL) {
            if (end - q >= 8 && memcmp(q - 12, " invoked oom-killer:", 20) == 0)
                return K_HEADER;
            q++;
        }
    }
    return K_NONE;
}

/* Where the message that has its anchor at `a` starts: the kill lines' "<msg>: " before them
 * ("Memory cgroup out of memory: Killed process"), the comm before " invoked oom-killer:". */
static const char *message_start(struct span t, const char *a, const char *needle)
{
    static const char *const msgs[] = {
        "Out of memory (oom_kill_allocating_task): ", "Memory cgroup out of memory: ",
        "No available memory (MPOL_BIND): ",          "Out of memory: ",
        "Out of Memory: ",                            NULL};
    if (needle[0] == ' ') {
        /* the comm: up to TASK_COMM_LEN - 1 bytes, after a separator if there is one ("] ",
         * ": ", "| ", "> "), else the last word (a comm with a space needs a separator) */
        for (size_t k = 15; k >= 1; k--) {
            if ((size_t)(a - t.p) < k)
                continue;
            const char *s = a - k;
            if (s == t.p || s[-1] == '\t' ||
                (s[-1] == ' ' && s - 1 > t.p && strchr("]:|>", s[-2])))
                return s;
        }
        const char *s = a;
        while (s > t.p && s[-1] != ' ' && s[-1] != '\t')
            s--;
        return s;
    }
    for (size_t i = 0; msgs[i]; i++) {
        size_t n = strlen(msgs[i]);
        if ((size_t)(a - t.p) >= n && memcmp(a - n, msgs[i], n) == 0)
            return a - n;
    }
    return a;
}

/* The kernel's fixed words that begin (or, for the header, follow the comm in) each message. */
static const char *const anchors[] = {
    "invoked oom-killer:", /* after " ", after the comm */
    "oom-kill:",
    "Killed process ",
    "Kill process ",
    "kill process ",
    "OOM victim ",
    "oom_reaper: ",
    "Memory cgroup ",
    "Mem-Info:",
    "Mem-info:",
    "Tasks state (memory values in pages)",
    "Task in ",
    "Tasks in ",
    "memory: usage ",
    "memory+swap: usage ",
    "swap: usage ",
    "kmem: usage ",
    "[  pid  ]",
    "[ pid ]",
    "oom_kill_process: ",
    "out_of_memory: ",
    "Out of memory and no killable",
    "Kernel panic - not syncing: ",
    "System is deadlocked on memory",
    "oom-killer: gfp_mask=",
    "oom killer ",
    "SysRq : Show Memory",
    "sysrq: Show Memory",
    NULL,
};

/* the anchors' first bytes: one pass over the line compares only where one of them stands */
static const bool anchor_first[256] = {
    ['i'] = true, ['o'] = true, ['K'] = true, ['k'] = true, ['O'] = true, ['M'] = true,
    ['T'] = true, ['m'] = true, ['s'] = true, ['['] = true, ['S'] = true,
};

/* "[  1234]     0  1234 ..." after an opaque prefix: a bracketed pid then a number */
static const char *row_anywhere(struct span t)
{
    const char *end = t.p + t.n;
    for (const char *b = t.p; b < end && (b = memchr(b, '[', (size_t)(end - b))) != NULL; b++) {
        const char *q = b + 1;
        while (q < end && *q == ' ')
            q++;
        const char *d = q;
        while (q < end && is_digit(*q))
            q++;
        if (q == d || q + 2 >= end || *q != ']' || q[1] != ' ')
            continue;
        q++;
        while (q < end && *q == ' ')
            q++;
        if (q < end && (is_digit(*q) || *q == '-'))
            return b;
    }
    return NULL;
}

/* The message whose anchor `a` (anchors[i]) stands at q, if it reads as one from its start. */
static enum kind anchored(struct span t, const char *q, size_t i, const char **start)
{
    const char *a = q;
    if (i == 0) {
        if (q == t.p || q[-1] != ' ')
            return K_NONE;
        a = q - 1;
    }
    const char *s = message_start(t, a, i == 0 ? " invoked oom-killer:" : anchors[i]);
    enum kind k = oomline_classify((struct span){s, (size_t)(t.p + t.n - s)});
    if (k == K_ROW)
        return K_NONE;
    *start = s;
    return k;
}

/* The anchors that start with byte c (indices into anchors[], -1 ends the list): the scan of a
 * line compares only these where c stands. */
static const signed char *anchors_for(unsigned char c)
{
    static const signed char i_[] = {0, -1}, o_[] = {1, 6, 19, 20, 24, 25, -1},
                             K_[] = {2, 3, 22, -1}, k_[] = {4, 16, -1}, O_[] = {5, 21, -1},
                             M_[] = {7, 8, 9, -1}, T_[] = {10, 11, 12, -1}, m_[] = {13, 14, -1},
                             s_[] = {15, 27, -1}, br_[] = {17, 18, -1}, S_[] = {23, 26, -1},
                             none[] = {-1};
    switch (c) {
    case 'i': return i_;
    case 'o': return o_;
    case 'K': return K_;
    case 'k': return k_;
    case 'O': return O_;
    case 'M': return M_;
    case 'T': return T_;
    case 'm': return m_;
    case 's': return s_;
    case '[': return br_;
    case 'S': return S_;
    default: return none;
    }
}

enum kind oomline_find(struct span t, size_t *at)
{
    const char *end = t.p + t.n;
    for (const char *q = t.p; q + 1 < end; q++) {
        if (!anchor_first[(unsigned char)*q])
            continue;
        for (const signed char *ip = anchors_for((unsigned char)*q); *ip >= 0; ip++) {
            size_t i = (size_t)*ip;
            if (anchors[i][1] != q[1])
                continue;
            size_t n = strlen(anchors[i]);
            if ((size_t)(end - q) < n || memcmp(q, anchors[i], n) != 0)
                continue;
            const char *s;
            enum kind k = anchored(t, q, i, &s);
            if (k != K_NONE) {
                *at = (size_t)(s - t.p);
                return k;
            }
        }
    }
    const char *r = row_anywhere(t);
    if (r && oomline_classify((struct span){r, (size_t)(end - r)}) == K_ROW) {
        *at = (size_t)(r - t.p);
        return K_ROW;
    }
    return K_NONE;
}

bool oomline_may_begin(struct span t)
{
    static const char *const starts[] = {
        "Out of memory: Killed process ",
        "Out of memory: Kill process ",
        "Out of Memory: Kill process ",
        "Out of memory (oom_kill_allocating_task): Killed process ",
        "Memory cgroup out of memory: Killed process ",
        "No available memory (MPOL_BIND): Kill process ",
        "Kernel panic - not syncing: Out of memory",
        NULL,
    };
    for (size_t i = 0; anchors[i]; i++)
        if (anchors[i][0] == t.p[0] && t.n < strlen(anchors[i]) &&
            memcmp(t.p, anchors[i], t.n) == 0)
            return true;
    for (size_t i = 0; starts[i]; i++)
        if (starts[i][0] == t.p[0] && t.n < strlen(starts[i]) && memcmp(t.p, starts[i], t.n) == 0)
            return true;
    return false;
}

/* digits, letters and the rest: what stays the same from line to line of one prefix */
static char shape_of(char c)
{
    return is_digit(c) ? '9' : ((c | 32) >= 'a' && (c | 32) <= 'z') ? 'a' : c;
}

void oomline_prefix_learn(struct oomline_prefix *pf, struct span prefix)
{
    pf->n = prefix.n < sizeof(pf->shape) ? prefix.n : 0;
    for (size_t i = 0; i < pf->n; i++)
        pf->shape[i] = shape_of(prefix.p[i]);
}

bool oomline_prefix_strip(const struct oomline_prefix *pf, struct span *t)
{
    if (!pf->n || t->n <= pf->n)
        return false;
    for (size_t i = 0; i < pf->n; i++)
        if (shape_of(t->p[i]) != pf->shape[i])
            return false;
    t->p += pf->n;
    t->n -= pf->n;
    return true;
}
