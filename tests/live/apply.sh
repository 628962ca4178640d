#!/usr/bin/env bash
# oomwarden apply against the kernel, on processes this test started (matched by a comm, a
# cmdline or a scratch cgroup that only they have):
#   - --dry-run prints before -> after and writes nothing; the real run writes oom_score_adj and
#     /proc/PID/oom_score moves by the kernel's own formula; `children = yes` reaches a child;
#     a second run has nothing to change;
#   - memory.oom.group and memory.high rules on a v1 cgroup are skipped with the reason;
#   - one failing write (lowering below oom_score_adj_min without CAP_SYS_RESOURCE) is reported
#     with its reason, the others are still made, and the exit status is 1;
#   - a process that exits between the plan and the write (reaped, or a zombie not yet reaped)
#     is "vanished", not an error and not "done".
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/live.sh"
require_root
require_v1_memory
command -v jq >/dev/null || skip_all "jq not installed"

T=owa-$$ # comm prefix: owa-PID-x stays within the 15 characters of a comm
score() { cat "/proc/$1/oom_score" 2>/dev/null; }
# ch JSON PID: the change for a pid, compact
ch() { jq -c --argjson p "$2" '.changes[] | select(.pid == $p)' <<<"$1"; }
state_of() { jq -r --argjson p "$2" '.changes[] | select(.pid == $p) | .state' <<<"$1"; }

# ---- the processes --------------------------------------------------------------------------
start_hog "" a --name "$T-a" --anon 16
A=$HOG_PID
# a parent (matched by its command line) and its child (matched through `children = yes`)
kid_ready=$LIVE_TMP/kid.ready
sh -c '"$1" --name "$2" --ready "$3" </dev/null >/dev/null & wait # '"$T"'-parent' sh \
    "$HOG" "$T-kid" "$kid_ready" &
PARENT=$!
disown "$PARENT"
LIVE_PIDS+=("$PARENT")
for _ in $(seq 100); do [ -f "$kid_ready" ] && break; sleep 0.05; done
KID=$(pgrep -P "$PARENT" | head -1)
LIVE_PIDS+=("$KID")
# a process matched by its scratch cgroup only
v1_cgroup apply $((256 << 20)) || not_ok "scratch cgroup"
start_hog "$CG" incg --name "$T-cg"
INCG=$HOG_PID
[ -n "$KID" ] && [ "$(cat "/proc/$KID/comm")" = "$T-kid" ] && ok "setup: parent $PARENT, child $KID, $A, $INCG in $CG_REL" ||
    not_ok "setup: the child process" "parent $PARENT, child '$KID'"

conf=$LIVE_TMP/apply.conf
cat >"$conf" <<EOC
[rule one]
comm = ^$T-a\$
oom-score-adj = 300

[rule parent-and-children]
cmdline = $T-parent
children = yes
oom-score-adj = 250

[rule by-cgroup]
cgroup = $CG_REL
oom-score-adj = 150

[rule cgroup-knobs]
cgroup = $CG_REL
oom-group = 1
memory-high = 90%
EOC
check "the config is valid (agent --check-config)" "$BIN" agent --config "$conf" --check-config

score_a=$(score "$A")
before="$(adj "$A") $(adj "$PARENT") $(adj "$KID") $(adj "$INCG")"
expect_eq "all four start at oom_score_adj 0" "0 0 0 0" "$before"

# ---- dry run ---------------------------------------------------------------------------------
out=$("$BIN" apply --config "$conf" --dry-run 2>&1)
rc=$?
expect_eq "dry run: exit 0" 0 "$rc"
expect_eq "dry run: nothing written" "$before" "$(adj "$A") $(adj "$PARENT") $(adj "$KID") $(adj "$INCG")"
if grep -qF "pid $A $T-a (" <<<"$out" && grep -q "pid $A $T-a (.*): 0 -> 300  \[rule one\]" <<<"$out" &&
    grep -q "pid $KID $T-kid (.*): 0 -> 250  \[rule parent-and-children\]" <<<"$out" &&
    grep -q "pid $INCG $T-cg ($CG_REL): 0 -> 150  \[rule by-cgroup\]" <<<"$out" &&
    grep -q "^4 would change, 0 would fail, 2 skipped, 0 gone, 0 already as the rules say" <<<"$out"; then
    ok "dry run: each change as before -> after with its rule"
