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

import heapq
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from dashboard_core.models import CaseInfo, RunInfo
from dashboard_core.models.case_costs import CaseCost, CostGrowth, CostGrowthReport, CostMetric, HeaviestTests
from dashboard_core.testing.errors import SuiteError
from dashboard_core.testing.history import ACTIVE, RunHistory

if TYPE_CHECKING:  # pandas loads with the first suite-wide view: 20,000 tests × 10 runs are grouped there
    import pandas as pd

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
# The measured cases of some runs, one row each: what measured_frame reads and grown takes.
COLUMNS = ["run_id", "nodeid", "outcome", "duration", "cpu_user", "cpu_system", "memory"]


class NotOfSuite(SuiteError):
    http_status = 404

    def __init__(self, run: RunInfo, suite: str) -> None:
        super().__init__(f"Run {run.id} is a run of {run.suite!r}, not of {suite!r}.")


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


def run_heaviest(run: RunInfo, cases: Sequence[CaseInfo], by: CostMetric, limit: int) -> HeaviestTests:
    """The run's ``limit`` heaviest by CPU seconds (user + system) or peak memory, ties by
    node id; tests without figures are left out (and, for memory, those without a peak).
    One pass and a partial sort: a run of 20,000 tests makes ``limit`` models, not 20,000."""
    measured = 0
    ranked: list[tuple[float, str, CaseInfo]] = []
    for c in cases:
        user, system = c.cpu_user_seconds, c.cpu_system_seconds
        if user is None or system is None:
            continue
        measured += 1
        value = user + system if by == "cpu" else c.peak_rss_bytes
        if value is not None:
            ranked.append((-value, c.nodeid, c))
    top = heapq.nsmallest(limit, ranked, key=lambda r: (r[0], r[1]))
    items = [cost for *_, c in top if (cost := case_cost(c)) is not None]
    return HeaviestTests(suite=run.suite, run_id=run.id, runs=1, by=by, measured=measured, items=items)


# -- a suite: pandas, grouped by test ------------------------------------------------
def frame_of(rows: Iterable[Sequence[Any]]) -> pd.DataFrame:
    """Rows of :data:`COLUMNS` as a frame, with ``cpu`` (user + system) added."""
    import pandas as pd

    frame = pd.DataFrame([tuple(r) for r in rows], columns=COLUMNS)
    frame["memory"] = frame["memory"].astype("float64")  # NULL peaks: NaN
    frame["cpu"] = frame["cpu_user"].astype("float64") + frame["cpu_system"].astype("float64")
    return frame


def suite_heaviest(suite: str, measured: pd.DataFrame, runs: int, by: CostMetric, limit: int) -> HeaviestTests:
    """Each test's median cost over the runs in ``measured`` (its outcome: the newest run's)."""
    if measured.empty:
        return HeaviestTests(suite=suite, runs=runs, by=by, measured=0)
    groups = measured.sort_values("run_id").groupby("nodeid", sort=False)
    typical = groups[["duration", "cpu_user", "cpu_system", "cpu", "memory"]].median()
    typical["runs"] = groups.size()
    typical["outcome"] = groups["outcome"].last()
    ranked = typical.dropna(subset=["cpu" if by == "cpu" else "memory"]).reset_index()
    top = ranked.sort_values(["cpu" if by == "cpu" else "memory", "nodeid"], ascending=[False, True]).head(limit)
    items = [_typical_cost(row) for row in top.to_dict("records")]
    return HeaviestTests(suite=suite, runs=runs, by=by, measured=len(typical), items=items)


Baseline = dict[CostMetric, "pd.DataFrame"]  # per metric, by node id: q1, median, q3, n


def baseline(earlier: pd.DataFrame) -> Baseline:
    """Each test's quartiles and count of figures in the earlier runs' rows (``nodeid``,
    ``cpu``, ``memory``), per metric."""
    import numpy as np

    found: Baseline = {}
    for metric in METRICS:
        values = earlier[["nodeid", metric]].dropna().groupby("nodeid")[metric]
        quartiles = values.quantile(np.array([0.25, 0.5, 0.75])).unstack()  # linear: statistics.quantiles' "inclusive"
        if quartiles.empty:
            quartiles = quartiles.reindex(columns=[0.25, 0.5, 0.75])
        found[metric] = quartiles.set_axis(["q1", "median", "q3"], axis=1).assign(n=values.size())
    return found


def _typical_cost(row: dict[Any, Any]) -> CaseCost:
    cpu, duration, memory = float(row["cpu"]), float(row["duration"]), float(row["memory"])
    return CaseCost(
        nodeid=row["nodeid"],
        outcome=row["outcome"],
        duration=duration,
        cpu_user_seconds=float(row["cpu_user"]),
        cpu_system_seconds=float(row["cpu_system"]),
        cpu_seconds=cpu,
        cpu_ratio=cpu / duration if duration > 0 else None,
        peak_rss_bytes=None if math.isnan(memory) else int(memory),  # NaN: no peak
        runs=int(row["runs"]),
    )


