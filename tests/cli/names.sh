# Kubernetes names (sourced by tests/cli/run): the kubelet's log layout in tests/fixtures/
# cg-k8s-names and cg-k8s-cgroupfs-names (gen-cgroups.py: cg-k8s-systemd and cg-k8s-cgroupfs with
# /var/log/pods and /var/log/containers) names namespace/pod/container in ps, status, cgroup,
# doctor and explain; the same trees without the layout say what they said before (their own
# goldens, and the JSON compared here).
KN="--root tests/fixtures/cg-k8s-names"
KCN="--root tests/fixtures/cg-k8s-cgroupfs-names"
KNLOG=tests/fixtures/explain-input/k8s-names-memcg.log
run_case names-ps "$BIN" ps $KN
run_case names-ps-json "$BIN" ps $KN --json
run_case names-ps-cgroup "$BIN" ps $KN --cgroup /kubepods.slice
run_case names-ps-cgroupfs "$BIN" ps $KCN --cgroup /kubepods
run_case names-status "$BIN" status $NW $KN
run_case names-status-json "$BIN" status $NW $KN --json
run_case names-cgroup "$BIN" cgroup $KN
run_case names-cgroup-json "$BIN" cgroup $KN --json
run_case names-cgroup-container "$BIN" cgroup $KN $NW "$KCTR1"
run_case names-cgroup-cgroupfs "$BIN" cgroup $KCN
run_case names-doctor "$BIN" doctor $NW $KN --only kill-order,oom-group
run_case names-explain "$BIN" explain $KN "$KNLOG"
run_case names-explain-json "$BIN" explain $KN "$KNLOG" --json
run_case names-explain-other-pod "$BIN" explain $KN tests/fixtures/oomlog/030-vijayrod-aks-memcg-oom-group-kill-6-victims.log

# JSON with the layout = JSON without it, but for the names
strip='walk(if type == "object" then del(.namespace, .pod, .container) else . end)'
for cmd in "ps" "ps --cgroup /kubepods.slice" "cgroup" "status $NW" "doctor $NW"; do
    a=$(cd "$top" && "$BIN" $cmd --root tests/fixtures/cg-k8s-systemd --json | jq -S "$strip")
    b=$(cd "$top" && "$BIN" $cmd $KN --json | jq -S "$strip")
    # the workload words and the explanations name the pods: compared without them
    words='walk(if type == "object" then del(.workload, .title, .evidence, .note) else . end)'
    expect_eq "$cmd --json: the same with the layout, but for the names" \
        "$(jq -S "$words" <<<"$a")" "$(jq -S "$words" <<<"$b")"
done
j=$(cd "$top" && "$BIN" ps $KN --json)
check "ps --json: every process in a pod named; containers by their links, the sandbox, conmon and the cut link's too" jq -e '
  def p($pid): .processes[] | select(.pid == $pid) | [.namespace, .pod, .container];
  p(1010) == ["shop", "api-7b8c6d9f4-x2k9p", "app"]
  and p(1000) == ["shop", "api-7b8c6d9f4-x2k9p", null]
  and p(1021) == ["batch", "report-28391-abcde", "worker"]
  and p(1020) == ["batch", "report-28391-abcde", null]
  and p(1030) == ["db", "postgres-0", "postgres"]
  and (p(1040) | .[0] == "web" and (.[1] | startswith("frontend-") and length > 200) and .[2] == "httpd")
  and p(200) == [null, null, null]' <<<"$j"
j=$(cd "$top" && "$BIN" cgroup $KCN --json)
check "cgroupfs driver: pods and containers named by UID and bare container ID" jq -e '
  [.cgroups[] | select(.identity.container != null) | [.identity.namespace, .identity.pod, .identity.container]]
  | sort == [["batch", "report-28391-abcde", "worker"], ["edge", "nginx-6d4cf56db6-qp2lx", "nginx"],
             ["shop", "api-7b8c6d9f4-x2k9p", "app"]]' <<<"$j"

