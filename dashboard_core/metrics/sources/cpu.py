"""CPU busy % in total and per core, from psutil's cumulative CPU times."""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any

import psutil

from dashboard_core.metrics.fields import Field

TOTAL = Field("cpu.total", "%", "CPU busy, all cores")
CORE = Field("cpu.core", "%", "CPU busy", label="core", short="busy")


def _busy_and_total(times: Any) -> tuple[float, float]:
    """Busy and total seconds the way psutil and top count them.

    Guest time is already part of user time on Linux, so it is not added twice;
    iowait counts as idle.
    """
    total = sum(times)
    total -= getattr(times, "guest", 0.0) + getattr(times, "guest_nice", 0.0)
    idle = times.idle + getattr(times, "iowait", 0.0)
    return total - idle, total


def _percent(busy: float, total: float) -> float:
    return max(0.0, min(100.0, busy / total * 100.0)) if total > 0 else 0.0


class CpuSource:
    """Keeps its own previous reading, so no other psutil user can disturb it."""

    name = "cpu"
    fields = (TOTAL, CORE)

    def __init__(self, ps: ModuleType = psutil) -> None:
        self._ps = ps
        self._last: list[tuple[float, float]] | None = None

    def sample(self) -> dict[str, float]:
        """Busy % since the previous call; the first call only sets the baseline (NaN)."""
        now = [_busy_and_total(t) for t in self._ps.cpu_times(percpu=True)]
        last, self._last = self._last, now
        # psutil lists online cores only, without their ids: when the count
        # changes, positions no longer name the same cores, so start afresh.
        if last is None or len(last) != len(now):
            # No interval to measure yet: the columns exist, their readings are empty.
            return {**{CORE.column(str(i)): math.nan for i in range(len(now))}, TOTAL.name: math.nan}
        deltas = [(b1 - b0, t1 - t0) for (b0, t0), (b1, t1) in zip(last, now)]
        out = {CORE.column(str(i)): _percent(busy, total) for i, (busy, total) in enumerate(deltas)}
        out[TOTAL.name] = _percent(sum(d[0] for d in deltas), sum(d[1] for d in deltas))
        return out
