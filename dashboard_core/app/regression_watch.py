"""An event when a finished run has regressions (kind ``test_regression``), so an
alert rule, a stream or the Events page can follow them.

Told by the suite manager when a run finishes, it judges the run on its own
thread (the manager's thread never waits for a history read), once the sampler
has a sample past the run's end, so the host's figures cover the whole run.
Only "regression" verdicts make an event; a run whose slower tests all ran while
the host was busy says nothing. What it found (maybe nothing) is kept with the run
for the rules ``suite <name> regression`` (:mod:`dashboard_core.testing.findings`). The server attaches it to the Runtime
(:func:`attach_watch`), which owns it from then on: the Runtime sits below the
application layer, so it cannot build it itself.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from dashboard_core.app.regressions import run_regressions
from dashboard_core.models import EventKind, RunInfo, Severity
from dashboard_core.runtime import Runtime
from dashboard_core.store import StoreError
from dashboard_core.testing.findings import save_regressions
from dashboard_core.testing.regressions import Slowdown

log = logging.getLogger(__name__)

SAMPLES_AFTER = 3  # wait at most this many sample intervals (and 2 s) for a sample past the run's end
_STOP = -1


class RegressionWatch:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._finished: queue.Queue[int] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        self.rt.tests.listeners.append(self._told)
        self._thread = threading.Thread(target=self._loop, name="regression-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Idempotent: a test's block and the Runtime may both stop it."""
        if self._told in self.rt.tests.listeners:
            self.rt.tests.listeners.remove(self._told)
        self._stopping.set()
        self._finished.put(_STOP)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _told(self, run: RunInfo) -> None:
        if run.status.finished and run.started_at is not None:
            self._finished.put(run.id)

    def _loop(self) -> None:
        while (run_id := self._finished.get()) != _STOP:
            try:
                self.judge(run_id)
            except Exception:  # one run that cannot be judged never stops the next
                log.exception("Cannot judge run %s for duration regressions", run_id)

    def judge(self, run_id: int) -> None:
        run = self.rt.tests.run(run_id)
        self._await_sample_after(run)
        found = run_regressions(self.rt, run)
        slower = found.regressions
        try:  # for the rules `suite <name> regression`, also when none was found
            save_regressions(self.rt.store, run.id, [t.nodeid for t in slower])
        except StoreError as exc:
            log.warning("Cannot record the regressions of run %s: %s", run.id, exc)
        if not slower:
            return
        names = ", ".join(t.nodeid for t in slower[:3]) + (f" and {len(slower) - 3} more" if len(slower) > 3 else "")
        message = f"Run {run.id} of {run.suite}: {len(slower)} test{'s' if len(slower) != 1 else ''} slower: {names}"
        data: dict[str, object] = {
            "run_id": run.id,
            "regressions": len(slower),
            "host_busy": sum(1 for t in found.tests if t.verdict is Slowdown.HOST_BUSY),
            "tests": [
                {"nodeid": t.nodeid, "seconds": t.duration_seconds, "median_seconds": t.median_seconds}
                for t in slower[:20]
            ],
        }
        try:
            self.rt.events.publish(EventKind.TEST_REGRESSION, run.suite, message, severity=Severity.WARNING, data=data)
        except StoreError as exc:
            log.warning("Cannot record the event %r: %s", message, exc)

    def _await_sample_after(self, run: RunInfo) -> None:
        if run.ended_at is None:
            return
        end_ns = run.ended_at.timestamp() * 1e9
        interval = self.rt.config.sampler.interval_seconds
        deadline = time.monotonic() + max(2.0, SAMPLES_AFTER * interval)
        while time.monotonic() < deadline and not self._stopping.is_set():
            span = self.rt.frame.span_ns()
            if span is not None and span[1] >= end_ns:
                return
            self._stopping.wait(min(0.2, interval))


def attach_watch(rt: Runtime) -> RegressionWatch:
    """The watch started and owned by ``rt`` (stopped before the Runtime's other parts)."""
    watch = RegressionWatch(rt)
    rt.attach("regression watch", watch.start, watch.stop)
    return watch
