#!/usr/bin/env bash
# The guard's cgroup headroom trigger on this v1 host, in scratch v1 memory cgroups with a limit
# (the guard watches only those: cgroups = /oomwarden-test-PID-*, memory floor off):
#   - a process growing anon into the limit while its page cache is reclaimed is killed by the
#     guard BEFORE the kernel's OOM killer (oom_control's oom_kill stays 0, no kill in the kernel
#     log), one guard_kill event names it with reason cgroup_headroom, and
#     oomwarden_guard_kills_total{reason="cgroup_headroom"} goes up by exactly 1; with failcnt
#     (no PSI for a v1 cgroup here) and with PSI from a twin cgroup in the unified tree;
#   - a process that only read a big file into its cgroup sits at the limit with failcnt
#     climbing and is NOT killed (its page cache is what the limit reclaims);
#   - a protected process (guard = protect), the biggest of the cgroup, survives; the smaller
#     grower is killed (the kernel would have taken the protected one);
#   - --dry-run decides and logs the candidate table, kills nothing (the kernel does, later);
#   - the agent inside the same cgroup as the grower still kills it and lives.
# Trigger-to-signal and signal-to-exit times come from the events' own fields.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/live.sh"
require_root
require_v1_memory
command -v curl >/dev/null || skip_all "curl not installed"
command -v jq >/dev/null || skip_all "jq not installed"
[ -r /dev/kmsg ] || skip_all "cannot read /dev/kmsg"

T=og$$ # + a suffix of up to 6: within the 15 characters of a comm
UNIFIED=/sys/fs/cgroup/unified

# page cache for the growers: files written past the cache (O_DIRECT), on disk (not tmpfs), and
# dropped again before each use so that the reading cgroup is the one charged for them
data=$(mktemp -d /var/tmp/oomwarden-guard.XXXXXX)
trap 'rm -rf "$data"; live_cleanup' EXIT
[ "$(stat -f -c %T "$data")" != tmpfs ] || skip_all "$data is on tmpfs: no page cache to reclaim"
make_file() { # PATH MB
    dd if=/dev/urandom of="$1" bs=1M count="$2" oflag=direct status=none 2>/dev/null ||
        head -c $(($2 << 20)) /dev/urandom >"$1"
}
make_file "$data/cache" 80
make_file "$data/big" 192
uncache() { "$BIN" evict "$@" >/dev/null; }

# ---- the agent ---------------------------------------------------------------------------------
# start_agent NAME [CGROUP_DIR|""] [FLAGS...]: AGENT, AOUT (JSON events), AERR, AURL
start_agent() {
    local name=$1 cg=$2
    shift 2
    local port
    port=$(free_port)
    AURL=http://127.0.0.1:$port
    AOUT=$LIVE_TMP/$name.jsonl AERR=$LIVE_TMP/$name.err
    cat >"$LIVE_TMP/$name.conf" <<EOC
[agent]
listen = 127.0.0.1:$port
event-format = json
[exporter]
cgroup-depth = 1
next-victim = no
[guard]
enabled = yes
memory-floor = 0
cgroups = /$SCRATCH_PREFIX-$$-*
headroom = 5%
cooldown = 5s

[rule protected]
comm = ^$T-big\$
guard = protect
EOC
    if [ -n "$cg" ]; then
        sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$cg" \
            "$BIN" agent --config "$LIVE_TMP/$name.conf" -v "$@" </dev/null >"$AOUT" 2>"$AERR" &
    else
        "$BIN" agent --config "$LIVE_TMP/$name.conf" -v "$@" </dev/null >"$AOUT" 2>"$AERR" &
    fi
    AGENT=$!
    disown "$AGENT"
    LIVE_PIDS+=("$AGENT")
    for _ in $(seq 100); do grep -q "guard: on" "$AERR" 2>/dev/null && break; sleep 0.05; done
    for _ in $(seq 50); do curl -sf "$AURL/healthz" >/dev/null && break; sleep 0.1; done
}
# watched CGREL: waits until the guard watches it (cgroups are looked for every 2 s)
watched() {
    for _ in $(seq 60); do grep -q "guard: watching $1 " "$AERR" && return 0; sleep 0.1; done
    return 1
}
kills_metric() {
    curl -sf "$AURL/metrics" | grep '^oomwarden_guard_kills_total{reason="cgroup_headroom"}' | awk '{print $2}'
}
# guard_events CGREL: the guard's decisions about that domain
guard_events() { jq -c --arg d "$1" 'select((.event | startswith("guard_")) and .domain == $d)' "$AOUT"; }
oom_kills() { awk '$1 == "oom_kill" {print $2}' "$1/memory.oom_control"; }
kernel_kills_since() { # MARKER CGREL: kernel OOM kill lines for that memcg after the marker
    dmesg -s 8388608 | sed -n "/$1/,\$p" | grep -cF "oom_memcg=$2,"
}
wait_dead() { # PID SECONDS
    for _ in $(seq $(($2 * 20))); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done
    return 1
}
# the numbers of one guard_kill event, for the test names
timing() { jq -r '"trigger to signal \(.trigger_to_signal_us / 1000) ms, signal to exit \((.signal_to_exit_us // 0) / 1000) ms"' <<<"$1"; }

