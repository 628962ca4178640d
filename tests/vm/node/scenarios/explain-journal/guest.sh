# explain-journal on the real node (bash, in the guest): the kernel's OOM reports as people copy
# them off a node. Before the OOMs, two receivers of the kernel's log over UDP start: busybox
# klogd -> busybox syslogd -R (a remote syslog sender, RFC 3164) and netconsole (the kernel's
# own sender, plain and extended), each over a NIC wired to one in a network namespace whose
# receiver writes every datagram as it came (as `nc -lu` would). Then three memcg OOMs in transient
# scopes: a leaker alone; a leaker whose comm is not UTF-8 (journald then stores MESSAGE as
# bytes: a number array in JSON, a binary field in export, "[N blob data]" in the short forms);
# on v2 an oom.group scope of two processes. Afterwards `journalctl -k` in every output format,
# each read by `oomwarden explain --json` (and one through a pipe); the host checks each reading
# against the kernel's own kill lines and the processes that died.
MiB=1048576
# journald prints the same forms on either hierarchy; the rounds' limits are MemoryMax= and
# memory.oom.group, the unified hierarchy's (checked on v2 cells only)
if [ "$NODE_CGROUP" != v2 ]; then
    log "cgroup $NODE_CGROUP: nothing to do (v2 only)"
    return 0 2>/dev/null || exit 0
fi
RX=owrx
rx_start() { # NAME PORT: a receiver in the namespace, one datagram per line into $OUT/rx-NAME.log
    ip netns exec "$RX" perl -MIO::Socket::INET -e '
        my $s = IO::Socket::INET->new(LocalAddr => "10.99.0.2", LocalPort => $ARGV[0], Proto => "udp")
            or die "udp $ARGV[0]: $!";
        open(my $f, ">>", $ARGV[1]) or die "$ARGV[1]: $!";
        $f->autoflush(1);
        while (defined $s->recv(my $d, 65536)) { $d .= "\n" unless $d =~ /\n\z/; print $f $d }
    ' "$2" "$OUT/rx-$1.log" 2>>"$OUT/rx-$1.err" &
}
# the sender and the receiver: two NICs on a qemu hub of their own (check.sh asks node_boot for
# them), not a veth pair: 6.12's netpoll refuses a veth ("owtx doesn't support polling")
tx=$(hub_nic 1) || fail "no hub NIC for the sender"
rxnic=$(hub_nic 2) || fail "no hub NIC for the receiver"
rxmac=$(cat "/sys/class/net/$rxnic/address")
hub_unmanage || log "networkctl reload failed"
ip netns add "$RX" || log "ip netns add failed: no receivers"
ip link set "$rxnic" netns "$RX"
ip addr add 10.99.0.1/24 dev "$tx"
ip link set "$tx" up
ip netns exec "$RX" ip addr add 10.99.0.2/24 dev "$rxnic"
ip netns exec "$RX" ip link set "$rxnic" up
ip netns exec "$RX" ip link set lo up
fact hub_nics "$tx $rxnic"
rx_start syslog 514
rx_start netconsole 6666
rx_start netconsole-ext 6668
sleep 1
# the remote syslog sender: busybox syslogd in a mount namespace of its own, where /dev/log is
# its socket and not journald's (its klogd reads the kernel log through syslog(2))
unshare -m --propagation private bash -c '
    mount -t tmpfs tmpfs /dev && mknod -m 666 /dev/null c 1 3 || exit 1
    busybox syslogd -n -R 10.99.0.2:514 &
    sleep 0.5
    busybox klogd -n &
    wait' >"$OUT/syslogd.err" 2>&1 &
# netconsole sends what reaches the consoles: every level for this run
dmesg -n 8
modprobe netconsole "netconsole=6665@10.99.0.1/$tx,6666@10.99.0.2/$rxmac;+6667@10.99.0.1/$tx,6668@10.99.0.2/$rxmac" ||
    log "modprobe netconsole failed"
sleep 2
epoch=$(date +%s)
fact epoch_before "$epoch"
fact oom_kill_before "$(vmstat_oom_kill)"

# scope_hog ROUND UNIT LIMIT_MB HOG_ARGS...: one hog in a transient scope; sets PID. --adj 0:
# systemd-run --scope runs it as our child, and this service runs at -1000 (unkillable: the
# memcg OOM would find nothing to kill and retry forever)
scope_hog() {
    local r=$1 unit=$2 mb=$3
    shift 3
    rm -f "/run/ready.$r"
    systemd-run --quiet --scope --unit "$unit" -p MemoryMax=$((mb * MiB)) -p MemorySwapMax=0 \
        hog --adj 0 --ready "/run/ready.$r" "$@" </dev/null >"$OUT/hog-$r.err" 2>&1 &
    PID=$!
}
grown() { # PID SECONDS: until it is gone
    wait_gone "$1" "$2" || fail "$1 is still alive after $2 s"
}
log "round 1: a leaker alone"
scope_hog 1 ow-leak-1 48 --name ow-leak --anon 8 --grow-fast
p1=$PID
fact round1 "$PID"
grown "$PID" 120
sleep 2
log "round 2: a leaker whose comm is not UTF-8"
# systemd-run refuses an argument that is not UTF-8 ("Failed to create bus message: Invalid
# argument"): the name is made inside the scope
rm -f /run/ready.2
systemd-run --quiet --scope --unit ow-leak-2 -p MemoryMax=$((40 * MiB)) -p MemorySwapMax=0 \
    bash -c 'exec hog --adj 0 --ready /run/ready.2 --name "$(printf "ow-\351t\351")" --anon 8 --grow-fast' \
    </dev/null >"$OUT/hog-2.err" 2>&1 &
