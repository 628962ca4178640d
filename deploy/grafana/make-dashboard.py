#!/usr/bin/env python3
"""Writes oomwarden-dashboard.json (Grafana, schema 38). Edit here, re-run, commit both."""
import json
import os

ds = {"type": "prometheus", "uid": "${datasource}"}


def ts(id, title, x, y, w, h, targets, unit="bytes", stack=False, overrides=None, desc=""):
    return {
        "id": id, "type": "timeseries", "title": title, "description": desc, "datasource": ds,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": {"defaults": {"unit": unit, "custom": {"stacking": {"mode": "normal" if stack else "none"},
                                                              "fillOpacity": 35 if stack else 0, "lineWidth": 1}},
                        "overrides": overrides or []},
        "options": {"legend": {"displayMode": "table", "placement": "bottom", "calcs": ["lastNotNull", "max"]},
                    "tooltip": {"mode": "multi"}},
        "targets": [{"datasource": ds, "refId": chr(65 + i), "expr": e, "legendFormat": l}
                    for i, (e, l) in enumerate(targets)],
    }


def unstacked(pattern, color):
    """Limits are lines over the stack, not part of it (matched by legend: one per cgroup and node)."""
    return {"matcher": {"id": "byRegexp", "options": pattern},
            "properties": [{"id": "custom.stacking", "value": {"mode": "none"}},
                           {"id": "custom.fillOpacity", "value": 0},
                           {"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}},
                           {"id": "color", "value": {"mode": "fixed", "fixedColor": color}}]}


sel = 'instance=~"$instance"'
csel = 'instance=~"$instance", cgroup=~"$cgroup"'
panels = [
    {"id": 1, "type": "row", "title": "Node", "collapsed": False, "gridPos": {"x": 0, "y": 0, "w": 24, "h": 1}, "panels": []},
    ts(2, "Memory available", 0, 1, 8, 8, [
        (f'oomwarden_node_memory_available_bytes{{{sel}}}', "available {{instance}}"),
        (f'oomwarden_node_memory_total_bytes{{{sel}}}', "total {{instance}}")]),
    ts(3, "Memory pressure (PSI): share of time stalled", 8, 1, 8, 8, [
        (f'rate(oomwarden_node_pressure_memory_some_seconds_total{{{sel}}}[$__rate_interval])', "some {{instance}}"),
        (f'rate(oomwarden_node_pressure_memory_full_seconds_total{{{sel}}}[$__rate_interval])', "full {{instance}}")],
        unit="percentunit", desc="some: at least one task waited for memory; full: all non-idle tasks did. Alert: full > 10% for 5m."),
    ts(4, "OOM kills", 16, 1, 8, 8, [
        (f'increase(oomwarden_node_oom_kills_total{{{sel}}}[$__rate_interval])', "kernel count {{instance}}"),
        (f'sum by (instance, scope) (increase(oomwarden_oom_kills_seen_total{{{sel}}}[$__rate_interval]))', "{{scope}} {{instance}}")],
        unit="short"),
    {"id": 5, "type": "table", "title": "Next global OOM victim", "datasource": ds,
     "gridPos": {"x": 0, "y": 9, "w": 24, "h": 5},
     "targets": [{"datasource": ds, "refId": "A", "expr": f'oomwarden_next_victim_info{{{sel}}}', "format": "table", "instant": True}],
     "transformations": [{"id": "organize", "options": {"excludeByName": {"Time": True, "Value": True, "__name__": True}}}]},
    {"id": 6, "type": "row", "title": "Cgroup $cgroup", "collapsed": False, "repeat": "cgroup",
     "gridPos": {"x": 0, "y": 14, "w": 24, "h": 1}, "panels": []},
    ts(7, "What fills $cgroup (charged memory against its limit)", 0, 15, 12, 9, [
        (f'oomwarden_cgroup_memory_anon_bytes{{{csel}}}', "anon {{cgroup}} {{instance}}"),
        (f'oomwarden_cgroup_memory_file_bytes{{{csel}}}', "file (page cache) {{cgroup}} {{instance}}"),
        (f'oomwarden_cgroup_memory_slab_bytes{{{csel}}}', "slab {{cgroup}} {{instance}}"),
        (f'oomwarden_cgroup_memory_kernel_stack_bytes{{{csel}}}', "kernel stack {{cgroup}} {{instance}}"),
        (f'oomwarden_cgroup_memory_pagetables_bytes{{{csel}}}', "page tables {{cgroup}} {{instance}}"),
        (f'oomwarden_cgroup_memory_sock_bytes{{{csel}}}', "sock {{cgroup}} {{instance}}"),
        # cgroup v1 has no slab/stack/page-table lines: its kernel memory is one number (kmem)
        (f'oomwarden_cgroup_memory_kernel_bytes{{{csel}}} unless on (instance, cgroup) oomwarden_cgroup_memory_slab_bytes{{{csel}}}',
         "kernel, v1 kmem {{cgroup}} {{instance}}"),
        (f'oomwarden_cgroup_memory_max_bytes{{{csel}}}', "memory.max {{cgroup}} {{instance}}"),
        (f'oomwarden_cgroup_memory_high_bytes{{{csel}}}', "memory.high {{cgroup}} {{instance}}")],
        stack=True, overrides=[unstacked("/^memory\\.max /", "red"), unstacked("/^memory\\.high /", "orange")],
        desc="Stacked: anon, page cache, slab, kernel stack, page tables, socket buffers (cgroup v1: kernel memory as one number, kmem) - everything the cgroup is charged for, not just RSS. Dashed: the limits."),
    ts(8, "Memory pressure of $cgroup", 12, 15, 6, 9, [
        (f'rate(oomwarden_cgroup_pressure_memory_some_seconds_total{{{csel}}}[$__rate_interval])', "some {{cgroup}} {{instance}}"),
        (f'rate(oomwarden_cgroup_pressure_memory_full_seconds_total{{{csel}}}[$__rate_interval])', "full {{cgroup}} {{instance}}")],
        unit="percentunit", desc="Alert: full > 10% for 5m (docs/thresholds.md)."),
    ts(9, "Limit events of $cgroup", 18, 15, 6, 9, [
        (f'increase(oomwarden_cgroup_memory_events_total{{{csel}}}[$__rate_interval])', "{{event}} {{cgroup}} {{instance}}")],
        unit="short"),
    ts(10, "Usage and working set of $cgroup", 0, 24, 24, 8, [
        (f'oomwarden_cgroup_memory_current_bytes{{{csel}}}', "usage {{cgroup}} {{instance}}"),
        (f'oomwarden_cgroup_memory_working_set_bytes{{{csel}}}', "working set {{cgroup}} {{instance}}"),
        (f'oomwarden_cgroup_memory_max_bytes{{{csel}}}', "memory.max {{cgroup}} {{instance}}")],
        overrides=[unstacked("/^memory\\.max /", "red")],
        desc="Usage is what the limit is compared with. The working set (usage - inactive page cache) is kubelet's eviction number; "
             "it counts active page cache, which reclaim can still take: `oomwarden cgroup PATH` says how far the cgroup can grow before an OOM kill."),
]
dash = {
    "uid": "oomwarden", "title": "oomwarden: memory, pressure and OOM kills",
    "tags": ["oomwarden", "memory", "oom"], "timezone": "browser", "schemaVersion": 38, "version": 1,
    "refresh": "30s", "time": {"from": "now-6h", "to": "now"},
    "templating": {"list": [
        {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Data source"},
        {"name": "instance", "type": "query", "datasource": ds, "label": "Node",
         "query": {"query": "label_values(oomwarden_up, instance)", "refId": "instance"},
         "refresh": 2, "includeAll": True, "multi": True},
        {"name": "cgroup", "type": "query", "datasource": ds, "label": "Cgroup",
         "query": {"query": 'label_values(oomwarden_cgroup_memory_current_bytes{instance=~"$instance"}, cgroup)', "refId": "cgroup"},
         "refresh": 2, "includeAll": False, "multi": True},
    ]},
    "annotations": {"list": [
        # the kill time is the series' value (a new series starts at 1: changes() misses it)
        {"name": "OOM kills", "enable": True, "iconColor": "red", "datasource": ds,
         "expr": f'oomwarden_oom_kill_last_timestamp_seconds{{{sel}}} * 1000',
         "useValueForTime": True,
         "titleFormat": "OOM kill: {{comm}}", "textFormat": "{{scope}} in {{cgroup}} on {{instance}}",
         "tagKeys": "scope,namespace,pod,container,cgroup", "step": "1m"}]},
    "panels": panels,
}
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "oomwarden-dashboard.json")
with open(out, "w") as f:
    json.dump(dash, f, indent=2)
    f.write("\n")
