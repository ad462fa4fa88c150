#!/usr/bin/env bash
# Install the pinned requirements and start the dashboard at http://127.0.0.1:8501.
# Extra arguments go to `streamlit run`, e.g.:
#   bash scripts/start.sh --server.port 8600 -- --config /path/to/dashboard.toml
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv requirements.txt

# Check the config first (with the arguments after --, as the app gets them):
# a bad file then stops with its message alone, before Streamlit prints a URL.
app_args=()
after_dashes=0
for arg in "$@"; do
  if [ "$after_dashes" = 1 ]; then app_args+=("$arg"); elif [ "$arg" = "--" ]; then after_dashes=1; fi
done
.venv/bin/python -c 'import sys; from dashboard_core.server import load_or_exit; load_or_exit(sys.argv[1:])' "${app_args[@]}"

exec .venv/bin/streamlit run streamlit_app.py "$@"
