/* The guard band: which cgroups' memory.high the agent's guard set a band under memory.max, read
 * from its record (model/cgroup/band.h), as the guard-band check and `status` show them. */
#include "doctor-int.h"

#include <errno.h>
#include <string.h>

#include "base/limits.h"

/* The cgroup of a record in the node's walk, or NULL when it is gone. */
static const struct cgroup_memory *band_cgroup(const struct node *n, const struct band_record *rec)
{
    size_t i = n->cgroups_err == 0 ? cgroup_snapshot_find_under(&n->cgroups, rec->path) : SIZE_MAX;
    return i != SIZE_MAX && strcmp(n->cgroups.v[i].path, rec->path) == 0 ? &n->cgroups.v[i] : NULL;
}

const char *doctor_band_state(const struct node *n, const struct band_record *rec)
{
    const struct cgroup_memory *cg = band_cgroup(n, rec);
    if (!cg)
        return "gone";
    return cg->high == rec->set ? "set" : "changed";
}

void doctor_band_json(const struct node *n, const struct band_record *rec, struct json *j)
{
    const struct cgroup_memory *cg = band_cgroup(n, rec);
    uint64_t high = cg ? cg->high : OPT_ABSENT, max = cg ? cg->max : OPT_ABSENT;
    json_obj_begin(j);
    json_kv_str(j, "cgroup", rec->path);
    json_kv_str(j, "state", doctor_band_state(n, rec));
    cgroup_limit_json(j, "memory_high", high);
    cgroup_limit_json(j, "memory_max", max);
    bool under = opt_has(high) && opt_has(max) && cgroup_limit_set(high) && cgroup_limit_set(max) &&
                 high < max;
    json_kv_u64_opt(j, "under_max", under ? max - high : OPT_ABSENT);
    json_kv_u64(j, "set", rec->set);
    cgroup_limit_json(j, "previous", rec->previous);
    json_obj_end(j);
}

void doctor_band_line(const struct node *n, const struct band_record *rec, struct buf *out)
{
    const struct cgroup_memory *cg = band_cgroup(n, rec);
    char h[FMT_SIZE_LEN], m[FMT_SIZE_LEN], d[FMT_SIZE_LEN], s[FMT_SIZE_LEN], p[FMT_SIZE_LEN];
    const char *prev = cgroup_limit_set(rec->previous) ? sz(p, rec->previous) : "max";
    if (!cg) {
        buf_printf(out, "%s: gone; oomwarden's guard band had set memory.high %s (it was %s)",
                   rec->path, sz(s, rec->set), prev);
        return;
    }
    buf_printf(out, "%s: memory.high %s", rec->path,
               cgroup_limit_set(cg->high) ? sz(h, cg->high) : "max");
    if (cgroup_limit_set(cg->high) && cgroup_limit_set(cg->max) && cg->high < cg->max)
        buf_printf(out, ", %s under memory.max %s", sz(d, cg->max - cg->high), sz(m, cg->max));
    else
        buf_printf(out, ", memory.max %s", cgroup_limit_set(cg->max) ? sz(m, cg->max) : "max");
    if (cg->high == rec->set)
        buf_printf(out, ": set by oomwarden's guard band (it was %s)", prev);
    else
        buf_printf(out, ": changed since oomwarden's guard band set %s (it was %s)",
                   sz(s, rec->set), prev);
}

int check_guard_band(const struct node *n, struct doctor_report *r)
{
    const char *where = sysroot_path(n->sr, "/" BAND_RECORD_PATH);
    if (n->band_err == -ENOENT)
        return doctor_note(r, CHECK_GUARD_BAND, RESULT_OK,
                           "no guard band: no %s (the agent writes it when `band` is set)", where);
    struct fb b;
    fb_begin(&b, CHECK_GUARD_BAND);
    if (n->band_err < 0) {
        fb_title(&b, DOCTOR_WARNING, "the guard band's record %s cannot be read%s: the values it "
                 "names are not put back by the agent", where,
                 n->band_err == -EBADMSG ? " (a malformed line)" : "");
        if (n->band_err == -EBADMSG)
            fb_ev(&b, "%s line %zu is not \"SET PREVIOUS /cgroup\"", where, n->band_bad_line);
        else
            fb_ev(&b, "%s: %s", where, strerror(-n->band_err));
        fb_fix(&b, "look at each cgroup's memory.high and write back what it should be, then "
                   "remove %s", where);
        json_kv_str(&b.j, "record", where);
        json_kv_u64(&b.j, "bad_line", n->band_bad_line);
        return fb_commit(r, &b);
    }
    size_t set = 0, changed = 0, gone = 0;
    for (size_t i = 0; i < n->band.n; i++) {
        const char *st = doctor_band_state(n, &n->band.v[i]);
        set += !strcmp(st, "set");
        changed += !strcmp(st, "changed");
        gone += !strcmp(st, "gone");
    }
    fb_title(&b, DOCTOR_INFO,
             "oomwarden's guard band holds memory.high under memory.max in %zu cgroup%s%s", set,
             set == 1 ? "" : "s", changed || gone ? " (and its record names others)" : "");
    json_key(&b.j, "cgroups");
    json_arr_begin(&b.j);
    for (size_t i = 0; i < n->band.n; i++) {
        struct buf line = BUF_INIT(CAP_OUTPUT);
        doctor_band_line(n, &n->band.v[i], &line);
        fb_ev(&b, "%s", buf_cstr(&line));
        buf_release(&line);
        doctor_band_json(n, &n->band.v[i], &b.j);
    }
    json_arr_end(&b.j);
    fb_ev(&b, "past memory.high the kernel throttles the allocating task, so a fast grower slows "
              "short of the limit and the guard decides in time; a burst into the band is slowed, "
              "not killed");
    if (changed)
        fb_ev(&b, "a memory.high changed since is the writer's when lower (the agent forgets it), "
                  "and gets the band again when higher");
    if (gone)
        fb_ev(&b, "a cgroup gone since is dropped from the record by the agent");
    fb_fix(&b, "the agent puts the previous values back when it stops or the band is turned off "
               "([guard] band in its configuration)");
    return fb_commit(r, &b);
}
