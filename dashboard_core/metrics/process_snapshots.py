"""Process snapshots: the top processes of every process-table scan, kept in
the store, so that a click on a chart can say what was running at that moment.

The sampler hands each scan to :meth:`ProcessSnapshots.record` (on its own
thread: it only picks the union of the top N by CPU and the top N by memory,
reads the command line of a process it has not seen, and appends). Scans are
gathered into batches of :data:`BATCH_SECONDS`; a sealed batch is encoded
(:mod:`~dashboard_core.metrics.snapshot_codec`) and written by this object's
own thread, one row per batch, with retention in the same transaction, so the
sampler never waits on SQLite. A write that fails (a full disk) keeps the
encoded batches in memory (at most :data:`MAX_UNWRITTEN`) and retries: sampling
never stops. A crash loses at most the batch still filling. Lookups read the
batches in memory first, then the store, so the newest scans are found too.

Retention: as long as the 10 s history tier is kept (the finest tier if there
is no 10 s one); with history disabled, as long as the in-memory history
(``sampler.history_hours``): the charts reach no further back then.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import psutil

from dashboard_core.config import Config
from dashboard_core.logonce import recovered, warn_once
from dashboard_core.metrics.processes import ProcessRow, top_processes
from dashboard_core.metrics.snapshot_codec import Scan, SnapshotDamaged, decode, encode
from dashboard_core.models import ProcessInfo
from dashboard_core.store import Store

log = logging.getLogger(__name__)

TABLE = "process_snapshots"
# Scans per store row: 60 at the default 5 s. Names, users and command lines are kept
# once per row, so longer batches cost less: at the defaults a 1-minute row costs about
# 3 MB a day, a 5-minute one 1 MB (bench/process_snapshots.py); a crash loses at most one.
BATCH_SECONDS = 300.0
MAX_UNWRITTEN = 288  # batches held while the store cannot be written: a day of them, ~1 MB
CMDLINE_CHARS = 120  # a short command line: enough to tell two pythons apart


def keep_seconds(config: Config) -> float:
    """How long snapshots are kept: see the module's docstring."""
    history = config.history
    if not history.enabled:
        return config.sampler.history_hours * 3600
    tier = next((t for t in history.tiers if t.seconds == 10), history.tiers[0])
    return tier.keep_days * 86_400


def process_info(r: ProcessRow) -> ProcessInfo:
    return ProcessInfo(
        pid=r.pid,
        name=r.name,
        user=r.user,
        cpu_percent=r.cpu_percent,
        rss=int(r.rss),
        memory_percent=r.memory_percent,
        cmdline=r.cmdline,
    )


def pick(rows: Sequence[ProcessRow], n: int) -> list[ProcessRow]:
    """The union of the top ``n`` by CPU and the top ``n`` by memory (each once)."""
    picked = {r.pid: r for r in top_processes(rows, n, "cpu")}
    for r in top_processes(rows, n, "memory"):
        picked.setdefault(r.pid, r)
    return list(picked.values())


def read_cmdline(pid: int) -> str:
    """A process's command line, or "" if it is gone or not ours to read."""
    try:
        return " ".join(psutil.Process(pid).cmdline())
    except (psutil.Error, OSError):
        return ""


@dataclass(slots=True)
class _Batch:
    """Scans in memory: raw until the writer encodes them, then the blob until written."""

    first_ms: int
    last_ms: int
    n: int  # scans
    scans: list[Scan] | None
    blob: bytes | None = None

    @classmethod
    def of(cls, scans: list[Scan]) -> _Batch:
        return cls(scans[0].ts_ms, scans[-1].ts_ms, len(scans), scans)

    def read(self) -> list[Scan]:
        scans = self.scans  # one read: the writer may swap it for the blob meanwhile
        return scans if scans is not None else decode(self.blob or b"")


@dataclass(frozen=True, slots=True)
class Found:
    """What a lookup found: the newest scan at or before the time, or the
    (first, last) scan times of an unreadable batch that would have held it."""

    scan: Scan | None = None
    damaged: tuple[int, int, str] | None = None


@dataclass(slots=True)
class SnapshotStatus:
    batches_written: int = 0
    bytes_written: int = 0
    dropped: int = 0  # batches given up while the store could not be written
    last_error: str | None = None