# episode NAME COMM CGDIR CGREL GROWER_PID KMSG_MARKER KILLS_BEFORE: once the grower is gone,
# the checks every kill needs; sets EV (the guard_kill event)
episode() {
    local name=$1 comm=$2 cg=$3 rel=$4 pid=$5 marker=$6 k0=$7
    wait_dead "$pid" 30
    kill -0 "$pid" 2>/dev/null && not_ok "$name: the grower is gone" "still alive after 30 s: $(guard_events "$rel")"
    sleep 1.5 # a second decision in the same episode would come within the check interval
    local evs
    evs=$(guard_events "$rel")
    EV=$(jq -c 'select(.event == "guard_kill")' <<<"$evs" | head -1)
    expect_eq "$name: the kernel's OOM killer did not run (oom_control oom_kill)" 0 "$(oom_kills "$cg")"
    expect_eq "$name: no kernel OOM kill in the log for $rel" 0 "$(kernel_kills_since "$marker" "$rel")"
    if [ -n "$EV" ]; then
        ok "$name: the guard killed it ($(timing "$EV"); $(jq -r .trigger <<<"$EV"))"
    else
        not_ok "$name: the guard killed it" "events: $evs; $(tail -5 "$AERR")"
    fi
    expect_eq "$name: guard_kill names the grower, reason cgroup_headroom, it exited" \
        "$pid $comm cgroup_headroom $rel true 1" \
        "$(jq -r '"\(.pid) \(.comm) \(.reason) \(.domain) \(.exited) \(.signalled)"' <<<"${EV:-null}")"
    # what came back is the grower's, measured on its cgroup: not the machine's MemAvailable,
    # which once said 232K came back for a 27 MiB kill
    check "$name: freed = its cgroup's drop ($(jq -r '"\(.freed / 1048576 | floor) MiB of rss \(.rss / 1048576 | floor) MiB"' <<<"${EV:-null}" 2>/dev/null)), at least 3/4 of what it held" \
        jq -en --argjson e "${EV:-null}" '$e.freed_from == "cgroup" and $e.freed >= 0.75 * $e.rss
        and $e.freed == $e.cgroup_usage_before - $e.cgroup_usage_after'
    expect_eq "$name: one decision for the episode" 1 "$(grep -c . <<<"$evs")"
    expect_eq "$name: oomwarden_guard_kills_total{reason=\"cgroup_headroom\"} +1" $((k0 + 1)) "$(kills_metric)"
}

