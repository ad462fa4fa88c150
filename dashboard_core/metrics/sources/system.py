"""Load average and process count."""

from __future__ import annotations

from types import ModuleType

import psutil

from dashboard_core.metrics.fields import Field

LOAD_1 = Field("load.1", "", "Load average, 1 min")
LOAD_5 = Field("load.5", "", "Load average, 5 min")
LOAD_15 = Field("load.15", "", "Load average, 15 min")
PROC_COUNT = Field("proc.count", "processes", "Processes running")


class LoadSource:
    name = "load"
    fields = (LOAD_1, LOAD_5, LOAD_15)

    def __init__(self, ps: ModuleType = psutil) -> None:
        self._ps = ps

    def sample(self) -> dict[str, float]:
        one, five, fifteen = self._ps.getloadavg()
        return {LOAD_1.name: one, LOAD_5.name: five, LOAD_15.name: fifteen}


class ProcessCountSource:
    name = "processes"
    fields = (PROC_COUNT,)

    def __init__(self, ps: ModuleType = psutil) -> None:
        self._ps = ps

    def sample(self) -> dict[str, float]:
        return {PROC_COUNT.name: float(len(self._ps.pids()))}
