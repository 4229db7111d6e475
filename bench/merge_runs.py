#!/usr/bin/python3
"""Merges the JSON summaries of several pushgw_bench.py invocations of one scenario (one run
each, taken in turns with other scenarios) into one summary with the medians over all runs.
Usage: bench/merge_runs.py OUT.json IN.json...
"""
import json
import statistics
import sys


def main(out, inputs):
    parts = [json.load(open(path)) for path in inputs]
    summary = {key: value for key, value in parts[0].items() if not key.startswith("median_")}
    summary["runs"] = [run for part in parts for run in part["runs"]]
    for key in ("delivered_per_s", "requests_per_s", "p50_ms", "p99_ms", "peak_rss_mb"):
        values = [r[key] for r in summary["runs"] if r.get(key) is not None]
        if values:
            summary["median_" + key] = statistics.median(values)
    with open(out, "w") as f:
        json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
