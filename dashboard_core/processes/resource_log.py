"""The store's record of each run's process tree over time (schema version 9).

A test run is one tree (its pytest or command process and what it starts); a
workflow run has one per step (a service's restarts continue its step's series).
Samples are packed, 22 bytes each (:data:`SAMPLE`), and written in chunks: one
row per tree per flush, so a tree sampled every 2 s for an hour takes 1,800
samples in about 120 rows, some 45 KB with the rows' and index's overhead
(``tests/processes/test_resource_log.py`` measures it). The rows reference
their run (a workflow step's rows its step), so deleting a run deletes them.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dashboard_core.store import Store

FORMAT = 1  # the first byte of every chunk: how its samples are packed
# at (epoch s, float64), CPU % of one core (float32), CPU seconds so far (float32),
# RSS in KiB (uint32: up to 4 TiB), processes (uint16).
SAMPLE = struct.Struct("<dffIH")
_MAX_PROCESSES = 0xFFFF
_MAX_KIB = 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class RunKey:
    """Whose tree: a test run (``step`` None) or one step of a workflow run."""

    kind: str  # "test" or "workflow"
    run_id: int
    step: str | None = None

    @classmethod
    def test(cls, run_id: int) -> RunKey:
        return cls("test", run_id)

    @classmethod
    def workflow(cls, run_id: int, step: str) -> RunKey:
        return cls("workflow", run_id, step)


@dataclass(frozen=True, slots=True)
class ResourceSample:
    """One reading of a tree. ``cpu_percent``: of one core, since the reading before
    (the first: since the tree's root started); ``cpu_seconds``: the tree's CPU time
    since its run's first root started (only grows); ``rss_bytes``: the sum of its
    processes' resident memory; ``processes``: how many were alive."""

    at: float
    cpu_percent: float
    cpu_seconds: float
    rss_bytes: int
    processes: int


def pack(samples: Sequence[ResourceSample]) -> bytes:
    """Samples as one chunk (a format byte, then :data:`SAMPLE` each)."""
    parts = [bytes([FORMAT])]
    for s in samples:
        kib = min(_MAX_KIB, (s.rss_bytes + 1023) // 1024)
        parts.append(SAMPLE.pack(s.at, s.cpu_percent, s.cpu_seconds, kib, min(_MAX_PROCESSES, s.processes)))
    return b"".join(parts)


def unpack(chunk: bytes) -> list[ResourceSample]:
    """A chunk's samples; ValueError for a chunk this version cannot read."""
    if not chunk or chunk[0] != FORMAT or (len(chunk) - 1) % SAMPLE.size:
        raise ValueError(f"not a chunk of resource samples in format {FORMAT} ({len(chunk)} bytes)")
    return [ResourceSample(at, cpu, cpu_s, kib * 1024, n) for at, cpu, cpu_s, kib, n in SAMPLE.iter_unpack(chunk[1:])]


class ResourceLog:
    """Writes chunks and reads a run's series back, oldest first."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def write(self, chunks: Iterable[tuple[RunKey, Sequence[ResourceSample]]]) -> None:
        """One transaction for a flush of every tree's new samples."""
        rows = [(*_columns(key), samples[0].at, pack(samples)) for key, samples in chunks if samples]
        if rows:
            self.store.executemany(
                "INSERT INTO run_resources (test_run_id, workflow_run_id, step, first_at, samples) VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    def read(self, kind: str, run_id: int, after: int = 0) -> tuple[dict[str | None, list[ResourceSample]], int]:
        """The run's series by step (None for a test run), each oldest first, from the
        chunks written after row ``after``; and the last row read (to read on from)."""
        column = "test_run_id" if kind == "test" else "workflow_run_id"
        rows = self.store.all(
            f"SELECT rowid, step, samples FROM run_resources WHERE {column} = ? AND rowid > ? ORDER BY first_at",
            (run_id, after),
        )
        series: dict[str | None, list[ResourceSample]] = {}
        for row in rows:
            series.setdefault(row["step"], []).extend(unpack(row["samples"]))
            after = max(after, int(row["rowid"]))
        return series, after


def _columns(key: RunKey) -> tuple[int | None, int | None, str | None]:
    if key.kind == "test":
        return key.run_id, None, None
    return None, key.run_id, key.step
