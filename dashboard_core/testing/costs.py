"""What tests cost, read back: the heaviest tests of a run or of a suite, and the
tests whose cost grew.

The figures come from the pytest plugin (:mod:`~dashboard_core.testing.plugin_meter`),
one row per test and run; tests without them (command suites, runs from before)
are left out, never counted as 0.

Growth, for each test of the judged run and each of CPU seconds (user + system)
and peak resident memory: the test's figures in up to ``window`` earlier finished
runs of the suite form its baseline; with at least :data:`MIN_BASELINE` of them,
its cost grew when it is above all of

    Q3 + 1.5 × IQR        1.25 × the median        the median + the floor

Q3 and IQR: the baseline's upper quartile and interquartile range, so the first is
Tukey's outlier fence: a test that always varied (fast one run, slow the next) is
judged against its own spread, and one odd earlier run moves neither quartile
much. The second and third keep small wobbles quiet: a quarter more at least,
and at least the floor (:data:`FLOORS`: 0.05 CPU seconds, 8 MiB) more, since the
CPU time of a test of a few milliseconds jitters by more than 25 %. In the spirit
of Datadog's duration rule (a multiple of the mean, and above the window's maximum).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dashboard_core.models import CaseInfo, RunInfo
from dashboard_core.models.case_costs import CaseCost, CostGrowth, CostGrowthReport, CostMetric, HeaviestTests
from dashboard_core.testing.errors import SuiteError
from dashboard_core.testing.history import ACTIVE, RunHistory

COST_WINDOW = 10  # earlier runs a test's usual cost is read from
MIN_BASELINE = 3  # earlier figures a test needs before its growth is judged
FENCE = 1.5  # Tukey's: Q3 + 1.5 × IQR
RELATIVE = 1.25
METRICS: tuple[CostMetric, ...] = ("cpu", "memory")
FLOORS: dict[CostMetric, float] = {"cpu": 0.05, "memory": 8 * 1024 * 1024}
RULE = (
    f"A test's cost (CPU seconds, or peak memory) grew when, in this run, it is above its earlier runs' "
    f"Q3 + {FENCE:g} × IQR (Tukey's outlier fence; at least {MIN_BASELINE} earlier runs), above "
    f"{RELATIVE:g} × their median, and at least {FLOORS['cpu']:g} CPU s or {FLOORS['memory'] / 2**20:g} MiB "
    "above that median."
)


class NotOfSuite(SuiteError):
    http_status = 404

    def __init__(self, run: RunInfo, suite: str) -> None:
        super().__init__(f"Run {run.id} is a run of {run.suite!r}, not of {suite!r}.")


@dataclass(frozen=True, slots=True)
class Measured:
    """One test's figures in one run."""

    run_id: int
    nodeid: str
    outcome: str
    duration: float
    cpu_user: float
    cpu_system: float
    peak_rss: int | None

    def value(self, metric: CostMetric) -> float | None:
        return self.cpu_user + self.cpu_system if metric == "cpu" else self.peak_rss


# -- one run -------------------------------------------------------------------------
def case_cost(case: CaseInfo) -> CaseCost | None:
    """The case's cost, or None when it was not measured."""
    if case.cpu_user_seconds is None or case.cpu_system_seconds is None:
        return None
    return CaseCost(
        nodeid=case.nodeid,
        outcome=case.outcome,
        duration=case.duration,
        cpu_user_seconds=case.cpu_user_seconds,
        cpu_system_seconds=case.cpu_system_seconds,
        cpu_seconds=case.cpu_user_seconds + case.cpu_system_seconds,
        cpu_ratio=case.cpu_ratio,
        peak_rss_bytes=case.peak_rss_bytes,
    )


def heaviest(costs: Iterable[CaseCost], by: CostMetric, limit: int) -> list[CaseCost]:
    """The ``limit`` heaviest by CPU seconds or peak memory (ties by node id); for
    memory, the tests without a peak are left out."""
    ranked = [(value, c) for c in costs if (value := c.cpu_seconds if by == "cpu" else c.peak_rss_bytes) is not None]
    ranked.sort(key=lambda pair: (-pair[0], pair[1].nodeid))
    return [c for _, c in ranked[:limit]]


def run_heaviest(run: RunInfo, cases: Sequence[CaseInfo], by: CostMetric, limit: int) -> HeaviestTests:
    costs = [c for c in map(case_cost, cases) if c is not None]
    return HeaviestTests(
        suite=run.suite, run_id=run.id, runs=1, by=by, measured=len(costs), items=heaviest(costs, by, limit)
    )