# ---- 1. the grower, v1 without PSI (failcnt), and the reader that must live ---------------------
v1_cgroup grow $((128 << 20)) || not_ok "scratch cgroup grow"
cg_grow=$CG rel_grow=$CG_REL
v1_cgroup read $((64 << 20)) || not_ok "scratch cgroup read"
cg_read=$CG rel_read=$CG_REL
start_agent main ""
if kill -0 "$AGENT" 2>/dev/null && watched "$rel_grow" && watched "$rel_read"; then
    ok "the agent's guard watches the scratch cgroups"
else
    not_ok "the agent's guard watches the scratch cgroups" "$(cat "$AERR")"
fi
grep -q "guard: watching $rel_grow (limit $((128 << 20))) without PSI: limit hits only" "$AERR" &&
    ok "v1 cgroup without a unified twin: limit hits (failcnt) instead of PSI" ||
    not_ok "v1 cgroup without a unified twin: limit hits (failcnt) instead of PSI" "$(grep watching "$AERR")"

# the reader: 8 MiB of anon, 192 MiB of file read through a 64 MiB cgroup
uncache "$data/big"
start_hog "$cg_read" reader --name "$T-rd" --anon 8 --cache "$data/big"
reader=$HOG_PID
sleep 3
# at its limit: it has hit it (failcnt) and its peak is within 4 MiB of it (a failed charge
# reclaims before usage touches the limit: peaks of 62.8 MiB of 64 here); usage itself swings
# lower as the kernel reclaims in batches (58.5 MiB seen in one run), so it is not the test
usage=$(cat "$cg_read/memory.usage_in_bytes") fc=$(cat "$cg_read/memory.failcnt")
peak=$(cat "$cg_read/memory.max_usage_in_bytes")
if [ "$fc" -gt 0 ] && [ $((peak + (4 << 20))) -ge $((64 << 20)) ]; then
    ok "setup: the reader's cgroup is at its limit (usage $usage, peak $peak, failcnt $fc)"
else
    not_ok "setup: the reader's cgroup is at its limit" "usage $usage, peak $peak, failcnt $fc"
fi
kill -0 "$reader" 2>/dev/null && ok "a reader of page cache at its limit is not killed" ||
    not_ok "a reader of page cache at its limit is not killed" "$(guard_events "$rel_read")"
expect_eq "no decision about the reader's cgroup" "" "$(guard_events "$rel_read")"
kill -9 "$reader"

# the grower: 16 MiB of anon and 80 MiB of page cache, then anon at 16 MiB/s
uncache "$data/cache"
k0=$(kills_metric)
marker=$(kmsg_marker)
start_hog "$cg_grow" grow --name "$T-grow" --anon 16 --cache "$data/cache" --grow 16
episode grow "$T-grow" "$cg_grow" "$rel_grow" "$HOG_PID" "$marker" "$k0"
first_ev=$EV

