"""Shared helpers for the benchmarks: the repo on sys.path, a realistic 24 h
frame built through the real Runtime (its field table and dtype rules), timing
and PASS/FAIL printing. Not a benchmark itself.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from dashboard_core.config import Config, SamplerConfig, WatchConfig  # noqa: E402
from dashboard_core.metrics.fields import FieldTable  # noqa: E402
from dashboard_core.runtime import Runtime  # noqa: E402

T = TypeVar("T")

DAY_ROWS = 86_400  # 24 h at the default 1 s interval

# A plausible small server: 4 cores, 2 file systems, 3 interfaces, 1 watched app.
CORES = 4
MOUNTS = ("/", "/home")
NICS = ("lo", "eth0", "docker0")
WATCHED = ("dashboard",)


def realistic_runtime(rows: int = DAY_ROWS) -> Runtime:
    """A Runtime (never started) whose frame holds ``rows`` samples at 1 s and
    whose field table has the watched-process fields, as with dashboard.toml."""
    config = Config(
        sampler=SamplerConfig(history_hours=rows / 3600),
        watch=[WatchConfig(label=w, match="cmdline", pattern=r"streamlit_app\.py") for w in WATCHED],
    )
    return Runtime(config)


def realistic_columns(fields: FieldTable) -> list[str]:
    """The columns the sampler would write on that server, in its order."""

    def col(name: str, label: str | None = None) -> str:
        field = fields.get(name)
        assert field is not None, name
        return field.column(label)

    cols = [col("memory.percent"), col("memory.used"), col("memory.available"), col("swap.percent"), col("swap.used")]
    for m in MOUNTS:
        cols += [col("disk.percent", m), col("disk.free", m)]
    cols += [col("load.1"), col("load.5"), col("load.15"), col("proc.count")]
    for w in WATCHED:
        cols += [col("watch.count", w), col("watch.cpu", w), col("watch.rss", w)]
    cols += [col("disk.read"), col("disk.write")]
    for n in NICS:
        cols += [col("nic.sent", n), col("nic.recv", n)]
    cols += [col("cpu.core", str(i)) for i in range(CORES)]
    cols += [col("cpu.total"), col("net.sent"), col("net.recv")]
    return cols


def _walk(rng: np.random.Generator, rows: int, lo: float, hi: float, step: float) -> np.ndarray:
    """A bounded random walk: slowly varying levels like memory or disk use."""
    x = np.cumsum(rng.normal(0, step, rows)) + rng.uniform(lo, hi)
    span = hi - lo
    return lo + np.abs(((x - lo) % (2 * span)) - span)  # reflect into [lo, hi]


def _rate(rng: np.random.Generator, rows: int, typical: float, idle_share: float) -> np.ndarray:
    """Bytes per second as the sampler computes them: an integer increase over
    an interval of about 1 s (so the value has decimals), often zero."""
    increase = np.round(rng.lognormal(np.log(typical), 1.2, rows))
    increase[rng.random(rows) < idle_share] = 0.0
    dt = 1.0 + rng.normal(0, 0.0005, rows)
    return increase / dt


def realistic_values(columns: list[str], rows: int = DAY_ROWS, seed: int = 1) -> np.ndarray:
    """A (rows x columns) float64 matrix of plausible readings for ``columns``."""
    rng = np.random.default_rng(seed)
    gib = 2**30
    out = np.empty((rows, len(columns)), dtype=np.float64)
    cores = []
    for j, c in enumerate(columns):
        name = c.split("[")[0]
        if name == "cpu.core":
            v = np.clip(_walk(rng, rows, 0, 60, 1.5) + rng.gamma(1.5, 4, rows), 0, 100)
            cores.append(j)
        elif name in ("memory.percent", "swap.percent", "disk.percent"):
            v = np.round(_walk(rng, rows, 5, 90, 0.02), 1)
        elif name in ("memory.used", "memory.available", "swap.used", "disk.free"):
            v = np.round(_walk(rng, rows, 0.2 * gib, 12 * gib, 2e6) / 4096) * 4096
        elif name == "watch.rss":
            v = np.round(_walk(rng, rows, 100e6, 400e6, 1e5) / 4096) * 4096
        elif name.startswith("load."):
            v = np.round(_walk(rng, rows, 0, 4, 0.01), 2)
        elif name == "proc.count":
            v = np.round(_walk(rng, rows, 180, 320, 0.3))
        elif name == "watch.count":
            v = np.ones(rows)
        elif name == "watch.cpu":
            v = np.round(rng.gamma(1.2, 1.5, rows), 1)
        elif name in ("disk.read", "disk.write"):
            v = _rate(rng, rows, 200_000, 0.6)
        elif name in ("nic.sent", "nic.recv"):
            v = _rate(rng, rows, 40_000 if c.endswith("[lo]") else 150_000, 0.1)
        else:  # cpu.total, net.sent, net.recv: derived below
            v = np.zeros(rows)
        out[:, j] = v
    idx = {c: j for j, c in enumerate(columns)}
    out[:, idx["cpu.total"]] = out[:, cores].mean(axis=1)
    for total in ("net.sent", "net.recv"):
        nic = [j for c, j in idx.items() if c.startswith(total.replace("net", "nic") + "[") and not c.endswith("[lo]")]
        out[:, idx[total]] = out[:, nic].sum(axis=1)
    return out


def timestamps_ns(rows: int = DAY_ROWS, end_ns: int | None = None, seed: int = 2) -> np.ndarray:
    """One timestamp per second ending now, with a few ms of scheduling jitter."""
    end_ns = end_ns or time.time_ns()
    rng = np.random.default_rng(seed)
    base = end_ns - (rows - 1) * 1_000_000_000
    return base + np.arange(rows, dtype=np.int64) * 1_000_000_000 + rng.integers(0, 3_000_000, rows)


def row_dicts(columns: list[str], values: np.ndarray, chunk: int = 2_000) -> Iterator[list[dict[str, float]]]:
    """Rows as the dicts the sampler appends, ``chunk`` rows at a time (Python floats)."""
    for lo in range(0, len(values), chunk):
        yield [dict(zip(columns, row)) for row in values[lo : lo + chunk].tolist()]


def fill(rt: Runtime, rows: int = DAY_ROWS) -> tuple[list[str], float, float]:
    """Append ``rows`` realistic samples to ``rt.frame``. Returns the columns and
    the wall and CPU (this thread's) seconds spent inside ``RollingFrame.append``
    only (not building dicts)."""
    columns = realistic_columns(rt.fields)
    values = realistic_values(columns, rows)
    ts = timestamps_ns(rows).tolist()
    append = rt.frame.append
    spent = cpu = 0
    i = 0
    for batch in row_dicts(columns, values):
        c0, t0 = time.thread_time_ns(), time.perf_counter_ns()
        for d in batch:
            append(ts[i], d)
            i += 1
        spent += time.perf_counter_ns() - t0
        cpu += time.thread_time_ns() - c0
    return columns, spent / 1e9, cpu / 1e9


def best_of(repeat: int, fn: Callable[[], T]) -> tuple[float, T]:
    """The fastest of ``repeat`` runs in seconds (GC off while timing), and a result."""
    best = float("inf")
    result: T
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            result = fn()
            best = min(best, time.perf_counter() - t0)
        finally:
            gc.enable()
    return best, result


def machine_note() -> str:
    """Cores and load average: wall-clock figures mean little on a busy machine."""
    cores = os.cpu_count() or 1
    load = os.getloadavg()[0]
    note = f"machine: {cores} cores, load average (1 min) {load:.2f}"
    if load > cores * 0.75:
        note += "  [busy: other work competes for the CPU; wall-clock figures are pessimistic]"
    return note


def verdict(ok: bool, text: str) -> str:
    return f"{'PASS' if ok else 'FAIL'}  {text}"


def table(header: list[str], rows: list[list[str]]) -> str:
    """A plain left/right aligned text table (first column left, others right)."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(r: list[str]) -> str:
        return "  ".join(str(v).ljust(w) if i == 0 else str(v).rjust(w) for i, (v, w) in enumerate(zip(r, widths)))

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])
