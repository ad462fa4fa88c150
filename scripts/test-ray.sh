#!/usr/bin/env bash
# The Ray tests (tests/ray) in a network namespace of their own: only loopback, so
# the Ray head, the dashboards and the tests talk over 127.0.0.1 and nothing else
# (outside one, Ray also binds the host's own address). Needs root (unshare --net).
# Extra arguments go to pytest, e.g.: bash scripts/test-ray.sh -k cancel
set -euo pipefail
cd "$(dirname "$0")/.."
exec unshare --net -- sh -c 'ip link set lo up && exec "$0" -m pytest -p no:randomly -p no:xdist tests/ray "$@"' \
  .venv/bin/python "$@"
