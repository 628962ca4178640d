#!/usr/bin/env bash
# oomwarden watch against the kernel: an OOM kill forced in a scratch v1 cgroup created after the
# watch started arrives as an oom_kill event (right pid, comm, cgroup, scope) within 2 s, with the
# memory_events that go with it; real memory pressure fires a PSI trigger and raises then clears
# an alert; --exec hooks get the event; SIGTERM and SIGINT end the watch cleanly.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/live.sh"
require_root
require_v1_memory
[ -r /dev/kmsg ] || skip_all "cannot read /dev/kmsg"
[ -e /proc/pressure/memory ] || skip_all "no PSI (boot with psi=1)"

out=$LIVE_TMP/watch.jsonl
hookdir=$LIVE_TMP/hooks
mkdir -p "$hookdir"
# the hook writes what it got: env and stdin, one file per event
hook='f='"$hookdir"'/$$.$OOMWARDEN_EVENT; { env | grep ^OOMWARDEN_ | sort; echo STDIN; cat; } > $f.tmp && mv $f.tmp $f'
"$BIN" watch --json --alert 'some avg10 > 2 for 2s clear 1' --psi 'some 100ms 2s' \
    --exec "$hook" --duration 120s >"$out" 2>"$LIVE_TMP/watch.err" &
wpid=$!
LIVE_PIDS+=("$wpid")
sleep 1
kill -0 "$wpid" 2>/dev/null && ok "watch started" || not_ok "watch started" "$(cat "$LIVE_TMP/watch.err")"

# 1. an OOM kill in a cgroup the watch has not seen before
v1_cgroup watchoom $((48 << 20)) || not_ok "scratch cgroup"
t0=$(date +%s%N)
start_hog "$CG" victim --name ow-watch-oom --grow-fast
victim=$HOG_PID
for _ in $(seq 100); do kill -0 "$victim" 2>/dev/null || break; sleep 0.05; done
kill -0 "$victim" 2>/dev/null && not_ok "the kernel killed the hog" || ok "the kernel killed the hog (pid $victim)"
got=""
for _ in $(seq 40); do
    got=$(jq -c --argjson p "$victim" 'select(.event=="oom_kill" and .pid==$p)' "$out" 2>/dev/null | head -1)
    [ -n "$got" ] && break
    sleep 0.1
done
if [ -n "$got" ]; then
    ok "oom_kill event for pid $victim"
    expect_eq "oom_kill comm" ow-watch-oom "$(jq -r .comm <<<"$got")"
    expect_eq "oom_kill scope" memcg "$(jq -r .scope <<<"$got")"
    expect_eq "oom_kill task_memcg" "$CG_REL" "$(jq -r .task_memcg <<<"$got")"
    expect_eq "oom_kill oom_memcg" "$CG_REL" "$(jq -r .oom_memcg <<<"$got")"
    # the numbers are the kernel's own kill line
    line=$(dmesg -s 8388608 | grep -E "Killed process $victim \(ow-watch-oom\)" | tail -1)
    anon=$(sed -nE 's/.*anon-rss:([0-9]+)kB.*/\1/p' <<<"$line")
    expect_eq "anon-rss equals the kernel's kill line ($anon kB)" "$anon" \
        "$(jq '.report.victims[0].anon_rss_kb' <<<"$got")"
else
    not_ok "oom_kill event for pid $victim" "$(tail -5 "$out"; cat "$LIVE_TMP/watch.err")"
fi
# when did it arrive? the event's time stamp against the moment the push started (the kill comes
# within milliseconds of that: the hog grows as fast as it can into a 48 MiB limit)
died_ms=$(( t0 / 1000000 ))
ev_ms=$(jq -r --argjson p "$victim" 'select(.event=="oom_kill" and .pid==$p) | .time' "$out" | head -1 |
    xargs -I{} date -d {} +%s%3N 2>/dev/null)
if [ -n "$ev_ms" ] && [ $((ev_ms - died_ms)) -le 2000 ]; then
    ok "the kill event came within 2 s ($((ev_ms - died_ms)) ms after the push started)"
else
    not_ok "the kill event came within 2 s" "push at $died_ms, event at ${ev_ms:-never}"
fi
ev=$(jq -c --arg c "$CG_REL" 'select(.event=="memory_events" and .cgroup==$c and .changes.oom_kill)' "$out" | head -1)
if [ -n "$ev" ] && [ "$(jq .changes.oom_kill.delta <<<"$ev")" = 1 ]; then
    ok "memory_events: oom_kill +1 in $CG_REL (v1: oom_control eventfd)"
else
    not_ok "memory_events: oom_kill +1 in $CG_REL" "$(grep memory_events "$out")"
fi
# the hook saw the kill
hf=$(grep -l "OOMWARDEN_PID=$victim" "$hookdir"/*.oom_kill 2>/dev/null | head -1)
if [ -n "$hf" ] && grep -q "OOMWARDEN_CGROUP=$CG_REL" "$hf" && grep -q '"event":"oom_kill"' "$hf"; then
    ok "--exec hook got the kill in its environment and on stdin"
else
    not_ok "--exec hook got the kill" "$(ls "$hookdir"; cat "$hookdir"/*.oom_kill 2>/dev/null | head -20)"
fi

# 2. memory pressure: anon near the limit while a mapped file is re-read (refaults stall)
file=/var/tmp/oomwarden-watch-thrash.bin
[ -f "$file" ] || head -c $((192 << 20)) /dev/urandom >"$file"
"$BIN" evict "$file" >/dev/null
v1_cgroup watchpsi $((160 << 20))
start_hog "$CG" thrash --name ow-watch-thrash --anon 120 --map-file "$file" --map-mb 150 --rewalk
thrash=$HOG_PID
got=""
for _ in $(seq 150); do
    got=$(jq -c 'select(.event=="psi_trigger" and .target=="system")' "$out" | tail -1)
    al=$(jq -c 'select(.event=="alert" and .state=="firing")' "$out" | head -1)
    [ -n "$got" ] && [ -n "$al" ] && break
    sleep 0.2
done
[ -n "$got" ] && ok "psi_trigger event under real pressure ($(jq -c .pressure.some <<<"$got"))" ||
    not_ok "psi_trigger event under real pressure" "$(tail -3 "$out")"
[ -n "$al" ] && ok "alert raised: $(jq -r .rule <<<"$al") at $(jq .value <<<"$al")%" ||
    not_ok "alert raised under pressure" "$(tail -3 "$out")"
kill -9 "$thrash" 2>/dev/null
cl=""
for _ in $(seq 150); do
    cl=$(jq -c 'select(.event=="alert" and .state=="resolved")' "$out" | head -1)
    [ -n "$cl" ] && break
    sleep 0.2
done
[ -n "$cl" ] && ok "alert cleared after the pressure stopped (value $(jq .value <<<"$cl")%, clear level 1%)" ||
    not_ok "alert cleared after the pressure stopped" "$(tail -3 "$out")"

# 3. SIGTERM: a clean exit, status 0, and the output is whole JSON Lines
kill -TERM "$wpid"
wait "$wpid"
rc=$?
expect_eq "SIGTERM: exit status 0" 0 "$rc"
check "every line of the stream is a JSON object with time and event" \
    jq -e -s 'all(.[]; (.time|type=="string") and (.event|type=="string"))' "$out"
"$BIN" watch --no-kmsg --alert none >/dev/null 2>&1 &
w2=$!
sleep 0.5
kill -INT "$w2"
wait "$w2"
expect_eq "SIGINT: exit status 0" 0 "$?"
done_testing