# ---- 2. the same with PSI from a twin in the unified tree ----------------------------------------
if [ -f "$UNIFIED/cgroup.procs" ] && [ -f "$UNIFIED/memory.pressure" ]; then
    # the twin first: the guard looks for a cgroup's PSI when it starts to watch it
    mkdir "$UNIFIED/$SCRATCH_PREFIX-$$-twin" && LIVE_CGROUPS+=("$UNIFIED/$SCRATCH_PREFIX-$$-twin")
    v1_cgroup twin $((128 << 20)) || not_ok "scratch cgroup twin"
    cg_twin=$CG rel_twin=$CG_REL
    if watched "$rel_twin" && grep "guard: watching $rel_twin " "$AERR" | grep -qv "without PSI"; then
        ok "with a twin at the same path in the unified tree: the twin's PSI"
    else
        not_ok "with a twin in the unified tree: its PSI" "$(grep watching "$AERR")"
    fi
    uncache "$data/cache"
    k0=$(kills_metric)
    marker=$(kmsg_marker)
    ready=$LIVE_TMP/twin.ready
    sh -c 'echo $$ >"$1/cgroup.procs" && echo $$ >"$2/cgroup.procs" && shift 2 && exec "$@"' sh \
        "$cg_twin" "$UNIFIED$rel_twin" "$HOG" --ready "$ready" --name "$T-twin" --anon 16 \
        --cache "$data/cache" --grow 16 </dev/null >/dev/null 2>&1 &
    tpid=$!
    disown "$tpid"
    LIVE_PIDS+=("$tpid")
    episode twin "$T-twin" "$cg_twin" "$rel_twin" "$tpid" "$marker" "$k0"
    # the reader again, PSI and all
    mkdir "$UNIFIED/$SCRATCH_PREFIX-$$-twinread" && LIVE_CGROUPS+=("$UNIFIED/$SCRATCH_PREFIX-$$-twinread")
    v1_cgroup twinread $((64 << 20)) || not_ok "scratch cgroup twinread"
    cg_tr=$CG rel_tr=$CG_REL
    watched "$rel_tr" || not_ok "the guard watches $rel_tr"
    uncache "$data/big"
    ready=$LIVE_TMP/twinread.ready
    sh -c 'echo $$ >"$1/cgroup.procs" && echo $$ >"$2/cgroup.procs" && shift 2 && exec "$@"' sh \
        "$cg_tr" "$UNIFIED$rel_tr" "$HOG" --ready "$ready" --name "$T-trd" --anon 8 \
        --cache "$data/big" </dev/null >/dev/null 2>&1 &
    trpid=$!
    disown "$trpid"
    LIVE_PIDS+=("$trpid")
    for _ in $(seq 100); do [ -f "$ready" ] && break; sleep 0.05; done
    sleep 3
    kill -0 "$trpid" 2>/dev/null && [ -z "$(guard_events "$rel_tr")" ] &&
        ok "with PSI too, the page cache reader is not killed (failcnt $(cat "$cg_tr/memory.failcnt"))" ||
        not_ok "with PSI too, the page cache reader is not killed" "$(guard_events "$rel_tr")"
    kill -9 "$trpid"
else
    skip "the guard with PSI from a unified twin" "no cgroup2 tree with PSI at $UNIFIED"
fi

# ---- 3. a protected process, the biggest, lives; the smaller grower dies -------------------------
v1_cgroup protect $((224 << 20)) || not_ok "scratch cgroup protect"
cg_pr=$CG rel_pr=$CG_REL
watched "$rel_pr" || not_ok "the guard watches $rel_pr"
start_hog "$cg_pr" big --name "$T-big" --anon 120
big=$HOG_PID
uncache "$data/cache"
k0=$(kills_metric)
marker=$(kmsg_marker)
start_hog "$cg_pr" small --name "$T-small" --anon 8 --cache "$data/cache" --grow 16
small=$HOG_PID
episode small "$T-small" "$cg_pr" "$rel_pr" "$small" "$marker" "$k0"
kill -0 "$big" 2>/dev/null && ok "the protected process lives" || not_ok "the protected process lives" "pid $big is gone"
# the kernel would have taken the protected one: it is the bigger
expect_eq "the grower was the kernel's second choice, the guard's first" "2 1" \
    "$(jq -r '"\(.kernel_rank) \(.candidates)"' <<<"${EV:-null}")"
if jq -r .table <<<"${EV:-null}" | grep -E "^ +- +$big +$T-big .*protect:protected .*never: protected by policy$" >/dev/null; then
    ok "the table shows the protected one, and why not"
else
    not_ok "the table shows the protected one, and why not" "$(jq -r .table <<<"${EV:-null}")"
fi
kill -9 "$big"
kill -0 "$AGENT" 2>/dev/null && ok "the agent ran through it all" || not_ok "the agent ran through it all" "$(tail -5 "$AERR")"
kill -TERM "$AGENT"
wait_dead "$AGENT" 10

# ---- 4. --dry-run: the decision and its table, no kill ---------------------------------------------
v1_cgroup dry $((128 << 20)) || not_ok "scratch cgroup dry"
cg_dry=$CG rel_dry=$CG_REL
start_agent dry "" --dry-run
watched "$rel_dry" || not_ok "the guard watches $rel_dry"
grep -q "guard: on (dry run: decides and logs, kills nothing)" "$AERR" && ok "dry run: said at start" ||
    not_ok "dry run: said at start" "$(cat "$AERR")"
