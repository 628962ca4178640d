# The agent's guard band on a copy of the cg-v2 fixture (sourced by tests/cli/run): memory.high
# set a band under memory.max in each watched cgroup and recorded, moved back on a reload that
# turns the band off, a lower value someone else wrote left alone, the record left by a killed
# agent taken over and put back by the next one. The kernel side (throttling, the race) is
# tests/vm/scenarios/guard-band.

gb_dir=$(mktemp -d /tmp/oomwarden-cli-band.XXXXXX)
cp -r "$FX/cg-v2/." "$gb_dir"
mkdir -p "$gb_dir/run"
gb_cg=$gb_dir/sys/fs/cgroup/system.slice
gb_rec=$gb_dir/run/oomwarden/guard-band
gb_conf() { # gb_conf BAND: the agent's config with that band
    cat >"$gb_dir/agent.conf" <<EOF
[agent]
listen = 127.0.0.1:0
event-format = json
kmsg = no
[guard]
enabled = yes
memory-floor = 0
cgroups = /system.slice/*
band = $1
EOF
}
# a fixture file is a regular file: the agent's short write leaves a longer old value's tail, so
# each value is read up to the first byte that cannot be part of it
gb_high() { head -c 32 "$gb_cg/$1/memory.high" | grep -oE '^(max|[0-9]+)'; }
gb_wait() { # gb_wait CMD...: until CMD succeeds, 5 s at most
    local i
    for i in $(seq 50); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}
gb_start() {
    "$BIN" agent --root "$gb_dir" --config "$gb_dir/agent.conf" >>"$gb_dir/events" 2>>"$gb_dir/log" &
    gb_pid=$!
}
gb_is() { [ "$(gb_high "$1")" = "$2" ]; }
# ... and written back whole, as the kernel would show it, before the agent reads it again
gb_norm() {
    local f v
    for f in "$gb_cg"/*/memory.high; do
        v=$(head -c 32 "$f" | grep -oE '^(max|[0-9]+)')
        printf '%s\n' "$v" >"$f"
    done
}

gb_conf 4%
printf 'max\n' >"$gb_cg/nginx.service/memory.high"
gb_start
# nginx: max 512M, high max -> 512M - 4% (in pages); postgresql's own 1.5G is under its band
gb_wait gb_is nginx.service 515395584
expect_eq "band: nginx.service's memory.high 4% under its memory.max" 515395584 "$(gb_high nginx.service)"
expect_eq "band: postgresql.service's lower memory.high is the user's, left" 1610612736 "$(gb_high postgresql.service)"
check "band: recorded before the agent could die" grep -qx '515395584 max /system.slice/nginx.service' "$gb_rec"
check "band: the record names only what the band changed" bash -c "! grep -q postgresql '$gb_rec'"
check "band: a guard_band event per change, as JSON" jq -e -s '
  [.[] | select(.event == "guard_band" and .cgroup == "/system.slice/nginx.service")][0]
  | .action == "set" and .memory_high_before == "max" and .memory_high_after == 515395584
    and .memory_max == 536870912 and .dry_run == false' "$gb_dir/events"

# reload with the band off: put back; on again: set again
gb_conf 0
kill -HUP "$gb_pid"
gb_wait gb_is nginx.service max
expect_eq "band: a reload without the band puts memory.high back" max "$(gb_high nginx.service)"
check "band: nothing banded, no record left" test ! -e "$gb_rec"
gb_norm
gb_conf 64M
kill -HUP "$gb_pid"
gb_wait gb_is nginx.service 469762048
expect_eq "band: a reload with a new band (a size) sets it" 469762048 "$(gb_high nginx.service)"

# the agent killed: the record stays; the next agent takes it over and puts it back at its end
kill -9 "$gb_pid"
wait "$gb_pid" 2>/dev/null
gb_norm
check "band: a killed agent leaves its record" grep -q nginx.service "$gb_rec"
gb_conf 0
gb_start
gb_wait gb_is nginx.service max
expect_eq "band: the next agent, without a band, puts back what the killed one set" max "$(gb_high nginx.service)"
check "band: ... and says so" grep -q 'taken over' "$gb_dir/log"
kill "$gb_pid"
wait "$gb_pid" 2>/dev/null

# someone else lowers it while banded: theirs; the agent's stop leaves it
gb_norm
gb_conf 4%
gb_start
gb_wait gb_is nginx.service 515395584
printf '104857600\n' >"$gb_cg/nginx.service/memory.high"
# the guard looks at its cgroups again within 2 s
gb_wait jq -e -s 'any(.[]; .event == "guard_band" and .action == "forget")' "$gb_dir/events"
check "band: the lower value is seen and forgotten (a forget event)" jq -e -s '
  any(.[]; .event == "guard_band" and .action == "forget" and .memory_high_before == 104857600)' \
  "$gb_dir/events"
kill "$gb_pid"
wait "$gb_pid" 2>/dev/null
expect_eq "band: a lower memory.high someone else wrote stays after the agent stops" 104857600 "$(gb_high nginx.service)"
expect_eq "band: the agent's stop puts back the cgroups it still banded" max "$(gb_high batch.service)"
check "band: the stop leaves no record" test ! -e "$gb_rec"
rm -rf "$gb_dir"
