# Sourced by start.sh and test.sh: make .venv, install a pinned requirements file and the
# dashboard itself (editable) into it, skipping pip when neither that file nor
# pyproject.toml has changed since the last install.

_stamp_of() { echo ".venv/.installed-$(basename "$1")"; }
_digest_of() { cat "$1" requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1; }

ensure_venv() {
  local requirements="$1"
  local python="${PYTHON:-python3}"
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "error: the dashboard needs Python 3.11 or newer; '$python' is $("$python" --version 2>&1)." >&2
    echo "       Set PYTHON=/path/to/python3.11 and run again." >&2
    exit 1
  fi
  if [ ! -x .venv/bin/python ]; then
    echo "Creating .venv with $("$python" --version)"
    "$python" -m venv .venv
  fi
  if [ "$(cat "$(_stamp_of "$requirements")" 2>/dev/null)" != "$(_digest_of "$requirements")" ]; then
    echo "Installing $requirements into .venv"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
    # The dashboard itself, editable: the `dashboard` command works from any folder.
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
    _digest_of "$requirements" > "$(_stamp_of "$requirements")"
    # The test requirements include the runtime ones (-r requirements.txt).
    if grep -qx -- "-r requirements.txt" "$requirements"; then
      _digest_of requirements.txt > "$(_stamp_of requirements.txt)"
    fi
  fi
}
