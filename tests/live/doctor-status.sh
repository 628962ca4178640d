#!/usr/bin/env bash
# doctor and status on this machine, against the kernel's own numbers.
#
# The node-crash pattern needs node daemons ranked before a workload in a machine-wide OOM. The
# seed nodes had the daemons at oom_score_adj 0 and the pod at -997; here, without
# CAP_SYS_RESOURCE, nothing goes below 0. But the kill order depends only on *differences* of
# oom_score_adj (badness = pages + adj x totalpages/1000, the same shift for every process), so
# daemons at +997 and a pod at 0 rank exactly like daemons at 0 and a pod at -997. So: small
# hogs named sshd (60 MiB) and systemd-network (12 MiB; apart by more than one oom_score point,
# (RAM + swap) x 1.5 / 1000, so the kernel's own numbers tell their order) at 997 in a scratch cgroup, and a 200 MiB "workload" at 0 in
# a Kubernetes-shaped scratch path (oomwarden-test-PID-node/kubepods/pod<uid>/<64 hex>: the
# Guaranteed cgroupfs layout). doctor must flag the kill order and name both, and the kernel's
# own /proc/PID/oom_score must agree that they come first.
#
# status: its memory, PSI and cgroup numbers against /proc/meminfo, /proc/pressure/memory and the
# cgroup files; its next victim of a limited cgroup at ~88% of its limit.
#
# Other engineers' processes and OOMs share this machine: assertions are about our processes
# only, and "the first workload" is checked to be ours or left alone with a reason.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/live.sh"
require_root
require_v1_memory

# a cgroup below one of ours, recorded for the cleanup (parents first in the list)
v1_mkdir() {
    mkdir "$V1_MEMORY$1" || return 1
    LIVE_CGROUPS+=("$V1_MEMORY$1")
}

SYS=/$SCRATCH_PREFIX-$$-sys
NODE=/$SCRATCH_PREFIX-$$-node
POD=$NODE/kubepods/pod7c0ffee5-0b1d-4c2e-9f3a-$(printf '%012x' $$)
CTR=$POD/$(printf 'ab%062x' $$)
v1_mkdir "$SYS" && v1_mkdir "$NODE" && v1_mkdir "$NODE/kubepods" && v1_mkdir "$POD" &&
    v1_mkdir "$CTR" || { not_ok "create the scratch cgroups"; done_testing; exit; }

start_hog "$V1_MEMORY$SYS" sshd --name sshd --anon 60 --adj 997; sshd=$HOG_PID
start_hog "$V1_MEMORY$SYS" net --name systemd-network --anon 12 --adj 997; net=$HOG_PID
start_hog "$V1_MEMORY$CTR" pod --name ow-pod-app --anon 200 --adj 0; pod=$HOG_PID
for p in $sshd $net $pod; do
    kill -0 "$p" 2>/dev/null || { not_ok "hog $p did not start"; done_testing; exit; }
done

# the kernel's own order among the three
ks=$(cat /proc/$sshd/oom_score) kn=$(cat /proc/$net/oom_score) kp=$(cat /proc/$pod/oom_score)
if [ "$ks" -gt "$kn" ] && [ "$kn" -gt "$kp" ]; then
    ok "kernel oom_score: sshd $ks > systemd-network $kn > workload $kp"
else
    not_ok "kernel oom_score order" "sshd $ks, systemd-network $kn, workload $kp"
fi

json=$("$BIN" doctor --json --only kill-order)
rc=$?
expect_eq "doctor --only kill-order exits 2 (critical)" 2 "$rc"
fw=$(jq -r '.findings[0].data.first_workload.pid // empty' <<<"$json")
if [ "$fw" = "$pod" ]; then
    ok "the first workload process is our Kubernetes-shaped hog ($pod)"
else
    # another test's pod-shaped cgroup could come first; ours must still be behind our daemons
    skip "the first workload process is our hog" "first workload is pid ${fw:-none} ($(jq -c '.findings[0].data.first_workload' <<<"$json"))"
