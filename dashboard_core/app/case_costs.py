"""What tests cost, as the API and the Tests page ask for it: the heaviest tests of a
run or of a suite, and the tests of a run whose cost grew (the rules in
:mod:`dashboard_core.testing.costs`).

A run's growth is judged against the quartiles of the suite's runs before it. Those
runs are finished, so their quartiles are kept (the last :data:`BASELINES` sets, by
store, suite and the ids of those runs): a page that reruns on every click over a
run of 20,000 tests reads its 200,000 earlier rows once, not on every rerun.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dashboard_core.app.kept import Kept
from dashboard_core.models import RunDetail, RunInfo
from dashboard_core.models.case_costs import CostGrowthReport, CostMetric, HeaviestTests
from dashboard_core.runtime import Runtime
from dashboard_core.testing.case_query import CaseQuery
from dashboard_core.testing.costs import (
    COST_WINDOW,
    RULE,
    Baseline,
    NotOfSuite,
    baseline_of,
    earlier_runs,
    growth_report,
    measured_frame,
    run_heaviest,
    suite_heaviest,
)
from dashboard_core.units import format_bytes

if TYPE_CHECKING:  # pandas loads with the page's first table
    import pandas as pd

BASELINES = 4  # a 20,000-test suite's is a few MB
_baselines: Kept[tuple[str, str, tuple[int, ...]], Baseline] = Kept(BASELINES)


def heaviest_of_run(rt: Runtime, run_id: int, by: CostMetric, limit: int) -> HeaviestTests:
    """A run's heaviest tests (so far, while it runs). Raises ``UnknownRun``."""
    run = rt.tests.detail(run_id)
    return run_heaviest(run, run.cases, by, limit)


def heaviest_of_suite(rt: Runtime, suite: str, by: CostMetric, limit: int, n: int) -> HeaviestTests:
    """Each test's median cost over the suite's last ``n`` finished runs, heaviest first.
    Raises ``UnknownSuite``."""
    runs = rt.tests.recent(suite, n)
    measured = measured_frame(rt.tests.history, [r.id for r in runs])
    return suite_heaviest(suite, measured, len(runs), by, limit)


def cost_growth(rt: Runtime, suite: str, run_id: int | None, window: int) -> CostGrowthReport:
    """The tests of a run of ``suite`` (its newest finished run if None) whose CPU or memory
    grew against the ``window`` runs before it. Raises ``UnknownSuite``, ``UnknownRun``,
    or ``NotOfSuite`` for a run of another suite."""
    newest = rt.tests.recent(suite, 1)  # also: the suite exists
    if run_id is None and not newest:
        return CostGrowthReport(suite=suite, window=window, rule=RULE)
    detail = rt.tests.detail(newest[0].id if run_id is None else run_id)
    if detail.suite != suite:
        raise NotOfSuite(detail, suite)
    return growth(rt, detail, window)


def growth(rt: Runtime, run: RunDetail, window: int) -> CostGrowthReport:
    """The tests of ``run`` (its cases as read) whose cost grew against the suite's
    ``window`` finished runs before it."""
    return growth_report(run, run.cases, window, _baseline(rt, run, window))


def _baseline(rt: Runtime, run: RunInfo, window: int) -> Baseline:
    history = rt.tests.history
    earlier = tuple(earlier_runs(history, run.suite, run.id, window))
    return _baselines.get_or_make((str(history.store.path), run.suite, earlier), lambda: baseline_of(history, earlier))


# -- the Tests page's section ------------------------------------------------------------
PAGE_LIMIT = 10  # tests in each of the page's tables
NOT_MEASURED = (
    "No CPU or memory figures for this run's tests: they come from the dashboard's pytest plugin, so a "
    "command suite (JUnit XML) and runs from before this feature have none."
)


@dataclass(frozen=True, slots=True)
class RunCosts:
    """What the Tests page shows of a run's costs."""

    by_cpu: HeaviestTests
    by_memory: HeaviestTests
    growth: CostGrowthReport | None  # None while the run goes on, or when nothing was measured
    note: str | None  # why there is nothing to show


def run_costs(rt: Runtime, run: RunInfo, limit: int = PAGE_LIMIT, window: int = COST_WINDOW) -> RunCosts:
    """The heaviest tests of a run (read a page from the store, largest first: a run
    of 20,000 tests is not read whole), and, once it has finished, those whose cost
    grew against the suite's runs before it."""
    by_cpu, by_memory = _heaviest(rt, run, "cpu", limit), _heaviest(rt, run, "memory", limit)
    if not by_cpu.measured:
        return RunCosts(by_cpu, by_memory, None, NOT_MEASURED if rt.tests.case_page(run.id, _ANY).run_total else None)
    found = _finished_growth(rt, run, window) if run.status.finished else None
    return RunCosts(by_cpu, by_memory, found, None)


_growths: Kept[tuple[str, int, int], CostGrowthReport] = Kept(8)  # a page rerun reads none of their cases again


def _finished_growth(rt: Runtime, run: RunInfo, window: int) -> CostGrowthReport:
    """A finished run's growth (its cases never change, nor do the runs before it)."""
    key = (str(rt.tests.history.store.path), run.id, window)
    return _growths.get_or_make(key, lambda: growth(rt, rt.tests.detail(run.id), window))


_ANY = CaseQuery.model_validate({"limit": 1})
_SORT_BY: dict[CostMetric, str] = {"cpu": "cpu_seconds", "memory": "peak_rss_bytes"}


def _heaviest(rt: Runtime, run: RunInfo, by: CostMetric, limit: int) -> HeaviestTests:
    """The run's heaviest by ``by``, from one sorted page of its measured cases."""
    sort = _SORT_BY[by]
    page = rt.tests.case_page(run.id, CaseQuery.model_validate({"sort": sort, "limit": limit, f"min_{sort}": 0}))
    return run_heaviest(run, page.items, by, limit).model_copy(update={"measured": page.total})


def heaviest_frame(heavy: HeaviestTests) -> pd.DataFrame:
    """The page's table of heaviest tests: CPU seconds, or peak memory in MiB (for a bar)."""
    import pandas as pd

    if heavy.by == "cpu":
        columns = ["cpu_seconds", "nodeid", "cpu_user_seconds", "cpu_system_seconds", "cpu_ratio", "duration"]
        rows = [c.model_dump(include=set(columns)) for c in heavy.items]
    else:
        columns = ["peak_rss_mib", "nodeid", "cpu_seconds", "duration"]
        rows = [
            {**c.model_dump(include=set(columns)), "peak_rss_mib": (c.peak_rss_bytes or 0) / 2**20} for c in heavy.items
        ]
    return pd.DataFrame(rows, columns=columns)


def growth_frame(report: CostGrowthReport) -> pd.DataFrame:
    """The page's table of tests whose cost grew: what, now, usually, by how much."""
    import pandas as pd

    def amount(metric: str, value: float) -> str:
        return f"{value:.2f} s" if metric == "cpu" else format_bytes(value)

    rows = [
        {
            "nodeid": g.nodeid,
            "metric": "CPU" if g.metric == "cpu" else "peak memory",
            "now": amount(g.metric, g.now),
            "median": amount(g.metric, g.median),
            "growth_percent": g.growth_percent,
            "baseline_runs": g.baseline_runs,
        }
        for g in report.items
    ]
    return pd.DataFrame(rows, columns=["nodeid", "metric", "now", "median", "growth_percent", "baseline_runs"])
