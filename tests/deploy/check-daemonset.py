#!/usr/bin/env python3
"""Offline checks of deploy/kubernetes/oomwarden.yaml and unprivileged.patch.yaml beside it (no
cluster here): the things the design says the DaemonSet must have, and what the API server would
refuse. Prints TAP lines."""
import os
import sys
import yaml

path = sys.argv[1]
docs = [d for d in yaml.safe_load_all(open(path)) if d]
n = 0
failed = 0


def check(name, cond, why=""):
    global n, failed
    n += 1
    if cond:
        print(f"ok {n} - {name}")
    else:
        failed += 1
        print(f"not ok {n} - {name}")
        if why:
            print(f"#   {why}")


kinds = {d["kind"]: d for d in docs}
check("manifest has Namespace, ServiceAccount, ConfigMap, DaemonSet, Service",
      {"Namespace", "ServiceAccount", "ConfigMap", "DaemonSet", "Service"} <= set(kinds), str(sorted(kinds)))
for d in docs:
    check(f"{d['kind']} has apiVersion and metadata.name", "apiVersion" in d and "name" in d.get("metadata", {}))
ds = kinds["DaemonSet"]
spec = ds["spec"]["template"]["spec"]
c = spec["containers"][0]
sc = c.get("securityContext", {})
check("selector matches the pod labels",
      ds["spec"]["selector"]["matchLabels"].items() <= ds["spec"]["template"]["metadata"]["labels"].items())
check("hostPID", spec.get("hostPID") is True)
# the netlink proc connector (new processes at exec) answers only in the initial network namespace
check("hostNetwork (the proc connector)", spec.get("hostNetwork") is True)
check("dnsPolicy ClusterFirstWithHostNet beside hostNetwork",
      spec.get("dnsPolicy") == "ClusterFirstWithHostNet", str(spec.get("dnsPolicy")))
check("system-node-critical priority", spec.get("priorityClassName") == "system-node-critical")
check("tolerates every taint", {"operator": "Exists"} in spec.get("tolerations", []))
# /dev/kmsg: no runtime lets a container that is not privileged open it (tests/deploy/vm/run)
check("privileged (the only way to /dev/kmsg)", sc.get("privileged") is True, str(sc))
# the API server refuses allowPrivilegeEscalation: false with privileged: true
check("no allowPrivilegeEscalation: false beside privileged", sc.get("allowPrivilegeEscalation") is not False, str(sc))
# a capability list is ignored for a privileged container: it would only mislead
check("no capability list (privileged has them all)", "capabilities" not in sc, str(sc))
check("read-only root filesystem", sc.get("readOnlyRootFilesystem") is True)
ns = kinds["Namespace"]["metadata"]
check("the namespace allows privileged pods (Pod Security Admission)",
      ns.get("labels", {}).get("pod-security.kubernetes.io/enforce") == "privileged", str(ns))
check("service account token not mounted", spec.get("automountServiceAccountToken") is False)
args = c.get("args", [])
check("runs the agent with --root /host and the mounted config",
      args[:1] == ["agent"] and "--root=/host" in args and "--config=/etc/oomwarden/oomwarden.conf" in args, str(args))
mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
vols = {v["name"]: v for v in spec.get("volumes", [])}
for mp, host, ro in [("/host/proc", "/proc", False), ("/host/sys", "/sys", True),
                     ("/host/sys/fs/cgroup", "/sys/fs/cgroup", False), ("/host/dev/kmsg", "/dev/kmsg", True),
                     ("/host/var/log", "/var/log", True), ("/host/run/oomwarden", "/run/oomwarden", False)]:
    m = mounts.get(mp)
    v = vols.get(m["name"]) if m else None
    check(f"{host} mounted at {mp}{' read-only' if ro else ''}",
          m is not None and v is not None and v.get("hostPath", {}).get("path") == host and bool(m.get("readOnly")) == ro,
          str(m))
check("config volume is the ConfigMap", vols.get("config", {}).get("configMap", {}).get("name") == kinds["ConfigMap"]["metadata"]["name"])
port = [p for p in c.get("ports", []) if p.get("name") == "metrics"]
check("metrics port 10090", port and port[0]["containerPort"] == 10090)
for probe in ("livenessProbe", "readinessProbe"):
    p = c.get(probe, {}).get("httpGet", {})
    check(f"{probe} on /healthz", p.get("path") == "/healthz" and p.get("port") == "metrics")
check("memory limit set", "memory" in c.get("resources", {}).get("limits", {}))
conf = kinds["ConfigMap"]["data"]["oomwarden.conf"]
check("the agent listens beyond loopback in a pod", "listen = 0.0.0.0:10090" in conf)

# unprivileged.patch.yaml: a strategic merge patch of that container, valid once merged
patch = yaml.safe_load(open(os.path.join(os.path.dirname(path), "unprivileged.patch.yaml")))
pc = patch["spec"]["template"]["spec"]["containers"]
check("unprivileged patch: names the DaemonSet's container", [x["name"] for x in pc] == [c["name"]], str(pc))
psc = pc[0]["securityContext"]
merged = {**sc, **psc}
check("unprivileged patch: not privileged, no privilege escalation",
      merged.get("privileged") is False and merged.get("allowPrivilegeEscalation") is False, str(merged))
caps = merged.get("capabilities", {})
check("unprivileged patch: drop ALL, add only what the agent uses (no SYSLOG: /dev/kmsg is refused anyway)",
      caps.get("drop") == ["ALL"] and set(caps.get("add", [])) <= {"KILL", "SYS_RESOURCE", "DAC_OVERRIDE", "IPC_LOCK", "NET_ADMIN"},
      str(caps))
print(f"1..{n}")
sys.exit(1 if failed else 0)
