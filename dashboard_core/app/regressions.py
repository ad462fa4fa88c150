"""Duration regressions that know the host, for the API, the Tests page and the event.

Each test that passed in a finished run is judged against its durations in the
suite's earlier runs (:mod:`dashboard_core.testing.regressions`); a test found
slower is then checked against the host: if other processes kept the machine
busy while it ran (``testing.regressions.busy_percent`` of all cores or more),
it is labelled "host busy", not "regression". The window is the test's own span
when the case records when it started (``started_at``), else the run's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from dashboard_core.app.host_window import HostWindows
from dashboard_core.app.run_load import RunLoad, run_load
from dashboard_core.config.testing import RegressionConfig
from dashboard_core.labels import Icon
from dashboard_core.models import CaseInfo, RunInfo
from dashboard_core.runtime import Runtime
from dashboard_core.testing.durations import earlier_runs, passed_durations
from dashboard_core.testing.errors import SuiteError
from dashboard_core.testing.regressions import Baseline, Slowdown, judge

if TYPE_CHECKING:
    import plotly.graph_objects as go

VERDICT_ICON = {
    Slowdown.REGRESSION: Icon("trending_up", "red"),
    Slowdown.HOST_BUSY: Icon("speed", "orange"),
    Slowdown.NOT_ENOUGH_HISTORY: Icon("help", "gray"),
}
CHARTS = 4  # slower tests drawn on the page (the table lists them all)
_ORDER = {Slowdown.REGRESSION: 0, Slowdown.HOST_BUSY: 1, Slowdown.NOT_ENOUGH_HISTORY: 2}


class NotFinished(SuiteError):
    def __init__(self, run: RunInfo) -> None:
        super().__init__(f"Run {run.id} of {run.suite!r} has not finished ({run.status}): ask again once it has.")


class NoFinishedRun(SuiteError):
    http_status = 404

    def __init__(self, suite: str) -> None:
        super().__init__(f"Suite {suite!r} has no finished run yet: run it, then ask again.")


class PastRun(BaseModel):
    """An earlier run the tests are compared with, and whether the host was busy over it."""

    run_id: int
    started_at: datetime | None = None
    busy: bool = Field(False, description="Others kept the host busy over the run (the chart marks it).")
    others_cpu_percent: float | None = None


class TestSlowdown(BaseModel):
    """One test that got slower, the baseline it is slower than, and the verdict."""

    __test__ = False  # not a pytest class

    nodeid: str
    duration_seconds: float
    verdict: Slowdown = Field(description="regression, host busy, or not enough history to call it.")
    baseline_runs: int = Field(description="Earlier runs where it passed: the baseline's durations.")
    median_seconds: float = Field(description="The median of those durations.")
    noise_seconds: float = Field(description="Their median absolute deviation x 1.4826 (a robust spread).")
    limit_seconds: float | None = Field(
        None, description="Slower than this is flagged: null when there is not enough history."
    )
    ratio: float | None = Field(None, description="duration / median (null for a median of 0).")
    host: RunLoad | None = Field(None, description="The host over the window judged (null: not judged).")
    host_window: Literal["test", "run"] | None = Field(
        None, description="test: the test's own span (where recorded); run: the run's."
    )
    history: list[float | None] = Field(
        default_factory=list, description="Its duration in each of `runs` (oldest first); null: did not pass."
    )


class RunRegressions(BaseModel):
    """``GET /api/testing/runs/{id}/regressions``: the run's tests that got slower."""

    run_id: int
    suite: str
    started_at: datetime | None = None
    rule: RegressionConfig = Field(description="The settings judged by (testing.regressions).")
    runs: list[PastRun] = Field(default_factory=list, description="The earlier runs compared with, oldest first.")
    passed: int = Field(0, description="Tests that passed in the run: the only ones judged.")
    compared: int = Field(
        0,
        description="Of those, the ones over rule.min_increase_seconds, compared with their history (a faster one "
        "can never be flagged, so it is not read).",
    )
    judged: int = Field(0, description="Compared tests with enough history (rule.min_history passing runs).")
    without_history: int = Field(0, description="Compared tests with fewer passing runs than that.")
    tests: list[TestSlowdown] = Field(
        default_factory=list, description="Regressions first, then host busy, then not enough history; slowest first."
    )
    host: RunLoad | None = Field(None, description="The host over the whole run.")
    note: str = Field("", description="The finding in one sentence.")

    @property
    def regressions(self) -> list[TestSlowdown]:
        return [t for t in self.tests if t.verdict is Slowdown.REGRESSION]


