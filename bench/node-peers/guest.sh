# bench/node-peers, in the node (bash; CONTENDER is set in the line above this file): the seed
# incident with one contender watching: a Guaranteed pod (-997, limit 95% of the node) grows at
# 48 MiB/s until something dies. Recorded: the main pid of each daemon before, who is gone after,
# the kernel's kills, the seconds from the start of the growth to the pod's death.
DAEMONS="ssh systemd-networkd systemd-resolved systemd-logind serial-getty@ttyS0 getty@tty1 systemd-journald dbus containerd"
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
    systemctl start earlyoom || fail "earlyoom did not start"
    ;;
systemd-oomd)
    # systemd-oomd.service(8), oomd.conf(5): ManagedOOMMemoryPressure=kill on the slice whose
    # cgroups it may kill, with its defaults (60% for 30 s)
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
fact oom_kill_before "$(vmstat_oom_kill)"
t0=$(up)
pod_go "$POD_CID"
wait_gone "$POD_PID" 240 || log "the pod is alive after 240 s"
fact seconds "$(awk -v a="$t0" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }')"
sleep 3
fact oom_kill_after "$(vmstat_oom_kill)"
fact pod_alive "$(alive01 "$POD_PID")"
for u in $DAEMONS; do
    p=$(systemctl show -P MainPID "$u")
    fact "after_$u" "$p $(systemctl is-active "$u")"
done
[ "$CONTENDER" = earlyoom ] && journalctl -u earlyoom -o cat --no-pager >"$OUT/earlyoom.log"
[ "$CONTENDER" = systemd-oomd ] && journalctl -u systemd-oomd -o cat --no-pager >"$OUT/oomd.log"
log "done"
