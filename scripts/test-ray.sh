#!/usr/bin/env bash
# The Ray tests (tests/ray) in a network namespace of their own: only loopback, so
# the Ray head, the dashboards and the tests talk over 127.0.0.1 and nothing else
# (outside one, Ray also binds the host's own address). Needs root (unshare --net).
# Extra arguments go to pytest, e.g.: bash scripts/test-ray.sh -k cancel
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v ip >/dev/null 2>&1; then  # brings loopback up inside the namespace
  . scripts/as-root.sh
  as_root "ip (iproute2)" iproute2
  echo "Installing Debian's iproute2"
  apt_install iproute2
fi
exec unshare --net -- sh -c 'ip link set lo up && exec "$0" -m pytest -p no:randomly -p no:xdist tests/ray "$@"' \
  .venv/bin/python "$@"