fi
order=$(jq -r --argjson s "$sshd" --argjson n "$net" \
    '[.findings[0].data.critical_before_workload[] | select(.pid == $s or .pid == $n) | .comm] | join(" ")' <<<"$json")
expect_eq "doctor names our sshd and systemd-network, in the kernel's order, before the workload" \
    "sshd systemd-network" "$order"
check "the finding is kill-order, critical; our daemons rank before our workload" jq -e \
    --argjson s "$sshd" --argjson n "$net" --argjson p "$pod" '
    .findings[0].id == "kill-order" and .findings[0].severity == "critical"
    and ([.findings[0].data.critical_before_workload[] | select(.pid == $s) | .rank][0]
         < [.findings[0].data.critical_before_workload[] | select(.pid == $n) | .rank][0])
    and (.findings[0].data.first_workload.rank
         > [.findings[0].data.critical_before_workload[] | select(.pid == $n) | .rank][0])' <<<"$json"
# badness: the model's numbers are the kernel's (oom_score is derived from them)
T=$(jq .findings[0].data.totalpages <<<"$json")
bad_s=$(jq --argjson s "$sshd" '.findings[0].data.critical_before_workload[] | select(.pid == $s) | .badness' <<<"$json")
model=$(( (1000 + bad_s * 1000 / T) * 2 / 3 ))
expect_eq "sshd's badness gives the kernel's oom_score ((1000 + badness*1000/T)*2/3)" "$ks" "$model"
text=$("$BIN" doctor --only kill-order)
if grep -q "sshd (#[0-9]*), systemd-network (#[0-9]*)" <<<"$text"; then
    ok "the text names them: $(grep -o 'node-critical before the first workload: [^;]*' <<<"$text" | cut -c1-160)"
else
    not_ok "the text names sshd and systemd-network" "$text"
fi

# ---- status ---------------------------------------------------------------------------------
FULL=/$SCRATCH_PREFIX-$$-full
v1_mkdir "$FULL" || { not_ok "create $FULL"; done_testing; exit; }
echo 0 >"$V1_MEMORY$FULL/memory.swappiness" 2>/dev/null
echo $((64 * 1048576)) >"$V1_MEMORY$FULL/memory.limit_in_bytes"
start_hog "$V1_MEMORY$FULL" full --name ow-full --anon 56; full=$HOG_PID

psi_before=$(cat /proc/pressure/memory)
avail_before=$(($(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo) * 1024))
s=$("$BIN" status --json --top 50)
avail_after=$(($(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo) * 1024))
psi_after=$(cat /proc/pressure/memory)
mi_total=$(($(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) * 1024))
expect_eq "status memory.mem_total == /proc/meminfo MemTotal" "$mi_total" "$(jq .memory.mem_total <<<"$s")"
# MemAvailable moves with everything else the machine does (builds beside us moved it by 360 MB
# in one run): status's value must lie between a read just before and one just after, give or
# take 16 MiB for what moved between its own read and its exit
av=$(jq .memory.mem_available <<<"$s")
lo=$((avail_before < avail_after ? avail_before : avail_after))
hi=$((avail_before > avail_after ? avail_before : avail_after))
slack=$((16 * 1048576))
if [ "$av" -ge $((lo - slack)) ] && [ "$av" -le $((hi + slack)) ]; then
    ok "status mem_available is /proc/meminfo's MemAvailable (between the reads around it: $lo..$hi, $av)"
else
    not_ok "status mem_available" "status $av, /proc/meminfo before $avail_before, after $avail_after"
