"""The sampler: one supervised thread that ties the sources to the frame.

Every interval it reads each source, turns counters into per-second rates,
appends one row to the rolling frame and keeps the newest sample for the API.
At a slower cadence it scans the process table (top-N tables, watch matching).

A source that raises leaves its readings empty for that sample, is logged once
and reported in :attr:`Sampler.status`; it never stops the loop. Should the loop
itself crash, the supervisor restarts it after a short back-off and counts it.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from dashboard_core.logonce import recovered, warn_once
from dashboard_core.metrics.fields import FieldTable, MetricSource
from dashboard_core.metrics.frame import RollingFrame
from dashboard_core.metrics.processes import ProcessRow, ProcessScanner, WatchedProcessesSource
from dashboard_core.metrics.rates import RateConverter

log = logging.getLogger(__name__)


class Clock:
    """Wall time derived from the monotonic clock: timestamps never jump back
    when the system clock is stepped. Tests inject their own."""

    def __init__(self) -> None:
        self._mono0 = time.monotonic()
        self._wall0 = time.time_ns()

    def monotonic(self) -> float:
        return time.monotonic()

    def wall_ns(self, mono: float) -> int:
        return self._wall0 + int((mono - self._mono0) * 1e9)


@dataclass(frozen=True, slots=True)
class Sample:
    ts_ns: int
    values: dict[str, float]


RECENT = 60  # samples (and scans) the cost figures average over
_HEALTHY_RUN = 300.0  # seconds a loop must run before a crash resets the back-off
_MAX_BACKOFF = 60.0


@dataclass(slots=True)
class SamplerStatus:
    running: bool = False
    samples: int = 0
    scans: int = 0
    # CPU time of the sampler thread per host sample / per process-table scan,
    # the most recent ones: start-up costs (imports, first reads) fade out.
    sample_costs: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT))
    scan_costs: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT))
    failing_sources: dict[str, str] = field(default_factory=dict)
    crashes: int = 0
    last_crash: str | None = None

    @property
    def cpu_ms_per_sample(self) -> float | None:
        return _mean_ms(self.sample_costs)

    @property
    def cpu_ms_per_scan(self) -> float | None:
        return _mean_ms(self.scan_costs)


def _mean_ms(costs: deque[float]) -> float | None:
    values = list(costs)  # a copy: the sampler thread appends concurrently
    return sum(values) / len(values) * 1000 if values else None


class Sampler:
    def __init__(
        self,
        sources: Sequence[MetricSource],
        frame: RollingFrame,
        fields: FieldTable,
        *,
        interval: float,
        process_interval: float,
        watched: WatchedProcessesSource | None = None,  # also listed in sources
        clock: Clock | None = None,
    ) -> None:
        self.sources = list(sources)
        self.frame = frame
        self.fields = fields
        self.interval = interval
        self.process_interval = process_interval
        self.watched = watched
        self.clock = clock or Clock()
        self.status = SamplerStatus()
        self._kinds: dict[str, str] = {}
        self._latest: Sample | None = None
        self._processes: list[ProcessRow] = []
        self._next_scan = -math.inf
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._rates = RateConverter()
        self._scanner = ProcessScanner()
        # Told of every scan (its wall time in ns, its rows) on this thread: keep it cheap.
        self.scan_listeners: list[Callable[[int, list[ProcessRow]], None]] = []

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._supervise, name="dashboard-sampler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.status.running = False

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _supervise(self) -> None:
        backoff = self.interval
        while not self._stop.is_set():
            self.status.running = True
            started = time.monotonic()
            try:
                self._loop()
            except Exception as exc:  # noqa: BLE001 - the supervisor must outlive any bug
                self.status.crashes += 1
                self.status.last_crash = f"{type(exc).__name__}: {exc}"
                if time.monotonic() - started > _HEALTHY_RUN:  # a rare crash, not a crash loop
                    backoff = self.interval
                log.exception("Sampler loop crashed; restarting in %.1f s", backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF)
        self.status.running = False

    def _loop(self) -> None:
        next_tick = self.clock.monotonic()
        while not self._stop.is_set():
            self.sample_once()
            next_tick += self.interval
            now = self.clock.monotonic()
            if next_tick < now:  # fell behind (suspend, overload): skip, don't burst
                next_tick = now + self.interval
            self._stop.wait(next_tick - now)

    # -- one sample ------------------------------------------------------------
    def sample_once(self) -> Sample:
        """Read every source once and append the row. Safe to call from tests."""
        mono = self.clock.monotonic()
        if mono >= self._next_scan:
            self._scan_processes()
            self._next_scan = mono + self.process_interval
            # The sources are read after the scan: time them from here, or a slow
            # scan skews every rate on both sides of it.
            mono = self.clock.monotonic()
        cpu0 = time.thread_time()
        gauges: dict[str, float] = {}
        counters: dict[str, float] = {}
        for source in self.sources:
            for column, value in self._read(source).items():
                (counters if self._kind(column) == "rate" else gauges)[column] = value
        rates = self._rates.convert(mono, counters)
        gauges.update(rates)
        for source in self.sources:
            derive = getattr(source, "derive", None)
            if derive is not None:
                gauges.update(derive(rates))
        sample = Sample(self.clock.wall_ns(mono), gauges)
        self.frame.append(sample.ts_ns, gauges)
        self._latest = sample
        self.status.samples += 1
        self.status.sample_costs.append(time.thread_time() - cpu0)
        return sample

    def _read(self, source: MetricSource) -> dict[str, float]:
        key = f"source:{source.name}"
        try:
            values = source.sample()
        except Exception as exc:  # noqa: BLE001 - one bad source must not stop the rest
            message = f"{type(exc).__name__}: {exc}"
            self.status.failing_sources[source.name] = message
            warn_once(log, key, "Metric source %r failed, its readings stay empty: %s", source.name, message)
            return {}
        if self.status.failing_sources.pop(source.name, None) is not None:
            recovered(log, key, "Metric source %r works again", source.name)
        return values

    def _kind(self, column: str) -> str:
        kind = self._kinds.get(column)
        if kind is None:
            field_ = self.fields.for_column(column)
            kind = self._kinds[column] = field_.kind if field_ else "gauge"
        return kind

    def _scan_processes(self) -> None:
        cpu0 = time.thread_time()
        try:
            rows = self._scanner.scan(with_cmdline=self.watched is not None and self.watched.needs_cmdline)
        except Exception as exc:  # noqa: BLE001
            self.status.failing_sources["process scan"] = f"{type(exc).__name__}: {exc}"
            warn_once(log, "source:process scan", "Process scan failed: %s", exc)
            return
        self.status.failing_sources.pop("process scan", None)
        if self.watched is not None:
            self.watched.rematch(rows)
        self._processes = rows
        ts_ns = self.clock.wall_ns(self.clock.monotonic())
        for listener in self.scan_listeners:
            try:
                listener(ts_ns, rows)
            except Exception as exc:  # noqa: BLE001 - a listener must not stop the scans
                warn_once(log, f"scan listener:{listener!r}", "A process-scan listener failed: %s", exc)
        self.status.scans += 1
        self.status.scan_costs.append(time.thread_time() - cpu0)

    # -- reading ---------------------------------------------------------------
    @property
    def latest(self) -> Sample | None:
        return self._latest

    @property
    def processes(self) -> list[ProcessRow]:
        """The last process-table scan (every ``process_interval`` seconds)."""
        return self._processes
