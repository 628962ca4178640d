# ps oracle on 6.1 + cgroup v2: hogs of varied sizes and oom_score_adj, negative ones included
# (the host has no CAP_SYS_RESOURCE; here we do), each in its own v2 cgroup; then
# `oomwarden ps --json`, whose oom_score (the kernel's) and oom_score_model (ours) the host
# compares for every process.

# This shell and the busybox helpers it starts are scored too (init's −1000 is not for them).
echo 0 >/proc/self/oom_score_adj

S=/oracle.slice
for c in big pos neg1 neg500 neg997 neg999 min max shm grow; do
    cg_make "$S/ow-$c.scope" || fail "cannot create $S/ow-$c.scope"
done

# Sizes and adj such that the kill order differs from both the size order and the adj order.
start_hog big "$S/ow-big.scope" --name ow-big --anon 80 --adj 0 || fail "ow-big"
start_hog pos "$S/ow-pos.scope" --name ow-pos --anon 8 --adj 250 || fail "ow-pos"
start_hog neg1 "$S/ow-neg1.scope" --name ow-neg1 --anon 40 --adj -1 || fail "ow-neg1"
start_hog neg500 "$S/ow-neg500.scope" --name ow-neg500 --anon 48 --adj -500 || fail "ow-neg500"
start_hog neg997 "$S/ow-neg997.scope" --name ow-neg997 --anon 32 --adj -997 || fail "ow-neg997"
start_hog neg999 "$S/ow-neg999.scope" --name ow-neg999 --anon 4 --adj -999 || fail "ow-neg999"
start_hog min "$S/ow-min.scope" --name ow-min --anon 16 --adj -1000 || fail "ow-min"
start_hog max "$S/ow-max.scope" --name ow-max --anon 1 --adj 1000 || fail "ow-max"
# a MAP_SHARED tmpfs file: RssShmem, which get_mm_rss() counts
start_hog shm "$S/ow-shm.scope" --name ow-shm --anon 2 --map-file /run/ow-shm --map-mb 24 --adj 100 || fail "ow-shm"
# processes that are not hogs: an idle shell and a sleep, at adj 0
sleep 600 &
fact sleep_pid $!

# what the kernel says each hog's cgroup is, to compare with ps's `cgroup`
while read -r n pid cg; do
    fact "cgroup_$n" "$(cat /proc/$pid/cgroup)"
done <"$OUT/hogs.txt"

log "hogs ready; free memory: $(awk '/MemAvailable/ { print $2 " kB" }' /proc/meminfo)"
for i in 1 2 3; do
    oomwarden ps --json >"$OUT/ps-$i.json" || fail "oomwarden ps --json (snapshot $i): exit $?"
done
oomwarden ps >"$OUT/ps.txt" 2>&1
oomwarden ps --cgroup-prefix "$S" --json >"$OUT/ps-prefix.json" || fail "oomwarden ps --cgroup-prefix"

# A growing process frozen at many sizes: each time the model must say what the kernel says.
start_hog grow "$S/ow-grow.scope" --name ow-grow --anon 1 --grow 16 --chunk 1 || fail "ow-grow"
g=$HOG_PID
n=0
while [ $n -lt 40 ]; do
    kill -STOP $g || break
    oomwarden ps --json --pid $g >>"$OUT/grow.json" || fail "ps --pid $g"
    kill -CONT $g
    n=$((n + 1))
    sleep 0.05
done
kill -9 $g
fact grow_samples $n
log "done"
