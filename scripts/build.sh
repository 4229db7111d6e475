#!/usr/bin/env bash
# Configures and builds pushgw. Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
# PUSHGW_TARGETS="pushgw pushgw-sim" builds only those (scripts/dev.sh); default: everything.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
shift || true
# ccache with precompiled headers needs these (see ccache's manual, "Precompiled headers").
export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}
cmake -S . -B "$build_dir" -DPUSHGW_WERROR=ON "$@" >/dev/null
targets=()
for target in ${PUSHGW_TARGETS:-}; do targets+=(--target "$target"); done
cmake --build "$build_dir" -j"$(nproc)" "${targets[@]}"