PID=$!
p2=$PID
fact round2 "$PID"
grown "$PID" 120
sleep 2
log "round 3: two processes in one scope (memory.oom.group on v2)"
rm -f /run/ready.3a /run/ready.3b
systemd-run --quiet --scope --unit ow-group -p MemoryMax=$((56 * MiB)) -p MemorySwapMax=0 \
    bash -c 'hog --adj 0 --name ow-member --anon 12 --ready /run/ready.3a & exec hog --adj 0 --name ow-grower --anon 4 --ready /run/ready.3b --go /run/go.3 --grow-fast' \
    </dev/null >"$OUT/hog-3.err" 2>&1 &
PID=$!
for f in /run/ready.3a /run/ready.3b; do
    for _ in $(seq 600); do [ -f "$f" ] && break; sleep 0.1; done
    [ -f "$f" ] || fail "$f not there"
done
member=$(cat /run/ready.3a)
scg=$(sed -n 's/^0:://p' "/proc/$PID/cgroup")
[ "$NODE_CGROUP" = v2 ] && echo 1 >"/sys/fs/cgroup$scg/memory.oom.group"
fact round3 "$PID $member"
touch /run/go.3
grown "$PID" 120
[ "$NODE_CGROUP" = v2 ] && grown "$member" 30
sleep 3
# the member dies with the grower only under memory.oom.group (v2); on v1 it is left to us
if [ "$NODE_CGROUP" = v2 ]; then
    fact alive_after "$(alive "$p1" "$p2" "$PID" "$member")"
else
    fact alive_after "$(alive "$p1" "$p2" "$PID")"
fi
kill "$member" 2>/dev/null
fact oom_kill_after "$(vmstat_oom_kill)"
sleep 1
dmesg -n 4
# every output format journalctl has (systemd 252), the whole boot's kernel log
for fmt in short short-precise short-iso short-iso-precise short-full short-monotonic short-unix \
    short-delta with-unit cat verbose export json json-pretty json-seq json-sse; do
    journalctl -k -b --no-pager -o "$fmt" >"$OUT/journal-$fmt.log" 2>>"$OUT/journalctl.err"
    oomwarden explain --json "$OUT/journal-$fmt.log" >"$OUT/explain-$fmt.json" 2>"$OUT/explain-$fmt.err"
    echo "$fmt $?" >>"$OUT/explain-rc.txt"
done
# the short form shows a message that is not UTF-8 as "[N blob data]" unless --all
journalctl -k -b --no-pager -o short-precise --all >"$OUT/journal-short-precise-all.log" 2>>"$OUT/journalctl.err"
# the whole journal, userspace records among the kernel's (systemd's own notes on the kills)
journalctl -b --no-pager -o json >"$OUT/journal-all-json.log"
oomwarden explain --json "$OUT/journal-all-json.log" >"$OUT/explain-all-json.json" 2>"$OUT/explain-all-json.err"
journalctl -b --no-pager -o export | oomwarden explain --json - >"$OUT/explain-all-export-pipe.json" 2>"$OUT/explain-all-export-pipe.err"
# the OOM window alone, for the corpus
for fmt in short-precise short-iso short-iso-precise short-full short-monotonic short-unix \
    short-delta with-unit cat verbose export json json-pretty json-seq; do
    journalctl -k -b --no-pager -o "$fmt" --since "@$epoch" >"$OUT/window-$fmt.log" 2>>"$OUT/journalctl.err"
done
journalctl -b --no-pager -o json --since "@$epoch" >"$OUT/window-all-json.log"
sleep 1
for n in syslog netconsole netconsole-ext; do
    oomwarden explain --json "$OUT/rx-$n.log" >"$OUT/explain-rx-$n.json" 2>"$OUT/explain-rx-$n.err"
done
oomwarden explain --json >"$OUT/explain-kmsg.json" 2>"$OUT/explain-kmsg.err"
journalctl --version | head -1 >"$OUT/journalctl-version.txt"
# no netconsole at the power-off: the kernel would send its last lines through virtio NICs being
# shut down (one run's qemu did not exit after "reboot: Power down" with it loaded)
dmesg -n 4
modprobe -r netconsole 2>/dev/null || log "modprobe -r netconsole failed"
log "done"
