#!/usr/bin/python3
"""Turns the JSON files bench/run wrote into bench/RESULTS.md (printed to stdout)."""
import json
import os
import platform
import subprocess
import statistics
import sys


def load(folder, name):
    path = os.path.join(folder, name + ".json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def version(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, shell=True).stdout.strip().splitlines()[0]
    except Exception:
        return "?"


def package_version(name):
    try:
        import importlib.metadata
        return importlib.metadata.version(name)
    except Exception:
        return "?"


def fmt(value, digits=0):
    return "—" if value is None else f"{value:,.{digits}f}"


def main(folder):
    ceiling = load(folder, "ceiling")
    ceiling_rps = ceiling["median_requests_per_s"] if ceiling else None
    model = version("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2")
    print("# Benchmark results\n")
    print(f"Machine: {os.cpu_count()} cores ({model.strip()}), {platform.system()} {platform.release()}; "
          "daemon, Redis, simulator and load generator share it.  ")
    print(f"Versions: {version('build/pushgw --version')}; {version('redis-server --version')}; "
          f"{version('h2load --version')}; node {version('node --version')}; "
          f"aioapns {package_version('aioapns')}; @parse/node-apn and apns2 from bench/peers/node/package-lock.json.  ")
    print("Command: `bench/run` (each row: the median of its runs, in bench/results/*.json). Latency is from "
          "enqueue (for the peers: when the client was handed the notification) to the simulator's answer.\n")
    print("| tool / scenario | runs × notifications | notifications/s | ratio to ceiling | p50 ms | p99 ms | peak RSS MB | lost | dup |")
    print("|---|---|---|---|---|---|---|---|---|")
    if ceiling:
        print(f"| h2load → pushgw-sim (the ceiling: the daemon's headers and payload, a provider token "
              f"checked, a new device token per request, one connection of 1000 streams) | {len(ceiling['runs'])} × "
              f"{ceiling.get('notifications', '?')} | {fmt(ceiling_rps)} | 1.00 | | | | | |")
    for name, label in (("ceiling-noauth", "h2load → pushgw-sim without the authorization header (reference)"),
                        ("ceiling-one", "h2load → pushgw-sim, one device token repeated (reference)")):
        ref = load(folder, name)
        if ref and ceiling_rps:
            rate = ref["median_requests_per_s"]
            print(f"| {label} | {len(ref['runs'])} × {ref.get('notifications', '?')} | {fmt(rate)} | "
                  f"{rate / ceiling_rps:.2f} | | | | | |")
    rows = [("pushgw (a) 200k pre-queued, jobs of 500", "a"), ("pushgw (b) 200k single-token jobs", "b"),
            ("pushgw (c) steady 50% of (a), one job per 5 ms tick", "c"),
            ("pushgw (c) steady 50% of (a), 1-token jobs", "c1"), ("aioapns", "peer-aioapns"), ("@parse/node-apn", "peer-node-apn"),
            ("apns2", "peer-apns2")]
    for label, name in rows:
        data = load(folder, name)
        if not data:
            print(f"| {label} | not run | | | | | | | |")
            continue
        runs = data["runs"]
        rate = data.get("median_delivered_per_s", runs[0].get("delivered_per_s"))
        ratio = f"{rate / ceiling_rps:.2f}" if ceiling_rps and rate else ""
        count = data.get("notifications", "?") if name not in ("c", "c1") else "30 s stream"
        print(f"| {label} | {len(runs)} × {count} | {fmt(rate)} | {ratio} | {fmt(data.get('median_p50_ms'))} | {fmt(data.get('median_p99_ms'))} "
              f"| {fmt(data.get('median_peak_rss_mb'), 1)} | {max(r.get('lost', 0) for r in runs)} "
              f"| {max(r.get('duplicates', 0) for r in runs)} |")
    intake = load(folder, "d")
    if intake:
        print(f"\n(d) REST intake, wrk on POST /push with 1-token notifications: "
              f"{fmt(intake.get('median_requests_per_s'))} requests/s, p99 {fmt(intake.get('median_p99_ms'), 2)} ms.")
    idle = load(folder, "idle")
    if idle:
        r = idle["runs"][0]
        print(f"\nDaemon RSS idle: {r['idle_rss_mb']:.1f} MB; with {r['backlog']:,} notifications waiting in Redis "
              f"(provider unreachable), sampled each second: {r['rss_with_backlog_mb']} MB.")
    print_targets(folder, ceiling_rps)
    print_redis_cpu(load(folder, "redis-cpu"))
    analysis = os.path.join(os.path.dirname(os.path.abspath(__file__)), "analysis.md")
    if os.path.exists(analysis):
        with open(analysis) as f:
            print("\n" + f.read().rstrip())


def print_redis_cpu(data):
    """Issue 17: Redis's CPU per delivered notification and the ceilings that follow."""
    if not data:
        return
    print("\n## Redis CPU per notification (issue 17)\n")
    print(f"`bench/redis_commandstats.py --notifications {data['notifications']} --rounds "
          f"{len(next(iter(data['kinds'].values()))['runs'])}` ((a) and (b) in turns; Redis's own CPU, INFO cpu user + sys, "
          "from the daemon's start to the last delivery, over the notifications delivered). One Redis core is one "
          "master; every key of a lane shares its hash tag, so a lane's queue work is on one master and a cluster "
          "adds capacity per lane in use (three lanes), not per master beyond that.\n")
    print("| jobs | Redis CPU µs / notification | µs / job | target | notifications/s per Redis core | "
          "3-master cluster, traffic in 1 lane / 3 lanes |")
    print("|---|---|---|---|---|---|")
    targets = {"a": ("of 500 tokens", 1.0), "b": ("of 1 token", 8.0)}
    for kind, s in data["kinds"].items():
        label, target = targets.get(kind, (kind, None))
        us = s["median_redis_cpu_us_per_notification"]
        verdict = "" if target is None else f"≤ {target:g} µs: {'met' if us <= target else '**missed**'}"
        core = s["ceiling_per_redis_core"]
        print(f"| {label} | {us:.3f} | {s['median_redis_cpu_us_per_job']:.2f} | {verdict} | {core:,.0f} | "
              f"{core:,.0f} / {s['ceiling_per_cluster']['3']:,.0f} |")


def median(data, key):
    return data.get("median_" + key) if data else None


def print_targets(folder, ceiling_rps):
    """The targets of issue 5, as written there, each with the measured value."""
    a, b, c, c1, d, idle = (load(folder, n) for n in ("a", "b", "c", "c1", "d", "idle"))
    aio, apn, apns2 = (load(folder, "peer-" + n) for n in ("aioapns", "node-apn", "apns2"))
    a_rate = median(a, "delivered_per_s")
    npm_best = max([median(x, "delivered_per_s") or 0 for x in (apn, apns2)] or [0])
    rows = []

    def row(target, value, ok):
        rows.append(f"| {target} | {value} | {'met' if ok else '**missed**'} |")

    noauth = median(load(folder, "ceiling-noauth"), "requests_per_s")
    ceiling = load(folder, "ceiling")

    def share_of_ceiling(data, key="delivered_per_s"):
        """The scenario's share of the ceiling: the median of its rounds' own ratios when bench/run
        took them in turns (run i of each in round i), which pairs runs of the same host phase;
        else median over median. Returns (share, text)."""
        overall = median(data, key) / ceiling_rps
        runs, ceilings = data["runs"], (ceiling or {}).get("runs", [])
        if len(runs) < 2 or len(runs) != len(ceilings):
            return overall, f"{overall:.0%}"
        rounds = [r[key] / c["requests_per_s"] for r, c in zip(runs, ceilings)]
        share = statistics.median(rounds)
        return share, (f"{share:.0%} (median of the rounds: {', '.join(f'{x:.0%}' for x in rounds)}; "
                       f"median over median {overall:.0%})")

    if a_rate and ceiling_rps:
        share, text = share_of_ceiling(a)
        also = f"; of the ceiling without authorization: {a_rate / noauth:.0%}" if noauth else ""
        row("(a) ≥ 50% of the h2load ceiling", text + also, share >= 0.5)
    if a_rate and median(aio, "delivered_per_s"):
        ratio = a_rate / median(aio, "delivered_per_s")
        row("(a) ≥ 10× aioapns", f"{ratio:.1f}×", ratio >= 10)
    if a_rate and npm_best:
        row("(a) ≥ 3× the faster npm client", f"{a_rate / npm_best:.1f}×", a_rate >= 3 * npm_best)
    if median(b, "delivered_per_s") and ceiling_rps:
        share, text = share_of_ceiling(b)
        also = f"; without authorization: {median(b, 'delivered_per_s') / noauth:.0%}" if noauth else ""
        row("(b) ≥ 25% of the ceiling", text + also, share >= 0.25)
    if c:
        p99 = c["runs"][0]["p99_ms"]
        row("(c) p99 enqueue→receipt ≤ 10 ms (50% of (a), jobs as (a)'s: one per 5 ms tick)", f"{p99:.0f} ms",
            p99 <= 10)
    if c1:
        # Reported, not judged: half of (a)'s rate in single-token jobs is about (b)'s whole rate
        # (the targets put (b) at half of (a)), so that queue grows by construction.
        p99 = c1["runs"][0]["p99_ms"]
        rows.append(f"| (c) at the same rate in single-token jobs (reported; at about (b)'s rate, so not a "
                    f"target) | p99 {p99:,.0f} ms | — |")
    if d:
        row("(d) ≥ 30k requests/s", f"{median(d, 'requests_per_s'):,.0f}/s", median(d, "requests_per_s") >= 30000)
        row("(d) p99 ≤ 5 ms", f"{median(d, 'p99_ms'):.2f} ms", median(d, "p99_ms") <= 5)
    if idle:
        r = idle["runs"][0]
        row("RSS ≤ 16 MB idle", f"{r['idle_rss_mb']:.1f} MB", r["idle_rss_mb"] <= 16)
        spread = max(r["rss_with_backlog_mb"]) - min(r["rss_with_backlog_mb"])
        row("RSS flat while a 1M backlog waits", f"{min(r['rss_with_backlog_mb'])}–{max(r['rss_with_backlog_mb'])} MB",
            spread <= 8)
    if a:
        row("RSS ≤ 128 MB under (a)", f"{median(a, 'peak_rss_mb'):.1f} MB", median(a, "peak_rss_mb") <= 128)
    print("\n## Targets (issue 5)\n")
    print("| target | measured | |")
    print("|---|---|---|")
    for line in rows:
        print(line)


if __name__ == "__main__":
    main(sys.argv[1])
