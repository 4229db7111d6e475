#!/usr/bin/python3
"""Summarises bench/ab's runs: per job size and build, the median daemon CPU per notification
(µs) and throughput, and new/old ratios, as a Markdown table.
Usage: bench/ab_summary.py DIR N
"""
import glob
import json
import os
import statistics
import sys


def main(directory, notifications):
    rows = []
    for size in ("500", "1"):
        medians = {}
        for side in ("old", "new"):
            runs = [json.load(open(p))["runs"][0] for p in sorted(glob.glob(os.path.join(directory, f"{side}-{size}-*.json")))]
            if not runs:
                continue
            cpu_us = [r["cpu_s"] / notifications * 1e6 for r in runs]
            rate = [r["delivered_per_s"] for r in runs]
            lost = sum(r["lost"] for r in runs)
            medians[side] = (statistics.median(cpu_us), statistics.median(rate), len(runs), lost, cpu_us)
        if len(medians) < 2:
            continue
        (old_cpu, old_rate, n, old_lost, old_all), (new_cpu, new_rate, _, new_lost, new_all) = medians["old"], medians["new"]
        rows.append(f"| jobs of {size} | {n} | {old_cpu:.2f} ({', '.join(f'{v:.2f}' for v in old_all)}) "
                    f"| {new_cpu:.2f} ({', '.join(f'{v:.2f}' for v in new_all)}) | {new_cpu / old_cpu:.3f} "
                    f"| {old_rate:,.0f} | {new_rate:,.0f} | {old_lost + new_lost} |")
    print("| scenario | runs each | old: CPU µs/notification, median (runs) | new: CPU µs/notification, median (runs) "
          "| new/old CPU | old delivered/s | new delivered/s | lost |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
