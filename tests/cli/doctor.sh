# oomwarden doctor and status on the seed fixtures (sourced by tests/cli/run: uses run_case,
# check, expect_eq). tests/fixtures/gen-doctor.py builds the trees and works out, in its comments,
# the numbers asserted here; the goldens show the words.

for t in k8s-node limits pagecache oomgroup legacy clean; do
    run_case doctor-$t "$BIN" doctor $NW --root tests/fixtures/dr-$t
    run_case doctor-$t-json "$BIN" doctor $NW --root tests/fixtures/dr-$t --json
    run_case status-$t "$BIN" status $NW --root tests/fixtures/dr-$t
done
run_case status-k8s-node-json "$BIN" status $NW --root tests/fixtures/dr-k8s-node --json
run_case status-clean-json "$BIN" status $NW --root tests/fixtures/dr-clean --json
run_case doctor-band "$BIN" doctor --root tests/fixtures/dr-band --only guard-band
run_case status-band "$BIN" status $NW --root tests/fixtures/dr-band
run_case status-top1 "$BIN" status $NW --root tests/fixtures/dr-oomgroup --top 1
run_case status-v1-docker "$BIN" status $NW --root tests/fixtures/cg-v1
run_case status-no-cgroups "$BIN" --root tests/fixtures/procs-basic status $NW
run_case doctor-only "$BIN" doctor --root tests/fixtures/dr-k8s-node --only kill-order,limits
run_case doctor-skip "$BIN" doctor $NW --root tests/fixtures/dr-legacy --skip sysctl --skip adj,swap
run_case doctor-critical-add "$BIN" doctor --root tests/fixtures/dr-k8s-node --only kill-order --critical +rngd,agetty
run_case doctor-critical-replace "$BIN" doctor --root tests/fixtures/dr-k8s-node --only kill-order --critical 'kube*,containerd*'
run_case doctor-list "$BIN" doctor --list
run_case doctor-help "$BIN" doctor --help
run_case status-help "$BIN" status --help
run_case doctor-bad-check "$BIN" doctor --only killorder
run_case doctor-bad-flag "$BIN" doctor --frob
run_case doctor-stray-arg "$BIN" doctor now
run_case doctor-empty-critical "$BIN" doctor --critical ,
run_case doctor-missing-root "$BIN" doctor --root /nonexistent-oomwarden
run_case status-bad-top "$BIN" status --top 0

# exit codes: 0 nothing above info, 1 warnings, 2 critical
exits=""
for t in k8s-node limits pagecache oomgroup legacy clean; do
    "$BIN" doctor $NW --root "$FX/dr-$t" >/dev/null 2>&1
    exits="$exits $t=$?"
done
expect_eq "doctor exit codes: critical 2, warnings 1, clean 0" \
    " k8s-node=2 limits=1 pagecache=1 oomgroup=1 legacy=2 clean=0" "$exits"

# the evidence, from the JSON data (numbers worked out in gen-doctor.py)
j=$("$BIN" doctor $NW --root "$FX/dr-k8s-node" --json)
check "node crash: kill-order is critical and names the five node-critical processes that die before java, in kill order (journald at -250 only while java is small)" \
    jq -e '.findings[0].id == "kill-order" and .findings[0].severity == "critical"
      and ([.findings[0].data.critical_before_workload[] | "\(.rank) \(.comm)"]
           == ["1 sshd", "2 systemd-network", "4 systemd-resolve", "5 systemd-homed", "6 chronyd"])
      and .findings[0].data.critical_before_workload_now == 6
      and .findings[0].data.largest_workload_grown_badness == -605893 + 471040' <<<"$j"
check "node crash: the first workload is the -997 java at #9 with badness 1484816 (anon + page tables) - 997 x 2097" \
    jq -e '.findings[0].data.first_workload == {rank: 9, pid: 1010, comm: "java",
      oom_score_adj: -997, badness: -605893, badness_now: -590533, memory: 6144655360, class: "workload",
      cgroup: "/kubepods.slice/kubepods-pod3f2504e0_4f89_41d3_9a0c_0305e82c3301.slice/cri-containerd-a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1.scope",
      namespace: null, pod: null, container: null}
      and .findings[0].data.adj_weight_pages == 2097' <<<"$j"
check "node crash: the seed cascade in the log is a critical recent-kills finding, 13 machine-wide" \
    jq -e '[.findings[] | select(.id == "recent-kills")][0] | .severity == "critical"
      and .data.global == 13 and .data.kills == 13 and .data.cascades == 1' <<<"$j"
check "every finding has id, severity, title, evidence, fix and data; checks has all 13" \
    jq -e '([.findings[] | has("id","severity","title","evidence","fix","data")] | all)
      and (.checks | length == 14) and .summary.exit_code == 2' <<<"$j"
j=$("$BIN" doctor --root "$FX/dr-limits" --json --only limits)
check "limits over RAM: 178 + 16 + 8 GiB of pod limits on 192 GiB, containers not counted again" \
    jq -e '.findings[0].severity == "warning" and .findings[0].data.limits_sum == 216895848448
      and .findings[0].data.ram == 206158430208
      and ([.findings[0].data.top_limits[].max] == [191126044672, 17179869184, 8589934592])' <<<"$j"
j=$("$BIN" doctor --root "$FX/dr-pagecache" --json --only page-cache)
check "page cache at the limit: three cgroups; the tmpfs one is all shmem, backup mostly inactive" \
    jq -e '.findings[0].severity == "warning" and (.findings[0].data.cgroups | length == 3)
      and (.findings[0].data.cgroups[] | select(.path | endswith(".scope")) | .shmem == 943718400)
      and (.findings[0].data.cgroups[] | select(.path == "/system.slice/backup.service")
           | .inactive_file == 3670016000)' <<<"$j"
