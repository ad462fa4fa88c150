#!/usr/bin/env bash
# Debian's Prometheus and node_exporter for the fleet-view tests (the test
# fixtures start both on loopback themselves). Needs root or sudo; does nothing
# when both binaries are there. Never leaves a service running (see
# no-daemons.sh: policy-rc.d for the install, and any daemon that starts anyway
# stopped by its process id).
set -euo pipefail

PROMETHEUS=/usr/bin/prometheus
NODE_EXPORTER=/usr/bin/prometheus-node-exporter
if [ -x "$PROMETHEUS" ] && [ -x "$NODE_EXPORTER" ]; then
  exit 0
fi
. "$(dirname "$0")/no-daemons.sh"
install_without_daemons Prometheus "$PROMETHEUS" "$NODE_EXPORTER" -- prometheus prometheus-node-exporter
