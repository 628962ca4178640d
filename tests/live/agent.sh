#!/usr/bin/env bash
# The agent against the kernel and against the real consumers:
#   - /metrics, /, /healthz; promtool accepts the scrape;
#   - a cgroup's metrics equal its files;
#   - an OOM forced in a scratch v1 cgroup moves the kill counter with the right labels;
#   - a real Prometheus server (Debian's) scrapes it, and its HTTP API returns the OOM-kill
#     counter and a cgroup's memory; the shipped alert rules load and OomwardenOOMKill fires;
#   - malformed requests, slow clients and many connections neither crash nor wedge it.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/live.sh"
require_root
require_v1_memory
command -v curl >/dev/null || skip_all "curl not installed"

APORT=$(free_port)
A=http://127.0.0.1:$APORT
conf=$LIVE_TMP/oomwarden.conf
cat >"$conf" <<EOC
[agent]
listen = 127.0.0.1:$APORT
[exporter]
cgroup-depth = 2
[guard]
# /healthz calls the main loop stuck 30 s past this (tested below)
kill-timeout = 100ms
EOC
check "--check-config accepts the config" "$BIN" agent --config "$conf" --check-config
"$BIN" agent --config "$conf" >"$LIVE_TMP/agent.out" 2>"$LIVE_TMP/agent.err" &
apid=$!
LIVE_PIDS+=("$apid")
for _ in $(seq 50); do curl -sf "$A/healthz" >/dev/null && break; sleep 0.1; done
expect_eq "/healthz" ok "$(curl -sf "$A/healthz")"
check "/ links to /metrics" bash -c "curl -sf '$A/' | grep -q 'href=\"/metrics\"'"
expect_eq "unknown path: 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$A/nope")"
expect_eq "POST: 405" 405 "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d x "$A/metrics")"
ctype=$(curl -sf -o /dev/null -w '%{content_type}' "$A/metrics")
expect_eq "Content-Type of /metrics" "text/plain; version=0.0.4; charset=utf-8" "$ctype"

# a scratch cgroup with a known limit and a steady hog
v1_cgroup agent $((256 << 20))
cg=$CG rel=$CG_REL
start_hog "$cg" steady --name ow-agent-steady --anon 40
steady_pid=$HOG_PID
# the hog first in a global OOM's order, by the kernel's own oom_score
echo 1000 >"/proc/$steady_pid/oom_score_adj"
sleep 1.1 # scrapes within 1 s share one collection: this one must see the new cgroup
scrape=$(curl -sf "$A/metrics")
check "promtool check metrics accepts the scrape" promtool check metrics <<<"$scrape"
metric() { grep -E "^$1\{cgroup=\"$2\"" <<<"$scrape" | awk '{print $2}'; }
expect_eq "cgroup max = memory.limit_in_bytes" "$(cat "$cg/memory.limit_in_bytes")" "$(metric oomwarden_cgroup_memory_max_bytes "$rel")"
usage=$(cat "$cg/memory.usage_in_bytes")
got=$(metric oomwarden_cgroup_memory_current_bytes "$rel")
if [ -n "$got" ] && [ $(( got > usage ? got - usage : usage - got )) -le $((1 << 20)) ]; then
    ok "cgroup current = memory.usage_in_bytes (within 1 MiB: $got vs $usage)"
else
    not_ok "cgroup current = memory.usage_in_bytes" "metric $got, file $usage"
fi
anon=$(awk '$1=="total_rss" {print $2}' "$cg/memory.stat")
got=$(metric oomwarden_cgroup_memory_anon_bytes "$rel")
if [ -n "$got" ] && [ $(( got > anon ? got - anon : anon - got )) -le $((1 << 20)) ]; then
    ok "cgroup anon = memory.stat total_rss (within 1 MiB)"
else
    not_ok "cgroup anon = memory.stat total_rss" "metric $got, file $anon"
fi
victim=$(grep '^oomwarden_next_victim_info{' <<<"$scrape")
expect_eq "next victim: the hog with oom_score_adj 1000, in its cgroup" \
    "comm=\"ow-agent-steady\",cgroup=\"$rel\",oom_score_adj=\"1000\"" "$(sed -E 's/^[^{]*\{(.*)\} 1$/\1/' <<<"$victim")"
expect_eq "next victim's oom_score = /proc/PID/oom_score" "$(cat "/proc/$steady_pid/oom_score")" \
    "$(grep '^oomwarden_next_victim_oom_score ' <<<"$scrape" | awk '{print $2}')"