def grown(now: pd.DataFrame, base: Baseline) -> list[CostGrowth]:
    """The tests of ``now`` (one run's rows) whose CPU or memory grew beyond their noise
    against their ``base`` (the earlier runs' quartiles): the rule in the module's doc."""
    import numpy as np

    found: list[CostGrowth] = []
    current = now.drop_duplicates("nodeid").set_index("nodeid")
    for metric, stats in base.items():
        stats = stats[stats["n"] >= MIN_BASELINE].join(current[metric].rename("now"), how="inner").dropna()
        fence = stats["q3"] + FENCE * (stats["q3"] - stats["q1"])
        threshold = np.maximum.reduce([fence, RELATIVE * stats["median"], stats["median"] + FLOORS[metric]])
        for nodeid, row in stats.assign(threshold=threshold)[stats["now"] > threshold].iterrows():
            median = float(row["median"])
            found.append(
                CostGrowth(
                    nodeid=str(nodeid),
                    metric=metric,
                    now=float(row["now"]),
                    median=median,
                    spread=float(row["q3"] - row["q1"]),
                    threshold=float(row["threshold"]),
                    baseline_runs=int(row["n"]),
                    growth_percent=(float(row["now"]) / median - 1) * 100 if median > 0 else float("inf"),
                )
            )
    return sorted(found, key=lambda g: (-g.growth_percent, g.nodeid, g.metric))


def cases_frame(run_id: int, cases: Iterable[CaseInfo]) -> pd.DataFrame:
    """A run's measured cases (as a page or the API has read them) as rows of :data:`COLUMNS`."""
    return frame_of(
        (run_id, c.nodeid, c.outcome, c.duration, c.cpu_user_seconds, c.cpu_system_seconds, c.peak_rss_bytes)
        for c in cases
        if c.cpu_user_seconds is not None and c.cpu_system_seconds is not None
    )


# -- reading the store ---------------------------------------------------------------
def measured_frame(history: RunHistory, run_ids: Sequence[int]) -> pd.DataFrame:
    """The measured cases of these runs (a case without CPU figures is left out)."""
    if not run_ids:
        return frame_of([])
    marks = ",".join("?" * len(run_ids))
    rows = history.store.all(
        "SELECT run_id, nodeid, outcome, duration, cpu_user_seconds, cpu_system_seconds, peak_rss_bytes"
        f" FROM test_cases WHERE run_id IN ({marks}) AND cpu_user_seconds IS NOT NULL"
        " AND cpu_system_seconds IS NOT NULL",
        list(run_ids),
    )
    return frame_of(rows)


def baseline_of(history: RunHistory, run_ids: Sequence[int]) -> Baseline:
    """:func:`baseline` of these runs, read lean (three columns, the CPU summed by SQLite):
    the 200,000 rows of ten runs of a 20,000-test suite in about half a second."""
    import pandas as pd

    marks = ",".join("?" * len(run_ids))
    rows = (
        history.store.all(
            "SELECT nodeid, cpu_user_seconds + cpu_system_seconds, peak_rss_bytes FROM test_cases"
            f" WHERE run_id IN ({marks}) AND cpu_user_seconds IS NOT NULL AND cpu_system_seconds IS NOT NULL",
            list(run_ids),
        )
        if run_ids
        else []
    )
    frame = pd.DataFrame(rows, columns=["nodeid", "cpu", "memory"])
    return baseline(frame.astype({"cpu": "float64", "memory": "float64"}))


def earlier_runs(history: RunHistory, suite: str, before: int, n: int) -> list[int]:
    """Ids of the suite's ``n`` newest finished runs older than run ``before``, newest first."""
    rows = history.store.all(
        "SELECT id FROM test_runs WHERE suite = ? AND id < ? AND status NOT IN (?, ?) ORDER BY id DESC LIMIT ?",
        (suite, before, *ACTIVE, n),
    )
    return [int(r[0]) for r in rows]


def growth_report(run: RunInfo, cases: Iterable[CaseInfo], window: int, base: Baseline) -> CostGrowthReport:
    """The tests of ``run`` (its ``cases``) whose cost grew against ``base``, the baseline
    of the suite's ``window`` runs before it (:func:`earlier_runs`, :func:`baseline`)."""
    items = grown(cases_frame(run.id, cases), base)
    return CostGrowthReport(suite=run.suite, run_id=run.id, window=window, rule=RULE, items=items)
