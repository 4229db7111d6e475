#!/usr/bin/python3
"""Turns the JSON files bench/run wrote into bench/RESULTS.md (printed to stdout)."""
import json
import os
import platform
import subprocess
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
    print("Command: `bench/run` (each row: median of the runs in bench/results/*.json).\n")
    print("| tool / scenario | notifications/s | ratio to ceiling | p50 ms | p99 ms | peak RSS MB | lost | dup |")
    print("|---|---|---|---|---|---|---|---|")
    if ceiling:
        print(f"| h2load → pushgw-sim (ceiling) | {fmt(ceiling_rps)} | 1.00 | | | | | |")
    rows = [("pushgw (a) 200k pre-queued, jobs of 500", "a"), ("pushgw (b) 200k single-token jobs", "b"),
            ("pushgw (c) steady 50% of (a)", "c"), ("aioapns", "peer-aioapns"), ("@parse/node-apn", "peer-node-apn"),
            ("apns2", "peer-apns2")]
    for label, name in rows:
        data = load(folder, name)
        if not data:
            print(f"| {label} | not run | | | | | | |")
            continue
        runs = data["runs"]
        rate = data.get("median_delivered_per_s", runs[0].get("delivered_per_s"))
        ratio = f"{rate / ceiling_rps:.2f}" if ceiling_rps and rate else ""
        print(f"| {label} | {fmt(rate)} | {ratio} | {fmt(data.get('median_p50_ms'))} | {fmt(data.get('median_p99_ms'))} "
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


if __name__ == "__main__":
    main(sys.argv[1])