expect_eq "next victim: not a node-critical daemon (a test hog in a scratch cgroup)" 0 \
    "$(grep '^oomwarden_next_victim_node_critical ' <<<"$scrape" | awk '{print $2}')"
before_node=$(grep '^oomwarden_node_oom_kills_total ' <<<"$scrape" | awk '{print $2}')
expect_eq "node oom_kill counter = /proc/vmstat" "$(awk '$1=="oom_kill" {print $2}' /proc/vmstat)" "$before_node"

# Prometheus itself scrapes the agent and evaluates the shipped rules
PPORT=$(free_port)
pdir=$LIVE_TMP/prom
mkdir -p "$pdir/data"
cp "$TOP/deploy/prometheus/oomwarden-rules.yml" "$pdir/"
cat >"$pdir/prometheus.yml" <<EOC
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [oomwarden-rules.yml]
scrape_configs:
  - job_name: oomwarden
    static_configs: [{targets: ["127.0.0.1:$APORT"]}]
EOC
if command -v prometheus >/dev/null; then
    prometheus --config.file="$pdir/prometheus.yml" --storage.tsdb.path="$pdir/data" \
        --web.listen-address="127.0.0.1:$PPORT" >"$pdir/log" 2>&1 &
    ppid_=$!
    disown "$ppid_"
    LIVE_PIDS+=("$ppid_")
    P=http://127.0.0.1:$PPORT
    up=""
    for _ in $(seq 150); do
        up=$(curl -sf "$P/api/v1/query?query=up" | jq -r '.data.result[0].value[1] // empty' 2>/dev/null)
        [ "$up" = 1 ] && break
        sleep 0.2
    done
    expect_eq "Prometheus scrapes the agent (up == 1)" 1 "$up"
    rules=$(curl -sf "$P/api/v1/rules" | jq -r '[.data.groups[].rules[] | select(.health=="ok") | .name] | sort | join(",")')
    expect_eq "the shipped alert rules are loaded and healthy" \
        "OomwardenAgentAbsent,OomwardenAgentCannotReadProc,OomwardenAgentGone,OomwardenCgroupMemoryPressureFull,OomwardenCgroupNearLimitPageCache,OomwardenMachineWideOOMKill,OomwardenNextVictimNodeCritical,OomwardenNodeMemoryPressureFull,OomwardenOOMKill" "$rules"
else
    skip "Prometheus server" "prometheus not installed"
fi

# the OOM: a hog that grows into a 48 MiB limit
v1_cgroup agentoom $((48 << 20))
start_hog "$CG" victim --name ow-agent-oom --grow-fast
victim=$HOG_PID
for _ in $(seq 100); do kill -0 "$victim" 2>/dev/null || break; sleep 0.05; done
series=""
for _ in $(seq 40); do
    series=$(curl -sf "$A/metrics" | grep '^oomwarden_oom_kills_seen_total{' | grep "cgroup=\"$CG_REL\"")
    [ -n "$series" ] && break
    sleep 0.1
done
expect_eq "kill counter: one kill with scope, cgroup and comm" \
    "oomwarden_oom_kills_seen_total{scope=\"memcg\",cgroup=\"$CG_REL\",comm=\"ow-agent-oom\"} 1" "$series"
after_node=$(curl -sf "$A/metrics" | grep '^oomwarden_node_oom_kills_total ' | awk '{print $2}')
if [ "$after_node" -ge $((before_node + 1)) ]; then ok "node counter moved ($before_node → $after_node)"; else not_ok "node counter moved" "$before_node → $after_node"; fi
grep -q "oom_kill memcg: killed ow-agent-oom (pid $victim) in $CG_REL" "$LIVE_TMP/agent.out" &&
    ok "the agent logged the kill" || not_ok "the agent logged the kill" "$(cat "$LIVE_TMP/agent.out")"

