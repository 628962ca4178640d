# Helpers for the scenarios, inside the VM (busybox sh; sourced by init before guest.sh).
# A scenario writes what the host should check into $OUT (/out): every file there comes back
# to the host, in build/vm-logs/<scenario>/, next to kernel.log and scenario.log.

CG=/sys/fs/cgroup

up() { cut -d' ' -f1 /proc/uptime; }

# log MSG...: a timestamped line in scenario.log (and on the console)
log() { echo "[$(up)] $*"; }

# fail MSG...: the scenario cannot go on; the host reports MSG as a scenario error
fail() {
    echo "[$(up)] FAIL: $*"
    exit 1
}

# fact KEY VALUE...: one line "KEY VALUE..." in $OUT/facts.txt (the host reads it with fact())
fact() { echo "$*" >>"$OUT/facts.txt"; }

# cg_make PATH: creates the cgroup /sys/fs/cgroup/PATH and turns the memory controller on in
# every ancestor's subtree_control, so that PATH has memory.max, memory.events and the rest.
# (cgroup v2: a cgroup with controllers enabled for its children holds no processes itself.)
cg_make() {
    _p=""
    for _c in $(echo "$1" | tr '/' ' '); do
        [ -n "$_p" ] && { echo +memory >"$CG$_p/cgroup.subtree_control" || return 1; }
        _p="$_p/$_c"
        mkdir -p "$CG$_p" || return 1
    done
}

# cg_events PATH: memory.events of PATH on one line ("low 0 high 0 max 3 oom 1 oom_kill 1 ...")
cg_events() { tr '\n' ' ' <"$CG$1/memory.events"; }

# start_hog NAME CGROUP HOG_ARGS...: starts the memory eater hog (in CGROUP from its first
# instruction when CGROUP is not empty), waits until it has touched its memory (--ready), and
# records "NAME PID CGROUP" in $OUT/hogs.txt. Sets HOG_PID. Returns 1 when the hog died first
# (an OOM kill, say): the caller decides whether that is an error.
start_hog() {
    _n=$1 _cg=$2
    shift 2
    _ready=/run/hog.$_n.ready
    rm -f "$_ready"
    if [ -n "$_cg" ]; then
        # the shell moves itself (its $$) into the cgroup, then becomes the hog
        sh -c 'echo $$ >"/sys/fs/cgroup$1/cgroup.procs" && shift && exec "$@"' sh "$_cg" \
            hog --ready "$_ready" "$@" </dev/null >"/run/hog.$_n.err" 2>&1 &
    else
        hog --ready "$_ready" "$@" </dev/null >"/run/hog.$_n.err" 2>&1 &
    fi
    HOG_PID=$!
    echo "$_n $HOG_PID ${_cg:-/}" >>"$OUT/hogs.txt"
    # (busybox sleep takes fractions) up to 60 s: touching 100 MB is slow under emulation
    _i=0
    while [ ! -f "$_ready" ]; do
        if ! kill -0 "$HOG_PID" 2>/dev/null; then
            log "hog $_n ($HOG_PID) ended before it was ready: $(cat "/run/hog.$_n.err" 2>/dev/null)"
            return 1
        fi
        _i=$((_i + 1))
        [ $_i -gt 1200 ] && fail "hog $_n ($HOG_PID) not ready after 60 s"
        sleep 0.05
    done
    return 0
}

# wait_gone PID SECONDS: waits until PID has exited (0) or SECONDS passed (1).
wait_gone() {
    _i=0
    while kill -0 "$1" 2>/dev/null; do
        # a killed child stays a zombie until reaped; that counts as gone
        case "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" in Z | X | "") return 0 ;; esac
        _i=$((_i + 1))
        [ $_i -gt $(($2 * 10)) ] && return 1
        sleep 0.1
    done
    return 0
}

# alive PIDS...: the ones still running, space-separated (a zombie has exited: it counts as gone)
alive() {
    _a=""
    for _p in "$@"; do
        kill -0 "$_p" 2>/dev/null && [ "$(cut -d' ' -f3 "/proc/$_p/stat" 2>/dev/null)" != Z ] && _a="$_a $_p"
    done
    echo "${_a# }"
}

# alive01 PID: 1 when it is still running, else 0 (for facts)
alive01() { [ -n "$(alive "$1")" ] && echo 1 || echo 0; }

# vmstat_oom_kill: the kernel's count of OOM kills since boot
vmstat_oom_kill() { awk '$1 == "oom_kill" { print $2 }' /proc/vmstat; }

# ow_has COMMAND: the oomwarden binary in this VM has that subcommand (for scenarios that use
# commands still being written: run them only once they exist)
ow_has() { oomwarden "$1" --help >/dev/null 2>&1; }

# start_agent NAME ARGS...: `oomwarden agent ARGS` in the background, events to $OUT/NAME.jsonl and
# its log to $OUT/NAME.log; returns once the guard says it is on (fails after 10 s). Sets AGENT.
start_agent() {
    _n=$1
    shift
    oomwarden agent "$@" >"$OUT/$_n.jsonl" 2>"$OUT/$_n.log" </dev/null &
    AGENT=$!
    _i=0
    while ! grep -q "guard: on" "$OUT/$_n.log" 2>/dev/null; do
        _i=$((_i + 1))
        [ $_i -gt 100 ] && fail "the agent ($_n) did not start: $(cat "$OUT/$_n.log")"
        sleep 0.1
    done
}
