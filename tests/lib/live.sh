# Helpers for the live tests (sourced after tap.sh): scratch v1/v2 memory cgroups of our own,
# processes we start, and cleanup that runs however the script ends.

TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BIN=${OOMWARDEN:-$TOP/build/oomwarden}
HOG=${HOG:-$TOP/build/tests/helpers/hog}
V1_MEMORY=/sys/fs/cgroup/memory
SCRATCH_PREFIX=oomwarden-test

LIVE_PIDS=()
LIVE_CGROUPS=()
LIVE_TMP=$(mktemp -d /tmp/oomwarden-live.XXXXXX)

live_cleanup() {
    local p cg
    for p in "${LIVE_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    # anything else that ended up in our cgroups (children of what we started)
    for cg in "${LIVE_CGROUPS[@]}"; do
        [ -f "$cg/cgroup.procs" ] && for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    done
    for p in "${LIVE_PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    done
    # deepest first
    for ((i = ${#LIVE_CGROUPS[@]} - 1; i >= 0; i--)); do
        cg=${LIVE_CGROUPS[$i]}
        [ -d "$cg" ] || continue
        for _ in $(seq 50); do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done
        [ -d "$cg" ] && echo "# warning: could not remove $cg" >&2
    done
    rm -rf "$LIVE_TMP"
}
trap live_cleanup EXIT
# a test stopped by tests/run's timeout (SIGTERM) or ^C still removes its cgroups and processes
trap 'exit 143' TERM
trap 'exit 130' INT

require_root() {
    [ "$(id -u)" = 0 ] || skip_all "needs root (creates cgroups, reads every /proc/PID)"
}

require_v1_memory() {
    [ -f "$V1_MEMORY/memory.limit_in_bytes" ] || skip_all "no cgroup v1 memory controller at $V1_MEMORY"
}

# These helpers record what they create for the cleanup, so they must run in this shell, not in
# a $(...) subshell: they return their result in a variable instead of on stdout.

# v1_cgroup NAME [LIMIT_BYTES]: creates $V1_MEMORY/oomwarden-test-$$-NAME; sets CG (the
# directory) and CG_REL (the path as /proc/PID/cgroup shows it).
v1_cgroup() {
    CG=$V1_MEMORY/$SCRATCH_PREFIX-$$-$1
    CG_REL=/$SCRATCH_PREFIX-$$-$1
    mkdir "$CG" || return 1
    LIVE_CGROUPS+=("$CG")
    if [ -n "${2:-}" ]; then
        echo 0 >"$CG/memory.swappiness" 2>/dev/null
        echo "$2" >"$CG/memory.limit_in_bytes" || return 1
    fi
}

# start_hog CGROUP_DIR_OR_EMPTY READY_NAME HOG_ARGS...: starts hog (in the cgroup, from its first
# instruction) and waits until it has touched its memory; sets HOG_PID.
start_hog() {
    local cg=$1 ready=$LIVE_TMP/$2.ready
    shift 2
    rm -f "$ready"
    # disown: the cleanup kills these on purpose; no "Killed" job notices in the TAP stream
    if [ -n "$cg" ]; then
        sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$cg" "$HOG" --ready "$ready" "$@" \
            </dev/null >/dev/null 2>"$ready.err" &
    else
        "$HOG" --ready "$ready" "$@" </dev/null >/dev/null 2>"$ready.err" &
    fi
    HOG_PID=$!
    disown "$HOG_PID"
    LIVE_PIDS+=("$HOG_PID")
    for _ in $(seq 300); do
        [ -f "$ready" ] && break
        kill -0 "$HOG_PID" 2>/dev/null || break
        sleep 0.05
    done
}

# kmsg_since_marker: a unique marker written to /dev/kmsg so a test reads only what came after
kmsg_marker() {
    local m="oomwarden-test-marker-$$-$RANDOM-$(date +%s%N)"
    echo "$m" >/dev/kmsg
    echo "$m"
}

# free_port: a TCP port on 127.0.0.1 nobody listens on now, for an agent or Prometheus under test
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The policy's oom_score_adj, watched: adj PID (empty when gone); wait_adj PID VALUE MS: until it
# is VALUE (0) or MS passed (1), DT the time taken.
now_ms() { date +%s%3N; }
adj() { cat "/proc/$1/oom_score_adj" 2>/dev/null; }
wait_adj() {
    local t0
    t0=$(now_ms)
    while [ "$(adj "$1")" != "$2" ] && [ $(($(now_ms) - t0)) -lt "$3" ]; do sleep 0.02; done
    DT=$(($(now_ms) - t0))
    [ "$(adj "$1")" = "$2" ]
}

# policy_agent_up CONF OUT ERR: `agent --config CONF` in the background (stdout OUT, stderr ERR),
# up once it has logged its policy line and answers /healthz on CONF's listen address; sets apid
# and src (the log's "(new processes: ...; everything" part). policy_agent_down LABEL: SIGTERM,
# and its exit status checked.
policy_agent_up() {
    local addr
    addr=$(awk -F' *= *' '$1 == "listen" { print $2; exit }' "$1")
    "$BIN" agent --config "$1" >"$2" 2>"$3" &
    apid=$!
    LIVE_PIDS+=("$apid")
    for _ in $(seq 100); do grep -q "(new processes: " "$3" && curl -sf "http://$addr/healthz" >/dev/null && break; sleep 0.1; done
    src=$(grep -m1 -o "(new processes: .*; everything" "$3")
}
policy_agent_down() {
    kill -TERM "$apid"
    wait "$apid"
    expect_eq "$1: SIGTERM: exit 0" 0 "$?"
}