# The agent's exposition with the names: promtool accepts it, every pod's series has them
if command -v promtool >/dev/null && command -v curl >/dev/null; then
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    tmpd=$(mktemp -d)
    printf '[agent]\nlisten = 127.0.0.1:%s\n[exporter]\ncgroup-depth = 8\n' "$port" >"$tmpd/a.conf"
    (cd "$top" && exec "$BIN" agent $KN --config "$tmpd/a.conf") >"$tmpd/out" 2>"$tmpd/err" &
    apid=$!
    for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
    m=$(curl -sf "http://127.0.0.1:$port/metrics")
    kill "$apid" 2>/dev/null
    wait "$apid" 2>/dev/null
    check "agent on cg-k8s-names: promtool check metrics accepts the exposition" promtool check metrics <<<"$m"
    # every series of a cgroup under a named pod carries namespace and pod; containers theirs
    bad=$(grep -E '^oomwarden_cgroup_[a-z_]+\{cgroup="/kubepods[^"]*pod[0-9a-f_]{32,36}\.slice' <<<"$m" |
        grep -v 'namespace="[a-z0-9-]*",pod="[a-z0-9.-]*"' | head -3)
    expect_eq "agent: every pod cgroup's series has namespace and pod" "" "$bad"
    all=$(grep -c '^oomwarden_cgroup_[a-z_]*{cgroup="[^"]*cri-containerd-9192cb33411f[^"]*"' <<<"$m")
    named=$(grep -c '^oomwarden_cgroup_[a-z_]*{cgroup="[^"]*cri-containerd-9192cb33411f[^"]*",namespace="shop",pod="api-7b8c6d9f4-x2k9p",container="app"[,}]' <<<"$m")
    [ "$all" -gt 20 ] && [ "$named" = "$all" ] && ok "agent: all $all series of container shop/api-7b8c6d9f4-x2k9p/app are named" ||
        not_ok "agent: every series of container shop/api-7b8c6d9f4-x2k9p/app is named" "$named of $all"
    expect_eq "agent: no empty label" "" "$(grep -o '[a-z_]*=""' <<<"$m" | head -3)"
    rm -rf "$tmpd"
else
    skip "agent exposition with names" "promtool or curl not installed"
fi

# Policy matchers on names: the shipped kubernetes-node.conf leaves the cluster's own pods
# (kube-system, the CNI's namespaces) at 0 and its own agent at -1000 instead of raising them to
# 900. A copy of cg-k8s-names with the batch pod moved to kube-system (as kube-proxy) and
# db/postgres-0 to oomwarden, pod directory and container links both.
nsd=$(mktemp -d)
cp -a "$top/tests/fixtures/cg-k8s-names" "$nsd/n"
(
    set -e
    r=$nsd/n B=a5d8fdd1-1369-469e-8a7d-2c1047529435
    BC=34186d9bd077a7b5f0b8c1c5e3d2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4
    PC=5f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b434186d9bd077a7b5f0b8c1c5e3d2a
    mv "$r/var/log/pods/batch_report-28391-abcde_$B" "$r/var/log/pods/kube-system_kube-proxy-x7q2m_$B"
    rm "$r/var/log/containers/report-28391-abcde_batch_worker-$BC.log" \
        "$r/var/log/containers/postgres-0_db_postgres-$PC.log"
    ln -s "/var/log/pods/kube-system_kube-proxy-x7q2m_$B/worker/0.log" \
        "$r/var/log/containers/kube-proxy-x7q2m_kube-system_worker-$BC.log"
    ln -s "/srv/kubelet/pod-logs/oomwarden_oomwarden-k2x9d_11111111-2222-3333-4444-555555555555/oomwarden/0.log" \
        "$r/var/log/containers/oomwarden-k2x9d_oomwarden_oomwarden-$PC.log"
)
adj='[.changes[] | select(.kind == "oom_score_adj") | [.pid, .after, .rule]]'
j=$(cd "$top" && "$BIN" apply --dry-run --json --config deploy/examples/kubernetes-node.conf --root "$nsd/n")
check "kubernetes-node.conf: kube-system's pod to 0, the agent's namespace to -1000, the other pods to 900" jq -e "$adj"' ==
  [[1000, 900, "pod-processes"], [1010, 900, "pod-processes"], [1011, 900, "pod-processes"],
   [1012, 900, "pod-processes"], [1021, 0, "cluster-system-pods"], [1030, -1000, "oomwarden"],
   [1031, -1000, "oomwarden"], [1040, 900, "pod-processes"]]' <<<"$j"
# the same pods without names (no layout): every pod to 900, as the config's comment warns
rm -rf "$nsd/n/var/log"
j=$(cd "$top" && "$BIN" apply --dry-run --json --config deploy/examples/kubernetes-node.conf --root "$nsd/n")
check "kubernetes-node.conf without the layout: no pod is named, all go to 900" jq -e "$adj"' | map(.[2]) | unique == ["pod-processes"]' <<<"$j"
rm -rf "$nsd"
# a cgroup rule on a namespace: oom.group of shop's pods only; pod-name written back
printf '[rule api]\npod-name = api-*\nguard = prefer\n[rule shop]\nnamespace = shop\noom-group = 1\n' >"$top/build/names-rules.conf"
j=$(cd "$top" && "$BIN" apply --dry-run --json --config build/names-rules.conf $KN)
check "namespace = shop: oom.group of shop's cgroups only (pod and containers)" jq -e '
  [.changes[] | select(.kind == "memory.oom.group") | .cgroup] | length > 0 and
  all(test("pod0a1b2c3d_4e5f_6789_abcd_ef0123456789"))' <<<"$j"
out=$(cd "$top" && "$BIN" agent --config build/names-rules.conf --check-config 2>&1)
check "--check-config writes namespace and pod-name back" grep -qz 'pod-name = api-\*.*namespace = shop' <<<"$out"
rm -f "$top/build/names-rules.conf"
