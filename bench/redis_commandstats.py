#!/usr/bin/python3
"""Redis's own time per command while pushgw drains N pre-queued jobs (INFO commandstats):
what the take/ack scripts, the LREMs and the inactive-token HMGETs cost Redis per job.
Usage: bench/redis_commandstats.py [--notifications 100000] [--job-size 1]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pushgw_bench as bench  # noqa: E402


def info(stack, section):
    reply = stack.redis.command("INFO", section)
    return reply.decode() if isinstance(reply, bytes) else reply


def redis_cpu(stack):
    fields = dict(line.split(":", 1) for line in info(stack, "cpu").splitlines() if ":" in line)
    return float(fields["used_cpu_user"]) + float(fields["used_cpu_sys"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notifications", type=int, default=100000)
    parser.add_argument("--job-size", type=int, default=1)
    args = parser.parse_args()
    stack = bench.Stack()
    try:
        bench.lpush_jobs(stack.redis, args.notifications, args.job_size)
        stack.redis.command("CONFIG", "RESETSTAT")
        before = redis_cpu(stack)
        stack.start_daemon()
        bench.wait_delivered(stack, args.notifications)
        used = redis_cpu(stack) - before
        text = info(stack, "commandstats")
        jobs = -(-args.notifications // args.job_size)
        for line in text.splitlines():
            if not line.startswith("cmdstat_"):
                continue
            name, fields = line[len("cmdstat_"):].split(":", 1)
            stats = dict(field.split("=") for field in fields.split(","))
            print(f"{name:24} calls={stats['calls']:>8} usec={stats['usec']:>9} per_call={stats['usec_per_call']}")
        print("(EVALSHA's time includes the commands its script runs, which are listed too)")
        print(f"Redis CPU (INFO cpu, user + sys) per job: {used / jobs * 1e6:.2f} µs over {jobs} jobs")
    finally:
        stack.close()


if __name__ == "__main__":
    main()
