"""How busy the host was over any window of a test run: the run's whole span, or
one test's (from its ``started_at`` and duration, where the run recorded them).

One read of the host's history and of the run's own process tree per run
(:class:`HostWindows`); each window is then a slice of those, measured as
:func:`~dashboard_core.app.run_load.run_load` measures a run: the others' CPU is
the host's less the run's own over that window. A test shorter than a sample
gets the samples on each side of it (the window widened by one sample each way),
so a 0.3 s test is judged by the seconds around it, not by nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dashboard_core.app.run_load import RunLoad, Trees, measure, run_trees_of, tree_cpu_percent
from dashboard_core.metrics.frame import Rows
from dashboard_core.metrics.windows import Window
from dashboard_core.models import RunInfo
from dashboard_core.runtime import Runtime


class HostWindows:
    """The host over windows of one run; ``busy_percent``: the others' CPU (% of all
    cores) from which the host counts as busy."""

    def __init__(self, rt: Runtime, run: RunInfo, busy_percent: float) -> None:
        self.run, self.busy_percent = run, busy_percent
        self.rows: Rows | None = None
        self.step = rt.config.sampler.interval_seconds
        self.resolution: str | None = None
        self.trees: Trees = []
        if run.started_at is None:
            return
        end = run.ended_at or datetime.now(UTC)
        pad = timedelta(seconds=self.step)
        read = rt.read_history(Window(run.started_at - pad, end + pad))
        self.step = read.tier.seconds if read.tier is not None else read.sample_interval
        self.rows, self.resolution = read.rows, read.resolution
        self.trees = run_trees_of(rt, run.id)

    def over(self, start: datetime | None = None, end: datetime | None = None) -> RunLoad:
        """The host over [start, end] (the run's span where not given)."""
        start = start or self.run.started_at
        end = end or self.run.ended_at or datetime.now(UTC)
        load = RunLoad(run_id=self.run.id, start=start, end=end, resolution=self.resolution)
        if self.rows is None or start is None:
            return load
        lo, hi = start.timestamp() - self.step, end.timestamp() + self.step
        ts = self.rows.ts_ns / 1e9
        keep = (ts >= lo) & (ts <= hi)
        rows = Rows(self.rows.ts_ns[keep], self.rows.columns, self.rows.values[keep])
        own = tree_cpu_percent(self.trees, start.timestamp(), end.timestamp())
        return measure(load, rows, own, self.busy_percent)
