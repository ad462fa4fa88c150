#!/usr/bin/env bash
# Debian's VictoriaMetrics for the metrics-out tests (their fixtures start it on
# loopback themselves, with a data directory of their own). Needs root or sudo;
# does nothing when the binary is there. Never leaves the package's service
# running (scripts/quiet-install.sh).
set -euo pipefail

VICTORIA_METRICS=/usr/bin/victoria-metrics
if [ -x "$VICTORIA_METRICS" ]; then
  exit 0
fi
here="$(dirname "$0")"
. "$here/as-root.sh"
. "$here/quiet-install.sh"
as_root VictoriaMetrics "--no-install-recommends victoria-metrics"
echo "Installing Debian's victoria-metrics for the metrics-out tests"
quiet_install "$VICTORIA_METRICS" --no-install-recommends victoria-metrics