class ProcessSnapshots:
    def __init__(
        self,
        store: Store,
        *,
        top_n: int,
        keep_seconds: float,
        batch_seconds: float = BATCH_SECONDS,
        clock: Callable[[], float] = time.time,
        cmdline: Callable[[int], str] = read_cmdline,
    ) -> None:
        self.store = store
        self.top_n = top_n
        self.keep_ms = round(keep_seconds * 1000)
        self.batch_ms = round(batch_seconds * 1000)
        self.clock = clock
        self.status = SnapshotStatus()
        self._cmdline = cmdline
        self._cmdlines: dict[int, tuple[str, str]] = {}  # pid -> (name, command line)
        self._open: list[Scan] = []
        self._batches: deque[_Batch] = deque()  # sealed, oldest first, not yet written
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the sampler's side ------------------------------------------------------
    def record(self, ts_ns: int, rows: Sequence[ProcessRow]) -> None:
        """Keep a scan's top processes (called on the sampler's thread: no I/O but
        the command lines of processes new to the top lists)."""
        picked = pick(rows, self.top_n)
        total = next((r.rss * 100 / r.memory_percent for r in picked if r.memory_percent > 0), 0.0)
        scan = Scan(ts_ns // 1_000_000, total, tuple(self._with_cmdline(r) for r in picked))
        self._cmdlines = {r.pid: (r.name, r.cmdline) for r in scan.rows}
        with self._lock:
            if self._open and scan.ts_ms - self._open[0].ts_ms >= self.batch_ms:
                self._seal()
                self._wake.set()
            self._open.append(scan)

    def _with_cmdline(self, r: ProcessRow) -> ProcessRow:
        if r.cmdline:
            return r if len(r.cmdline) <= CMDLINE_CHARS else _replace_cmdline(r, r.cmdline[:CMDLINE_CHARS])
        known = self._cmdlines.get(r.pid)
        text = known[1] if known is not None and known[0] == r.name else self._cmdline(r.pid)[:CMDLINE_CHARS]
        return _replace_cmdline(r, text) if text else r

    def _seal(self) -> None:
        """Close the batch filling (under the lock)."""
        if self._open:
            scans, self._open = self._open, []
            self._batches.append(_Batch.of(scans))
            while len(self._batches) > MAX_UNWRITTEN:
                self._batches.popleft()
                self.status.dropped += 1
                warn_once(log, "snapshots-backlog", "Process snapshots: the store takes no writes; dropping old ones")

    # -- the writer's side -------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="dashboard-snapshots", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread, then write what is held, the batch still filling too."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.tick(seal=True)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        self.tick()  # retention at start
        while not self._stop.is_set():
            # A sealed batch wakes it; batches left by a failed write are retried after a while.
            self._wake.wait(self.batch_ms / 1000 if self._batches else None)
            self._wake.clear()
            if not self._stop.is_set():
                self.tick()

    def tick(self, *, seal: bool = False) -> None:
        """Write what is held (``seal``: the batch filling too); never raises."""
        try:
            self.flush(seal=seal)
        except Exception as exc:  # noqa: BLE001 - snapshots must never take the dashboard down
            self.status.last_error = f"{type(exc).__name__}: {exc}"
            warn_once(log, "snapshots", "Writing process snapshots to the store failed, will retry: %s", exc)
        else:
            if self.status.last_error is not None:
                self.status.last_error = None
                recovered(log, "snapshots", "Writing process snapshots to the store works again")

    def flush(self, *, seal: bool = False) -> int:
        """Encode and write the sealed batches, and delete what is past retention,
        in one transaction; the batches written. Raises what the store raises."""
        with self._write_lock:
            with self._lock:
                if seal:
                    self._seal()
                batches = list(self._batches)
            for b in batches:
                if b.blob is None and b.scans is not None:
                    b.blob = encode(b.scans)
                    b.scans = None
            with self.store.transaction() as db:
                db.executemany(
                    f"INSERT OR REPLACE INTO {TABLE} (ts, last_ts, scans, data) VALUES (?, ?, ?, ?)",
                    [(b.first_ms, b.last_ms, b.n, b.blob) for b in batches],
                )
                cutoff = round(self.clock() * 1000) - self.keep_ms
                db.execute(f"DELETE FROM {TABLE} WHERE ts < ? AND last_ts < ?", (cutoff, cutoff))
            with self._lock:
                written = {id(b) for b in batches}
                self._batches = deque(b for b in self._batches if id(b) not in written)
            self.status.batches_written += len(batches)
            self.status.bytes_written += sum(len(b.blob or b"") for b in batches)
            return len(batches)

    # -- lookups -----------------------------------------------------------------
    def scan_at(self, at_ms: int) -> Found:
        """The newest scan at or before ``at_ms``: in memory, else in the store."""
        for b in reversed(self._held()):  # newest first
            if b.first_ms <= at_ms:
                return _newest_in(b.first_ms, b.last_ms, b.read, at_ms)
        row = self.store.one(f"SELECT ts, last_ts, data FROM {TABLE} WHERE ts <= ? ORDER BY ts DESC LIMIT 1", (at_ms,))
        if row is None:
            return Found()
        return _newest_in(int(row[0]), int(row[1]), lambda: decode(row[2]), at_ms)

    def next_after(self, at_ms: int) -> int | None:
        """When the first scan after ``at_ms`` was taken (None: none yet), for notes."""
        row = self.store.one(f"SELECT ts, data FROM {TABLE} WHERE last_ts > ? ORDER BY ts LIMIT 1", (at_ms,))
        batches: list[tuple[int, Callable[[], list[Scan]]]] = []
        if row is not None:
            batches.append((int(row[0]), lambda: decode(row[2])))
        batches += [(b.first_ms, b.read) for b in self._held() if b.last_ms > at_ms]
        for first, read in batches:
            if first > at_ms:
                return first
            try:
                return next(s.ts_ms for s in read() if s.ts_ms > at_ms)
            except (SnapshotDamaged, StopIteration):
                continue
        return None

    def oldest(self) -> int | None:
        """When the oldest scan kept was taken (epoch ms), or None."""
        row = self.store.one(f"SELECT min(ts) FROM {TABLE}")
        if row is not None and row[0] is not None:
            return int(row[0])
        held = self._held()
        return held[0].first_ms if held else None

    def _held(self) -> list[_Batch]:
        """The batches in memory, oldest first, the one filling last."""
        with self._lock:
            return [*self._batches, *([_Batch.of(list(self._open))] if self._open else [])]

    def count(self) -> int:
        """Batches in the store."""
        row = self.store.one(f"SELECT count(*) FROM {TABLE}")
        return int(row[0]) if row else 0


def _newest_in(first: int, last: int, read: Callable[[], list[Scan]], at_ms: int) -> Found:
    try:
        scans = read()
    except SnapshotDamaged as exc:
        return Found(damaged=(first, last, str(exc)))
    before = [s for s in scans if s.ts_ms <= at_ms]
    return Found(scan=before[-1]) if before else Found()


def _replace_cmdline(r: ProcessRow, cmdline: str) -> ProcessRow:
    return ProcessRow(r.pid, r.name, r.user, r.cpu_percent, r.rss, r.memory_percent, cmdline)
