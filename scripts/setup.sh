#!/usr/bin/env bash
# Installs the Debian packages pushgw needs to build, test and run, and nothing else.
# Idempotent: it asks apt only for what is missing and is quiet when everything is present.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ccache
  libboost1.81-dev libnghttp2-dev libssl-dev libhiredis-dev
  nlohmann-json3-dev libspdlog-dev libfmt-dev libyaml-cpp-dev libcli11-dev libgtest-dev prometheus-cpp-dev
  redis-server redis-tools prometheus nghttp2-client curl openssl
  yamllint python3-yaml python3-jsonschema
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
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
echo "setup: done"
