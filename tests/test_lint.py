"""The code passes the project's lint rules (pyproject.toml, [tool.ruff.lint]) and its type
check (pyproject.toml, [tool.mypy]: strict, with the pydantic plugin)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def test_ruff_finds_nothing() -> None:
    pytest.importorskip("ruff", reason="ruff comes with the test requirements (bash scripts/test.sh)")
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


# About 13 s of CPU: mypy starts from nothing every time (no cache, so nothing stale can hide
# an error), reading pandas', numpy's and pydantic's types as well as dashboard_core.
@pytest.mark.slow
def test_mypy_finds_nothing() -> None:
    pytest.importorskip("mypy", reason="mypy comes with the test requirements (bash scripts/test.sh)")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", f"--cache-dir={os.devnull}", "dashboard_core"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
