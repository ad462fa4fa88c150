"""Prometheus' own linter over an exposition: ``promtool check metrics``.

promtool comes with Debian's ``prometheus`` package (``bash
scripts/install-prometheus.sh``; CI runs it). It reads the text on stdin and
prints one line per problem: exit 1 for lint (a counter without ``_total``, a
gauge ending in ``_count``, a unit that is not a base unit...), 3 for a parse
error, 0 and nothing printed when the exposition is clean.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"

needs_promtool = pytest.mark.skipif(
    not os.access(PROMTOOL, os.X_OK),
    reason="promtool is missing: run 'bash scripts/install-prometheus.sh' (Debian's prometheus package), "
    "which scripts/test.sh and CI do",
)


def assert_promtool_clean(text: str) -> None:
    """``promtool check metrics`` exits 0 and prints nothing for ``text``."""
    checked = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60, check=False
    )
    problems = (checked.stdout + checked.stderr).strip()
    assert checked.returncode == 0 and problems == "", (
        f"promtool check metrics exited {checked.returncode}:\n{problems}"
    )
