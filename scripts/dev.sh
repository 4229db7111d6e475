#!/usr/bin/env bash
# Quick start: installs what is missing, builds only what it runs (pushgw and pushgw-sim, not
# the tests), and runs pushgw with config/pushgw.dev.yaml against a redis-server it starts on
# 127.0.0.1:6399 and pushgw-sim on 127.0.0.1:8443. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
PUSHGW_TARGETS="pushgw pushgw-sim" ./scripts/build.sh build
./scripts/dev-credentials.sh run/dev

redis_port=6399
children=()
cleanup() {
  for pid in "${children[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT   # so the EXIT trap runs on Ctrl-C and on kill
trap 'exit 143' TERM

if ! redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
  redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
    --dir run/dev --logfile redis.log &
  children+=($!)
  for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

build/pushgw-sim --listen 127.0.0.1:8443 --cert run/dev/sim-cert.pem --key run/dev/sim-key.pem \
  --apns-key run/dev/apns-key.p8 --fcm-service-account run/dev/fcm-service-account.json \
  >run/dev/sim.log 2>&1 &
children+=($!)

echo "pushgw: POST http://127.0.0.1:8088/push  (metrics: /metrics, health: /healthz, /readyz)"
build/pushgw --config config/pushgw.dev.yaml &
children+=($!)
wait "${children[-1]}"