else
    not_ok "dry run: each change as before -> after with its rule" "$out"
fi
json=$("$BIN" apply --config "$conf" --dry-run --json)
expect_eq "dry run --json: four planned oom_score_adj changes, nothing else touched" \
    "$(printf '%s\n' "$A" "$PARENT" "$KID" "$INCG" | sort -n | xargs) planned" \
    "$(jq -r '[.changes[] | select(.kind == "oom_score_adj") | .pid] | sort | map(tostring) | join(" ")' <<<"$json") $(jq -r '[.changes[] | select(.kind == "oom_score_adj") | .state] | unique | join(",")' <<<"$json")"

# ---- the real run ----------------------------------------------------------------------------
json=$("$BIN" apply --config "$conf" --json 2>"$LIVE_TMP/apply.err")
rc=$?
expect_eq "apply: exit 0" 0 "$rc"
expect_eq "apply: the kernel has the new values (one, parent, child, by cgroup)" "300 250 250 150" \
    "$(adj "$A") $(adj "$PARENT") $(adj "$KID") $(adj "$INCG")"
expect_eq "apply: each reported done, before 0" "done 0 300|done 0 250|done 0 250|done 0 150" \
    "$(for p in "$A" "$PARENT" "$KID" "$INCG"; do jq -r --argjson p "$p" '.changes[] | select(.pid == $p) | "\(.state) \(.before) \(.after)"' <<<"$json"; done | paste -sd'|')"
expect_eq "children = yes: the child was changed by the parent's rule" "parent-and-children $T-kid" \
    "$(jq -r --argjson p "$KID" '.changes[] | select(.pid == $p) | "\(.rule) \(.comm)"' <<<"$json")"
# /proc/PID/oom_score = (1000 + badness * 1000 / totalpages) * 2 / 3, badness including
# adj * totalpages / 1000: +300 moves it by 200 (integer division: 199..201)
score_a2=$(score "$A")
d=$((score_a2 - score_a))
if [ "$d" -ge 199 ] && [ "$d" -le 201 ]; then
    ok "oom_score moved with the adj: $score_a -> $score_a2 (+300 adj = +200 score)"
else
    not_ok "oom_score moved with the adj" "$score_a -> $score_a2, expected +200"
fi

# v1: no memory.oom.group, no memory.high: skipped, named, and nothing else written
soft=$(cat "$CG/memory.soft_limit_in_bytes")
expect_eq "v1: memory.oom.group skipped with the reason" "skipped cgroup v1 has no memory.oom.group (4.19+, v2) $CG_REL" \
    "$(jq -r '.changes[] | select(.kind == "memory.oom.group") | "\(.state) \(.reason) \(.cgroup)"' <<<"$json")"
expect_eq "v1: memory.high skipped with the reason" "skipped cgroup v1 has no memory.high (soft_limit_in_bytes is not the same) $CG_REL" \
    "$(jq -r '.changes[] | select(.kind == "memory.high") | "\(.state) \(.reason) \(.cgroup)"' <<<"$json")"
expect_eq "v1: the cgroup rules matched only the scratch cgroup" "$CG_REL" \
    "$(jq -r '[.changes[] | select(.kind != "oom_score_adj") | .cgroup] | unique | join(",")' <<<"$json")"
expect_eq "v1: soft_limit_in_bytes was not used as memory.high" "$soft" "$(cat "$CG/memory.soft_limit_in_bytes")"
expect_eq "summary: 4 done, 2 skipped, 0 failed" "4 2 0 0" \
    "$(jq -r '.summary | "\(.done) \(.skipped) \(.failed) \(.vanished)"' <<<"$json")"

