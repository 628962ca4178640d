#include "cgoutlook.h"

#include "base/json.h"
#include "base/opt.h"
#include "cgroup.h"

static uint64_t or0(uint64_t v)
{
    return opt_has(v) ? v : 0;
}

static uint64_t sub0(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

void cgroup_reclaim_split(const struct cgroup_memstat *s, uint64_t *lru, uint64_t *held,
                          uint64_t *free)
{
    *lru = or0(s->active_file) + or0(s->inactive_file);
    /* file_mapped may hold mapped shmem too, which is not on the file LRUs: taking all of it
     * from the LRUs errs on the side of less room */
    uint64_t kept = or0(s->file_mapped) + or0(s->file_dirty) + or0(s->file_writeback);
    *held = kept < *lru ? kept : *lru;
    *free = *lru - *held;
}

/* room as a share of the limit: < 2% the next growth, < 10% tight */
static enum outlook_verdict verdict_for(uint64_t room, uint64_t limit)
{
    long double share = (long double)room / (long double)limit;
    if (share < 0.02L)
        return OUTLOOK_OOM_NEXT;
    if (share < 0.10L)
        return OUTLOOK_TIGHT;
    return OUTLOOK_ROOM;
}

static unsigned distance(enum outlook_verdict a, enum outlook_verdict b)
{
    return a > b ? (unsigned)(a - b) : (unsigned)(b - a);
}

void cgroup_outlook_of(const struct cgroup_memory *binder, const struct cgroup_binding *b,
                       bool swap, uint64_t swap_room, struct cgroup_outlook *ret)
{
    *ret = (struct cgroup_outlook){.verdict = OUTLOOK_UNKNOWN};
    if (!b->from || !binder) {
        ret->verdict = OUTLOOK_NO_LIMIT;
        return;
    }
    const struct cgroup_memstat *s = &binder->stat;
    ret->limit = b->limit;
    ret->usage = b->usage;
    ret->headroom = or0(b->headroom);
    if (!opt_has(s->active_file) || !opt_has(s->inactive_file) || !opt_has(b->usage) ||
        b->limit == 0)
        return;
    uint64_t mapped = or0(s->file_mapped), dirty = or0(s->file_dirty) + or0(s->file_writeback);
    uint64_t slab = or0(s->slab_reclaimable);
    cgroup_reclaim_split(s, &ret->file_lru, &ret->file_held, &ret->file_free);
    ret->maybe = ret->file_held + slab;
    uint64_t anon = or0(s->anon);
    uint64_t shmem = or0(s->shmem), unevictable = or0(s->unevictable);
    if (swap) {
        /* anon and shmem are swap-backed alike */
        ret->to_swap = anon + shmem < swap_room ? anon + shmem : swap_room;
    }
    ret->stuck = sub0(anon + shmem, ret->to_swap) + unevictable;
    ret->room = ret->headroom + ret->file_free + ret->to_swap;

    ret->verdict = verdict_for(ret->room, ret->limit);
    /* what the unsure parts could make of it: more room if they go, less if swap does not */
    enum outlook_verdict hi = verdict_for(ret->room + ret->maybe, ret->limit);
    enum outlook_verdict lo = verdict_for(ret->room - ret->to_swap, ret->limit);
    if (hi != ret->verdict) {
        if (mapped)
            ret->unsure |= UNSURE_MAPPED;
        if (dirty)
            ret->unsure |= UNSURE_DIRTY;
        if (slab)
            ret->unsure |= UNSURE_SLAB;
    }
    if (lo != ret->verdict)
        ret->unsure |= UNSURE_SWAP;
    unsigned d = distance(hi, ret->verdict);
    if (distance(lo, ret->verdict) > d)
        d = distance(lo, ret->verdict);
    ret->confidence = d == 0 ? CONFIDENCE_HIGH : d == 1 ? CONFIDENCE_MEDIUM : CONFIDENCE_LOW;
}

const char *outlook_verdict_name(enum outlook_verdict v)
{
    switch (v) {
    case OUTLOOK_NO_LIMIT:
        return "no_limit";
    case OUTLOOK_ROOM:
        return "room";
    case OUTLOOK_TIGHT:
        return "tight";
    case OUTLOOK_OOM_NEXT:
        return "oom_next";
    case OUTLOOK_UNKNOWN:
        break;
    }
    return "unknown";
}

const char *outlook_confidence_name(enum outlook_confidence c)
{
    switch (c) {
    case CONFIDENCE_HIGH:
        return "high";
    case CONFIDENCE_MEDIUM:
        return "medium";
    case CONFIDENCE_LOW:
        break;
    }
    return "low";
}

bool cgroup_swap_room(const struct cgroup_memory *cg, uint64_t swap_free, uint64_t *ret)
{
    *ret = 0;
    if (!opt_has(swap_free) || swap_free == 0)
        return false;
    uint64_t room = swap_free;
    if (cg->version == 1) {
        if (opt_has(cg->swappiness) && cg->swappiness == 0)
            return false;
        /* memsw counts memory + swap: what is left of it is what may go out */
        if (opt_has(cg->memsw_max) && cgroup_limit_set(cg->memsw_max) && opt_has(cg->memsw_current)) {
            uint64_t left = sub0(cg->memsw_max, cg->memsw_current);
            if (left < room)
                room = left;
        }
    } else if (opt_has(cg->swap_max) && cgroup_limit_set(cg->swap_max)) {
        uint64_t left = sub0(cg->swap_max, or0(cg->swap_current));
        if (left < room)
            room = left;
    }
    *ret = room;
    return room > 0;
}

void cgroup_outlook_json(const struct cgroup_outlook *ol, struct json *j)
{
    json_obj_begin(j);
    json_kv_str(j, "verdict", outlook_verdict_name(ol->verdict));
    bool known = ol->verdict != OUTLOOK_UNKNOWN && ol->verdict != OUTLOOK_NO_LIMIT;
    if (known) {
        json_kv_str(j, "confidence", outlook_confidence_name(ol->confidence));
        json_kv_arr_begin(j, "unsure");
        static const char *const names[] = {"mapped", "dirty", "slab", "swap"};
        for (unsigned i = 0; i < 4; i++)
            if (ol->unsure & (1u << i))
                json_str(j, names[i]);
        json_arr_end(j);
    } else {
        json_kv_null(j, "confidence");
        json_kv_null(j, "unsure");
    }
#define K(name) known ? json_kv_u64(j, #name, ol->name) : json_kv_null(j, #name)
    K(limit);
    K(usage);
    K(headroom);
    K(file_lru);
    K(file_held);
    K(file_free);
    K(maybe);
    K(to_swap);
    K(stuck);
    K(room);
#undef K
    json_obj_end(j);
}
