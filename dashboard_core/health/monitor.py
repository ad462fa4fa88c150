"""The health monitor: every component checked on its own schedule, its state tracked.

:class:`HealthMonitor` runs one thread with an asyncio event loop and one task
per component: a check never waits for another component's, and a slow check
delays only its own next one. Each result is folded into the component's
:class:`~dashboard_core.health.component_state.StateTracker`, written to the store
(``health_checks``), and each change of state is an event. Pages and the API read
:meth:`HealthMonitor.statuses` from other threads: the trackers are guarded by
a lock, and the uptime shares (from the store) are cached for half a minute.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx2 as httpx

from dashboard_core.config import ComponentConfig, Config
from dashboard_core.events import EventLog
from dashboard_core.health.checks import new_http_client, run_check
from dashboard_core.health.component_state import StateTracker
from dashboard_core.health.maintenance import checks_within, shared_maintenance
from dashboard_core.models import CheckResult, ComponentState, ComponentStatus, EventKind
from dashboard_core.store import Store, StoreError

log = logging.getLogger(__name__)

UPTIME_CACHE_SECONDS = 30.0
PRUNE_EVERY_SECONDS = 3600.0
STOP_WAIT_SECONDS = 2.0  # for cancelled checks to finish (killing their commands) when stopping
DAY = 86400.0


class HealthMonitor:
    """Checks every configured component on its own interval in one background thread.

    ``base_url`` is the dashboard's own address, for http checks whose url is a path.
    ``clock`` (epoch seconds) stamps results and bounds the uptime and history windows.
    """

    def __init__(
        self,
        config: Config,
        store: Store,
        events: EventLog,
        *,
        base_url: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.store = store
        self.events = events
        self.base_url = base_url
        self.clock = clock
        self.components = list(config.components)
        self._trackers = {c.name: StateTracker(c) for c in self.components}
        self.maintenance = shared_maintenance(config.maintenance, store)  # on statuses, not in uptime
        self._lock = threading.Lock()  # guards the trackers
        self._uptime_lock = threading.Lock()
        self._uptime: tuple[float, dict[str, tuple[float | None, float | None]]] | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._check_locks: dict[str, asyncio.Lock] = {}
        self._client: httpx.AsyncClient | None = None

    # -- life cycle ----------------------------------------------------------------
    def start(self) -> None:
        """Start checking (in a thread of its own); a no-op while it runs."""
        if self.running:
            return
        self.maintenance.load()  # the windows planned over the API (the store is open now)
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._check_locks = {c.name: asyncio.Lock() for c in self.components}
        self._thread = threading.Thread(
            target=self._run, args=(self._loop, self._stop), name="health-monitor", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop checking: running checks are cancelled and their commands killed."""
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None or loop is None or stop is None:
            return
        try:
            loop.call_soon_threadsafe(stop.set)
        except RuntimeError:  # the loop has already closed
            pass
        thread.join(timeout)
        if thread.is_alive():
            log.warning("The health monitor did not stop within %g s", timeout)
        else:
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self, loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
        executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="health-io")
        loop.set_default_executor(executor)
        try:
            loop.run_until_complete(self._main(stop))
        except Exception:
            log.exception("The health monitor stopped on an error")
        finally:
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                executor.shutdown(wait=False, cancel_futures=True)
                loop.close()

    async def _main(self, stop: asyncio.Event) -> None:
        self._client = new_http_client()
        tasks = [asyncio.create_task(self._watch(c), name=f"health {c.name}") for c in self.components]
        tasks.append(asyncio.create_task(self._prune_hourly(), name="health prune"))
        try:
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            done, pending = await asyncio.wait(tasks, timeout=STOP_WAIT_SECONDS)
            if pending:
                log.warning("%d health checks did not end when cancelled", len(pending))
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    log.error("A health task failed", exc_info=task.exception())
            await self._client.aclose()
            self._client = None

    async def _watch(self, component: ComponentConfig) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                await self._check(component)
            except Exception:  # a bug must not end this component's checks
                log.exception("The check of %s failed unexpectedly", component.name)
            # A slow check delays only this component's next check.
            await asyncio.sleep(max(0.0, component.interval_seconds - (loop.time() - started)))

    async def _check(self, component: ComponentConfig) -> None:
        async with self._check_locks[component.name]:
            result = await run_check(
                component, base_url=self.base_url, config=self.config, client=self._client, clock=self.clock
            )
            self._record(component, result)

    def _record(self, component: ComponentConfig, result: CheckResult) -> None:
        with self._lock:
            tracker = self._trackers[component.name]
            change = tracker.fold(result)
            state = tracker.state
        try:
            self.store.execute(
                "INSERT INTO health_checks (component, at, ok, latency_ms, state, message) VALUES (?, ?, ?, ?, ?, ?)",
                (component.name, result.at.timestamp(), int(result.ok), result.latency_ms, state.value, result.message),
            )
        except StoreError:
            pass  # a full disk: the store logged it once and the Overview says so; the state goes on in memory
        except Exception:
            log.exception("Cannot store the check result of %s", component.name)
        if change is None:
            return
        window = self.maintenance.window_of("components", component.name, result.at)
        message = change.message + (f" (maintenance: {window})" if window else "")
        log.log(
            logging.WARNING if change.new in (ComponentState.DOWN, ComponentState.DEGRADED) else logging.INFO,
            "%s",
            message,
        )
        try:
            self.events.publish(
                EventKind.COMPONENT,
                component.name,
                message,
                severity=change.severity,
                data={
                    "from": change.old.value,
                    "to": change.new.value,
                    "latency_ms": change.latency_ms,
                    "ok": result.ok,
                    "check": result.message,
                    "maintenance": window,
                },
            )
        except StoreError as exc:
            log.warning("Cannot record the event %r: %s", message, exc)
        except Exception:
            log.exception("Cannot publish the state change of %s", component.name)

    async def _prune_hourly(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.prune)
            except Exception:
                log.exception("Cannot prune old health checks")
            await asyncio.sleep(PRUNE_EVERY_SECONDS)

    def prune(self) -> int:
        """Drop check results older than ``health.history_days``; the number dropped."""
        cutoff = self.clock() - self.config.health.history_days * DAY
        return self.store.execute("DELETE FROM health_checks WHERE at < ?", (cutoff,)).rowcount

    # -- acting --------------------------------------------------------------------
    def check_now(self, name: str, timeout: float | None = None) -> ComponentStatus | None:
        """Check a component at once (waiting for the result); None if there is no such component.

        Raises RuntimeError when the monitor is not running.
        """
        component = self.config.component(name)
        if component is None or name not in self._trackers:
            return None
        loop = self._loop
        if not self.running or loop is None:
            raise RuntimeError("the health monitor is not running")
        future = asyncio.run_coroutine_threadsafe(self._check(component), loop)
        # It may wait behind the component's own running check.
        future.result(timeout if timeout is not None else 2 * component.timeout_seconds + 10)
        return self.status(name)

    def check_all_now(self, timeout: float | None = None) -> list[ComponentStatus]:
        """Check every component at once, all at the same time (waiting for the results).

        Raises RuntimeError when the monitor is not running.
        """
        loop = self._loop
        if not self.running or loop is None:
            raise RuntimeError("the health monitor is not running")
        components = [c for c in self.config.components if c.name in self._trackers]

        async def check_all() -> None:
            await asyncio.gather(*(self._check(c) for c in components))

        slowest = max((c.timeout_seconds for c in components), default=0.0)
        asyncio.run_coroutine_threadsafe(check_all(), loop).result(timeout if timeout is not None else 2 * slowest + 10)
        return self.statuses()

    # -- reading -------------------------------------------------------------------
    def statuses(self) -> list[ComponentStatus]:
        """Every component's status, in config order."""
        uptimes = self._uptimes()
        now = self.clock()
        windows = {c.name: self._window(c.name, now) for c in self.components}
        with self._lock:
            return [
                self._trackers[c.name].status(now, *uptimes.get(c.name, (None, None)), maintenance=windows[c.name])
                for c in self.components
            ]

    def _window(self, name: str, now: float) -> str | None:
        return self.maintenance.window_of("components", name, datetime.fromtimestamp(now, UTC))

    def status(self, name: str) -> ComponentStatus | None:
        tracker = self._trackers.get(name)
        if tracker is None:
            return None
        uptime = self._uptimes().get(name, (None, None))
        now = self.clock()
        window = self._window(name, now)
        with self._lock:
            return tracker.status(now, *uptime, maintenance=window)

    def _uptimes(self) -> dict[str, tuple[float | None, float | None]]:
        """component -> (24 h %, 7 d %), from the store, cached for UPTIME_CACHE_SECONDS."""
        now = self.clock()
        with self._uptime_lock:
            if self._uptime is not None and 0 <= now - self._uptime[0] < UPTIME_CACHE_SECONDS:
                return self._uptime[1]
            try:
                rows = self.store.all(
                    "SELECT component, COUNT(*) AS n_week, SUM(ok) AS ok_week,"
                    " SUM(at >= :day) AS n_day, SUM(CASE WHEN at >= :day THEN ok ELSE 0 END) AS ok_day"
                    " FROM health_checks WHERE at >= :week GROUP BY component",
                    {"day": now - DAY, "week": now - 7 * DAY},
                )
                out = self._in_maintenance(now)
            except Exception:
                log.exception("Cannot read the uptime of the components from the store")
                return {}
            shares = {}
            for r in rows:  # checks made in maintenance windows (exclude_from_uptime) do not count
                n_week, ok_week, n_day, ok_day = out.get(r["component"], (0, 0, 0, 0))
                shares[r["component"]] = (
                    _percent((r["ok_day"] or 0) - ok_day, (r["n_day"] or 0) - n_day),
                    _percent((r["ok_week"] or 0) - ok_week, r["n_week"] - n_week),
                )
            self._uptime = (now, shares)
            return shares

    def _in_maintenance(self, now: float) -> dict[str, tuple[int, int, int, int]]:
        """component -> checks made within its maintenance windows over the week and the day."""
        week = now - 7 * DAY
        since, until = datetime.fromtimestamp(week, UTC), datetime.fromtimestamp(now, UTC)
        spans = {c.name: self.maintenance.uptime_spans(c.name, since, until) for c in self.components}
        spans = {name: pairs for name, pairs in spans.items() if pairs}
        return checks_within(self.store, spans, week, now - DAY) if spans else {}


def _percent(good: int | None, total: int | None) -> float | None:
    return 100.0 * (good or 0) / total if total else None
