#!/usr/bin/env bash
# Install the pinned requirements and start the dashboard at http://127.0.0.1:8501.
# Extra arguments go to `streamlit run`, e.g.:
#   bash scripts/start.sh --server.port 8600 -- --config /path/to/dashboard.toml
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv requirements.txt
exec .venv/bin/streamlit run streamlit_app.py "$@"
