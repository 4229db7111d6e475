#!/usr/bin/python3
"""Redis's CPU per delivered notification (issue 17) while pushgw drains N pre-queued
notifications: (a) in jobs of 500 tokens and (b) in single-token jobs, as bench/run's (a) and
(b), taken in turns for --rounds rounds (this host's speed drifts over minutes). Per run:
Redis's own CPU (INFO cpu, user + sys, from the daemon's start to the last delivery) per
notification and per job, and its time per command (INFO commandstats). From the medians, the
ceiling of notifications/s one Redis core sustains, and one cluster of N masters (every key of
a lane shares one hash tag, so one lane's queue work is on one master: a cluster adds capacity
per lane, up to three lanes).
Usage: bench/redis_commandstats.py [--notifications 200000] [--rounds 3] [--json OUT]
       bench/redis_commandstats.py --job-size 1 --rounds 1   # one kind, its command table
"""
import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pushgw_bench as bench  # noqa: E402

LANES = 3  # high, default, bulk


def info(stack, section):
    reply = stack.redis.command("INFO", section)
    return reply.decode() if isinstance(reply, bytes) else reply


def redis_cpu(stack):
    fields = dict(line.split(":", 1) for line in info(stack, "cpu").splitlines() if ":" in line)
    return float(fields["used_cpu_user"]) + float(fields["used_cpu_sys"])


def command_stats(stack):
    out = {}
    for line in info(stack, "commandstats").splitlines():
        if not line.startswith("cmdstat_"):
            continue
        name, fields = line[len("cmdstat_"):].split(":", 1)
        stats = dict(field.split("=") for field in fields.split(","))
        out[name] = {"calls": int(stats["calls"]), "usec": int(stats["usec"])}
    return out


def one_run(notifications, job_size):
    stack = bench.Stack()
    try:
        bench.lpush_jobs(stack.redis, notifications, job_size)
        stack.redis.command("CONFIG", "RESETSTAT")
        before = redis_cpu(stack)
        start = time.time()
        stack.start_daemon()
        stats = bench.wait_delivered(stack, notifications)
        used = redis_cpu(stack) - before
        jobs = -(-notifications // job_size)
        return {"job_size": job_size, "notifications": notifications, "jobs": jobs, "redis_cpu_s": used,
                "redis_cpu_us_per_notification": used / notifications * 1e6, "redis_cpu_us_per_job": used / jobs * 1e6,
                "delivered_per_s": notifications / (bench.delivered_at(stats) - start),
                "commands": command_stats(stack), "lost": notifications - stats["unique"],
                "duplicates": stats["duplicates"]}
    finally:
        stack.close()


def summary(runs):
    per_notification = statistics.median(r["redis_cpu_us_per_notification"] for r in runs)
    per_core = 1e6 / per_notification
    return {"runs": runs, "median_redis_cpu_us_per_notification": per_notification,
            "median_redis_cpu_us_per_job": statistics.median(r["redis_cpu_us_per_job"] for r in runs),
            "median_delivered_per_s": statistics.median(r["delivered_per_s"] for r in runs),
            "ceiling_per_redis_core": per_core,
            "ceiling_per_cluster": {str(n): per_core * min(n, LANES) for n in (1, 3, 6)}}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notifications", type=int, default=200000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--job-size", type=int, help="only this kind of job (and print its command table)")
    parser.add_argument("--json", help="write the summary here")
    args = parser.parse_args()
    kinds = {"a": 500, "b": 1} if args.job_size is None else {f"jobs of {args.job_size}": args.job_size}
    runs = {kind: [] for kind in kinds}
    for i in range(args.rounds):
        for kind, size in kinds.items():
            run = one_run(args.notifications, size)
            runs[kind].append(run)
            print(f"round {i + 1} {kind}: {run['redis_cpu_us_per_notification']:.3f} µs of Redis CPU per notification, "
                  f"{run['redis_cpu_us_per_job']:.2f} µs per job, {run['delivered_per_s']:,.0f} delivered/s",
                  file=sys.stderr)
    result = {"machine": f"{os.cpu_count()} cores", "notifications": args.notifications,
              "kinds": {kind: summary(r) for kind, r in runs.items()}}
    if args.job_size is not None:
        last = runs[next(iter(kinds))][-1]
        for name, stats in sorted(last["commands"].items(), key=lambda kv: -kv[1]["usec"]):
            print(f"{name:24} calls={stats['calls']:>8} usec={stats['usec']:>9} "
                  f"per_call={stats['usec'] / max(stats['calls'], 1):.2f}")
        print("(EVALSHA's time includes the commands its script runs, which are listed too)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    for kind, s in result["kinds"].items():
        print(f"{kind}: {s['median_redis_cpu_us_per_notification']:.3f} µs/notification, "
              f"{s['median_redis_cpu_us_per_job']:.2f} µs/job; ceiling {s['ceiling_per_redis_core']:,.0f} "
              f"notifications/s per Redis core")


if __name__ == "__main__":
    main()
