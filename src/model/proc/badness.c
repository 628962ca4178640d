#include "badness.h"

#include <stdlib.h>

#include "base/opt.h"
#include "model/kver.h"
#include "procs.h"

#define CAP_SYS_ADMIN_BIT 21

enum badness_algo badness_algo_for(const struct kver *k)
{
    if (!k->known)
        return BADNESS_SIGNED;
    /* 9066e5cfb73c ("mm, oom: make the calculation of oom badness more accurate") landed in
     * 5.9 and was taken into 5.4.y; we treat every 5.4.y as having it. */
    if (kver_at_least(k, 5, 9, 0) || (k->major == 5 && k->minor == 4))
        return BADNESS_SIGNED;
    if (kver_at_least(k, 4, 17, 0))
        return BADNESS_PAGES;
    if (kver_at_least(k, 3, 5, 0))
        return BADNESS_PAGES_ROOTBONUS;
    return BADNESS_PERMILLE;
}

const char *badness_algo_name(enum badness_algo a)
{
    switch (a) {
    case BADNESS_PERMILLE:
        return "permille (2.6.36-3.4)";
    case BADNESS_PAGES_ROOTBONUS:
        return "pages with root bonus (3.5-4.16)";
    case BADNESS_PAGES:
        return "pages (4.17-5.8)";
    case BADNESS_SIGNED:
    default:
        return "signed pages (5.9+)";
    }
}

bool badness_later_wins_ties(const struct kver *k)
{
    return !k->known || kver_at_least(k, 5, 1, 0);
}

static uint64_t bytes_to_pages(uint64_t bytes, long page_size)
{
    return opt_has(bytes) ? bytes / (uint64_t)page_size : 0;
}

bool badness_input_from_proc(const struct proc *p, long page_size, bool is_init,
                             enum rss_source src, struct badness_input *in)
{
    *in = (struct badness_input){0};
    if (!p->has_oom)
        return false;
    in->adj = p->oom_score_adj;
    in->rss_pages = src == RSS_FROM_STAT ? p->stat_rss_pages : proc_rss(p) / (uint64_t)page_size;
    in->swap_pages = bytes_to_pages(p->swap, page_size);
    in->pgtables_pages = bytes_to_pages(p->pgtables, page_size);
    in->cap_sys_admin = opt_has(p->cap_eff) && (p->cap_eff >> CAP_SYS_ADMIN_BIT) & 1;
    in->file_pages = bytes_to_pages(p->rss_file, page_size);
    in->locked_pages = bytes_to_pages(p->vm_lck, page_size);
    /* oom_unkillable_task(): global init and kernel threads; find_lock_task_mm(): no mm;
     * OOM_SCORE_ADJ_MIN. (MMF_OOM_SKIP and in_vfork() are invisible from userspace.) */
    in->eligible = !is_init && !p->kernel_thread && p->has_mm && p->oom_score_adj != -1000;
    return true;
}

void badness_input_at_global_oom(struct badness_input *in)
{
    uint64_t kept = in->locked_pages < in->file_pages ? in->locked_pages : in->file_pages;
    uint64_t gone = in->file_pages - kept;
    /* the approximate reading (stat) can lag the file count (status) by a counter batch */
    in->rss_pages = in->rss_pages > gone ? in->rss_pages - gone : 0;
    in->file_pages = kept;
}

uint64_t badness_counter_error_pages(const struct kver *k, unsigned ncpus)
{
    if (k->known && !kver_at_least(k, 6, 2, 0))
        return 0;
    uint64_t batch = ncpus * 2 > 32 ? ncpus * 2 : 32;
    return 4 * batch * ncpus;
}

bool badness_points(enum badness_algo a, const struct badness_input *in, uint64_t totalpages,
                    int64_t *ret)
{
    if (!in->eligible)
        return false;
    int64_t T = totalpages ? (int64_t)totalpages : 1;
    int64_t points;
    switch (a) {
    case BADNESS_PERMILLE:
        points = (int64_t)(in->rss_pages + in->pgtables_pages + in->swap_pages) * 1000 / T;
        if (in->cap_sys_admin)
            points -= 30;
        points += in->adj;
        if (points <= 0)
            points = 1;
        else if (points > 1000)
            points = 1000;
        break;
    case BADNESS_PAGES_ROOTBONUS:
    case BADNESS_PAGES:
        points = (int64_t)(in->rss_pages + in->swap_pages + in->pgtables_pages);
        if (a == BADNESS_PAGES_ROOTBONUS && in->cap_sys_admin)
            points -= points * 3 / 100;
        points += (int64_t)in->adj * (T / 1000);
        if (points <= 0)
            points = 1;
        break;
    case BADNESS_SIGNED:
    default:
        points = (int64_t)(in->rss_pages + in->swap_pages + in->pgtables_pages);
        points += (int64_t)in->adj * (int64_t)((uint64_t)T / 1000);
        break;
    }
    *ret = points;
    return true;
}

uint64_t badness_oom_score(enum badness_algo a, bool eligible, int64_t points, uint64_t totalpages)
{
    if (!eligible)
        return 0;
    int64_t T = totalpages ? (int64_t)totalpages : 1;
    switch (a) {
    case BADNESS_PERMILLE:
        return (uint64_t)points;
    case BADNESS_PAGES_ROOTBONUS:
    case BADNESS_PAGES:
        /* unsigned: oom_badness() * 1000 / totalpages */
        return (uint64_t)points * 1000 / (uint64_t)T;
    case BADNESS_SIGNED:
    default:
        /* C division truncates toward zero, as the kernel's signed long arithmetic does */
        return (uint64_t)((1000 + points * 1000 / T) * 2 / 3);
    }
}

struct rank_ctx {
    const struct badness_candidate *c;
    bool later_wins;
};

static int cmp_u64(uint64_t a, uint64_t b)
{
    return (a > b) - (a < b);
}

static int rank_cmp(const void *pa, const void *pb, void *arg)
{
    const struct rank_ctx *ctx = arg;
    const struct badness_candidate *a = &ctx->c[*(const size_t *)pa];
    const struct badness_candidate *b = &ctx->c[*(const size_t *)pb];
    if (a->eligible != b->eligible)
        return a->eligible ? -1 : 1;
    if (!a->eligible)
        return cmp_u64(a->scan_key_lo, b->scan_key_lo);
    if (a->points != b->points)
        return a->points > b->points ? -1 : 1;
    int s = cmp_u64(a->scan_key_hi, b->scan_key_hi);
    if (!s)
        s = cmp_u64(a->scan_key_lo, b->scan_key_lo);
    return ctx->later_wins ? -s : s;
}

void badness_rank(const struct badness_candidate *c, size_t n, bool later_wins, size_t *order)
{
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    struct rank_ctx ctx = {.c = c, .later_wins = later_wins};
    qsort_r(order, n, sizeof(*order), rank_cmp, &ctx);
}
