#!/usr/bin/env bash
# Installs the Debian packages pushgw needs to build, test and run, and nothing else (plus the
# browser test's npm modules). Idempotent: it asks apt only for what is missing and is quiet
# when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config ccache
  clang-14 libclang-rt-14-dev
  libboost1.81-dev libnghttp2-dev libssl-dev libhiredis-dev
  nlohmann-json3-dev libspdlog-dev libfmt-dev libyaml-cpp-dev libcli11-dev libgtest-dev prometheus-cpp-dev
  redis-server redis-tools prometheus nghttp2-client curl openssl
  yamllint python3-yaml python3-jsonschema
)
# The browser test (headless Chromium driven from Node.js); PUSHGW_SETUP_BROWSER=0 leaves it out
# (the Docker image's build stage).
if [ "${PUSHGW_SETUP_BROWSER:-1}" != 0 ]; then
  packages+=(chromium nodejs)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# The browser test's driver (playwright-core, pinned by tests/browser/package-lock.json), from
# the npm registry; test-only, never part of the daemon's build.
install_browser_test_modules() {
  if [ "${PUSHGW_SETUP_BROWSER:-1}" = 0 ] || [ -d tests/browser/node_modules/playwright-core ] ||
     ! command -v npm >/dev/null; then
    return 0
  fi
  echo "setup: npm ci in tests/browser"
  (cd tests/browser && npm ci --no-audit --no-fund --silent)
}

if [ ${#missing[@]} -eq 0 ]; then
  install_browser_test_modules
  exit 0
fi

echo "setup: installing ${missing[*]}"
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian redis-server package starts a system instance; pushgw's scripts and tests start
# their own on free ports, so the system one is left as the package configured it.
install_browser_test_modules
echo "setup: done"
