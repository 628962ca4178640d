#!/usr/bin/env bash
# Four processes in a scratch v1 memory cgroup, with sizes and oom_score_adj chosen so that the
# kill order differs from both the RSS order and the adj order: `ps` must rank them exactly as
# the kernel's own /proc/PID/oom_score does.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/live.sh"
require_root
require_v1_memory

v1_cgroup order || { not_ok "create scratch cgroup"; done_testing; exit; }
cg=$CG rel=$CG_REL

# The design, in the kernel's own unit. For /proc/PID/oom_score (5.9+: proc_oom_score, oom_badness):
#   oom_score = (1000 + points * 1000 / totalpages) * 2 / 3,  points = rss + swap + pgtables
#                                                                     + adj * (totalpages / 1000)
# with totalpages = RAM + swap pages. So one adj point weighs as much as T/1000 of memory: call
# that a unit (24.6 MiB on 24 GiB). Sizes in units make the same order on any machine:
#   a 16 units adj 0 -> 16;  b 2 units adj 30 -> 32;  c 10 units adj 10 -> 20;  d 4 units adj 0 -> 4
# kill order b c a d: not the RSS order (a c d b), and adj alone cannot tell a from d. The
# closest pair (c, a) is 4 units apart, ~2.7 oom_score points: far above the hogs' own noise
# (binary, stack, page tables: well under a unit).
mem_kb=$(awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo)
swap_kb=$(awk '$1 == "SwapTotal:" { print $2 }' /proc/meminfo)
total_pages=$(((mem_kb + swap_kb) / 4))
# MiB per unit, at least 1 (a machine under 1 GiB still gets real sizes)
unit=$(((mem_kb + swap_kb) / 1024 / 1000))
[ "$unit" -ge 1 ] || unit=1
mib_a=$((16 * unit)) mib_b=$((2 * unit)) mib_c=$((10 * unit)) mib_d=$((4 * unit))
echo "# MemTotal $mem_kb kB, SwapTotal $swap_kb kB: one unit = $unit MiB; a $mib_a, b $mib_b, c $mib_c, d $mib_d MiB"
start_hog "$cg" a --name ow-order-a --anon "$mib_a"; a=$HOG_PID
start_hog "$cg" b --name ow-order-b --anon "$mib_b" --adj 30; b=$HOG_PID
start_hog "$cg" c --name ow-order-c --anon "$mib_c" --adj 10; c=$HOG_PID
start_hog "$cg" d --name ow-order-d --anon "$mib_d"; d=$HOG_PID

# designed_score MIB ADJ: the formula above, for MIB of anon and nothing else, on this machine
designed_score() { echo $(((1000 + ($1 * 256 + $2 * (total_pages / 1000)) * 1000 / total_pages) * 2 / 3)); }
designed=$(for x in "a $a $mib_a 0" "b $b $mib_b 30" "c $c $mib_c 10" "d $d $mib_d 0"; do
    set -- $x
    echo "$(designed_score "$3" "$4") $2"
done | sort -k1,1nr -k2,2nr | awk '{ print $2 }' | xargs)
# the same design on other machines, by the same arithmetic: 1 GiB to 1 TiB of RAM+swap, the
# order b c a d with the closest pair at least 2 oom_score points apart
bad=$(for gib in 1 2 3 4 8 16 24 32 48 64 96 128 256 512 1024; do
    total_pages=$((gib * 262144)) u=$((gib * 1048576 / 1024 / 1000)) # (a subshell: ours stay)
    [ "$u" -ge 1 ] || u=1
    sa=$(designed_score $((16 * u)) 0) sb=$(designed_score $((2 * u)) 30) sc=$(designed_score $((10 * u)) 10) sd=$(designed_score $((4 * u)) 0)
    [ $((sb - sc)) -ge 2 ] && [ $((sc - sa)) -ge 2 ] && [ $((sa - sd)) -ge 2 ] || echo "${gib}G: b $sb c $sc a $sa d $sd"
done)
expect_eq "the design keeps its order from 1 GiB to 1 TiB" "" "$bad"

json=$("$BIN" ps --cgroup-prefix "$rel" --json)
ours=$(jq -r '[.processes[].pid] | join(" ")' <<<"$json")
expect_eq "ps lists exactly the four processes of $rel" 4 "$(jq '.processes | length' <<<"$json")"

# the kernel's order: oom_score descending; a tie goes to the later task (higher pid here)
kernel=$(for p in $a $b $c $d; do echo "$(cat /proc/$p/oom_score) $p"; done | sort -k1,1nr -k2,2nr | awk '{print $2}' | xargs)
expect_eq "ps order == kernel oom_score order" "$kernel" "$ours"
expect_eq "the designed order (b c a d, from this machine's size) is what the kernel says" "$b $c $a $d $designed" "$kernel $kernel"

# rank in the global list agrees with the kernel's pairwise comparison
ranks=$("$BIN" ps --json | jq -r --arg pids "$a $b $c $d" '
  ($pids | split(" ") | map(tonumber)) as $mine
  | [.processes[] | select(.pid as $p | $mine | index($p))] | map(.pid) | join(" ")')
expect_eq "the global ranking keeps the same relative order" "$kernel" "$ranks"

# the text view shows them in that order too, with the rank numbers increasing
text=$("$BIN" ps --cgroup-prefix "$rel" --no-headers | awk '{print $2}' | xargs)
expect_eq "text view order" "$kernel" "$text"

# and the memory the model saw is the memory the hogs touched (within the page tables' noise)
anon_a=$(jq --argjson p "$a" '.processes[] | select(.pid==$p) | .rss_anon' <<<"$json")
if [ "$anon_a" -ge $((mib_a * 1048576)) ] && [ "$anon_a" -lt $(((mib_a + 10) * 1048576)) ]; then
    ok "rss_anon of the $mib_a MiB hog is $mib_a-$((mib_a + 10)) MiB ($anon_a)"
else
    not_ok "rss_anon of the $mib_a MiB hog" "$anon_a"
fi
cgpath=$(jq -r --argjson p "$a" '.processes[] | select(.pid==$p) | .cgroup' <<<"$json")
expect_eq "cgroup is the v1 memory controller path" "$rel" "$cgpath"

done_testing
