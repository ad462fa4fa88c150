"""A run's resource story, as the API and the pages show it: the run's own process
trees over time (:class:`~dashboard_core.run_trees.RunTrees`) and the host's CPU
and memory over the same span, padded a little each side (read from the metric
history, at the resolution that covers it), with a one-sentence summary.

A finished run's story cannot change once its samples are written and the padding
after its end has passed, so it is kept (a few per Runtime): the Workflows and
Tests pages redraw their run view every second, and rebuilt it each time.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Literal

import numpy as np
import psutil

from dashboard_core.metrics.downsample import Reducer, bucket_reduce
from dashboard_core.metrics.frame import Rows
from dashboard_core.metrics.windows import Window
from dashboard_core.models import RunInfo, WorkflowRunInfo
from dashboard_core.models.resources import HostPoint, RunResources, TreeSample, TreeSeries
from dashboard_core.processes.resource_log import ResourceSample
from dashboard_core.runtime import Runtime
from dashboard_core.units import format_bytes, format_seconds

PAD_SHARE = 0.05  # of the run's span, each side
PAD_MIN_SECONDS, PAD_MAX_SECONDS = 5.0, 60.0
MAX_POINTS = 1500  # per series in the API and on the chart: a day's run at 2 s is thinned to 1-minute buckets
KEPT_STORIES = 8  # finished runs' stories kept per Runtime, the newest read last
HOST_COLUMNS = {"cpu.total": "cpu_percent", "memory.percent": "memory_percent", "memory.used": "memory_used_bytes"}


def test_run_story(rt: Runtime, run: RunInfo | int) -> RunResources:
    """The story of a test run (a page passes the run it shows; the API its id).
    Raises :class:`~dashboard_core.testing.errors.UnknownRun` for an unknown id."""
    run = rt.tests.run(run) if isinstance(run, int) else run
    return _story(rt, "test", run.id, run.started_at, run.ended_at, not run.status.finished, [None])


def workflow_run_story(rt: Runtime, run: WorkflowRunInfo | int) -> RunResources:
    """The story of a workflow run, a tree per step (a page passes the run it shows).
    Raises :class:`~dashboard_core.workflows.errors.UnknownWorkflowRun` for an unknown id."""
    run = rt.workflows.run(run) if isinstance(run, int) else run
    steps = [s.name for s in run.steps]
    return _story(rt, "workflow", run.id, run.started_at, run.ended_at, not run.status.finished, steps)


def pad(start: datetime, end: datetime) -> timedelta:
    """How far the host's history reaches beyond the run on each side."""
    seconds = (end - start).total_seconds() * PAD_SHARE
    return timedelta(seconds=min(PAD_MAX_SECONDS, max(PAD_MIN_SECONDS, seconds)))


def _story(
    rt: Runtime,
    kind: Literal["test", "workflow"],
    run_id: int,
    start: datetime | None,
    end: datetime | None,
    running: bool,
    order: Sequence[str | None],
) -> RunResources:
    interval = rt.run_trees.sampler.interval
    story = RunResources(
        kind=kind,
        run_id=run_id,
        start=start,
        end=end,
        running=running,
        sample_interval_seconds=interval,
        cpu_cores=psutil.cpu_count() or 1,
    )
    if start is None:
        story.note = (
            "Not started yet: its processes are sampled once it runs."
            if running
            else "This run never started: it had no process to sample."
        )
        return story
    if not running and end is not None and (kept := _kept(rt, kind, run_id)) is not None:
        return kept
    story.end = end = end or datetime.now(UTC)
    series = rt.run_trees.series(kind, run_id)
    rank = {step: i for i, step in enumerate(order)}
    steps = sorted(series, key=lambda s: rank.get(s, len(rank)))
    story.trees = [tree_series(step, series[step]) for step in steps]
    edge = pad(start, end)
    read = rt.read_history(Window(start - edge, end + edge))
    story.host, story.host_resolution = host_points(read.rows), read.resolution
    if story.trees:
        _totals(story, [series[step] for step in steps])
        story.summary = summary(story)
    else:
        story.note = _nothing_sampled(running, (end - start).total_seconds(), interval)
    if not running and datetime.now(UTC) > end + edge and not rt.run_trees.sampler.pending(kind, run_id):
        _keep(rt, kind, run_id, story)  # final: its samples are stored and its host span is over
    return story


_stories: weakref.WeakKeyDictionary[Runtime, OrderedDict[tuple[str, int], RunResources]] = weakref.WeakKeyDictionary()
_stories_lock = threading.Lock()


def _kept(rt: Runtime, kind: str, run_id: int) -> RunResources | None:
    with _stories_lock:
        kept = _stories.get(rt)
        story = kept.get((kind, run_id)) if kept is not None else None
        if story is not None and kept is not None:
            kept.move_to_end((kind, run_id))
        return story


def _keep(rt: Runtime, kind: str, run_id: int, story: RunResources) -> None:
    with _stories_lock:
        kept = _stories.setdefault(rt, OrderedDict())
        kept[(kind, run_id)] = story
        while len(kept) > KEPT_STORIES:
            kept.popitem(last=False)


