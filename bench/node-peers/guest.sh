# bench/node-peers, in the node (bash; CONTENDER, DEADLINE and MIN_FREE_KB are set in the lines
# above this file): the seed incident with one contender watching: a Guaranteed pod (-997, limit
# 95% of the node) grows at 48 MiB/s until it dies or DEADLINE seconds pass. Recorded: the main
# pid of each daemon before, who is gone after, the kernel's kills, the contender's own kills,
# the seconds from the start of the growth to the pod's death.
DAEMONS="ssh systemd-networkd systemd-resolved systemd-logind serial-getty@ttyS0 getty@tty1 systemd-journald dbus containerd"
# The kernel's reserve: under TCG a machine-wide OOM at the default (~4 MB on 1 GiB) has stalled
# a vCPU in compaction for minutes (soft lockups in kcompactd0, 6.1); the same for every contender.
sysctl -q -w vm.min_free_kbytes="$MIN_FREE_KB" || fail "sysctl vm.min_free_kbytes=$MIN_FREE_KB"
fact min_free_kbytes "$(cat /proc/sys/vm/min_free_kbytes)"
fact deadline "$DEADLINE"
kube_setup || fail "kube_setup"
for u in $DAEMONS; do fact "pid_$u" "$(systemctl show -P MainPID "$u")"; done
case "$CONTENDER" in
kernel) ;;
oomwarden)
    # as shipped; the agent runs like a DaemonSet's container would, outside the pods
    start_agent agent --config /oomwarden/examples/kubernetes-node.conf
    ;;
earlyoom)
    # Debian's package as installed: its unit, /etc/default/earlyoom (defaults)
    fact earlyoom_args "$(sed -n 's/^EARLYOOM_ARGS=//p' /etc/default/earlyoom)"
    systemctl start earlyoom || fail "earlyoom did not start"
    ;;
systemd-oomd)
    # systemd-oomd.service(8), oomd.conf(5): ManagedOOMMemoryPressure=kill on the slice whose
    # cgroups it may kill, with its defaults (DefaultMemoryPressureLimit=60%, for 30 s)
    systemctl set-property --runtime kubepods.slice ManagedOOMMemoryPressure=kill || fail "set-property"
    systemctl start systemd-oomd || fail "systemd-oomd did not start"
    ;;
*) fail "no contender '$CONTENDER'" ;;
esac
pod_run_seed
fact pod_pid "$POD_PID"
# after the agent's first policy pass (it sets pod processes to 900 within scan-interval)
sleep 3
fact pod_adj_before "$(cat "/proc/$POD_PID/oom_score_adj")"
[ "$CONTENDER" = systemd-oomd ] && oomctl >"$OUT/oomctl-before.txt" 2>&1
fact oom_kill_before "$(vmstat_oom_kill)"
fact growth_start_s "$(up)"
t0=$(up)
pod_go "$POD_CID"
if wait_gone "$POD_PID" "$DEADLINE"; then
    fact seconds "$(awk -v a="$t0" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }')"
    fact pod_alive 0
    sleep 3
else
    log "the pod is alive after $DEADLINE s"
    fact seconds ">$DEADLINE"
    fact pod_alive 1
fi
fact oom_kill_after "$(vmstat_oom_kill)"
for u in $DAEMONS; do
    p=$(systemctl show -P MainPID "$u")
    fact "after_$u" "$p $(systemctl is-active "$u")"
done
# the contender's own kills, on the kernel log's clock (monotonic = dmesg's seconds)
[ "$CONTENDER" = earlyoom ] && journalctl -u earlyoom -o short-monotonic --no-pager >"$OUT/earlyoom.log"
[ "$CONTENDER" = systemd-oomd ] && journalctl -u systemd-oomd -o short-monotonic --no-pager >"$OUT/oomd.log"
# a pod still growing would keep the node from collecting its logs
pods_stop
log "done"
