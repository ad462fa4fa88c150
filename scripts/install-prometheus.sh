#!/usr/bin/env bash
# Debian's Prometheus and node_exporter for the fleet-view tests (the test
# fixtures start both on loopback themselves). Needs root or sudo; does nothing
# when both binaries are there. Never leaves a service running: the packages'
# maintainer scripts are told not to start one (policy-rc.d), and any daemon
# that starts during the install anyway is stopped by its process id.
set -euo pipefail

PROMETHEUS=/usr/bin/prometheus
NODE_EXPORTER=/usr/bin/prometheus-node-exporter
if [ -x "$PROMETHEUS" ] && [ -x "$NODE_EXPORTER" ]; then
  exit 0
fi
. "$(dirname "$0")/as-root.sh"
as_root Prometheus "--no-install-recommends prometheus prometheus-node-exporter"

# Process ids running one of the two binaries, by the executable (or, for
# another user's process that a non-root user cannot resolve, its argv[0]), so
# a process merely named alike is never taken for them.
daemon_pids() {
  local dir program
  for dir in /proc/[0-9]*; do
    program="$(readlink "$dir/exe" 2>/dev/null || true)"
    if [ -z "$program" ]; then
      program="$(tr '\0' '\n' <"$dir/cmdline" 2>/dev/null | head -n 1 || true)"
    fi
    case "$program" in
      "$PROMETHEUS" | "$NODE_EXPORTER") echo "${dir#/proc/}" ;;
    esac
  done
}
before=" $(daemon_pids | tr '\n' ' ') "

# invoke-rc.d asks /usr/sbin/policy-rc.d whether it may start a service; exit
# code 101 means no. Put one in place for the install unless there is one.
policy=/usr/sbin/policy-rc.d
added_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# added by install-prometheus.sh for the length of the install\nexit 101\n' \
    | $sudo tee "$policy" >/dev/null
  $sudo chmod 755 "$policy"
  added_policy=1
fi
cleanup() {
  if [ -n "$added_policy" ]; then
    $sudo rm -f "$policy"
  fi
}
trap cleanup EXIT

echo "Installing Debian's prometheus and prometheus-node-exporter for the fleet-view tests"
apt_install --no-install-recommends prometheus prometheus-node-exporter

# Stop whatever the install started (a package whose script ignores policy-rc.d).
for pid in $(daemon_pids); do
  case "$before" in
    *" $pid "*) ;;  # it ran before the install: not ours to stop
    *)
      echo "Stopping $(readlink "/proc/$pid/exe" 2>/dev/null || echo "process $pid"), started by the install (pid $pid)"
      $sudo kill "$pid" 2>/dev/null || true
      ;;
  esac
done

for binary in "$PROMETHEUS" "$NODE_EXPORTER"; do
  if [ ! -x "$binary" ]; then
    echo "error: $binary is still missing after the install." >&2
    exit 1
  fi
done
