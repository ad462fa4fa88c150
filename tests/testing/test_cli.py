"""``python -m dashboard_core run-suite`` as a real subprocess, run locally (no
server); the server path is covered in tests/e2e/test_suites_server.py."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from dashboard_core.config import Config
from dashboard_core.models import RunStatus, Trigger
from dashboard_core.store import open_store
from dashboard_core.testing.history import RunHistory
from tests.polling import wait_until
from tests.testing.conftest import ROOT


def cli(config: Config, *args: str) -> list[str]:
    return [sys.executable, "-m", "dashboard_core", "run-suite", *args, "--local", "--config", str(config.source)]


def test_run_suite_prints_progress_and_the_summary_and_exits_1_on_failures(
    suites_config: Callable[..., Config],
) -> None:
    config = suites_config()
    done = subprocess.run(cli(config, "demo"), cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 1, done.stderr
    assert "Run 1 of demo started on this process" in done.stderr
    assert "[########################] 12/12" in done.stderr  # the last progress line
    assert done.stdout.startswith("Run 1 of demo: failed (exit 1: tests failed)\n")
    assert "1 failed, 7 passed, 1 skipped, 1 xfailed, 1 xpassed, 1 error in " in done.stdout
    assert "FAILED examples/demo_suite/test_demo.py::test_fails - AssertionError" in done.stdout
    store = open_store(config.data_dir)
    try:
        run = RunHistory(store).get(1)
    finally:
        store.close()
    assert run is not None and run.trigger is Trigger.CLI and run.status is RunStatus.FAILED


def test_a_passing_suite_exits_0(suites_config: Callable[..., Config], gate: Path) -> None:
    gate.touch()
    done = subprocess.run(cli(suites_config(), "gated"), cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert "Run 1 of gated: passed (exit 0: all tests passed)" in done.stdout


def test_an_unknown_suite_is_named_with_the_known_ones(suites_config: Callable[..., Config]) -> None:
    done = subprocess.run(cli(suites_config(), "nope"), cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "error: There is no test suite named 'nope'. Known suites: demo, gated." in done.stderr


def test_ctrl_c_cancels_the_run_and_exits_130(suites_config: Callable[..., Config], tmp_path: Path) -> None:
    config = suites_config()
    errors = tmp_path / "stderr.txt"
    with errors.open("w") as err:
        proc = subprocess.Popen(cli(config, "gated"), cwd=ROOT, stdout=subprocess.PIPE, stderr=err, text=True)
        try:
            wait_until(lambda: " 1/3 " in errors.read_text(), 60, "the first test to finish")
            proc.send_signal(signal.SIGINT)
            try:
                out, _ = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                raise AssertionError(f"no exit 60 s after Ctrl-C; its stderr:\n{errors.read_text()}") from None
        finally:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, errors.read_text()
    assert "Cancelling run 1" in errors.read_text()
    assert out.startswith("Run 1 of gated: cancelled (killed by SIGTERM)")
