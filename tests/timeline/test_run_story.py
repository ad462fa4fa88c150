"""The story's pieces without a Runtime: a long series thinned so that its peak
and its CPU seconds stay true, the host's history bucketed, the summary sentence
and the figure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from dashboard_core.app.run_story import MAX_POINTS, host_points, summary, thin, tree_series
from dashboard_core.metrics.frame import Rows
from dashboard_core.models.resources import HostPoint, RunResources
from dashboard_core.processes.resource_log import ResourceSample
from dashboard_core.timeline.run_story import story_figure

T0 = 1_800_000_000.0


def day(n: int = 43_200) -> list[ResourceSample]:
    """A day at 2 s: one core busy half the time, one spike of memory."""
    return [ResourceSample(T0 + 2 * i, 50.0, 1.0 * (i + 1), (900 if i == 20_001 else 100) * 2**20, 3) for i in range(n)]


def test_a_day_is_thinned_to_the_limit_keeping_its_peak_and_cpu_seconds() -> None:
    samples = day()
    thinned = thin(samples)
    assert MAX_POINTS - 30 < len(thinned) <= MAX_POINTS  # buckets of 29 samples (about a minute)
    assert max(s.rss_bytes for s in thinned) == 900 * 2**20  # the one spike is not averaged away
    assert thinned[-1].cpu_seconds == samples[-1].cpu_seconds and thinned[-1].at == samples[-1].at
    assert all(abs(s.cpu_percent - 50.0) < 1e-6 for s in thinned)  # CPU over each bucket
    assert thin(samples[:100]) == samples[:100]  # short: as it is
    tree = tree_series("serve", samples)
    assert len(tree.samples) == len(thinned) and tree.peak_rss_bytes == 900 * 2**20
    assert tree.peak_at == datetime.fromtimestamp(T0 + 2 * 20_001, UTC)
    assert tree.cpu_seconds == 43_200 and abs((tree.mean_cpu_percent or 0) - 50.0) < 1e-6


def test_the_host_s_history_is_bucketed_mean_cpu_and_highest_memory_nan_as_null() -> None:
    n = 4000
    ts = (np.arange(n, dtype=np.int64) + int(T0)) * 1_000_000_000
    values = np.column_stack([np.full(n, 20.0), np.full(n, 40.0), np.full(n, 8e9)])
    values[1234, 1] = 95.0  # a spike of memory
    values[:5, 0] = np.nan  # the first bucket's CPU: partly missing
    values[3000:3003, 0] = np.nan  # a whole bucket (of 3 rows) without CPU
    points = host_points(Rows(ts, ["cpu.total", "memory.percent", "memory.used"], values), limit=1500)
    assert len(points) == 1334  # buckets of 3
    assert points[0].at == datetime.fromtimestamp(T0, UTC) and points[0].cpu_percent is None
    assert points[1].cpu_percent is not None and abs(points[1].cpu_percent - 20.0) < 1e-9  # rows 3, 4 NaN, 5 not
    assert points[1000].cpu_percent is None and points[1000].memory_percent == 40.0
    assert max(p.memory_percent or 0 for p in points) == 95.0
    few = host_points(Rows(ts[:3], ["cpu.total"], values[5:8, :1]))
    assert [(p.cpu_percent, p.memory_percent) for p in few] == [(20.0, None)] * 3


def test_the_summary_and_the_figure() -> None:
    start = datetime.fromtimestamp(T0, UTC)
    samples = [ResourceSample(T0 + 2 * i, 100.0, 2.0 * i, (100 + i) * 2**20, 2) for i in range(1, 6)]
    story = RunResources(
        kind="test", run_id=3, start=start, end=start + timedelta(seconds=12), sample_interval_seconds=2, cpu_cores=4
    )
    assert story_figure(story) is None  # nothing sampled: the page shows the note
    story.trees = [tree_series(None, samples)]
    story.peak_rss_bytes, story.cpu_seconds, story.mean_cpu_percent = 105 * 2**20, 10.0, 100.0
    story.host = [HostPoint(at=start + timedelta(seconds=i), cpu_percent=30.0, memory_percent=60.0) for i in range(12)]
    text = summary(story)
    assert text == (
        "Peak memory 105 MiB, mean CPU 100 % of one core, 10.0 CPU seconds (5 samples every 2.0 s). "
        "The host: CPU 30 % on average, memory up to 60 %."
    )
    figure = story_figure(story, "Europe/Berlin")
    assert figure is not None
    names = [(t.name, t.yaxis, t.showlegend) for t in figure.data]
    assert names == [("host", "y", True), ("host", "y3", False), ("this run", "y", True), ("this run", "y2", False)]
    run_cpu = figure.data[2]
    assert list(run_cpu.y) == [25.0] * 5 and list(run_cpu.customdata) == [100.0] * 5  # a share of 4 cores
    assert run_cpu.x[0] == datetime(2027, 1, 15, 9, 0, 2)  # local time in Berlin (T0 is 08:00 UTC)
    assert figure.layout.title.text == "Resources of run 3"
