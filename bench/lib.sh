# Shared by the benchmark scripts: alternate runs of several commands and report medians; the CPU
# and peak memory of a running process.

# now_ns: monotonic-ish wall clock in ns
now_ns() { date +%s%N; }

# time_cmd VAR CMD...: runs CMD once with output discarded, appends its wall time (ms) to VAR
time_cmd() {
    local var=$1
    shift
    local t0 t1
    t0=$(now_ns)
    "$@" >/dev/null 2>&1
    t1=$(now_ns)
    eval "$var+=(\$(( (t1 - t0) / 1000 )))"
}

# median of the arguments (integers)
median() {
    printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print int((a[NR/2]+a[NR/2+1])/2)}'
}

# ratio A B: A/B with two decimals
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# cpu_s PID: CPU time of all its threads in seconds, from schedstat (nanoseconds; stat's ticks
# are 10 ms coarse)
cpu_s() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ ns += $1 } END { printf "%.4f", ns / 1e9 }'; }
# hwm_kb PID: its peak RSS (VmHWM) in KiB
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
