#include "workingset.h"

#include "base/json.h"
#include "base/opt.h"

#define MiB (1024.0 * 1024.0)

void workingset_assess(uint64_t refaults_before, uint64_t refaults_after, double interval_s,
                       long page_size, uint64_t cache, struct workingset *ret)
{
    *ret = (struct workingset){.interval_s = interval_s, .cache = cache, .turnover_s = -1};
    if (!opt_has(refaults_before) || !opt_has(refaults_after) || refaults_after < refaults_before ||
        interval_s <= 0)
        return;
    ret->measured = true;
    ret->refaults = refaults_after - refaults_before;
    ret->bytes_per_s = (double)ret->refaults * (double)page_size / interval_s;
    if (ret->refaults == 0 || !opt_has(cache))
        return;
    ret->turnover_s = (double)cache / ret->bytes_per_s;
    if (ret->bytes_per_s >= 1 * MiB && ret->turnover_s <= 10)
        ret->level = THRASH_THRASHING;
    else if (ret->bytes_per_s >= MiB / 16 && ret->turnover_s <= 60)
        ret->level = THRASH_REREADING;
}

const char *thrash_level_name(enum thrash_level l)
{
    switch (l) {
    case THRASH_THRASHING:
        return "thrashing";
    case THRASH_REREADING:
        return "re-reading";
    case THRASH_NONE:
        break;
    }
    return "none";
}

void workingset_json(const struct workingset *ws, struct json *j)
{
    json_obj_begin(j);
    json_kv_bool(j, "measured", ws->measured);
    json_kv_double(j, "interval_s", ws->interval_s, 3);
    if (ws->measured) {
        json_kv_u64(j, "refaults", ws->refaults);
        json_kv_double(j, "bytes_per_s", ws->bytes_per_s, 0);
    } else {
        json_kv_null(j, "refaults");
        json_kv_null(j, "bytes_per_s");
    }
    json_kv_u64_opt(j, "cache", ws->cache);
    if (ws->turnover_s >= 0)
        json_kv_double(j, "turnover_s", ws->turnover_s, 1);
    else
        json_kv_null(j, "turnover_s");
    json_kv_str(j, "level", ws->measured ? thrash_level_name(ws->level) : NULL);
    json_obj_end(j);
}
