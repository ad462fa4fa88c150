"""Pressure stall information (``/proc/pressure``, Linux 4.20+): the share of the
last 10 s in which at least one task waited for the CPU, memory or I/O.

CPU busy says how much the cores did; pressure says whether work waited for them,
which is what slows a test down. A host without the files (an older kernel, another
OS, a kernel booted with ``psi=0``, whose files refuse to be read) gets no pressure
columns at all, never zeros.
"""

from __future__ import annotations

from pathlib import Path

from dashboard_core.metrics.fields import Field

CPU_SOME = Field("pressure.cpu.some", "%", "CPU pressure: time some task waited for a core, 10 s average")
MEMORY_SOME = Field("pressure.memory.some", "%", "Memory pressure: time some task waited for memory, 10 s average")
IO_SOME = Field("pressure.io.some", "%", "I/O pressure: time some task waited for I/O, 10 s average")
FIELDS = {"cpu": CPU_SOME, "memory": MEMORY_SOME, "io": IO_SOME}


def some_avg10(text: str) -> float:
    """``some avg10=1.50 avg60=... total=...`` (the file's first line) -> ``1.5`` (percent)."""
    for line in text.splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "some":
            for pair in rest.split():
                key, _, value = pair.partition("=")
                if key == "avg10":
                    return float(value)
    raise ValueError(f"no 'some avg10=' in {text[:80]!r}")


class PressureSource:
    """Reads the resources whose file could be read when the source was made."""

    name = "pressure"
    fields = tuple(FIELDS.values())

    def __init__(self, root: str | Path = "/proc/pressure") -> None:
        self.files: dict[str, Path] = {}
        for resource, field in FIELDS.items():
            path = Path(root) / resource
            try:
                some_avg10(path.read_text(encoding="ascii"))
            except (OSError, ValueError):  # absent, or PSI switched off (EOPNOTSUPP): no column
                continue
            self.files[field.name] = path

    def sample(self) -> dict[str, float]:
        return {column: some_avg10(path.read_text(encoding="ascii")) for column, path in self.files.items()}
