"""The history writer: feeds the store's tiers from the rolling frame.

The rolling frame already holds every sample, so it is the queue: the writer's
own thread reads the rows appended since its last visit (one ``rows`` of a few
rows, plain numpy: no DataFrame, so an idle server needs no pandas), buckets them
per tier with numpy and, every ``flush_seconds``,
writes in one transaction every bucket that changed, including the bucket
still filling (rewritten at each flush until it is complete). The sampler
thread never waits on SQLite and does no extra work per sample.

So a crash (even SIGKILL) loses at most the samples since the last flush: the
store is in WAL mode and each flush is a single transaction, so it holds the
previous flush or this one, never part of one. A flush that fails (disk full)
keeps its buckets and is retried at the next one. A restart inside a bucket
merges into the row the previous process wrote for it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from dashboard_core.logonce import recovered, warn_once
from dashboard_core.metrics.frame import RollingFrame
from dashboard_core.metrics.history_store import HistoryStore
from dashboard_core.metrics.tiers import Buckets, Tier, bucket, merge

log = logging.getLogger(__name__)

MAINTENANCE_SECONDS = 3600.0  # incremental vacuum and WAL checkpoint, at most this often
MAX_PENDING = 50_000  # buckets per tier kept while the store cannot be written


@dataclass(slots=True)
class WriterStatus:
    flushes: int = 0
    rows_written: int = 0
    last_flush_at: float | None = None  # epoch seconds
    last_error: str | None = None
    flush_costs: deque[float] = field(default_factory=lambda: deque(maxlen=60))  # seconds, wall

    @property
    def ms_per_flush(self) -> float | None:
        costs = list(self.flush_costs)
        return sum(costs) / len(costs) * 1000 if costs else None


class HistoryWriter:
    def __init__(
        self,
        history: HistoryStore,
        frame: RollingFrame,
        *,
        flush_seconds: float,
        sample_interval: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.history = history
        self.frame = frame
        self.flush_seconds = flush_seconds
        self.clock = clock
        # Visit the frame often enough that it never drops a row the writer has
        # not seen (a short ring), and flush every few visits.
        frame_seconds = frame.capacity * sample_interval
        self.period = max(0.05, min(flush_seconds, frame_seconds / 4))
        self._visits_per_flush = max(1, round(flush_seconds / self.period))
        self.status = WriterStatus()
        self._pending: dict[Tier, Buckets] = {t: Buckets.empty() for t in history.tiers}
        self._dirty: set[Tier] = set()
        self._last_ns: int | None = None  # the newest sample already bucketed
        self._prepared = False
        self._next_maintenance = 0.0
        self._lock = threading.Lock()  # tick() from the thread, or from stop() and tests
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="dashboard-history", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread, then write what is left (the bucket still filling too)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.tick(flush=True)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        visits = 0
        while not self._stop.wait(self.period):
            visits += 1
            self.tick(flush=visits % self._visits_per_flush == 0)

    def tick(self, *, flush: bool) -> None:
        """Read new samples; write if ``flush``; upkeep when due. Never raises."""
        with self._lock:
            try:
                self._prepare()
                self.pull()
                if flush:
                    self.flush()
                if time.monotonic() >= self._next_maintenance:
                    self._next_maintenance = time.monotonic() + MAINTENANCE_SECONDS
                    self.history.maintain()
            except Exception as exc:  # noqa: BLE001 - history must never take the dashboard down
                self.status.last_error = f"{type(exc).__name__}: {exc}"
                warn_once(log, "history-writer", "Writing metric history to the store failed, will retry: %s", exc)
            else:
                if self.status.last_error is not None:
                    self.status.last_error = None
                    recovered(log, "history-writer", "Writing metric history to the store works again")

    def _prepare(self) -> None:
        if self._prepared:
            return
        self.history.prepare(round(self.clock() * 1000))
        for tier in self.history.tiers:
            newest = self.history.newest(tier)
            if newest is not None:  # a restart inside this bucket merges into it
                self._pending[tier] = newest
        self._next_maintenance = time.monotonic() + MAINTENANCE_SECONDS
        self._prepared = True

    # -- the work --------------------------------------------------------------------
    def pull(self) -> int:
        """Bucket the samples appended since the last pull; how many there were."""
        rows = self.frame.rows(None if self._last_ns is None else self._last_ns + 1)
        if not len(rows):
            return 0
        ts, values, columns = rows.ts_ns, rows.values, rows.columns
        if self._last_ns is not None and len(ts) >= self.frame.capacity:  # every row held is new: some may be gone
            warn_once(
                log, "history-lost", "Metric history may have missed samples: the frame turned over between visits"
            )
        for tier in self.history.tiers:
            pending = merge(self._pending[tier], bucket(ts, values, columns, tier.ms))
            if len(pending) > MAX_PENDING:
                warn_once(
                    log, "history-backlog", "Metric history: the store is not taking writes; dropping old buckets"
                )
                pending = pending.take(slice(-MAX_PENDING, None))
            self._pending[tier] = pending
            self._dirty.add(tier)
        self._last_ns = int(ts[-1])
        return len(ts)

    def flush(self) -> int:
        """Write every changed bucket (and retention) in one transaction; rows written."""
        batches = [(t, self._pending[t]) for t in self.history.tiers if t in self._dirty and len(self._pending[t])]
        t0 = time.perf_counter()
        written = self.history.write(batches, round(self.clock() * 1000))
        self.status.flush_costs.append(time.perf_counter() - t0)
        # Written: keep only each tier's newest bucket, which may still be filling.
        for tier, pending in batches:
            self._pending[tier] = pending.take(slice(-1, None))
        self._dirty.clear()
        self.status.flushes += 1
        self.status.rows_written += written
        self.status.last_flush_at = self.clock()
        return written