# ---- again: nothing to change ------------------------------------------------------------------
out=$("$BIN" apply --config "$conf" 2>&1)
rc=$?
expect_eq "second apply: exit 0" 0 "$rc"
if grep -q "^$conf: 0 changes$" <<<"$out" &&
    grep -q "^0 done, 0 failed, 2 skipped, 0 gone before the write, 4 already as the rules say$" <<<"$out" &&
    ! grep -q "oom_score_adj " <<<"$out"; then
    ok "second apply: 0 changes, 4 already as the rules say (the 2 v1 skips listed again)"
else
    not_ok "second apply: nothing to change" "$out"
fi

# ---- one write fails, the others are made ----------------------------------------------------
# lowering oom_score_adj below the process's oom_score_adj_min (0 here) needs CAP_SYS_RESOURCE:
# without it the kernel says EACCES. Run apply without that capability (this machine has none;
# elsewhere setpriv takes it out of the bounding set, which root's exec then honours).
start_hog "" neg --name "$T-neg"
NEG=$HOG_PID
start_hog "" pos --name "$T-pos"
POS=$HOG_PID
fconf=$LIVE_TMP/fail.conf
cat >"$fconf" <<EOC
[rule lower]
comm = ^$T-neg\$
oom-score-adj = -100

[rule raise]
comm = ^$T-pos\$
oom-score-adj = 350
EOC
nocap=()
if command -v setpriv >/dev/null; then
    nocap=(setpriv --bounding-set=-sys_resource --inh-caps=-sys_resource)
fi
# the dry run sees it coming: no CAP_SYS_RESOURCE to lower below 0 on a real /proc
json=$("${nocap[@]}" "$BIN" apply --config "$fconf" --dry-run --json 2>/dev/null)
rc=$?
expect_eq "dry run: exit 1, a change would fail" 1 "$rc"
expect_eq "dry run: the lowering would fail with the kernel's error and the reason" \
    "would_fail Permission denied lowering oom_score_adj below the process's floor (oom_score_adj_min, 0 unless set at start) needs CAP_SYS_RESOURCE" \
    "$(jq -r --argjson p "$NEG" '.changes[] | select(.pid == $p) | "\(.state) \(.error) \(.hint)"' <<<"$json")"
expect_eq "dry run: the raise would change; summary 1 planned, 1 would fail" "planned 1 1" \
    "$(state_of "$json" "$POS") $(jq -r '.summary | "\(.planned) \(.would_fail)"' <<<"$json")"
expect_eq "dry run: nothing written" "0 0" "$(adj "$NEG") $(adj "$POS")"
out=$("${nocap[@]}" "$BIN" apply --config "$fconf" --dry-run 2>&1)
if grep -q "pid $NEG $T-neg (.*): 0 -> -100: would fail: Permission denied: lowering oom_score_adj below" <<<"$out" &&
    grep -q "pid $POS $T-pos (.*): 0 -> 350  \[rule raise\]" <<<"$out" &&
    grep -q "^1 would change, 1 would fail" <<<"$out"; then
    ok "dry run text: \"would fail\" with the reason, the other \"would change\""
else
    not_ok "dry run text: \"would fail\" with the reason" "$out"
fi
# and the kernel agrees: the real run fails there, and only there
json=$("${nocap[@]}" "$BIN" apply --config "$fconf" --json 2>"$LIVE_TMP/fail.err")
rc=$?
if [ "$NEG" -lt "$POS" ]; then
    order="(the failing one first in the plan)"
else
    order="(PIDs wrapped: the failing one is not first)"
fi
expect_eq "one change failed: exit 1" 1 "$rc"
expect_eq "the failing change: EACCES, with the reason" \
    "failed Permission denied lowering oom_score_adj below the process's floor (oom_score_adj_min, 0 unless set at start) needs CAP_SYS_RESOURCE" \
    "$(jq -r --argjson p "$NEG" '.changes[] | select(.pid == $p) | "\(.state) \(.error) \(.hint)"' <<<"$json")"
expect_eq "the other change was made $order" "done 350" "$(state_of "$json" "$POS") $(adj "$POS")"
expect_eq "the failing process kept its value" 0 "$(adj "$NEG")"
expect_eq "summary: 1 done, 1 failed" "1 1" "$(jq -r '.summary | "\(.done) \(.failed)"' <<<"$json")"
out=$("${nocap[@]}" "$BIN" apply --config "$fconf" 2>&1)
if grep -q "pid $NEG $T-neg (.*): 0 -> -100: FAILED: Permission denied: lowering oom_score_adj below" <<<"$out" &&
    grep -q "^0 done, 1 failed" <<<"$out"; then
    ok "text: the failure named with its reason"
