"""What the Tests page and the API show about runs: the results table and its
filters, the slowest tests, a run as CSV or JUnit XML, the history of a suite
and its flaky tests. Plain functions over the models, no I/O. pandas loads with
the first table: the suite manager imports this module in an idle server."""

from __future__ import annotations

import socket
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

from dashboard_core.metrics.export import frame_to_csv
from dashboard_core.models import CaseInfo, FlakyTest, RunDetail, RunInfo
from dashboard_core.testing.junit import write_junit
from dashboard_core.testing.progress import CaseResult, SubtestResult
from dashboard_core.testing.verdicts import suite_verdicts

CASE_COLUMNS = ["outcome", "nodeid", "duration", "message"]
RESOURCE_COLUMNS = ["cpu_user_seconds", "cpu_system_seconds", "peak_rss_bytes", "started_at"]
FAILING = ("failed", "error")


def results_order(cases: Iterable[CaseInfo]) -> list[CaseInfo]:
    """The results table's order: failures and errors first, then the order the tests ran."""
    return sorted(cases, key=lambda c: (c.outcome not in FAILING, c.ordinal))


def cases_frame(cases: Sequence[CaseInfo]) -> pd.DataFrame:
    """One row per test: outcome, node id, seconds, message; in the order given."""
    import pandas as pd

    return pd.DataFrame([c.model_dump(include=set(CASE_COLUMNS)) for c in cases], columns=CASE_COLUMNS)


def filter_cases(frame: pd.DataFrame, outcomes: Iterable[str] | None = None, text: str = "") -> pd.DataFrame:
    """Rows whose outcome is one of ``outcomes`` (all if None) and whose node id or
    message contains ``text`` (case-insensitive)."""
    import pandas as pd

    keep = pd.Series(True, index=frame.index)
    if outcomes is not None:
        keep &= frame["outcome"].isin(list(outcomes))
    needle = text.strip().lower()
    if needle:
        haystack = frame["nodeid"].str.lower() + "\n" + frame["message"].fillna("").str.lower()
        keep &= haystack.str.contains(needle, regex=False)
    return frame[keep]


def slowest(cases: Sequence[CaseInfo], n: int = 10) -> pd.DataFrame:
    return cases_frame(sorted(cases, key=lambda c: c.duration, reverse=True)[:n])


def run_csv(run: RunDetail) -> bytes:
    """The run's test cases as CSV (spreadsheet-safe), with the run in every row; a
    test's subtests follow it, each a row with its test's node id and its ``subtest``
    (the resource columns empty there, and where not measured: command suites, older runs)."""
    import pandas as pd

    columns = [*CASE_COLUMNS, "subtest", "traceback", *RESOURCE_COLUMNS]
    frame = pd.DataFrame(with_subtests(run.cases, RESOURCE_COLUMNS), columns=columns)
    frame.insert(0, "run_id", run.id)
    frame.insert(1, "suite", run.suite)
    return frame_to_csv(frame)


def run_junit(run: RunDetail) -> bytes:
    """The run as JUnit XML, its test cases in the order they ran."""
    ran = sorted(run.cases, key=lambda c: c.ordinal)
    cases = [
        CaseResult(c.nodeid, c.outcome, c.duration, c.message, c.traceback, c.ordinal, subtests=subtest_results(c))
        for c in ran
    ]
    return write_junit(
        run.suite, cases, timestamp=run.started_at, duration=run.duration_seconds, hostname=socket.gethostname()
    )


def export_name(run: RunInfo, extension: str) -> str:
    """``demo_run-12_20261125T080000Z.csv``: safe as a file name on every system."""
    when = (run.started_at or run.queued_at).strftime("%Y%m%dT%H%M%SZ")
    return f"{run.suite}_run-{run.id}_{when}.{extension}"


def history_frame(runs: Sequence[RunInfo]) -> pd.DataFrame:
    """Finished runs oldest first: when, status, pass rate (%), duration (s), counts."""
    import pandas as pd

    rows = [
        {
            "id": r.id,
            "started": r.started_at or r.queued_at,
            "status": str(r.status),
            "pass_rate": None if r.pass_rate is None else 100 * r.pass_rate,
            "duration": r.duration_seconds,
            "passed": r.counts.passed,
            "failed": r.counts.failed,
            "errors": r.counts.errors,
            "selected": r.selected,
        }
        for r in sorted(runs, key=lambda r: r.id)
        if r.status.finished
    ]
    columns = ["id", "started", "status", "pass_rate", "duration", "passed", "failed", "errors", "selected"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["started"] = pd.to_datetime(frame["started"], utc=True)
    return frame


def pass_rate_spark(runs: Sequence[RunInfo]) -> list[float]:
    """Pass rate (%) of each full run, oldest first, for a card's sparkline."""
    return [
        round(100 * r.pass_rate, 1)
        for r in sorted(runs, key=lambda r: r.id)
        if r.status.finished and r.pass_rate is not None and r.selected is None
    ]


def flaky_tests(runs: Sequence[RunInfo], outcomes: Iterable[tuple[int, str, str]]) -> list[FlakyTest]:
    """Tests whose result flipped between pass and fail across these runs, most flips first
    (``outcomes``: (run id, node id, outcome) rows of those runs). A test failing in every
    run is broken, not flaky; :func:`~dashboard_core.testing.verdicts.suite_verdicts` says
    which are which, and knows retries and recovery."""
    attempts = ((run_id, nodeid, outcome, 0) for run_id, nodeid, outcome in outcomes)
    return [f for f in suite_verdicts(runs, attempts, None) if f.verdict == "flaky"]


# -- subtests ------------------------------------------------------------------------
def with_subtests(cases: Iterable[CaseInfo], extra: Sequence[str] = ()) -> list[dict[str, object]]:
    """One row per test, its subtests' rows right after it (``subtest`` names one;
    a test's own row has None), for the table and the CSV; ``extra``: more of the
    test's fields on its own row."""
    rows: list[dict[str, object]] = []
    for case in cases:
        rows.append({**case.model_dump(include={*CASE_COLUMNS, "traceback", *extra}), "subtest": None})
        rows += [
            {
                "nodeid": case.nodeid,
                "subtest": t.name,
                **t.model_dump(include={"outcome", "duration", "message", "traceback"}),
            }
            for t in case.subtests
        ]
    return rows


def subtest_results(case: CaseInfo) -> tuple[SubtestResult, ...]:
    return tuple(SubtestResult(t.name, t.outcome, t.duration, t.message, t.traceback) for t in case.subtests)
