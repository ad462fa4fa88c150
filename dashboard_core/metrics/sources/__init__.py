"""Host metric sources: each declares its fields once and returns a dict per sample.

:func:`build_sources` is the one list of what a config samples: the Runtime's
sampler takes it, and the alert rules are checked against its fields.
"""

from __future__ import annotations

from dashboard_core.config import Config
from dashboard_core.metrics.fields import MetricSource
from dashboard_core.metrics.processes import WatchedProcessesSource, WatchRule
from dashboard_core.metrics.sources.cpu import CpuSource
from dashboard_core.metrics.sources.disk import DiskIOSource, DiskUsageSource
from dashboard_core.metrics.sources.memory import MemorySource
from dashboard_core.metrics.sources.network import NetworkSource
from dashboard_core.metrics.sources.pressure import PressureSource
from dashboard_core.metrics.sources.system import LoadSource, ProcessCountSource

__all__ = [
    "build_sources",
    "CpuSource",
    "DiskIOSource",
    "DiskUsageSource",
    "LoadSource",
    "MemorySource",
    "NetworkSource",
    "PressureSource",
    "ProcessCountSource",
]


def build_sources(config: Config) -> tuple[list[MetricSource], WatchedProcessesSource | None]:
    """The host sources and, with ``[[watch]]`` entries, the watched processes (also in the list)."""
    sources: list[MetricSource] = [
        CpuSource(),
        MemorySource(),
        DiskUsageSource(config.sampler.mounts),
        DiskIOSource(),
        NetworkSource(),
        LoadSource(),
        ProcessCountSource(),
        PressureSource(),
    ]
    watched = WatchedProcessesSource([WatchRule.of(w) for w in config.watch]) if config.watch else None
    if watched is not None:
        sources.append(watched)
    return sources, watched
