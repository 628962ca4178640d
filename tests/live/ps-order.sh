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

# On 24 GiB: one oom_score point ~ 36 MiB, one adj point ~ 24 MiB.
start_hog "$cg" a --name ow-order-a --anon 400; a=$HOG_PID          # ~677
start_hog "$cg" b --name ow-order-b --anon 50 --adj 30; b=$HOG_PID  # ~688
start_hog "$cg" c --name ow-order-c --anon 250 --adj 10; c=$HOG_PID # ~680
start_hog "$cg" d --name ow-order-d --anon 100; d=$HOG_PID          # ~669

json=$("$BIN" ps --cgroup-prefix "$rel" --json)
ours=$(jq -r '[.processes[].pid] | join(" ")' <<<"$json")
expect_eq "ps lists exactly the four processes of $rel" 4 "$(jq '.processes | length' <<<"$json")"

# the kernel's order: oom_score descending; a tie goes to the later task (higher pid here)
kernel=$(for p in $a $b $c $d; do echo "$(cat /proc/$p/oom_score) $p"; done | sort -k1,1nr -k2,2nr | awk '{print $2}' | xargs)
expect_eq "ps order == kernel oom_score order" "$kernel" "$ours"
expect_eq "the designed order (b c a d) is what the kernel says" "$b $c $a $d" "$kernel"

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
if [ "$anon_a" -ge $((400 * 1048576)) ] && [ "$anon_a" -lt $((410 * 1048576)) ]; then
    ok "rss_anon of the 400 MiB hog is 400-410 MiB ($anon_a)"
else
    not_ok "rss_anon of the 400 MiB hog" "$anon_a"
fi
cgpath=$(jq -r --argjson p "$a" '.processes[] | select(.pid==$p) | .cgroup' <<<"$json")
expect_eq "cgroup is the v1 memory controller path" "$rel" "$cgpath"

done_testing
