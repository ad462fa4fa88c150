#!/usr/bin/env bash
# The fast run, for while you work: every test not marked slow (no real dashboard
# server, browser, Prometheus or tmpfs; tests/conftest.py says which are slow), on two
# workers. Needs no root: it installs nothing but the pinned test requirements into
# .venv. Arguments go to pytest, e.g.: bash scripts/test-fast.sh -k sessions
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv requirements-dev.txt
exec .venv/bin/python -m pytest -n "${PYTEST_WORKERS:-2}" --dist loadgroup -m "not slow" "$@"
