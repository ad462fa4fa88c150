#!/usr/bin/env bash
# Debian's VictoriaMetrics for the metrics-out tests (the test fixtures start
# it on loopback themselves). Needs root or sudo; does nothing when the binary
# is there. Never leaves a service running (see no-daemons.sh).
set -euo pipefail

VICTORIA_METRICS=/usr/bin/victoria-metrics
if [ -x "$VICTORIA_METRICS" ]; then
  exit 0
fi
. "$(dirname "$0")/no-daemons.sh"
install_without_daemons VictoriaMetrics "$VICTORIA_METRICS" -- victoria-metrics
