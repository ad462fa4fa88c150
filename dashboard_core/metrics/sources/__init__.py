"""Host metric sources: each declares its fields once and returns a dict per sample."""

from __future__ import annotations

from dashboard_core.metrics.sources.cpu import CpuSource
from dashboard_core.metrics.sources.disk import DiskIOSource, DiskUsageSource
from dashboard_core.metrics.sources.memory import MemorySource
from dashboard_core.metrics.sources.network import NetworkSource
from dashboard_core.metrics.sources.system import LoadSource, ProcessCountSource

__all__ = [
    "CpuSource",
    "DiskIOSource",
    "DiskUsageSource",
    "LoadSource",
    "MemorySource",
    "NetworkSource",
    "ProcessCountSource",
]
