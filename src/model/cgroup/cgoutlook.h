/*
 * What the next growth of a memory cgroup runs into: how much reclaim can really take before
 * the kernel OOM-kills in the cgroup whose limit binds, and how sure that is. From memory.stat
 * (v1 and v2 alike), never from the working set (usage - inactive_file: kubelet's heuristic,
 * which counts active page cache as if reclaim could not take it).
 *
 * What reclaim takes, in the kernel's order (mm/vmscan.c, Linux 6.1):
 *   - page cache on the file LRUs, inactive first; active pages are deactivated when the
 *     inactive list runs low or refaults show a new working set (prepare_scan_count), so
 *     active file pages are reclaimable too;
 *   - but not a page that is mapped and used again (folio_check_references activates it), nor a
 *     dirty or writeback page (shrink_folio_list: direct reclaim, which a memcg's is, does not
 *     write file pages; they go after the flusher wrote them), nor unevictable (mlocked) pages;
 *   - anon and shmem only to swap, and only with swap room (v1: memory.swappiness 0 turns memcg
 *     anon reclaim off);
 *   - reclaimable slab through the shrinkers, as much as they give.
 * The kernel OOM-kills when MAX_RECLAIM_RETRIES (16) reclaim passes free nothing for a charge
 * (mm/memcontrol.c try_charge_memcg).
 *
 * Pure: no I/O.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct cgroup_memory;
struct cgroup_memstat;
struct cgroup_binding;
struct json;

enum outlook_verdict {
    OUTLOOK_UNKNOWN,  /* memory.stat lacks the LRU lines (old kernel, a copy without them) */
    OUTLOOK_NO_LIMIT, /* nothing limits the cgroup: only a machine-wide OOM */
    OUTLOOK_ROOM,     /* room >= 10% of the limit */
    OUTLOOK_TIGHT,    /* room < 10% of the limit */
    OUTLOOK_OOM_NEXT, /* room < 2% of the limit: the next growth ends in an OOM kill */
};

enum outlook_confidence { CONFIDENCE_HIGH, CONFIDENCE_MEDIUM, CONFIDENCE_LOW };

/* Why a prediction is not sure (bits of cgroup_outlook.unsure). */
enum {
    UNSURE_MAPPED = 1u << 0, /* mapped page cache: kept while used, reclaimed when cold */
    UNSURE_DIRTY = 1u << 1,  /* dirty/writeback page cache: reclaimable once written */
    UNSURE_SLAB = 1u << 2,   /* reclaimable slab: as much as the shrinkers give */
    UNSURE_SWAP = 1u << 3,   /* anon to swap: as fast as swap-out goes, and swappiness decides */
};

struct cgroup_outlook {
    enum outlook_verdict verdict;
    enum outlook_confidence confidence;
    unsigned unsure; /* UNSURE_* that could change the verdict */
    /* of the cgroup whose limit binds (itself or an ancestor), bytes */
    uint64_t limit, usage, headroom;
    uint64_t file_lru;  /* active + inactive file */
    uint64_t file_held; /* of it, mapped + dirty + writeback: not taken now */
    uint64_t file_free; /* file_lru - file_held: dropped before an OOM kill */
    uint64_t maybe;     /* file_held + reclaimable slab: may or may not go */
    uint64_t to_swap;   /* anon that swap can take */
    uint64_t stuck;     /* anon without swap, shmem without swap, unevictable */
    uint64_t room;      /* headroom + file_free + to_swap: growth before an OOM kill */
};

/* The file LRUs (active + inactive file), the part reclaim does not take now (mapped, dirty,
 * writeback) and the rest, which it drops before an OOM kill; bytes, absent lines as 0. */
void cgroup_reclaim_split(const struct cgroup_memstat *s, uint64_t *lru, uint64_t *held,
                          uint64_t *free);

/*
 * `binder` is the cgroup whose limit binds (the chain element b->from names); `swap` whether
 * its anon can go to swap (swap configured, room under the swap limit, v1 swappiness not 0).
 */
void cgroup_outlook_of(const struct cgroup_memory *binder, const struct cgroup_binding *b,
                       bool swap, uint64_t swap_room, struct cgroup_outlook *ret);

/* "unknown", "no_limit", "room", "tight", "oom_next" / "high", "medium", "low" */
const char *outlook_verdict_name(enum outlook_verdict v);
const char *outlook_confidence_name(enum outlook_confidence c);

/*
 * Whether reclaim can swap the cgroup's anon out, and how much (*ret): swap configured and free
 * (swap_free from /proc/meminfo, OPT_ABSENT when unknown), under the cgroup's own swap limit
 * (v2 memory.swap.max - memory.swap.current; v1 memsw.limit_in_bytes - memsw.usage_in_bytes),
 * and on v1 memory.swappiness not 0 (memcg reclaim then scans file pages only).
 */
bool cgroup_swap_room(const struct cgroup_memory *cg, uint64_t swap_free, uint64_t *ret);

/* The outlook as a JSON object (docs/json/cgroup.md#outlook). */
void cgroup_outlook_json(const struct cgroup_outlook *ol, struct json *j);
