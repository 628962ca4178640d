#!/usr/bin/env python3
"""Offline checks of deploy/kubernetes/oomwarden.yaml (no cluster here): the things the design
says the DaemonSet must have. Prints TAP lines."""
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
check("system-node-critical priority", spec.get("priorityClassName") == "system-node-critical")
check("tolerates every taint", {"operator": "Exists"} in spec.get("tolerations", []))
check("not privileged", sc.get("privileged") is False)
check("capabilities: drop ALL", sc.get("capabilities", {}).get("drop") == ["ALL"])
check("capabilities added are only the needed ones",
      set(sc.get("capabilities", {}).get("add", [])) <= {"KILL", "SYS_RESOURCE", "DAC_OVERRIDE", "SYSLOG", "IPC_LOCK"},
      str(sc.get("capabilities")))
check("read-only root filesystem, no privilege escalation",
      sc.get("readOnlyRootFilesystem") is True and sc.get("allowPrivilegeEscalation") is False)
check("service account token not mounted", spec.get("automountServiceAccountToken") is False)
args = c.get("args", [])
check("runs the agent with --root /host and the mounted config",
      args[:1] == ["agent"] and "--root=/host" in args and "--config=/etc/oomwarden/oomwarden.conf" in args, str(args))
mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
vols = {v["name"]: v for v in spec.get("volumes", [])}
for mp, host, ro in [("/host/proc", "/proc", False), ("/host/sys", "/sys", True),
                     ("/host/sys/fs/cgroup", "/sys/fs/cgroup", False), ("/host/dev/kmsg", "/dev/kmsg", True)]:
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
print(f"1..{n}")
sys.exit(1 if failed else 0)