def tree_series(step: str | None, samples: list[ResourceSample]) -> TreeSeries:
    """The figures from every sample; the points at most :data:`MAX_POINTS` (:func:`thin`)."""
    points = [
        TreeSample(
            at=datetime.fromtimestamp(s.at, UTC),
            cpu_percent=s.cpu_percent,
            cpu_seconds=s.cpu_seconds,
            rss_bytes=s.rss_bytes,
            processes=s.processes,
        )
        for s in thin(samples)
    ]
    peak = max(samples, key=lambda s: s.rss_bytes)
    return TreeSeries(
        step=step,
        samples=points,
        peak_rss_bytes=peak.rss_bytes,
        peak_at=datetime.fromtimestamp(peak.at, UTC),
        mean_cpu_percent=_mean_cpu(samples),
        cpu_seconds=samples[-1].cpu_seconds,
    )


def thin(samples: list[ResourceSample], limit: int = MAX_POINTS) -> list[ResourceSample]:
    """A long run's samples in at most ``limit`` buckets of consecutive samples, each
    its last time and CPU seconds, the CPU % over the bucket, and its highest memory
    and process count (a peak stays in sight)."""
    if len(samples) <= limit:
        return samples
    size = -(-len(samples) // limit)
    thinned: list[ResourceSample] = []
    for i in range(0, len(samples), size):
        bucket, last = samples[i : i + size], samples[min(i + size, len(samples)) - 1]
        before = samples[i - 1] if i else None
        if before is not None and last.at > before.at:
            cpu = (last.cpu_seconds - before.cpu_seconds) / (last.at - before.at) * 100
        else:
            cpu = sum(s.cpu_percent for s in bucket) / len(bucket)
        rss, processes = max(s.rss_bytes for s in bucket), max(s.processes for s in bucket)
        thinned.append(ResourceSample(last.at, cpu, last.cpu_seconds, rss, processes))
    return thinned


def _mean_cpu(samples: list[ResourceSample]) -> float:
    """CPU % of one core between the first sample and the last (the one sample's, if one)."""
    first, last = samples[0], samples[-1]
    if last.at <= first.at:
        return first.cpu_percent
    return (last.cpu_seconds - first.cpu_seconds) / (last.at - first.at) * 100


def _totals(story: RunResources, series: list[list[ResourceSample]]) -> None:
    """The trees together, from every sample: they are sampled on the same ticks, so
    their samples share times."""
    rss: dict[float, int] = {}
    for samples in series:
        for s in samples:
            rss[s.at] = rss.get(s.at, 0) + s.rss_bytes
    story.peak_rss_bytes = max(rss.values())
    story.cpu_seconds = sum(samples[-1].cpu_seconds for samples in series)
    first, last = min(samples[0].at for samples in series), max(samples[-1].at for samples in series)
    used = sum(samples[-1].cpu_seconds - samples[0].cpu_seconds for samples in series)
    if last > first:
        story.mean_cpu_percent = used / (last - first) * 100
    else:  # one tick: each tree's one sample
        story.mean_cpu_percent = sum(samples[0].cpu_percent for samples in series)


def summary(story: RunResources) -> str:
    """One sentence: peak memory, mean CPU, CPU seconds; the host's too."""
    n = sum(len(t.samples) for t in story.trees)
    text = (
        f"Peak memory {format_bytes(story.peak_rss_bytes or 0)}, mean CPU {story.mean_cpu_percent or 0:.0f} % of one "
        f"core, {story.cpu_seconds or 0:.1f} CPU seconds ({n} sample{'s' if n != 1 else ''} every "
        f"{format_seconds(story.sample_interval_seconds)})"
    )
    if len(story.trees) > 1:
        top = max(story.trees, key=lambda t: t.cpu_seconds or 0.0)
        text += f"; the most CPU: step {top.step} ({top.cpu_seconds or 0:.1f} s)"
    host_cpu = [p.cpu_percent for p in story.host if p.cpu_percent is not None]
    host_mem = [p.memory_percent for p in story.host if p.memory_percent is not None]
    if host_cpu and host_mem:
        text += f". The host: CPU {sum(host_cpu) / len(host_cpu):.0f} % on average, memory up to {max(host_mem):.0f} %"
    return text + "."


def host_points(rows: Rows, limit: int = MAX_POINTS) -> list[HostPoint]:
    """The host's CPU and memory columns of a history read, NaN as null; a long read
    in at most ``limit`` buckets of one size (each its start, the mean CPU and the highest memory)."""
    fields = [(field, rows.columns.index(column)) for column, field in HOST_COLUMNS.items() if column in rows.columns]
    matrix = rows.values[:, [j for _f, j in fields]].T if fields else np.empty((0, len(rows)))
    reducers: list[Reducer] = ["mean" if field == "cpu_percent" else "max" for field, _j in fields]
    starts, reduced = bucket_reduce(matrix, reducers, limit, same_size=True)
    points = []
    for b, i in enumerate(starts.tolist()):
        values = {field: _or_none(reduced[k, b]) for k, (field, _j) in enumerate(fields)}
        points.append(HostPoint(at=datetime.fromtimestamp(int(rows.ts_ns[i]) / 1e9, UTC), **values))
    return points


def _or_none(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _nothing_sampled(running: bool, seconds: float, interval: float) -> str:
    if running:
        return f"No sample yet: the run's processes are sampled every {format_seconds(interval)}."
    if seconds < 2 * interval:
        return (
            f"Nothing was sampled: the run lasted {format_seconds(seconds)}, too short for a sample "
            f"(its processes are sampled every {format_seconds(interval)})."
        )
    return (
        "Nothing was sampled for this run: it ran before this dashboard kept each run's resources "
        "(or its processes could not be read)."
    )
