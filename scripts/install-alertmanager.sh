#!/usr/bin/env bash
# Debian's Prometheus Alertmanager for the Alertmanager tests (their fixtures
# start it on loopback themselves, with a storage directory of their own). Needs
# root or sudo; does nothing when the binary is there. Never leaves the
# package's service running (scripts/quiet-install.sh).
set -euo pipefail

ALERTMANAGER=/usr/bin/prometheus-alertmanager
if [ -x "$ALERTMANAGER" ]; then
  exit 0
fi
here="$(dirname "$0")"
. "$here/as-root.sh"
. "$here/quiet-install.sh"
as_root Alertmanager "--no-install-recommends prometheus-alertmanager"
echo "Installing Debian's prometheus-alertmanager for the Alertmanager tests"
quiet_install "$ALERTMANAGER" --no-install-recommends prometheus-alertmanager
