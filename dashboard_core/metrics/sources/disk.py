"""Disk usage per mount and disk throughput."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from types import ModuleType

import psutil

from dashboard_core.logonce import recovered, warn_once
from dashboard_core.metrics.fields import Field

log = logging.getLogger(__name__)

USAGE = Field("disk.percent", "%", "Disk space used", label="mount", short="used")
FREE = Field("disk.free", "bytes", "Disk space free", label="mount", dtype="float64", short="free")
READ = Field("disk.read", "bytes/s", "Disk read", kind="rate")
WRITE = Field("disk.write", "bytes/s", "Disk write", kind="rate")

# Pseudo and image file systems whose "usage" says nothing about free space.
_SKIP_FSTYPES = {"squashfs", "iso9660", "tmpfs", "devtmpfs", "overlay", "nsfs"}


def discover_mounts(ps: ModuleType = psutil) -> list[str]:
    """Mount points of real file systems, one per device (bind mounts skipped)."""
    seen: set[str] = set()
    mounts: list[str] = []
    for part in ps.disk_partitions(all=False):
        if part.fstype in _SKIP_FSTYPES or part.device in seen:
            continue
        seen.add(part.device)
        mounts.append(part.mountpoint)
    return mounts or ["/"]


class DiskUsageSource:
    """Usage of configured mounts, or of discovered ones re-listed every minute."""

    name = "disk usage"
    fields = (USAGE, FREE)

    def __init__(
        self,
        mounts: Sequence[str] = (),
        ps: ModuleType = psutil,
        rediscover_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ps = ps
        self._fixed = list(mounts)
        self._rediscover = rediscover_seconds
        self._clock = clock
        self._mounts = self._fixed or discover_mounts(ps)
        self._listed_at = clock()

    def sample(self) -> dict[str, float]:
        if not self._fixed and self._clock() - self._listed_at >= self._rediscover:
            self._mounts = discover_mounts(self._ps)
            self._listed_at = self._clock()
        out: dict[str, float] = {}
        for mount in self._mounts:
            key = f"disk:{mount}"
            try:
                usage = self._ps.disk_usage(mount)
            except OSError as exc:  # unmounted, permission denied, stale NFS ...
                warn_once(log, key, "Disk usage of %s cannot be read: %s", mount, exc)
                continue
            recovered(log, key, "Disk usage of %s can be read again", mount)
            out[USAGE.column(mount)] = float(usage.percent)
            out[FREE.column(mount)] = float(usage.free)
        return out


class DiskIOSource:
    name = "disk io"
    fields = (READ, WRITE)

    def __init__(self, ps: ModuleType = psutil) -> None:
        self._ps = ps

    def sample(self) -> dict[str, float]:
        counters = self._ps.disk_io_counters(perdisk=False)
        if counters is None:  # no disks visible (some containers)
            return {}
        return {READ.name: float(counters.read_bytes), WRITE.name: float(counters.write_bytes)}
