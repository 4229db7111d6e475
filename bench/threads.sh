#!/usr/bin/env bash
# CPU per thread of pushgw, and of redis-server and pushgw-sim, over 3 s in the middle of a
# benchmark run (from /proc/<pid>/task/*/stat), then the run's own summary line.
#   bench/threads.sh prequeued --notifications 800000 --job-size 500
# Give it enough notifications that the run lasts well beyond the 4 s it samples.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp)
/usr/bin/python3 bench/pushgw_bench.py "$@" > "$out" 2>&1 &
bench=$!
pid=""
for _ in $(seq 1 200); do
  pid=$(pgrep -x pushgw | head -1 || true)
  [ -n "$pid" ] && break
  sleep 0.05
done
[ -n "$pid" ] || { echo "pushgw did not start" >&2; exit 1; }
sleep 1
snapshot() {
  for t in /proc/"$pid"/task/*; do echo "pushgw-thread-$(basename "$t") $(awk '{print $14 + $15}' "$t/stat")"; done
  for name in redis-server pushgw-sim; do
    for p in $(pgrep -x "$name"); do echo "$name-$p $(awk '{print $14 + $15}' /proc/"$p"/stat)"; done
  done
}
before=$(snapshot); sleep 3; after=$(snapshot)
ticks=$(getconf CLK_TCK)
join <(echo "$before" | sort) <(echo "$after" | sort) |
  awk -v t="$ticks" '{d = ($3 - $2) / t / 3; if (d > 0.01) printf "%-28s %.2f cores\n", $1, d}'
wait "$bench" || true
grep -E '"(delivered|requests)_per_s"' "$out" | head -1
rm -f "$out"