else
    not_ok "text: the failure named with its reason" "$out"
fi

# ---- exits between the plan and the write --------------------------------------------------------
# strace stops apply (SIGSTOP) at its first write(), i.e. after the plan, at the first process's
# oom_score_adj; meanwhile one planned process is killed and reaped, another killed and left a
# zombie (its parent never waits). Both must come out "vanished"; the first one "done".
if ! command -v strace >/dev/null; then
    skip "vanished between plan and write" "strace not installed (it stops apply after the plan)"
else
    start_hog "" first --name "$T-first"
    FIRST=$HOG_PID
    start_hog "" gone --name "$T-gone"
    GONE=$HOG_PID
    zready=$LIVE_TMP/zombie.ready
    sh -c '"$1" --name "$2" --ready "$3" </dev/null >/dev/null & exec sleep 600' sh "$HOG" "$T-zomb" "$zready" &
    ZPARENT=$!
    disown "$ZPARENT"
    LIVE_PIDS+=("$ZPARENT")
    for _ in $(seq 100); do [ -f "$zready" ] && break; sleep 0.05; done
    ZOMB=$(pgrep -P "$ZPARENT" | head -1)
    LIVE_PIDS+=("$ZOMB")
    vconf=$LIVE_TMP/vanish.conf
    printf '[rule three]\ncomm = ^%s-(first|gone|zomb)$\noom-score-adj = 400\n' "$T" >"$vconf"
    if ! [ "$FIRST" -lt "$GONE" ] || ! [ "$FIRST" -lt "${ZOMB:-0}" ]; then
        skip "vanished between plan and write" "PIDs wrapped ($FIRST $GONE ${ZOMB:-?}): the first write would not be the stayer's"
    else
        strace -o "$LIVE_TMP/strace.log" -e trace=write -e inject=write:signal=SIGSTOP:when=1 \
            "$BIN" apply --config "$vconf" --json >"$LIVE_TMP/vanish.json" 2>"$LIVE_TMP/vanish.err" &
        spid=$!
        # a ptrace stop at every traced syscall shows as 't' too: wait for strace to say it is
        # the group stop
        stopped=""
        for _ in $(seq 200); do
            grep -q -- "--- stopped by SIGSTOP ---" "$LIVE_TMP/strace.log" 2>/dev/null && stopped=stopped && break
            sleep 0.05
        done
        tracee=$(pgrep -P "$spid" | head -1)
        kill -9 "$GONE" "$ZOMB"
        for _ in $(seq 100); do
            [ ! -e "/proc/$GONE" ] && [ "$(awk '{print $3}' "/proc/$ZOMB/stat" 2>/dev/null)" = Z ] && break
            sleep 0.05
        done
        zstate=$(awk '{print $3}' "/proc/$ZOMB/stat" 2>/dev/null)
        kill -CONT "$tracee" 2>/dev/null
        wait "$spid"
        rc=$?
        json=$(cat "$LIVE_TMP/vanish.json")
        expect_eq "setup: apply stopped after its plan, one reaped, one a zombie" "stopped gone Z" \
            "$stopped $([ -e "/proc/$GONE" ] || echo gone) $zstate"
        expect_eq "vanished: exit 0 (not an error)" 0 "$rc"
        expect_eq "the process still there was written" "done 400" "$(state_of "$json" "$FIRST") $(adj "$FIRST")"
        expect_eq "killed and reaped before its write: vanished" vanished "$(state_of "$json" "$GONE")"
        expect_eq "killed, a zombie at its write: vanished, not done" vanished "$(state_of "$json" "$ZOMB")"
        expect_eq "summary: 1 done, 2 vanished, 0 failed" "1 2 0" \
            "$(jq -r '.summary | "\(.done) \(.vanished) \(.failed)"' <<<"$json")"
    fi
fi
done_testing
