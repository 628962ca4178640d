# PSI levels on thresholds users know (src/model/pressure/psilevel.h, docs/thresholds.md), below, at and
# above each: doctor's pressure check, its exit code, and status's pressure line. Copies of the
# clean machine (dr-clean) with another /proc/pressure/memory, made here. Sourced by
# tests/cli/run.

PSI_TMP=$(mktemp -d)
# psi_tree NAME "SOME10 SOME60 SOME300" "FULL10 FULL60 FULL300" [CGROUP_PSI_PATH "S" "F"]
psi_tree() {
    local d=$PSI_TMP/$1
    cp -a "$FX/dr-clean" "$d"
    set -- "$@"
    read -r s1 s2 s3 <<<"$2"
    read -r f1 f2 f3 <<<"$3"
    printf 'some avg10=%s avg60=%s avg300=%s total=5000\nfull avg10=%s avg60=%s avg300=%s total=1000\n' \
        "$s1" "$s2" "$s3" "$f1" "$f2" "$f3" >"$d/proc/pressure/memory"
    if [ -n "${4:-}" ]; then
        read -r s1 s2 s3 <<<"$5"
        read -r f1 f2 f3 <<<"$6"
        printf 'some avg10=%s avg60=%s avg300=%s total=5000\nfull avg10=%s avg60=%s avg300=%s total=1000\n' \
            "$s1" "$s2" "$s3" "$f1" "$f2" "$f3" >"$d/sys/fs/cgroup/$4/memory.pressure"
    fi
}
# the issue's idle machine: 98% free, full 0.10 in avg10 and avg60 (it was "sick", doctor WARNED)
psi_tree idle "0.00 0.00 0.00" "0.10 0.10 0.02"
psi_tree some-below "9.99 3.00 1.00" "0.50 0.20 0.05"
psi_tree some-at "10.00 3.00 1.00" "0.50 0.20 0.05"
psi_tree full-at "20.00 12.00 4.00" "10.00 6.00 2.00"
psi_tree sustained-below "30.00 25.00 14.00" "15.00 12.00 9.99"
psi_tree sustained-at "30.00 25.00 14.00" "15.00 12.00 10.00"
psi_tree severe-below "80.00 70.00 40.00" "59.99 45.00 20.00"
psi_tree severe-at "80.00 70.00 40.00" "60.00 45.00 20.00"
psi_tree cgroup-sustained "1.00 0.50 0.20" "0.00 0.00 0.00" system.slice/app.service \
    "40.00 35.00 30.00" "12.00 11.00 10.50"

# exit codes and levels, from the JSON; the goldens show the words
for t in idle:0:healthy some-below:0:healthy some-at:0:waiting full-at:0:stalling \
    sustained-below:0:stalling sustained-at:1:sustained severe-below:1:sustained \
    severe-at:2:severe cgroup-sustained:1:healthy; do
    IFS=: read -r name want_rc want_level <<<"$t"
    "$BIN" doctor --interval 0 --only pressure --root "$PSI_TMP/$name" >/dev/null
    expect_eq "psi $name: doctor exits $want_rc" "$want_rc" "$?"
    got=$("$BIN" status --interval 0 --root "$PSI_TMP/$name" --json | jq -r .psi.level)
    expect_eq "psi $name: status says $want_level" "$want_level" "$got"
done
run_case psi-idle-doctor "$BIN" doctor --interval 0 --only pressure --root "$PSI_TMP/idle"
run_case psi-idle-status-line bash -c '"$1" status --interval 0 --root "$2" | grep "^pressure"' _ "$BIN" "$PSI_TMP/idle"
run_case psi-some-at-doctor "$BIN" doctor --interval 0 --only pressure --root "$PSI_TMP/some-at"
run_case psi-full-at-doctor "$BIN" doctor --interval 0 --only pressure --root "$PSI_TMP/full-at"
run_case psi-sustained-below-status-line bash -c '"$1" status --interval 0 --root "$2" | grep "^pressure"' _ "$BIN" "$PSI_TMP/sustained-below"
run_case psi-sustained-at-doctor "$BIN" doctor --interval 0 --only pressure --root "$PSI_TMP/sustained-at"
run_case psi-sustained-at-status-line bash -c '"$1" status --interval 0 --root "$2" | grep "^pressure"' _ "$BIN" "$PSI_TMP/sustained-at"
run_case psi-severe-at-doctor "$BIN" doctor --interval 0 --only pressure --root "$PSI_TMP/severe-at"
run_case psi-cgroup-sustained-doctor "$BIN" doctor --interval 0 --only pressure --root "$PSI_TMP/cgroup-sustained"
j=$("$BIN" doctor --interval 0 --only pressure --root "$PSI_TMP/cgroup-sustained" --json)
check "psi cgroup-sustained: the cgroup is named with its level, the node is healthy" jq -en --argjson d "$j" '
    ($d.findings[0].data.cgroups | map({path, level: .psi.level})) == [{path: "/system.slice/app.service", level: "sustained"}]
    and $d.findings[0].data.node.level == "healthy" and $d.findings[0].severity == "warning"'
rm -rf "$PSI_TMP"

# the second reading: a fixture's counters do not move, so a measured rate is 0, "none"
j=$("$BIN" cgroup --root "$FX/cg-v2" /system.slice/nginx.service --interval 100ms --json)
check "cgroup --interval 100ms: two readings at least 100 ms apart, no refaults, none" jq -en --argjson d "$j" '
    $d.refaults.measured and $d.refaults.interval_s >= 0.1 and $d.refaults.refaults == 0
    and $d.refaults.level == "none" and $d.refaults.cache == 314572800'
j=$("$BIN" cgroup --root "$FX/cg-v2" /system.slice/nginx.service --interval 0 --json)
check "cgroup --interval 0: not measured, said so" jq -en --argjson d "$j" '
    ($d.refaults.measured | not) and $d.refaults.level == null'
run_case interval-list "$BIN" cgroup --root tests/fixtures/cg-v2 --interval 1s
run_case interval-too-long "$BIN" status --root tests/fixtures/dr-clean --interval 2m
