#!/usr/bin/env bash
# yamllint (strict: warnings fail too) on the chart's non-template files, the alert rules and
# their tests, and docker/'s YAML, with the repository's .yamllint.yaml. Helm templates are not
# YAML until rendered. Run: tests/ops/yamllint_test.sh
set -euo pipefail
root=${PUSHGW_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root"
command -v yamllint >/dev/null || { echo "yamllint not found (Debian package yamllint; scripts/setup.sh installs it)"; exit 1; }
files=(
  .yamllint.yaml
  helm/pushgw/Chart.yaml helm/pushgw/values.yaml helm/pushgw/files/pushgw-rules.yaml
  tests/ops/pushgw-rules.test.yaml
  docker/compose.yaml docker/pushgw.compose.yaml
)
yamllint --strict -c .yamllint.yaml "${files[@]}"
echo "yamllint: ${#files[@]} files clean"