if [ -n "${P:-}" ] && [ "${up:-}" = 1 ]; then
    q() { curl -sf --get --data-urlencode "query=$1" "$P/api/v1/query" | jq -r '.data.result[0].value[1] // empty'; }
    v=""
    for _ in $(seq 50); do
        v=$(q "oomwarden_oom_kills_seen_total{cgroup=\"$CG_REL\",comm=\"ow-agent-oom\"}")
        [ "$v" = 1 ] && break
        sleep 0.2
    done
    expect_eq "Prometheus API: the OOM-kill counter" 1 "$v"
    expect_eq "Prometheus API: a cgroup's memory.max" "$(cat "$cg/memory.limit_in_bytes")" \
        "$(q "oomwarden_cgroup_memory_max_bytes{cgroup=\"$rel\"}")"
    firing=""
    for _ in $(seq 100); do
        firing=$(curl -sf "$P/api/v1/alerts" | jq -r --arg c "$CG_REL" '.data.alerts[] | select(.labels.alertname=="OomwardenOOMKill" and .labels.cgroup==$c and .state=="firing") | .labels.comm')
        [ -n "$firing" ] && break
        sleep 0.2
    done
    expect_eq "Prometheus: OomwardenOOMKill fires for the kill" ow-agent-oom "$firing"
fi

# abuse: garbage, a slowloris of 40 half-open requests, 200 parallel scrapes
printf 'GARBAGE\x00\x01\r\n\r\n' | timeout 5 nc -q1 127.0.0.1 "$APORT" >/dev/null 2>&1
printf 'GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n' | timeout 5 nc -q1 127.0.0.1 "$APORT" >/dev/null 2>&1
slowloris() { # N connections that never finish their headers, held for S seconds
    python3 - "$APORT" "$1" "$2" "$LIVE_TMP/slow.ready" <<'PY'
import socket, sys, time
socks = []
for _ in range(int(sys.argv[2])):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.send(b"GET /metrics HTTP/1.1\r\nHost: slow\r\n")
    socks.append(s)
open(sys.argv[4], "w").close()
time.sleep(float(sys.argv[3]))
PY
}
wait_slow() { for _ in $(seq 100); do [ -f "$LIVE_TMP/slow.ready" ] && break; sleep 0.1; done; rm -f "$LIVE_TMP/slow.ready"; }
slowloris 40 12 &
slow=$!
wait_slow
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$A/metrics")
expect_eq "a scrape works while 40 slow clients hold connections (limit 64)" 200 "$code"
kill "$slow" 2>/dev/null
wait "$slow" 2>/dev/null
# more slow clients than the limit, of the scraper's own address: a scrape comes with its
# request, and takes the slot of one of them at once (it used to wait for the 5 s timeout)
slowloris 100 30 &
slow=$!
wait_slow
code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$A/metrics")
kill "$slow" 2>/dev/null
wait "$slow" 2>/dev/null
expect_eq "a scrape is answered at once past 100 slow clients of its own address (limit 64)" 200 "$code"

# The neighbour's load: 200 clients that connect, hold a connection (idle, or part-way through a
# request) and reconnect as soon as they are dropped; with 64 slots held for up to 5 s each this
# made 3 of 10 scrapes time out. Now each scrape and each liveness probe (5 s timeout, as the
# DaemonSet's) is answered.
flood() { # flood SRC MODE: 10 scrapes and 10 /healthz probes during it (it stops after them, 32 s at most)
    local src=$1 mode=$2 ready=$LIVE_TMP/flood.ready stop=$LIVE_TMP/flood.stop i t sok=0 hok=0 times=""
    rm -f "$ready" "$stop"
    python3 "$TOP/tests/lib/flood.py" 127.0.0.1 "$APORT" 200 "$src" "$mode" 32 "$ready" "$stop" >"$LIVE_TMP/flood.out" &
    local fp=$!
    for _ in $(seq 100); do [ -f "$ready" ] && break; sleep 0.1; done
    sleep 1
    for i in $(seq 10); do
        t=$(curl -s -m 5 -o /dev/null -w '%{http_code} %{time_total}' "$A/metrics")
        [ "${t%% *}" = 200 ] && sok=$((sok + 1))
        times="$times ${t#* }"
        [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$A/healthz")" = 200 ] && hok=$((hok + 1))
        sleep 1
    done
    # the flood ran through every scrape and probe; the rest of its 32 s measured nothing (~20 s
    # of each of the three floods)
    touch "$stop"
    wait "$fp"
    if [ "$sok" = 10 ] && [ "$hok" = 10 ]; then
        ok "200 $mode clients from $src reconnecting ($(cat "$LIVE_TMP/flood.out") drops): 10/10 scrapes (s:$times), 10/10 /healthz"
    else
        not_ok "200 $mode clients from $src: every scrape and probe answered within 5 s" \
            "scrapes $sok/10 (s:$times), /healthz $hok/10"
    fi
}
flood 127.0.0.2 idle
flood 127.0.0.2 partial
flood 127.0.0.1 partial

