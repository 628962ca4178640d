#!/usr/bin/env bash
# The kernel is the oracle: for every process on this machine, the oom_score oomwarden's model
# derives must equal /proc/PID/oom_score; and the ranking of processes we start must follow the
# kernel's own oom_score order.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/live.sh"
require_root

# Give the oracle something to disagree about: sizes that move the score and positive adj
# (without CAP_SYS_RESOURCE we can raise oom_score_adj, not lower it).
start_hog "" o1 --name ow-oracle-big --anon 600
big=$HOG_PID
start_hog "" o2 --name ow-oracle-adj --anon 20 --adj 300
adjp=$HOG_PID
start_hog "" o3 --name ow-oracle-file --anon 5 --map-file "$LIVE_TMP/mapped" --map-mb 200 --adj 7
filep=$HOG_PID

compare() {
    jq -r '.processes[] | select(.oom_score_model != null and .oom_score_model != .oom_score)
           | "\(.pid) \(.comm) kernel=\(.oom_score) model=\(.oom_score_model) badness=\(.badness) rss=\(.rss) swap=\(.swap) pgtables=\(.pgtables) adj=\(.oom_score_adj)"'
}

json=$("$BIN" ps --json)
n_scored=$(jq '[.processes[] | select(.oom_score_model != null)] | length' <<<"$json")
n_user=$(jq '[.processes[] | select(.kernel_thread | not)] | length' <<<"$json")
unscored=$(jq -r '.processes[] | select(.oom_score_model == null) | "\(.pid) \(.comm)"' <<<"$json")
if [ "$n_user" -ge 5 ] && [ -z "$unscored" ]; then
    ok "the model scored every process ($n_scored, of which $n_user user processes)"
else
    not_ok "the model scored every process" "$n_user user processes; unscored: $unscored"
fi

# A process whose memory moved between our reads of status and oom_score can differ once;
# re-read it. A difference that stays is a model error.
mismatch=$(compare <<<"$json")
left=""
while read -r line; do
    [ -n "$line" ] || continue
    pid=${line%% *}
    stable=0
    for _ in 1 2 3 4 5; do
        again=$("$BIN" ps --json --pid "$pid" 2>/dev/null) || { stable=1; break; } # exited
        if [ -z "$(compare <<<"$again")" ]; then stable=1; break; fi
        sleep 0.2
    done
    [ "$stable" = 1 ] || left="$left$line"$'\n'
done <<<"$mismatch"
if [ -z "$left" ]; then
    ok "oom_score_model == /proc/PID/oom_score for all $n_scored scored processes"
else
    not_ok "oom_score_model == /proc/PID/oom_score for all processes" "$left"
fi

# kernel threads and init: never, and the kernel says 0
bad=$(jq -r '.processes[] | select(.kernel_thread or .pid==1) | select(.eligible or .oom_score != 0) | .pid' <<<"$json")
expect_eq "kernel threads and init are ineligible and score 0" "" "$bad"

# The named hogs: the kernel's numbers for them are what the model computed from their memory
# (by pid: another test run on the machine may have hogs of the same names)
for pair in "ow-oracle-big $big" "ow-oracle-adj $adjp" "ow-oracle-file $filep"; do
    name=${pair% *} pid=${pair#* }
    row=$(jq -c --argjson p "$pid" '.processes[] | select(.pid==$p)' <<<"$json")
    if [ -z "$row" ]; then not_ok "$name is listed"; continue; fi
    kernel=$(cat "/proc/$pid/oom_score")
    model=$(jq .oom_score_model <<<"$row")
    expect_eq "$name: model $model == kernel's current oom_score" "$kernel" "$model"
done
row=$(jq -c --argjson p "$filep" '.processes[] | select(.pid==$p)' <<<"$json")
if [ "$(jq '.rss_file >= 200*1048576' <<<"$row")" = true ]; then
    ok "a mapped file counts as rss_file (200 MiB mapped)"
else
    not_ok "a mapped file counts as rss_file" "$row"
fi

# A growing process, frozen with SIGSTOP at 150 sizes so that nothing moves between our reads:
# each time, the model must say what the kernel says. (This is the experiment that showed that on
# 6.18 the kernel scores get_mm_rss(), /proc/PID/stat's rss, not the exact sums status prints.)
start_hog "" grow --name ow-oracle-grow --grow 150 --chunk 1
g=$HOG_PID
samples=0 wrong="" boundary=0
for _ in $(seq 150); do
    kill -STOP "$g" 2>/dev/null || break
    row=$("$BIN" ps --json --pid "$g" | jq -c '.processes[0] | [.oom_score_model, .badness, .rss]')
    kernel=$(cat "/proc/$g/oom_score")
    model=$(jq '.[0]' <<<"$row")
    samples=$((samples + 1))
    [ "$model" = "$kernel" ] || wrong="$wrong kernel=$kernel model/badness/rss=$row;"
    kill -CONT "$g"
    sleep 0.02
done
kill -9 "$g" 2>/dev/null
if [ "$samples" -ge 100 ] && [ -z "$wrong" ]; then
    ok "growing process: model == kernel at all $samples frozen sizes"
else
    not_ok "growing process: model == kernel at every frozen size" "$samples samples;$wrong"
fi

# user names: read from the root's own etc/passwd, never through NSS; glibc's files backend
# (getent -s files, which reads only /etc/passwd) is the oracle, for a process of another user
if command -v setpriv >/dev/null; then
    setpriv --reuid=65534 --regid=65534 --clear-groups sleep 60 </dev/null >/dev/null 2>&1 &
    other=$!
    LIVE_PIDS+=("$other")
    for _ in $(seq 50); do [ "$(stat -c %u "/proc/$other" 2>/dev/null)" = 65534 ] && break; sleep 0.05; done
    want=$(getent -s files passwd 65534 | cut -d: -f1)
    expect_eq "ps names the user of a uid-65534 process as getent -s files does" "65534 ${want:-65534}" \
        "$("$BIN" ps --json | jq -r --argjson p "$other" '.processes[] | select(.pid == $p) | "\(.uid) \(.user)"')"
    kill "$other" 2>/dev/null
else
    skip "user names" "setpriv not installed"
fi

done_testing
