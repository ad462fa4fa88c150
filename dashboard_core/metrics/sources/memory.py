"""Memory and swap use."""

from __future__ import annotations

from types import ModuleType

import psutil

from dashboard_core.metrics.fields import Field

MEM_PERCENT = Field("memory.percent", "%", "Memory in use")
MEM_USED = Field("memory.used", "bytes", "Memory in use", dtype="float64")
MEM_AVAILABLE = Field("memory.available", "bytes", "Memory available", dtype="float64")
SWAP_PERCENT = Field("swap.percent", "%", "Swap in use")
SWAP_USED = Field("swap.used", "bytes", "Swap in use", dtype="float64")


class MemorySource:
    name = "memory"
    fields = (MEM_PERCENT, MEM_USED, MEM_AVAILABLE, SWAP_PERCENT, SWAP_USED)

    def __init__(self, ps: ModuleType = psutil) -> None:
        self._ps = ps

    def sample(self) -> dict[str, float]:
        mem = self._ps.virtual_memory()
        swap = self._ps.swap_memory()
        return {
            MEM_PERCENT.name: float(mem.percent),
            MEM_USED.name: float(mem.total - mem.available),
            MEM_AVAILABLE.name: float(mem.available),
            SWAP_PERCENT.name: float(swap.percent),
            SWAP_USED.name: float(swap.used),
        }
