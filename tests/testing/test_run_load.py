"""The host's load over a run: the others' CPU is the host's less the run's own,
pressure only where sampled, NaN rows left out."""

from __future__ import annotations

import numpy as np
import psutil

from dashboard_core.app.run_load import RunLoad, measure, tree_cpu_percent
from dashboard_core.metrics.frame import Rows
from dashboard_core.processes.resource_log import ResourceSample

T0_NS = 1_800_000_000 * 1_000_000_000


def rows(cpu: list[float], memory: list[float], pressure: list[float] | None = None) -> Rows:
    columns, values = ["cpu.total", "memory.percent"], [cpu, memory]
    if pressure is not None:
        columns.append("pressure.cpu.some")
        values.append(pressure)
    ts = T0_NS + np.arange(len(cpu), dtype=np.int64) * 1_000_000_000
    return Rows(ts, columns, np.array(values, dtype=np.float64).T)


def test_others_cpu_is_the_host_s_less_the_run_s_own() -> None:
    load = measure(RunLoad(run_id=1), rows([80.0, 90.0, np.nan, 70.0], [40.0, 50.0, 60.0, 50.0]), 20.0, 50.0)
    assert load.samples == 4 and load.cpu_mean_percent == 80.0 and load.cpu_max_percent == 90.0
    assert load.memory_mean_percent == 50.0 and load.memory_max_percent == 60.0
    assert load.own_cpu_percent == 20.0 and load.others_cpu_percent == 60.0 and load.busy
    assert load.pressure_some_percent == {}  # not sampled: not zero


def test_a_run_that_keeps_the_host_busy_itself_is_not_busy_and_pressure_is_averaged() -> None:
    load = measure(RunLoad(run_id=2), rows([95.0, 95.0], [10.0, 10.0], [30.0, 10.0]), 90.0, 50.0)
    assert not load.busy and load.others_cpu_percent is not None and abs(load.others_cpu_percent - 5.0) < 1e-9
    assert load.pressure_some_percent == {"cpu": 20.0}


def test_without_the_run_s_own_samples_the_whole_host_counts_and_an_empty_read_says_nothing() -> None:
    assert measure(RunLoad(run_id=3), rows([60.0], [10.0]), None, 50.0).busy
    empty = measure(RunLoad(run_id=4), rows([], []), 10.0, 50.0)
    assert empty.cpu_mean_percent is None and empty.own_cpu_percent is None and not empty.busy


def test_the_run_s_own_cpu_over_the_whole_run_or_the_samples_around_a_window() -> None:
    cores = psutil.cpu_count() or 1
    # One tree sampled every 2 s: a core busy for the first 4 s, idle after.
    samples = [ResourceSample(100.0 + 2 * i, 0.0, min(2 * i, 4) * 1.0, 2**20, 1) for i in range(6)]
    trees = [(np.array([s.at for s in samples]), samples)]
    whole = tree_cpu_percent(trees)  # 4 CPU seconds over 10 s
    assert whole is not None and abs(whole - 40.0 / cores) < 1e-9
    busy = tree_cpu_percent(trees, 101.0, 103.0)  # bracketed by the samples at 100 and 104
    assert busy is not None and abs(busy - 100.0 / cores) < 1e-9
    assert tree_cpu_percent(trees, 106.5, 107.5) == 0.0  # idle between 106 and 108
    assert tree_cpu_percent([]) is None
