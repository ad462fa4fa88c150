#!/usr/bin/env bash
# Install the pinned requirements and start the dashboard at http://127.0.0.1:8501.
# Extra arguments go to `streamlit run`, e.g.:
#   bash scripts/start.sh --server.port 8600 -- --config /path/to/dashboard.toml
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv requirements.txt

# `dashboard serve` checks first what would refuse start-up (the config, the session key, the
# store, a network address without users or tokens): a refusal is then its message alone,
# before Streamlit binds the port and prints a URL (see ui/serve.py and ui/preflight.py).
exec .venv/bin/dashboard serve "$@"
