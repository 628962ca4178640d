#!/usr/bin/env bash
# The bash completion (deploy/bash-completion/oomwarden) under Debian's bash-completion, as a
# shell loads it: registered with `complete`, and what it offers is what the binary takes —
# every command of `oomwarden --help`, every long option of each `oomwarden CMD --help` (the
# agent's: every key of its config schema), and nothing they do not list.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/tap.sh"
BIN=${OOMWARDEN:-$top/build/oomwarden}
COMP=$top/deploy/bash-completion/oomwarden
BC=/usr/share/bash-completion/bash_completion

[ -r "$BC" ] || skip_all "bash-completion is not installed (Debian package bash-completion)"
[ -x "$BIN" ] || skip_all "no built binary at $BIN"

# the completion is run in a fresh interactive-like bash with bash-completion loaded
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin"
ln -s "$BIN" "$tmp/bin/oomwarden"

# comp WORD...: what completing the last WORD offers, sorted, one per line
comp() {
    PATH="$tmp/bin:$PATH" bash --norc --noprofile -c '
        . "$1"; . "$2"; shift 2
        COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
        COMPREPLY=()
        _oomwarden oomwarden "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        printf "%s\n" "${COMPREPLY[@]}"' _ "$BC" "$COMP" "$@" 2>&1 |
        # compopt only works inside a completion readline started; its complaint here is not ours
        grep -v 'compopt: not currently executing completion function' | sed '/^$/d' | sort
}

reg=$(bash --norc --noprofile -c '. "$1"; . "$2"; complete -p oomwarden' _ "$BC" "$COMP" 2>&1)
expect_eq "complete -p oomwarden: the function is registered" "complete -F _oomwarden oomwarden" "$reg"

# commands: those `oomwarden --help` lists, and help
want=$( ("$BIN" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }'; echo help) | sort)
expect_eq "commands offered = the commands of oomwarden --help" "$want" "$(comp oomwarden '')"
expect_eq "a prefix narrows the commands (e)" "$(printf 'evict\nexplain\n')" "$(comp oomwarden e)"
expect_eq "global options before the command" \
    "$(printf -- '--color\n--help\n--root\n--verbose\n--version\n')" "$(comp oomwarden --)"
expect_eq "the command is found after global options and their values" \
    "$(comp oomwarden ps --)" "$(comp oomwarden --root / --color never ps --)"

# long options of each command against its --help (for agent: its fixed flags, --help, which its
# usage does not list, and the config keys; --no-KEY is not offered)
help_opts() {
    "$BIN" "$1" --help | grep -oE '(^|[ ,])--[a-z][a-z-]*' | sed 's/^[ ,]*//' | sort -u
}
for cmd in status doctor ps cgroup explain watch apply evict lab reclaim; do
    expect_eq "$cmd: options offered = the options of '$cmd --help'" "$(help_opts "$cmd")" "$(comp oomwarden "$cmd" --)"
done
agent_want=$( ("$BIN" agent --help | sed -n '/^Options, as a config file/,$p' |
    grep -oE '^  [a-z][a-z-]* =' | sed 's/^  /--/; s/ =$//'
    "$BIN" agent --help | sed -n '1,/^Options, as a config file/p' | grep -oE '(^|[ ,])--[a-z][a-z-]*' |
    sed 's/^[ ,]*//' | grep -vx -- '--KEY\|--no-'
    echo --help) | sort -u)
expect_eq "agent: options offered = its flags + every key of its config schema" "$agent_want" "$(comp oomwarden agent --)"
n_keys=$("$BIN" agent --help | sed -n '/^Options, as a config file/,$p' | grep -cE '^  [a-z][a-z-]* =')
[ "$n_keys" -ge 30 ] && ok "agent: the schema dump lists $n_keys keys (the comparison above is not empty)" ||
    not_ok "agent: the schema dump lists $n_keys keys (the comparison above is not empty)"

# values
expect_eq "--color values" "$(printf 'always\nauto\nnever\n')" "$(comp oomwarden --color '')"
expect_eq "ps --sort values" "$(printf 'pid\nrss\nscore\n')" "$(comp oomwarden ps --sort '')"
expect_eq "cgroup --sort values" "$(printf 'headroom\nooms\npsi\nusage\n')" "$(comp oomwarden cgroup -s '')"
expect_eq "lab: its subcommands" "$(printf 'protect\nrun\n')" "$(comp oomwarden lab '')"
expect_eq "lab run --kind values" "$(printf 'anon\nfile\nmixed\n')" "$(comp oomwarden lab run --kind '')"
expect_eq "agent --event-format values" "$(printf 'json\ntext\n')" "$(comp oomwarden agent --event-format '')"
expect_eq "a free-form value completes to nothing (ps --top)" "" "$(comp oomwarden ps --top '')"
expect_eq "after a yes/no agent key, options again" "$(comp oomwarden agent --check-)" "$(comp oomwarden agent --enabled --check-)"
checks=$("$BIN" doctor --list | awk '/^  [a-z]/ { print $1 } /^$/ { exit }' | sort)
expect_eq "doctor --only: the check IDs of doctor --list" "$checks" "$(comp oomwarden doctor --only '')"
expect_eq "doctor --skip: after a comma, the next ID" "kill-order,limits" "$(comp oomwarden doctor --skip kill-order,li)"
expect_eq "cgroup: pid: as an argument" "pid:" "$(comp oomwarden cgroup p)"

# files and directories where a command takes them
mkdir -p "$tmp/logs/sub"
: >"$tmp/logs/kern.log"
: >"$tmp/logs/node.conf"
expect_eq "explain: files" "$(printf '%s\n' "$tmp/logs/kern.log" "$tmp/logs/node.conf" "$tmp/logs/sub" | sort)" \
    "$(comp oomwarden explain "$tmp/logs/")"
expect_eq "apply --config: .conf files and directories" "$(printf '%s\n' "$tmp/logs/node.conf" "$tmp/logs/sub" | sort)" \
    "$(comp oomwarden apply --config "$tmp/logs/")"
expect_eq "--root: directories only" "$tmp/logs/sub" "$(comp oomwarden --root "$tmp/logs/")"

# cgroup paths from this machine's memory hierarchy
base=""
if [ -r /sys/fs/cgroup/cgroup.controllers ] && grep -qw memory /sys/fs/cgroup/cgroup.controllers; then
    base=/sys/fs/cgroup
elif [ -d /sys/fs/cgroup/memory ]; then
    base=/sys/fs/cgroup/memory
fi
if [ -n "$base" ]; then
    want=$(find "$base" -mindepth 1 -maxdepth 1 -type d -printf '/%f/\n' | sort)
    expect_eq "cgroup: the top-level memory cgroups of $base" "$want" "$(comp oomwarden cgroup /)"
    expect_eq "reclaim: no cgroup offered for SIZE" "" "$(comp oomwarden reclaim /x '')"
else
    skip "cgroup paths" "no memory cgroup hierarchy here"
fi

done_testing
