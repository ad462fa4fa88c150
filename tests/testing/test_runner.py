"""Real suite runs: counts, cancel of a whole process tree, timeout, start failures, log cap.
(The log itself: tests/processes/test_capped_log.py.)"""

from __future__ import annotations

import sys
from pathlib import Path

import psutil

from dashboard_core.processes.spec import PROGRESS_ENV
from dashboard_core.testing import pytest_plugin
from dashboard_core.testing.runner import RunSpec, RunStatus, SuiteRun, exit_code_words
from tests.polling import wait_until
from tests.processes.scripts import FAMILY  # a child in the group, a grandchild that left it

ROOT = Path(__file__).parents[2]
PY = sys.executable


def run(tmp_path: Path, argv: list[str], **kwargs: object) -> SuiteRun:
    spec = RunSpec(argv=argv, cwd=kwargs.pop("cwd", ROOT), workdir=tmp_path / "run", **kwargs)  # type: ignore[arg-type]
    suite = SuiteRun(spec, grace=2.0)
    suite.start()
    return suite


def test_the_demo_suite_runs_with_live_counts_equal_to_pytest(tmp_path: Path) -> None:
    argv = [PY, "-m", "pytest", "examples/demo_suite", "-p", "dashboard_core.testing.pytest_plugin"]
    suite = run(tmp_path, argv, env={"PYTHONPATH": str(ROOT)})  # progress: on the channel the executor gives it
    assert suite.wait(120), "the demo suite did not finish"
    assert suite.status is RunStatus.FAILED
    assert suite.exit_code == 1 and suite.message == "exit 1: tests failed"
    assert suite.progress.summary() == "1 failed, 7 passed, 1 skipped, 1 xfailed, 1 xpassed, 1 error"
    assert suite.progress.collected == 12 == suite.progress.finished
    output = suite.log_path.read_text()
    assert "FAILED examples/demo_suite/test_demo.py::test_fails" in output
    assert "1 failed, 7 passed, 1 skipped, 1 xfailed, 1 xpassed, 1 error in" in output


def test_cancel_leaves_no_process_of_the_run(tmp_path: Path) -> None:
    """The run spawns a child in its group and one that escaped it (setsid): both go."""
    pids_file = tmp_path / "pids"
    suite = run(tmp_path, [PY, "-c", FAMILY, str(pids_file)], is_pytest=False)
    wait_until(pids_file.exists, 30, "the run to start its children")
    pids = [int(p) for p in pids_file.read_text().split()]
    assert all(psutil.pid_exists(p) for p in pids)
    assert suite.cancel() is True
    assert suite.wait(30)
    assert suite.status is RunStatus.CANCELLED
    assert suite.message.startswith("cancelled (killed by SIGTERM")

    def gone(pid: int) -> bool:
        try:
            return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    wait_until(lambda: all(gone(p) for p in pids), 15, f"every process of the run ({pids}) to be gone")
    assert suite.cancel() is False  # already finished


def test_a_timeout_stops_the_run_and_says_so(tmp_path: Path) -> None:
    suite = run(tmp_path, [PY, "-c", "import time; time.sleep(120)"], timeout=0.5, is_pytest=False)
    assert suite.wait(30)
    assert suite.status is RunStatus.TIMED_OUT
    assert suite.message == "timed out after 0.5 s (killed by SIGTERM)"


def test_a_missing_program_is_a_failed_run_with_the_reason(tmp_path: Path) -> None:
    suite = run(tmp_path, ["no-such-program-here", "--version"])
    assert suite.status is RunStatus.ERROR and suite.wait(0)
    assert suite.message.startswith("cannot start: the program 'no-such-program-here' was not found")


def test_a_bad_working_directory_is_named(tmp_path: Path) -> None:
    suite = run(tmp_path, [PY, "-c", "pass"], cwd=tmp_path / "nowhere")
    assert suite.status is RunStatus.ERROR
    assert f"the working directory {tmp_path / 'nowhere'} does not exist" in suite.message


def test_huge_output_is_capped_keeping_head_and_tail(tmp_path: Path) -> None:
    code = "import sys\nsys.stdout.write('HEAD\\n' + 'x' * 10_000_000 + '\\nTAIL\\n')"
    suite = run(tmp_path, [PY, "-c", code], log_max_bytes=100_000, is_pytest=False)
    assert suite.wait(60)
    assert suite.status is RunStatus.PASSED and suite.message == "exit 0"
    text = suite.log_path.read_text()
    assert text.startswith("HEAD\n") and text.endswith("TAIL\n")
    assert "bytes of output cut here" in text
    assert len(text) < 100_000 + 200
    assert suite.log.total == 5 + 10_000_000 + 6


def test_exit_codes_in_words() -> None:
    assert exit_code_words(5) == "exit 5: no tests collected"
    assert exit_code_words(4) == "exit 4: usage error"
    assert exit_code_words(3, is_pytest=False) == "exit 3"
    assert exit_code_words(-9) == "killed by SIGKILL"


def test_the_suite_reads_its_progress_channel_and_its_tests_do_not_see_it(tmp_path: Path) -> None:
    """The plugin takes the channel the executor names out of the environment: a
    test (or a pytest the suite runs inside) never writes to it by mistake."""
    assert pytest_plugin.PROGRESS_ENV == PROGRESS_ENV
    folder = tmp_path / "suite"
    folder.mkdir()
    (folder / "test_env.py").write_text(
        "import os\n\ndef test_no_channel_in_here():\n    assert 'DASHBOARD_PROGRESS' not in os.environ\n"
    )
    argv = [PY, "-m", "pytest", "-p", "dashboard_core.testing.pytest_plugin", "-p", "no:cacheprovider", str(folder)]
    suite = run(tmp_path, argv, cwd=folder, env={"PYTHONPATH": str(ROOT)})
    assert suite.wait(60), "the suite did not finish"
    assert suite.status is RunStatus.PASSED, suite.message
    assert suite.progress.collected == 1 and suite.progress.summary() == "1 passed"
