#!/usr/bin/env bash
# Install the pinned test requirements (and Debian's Chromium, Prometheus,
# node_exporter, Alertmanager and VictoriaMetrics) and run every test.
# Extra arguments go to pytest, e.g.: bash scripts/test.sh -k frame
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv requirements-dev.txt
bash scripts/install-chromium.sh
bash scripts/install-prometheus.sh
bash scripts/install-alertmanager.sh
bash scripts/install-victoria-metrics.sh
# Two workers (tests marked with one xdist_group run on one worker: --dist loadgroup): most
# tests wait on real servers, browsers and subprocesses, so two
# at a time halve the wall time on a 2-core machine (set PYTEST_WORKERS=0 for one).
workers="${PYTEST_WORKERS:-2}"
if [ "$workers" = "0" ]; then
  exec .venv/bin/python -m pytest "$@"
fi
exec .venv/bin/python -m pytest -n "$workers" --dist loadgroup "$@"
