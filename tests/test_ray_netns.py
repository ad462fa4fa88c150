"""The Ray tests (tests/ray) run here inside a network namespace this test makes
(``unshare --net``, then ``lo`` up: scripts/test-ray.sh), so the whole suite runs them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.ray.cluster import ray_installed

ROOT = Path(__file__).resolve().parents[1]


def test_the_ray_tests_pass_in_their_own_network_namespace() -> None:
    problem = None
    if not ray_installed():
        problem = "Ray is not installed: pip install -r requirements-dev.txt (scripts/test.sh does)"
    elif os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("ip") is None:
        problem = "the Ray tests need root, unshare and ip (util-linux, iproute2) for their network namespace"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    proc = subprocess.run(
        ["bash", "scripts/test-ray.sh", "-q"],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    report = proc.stdout[-20000:] + proc.stderr[-5000:]
    assert proc.returncode == 0, report
    assert " passed" in report and " skipped" not in report, report
