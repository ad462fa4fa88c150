#!/usr/bin/env bash
# The docs site (MkDocs with the Material theme, pinned in requirements-dev.txt):
#   bash scripts/docs.sh serve    # http://127.0.0.1:8000, rebuilt as you edit docs/ or the code
#   bash scripts/docs.sh build    # the static site in site/, with --strict as the tests build it
# More arguments go to mkdocs.
set -euo pipefail
cd "$(dirname "$0")/.."
export NO_MKDOCS_2_WARNING=1  # Material's banner about its end of life (May 2027), on every build
source scripts/venv.sh
ensure_venv requirements-dev.txt
what="${1:-serve}"
shift || true
case "$what" in
  serve) exec .venv/bin/python -m mkdocs serve --dev-addr 127.0.0.1:8000 "$@" ;;
  build) exec .venv/bin/python -m mkdocs build --strict "$@" ;;
  *) echo "usage: bash scripts/docs.sh [serve|build] [mkdocs options]" >&2; exit 2 ;;
esac
