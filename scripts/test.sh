#!/usr/bin/env bash
# Install the pinned test requirements (and Debian's Chromium, Prometheus and
# node_exporter) and run every test.
# Extra arguments go to pytest, e.g.: bash scripts/test.sh -k frame
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv requirements-dev.txt
bash scripts/install-chromium.sh
bash scripts/install-prometheus.sh
exec .venv/bin/python -m pytest "$@"
