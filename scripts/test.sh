#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit + integration) twice: a normal
# build in build/, and an AddressSanitizer + UndefinedBehaviorSanitizer build in build-asan/.
# Tests start their own redis-server and simulator on free loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
jobs=$(nproc)

echo "== build (RelWithDebInfo) =="
./scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "== tests =="
ctest --test-dir build --output-on-failure -j"$jobs" --timeout 600

echo "== build (AddressSanitizer + UBSan) =="
./scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DPUSHGW_SANITIZE=ON -DCMAKE_CXX_FLAGS=-O1
echo "== tests under sanitizers =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" --timeout 900
