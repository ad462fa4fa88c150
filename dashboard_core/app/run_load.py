"""How busy the host was while a test run ran, and how much of that was the run itself.

A test that got slower while something else kept the machine busy has not
regressed; a comparison of two runs is only fair when it says what else ran.
The host's CPU comes from the metric history (at the resolution that covers the
run); the run's own share from its process tree's samples
(:class:`~dashboard_core.run_trees.RunTrees`). What is left is the others' CPU:
the figure the "host busy" label is drawn from.

Pressure (``/proc/pressure``, Linux 4.20+) is read from the history's
``pressure.<resource>.some`` columns when the sampler keeps them; null otherwise.
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import psutil
from pydantic import BaseModel, Field

from dashboard_core.metrics.frame import Rows
from dashboard_core.metrics.windows import Window
from dashboard_core.models import RunInfo
from dashboard_core.processes.resource_log import ResourceSample
from dashboard_core.runtime import Runtime

BUSY_OTHERS_PERCENT = 50.0  # of all cores, used by processes other than the run's own
PRESSURE_COLUMNS = {"cpu": "pressure.cpu.some", "memory": "pressure.memory.some", "io": "pressure.io.some"}


class RunLoad(BaseModel):
    """The host during one test run (``GET /api/testing/runs/{id}/load``)."""

    run_id: int
    start: datetime | None = None
    end: datetime | None = None
    samples: int = Field(0, description="Host history rows read over the run.")
    resolution: str | None = Field(None, description="The history's resolution read (full, 10s, 1m, ...).")
    cpu_mean_percent: float | None = Field(None, description="The host's CPU busy over the run, all cores = 100.")
    cpu_max_percent: float | None = None
    memory_mean_percent: float | None = None
    memory_max_percent: float | None = None
    pressure_some_percent: dict[str, float] = Field(
        default_factory=dict,
        description="Mean share of time some task waited on cpu, memory or io (/proc/pressure), where sampled.",
    )
    own_cpu_percent: float | None = Field(
        None, description="The run's own process tree, in % of all cores (so comparable with cpu_mean_percent)."
    )
    others_cpu_percent: float | None = Field(
        None, description="The host's CPU less the run's own: what else kept the machine busy."
    )
    busy: bool = Field(False, description=f"Others used at least {BUSY_OTHERS_PERCENT:.0f} % of all cores.")


def run_load(rt: Runtime, run: RunInfo | int, *, busy_percent: float = BUSY_OTHERS_PERCENT) -> RunLoad:
    """The host's load over ``run`` (a RunInfo, or an id: an unknown one raises
    :class:`~dashboard_core.testing.errors.UnknownRun`). A run that never started has
    only its id."""
    run = rt.tests.run(run) if isinstance(run, int) else run
    load = RunLoad(run_id=run.id, start=run.started_at, end=run.ended_at)
    if run.started_at is None:
        return load
    end = run.ended_at or datetime.now(run.started_at.tzinfo)
    read = rt.read_history(Window(run.started_at, end))
    load.resolution = read.resolution
    return measure(load, read.rows, tree_cpu_percent(run_trees_of(rt, run.id)), busy_percent)


def measure(load: RunLoad, rows: Rows, own_cpu_percent: float | None, busy_percent: float) -> RunLoad:
    """Fill ``load`` from the host's rows over the run and the run's own CPU (% of all cores)."""
    load.samples = len(rows)
    _host(load, rows)
    if own_cpu_percent is not None and load.cpu_mean_percent is not None:
        load.own_cpu_percent = own_cpu_percent
        load.others_cpu_percent = max(0.0, load.cpu_mean_percent - own_cpu_percent)
        load.busy = load.others_cpu_percent >= busy_percent
    elif load.cpu_mean_percent is not None:  # no tree sampled (a very short run): all of it counts as others'
        load.busy = load.cpu_mean_percent >= busy_percent
    return load


def _host(load: RunLoad, rows: Rows) -> None:
    cpu, memory = _finite(rows, "cpu.total"), _finite(rows, "memory.percent")
    if len(cpu):
        load.cpu_mean_percent, load.cpu_max_percent = float(cpu.mean()), float(cpu.max())
    if len(memory):
        load.memory_mean_percent, load.memory_max_percent = float(memory.mean()), float(memory.max())
    for resource, column in PRESSURE_COLUMNS.items():
        values = _finite(rows, column)
        if len(values):
            load.pressure_some_percent[resource] = float(values.mean())


def _finite(rows: Rows, column: str) -> np.ndarray:
    if column not in rows.columns or not len(rows):
        return np.empty(0)
    values: np.ndarray = rows.column(column)
    finite: np.ndarray = values[np.isfinite(values)]
    return finite


Trees = list[tuple[np.ndarray, list[ResourceSample]]]  # each process tree's sample times, and its samples


def run_trees_of(rt: Runtime, run_id: int) -> Trees:
    """The test run's process trees as sampled (those with two samples or more)."""
    series = [s for s in rt.run_trees.series("test", run_id).values() if len(s) >= 2]
    return [(np.array([s.at for s in samples]), samples) for samples in series]


def tree_cpu_percent(trees: Trees, start: float = -math.inf, end: float = math.inf) -> float | None:
    """The trees' CPU between the samples that bracket [start, end] (epoch seconds; the
    whole run where not given), in % of all cores; None without two samples apart."""
    used = seconds = 0.0
    for at, samples in trees:
        first = max(0, int(np.searchsorted(at, start, side="right")) - 1)  # the last at or before start
        last = min(len(samples) - 1, int(np.searchsorted(at, end, side="left")))  # the first at or after end
        if samples[last].at > samples[first].at:
            used += samples[last].cpu_seconds - samples[first].cpu_seconds
            seconds = max(seconds, samples[last].at - samples[first].at)
    if seconds <= 0:
        return None
    return used / seconds * 100 / (psutil.cpu_count() or 1)
