"""Results tables, flaky tests, history and exports, on crafted runs."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pandas as pd

from dashboard_core.models import CaseInfo, RunCounts, RunDetail, RunInfo, RunStatus, Trigger
from dashboard_core.testing.charts import history_figure
from dashboard_core.testing.reports import (
    cases_frame,
    export_name,
    filter_cases,
    flaky_tests,
    history_frame,
    pass_rate_spark,
    run_csv,
    slowest,
)
from dashboard_core.testing.terminal import final_report, progress_line

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def run(run_id: int, status: RunStatus = RunStatus.PASSED, passed: int = 3, failed: int = 0, **kw: object) -> RunInfo:
    return RunInfo(
        id=run_id,
        suite="demo",
        trigger=Trigger.UI,
        status=status,
        queued_at=T0 + timedelta(minutes=run_id),
        started_at=T0 + timedelta(minutes=run_id),
        duration_seconds=10.0 + run_id,
        counts=RunCounts(collected=passed + failed, done=passed + failed, passed=passed, failed=failed),
        **kw,  # type: ignore[arg-type]
    )


CASES = [
    CaseInfo(nodeid="t.py::test_a", outcome="passed", duration=0.1),
    CaseInfo(nodeid="t.py::test_b", outcome="failed", duration=2.5, message="AssertionError: 1 != 2", traceback="tb"),
    CaseInfo(nodeid="t.py::test_c[x]", outcome="error", duration=0.3, message="RuntimeError: no database"),
    CaseInfo(nodeid="t.py::test_d", outcome="skipped", duration=0.0, message="needs a GPU"),
]


def test_filter_by_outcome_and_text() -> None:
    frame = cases_frame(CASES)
    assert list(frame.columns) == ["outcome", "nodeid", "duration", "message"]
    assert list(filter_cases(frame, ["failed", "error"])["nodeid"]) == ["t.py::test_b", "t.py::test_c[x]"]
    assert list(filter_cases(frame, None, "DATABASE")["nodeid"]) == ["t.py::test_c[x]"]  # message, any case
    assert list(filter_cases(frame, ["passed"], "test_")["nodeid"]) == ["t.py::test_a"]
    assert filter_cases(frame, [], "").empty


def test_slowest_first() -> None:
    assert list(slowest(CASES, 2)["nodeid"]) == ["t.py::test_b", "t.py::test_c[x]"]


def test_flaky_tests_are_those_that_flipped() -> None:
    runs = [run(i) for i in (1, 2, 3, 4)]
    outcomes = [
        (1, "stable", "passed"), (2, "stable", "passed"), (3, "stable", "passed"), (4, "stable", "passed"),
        (1, "flaky", "passed"), (2, "flaky", "failed"), (3, "flaky", "passed"), (4, "flaky", "passed"),
        (1, "broken", "failed"), (2, "broken", "error"), (3, "broken", "failed"),
        (2, "sometimes", "skipped"), (3, "sometimes", "error"), (4, "sometimes", "xpassed"),
    ]  # fmt: skip
    flaky = {f.nodeid: f for f in flaky_tests(runs, outcomes)}
    assert set(flaky) == {"flaky", "sometimes"}  # always failing is broken, not flaky
    assert flaky["flaky"].flips == 2 and flaky["flaky"].history == "PFPP" and flaky["flaky"].last_outcome == "passed"
    assert flaky["sometimes"].history == "--FP" and flaky["sometimes"].runs == 2
    assert [f.nodeid for f in flaky_tests(runs, outcomes)] == ["flaky", "sometimes"]  # most flips first


def test_history_frame_and_figure() -> None:
    runs = [run(2, RunStatus.FAILED, 2, 1), run(1), run(3, RunStatus.RUNNING), run(4, selected=1)]
    frame = history_frame(runs)
    assert list(frame["id"]) == [1, 2, 4]  # finished only, oldest first
    assert frame["pass_rate"].round(1).tolist() == [100.0, 66.7, 100.0]
    assert str(frame["started"].dt.tz) == "UTC"
    fig = history_figure(frame, "Europe/Berlin")
    assert fig is not None and [(t.type, t.name) for t in fig.data] == [
        ("scatter", "full runs"), ("scatter", "re-runs"), ("bar", "duration"),
    ]  # fmt: skip
    assert list(fig.data[0].x) == ["#1", "#2"] and list(fig.data[1].x) == ["#4"]  # the line skips re-runs
    assert list(fig.data[2].x) == ["#1", "#2", "#4"] and fig.data[2].marker.pattern.shape == ("", "", "/")
    assert "09:01:00" in fig.data[0].hovertext[0]  # local time in the hover
    assert history_figure(history_frame([])) is None
    assert pass_rate_spark(runs) == [100.0, 66.7]  # full runs only: a re-run of 1 test says little


def test_run_csv_is_spreadsheet_safe() -> None:
    detail = RunDetail(
        **run(7).model_dump(),
        cases=[CaseInfo(nodeid="t.py::test_x", outcome="failed", duration=1.0, message="=HYPERLINK(\"x\")")],
    )
    table = pd.read_csv(io.BytesIO(run_csv(detail)))
    assert table.loc[0, "message"] == "'=HYPERLINK(\"x\")"
    assert export_name(detail, "csv") == "demo_run-7_20261125T080700Z.csv"


def test_terminal_lines() -> None:
    live = run(5, RunStatus.RUNNING, passed=2, failed=1, current_test="t.py::test_slow", eta_seconds=4.0)
    live.counts.collected = 6
    line = progress_line(live)
    assert line.startswith("[############............] 3/6  15.0 s, about 4.0 s left  1 failed, 2 passed")
    assert line.endswith("test_slow")
    assert len(progress_line(live, width=30)) == 30
    report = final_report(RunDetail(**run(5, RunStatus.FAILED, 2, 1, message="exit 1: tests failed").model_dump(), cases=CASES))
    assert report.splitlines()[0] == "Run 5 of demo: failed (exit 1: tests failed)"
    assert "  FAILED t.py::test_b - AssertionError: 1 != 2" in report and "  ERROR  t.py::test_c[x]" in report