def run_regressions(rt: Runtime, run: RunInfo | int, cases: list[CaseInfo] | None = None) -> RunRegressions:
    """The finished run's slower tests (a page passes the run and cases it shows).
    Raises UnknownRun for an unknown id, NotFinished for a run still going."""
    run = rt.tests.run(run) if isinstance(run, int) else run
    if not run.status.finished:
        raise NotFinished(run)
    rule = rt.config.testing.regressions
    earlier = earlier_runs(rt.store, run.suite, run.id, rule.history_runs)[::-1]  # oldest first
    # Only a test over the floor can be slower (its limit is at least the floor): the
    # history of a 20,000-test suite's fast tests is never read, nor are its cases.
    if cases is None:
        passed, candidates = rt.tests.history.passed_over(run.id, rule.min_increase_seconds)
    else:
        passed = sum(1 for c in cases if c.outcome == "passed")
        candidates = [c for c in cases if c.outcome == "passed" and c.duration > rule.min_increase_seconds]
    durations = passed_durations(rt.store, [r.id for r in earlier], [c.nodeid for c in candidates])
    out = RunRegressions(
        run_id=run.id,
        suite=run.suite,
        started_at=run.started_at,
        rule=rule,
        passed=passed,
        compared=len(candidates),
    )
    found: list[tuple[CaseInfo, Slowdown, Baseline]] = []
    for case in candidates:
        by_run = durations.get(case.nodeid, {})
        verdict, base = judge(case.duration, [by_run[r.id] for r in earlier if r.id in by_run], rule)
        if base is not None and base.enough:
            out.judged += 1
        else:
            out.without_history += 1
        if verdict is not None and base is not None:
            found.append((case, verdict, base))
    host = HostWindows(rt, run, rule.busy_percent)
    if found:  # the host over each earlier run only when there is a chart to mark them on
        out.tests = _slowdowns(host, found, earlier, durations)
        out.runs = [_past(rt, r, rule) for r in earlier]
    out.host = host.over()
    out.note = _note(out, len(earlier))
    return out


def suite_regressions(rt: Runtime, suite: str) -> RunRegressions:
    """The regressions of the suite's newest finished run."""
    last = rt.tests.recent(suite, 1)
    if not last:
        raise NoFinishedRun(suite)
    return run_regressions(rt, last[0])


def _slowdowns(
    host: HostWindows,
    found: list[tuple[CaseInfo, Slowdown, Baseline]],
    earlier: list[RunInfo],
    durations: dict[str, dict[int, float]],
) -> list[TestSlowdown]:
    out = []
    for case, verdict, base in found:
        item = TestSlowdown(
            nodeid=case.nodeid,
            duration_seconds=case.duration,
            verdict=verdict,
            baseline_runs=base.runs,
            median_seconds=base.median,
            noise_seconds=base.noise,
            limit_seconds=base.limit if base.enough else None,
            ratio=case.duration / base.median if base.median > 0 else None,
            history=[durations.get(case.nodeid, {}).get(r.id) for r in earlier],
        )
        if verdict is Slowdown.REGRESSION:
            start = _started(case)
            item.host_window = "test" if start is not None else "run"
            end = start + timedelta(seconds=case.duration) if start is not None else None
            item.host = host.over(start, end)
            if item.host.busy:
                item.verdict = Slowdown.HOST_BUSY
        out.append(item)
    return sorted(out, key=lambda t: (_ORDER[t.verdict], -(t.ratio or 0.0), t.nodeid))


def _started(case: CaseInfo) -> datetime | None:
    """When the test started, where the run recorded it (a datetime, or epoch seconds)."""
    value = getattr(case, "started_at", None)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return value if isinstance(value, datetime) else None


def _past(rt: Runtime, run: RunInfo, rule: RegressionConfig) -> PastRun:
    load = run_load(rt, run, busy_percent=rule.busy_percent)
    return PastRun(run_id=run.id, started_at=run.started_at, busy=load.busy, others_cpu_percent=load.others_cpu_percent)


def _note(out: RunRegressions, earlier: int) -> str:
    rule = out.rule
    if earlier < rule.min_history:
        return (
            f"Not enough history: {earlier} earlier finished run{'s' if earlier != 1 else ''} of {out.suite}; "
            f"a test is judged once it passed in {rule.min_history} of the last {rule.history_runs}."
        )
    regressions = sum(1 for t in out.tests if t.verdict is Slowdown.REGRESSION)
    busy = sum(1 for t in out.tests if t.verdict is Slowdown.HOST_BUSY)
    thin = sum(1 for t in out.tests if t.verdict is Slowdown.NOT_ENOUGH_HISTORY)
    parts = [f"{regressions} regression{'s' if regressions != 1 else ''}"]
    if busy:
        parts.append(f"{busy} slower while the host was busy")
    if thin:
        parts.append(f"{thin} slower with not enough history to call it")
    return (
        f"{', '.join(parts)}; {out.judged} of the {out.compared} passed tests over {rule.min_increase_seconds:g} s "
        f"judged against up to {rule.history_runs} earlier runs (faster ones cannot count as slower)."
    )


def slowdown_chart(found: RunRegressions, test: TestSlowdown) -> go.Figure:
    """The test's duration over the runs compared with, then this run, busy runs marked."""
    from dashboard_core.testing.regression_chart import slowdown_figure  # plotly: with the first chart

    return slowdown_figure(
        [r.run_id for r in found.runs] + [found.run_id],
        [*test.history, test.duration_seconds],
        [r.busy for r in found.runs] + [test.verdict is Slowdown.HOST_BUSY],
        test.median_seconds,
        test.limit_seconds,
        test.verdict.value,
    )
