#!/usr/bin/env python3
"""Assembles bench/results/latest.json from the raw files bench/run.sh wrote, keeps the last
result as previous.json, prints the table, the target checks and the comparison with the previous
run, and draws latest.png with gnuplot.

usage: report.py RAW_DIR RESULTS_DIR
"""
import datetime
import glob
import json
import os
import platform
import shutil
import subprocess
import sys

TARGETS = ["direct", "nginx", "ssh", "jvm", "tunnel"]
# targets that can be skipped or fail to start, with the run.json field saying why
STATUS_OF = {"jvm": "jvm_status", "tunnel": "tunnel_status"}
# one colour per target, so a skipped target does not shift the others' colours in the chart
COLOURS = {"direct": "#9400d3", "nginx": "#009e73", "ssh": "#56b4e9", "jvm": "#e69f00", "tunnel": "#d55e00"}
LOAD_CASES = ["small-c1", "small-c50", "small-c256", "small-c1024", "1mib-c16"]
TRANSFER_CASES = ["download-1gib", "upload-1gib"]


def load(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


def cmd_out(*cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (out.stdout + out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return None


def machine():
    cpu = None
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kib = None
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    commit = cmd_out("git", "-C", os.path.dirname(os.path.abspath(__file__)), "rev-parse", "--short", "HEAD")
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "mem_gib": round(mem_kib / 1024 / 1024, 1) if mem_kib else None,
        "kernel": platform.release(),
        "loadavg_at_end": round(os.getloadavg()[0], 2),
        "java": cmd_out("java", "-version"),
        "nginx": cmd_out("nginx", "-v"),
        "wrk": cmd_out("wrk", "-v"),
        "ssh": cmd_out("ssh", "-V"),
        "redis": cmd_out("redis-server", "--version"),
        "git_commit": commit,
    }


def load_case(raw, name, meta, statuses):
    case = {"name": name, "kind": "load", "connections": meta.get("connections"),
            "duration_s": meta.get("duration_s")}
    for t in TARGETS:
        r = load(os.path.join(raw, f"{name}.{t}.json"))
        if r is None or "rps" not in r:
            for k in ("rps", "p50_ms", "p99_ms", "p999_ms", "errors"):
                case[f"{t}_{k}"] = None
            if t in STATUS_OF:
                status = statuses.get(t, "unknown")
                case[f"{t}_status"] = status if status != "ok" else "failed: no wrk result"
            continue
        case[f"{t}_rps"] = round(r["rps"], 1)
        case[f"{t}_p50_ms"] = r["p50_ms"]
        case[f"{t}_p99_ms"] = r["p99_ms"]
        case[f"{t}_p999_ms"] = r["p999_ms"]
        case[f"{t}_errors"] = r["errors"]
        case[f"{t}_requests"] = r["requests"]
        cpu = cpu_per_request(load(os.path.join(raw, f"{name}.{t}.cpu.json")), r.get("requests"))
        if cpu:
            case[f"{t}_cpu_us_per_request"] = cpu
            case[f"{t}_cpu_us_total"] = round(sum(cpu.values()), 1)
        counters = load(os.path.join(raw, f"{name}.{t}.counters.json")) or {}
        for key in ("syscalls", "context_switches"):
            per = {p: round(c[key] / r["requests"], 2) for p, c in counters.items() if key in c and r.get("requests")}
            if per:
                case[f"{t}_{key}_per_request"] = per
        alloc = alloc_per_request(os.path.join(raw, f"{name}.{t}.alloc.txt"), r.get("requests"))
        if alloc:
            case[f"{t}_alloc_bytes_per_request"] = alloc
    case["tunnel_vs_direct"] = ratio(case.get("tunnel_rps"), case.get("direct_rps"))
    case["tunnel_vs_nginx"] = ratio(case.get("tunnel_rps"), case.get("nginx_rps"))
    case["tunnel_vs_ssh"] = ratio(case.get("tunnel_rps"), case.get("ssh_rps"))
    case["tunnel_vs_jvm"] = ratio(case.get("tunnel_rps"), case.get("jvm_rps"))
    case["nginx_vs_direct"] = ratio(case.get("nginx_rps"), case.get("direct_rps"))
    case["ssh_vs_direct"] = ratio(case.get("ssh_rps"), case.get("direct_rps"))
    case["jvm_vs_nginx"] = ratio(case.get("jvm_rps"), case.get("nginx_rps"))
    if case.get("tunnel_p99_ms") is not None and case.get("direct_p99_ms") is not None:
        case["tunnel_added_p99_ms"] = round(case["tunnel_p99_ms"] - case["direct_p99_ms"], 3)
    return case


def cpu_per_request(cpu, requests):
    """{process: CPU µs per request} from run.sh's tick deltas (utime + stime of the target's processes
    over the measured load), or None when not measured."""
    if not cpu or not requests or not cpu.get("ticks"):
        return None
    tick_us = 1e6 / cpu.get("clk_tck", 100)
    return {p: round(t * tick_us / requests, 1) for p, t in cpu["ticks"].items()}


def alloc_per_request(path, requests):
    """{process: bytes allocated per request} from the async-profiler alloc sums run.sh wrote."""
    try:
        lines = open(path).read().split()
    except OSError:
        return None
    if not requests:
        return None
    return {label: round(int(total) / requests) for label, total in (line.split("=") for line in lines)}


def transfer_case(raw, name, meta, statuses):
    case = {"name": name, "kind": "transfer", "direction": meta.get("direction"), "mib": meta.get("mib")}
    for t in TARGETS:
        r = load(os.path.join(raw, f"{name}.{t}.json"))
        case[f"{t}_mbps"] = r.get("mbps") if r else None
        case[f"{t}_ok"] = r.get("ok") if r else None
        if r and not r.get("ok"):
            case[f"{t}_error"] = f"status {r.get('status')}, {r.get('bytes')} of {r.get('expected_bytes')} bytes"
    for t in STATUS_OF:
        if case[f"{t}_mbps"] is None and statuses.get(t) != "ok":
            case[f"{t}_status"] = statuses.get(t, "unknown")
    for k in ("ingress_rss_kib_before", "ingress_rss_kib_after", "agent_rss_kib_before", "agent_rss_kib_after",
              "ingress_hwm_kib", "agent_hwm_kib"):
        if k in meta:
            case[f"tunnel_{k}"] = meta[k]
    case["tunnel_vs_direct"] = ratio(case.get("tunnel_mbps"), case.get("direct_mbps"))
    case["tunnel_vs_nginx"] = ratio(case.get("tunnel_mbps"), case.get("nginx_mbps"))
    case["tunnel_vs_ssh"] = ratio(case.get("tunnel_mbps"), case.get("ssh_mbps"))
    case["tunnel_vs_jvm"] = ratio(case.get("tunnel_mbps"), case.get("jvm_mbps"))
    case["jvm_vs_nginx"] = ratio(case.get("jvm_mbps"), case.get("nginx_mbps"))
    return case


def tcp_case(raw, meta):
    """tcp-1gib (issue 17): a TCP route vs ssh -L, bulk MB/s and short connections per second."""
    c = {"name": "tcp-1gib", "kind": "tcp", "mib": meta.get("mib"), "rounds": meta.get("rounds"),
         "warmup_s": meta.get("warmup_s")}
    bulks = load(os.path.join(raw, "tcp-1gib.bulk.json"), {}) or {}
    for t in ("tunnel", "ssh"):
        bulk = bulks.get(t) or {}
        c[f"{t}_rounds_mbps"] = bulk.get("rounds_mbps")
        churn = load(os.path.join(raw, f"tcp-1gib.{t}.churn.json"), {}) or {}
        c[f"{t}_mbps"] = bulk.get("mbps")
        c[f"{t}_conns_per_s"] = churn.get("per_s")
        c[f"{t}_conn_errors"] = churn.get("errors")
    c["tunnel_vs_ssh"] = ratio(c["tunnel_mbps"], c["ssh_mbps"])
    c["tunnel_vs_ssh_conns"] = ratio(c["tunnel_conns_per_s"], c["ssh_conns_per_s"])
    return c


def idle_case(raw, meta):
    case = {"name": "idle-agents", "kind": "idle", "status": meta.get("status")}
    sim = load(os.path.join(raw, "idle-agents.sim.json"), {})
    if meta.get("status") != "ok":
        return case
    n = sim.get("registered") or 0
    case.update({
        "agents": meta.get("agents"),
        "registered": sim.get("registered"),
        "rejected": sim.get("rejected"),
        "failed": sim.get("failed"),
        "register_all_s": sim.get("register_all_s"),
        "sim_error": sim.get("error"),
        "heap_mib_before": round(meta["heap_kib_before"] / 1024, 1) if meta.get("heap_kib_before") else None,
        "heap_mib_after": round(meta["heap_kib_after"] / 1024, 1) if meta.get("heap_kib_after") else None,
        "rss_mib_before": round(meta["rss_kib_before"] / 1024, 1) if meta.get("rss_kib_before") else None,
        "rss_mib_after": round(meta["rss_kib_after"] / 1024, 1) if meta.get("rss_kib_after") else None,
        "ingress_jvm_flags": meta.get("jvm_flags"),
        "ingress_cpu_s": meta.get("ingress_cpu_s"),
        "sim_cpu_s": sim.get("sim_cpu_s"),
        "loadavg_during": [meta.get("loadavg_before"), meta.get("loadavg_after")],
    })
    if n and meta.get("ingress_cpu_s") is not None:
        case["ingress_cpu_ms_per_agent"] = round(meta["ingress_cpu_s"] * 1000 / n, 2)
    if n and sim.get("sim_cpu_s") is not None:
        case["sim_cpu_ms_per_agent"] = round(sim["sim_cpu_s"] * 1000 / n, 2)
    if n and meta.get("heap_kib_after") is not None and meta.get("heap_kib_before") is not None:
        case["heap_kib_per_agent"] = round((meta["heap_kib_after"] - meta["heap_kib_before"]) / n, 2)
    if n and meta.get("rss_kib_after") is not None and meta.get("rss_kib_before") is not None:
        case["rss_kib_per_agent"] = round((meta["rss_kib_after"] - meta["rss_kib_before"]) / n, 2)
    return case


def churn_case(raw, meta):
    case = {"name": "churn", "kind": "churn", "status": meta.get("status")}
    if meta.get("status") != "ok":
        return case
    r = load(os.path.join(raw, "churn.tunnel.json"), {})
    sim = load(os.path.join(raw, "churn.sim.json"), {})
    case.update({
        "connections": meta.get("connections"),
        "duration_s": meta.get("duration_s"),
        "tunnel_rps": round(r["rps"], 1) if "rps" in r else None,
        "tunnel_p99_ms": r.get("p99_ms"),
        "tunnel_errors": r.get("errors"),
        "tunnel_non2xx": r.get("err_status"),
        "tunnel_statuses": r.get("statuses"),
        "tunnel_requests": r.get("requests"),
        "agents_joined": sim.get("joined"),
        "agents_left": sim.get("left"),
        "agents_failed": sim.get("failed"),
        "sim_streams_served": sim.get("served"),
        "sim_error": sim.get("error"),
    })
    return case


def cluster_case(raw, meta):
    """Issue 13: small at c50 through replica 1 (its own tunnel: local), through replica 2 (every
    request forwarded to replica 1 over the cluster port) and 25 + 25 at both at once (mix)."""
    case = {"name": "cluster", "kind": "cluster", "status": meta.get("status")}
    if meta.get("status") != "ok":
        return case
    case.update({k: meta.get(k) for k in ("connections", "duration_s", "warmup_s", "case_warmup_s",
                                          "replica2_ready_s", "redis")})
    for part in ("local", "forwarded", "mix-local", "mix-forwarded"):
        key = part.replace("-", "_")
        r = load(os.path.join(raw, f"cluster.{part}.json"), {})
        if "rps" not in r:
            case[f"{key}_status"] = r.get("failed", "no wrk result")
            for k in ("rps", "p50_ms", "p99_ms", "p999_ms", "errors", "requests"):
                case[f"{key}_{k}"] = None
            continue
        case[f"{key}_rps"] = round(r["rps"], 1)
        for k in ("p50_ms", "p99_ms", "p999_ms", "errors", "requests"):
            case[f"{key}_{k}"] = r[k]
    for phase in ("local", "forwarded", "mix"):
        ph = load(os.path.join(raw, f"cluster.{phase}.phase.json"), {})
        served = (ph.get("served_local") or 0) + (ph.get("served_forwarded") or 0)
        case[f"{phase}_forwarded_fraction"] = round(ph["served_forwarded"] / served, 3) \
            if "served_forwarded" in ph and served else None
        # CPU per request of each JVM while the phase was measured (utime + stime, 10 ms ticks)
        reqs = case.get(f"{phase}_requests") if phase != "mix" else \
            ((case.get("mix_local_requests") or 0) + (case.get("mix_forwarded_requests") or 0)) or None
        cpu = ph.get("cpu_s") or {}
        if reqs:
            case[f"{phase}_cpu_us_per_request"] = {k: round(v * 1e6 / reqs, 1) for k, v in cpu.items()}
    case["forwarded_vs_local"] = ratio(case.get("forwarded_rps"), case.get("local_rps"))
    if case.get("forwarded_p99_ms") is not None and case.get("local_p99_ms") is not None:
        case["forwarded_added_p99_ms"] = round(case["forwarded_p99_ms"] - case["local_p99_ms"], 3)
    if case.get("mix_local_rps") is not None and case.get("mix_forwarded_rps") is not None:
        case["mix_rps"] = round(case["mix_local_rps"] + case["mix_forwarded_rps"], 1)
        case["mix_errors"] = case["mix_local_errors"] + case["mix_forwarded_errors"]
        case["mix_vs_local"] = ratio(case["mix_rps"], case.get("local_rps"))
        case["mix_forwarded_vs_local"] = ratio(case["mix_forwarded_rps"], case["mix_local_rps"])
        case["mix_forwarded_added_p99_ms"] = round(case["mix_forwarded_p99_ms"] - case["mix_local_p99_ms"], 3)
    return case


def footprint_case(raw, meta):
    """Issue 15: each agent variant's start and memory, the ingress's, OpenSSH's client as reference."""
    case = {"name": "footprint", "kind": "footprint"}
    case.update(meta)
    mib = lambda kib: round(kib / 1024, 1) if kib else None
    variants = []
    for name in sorted(os.listdir(raw)):
        if not (name.startswith("footprint.agent.") and name.endswith(".json")):
            continue
        v = load(os.path.join(raw, name))
        c50 = v.get("c50") or {}
        variants.append({
            "name": v["name"], "java": v.get("java"), "options": v.get("options"), "ready_ms": v.get("ready_ms"),
            "idle_rss_mib": mib(v.get("idle_rss_kib")), "peak_rss_c50_mib": mib(v.get("peak_rss_c50_kib")),
            "peak_rss_mib": mib(v.get("peak_rss_kib")), "rss_end_mib": mib(v.get("rss_end_kib")),
            "c50_rps": c50.get("rps"), "c50_p99_ms": c50.get("p99_ms"), "c50_errors": c50.get("errors"),
            "download_ok": (v.get("download") or {}).get("ok"),
            "download_mbps": round(v["download"]["bytes"] / v["download"]["seconds"] / 1e6, 1)
            if (v.get("download") or {}).get("seconds") else None,
            "alive": v.get("alive"), "oom": v.get("oom"),
            # a variant run in a memory cgroup: its peak charge (the process and the page cache it caused),
            # how often it reached the limit, and the kernel's OOM kills (a kill counts as an OOM)
            "cgroup": v.get("cgroup") is not None,
            "cgroup_peak_mib": mib(((v.get("cgroup") or {}).get("peak_bytes") or 0) // 1024),
            "cgroup_limit_hits": (v.get("cgroup") or {}).get("limit_hits"),
            "cgroup_oom_kills": (v.get("cgroup") or {}).get("oom_kills"),
        })
        if variants[-1]["cgroup_oom_kills"]:
            variants[-1]["oom"] = True
    by_name = {v["name"]: v for v in variants}
    for v in variants:
        # image-2 compares with default-2 (the same round); everything else with the first default
        suffix = v["name"][len("image"):] if v["name"].startswith("image-") and v["name"][6:].isdigit() else ""
        base = by_name.get("default" + suffix) or by_name.get("default")
        v["rps_vs_default"] = ratio(v["c50_rps"], base and base["c50_rps"])
    rank = lambda n: 0 if n.startswith("default") else 1 if n == "image" or (n.startswith("image-") and n[6:].isdigit()) else 2
    case["variants"] = sorted(variants, key=lambda v: (rank(v["name"]), v["name"]))
    for k in ("ingress_idle_rss_kib", "ingress_peak_rss_kib", "ingress_rss_end_kib"):
        case[k.replace("_kib", "_mib")] = mib(meta.get(k))
    ssh = load(os.path.join(raw, "footprint.ssh.json"), {})
    if ssh.get("status") == "ok":
        case["ssh"] = {"version": ssh.get("version"), "idle_rss_mib": mib(ssh.get("idle_rss_kib")),
                       "peak_rss_c50_mib": mib(ssh.get("peak_rss_c50_kib")), "peak_rss_mib": mib(ssh.get("peak_rss_kib")),
                       "c50_rps": (ssh.get("c50") or {}).get("rps")}
    return case


def print_footprint(c):
    print()
    if c.get("status") != "ok":
        print(f"footprint: {c.get('status')}")
        return
    print(f"footprint (issue 15): agent variants against one ingress, each round's default and image side by side "
          f"(c50 {c.get('duration_s')} s each, in {c.get('slices')} alternating slices, after {c.get('warmup_s')} s "
          f"warm-up), then a {c.get('mib')} MiB download each; the rounds launched with {c.get('launch', '-jar')}; "
          f"the image's agent limited by: {c.get('agent_limit')}")
    hdr = (f"  {'variant':<18} {'ready ms':>8} {'idle MiB':>9} {'peak c50':>9} {'peak all':>9} {'req/s':>9} "
           f"{'x default':>9} {'errors':>6} {'dl MB/s':>8} {'ok':>4}")
    print(hdr)
    for v in c["variants"]:
        ok = v["alive"] and not v["oom"] and v["download_ok"] and v["c50_errors"] == 0
        print(f"  {v['name']:<18} {fmt(v['ready_ms']):>8} {fmt(v['idle_rss_mib']):>9} {fmt(v['peak_rss_c50_mib']):>9} "
              f"{fmt(v['peak_rss_mib']):>9} {fmt(v['c50_rps']):>9} {fmt(v['rps_vs_default'], 3):>9} "
              f"{fmt(v['c50_errors']):>6} {fmt(v['download_mbps']):>8} {'yes' if ok else 'NO':>4}")
    for v in c["variants"]:
        print(f"    {v['name']}: {v['java']} {v['options'] or '(no options)'}")
        if v.get("cgroup"):
            print(f"      memory cgroup: peak charge {fmt(v['cgroup_peak_mib'])} MiB (the process and the page cache "
                  f"it caused), limit reached {fmt(v['cgroup_limit_hits'])} times, OOM kills {fmt(v['cgroup_oom_kills'])}")
    print(f"  ingress ({c.get('ingress_options')}): ready {fmt(c.get('ingress_ready_ms'))} ms, idle "
          f"{fmt(c.get('ingress_idle_rss_mib'))} MiB, peak {fmt(c.get('ingress_peak_rss_mib'))} MiB")
    ssh = c.get("ssh")
    if ssh:
        print(f"  OpenSSH client ({ssh['version']}): idle {fmt(ssh['idle_rss_mib'])} MiB, peak c50 "
              f"{fmt(ssh['peak_rss_c50_mib'])} MiB, peak with download {fmt(ssh['peak_rss_mib'])} MiB, "
              f"c50 {fmt(ssh['c50_rps'])} req/s")


def codec(raw):
    data = load(os.path.join(raw, "jmh.json"))
    if not data:
        status = load(os.path.join(raw, "codec.json"), {}).get("status")
        return {"status": status or "not run"}
    out = {}
    for b in data:
        name = b["benchmark"].rsplit(".", 1)[1]
        entry = out.setdefault(name, {})
        entry["ns_per_op"] = round(b["primaryMetric"]["score"], 1)
        entry["ns_error"] = round(b["primaryMetric"]["scoreError"], 1) if b["primaryMetric"].get("scoreError") == b["primaryMetric"].get("scoreError") else None
        alloc = b.get("secondaryMetrics", {}).get("gc.alloc.rate.norm")
        if alloc:
            entry["bytes_per_op"] = round(alloc["score"], 1)
    return out


def checks(cases, codec_result):
    """The targets of issues 7 and 13, evaluated on this run (null where not measured)."""
    by = {c["name"]: c for c in cases}
    out = []

    def add(name, value, target, ok):
        out.append({"check": name, "value": value, "target": target, "pass": ok if value is not None else None})

    c50 = by.get("small-c50", {})
    v = c50.get("tunnel_vs_nginx")
    add("small-c50 tunnel/nginx rps", v, ">= 0.5", v is not None and v >= 0.5)
    v = c50.get("tunnel_vs_ssh")
    add("small-c50 tunnel/ssh rps", v, ">= 1.5", v is not None and v >= 1.5)
    v = by.get("small-c1", {}).get("tunnel_added_p99_ms")
    add("small-c1 tunnel p99 - direct p99 (ms)", v, "< 2", v is not None and v < 2)
    for name in TRANSFER_CASES:
        v = by.get(name, {}).get("tunnel_mbps")
        add(f"{name} tunnel MB/s", v, ">= 500", v is not None and v >= 500)
    v = by.get("tcp-1gib", {}).get("tunnel_vs_ssh")
    add("tcp-1gib tunnel/ssh -L MB/s (issue 17)", v, ">= 1.2", v is not None and v >= 1.2)
    idle = by.get("idle-agents", {})
    v = idle.get("heap_kib_per_agent")
    add("idle-agents heap KiB/agent", v, "< 40", v is not None and v < 40)
    v = idle.get("register_all_s")
    ok_all = idle.get("registered") == idle.get("agents")
    add("idle-agents time to register all (s)", v, "< 60 (all registered)", v is not None and v < 60 and ok_all)
    churn = by.get("churn", {})
    v = churn.get("tunnel_errors")
    add("churn errors (incl. non-2xx)", v, "== 0", v == 0)
    d = codec_result.get("encodeData16k", {}).get("bytes_per_op") if isinstance(codec_result, dict) else None
    add("codec encodeData16k heap B/op (no body copy)", d, "< 16384", d is not None and d < 16384)
    # every round of the image's options (image, image-2, ...) counts: the worst one is reported
    rounds = [v for v in by.get("footprint", {}).get("variants", [])
              if v["name"] == "image" or (v["name"].startswith("image-") and v["name"][6:].isdigit())]

    def worst(key, pick):
        vals = [r.get(key) for r in rounds]
        return None if not vals or None in vals else pick(vals)
    v = worst("ready_ms", max)
    add("footprint agent start to ready, slowest round (ms) (issue 15)", v, "<= 4000", v is not None and v <= 4000)
    v = worst("peak_rss_mib", max)
    clean = bool(rounds) and all(r.get("alive") and not r.get("oom") and r.get("download_ok")
                                 and r.get("c50_errors") == 0 for r in rounds)
    add("footprint agent peak RSS, c50 + download, no error/OOM (MiB) (issue 15)", v, "<= 128",
        v is not None and v <= 128 and clean)
    v = worst("rps_vs_default", min)
    add("footprint agent c50 req/s, image options / default, worst round (issue 15)", v, ">= 0.8",
        v is not None and v >= 0.8)
    # issue 18: ahead of OpenSSH's reverse tunnel at every concurrency
    for name in ("small-c50", "small-c256", "1mib-c16"):
        v = by.get(name, {}).get("tunnel_vs_ssh")
        add(f"{name} tunnel/ssh rps (issue 18)", v, ">= 1.0", v is not None and v >= 1.0)
    c256 = by.get("small-c256", {})
    v = ratio(c256.get("tunnel_rps"), c50.get("tunnel_rps"))
    add("tunnel rps small-c256/small-c50, must not fall (issue 18)", v, ">= 1.0", v is not None and v >= 1.0)
    for name in TRANSFER_CASES:
        v = by.get(name, {}).get("tunnel_vs_ssh")
        add(f"{name} tunnel/ssh MB/s (issue 18)", v, ">= 1.0", v is not None and v >= 1.0)
    cl = by.get("cluster", {})
    v = cl.get("forwarded_vs_local")
    add("cluster c50 forwarded/local rps (issue 13)", v, ">= 0.7", v is not None and v >= 0.7)
    v = cl.get("forwarded_added_p99_ms")
    add("cluster c50 forwarded p99 - local p99 (ms) (issue 13)", v, "< 2", v is not None and v < 2)
    return out


def fmt(v, digits=1):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def print_cluster(c):
    if c.get("status") != "ok":
        print(f"cluster: {c.get('status')}")
        return
    print()
    print(f"cluster (issue 13): small at c{c.get('connections')}, two replicas + Redis, the agent on replica 1")
    hdr = f"  {'phase':<24} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} {'errors':>7} {'fwd frac':>9}"
    print(hdr)
    rows = [("local (replica 1)", "local", "local"), ("forwarded (replica 2)", "forwarded", "forwarded"),
            ("mix: 25 at replica 1", "mix_local", "mix"), ("mix: 25 at replica 2", "mix_forwarded", "mix")]
    for label, key, phase in rows:
        frac = c.get(f"{phase}_forwarded_fraction") if key != "mix_forwarded" else None
        if c.get(f"{key}_rps") is None:
            print(f"  {label:<24} {'-':>10}  ({c.get(f'{key}_status', 'not measured')})")
            continue
        print(f"  {label:<24} {fmt(c[key + '_rps']):>10} {fmt(c[key + '_p50_ms'], 2):>8} {fmt(c[key + '_p99_ms'], 2):>8} "
              f"{fmt(c[key + '_p999_ms'], 2):>9} {fmt(c[key + '_errors']):>7} {fmt(frac, 3) if key != 'mix_forwarded' else '':>9}")
    print(f"  forwarded/local {fmt(c.get('forwarded_vs_local'), 3)}, added p99 {fmt(c.get('forwarded_added_p99_ms'), 2)} ms; "
          f"mix {fmt(c.get('mix_rps'))} req/s ({fmt(c.get('mix_vs_local'), 3)} of local), within the mix "
          f"forwarded/local {fmt(c.get('mix_forwarded_vs_local'), 3)}, added p99 {fmt(c.get('mix_forwarded_added_p99_ms'), 2)} ms")
    for phase in ("local", "forwarded", "mix"):
        cpu = c.get(f"{phase}_cpu_us_per_request")
        if cpu:
            print(f"  CPU per request, {phase}: " + ", ".join(f"{k} {fmt(v)} us" for k, v in cpu.items())
                  + f" (JVMs {fmt(round(sum(cpu.values()), 1))} us)")


def print_table(result):
    cases = result["cases"]
    print()
    print(f"edge-tunnel benchmark ({result['run'].get('mode')}, {result['timestamp']}), tunnel: "
          f"{result['run'].get('tunnel_status')}, jvm: {result['run'].get('jvm_status', '-')}")
    run = result["run"]
    print(f"load average {run.get('loadavg_at_start', '-')} at start, {result['machine'].get('loadavg_at_end')} "
          f"at end, on {result['machine'].get('cores')} cores")
    print()
    hdr = f"{'case':<12} {'target':<7} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} {'errors':>7}"
    print(hdr)
    print("-" * len(hdr))
    for c in cases:
        if c["kind"] != "load":
            continue
        for t in TARGETS:
            if c.get(f"{t}_rps") is None:
                extra = c.get(f"{t}_status", "not measured")
                print(f"{c['name']:<12} {t:<7} {'-':>10}  ({extra})")
                continue
            print(f"{c['name']:<12} {t:<7} {fmt(c[t + '_rps']):>10} {fmt(c[t + '_p50_ms'], 2):>8} "
                  f"{fmt(c[t + '_p99_ms'], 2):>8} {fmt(c[t + '_p999_ms'], 2):>9} {fmt(c[t + '_errors']):>7}")
        print(f"{'':<12} ratios  tunnel/direct {fmt(c.get('tunnel_vs_direct'), 3)}  tunnel/nginx "
              f"{fmt(c.get('tunnel_vs_nginx'), 3)}  tunnel/ssh {fmt(c.get('tunnel_vs_ssh'), 3)}  "
              f"tunnel/jvm {fmt(c.get('tunnel_vs_jvm'), 3)}")
        print(f"{'':<12}         nginx/direct {fmt(c.get('nginx_vs_direct'), 3)}  ssh/direct "
              f"{fmt(c.get('ssh_vs_direct'), 3)}  jvm/nginx {fmt(c.get('jvm_vs_nginx'), 3)}")
        cpu = [f"{t} " + "+".join(f"{p} {fmt(v)}" for p, v in c[t + "_cpu_us_per_request"].items())
               for t in TARGETS if c.get(f"{t}_cpu_us_per_request")]
        if cpu:
            print(f"{'':<12}         CPU us/request: " + "  ".join(cpu))
        for key, label, digits in (("syscalls", "syscalls/request", 1), ("context_switches", "context switches/request", 2),
                                   ("alloc_bytes", "bytes allocated/request", 0)):
            per = [f"{t} " + "+".join(f"{p} {fmt(v, digits)}" for p, v in c[f"{t}_{key}_per_request"].items())
                   for t in TARGETS if c.get(f"{t}_{key}_per_request")]
            if per:
                print(f"{'':<12}         {label}: " + "  ".join(per))
    print()
    for c in cases:
        if c["kind"] != "transfer":
            continue
        parts = []
        for t in TARGETS:
            v = c.get(f"{t}_mbps")
            parts.append(f"{t} {fmt(v)}" if v is not None else f"{t} -")
        print(f"{c['name']:<14} MB/s ({c['mib']} MiB): " + "  ".join(parts)
              + f"   tunnel/direct {fmt(c.get('tunnel_vs_direct'), 3)}  tunnel/jvm {fmt(c.get('tunnel_vs_jvm'), 3)}"
              + f"  jvm/nginx {fmt(c.get('jvm_vs_nginx'), 3)}")
    for c in cases:
        if c["kind"] == "idle":
            if c.get("status") != "ok":
                print(f"idle-agents: {c.get('status')}")
            else:
                print(f"idle-agents: {c.get('registered')}/{c.get('agents')} registered in {fmt(c.get('register_all_s'), 2)} s; "
                      f"heap {fmt(c.get('heap_mib_before'))} -> {fmt(c.get('heap_mib_after'))} MiB "
                      f"({fmt(c.get('heap_kib_per_agent'), 2)} KiB/agent); RSS {fmt(c.get('rss_mib_before'))} -> "
                      f"{fmt(c.get('rss_mib_after'))} MiB ({fmt(c.get('rss_kib_per_agent'), 2)} KiB/agent); "
                      f"CPU per registration: ingress {fmt(c.get('ingress_cpu_ms_per_agent'), 2)} ms, "
                      f"simulator {fmt(c.get('sim_cpu_ms_per_agent'), 2)} ms (load average "
                      f"{fmt((c.get('loadavg_during') or [None])[0], 2)} -> {fmt((c.get('loadavg_during') or [None, None])[1], 2)})")
        if c["kind"] == "cluster":
            print_cluster(c)
        if c["kind"] == "footprint":
            print_footprint(c)
        if c["kind"] == "tcp":
            rounds = "; ".join(f"{t} " + ", ".join(fmt(v) for v in (c.get(f"{t}_rounds_mbps") or []))
                               for t in ("tunnel", "ssh"))
            print(f"tcp-1gib: tunnel {fmt(c.get('tunnel_mbps'))} MB/s vs ssh -L {fmt(c.get('ssh_mbps'))} MB/s "
                  f"({fmt(c.get('tunnel_vs_ssh'), 2)}x; medians of {fmt(c.get('rounds'))} rounds after "
                  f"{fmt(c.get('warmup_s'))} s of warm-up each: {rounds}); short connections: tunnel "
                  f"{fmt(c.get('tunnel_conns_per_s'))}/s ({fmt(c.get('tunnel_conn_errors'))} errors) vs ssh -L "
                  f"{fmt(c.get('ssh_conns_per_s'))}/s ({fmt(c.get('ssh_conn_errors'))} errors)")
        if c["kind"] == "churn":
            if c.get("status") != "ok":
                print(f"churn: {c.get('status')}")
            else:
                print(f"churn: {fmt(c.get('tunnel_rps'))} req/s, {fmt(c.get('tunnel_errors'))} errors "
                      f"({fmt(c.get('tunnel_non2xx'))} non-2xx {c.get('tunnel_statuses') or ''}) of {fmt(c.get('tunnel_requests'))} requests while "
                      f"{fmt(c.get('agents_joined'))} agents joined and {fmt(c.get('agents_left'))} left")
    cod = result.get("codec", {})
    if cod and "status" not in cod:
        print()
        print(f"{'codec benchmark':<26} {'ns/op':>10} {'B/op':>8}")
        for name, e in cod.items():
            print(f"{name:<26} {fmt(e.get('ns_per_op')):>10} {fmt(e.get('bytes_per_op')):>8}")
    elif cod:
        print(f"codec: {cod.get('status')}")
    print()
    print("targets (issues 7, 13, 15 and 18):")
    for ch in result["checks"]:
        mark = {True: "PASS", False: "MISS", None: "n/a "}[ch["pass"]]
        print(f"  [{mark}] {ch['check']}: {fmt(ch['value'], 3)} (target {ch['target']})")


COMPARE_KEYS = ("_rps", "_p99_ms", "_mbps", "heap_kib_per_agent", "register_all_s", "tunnel_errors")


def print_comparison(prev, cur):
    print()
    if not prev:
        print("no previous run to compare with")
        return
    print(f"compared with the previous run ({prev.get('timestamp')}, {prev.get('run', {}).get('mode')}):")
    pcases = {c["name"]: c for c in prev.get("cases", [])}
    for c in cur["cases"]:
        p = pcases.get(c["name"])
        if not p:
            continue
        diffs = []
        for k, v in c.items():
            if not any(k.endswith(s) for s in COMPARE_KEYS):
                continue
            pv = p.get(k)
            if isinstance(v, (int, float)) and isinstance(pv, (int, float)) and not isinstance(v, bool):
                pct = f"{(v - pv) / pv * 100:+.1f}%" if pv else "n/a"
                diffs.append(f"{k} {fmt(pv)} -> {fmt(v)} ({pct})")
        if diffs:
            print(f"  {c['name']}: " + "; ".join(diffs))
    pc = prev.get("codec", {})
    for name, e in cur.get("codec", {}).items():
        if isinstance(e, dict) and isinstance(pc.get(name), dict) and pc[name].get("ns_per_op"):
            print(f"  codec {name}: {fmt(pc[name]['ns_per_op'])} -> {fmt(e.get('ns_per_op'))} ns/op, "
                  f"{fmt(pc[name].get('bytes_per_op'))} -> {fmt(e.get('bytes_per_op'))} B/op")


def chart(result, results_dir):
    if not shutil.which("gnuplot"):
        print("gnuplot not found; no chart")
        return
    tmp = os.path.join(results_dir, ".chart")
    os.makedirs(tmp, exist_ok=True)
    load_cases = [c for c in result["cases"] if c["kind"] == "load"]
    transfers = [c for c in result["cases"] if c["kind"] == "transfer"]

    def col(v):
        return "NaN" if v is None else str(v)

    # the cluster case's local and forwarded rows go in the tunnel's column (they are the tunnel,
    # through replica 1 or through replica 2)
    for c in result["cases"]:
        if c["kind"] == "cluster" and c.get("status") == "ok":
            for label, key in (("cluster-local", "local"), ("cluster-fwd", "forwarded")):
                load_cases.append({"name": label, "tunnel_rps": c.get(f"{key}_rps"),
                                   "tunnel_p99_ms": c.get(f"{key}_p99_ms")})

    with open(os.path.join(tmp, "rps.dat"), "w") as f:
        f.write("case " + " ".join(TARGETS) + "\n")
        for c in load_cases:
            f.write(c["name"] + " " + " ".join(col(c.get(f"{t}_rps")) for t in TARGETS) + "\n")
    with open(os.path.join(tmp, "p99.dat"), "w") as f:
        f.write("case " + " ".join(TARGETS) + "\n")
        for c in load_cases:
            f.write(c["name"] + " " + " ".join(col(c.get(f"{t}_p99_ms")) for t in TARGETS) + "\n")
    with open(os.path.join(tmp, "mbps.dat"), "w") as f:
        f.write("case " + " ".join(TARGETS) + "\n")
        for c in transfers:
            f.write(c["name"] + " " + " ".join(col(c.get(f"{t}_mbps")) for t in TARGETS) + "\n")
    png = os.path.join(results_dir, "latest.png")
    panels = []
    if load_cases:
        panels.append(("rps.dat", "requests/s (higher is better)", "set logscale y"))
        panels.append(("p99.dat", "p99 latency, ms (lower is better)", "set logscale y"))
    if transfers:
        panels.append(("mbps.dat", "transfer MB/s (higher is better)", "unset logscale y"))
    if not panels:
        return
    script = [
        f"set terminal pngcairo size {520 * len(panels)},480 font 'sans,10'",
        f"set output '{png}'",
        "set style data histograms",
        "set style histogram clustered gap 1",
        "set style fill solid 0.85 border -1",
        "set boxwidth 0.9",
        "set key below horizontal",
        "set grid ytics",
        "set xtics rotate by -30",
        f"set multiplot layout 1,{len(panels)} title 'edge-tunnel bench ({result['run'].get('mode')}, {result['timestamp']})'",
    ]
    for dat, title, extra in panels:
        path = os.path.join(tmp, dat)
        rows = [line.split() for line in open(path).read().splitlines()[1:]]
        # gnuplot refuses a histogram column without a single number (a target not measured)
        cols = [i + 2 for i in range(len(TARGETS)) if any(r[i + 1] != "NaN" for r in rows)]
        if not cols:
            continue
        plots = ", ".join(f"'{path}' using {i}:xtic(1) title columnheader({i}) lc rgb '{COLOURS[TARGETS[i - 2]]}'"
                          for i in cols)
        script += [extra, f"set title '{title}'", "plot " + plots]
    script.append("unset multiplot")
    r = subprocess.run(["gnuplot"], input="\n".join(script), text=True, capture_output=True)
    if r.returncode != 0:
        # pngcairo missing in some builds: fall back to the plain png terminal
        script[0] = f"set terminal png size {520 * len(panels)},480"
        r = subprocess.run(["gnuplot"], input="\n".join(script), text=True, capture_output=True)
    shutil.rmtree(tmp, ignore_errors=True)
    if r.returncode == 0:
        print(f"chart: {png}")
    else:
        print("gnuplot failed: " + r.stderr.strip()[:300])


def main():
    raw, results_dir = sys.argv[1], sys.argv[2]
    run = load(os.path.join(raw, "run.json"), {})
    statuses = {t: run.get(key, "unknown") for t, key in STATUS_OF.items()}
    cases = []
    order = LOAD_CASES + ["cluster"] + TRANSFER_CASES + ["tcp-1gib", "churn", "footprint", "idle-agents"]
    for name in order:
        meta = load(os.path.join(raw, f"{name}.meta.json"))
        if meta is None:
            continue
        kind = meta.get("kind")
        if kind == "load":
            cases.append(load_case(raw, name, meta, statuses))
        elif kind == "transfer":
            cases.append(transfer_case(raw, name, meta, statuses))
        elif kind == "idle":
            cases.append(idle_case(raw, meta))
        elif kind == "churn":
            cases.append(churn_case(raw, meta))
        elif kind == "cluster":
            cases.append(cluster_case(raw, meta))
        elif kind == "footprint":
            cases.append(footprint_case(raw, meta))
        elif kind == "tcp":
            cases.append(tcp_case(raw, meta))
    codec_result = codec(raw) if "codec" in run.get("cases", []) else {"status": "not run"}
    result = {
        "cases": cases,
        "codec": codec_result,
        "checks": checks(cases, codec_result),
        "run": run,
        "machine": machine(),
        "timestamp": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    os.makedirs(results_dir, exist_ok=True)
    latest = os.path.join(results_dir, "latest.json")
    previous = os.path.join(results_dir, "previous.json")
    prev = load(latest)
    if prev is not None:
        shutil.copyfile(latest, previous)
    with open(latest + ".tmp", "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    os.replace(latest + ".tmp", latest)
    print_table(result)
    print_comparison(prev, result)
    chart(result, results_dir)
    print(f"results: {latest}" + (f" (previous run kept as {previous})" if prev is not None else ""))


if __name__ == "__main__":
    main()