# /healthz is about the guard's main loop, not about the HTTP side: with the main thread alone
# stopped (ptrace; the HTTP thread runs on) it turns 503 once the main loop's answer to its
# question is 30 s late, and 200 again once the thread runs
python3 - "$apid" "$LIVE_TMP/frozen" 45 <<'PY' &
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
tid = int(sys.argv[1])  # the main thread's id is the process id
if libc.ptrace(0x4206, tid, None, None) != 0:  # PTRACE_SEIZE
    sys.exit("PTRACE_SEIZE: " + os.strerror(ctypes.get_errno()))
libc.ptrace(0x4207, tid, None, None)  # PTRACE_INTERRUPT: this thread only
os.waitpid(tid, 0x40000000)  # __WALL
open(sys.argv[2], "w").close()
end = time.time() + float(sys.argv[3])
while time.time() < end and not os.path.exists(sys.argv[2] + ".release"):
    time.sleep(0.1)
libc.ptrace(17, tid, None, None)  # PTRACE_DETACH
PY
frz=$!
for _ in $(seq 50); do [ -f "$LIVE_TMP/frozen" ] && break; sleep 0.1; done
t0=$(date +%s)
code=200
while [ "$code" = 200 ] && [ $(( $(date +%s) - t0 )) -lt 40 ]; do
    sleep 1
    code=$(curl -s -m 5 -o "$LIVE_TMP/healthz" -w '%{http_code}' "$A/healthz")
done
stuck=$(( $(date +%s) - t0 ))
touch "$LIVE_TMP/frozen.release"
wait "$frz"
if [ "$code" = 503 ] && [ "$stuck" -ge 29 ] && grep -q "the main loop .* has not answered for" "$LIVE_TMP/healthz"; then
    ok "/healthz: 503 after ${stuck}s of a stopped main loop ($(cat "$LIVE_TMP/healthz"))"
else
    not_ok "/healthz: 503 once the main loop is stopped for 30 s" "code $code after ${stuck}s: $(cat "$LIVE_TMP/healthz")"
fi
for _ in $(seq 30); do [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$A/healthz")" = 200 ] && break; sleep 0.1; done
expect_eq "/healthz: 200 again once the main loop runs" ok "$(curl -sf "$A/healthz")"

# SIGHUP with the config file replaced by a directory: refused, the running configuration kept
# (a directory read as an empty file and was "reloaded")
mv "$conf" "$conf.file" && mkdir "$conf"
kill -HUP "$apid"
for _ in $(seq 50); do grep -q "reload:" "$LIVE_TMP/agent.err" && break; sleep 0.1; done
check "SIGHUP with a directory as the config: refused and said so" \
    grep -qF "reload: $conf: a directory, not a config file; keeping the running configuration" "$LIVE_TMP/agent.err"
rmdir "$conf" && mv "$conf.file" "$conf"
curls=()
for _ in $(seq 200); do
    curl -s -m 10 -o /dev/null "$A/metrics" &
    curls+=($!)
done
ok_n=0
for p in "${curls[@]}"; do wait "$p" && ok_n=$((ok_n + 1)); done
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$A/metrics")
expect_eq "after garbage, slow clients and 200 parallel scrapes ($ok_n answered): still answering" 200 "$code"
kill -0 "$apid" 2>/dev/null && ok "the agent is still running" || not_ok "the agent is still running" "$(tail "$LIVE_TMP/agent.err")"

# 1,000 cgroups in one scrape (its time is measured by bench/agent, not asserted here: timing on
# a shared machine is not a test)
parent=$V1_MEMORY/$SCRATCH_PREFIX-$$-many
mkdir "$parent" && LIVE_CGROUPS+=("$parent")
for i in $(seq 1000); do mkdir "$parent/c$i"; done
for i in $(seq 1000); do LIVE_CGROUPS+=("$parent/c$i"); done
sleep 1.1 # past the 1 s coalescing window: a fresh collection
t=$(curl -s -o "$LIVE_TMP/big.prom" -w '%{time_total}' "$A/metrics")
n=$(grep -c "^oomwarden_cgroup_memory_current_bytes{cgroup=\"/$SCRATCH_PREFIX-$$-many/" "$LIVE_TMP/big.prom")
expect_eq "1,000 cgroups exported (scrape took ${t}s)" 1000 "$n"

kill -TERM "$apid"
wait "$apid"
expect_eq "SIGTERM: exit 0" 0 "$?"
done_testing
