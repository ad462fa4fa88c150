#!/usr/bin/env bash
# Debian's Prometheus and node_exporter for the fleet-view tests (the test
# fixtures start both on loopback themselves). Needs root or sudo; does nothing
# when both binaries are there. Never leaves a service running
# (scripts/quiet-install.sh).
set -euo pipefail

PROMETHEUS=/usr/bin/prometheus
NODE_EXPORTER=/usr/bin/prometheus-node-exporter
if [ -x "$PROMETHEUS" ] && [ -x "$NODE_EXPORTER" ]; then
  exit 0
fi
here="$(dirname "$0")"
. "$here/as-root.sh"
. "$here/quiet-install.sh"
as_root Prometheus "--no-install-recommends prometheus prometheus-node-exporter"
echo "Installing Debian's prometheus and prometheus-node-exporter for the fleet-view tests"
quiet_install "$PROMETHEUS $NODE_EXPORTER" --no-install-recommends prometheus prometheus-node-exporter
