"""The Runtime: the one object per server process that owns background work.

It is built from the config, started by the st.App lifespan and stopped on
shutdown. Pages and API handlers only read from it or ask it to act; they find
it through :func:`current` (a test installs its own with :func:`install`).
"""

from __future__ import annotations

import logging
import math
import platform
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Literal

import psutil

from dashboard_core.auth.secret_key import data_key
from dashboard_core.auth.sessions import Sessions
from dashboard_core.config import Config
from dashboard_core.events import EventLog
from dashboard_core.health.agents import AgentRegistry
from dashboard_core.health.alertmanager_link import AlertmanagerLink
from dashboard_core.health.alerts import AlertEngine
from dashboard_core.health.monitor import HealthMonitor
from dashboard_core.metrics.fields import FieldTable
from dashboard_core.metrics.frame import RollingFrame, Rows
from dashboard_core.metrics.history_store import HistoryStore
from dashboard_core.metrics.history_writer import HistoryWriter
from dashboard_core.metrics.process_snapshots import ProcessSnapshots, keep_seconds, process_info
from dashboard_core.metrics.processes import top_processes
from dashboard_core.metrics.remote_push import RemotePush
from dashboard_core.metrics.sampler import Clock, Sampler
from dashboard_core.metrics.sources import build_sources
from dashboard_core.metrics.tiers import tiers_of
from dashboard_core.metrics.windows import Window
from dashboard_core.models import (
    AgentInfo,
    ComponentState,
    EventKind,
    HostInfo,
    LatestSample,
    ProcessInfo,
    RunInfo,
    RunStatus,
    SelfHealth,
    Severity,
)
from dashboard_core.run_trees import RunTrees
from dashboard_core.store import Store, StoreError, open_store
from dashboard_core.store_watch import StoreWatch
from dashboard_core.testing.findings import SuiteFindings
from dashboard_core.testing.manager import SuiteManager
from dashboard_core.workflows.supervisor import WorkflowSupervisor

if TYPE_CHECKING:  # loaded by the first page or request that needs them (see Runtime.figures)
    import pandas as pd

    from dashboard_core.metrics.cards import Card, CardCache
    from dashboard_core.metrics.figure_cache import FigureCache
    from dashboard_core.metrics.history_read import HistoryRead, HistoryReader

log = logging.getLogger(__name__)


_RUN_SEVERITY = {
    RunStatus.FAILED: Severity.WARNING,
    RunStatus.ERROR: Severity.WARNING,
    RunStatus.TIMED_OUT: Severity.WARNING,
    RunStatus.INTERRUPTED: Severity.WARNING,
}


