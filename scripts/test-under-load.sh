#!/usr/bin/env bash
# The whole test suite (scripts/test.sh, arguments passed on) with every core kept
# busy beside it by stress-ng (one CPU worker per core, as `stress-ng --cpu 2` on a
# 2-core machine): timing assumptions fail here first. Installs Debian's stress-ng
# when it is missing (root or sudo). The load stops when the tests end, pass or fail.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v stress-ng >/dev/null 2>&1; then
  . scripts/as-root.sh
  as_root stress-ng stress-ng
  echo "Installing Debian's stress-ng"
  apt_install stress-ng
fi
cores="$(nproc)"
stress-ng --cpu "$cores" --quiet &
load=$!
trap 'kill "$load" 2>/dev/null || true; wait "$load" 2>/dev/null || true' EXIT
echo "stress-ng: $cores CPU workers (pid $load) beside the tests"
bash scripts/test.sh "$@"
