"""Progress read from real pytest runs of the demo suite equals pytest's own report,
whether the lines come from our plugin or from pytest-reportlog (same format)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard_core.testing.jsonlines import JsonLinesTail
from dashboard_core.testing.progress import Progress, describe
from tests.polling import wait_until

ROOT = Path(__file__).parents[2]
DEMO = ROOT / "examples" / "demo_suite"


def pytest_argv(events: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "pytest", str(DEMO), "-p", "dashboard_core.testing.pytest_plugin",
        f"--dashboard-events={events}", "-p", "no:cacheprovider", *extra,
    ]  # fmt: skip


def reportlog_argv(report_log: Path) -> list[str]:
    """pytest-reportlog alone: the format our plugin's report lines follow."""
    return [sys.executable, "-m", "pytest", str(DEMO), f"--report-log={report_log}", "-p", "no:cacheprovider"]


WRITERS = pytest.mark.parametrize("writer", ["our plugin", "pytest-reportlog"])


def run_demo(writer: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    path = tmp_path / "events.jsonl"
    if writer == "pytest-reportlog":
        pytest.importorskip("pytest_reportlog", reason="pytest-reportlog comes with the test requirements")
    argv = pytest_argv(path) if writer == "our plugin" else reportlog_argv(path)
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120), path


def fold(*paths: Path) -> Progress:
    progress = Progress()
    for path in paths:
        for record in JsonLinesTail(path).read_new():
            progress.apply(record)
    return progress


@WRITERS
def test_counts_equal_what_pytest_itself_reports(writer: str, tmp_path: Path) -> None:
    done, events = run_demo(writer, tmp_path)
    assert done.returncode == 1  # the demo has failures on purpose
    closing = done.stdout.strip().splitlines()[-1]
    expected = dict((k, int(n)) for n, k in re.findall(r"(\d+) (\w+)", closing.split(" in ")[0]))
    expected["error"] = expected.pop("errors", expected.pop("error", 0))
    progress = fold(events)
    assert {k: v for k, v in progress.counts.items() if v} == {k: v for k, v in expected.items() if v}
    assert progress.summary() in closing
    assert progress.finished == 12
    assert progress.collected == (12 if writer == "our plugin" else None)  # reportlog does not say
    assert progress.session_done and progress.exit_status == 1
    assert progress.current is None


@WRITERS
def test_each_case_has_one_outcome_with_its_reason(writer: str, tmp_path: Path) -> None:
    _, events = run_demo(writer, tmp_path)
    cases = {nodeid.split("::")[-1]: case for nodeid, case in fold(events).cases.items()}
    assert {name: c.outcome for name, c in cases.items() if not name.startswith("test_parametrised")} == {
        "test_passes": "passed",
        "test_fails": "failed",
        "test_errors_in_setup": "error",
        "test_skipped": "skipped",
        "test_expected_failure": "xfailed",
        "test_unexpected_pass": "xpassed",
        "test_slow": "passed",
        "test_writes_output": "passed",
    }
    fails = cases["test_fails"]
    assert fails.message.startswith("AssertionError: assert {'status'")
    assert ">       assert actual == expected" in fails.traceback
    assert "test_demo.py:23" in fails.traceback
    assert "could not connect to the test database" in cases["test_errors_in_setup"].message
    assert cases["test_skipped"].message == "needs a GPU, which this machine has not"
    assert cases["test_slow"].duration >= 1.0
    assert sum(1 for n in cases if n.startswith("test_parametrised[")) == 4


def test_progress_is_readable_while_the_run_goes_on(tmp_path: Path) -> None:
    """Tail the files of a running pytest: the slow test shows as current before the run ends."""
    events = tmp_path / "events.jsonl"
    proc = subprocess.Popen(pytest_argv(events, "-k", "slow or passes"), cwd=ROOT, stdout=subprocess.DEVNULL)
    tails, progress = [JsonLinesTail(events)], Progress()

    def poll() -> Progress:
        for tail in tails:
            for record in tail.read_new():
                progress.apply(record)
        return progress

    try:
        wait_until(lambda: poll().current and poll().current.endswith("test_slow"), 60, "test_slow to start")
        assert proc.poll() is None, "the run ended before its progress was read"
        assert progress.collected == 2
        wait_until(lambda: poll().session_done, 60, "the run to finish")
    finally:
        proc.wait(timeout=60)
    assert progress.counts["passed"] == 2 and progress.finished == 2


def test_a_partial_last_line_waits_for_its_end(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    tail = JsonLinesTail(path)
    assert tail.read_new() == []  # not created yet
    path.write_bytes(b'{"a": 1}\n{"b": ')
    assert tail.read_new() == [{"a": 1}]
    with path.open("ab") as f:
        f.write(b'2}\nnot json\n[1]\n{"c": 3}\n')
    assert tail.read_new() == [{"b": 2}, {"c": 3}]
    assert tail.bad_lines == 2


@pytest.mark.parametrize(
    ("longrepr", "message"),
    [(None, None), (["f.py", 3, "Skipped: no GPU"], "no GPU"), ("line 1\nValueError: x\n", "ValueError: x")],
)
def test_describe_plain_forms(longrepr: object, message: str | None) -> None:
    assert describe(longrepr)[0] == message
