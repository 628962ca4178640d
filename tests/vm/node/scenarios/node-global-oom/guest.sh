# node-global-oom: the seed incident on a real node (bash, in the guest). The node's own daemons
# (sshd, systemd-networkd, systemd-resolved, systemd-logind, two agettys at 0; journald -250,
# dbus -900, containerd -999, its shims -998, udevd -1000), a tiny BestEffort pod (1000: it
# happens to rank first) and a Guaranteed pod (-997) whose limit is 95% of the node - within
# node allocatable, so a scheduler admits it - that grows until the machine runs out of memory.
# Before the growth: ps, status and doctor say who dies and in which order. After it: the kernel's
# cascade, explain on /dev/kmsg (and, on the host, on journalctl -k's text).
# The arithmetic: T = MemTotal pages (no swap). A process at adj 0 scores its rss; the pod scores
# rss - 0.997 T, negative while it holds less than 99.7% of RAM, so every adj-0 daemon goes before
# it; journald (-250) only after it unless the pod holds less than ~75% of RAM when the daemons
# are gone (it holds ~85% then).
MiB=1048576
kube_setup || fail "kube_setup"
pod_run tiny default besteffort 0 0 sidecar /bin/hog --name ow-tiny --anon 1 --ready /tmp/ready
pod_wait_file "$POD_CID" /tmp/ready 60 || fail "tiny not ready"
fact tiny_pid "$POD_PID"
pod_run_seed
store=$POD_CID
fact store_pid "$POD_PID"
fact store_cgroup "$POD_CGROUP"
fact oom_kill_before "$(vmstat_oom_kill)"
sleep 1
oomwarden ps --json >"$OUT/ps-before.json" || fail "ps"
oomwarden status --json >"$OUT/status-before.json"
oomwarden status --color=never >"$OUT/status-before.txt" 2>&1
oomwarden doctor --json >"$OUT/doctor-before.json"
fact doctor_exit $?
oomwarden doctor --color=never >"$OUT/doctor-before.txt" 2>&1
# the units every process belongs to, for the host (systemctl's view, not oomwarden's)
for p in $(jq -r '.processes[] | select(.eligible) | .pid' "$OUT/ps-before.json"); do
    echo "$p $(ps -o unit= -p "$p" 2>/dev/null)"
done >"$OUT/units-before.txt"
log "the Guaranteed pod grows ($(($(mem_capacity) / MiB)) MiB node)"
t0=$(up)
pod_go "$store"
wait_gone "$POD_PID" 300 || fail "the pod is still alive after 300 s"
fact cascade_seconds "$(awk -v a="$t0" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }')"
sleep 3
fact oom_kill_after "$(vmstat_oom_kill)"
for u in ssh systemd-networkd systemd-resolved systemd-logind serial-getty@ttyS0 getty@tty1 systemd-journald dbus containerd; do
    fact "unit_after_$u" "$(systemctl is-active "$u") $(systemctl show -P NRestarts "$u")"
done
oomwarden explain --json >"$OUT/explain-kmsg.json" 2>"$OUT/explain-kmsg.err"
oomwarden explain --color=never >"$OUT/explain-kmsg.txt" 2>&1
oomwarden status --json >"$OUT/status-after.json"
oomwarden doctor --json >"$OUT/doctor-after.json"
log "done"