j=$("$BIN" doctor --root "$FX/dr-oomgroup" --json --only oom-group,recent-kills)
check "oom.group containers: nginx x4 and php-fpm x5 die together; the log's group kill of 5" \
    jq -e '(.findings[] | select(.id == "oom-group") | [.data.groups[] | .die_together] == [4, 5])
      and (.findings[] | select(.id == "recent-kills") | .data.kills == 5 and .data.memcg == 1)' <<<"$j"
j=$("$BIN" doctor $NW --root "$FX/dr-clean" --json)
check "clean machine: nothing above info, exit code 0" \
    jq -e '([.findings[] | select(.severity != "info")] | length == 0) and .summary.exit_code == 0' <<<"$j"
check "clean machine: no guard band record, guard-band ok" \
    jq -e '.checks[] | select(.id == "guard-band") | .result == "ok" and (.note | contains("no guard band"))' <<<"$j"

# the guard band (gen-doctor.py dr-band): the agent's band on worker.service, nginx.service's
# memory.high lowered since, a cgroup gone; doctor and status show the same objects
j=$("$BIN" doctor --root "$FX/dr-band" --json --only guard-band)
check "guard band: info; worker.service set (1.8 GiB, 0.2 GiB under 2 GiB), nginx changed, gone.service gone" \
    jq -e '.findings[0].id == "guard-band" and .findings[0].severity == "info" and .summary.exit_code == 0
      and .findings[0].data.cgroups == [
        {cgroup: "/system.slice/worker.service", state: "set", memory_high: 1932735283,
         memory_max: 2147483648, under_max: 214748365, set: 1932735283, previous: "max"},
        {cgroup: "/system.slice/nginx.service", state: "changed", memory_high: 943718400,
         memory_max: 1073741824, under_max: 130023424, set: 996147200, previous: "max"},
        {cgroup: "/system.slice/gone.service", state: "gone", memory_high: null, memory_max: null,
         under_max: null, set: 1610612736, previous: 2040109465}]' <<<"$j"
expect_eq "status --json: cgroups.guard_band is the doctor's list" \
    "$(jq -c '.findings[0].data.cgroups' <<<"$j")" \
    "$("$BIN" status $NW --root "$FX/dr-band" --json | jq -c '.cgroups.guard_band')"
expect_eq "status --json without a record: guard_band []" "[]" \
    "$("$BIN" status $NW --root "$FX/dr-clean" --json | jq -c '.cgroups.guard_band')"
bad=$(mktemp -d)
cp -a "$FX/dr-band/." "$bad/"
printf '# oomwarden guard band\n1932735283 /system.slice/worker.service\n' >"$bad/run/oomwarden/guard-band"
j=$("$BIN" doctor --root "$bad" --json --only guard-band)
check "guard band: a malformed record is a warning naming its line, exit 1" \
    jq -e '.findings[0].severity == "warning" and .findings[0].data.bad_line == 2
      and (.findings[0].evidence[0] | contains("line 2 is not")) and .summary.exit_code == 1' <<<"$j"
rm -rf "$bad"

j=$("$BIN" status $NW --root "$FX/dr-k8s-node" --json)
check "status: the next machine-wide victims are sshd, systemd-network, rngd; the container at 95% would lose java" \
    jq -e '([.global_victims[].comm] == ["sshd", "systemd-network", "rngd"])
      and .cgroups.nearest_limit[0].next_victim.pid == 1010
      and .cgroups.nearest_limit[0].next_victim.oom_group_others == 1
      and .recent_kills.kills == 13 and .doctor.critical == 2
      and (.doctor.top | length == 3)' <<<"$j"

# status and doctor count the kernel's OOM kills: earlyoom's and systemd-oomd's kills in a saved
# kernel log (a journal's text under --root) are not among them
T=$(mktemp -d)
cp -r tests/fixtures/dr-oomgroup "$T/root"
printf '%s\n' 'May 19 18:20:00 aks earlyoom[812]: sending SIGTERM to process 9001 uid 0 "tail": badness 900, VmRSS 4000 MiB' \
    'May 19 18:20:05 aks systemd-oomd[600]: Killed /system.slice/x.service due to memory pressure for /system.slice being 85.03% > 80.00% for > 2s with reclaim activity' \
    >>"$T/root/dev/kmsg"
check "the userspace killers' lines are read in that log (explain: 2 userspace kills)" jq -e \
    '.input.userspace_kills_found == 2 and ([.events[].victims[]] | length) == 5' \
    <<<"$("$BIN" explain --json "$T/root/dev/kmsg")"
check "status: the same recent OOM kills with userspace killers' kills in the kernel log" diff \
    <("$BIN" status $NW --root tests/fixtures/dr-oomgroup --json | sed 's|tests/fixtures/dr-oomgroup|ROOT|g') \
    <("$BIN" status $NW --root "$T/root" --json | sed "s|$T/root|ROOT|g")
check "doctor: the same findings with userspace killers' kills in the kernel log" diff \
    <("$BIN" doctor $NW --root tests/fixtures/dr-oomgroup --json | sed 's|tests/fixtures/dr-oomgroup|ROOT|g') \
    <("$BIN" doctor $NW --root "$T/root" --json | sed "s|$T/root|ROOT|g")
rm -rf "$T"