class Runtime:
    def __init__(self, config: Config, *, clock: Clock | None = None, base_url: str | None = None) -> None:
        """``base_url``: where this dashboard answers, for health checks of its own API."""
        self.config = config
        self.base_url = base_url
        self.store: Store = open_store(config.data_dir)
        self.events = EventLog(self.store, config.events.keep_days)
        self.sessions = Sessions(config.auth, data_key(config.data_dir), self.store)
        self.tests = SuiteManager(config, self.store)
        self.tests.listeners.append(self._run_event)
        self.agents = AgentRegistry(config, self.store, self.events)
        self.workflows = WorkflowSupervisor(config, self.store, self.events)
        self.run_trees = RunTrees(self.store, self.tests, self.workflows, self.events)  # each run's own resources
        self.health = HealthMonitor(config, self.store, self.events, base_url=base_url)
        sources, watched = build_sources(config)
        self.fields = FieldTable([f for s in sources for f in s.fields])
        self.frame = RollingFrame(config.sampler.capacity, dtype_of=self._dtype_of)
        self.sampler = Sampler(
            sources,
            self.frame,
            self.fields,
            interval=config.sampler.interval_seconds,
            process_interval=config.sampler.process_interval_seconds,
            watched=watched,
            clock=clock,
        )
        self.snapshots = ProcessSnapshots(self.store, top_n=config.sampler.top_n, keep_seconds=keep_seconds(config))
        self.sampler.scan_listeners.append(self.snapshots.record)  # "what ran at a moment", kept in the store
        # Long history: coarser tiers in the store, fed from the frame by their own thread.
        history = config.history
        self.history_store = HistoryStore(self.store, tiers_of(history.tiers)) if history.enabled else None
        self.history_writer = (
            HistoryWriter(
                self.history_store,
                self.frame,
                flush_seconds=history.flush_seconds,
                sample_interval=config.sampler.interval_seconds,
            )
            if self.history_store is not None
            else None
        )
        self.started_at: datetime | None = None
        self._started_mono = 0.0
        self._process = psutil.Process()
        self._cpu_at_start = 0.0
        self.alerts = AlertEngine(config, self.store, self.events, _AlertInputs(self), fields=self.fields)
        self.alerts.mutes.add(self.health.maintenance)  # maintenance windows notify no one
        # metrics out: samples pushed to a Prometheus-compatible store, when [remote_push] url is set
        self.remote_push = RemotePush(config.remote_push, self.frame, self.fields) if config.remote_push.url else None
        self._store_watch = StoreWatch(self.store, self.events)  # a store written again after failures: an event
        self._started: list[tuple[str, Callable[[], None]]] = []  # each started part's stop, in start order
        self.alertmanager: AlertmanagerLink | None = None  # alerts to Alertmanager, silences both ways
        if config.alerting.alertmanager:
            book = getattr(self.alerts, "silences", None)  # the silence book, where there is one
            self.alertmanager = AlertmanagerLink(config, self.alerts, book)

    def _dtype_of(self, column: str) -> str:
        field = self.fields.for_column(column)
        return field.dtype if field else "float32"

    # Built on first use, by a page or a request: an idle server never loads pandas, pyarrow or plotly.
    @cached_property
    def figures(self) -> FigureCache:  # chart figures shared by sessions
        from dashboard_core.metrics.figure_cache import FigureCache

        return FigureCache(self.fields)

    @cached_property
    def _cards(self) -> CardCache:  # the live cards, shared by sessions
        from dashboard_core.metrics.cards import CardCache

        return CardCache(self.fields)

    @cached_property
    def _history_reader(self) -> HistoryReader:
        from dashboard_core.metrics.history_read import HistoryReader

        interval = self.config.sampler.interval_seconds
        return HistoryReader(self.frame, self.history_store, sample_interval=interval, dtype_of=self._dtype_of)

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> None:
        """Start the parts in order. If one fails, those already started (it too, as
        far as it got) are stopped in reverse order and the error is raised: a
        runtime that did not start leaves no thread and no process behind."""
        self.started_at = datetime.now(UTC)
        self._started_mono = time.monotonic()
        times = self._process.cpu_times()
        self._cpu_at_start = times.user + times.system
        try:
            self.store.open()  # first: a store that cannot be used stops start-up before anything runs
            self.sessions.load()
            if self.history_writer is not None:  # stopped after the sampler: it writes what the sampler took last
                self._start_part("history writer", self.history_writer.start, self.history_writer.stop)
            # Stopped after the sampler: it writes what the sampler scanned last.
            self._start_part("process snapshots", self.snapshots.start, self.snapshots.stop)
            self._start_part("sampler", self.sampler.start, self.sampler.stop)
            self._start_part("run trees", self.run_trees.start, self.run_trees.stop)  # stops after the runs did
            self._start_part("suite manager", self.tests.start, self.tests.stop)
            self._start_part("workflow supervisor", self.workflows.start, self.workflows.stop)
            self._start_part("agent registry", self.agents.start, self.agents.stop)
            self._start_part("health monitor", self.health.start, self.health.stop)
            try:
                self.events.prune()
            except StoreError as exc:  # a full disk: old events stay a while longer
                log.warning("Cannot prune old events: %s", exc)
            if self.alertmanager is not None:  # before the engine: it ends there what the engine's recovery closes
                self._start_part("alertmanager link", self.alertmanager.start, self.alertmanager.stop)
            self._start_part("alert engine", self.alerts.start, self.alerts.stop)  # it reads what the others produce
            self._start_part("store watch", self._store_watch.start, self._store_watch.stop)
            if self.remote_push is not None:  # last, so stopped first: a last push of what is left
                self._start_part("remote push", self.remote_push.start, self.remote_push.stop)
        except BaseException:
            log.error("The runtime failed to start; stopping the %d part(s) started", len(self._started))
            self.stop()
            raise
        log.info(
            "Runtime started: sampling every %.3g s, %d rows of history",
            self.config.sampler.interval_seconds,
            self.frame.capacity,
        )

    def attach(self, name: str, start: Callable[[], None], stop: Callable[[], None]) -> None:
        """Start a part of the application layer (above the Runtime, which cannot build
        it); owned from then on like the others: stopped first, with them."""
        self._start_part(name, start, stop)

    def _start_part(self, name: str, start: Callable[[], None], stop: Callable[[], None]) -> None:
        """Recorded before it starts, so that a part that fails halfway is stopped too."""
        self._started.append((name, stop))
        start()

    def stop(self) -> None:
        """Stop what started, in reverse order; a part that fails to stop does not keep the others running."""
        while self._started:
            name, stop = self._started.pop()
            try:
                stop()
            except Exception:
                log.exception("Stopping the %s failed", name)
        self.store.close()
        log.info("Runtime stopped")

    def _run_event(self, run: RunInfo) -> None:
        """Test runs starting and finishing go to the event log."""
        if not run.status.finished:
            message = f"Run {run.id} of {run.suite} started ({run.trigger})"
        else:
            message = f"Run {run.id} of {run.suite} {run.status}: {run.summary()} ({run.message})"
        try:
            self.events.publish(
                EventKind.TEST_RUN,
                run.suite,
                message,
                severity=_RUN_SEVERITY.get(run.status, Severity.INFO),
                data={"run_id": run.id, "status": run.status.value, "trigger": run.trigger.value},
            )
        except StoreError as exc:  # the event is a witness: the run goes on without it
            log.warning("Cannot record the event %r: %s", message, exc)

    # -- metrics ---------------------------------------------------------------
    def history(self, window: Window | None = None) -> pd.DataFrame:
        """Samples in the window (all held samples if None), oldest first: every
        sample, from memory only. What alert rules and live cards read."""
        if window is None:
            return self.frame.to_frame()
        return self.frame.to_frame(window.start, window.end)

    def live_cards(self) -> list[Card]:
        """The cards of the last ~2 minutes (none once the newest sample is older),
        built once per new sample for every session that shows them."""
        from dashboard_core.metrics.cards import CARD_SECONDS

        end_ns = time.time_ns()
        start_ns = end_ns - CARD_SECONDS * 1_000_000_000
        span = self.frame.span_ns()
        key = None if span is None else (span[1], span[1] >= start_ns)
        return self._cards.cards(key, lambda: self.frame.rows(start_ns, end_ns))

    def read_history(self, window: Window, *, extremes: bool = False) -> HistoryRead:
        """The window across memory and the store, at the finest resolution that
        covers it, saying which (what the Metrics page, the API and the CSV read).
        ``extremes``: also each bucket's min and max, when the tier keeps them."""
        return self._history_reader.read(window, extremes=extremes)

    def history_tail(self, since_ms: int, step: str) -> Rows:
        """What a live chart at resolution ``step`` (``full``, or a tier's token such
        as ``10s``) lacks after ``since_ms`` (UTC epoch ms); a ValueError names the
        steps there are."""
        from dashboard_core.metrics.history_read import FULL

        tiers = {t.token: t for t in (self.history_store.tiers if self.history_store else [])}
        if step != FULL and step not in tiers:
            raise ValueError(f"step {step!r} is not a resolution of this dashboard: {', '.join([FULL, *tiers])}")
        return self._history_reader.tail(since_ms, tiers.get(step))

    def latest(self) -> LatestSample | None:
        sample = self.sampler.latest
        if sample is None:
            return None
        return LatestSample(
            timestamp=datetime.fromtimestamp(sample.ts_ns / 1e9, UTC),
            values={k: (None if math.isnan(v) else v) for k, v in sample.values.items()},
        )

    def top_processes(self, by: Literal["cpu", "memory"], n: int | None = None) -> list[ProcessInfo]:
        return [process_info(r) for r in top_processes(self.sampler.processes, n or self.config.sampler.top_n, by)]

    # -- about the host and ourselves -----------------------------------------
    def host_info(self) -> HostInfo:
        return HostInfo(
            hostname=socket.gethostname(),
            platform=f"{platform.system()} {platform.release()} ({platform.machine()})",
            cpu_cores=psutil.cpu_count() or 1,
            memory_total=psutil.virtual_memory().total,
            boot_time=datetime.fromtimestamp(psutil.boot_time(), UTC),
        )

    def self_health(self) -> SelfHealth:
        status = self.sampler.status
        uptime = time.monotonic() - self._started_mono if self.started_at else 0.0
        times = self._process.cpu_times()
        cpu = times.user + times.system - self._cpu_at_start
        span = self.frame.span_ns()
        return SelfHealth(
            started_at=self.started_at or datetime.now(UTC),
            uptime_seconds=uptime,
            sampling_interval_seconds=self.config.sampler.interval_seconds,
            process_interval_seconds=self.config.sampler.process_interval_seconds,
            samples_held=len(self.frame),
            capacity=self.frame.capacity,
            history_span_seconds=(span[1] - span[0]) / 1e9 if span else 0.0,
            bytes_per_row=self.frame.bytes_per_row,
            sampler_running=self.sampler.alive,
            sampler_cpu_ms_per_sample=status.cpu_ms_per_sample,
            process_scan_cpu_ms=status.cpu_ms_per_scan,
            sampler_crashes=status.crashes,
            sampler_last_crash=status.last_crash,
            failing_sources=dict(status.failing_sources),
            store_error=failure.sentence(self.store.path) if (failure := self.store.write_failure) else None,
            process_rss=self._process.memory_info().rss,
            process_cpu_percent=cpu / uptime * 100 if uptime > 0 else 0.0,
        )


class _AlertInputs(SuiteFindings):
    """What the alert engine reads, from the Runtime's parts (what test runs show: SuiteFindings)."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime.tests)
        self._rt = runtime

    def samples(self, start_ns: int, end_ns: int) -> Rows:
        return self._rt.frame.rows(start_ns, end_ns)

    def component_state(self, name: str) -> ComponentState | None:
        status = self._rt.health.status(name)
        return status.state if status else None

    def agents(self) -> list[AgentInfo]:
        return self._rt.agents.agents()


# -- the process-wide accessor -------------------------------------------------
_current: Runtime | None = None
_lock = threading.Lock()


def current() -> Runtime | None:
    """The running Runtime of this process, or None while it starts."""
    return _current


def install(runtime: Runtime | None) -> None:
    """Make ``runtime`` this process's current one."""
    global _current
    with _lock:
        _current = runtime


@contextmanager
def running(config: Config, *, clock: Clock | None = None, base_url: str | None = None) -> Iterator[Runtime]:
    """Build, start and install a Runtime; stop and uninstall it on exit."""
    runtime = Runtime(config, clock=clock, base_url=base_url)
    runtime.start()
    install(runtime)
    try:
        yield runtime
    finally:
        install(None)
        runtime.stop()