uncache "$data/cache"
marker=$(kmsg_marker)
start_hog "$cg_dry" dry --name "$T-dry" --anon 16 --cache "$data/cache" --grow 16
dry=$HOG_PID
wait_dead "$dry" 30
sleep 1
evs=$(guard_events "$rel_dry")
expect_eq "dry run: one decision, guard_would_kill, naming the grower" "guard_would_kill $dry $T-dry cgroup_headroom" \
    "$(jq -r '"\(.event) \(.pid) \(.comm) \(.reason)"' <<<"$evs")"
if jq -r .table <<<"$evs" | grep -qE "^ +1 +$dry +$T-dry "; then
    ok "dry run: the candidate table has the grower first"
else
    not_ok "dry run: the candidate table has the grower first" "$evs"
fi
expect_eq "dry run: no signal, so the kernel killed it later (oom_control oom_kill 1)" 1 "$(oom_kills "$cg_dry")"
expect_eq "dry run: the kernel's kill is in the log" 1 "$(kernel_kills_since "$marker" "$rel_dry")"
expect_eq "dry run: the decision is counted (as the kill it would have made)" 1 "$(kills_metric)"
kill -TERM "$AGENT"
wait_dead "$AGENT" 10

# ---- 5. the agent in the grower's own cgroup --------------------------------------------------------
v1_cgroup inside $((160 << 20)) || not_ok "scratch cgroup inside"
cg_in=$CG rel_in=$CG_REL
start_agent inside "$cg_in"
watched "$rel_in" || not_ok "the guard watches $rel_in"
expect_eq "the agent runs in the cgroup" "$rel_in" "$(awk -F: '$2 == "memory" {print $3}' "/proc/$AGENT/cgroup")"
vmlck=$(awk '/^VmLck:/ {print $2}' "/proc/$AGENT/status")
vmrss=$(awk '/^VmRSS:/ {print $2}' "/proc/$AGENT/status")
if [ "${vmlck:-0}" -gt 0 ]; then ok "the agent is mlocked (VmLck ${vmlck} kB, VmRSS ${vmrss} kB)"; else not_ok "the agent is mlocked" "VmLck ${vmlck:-?}"; fi
own=$(cat "/proc/$AGENT/oom_score_adj")
if [ "$own" = -1000 ]; then
    ok "the agent set its own oom_score_adj to -1000"
elif [ "$own" = 0 ] && grep -q "cannot set its own oom_score_adj to -1000 (Permission denied: lowering needs CAP_SYS_RESOURCE)" "$AERR"; then
    ok "no CAP_SYS_RESOURCE here: the agent stays at 0 and says so"
else
    not_ok "the agent's own oom_score_adj" "adj $own; $(grep -i adj "$AERR")"
fi
uncache "$data/cache"
k0=$(kills_metric)
marker=$(kmsg_marker)
start_hog "$cg_in" inside --name "$T-in" --anon 16 --cache "$data/cache" --grow 16
episode inside "$T-in" "$cg_in" "$rel_in" "$HOG_PID" "$marker" "$k0"
if kill -0 "$AGENT" 2>/dev/null && [ "$(curl -sf -m 5 "$AURL/healthz")" = ok ]; then
    ok "the agent lives and answers"
else
    not_ok "the agent lives and answers" "$(tail -5 "$AERR")"
fi
if jq -r .table <<<"${EV:-null}" | grep -qE "^ +- +$AGENT +oomwarden .*never: oomwarden itself$"; then
    ok "the agent ranked itself in the table and never took itself"
else
    not_ok "the agent never took itself" "$(jq -r .table <<<"${EV:-null}")"
fi
kill -TERM "$AGENT"
wait_dead "$AGENT" 10
if [ -n "$first_ev" ]; then
    echo "# trigger to kill: $(timing "$first_ev")"
fi
done_testing
