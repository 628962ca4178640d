# oomwarden lab protect on cgroup v2 with CAP_SYS_RESOURCE (host side): the -900 variant,
# 10 runs, the kernel's kill lines decide.
VM_MEM=256
VM_TIMEOUT=240

check_scenario() {
    local n=lab-protect i j good=0 why="" cg prot unprot kills
    for i in $(seq 10); do
        j=$OUT/protect-$i.json
        cg=$(jq -r .cgroup "$j" 2>/dev/null)
        prot=$(jq -r '.eaters[] | select(.protected) | "\(.pid) \(.oom_score_adj)"' "$j" 2>/dev/null)
        unprot=$(jq -r '.eaters[] | select(.protected | not) | "\(.pid) \(.oom_score_adj)"' "$j" 2>/dev/null)
        # every kill the kernel made in that cgroup: "PID COMM"
        kills=$(grep -F "oom_memcg=$cg," "$OUT/kernel.log" | sed -n 's/.*,task=\([^,]*\),pid=\([0-9]*\),.*/\2 \1/p' | xargs)
        if [ "$(fact rc_$i)" = 0 ] && [ "${prot#* }" = -900 ] && [ "${unprot#* }" = 0 ] &&
            [ "$kills" = "${unprot% *} ow-unprotected" ] &&
            [ "$(jq -r .variant "$j")" = protected_-900 ] &&
            [ "$(jq -r .prediction.victim_pid "$j")" = "${unprot% *}" ]; then
            good=$((good + 1))
        else
            why="$why
run $i: exit $(fact rc_$i), protected [$prot], unprotected [$unprot], kernel killed [$kills] in $cg"
        fi
    done
    expect_eq "$n: the kernel killed the unprotected eater, and only it, in 10 of 10 runs (-900 variant)" "10" "$good$why"
    j=$OUT/protect-1.json
    check "$n: the protected one is the bigger: without adj it would be the victim" jq -e '
      .prediction.victim_pid_without_adj == (.eaters[] | select(.protected) | .pid)' "$j"
    check "$n: its badness is negative: rss + (-900 x totalpages/1000)" jq -e '
      .prediction.totalpages as $t | [.prediction.candidates[] | select(.oom_score_adj == -900)
      | .badness < 0 and .badness == .badness_without_adj - 900 * (($t / 1000) | floor)] | all' "$j"
    expect_eq "$n: text run exits 0" 0 "$(fact text_rc)"
    check "$n: text names the -900 variant and the survivor" bash -c '
      grep -q "variant: the protected eater at oom_score_adj -900" "$1" &&
      grep -q "as predicted; ow-protected (pid [0-9]*, oom_score_adj -900) survived" "$1"' _ "$OUT/protect-text.txt"
    expect_eq "$n: no lab cgroup left" "" "$(fact leftover)"
}