fi
# PSI: the averages move every 2 s; status's must be one of the two readings around it
for f in some.avg10 full.avg10 some.avg60; do
    kind=${f%%.*} key=${f#*.}
    b=$(awk -v k="$kind" -v f="$key" '$1 == k { for (i = 2; i <= NF; i++) { split($i, a, "="); if (a[1] == f) print a[2] } }' <<<"$psi_before")
    a=$(awk -v k="$kind" -v f="$key" '$1 == k { for (i = 2; i <= NF; i++) { split($i, a, "="); if (a[1] == f) print a[2] } }' <<<"$psi_after")
    got=$(jq -r ".psi.$f" <<<"$s")
    # jq prints 0.00 as 0: compare as numbers
    if awk -v g="$got" -v b="$b" -v a="$a" 'BEGIN { exit !(g == b || g == a) }'; then
        ok "status psi.$f ($got) is /proc/pressure/memory's ($b before, $a after)"
    else
        not_ok "status psi.$f" "status $got; /proc/pressure/memory $b before, $a after"
    fi
done
row=$(jq -c --arg p "$FULL" '.cgroups.nearest_limit[] | select(.path == $p)' <<<"$s")
if [ -z "$row" ]; then
    not_ok "status lists $FULL among the cgroups nearest their limit" "$(jq -c .cgroups <<<"$s")"
else
    expect_eq "its limit is memory.limit_in_bytes" "$(cat "$V1_MEMORY$FULL/memory.limit_in_bytes")" "$(jq .max <<<"$row")"
    usage=$(cat "$V1_MEMORY$FULL/memory.usage_in_bytes")
    cur=$(jq .current <<<"$row")
    d=$((cur > usage ? cur - usage : usage - cur))
    if [ "$d" -le $((1048576)) ]; then
        ok "its usage is memory.usage_in_bytes ($cur vs $usage read after)"
    else
        not_ok "its usage" "status $cur, memory.usage_in_bytes $usage"
    fi
    expect_eq "its next victim is the hog in it" "$full" "$(jq .next_victim.pid <<<"$row")"
    anon=$(awk '$1 == "total_rss" { print $2 }' "$V1_MEMORY$FULL/memory.stat")
    expect_eq "its anon is memory.stat total_rss" "$anon" "$(jq .anon <<<"$row")"
fi
# the first machine-wide victim is the process with the kernel's highest oom_score
first=$(jq .global_victims[0].pid <<<"$s")
top=$(for d in /proc/[0-9]*; do sc=$(cat "$d/oom_score" 2>/dev/null) && echo "$sc ${d#/proc/}"; done | sort -k1,1nr | head -1)
if [ "$(cat /proc/"$first"/oom_score 2>/dev/null)" = "${top%% *}" ]; then
    ok "status's first machine-wide victim ($first) has the highest oom_score on the machine (${top%% *})"
else
    not_ok "status's first machine-wide victim" "status: $first ($(cat /proc/$first/oom_score 2>/dev/null)); kernel's highest: $top"
fi
stext=$("$BIN" status)
check "status text shows the kill-order finding among the top ones" grep -q "CRITICAL kill-order" <<<"$stext"
lines=$(wc -l <<<"$stext")
echo "# status: $lines lines"

# ---- the kernel log, unreadable without CAP_SYSLOG ---------------------------------------------
if [ "$(cat /proc/sys/kernel/dmesg_restrict)" = 1 ] && command -v setpriv >/dev/null; then
    j=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$BIN" doctor --json --only kernel-log,recent-kills 2>&1)
    check "as nobody (dmesg_restrict 1): kernel-log warns, EPERM, and recent-kills is skipped" jq -e '
        .findings[0].id == "kernel-log" and .findings[0].severity == "warning"
        and (.findings[0].data.error | test("not permitted"))
        and (.checks[] | select(.id == "recent-kills") | .result == "skipped")' <<<"$j"
else
    skip "kernel-log unreadable" "kernel.dmesg_restrict is 0 here (or no setpriv)"
fi
json=$("$BIN" doctor --json --only kernel-log,recent-kills)
check "as root the kernel log is readable" jq -e '.checks[] | select(.id == "kernel-log") | .result == "ok"' <<<"$json"

done_testing