# -- a suite -------------------------------------------------------------------------
def suite_heaviest(suite: str, measured: Sequence[Measured], runs: int, by: CostMetric, limit: int) -> HeaviestTests:
    """Each test's median cost over the runs given (its outcome: the newest run's)."""
    by_test: dict[str, list[Measured]] = {}
    for m in measured:
        by_test.setdefault(m.nodeid, []).append(m)
    costs = []
    for nodeid, ms in by_test.items():
        user = statistics.median(m.cpu_user for m in ms)
        system = statistics.median(m.cpu_system for m in ms)
        duration = statistics.median(m.duration for m in ms)
        peaks = [m.peak_rss for m in ms if m.peak_rss is not None]
        cpu = statistics.median(m.cpu_user + m.cpu_system for m in ms)
        costs.append(
            CaseCost(
                nodeid=nodeid,
                outcome=max(ms, key=lambda m: m.run_id).outcome,  # type: ignore[arg-type]
                duration=duration,
                cpu_user_seconds=user,
                cpu_system_seconds=system,
                cpu_seconds=cpu,
                cpu_ratio=cpu / duration if duration > 0 else None,
                peak_rss_bytes=int(statistics.median(peaks)) if peaks else None,
                runs=len(ms),
            )
        )
    return HeaviestTests(suite=suite, runs=runs, by=by, measured=len(costs), items=heaviest(costs, by, limit))


def grown(now: Sequence[Measured], earlier: Sequence[Measured]) -> list[CostGrowth]:
    """The tests of ``now`` (one run's figures) whose CPU or memory grew beyond their
    noise against ``earlier`` (the earlier runs' figures): the rule in the module's doc."""
    history: dict[str, list[Measured]] = {}
    for m in earlier:
        history.setdefault(m.nodeid, []).append(m)
    found = []
    for m in now:
        for metric in METRICS:
            value = m.value(metric)
            before = [v for v in (e.value(metric) for e in history.get(m.nodeid, ())) if v is not None]
            if value is None or len(before) < MIN_BASELINE:
                continue
            median = statistics.median(before)
            q1, _, q3 = statistics.quantiles(before, n=4, method="inclusive")
            threshold = max(q3 + FENCE * (q3 - q1), RELATIVE * median, median + FLOORS[metric])
            if value > threshold:
                found.append(
                    CostGrowth(
                        nodeid=m.nodeid,
                        metric=metric,
                        now=value,
                        median=median,
                        spread=q3 - q1,
                        threshold=threshold,
                        baseline_runs=len(before),
                        growth_percent=(value / median - 1) * 100 if median > 0 else float("inf"),
                    )
                )
    return sorted(found, key=lambda g: (-g.growth_percent, g.nodeid, g.metric))


# -- reading the store ---------------------------------------------------------------
def measured_cases(history: RunHistory, run_ids: Sequence[int]) -> list[Measured]:
    """The measured cases of these runs (a case without CPU figures is left out)."""
    if not run_ids:
        return []
    marks = ",".join("?" * len(run_ids))
    rows = history.store.all(
        "SELECT run_id, nodeid, outcome, duration, cpu_user_seconds, cpu_system_seconds, peak_rss_bytes"
        f" FROM test_cases WHERE run_id IN ({marks}) AND cpu_user_seconds IS NOT NULL"
        " AND cpu_system_seconds IS NOT NULL",
        list(run_ids),
    )
    return [Measured(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]


def earlier_runs(history: RunHistory, suite: str, before: int, n: int) -> list[int]:
    """Ids of the suite's ``n`` newest finished runs older than run ``before``, newest first."""
    rows = history.store.all(
        "SELECT id FROM test_runs WHERE suite = ? AND id < ? AND status NOT IN (?, ?) ORDER BY id DESC LIMIT ?",
        (suite, before, *ACTIVE, n),
    )
    return [int(r[0]) for r in rows]


def growth_report(history: RunHistory, run: RunInfo, window: int) -> CostGrowthReport:
    """The tests of ``run`` whose cost grew against the suite's ``window`` runs before it."""
    now = measured_cases(history, [run.id])
    earlier = measured_cases(history, earlier_runs(history, run.suite, run.id, window)) if now else []
    return CostGrowthReport(suite=run.suite, run_id=run.id, window=window, rule=RULE, items=grown(now, earlier))
