#!/usr/bin/env bash
# oomwarden lab protect, 10 times: the kernel must kill the unprotected eater every time and
# never the protected one (which is the bigger), by its own kill lines read here from dmesg.
# This machine has no CAP_SYS_RESOURCE, so the variant is "the other one at +900" and the lab
# must say so; the -900 variant runs in the VM (tests/vm/scenarios/lab-protect).
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/live.sh"
require_root
require_v1_memory
[ -r /dev/kmsg ] || skip_all "no /dev/kmsg"

runs=${LAB_PROTECT_RUNS:-10}
good=0
fails=""
for i in $(seq "$runs"); do
    json=$LIVE_TMP/protect-$i.json
    "$BIN" lab protect --max 24M --json >"$json" 2>"$LIVE_TMP/protect-$i.err"
    rc=$?
    prot=$(jq -r '.eaters[] | select(.protected) | .pid' "$json" 2>/dev/null)
    unprot=$(jq -r '.eaters[] | select(.protected | not) | .pid' "$json" 2>/dev/null)
    cg=$(jq -r .cgroup "$json" 2>/dev/null)
    kills=$(dmesg | grep -F "oom_memcg=$cg," | sed -n 's/.*,task=\([^,]*\),pid=\([0-9]*\),.*/\2 \1/p' | xargs)
    want="$unprot ow-unprotected"
    if [ "$rc" = 0 ] && [ -n "$unprot" ] && [ "$kills" = "$want" ] &&
        [ "$(jq -r .prediction.victim_pid "$json")" = "$unprot" ] &&
        [ "$(jq -r .kill.pid "$json")" = "$unprot" ]; then
        good=$((good + 1))
    else
        fails="$fails
run $i: exit $rc, kernel killed [$kills], wanted [$want]; protected $prot; $(head -c 300 "$LIVE_TMP/protect-$i.err")"
    fi
done
expect_eq "the unprotected eater was the kernel's victim, alone, in $runs of $runs runs" "$runs" "$good${fails:+$fails}"

# what one run says, checked once in detail
json=$LIVE_TMP/protect-1.json
expect_eq "variant: no CAP_SYS_RESOURCE here, so the other one gets +900" "unprotected_+900 0 900" \
    "$(jq -r '"\(.variant) \(.eaters[0].oom_score_adj) \(.eaters[1].oom_score_adj)"' "$json")"
check "the protected eater is the bigger one (it would die without oom_score_adj)" jq -e '
  (.prediction.candidates | length == 2)
  and (.prediction.victim_pid_without_adj == (.eaters[] | select(.protected) | .pid))
  and ([.prediction.candidates[] | select(.oom_score_adj == 0)][0].rss
       > [.prediction.candidates[] | select(.oom_score_adj == 900)][0].rss)' "$json"
check "badness = rss pages + adj * totalpages/1000 (the kernel's scaling)" jq -e '
  .prediction.totalpages as $t | [.prediction.candidates[]
   | .badness - .badness_without_adj == .oom_score_adj * (($t / 1000) | floor)] | all' "$json"
check "the protected one survived and was not OOM-killed" jq -e '
  [.eaters[] | select(.protected) | .oom_killed == false] | all' "$json"
out=$("$BIN" lab protect --max 24M 2>&1)
check "text: names the variant and the outcome" bash -c '
  grep -q "variant: oom_score_adj -900 needs CAP_SYS_RESOURCE" <<<"$1" &&
  grep -q "as predicted; ow-protected (pid [0-9]*, oom_score_adj 0) survived" <<<"$1" &&
  grep -q "without oom_score_adj it would be pid [0-9]* (ow-protected)" <<<"$1"' _ "$out"
if [ -z "$(ls -d /sys/fs/cgroup/memory/oomwarden-lab-* 2>/dev/null)" ]; then ok "no lab cgroup left"; else not_ok "no lab cgroup left"; fi
done_testing
