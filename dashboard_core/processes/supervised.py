"""A process under supervision, on any executor.

:class:`SupervisedProcess` starts a spec on an executor, reads its event stream
on a thread of its own (output into the log sink, progress lines to a callback),
stops it with a grace period when asked or when its timeout strikes, and moves
its :class:`~dashboard_core.processes.states.StateMachine` along. Test runs,
workflow steps, services and command checks are its users; each turns the
outcome (exit code, why it was stopped, why it could not start) into its own
words. Callbacks run on the reading thread, never under a lock of this class.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from enum import StrEnum

from dashboard_core.processes.capped_log import LogSink
from dashboard_core.processes.executor import Executor, Usage
from dashboard_core.processes.spec import (
    CannotStart,
    Exited,
    Handle,
    LogChunk,
    ProcessRecord,
    ProcessSpec,
    ProgressLine,
)
from dashboard_core.processes.states import LIVE, ProcessState, StateMachine

log = logging.getLogger(__name__)

S = ProcessState


class StopReason(StrEnum):
    """Why the supervisor stopped a process (None: it ended by itself)."""

    CANCEL = "cancel"  # a person asked
    INTERRUPT = "interrupt"  # the dashboard stops
    TIMEOUT = "timeout"


class SupervisedProcess:
    """Call :meth:`start`; ``done`` is set once the attempt is over (exited and its
    output read, or could not start); then ``exit_code``, ``stop_reason`` and
    ``failure`` are final. ``on_exit`` is called after ``done`` is set (not after
    a failed start: :meth:`start` returns the reason). A service calls
    :meth:`backoff` and :meth:`start` again for its next attempt."""

    def __init__(
        self,
        spec: ProcessSpec,
        executor: Executor,
        log_sink: LogSink,
        *,
        grace: float,
        on_progress: Callable[[bytes], None] | None = None,
        on_exit: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.spec = spec
        self.executor = executor
        self.log = log_sink
        self.grace = grace
        self.clock = clock
        self._on_progress = on_progress
        self._on_exit = on_exit
        self._machine = StateMachine()
        self._lock = threading.Lock()
        self.handle: Handle | None = None
        self.record: ProcessRecord | None = None
        self.exit_code: int | None = None
        self.stop_reason: StopReason | None = None
        self.failure: str | None = None  # why it could not start
        self.started_at: float | None = None  # epoch seconds: this attempt's
        self.ended_at: float | None = None
        self.done = threading.Event()  # a new one per attempt

    @property
    def state(self) -> ProcessState:
        return self._machine.state

    @property
    def pid(self) -> int | None:
        return self.record.pid if self.record is not None else None

    # -- control ---------------------------------------------------------------------
    def start(self) -> str | None:
        """Start an attempt; None once started, else why it cannot start (a sentence)."""
        done = threading.Event()
        with self._lock:
            self._machine.to(S.STARTING)
            self.handle, self.record, self.exit_code, self.stop_reason, self.failure = None, None, None, None, None
            self.started_at, self.ended_at, self.done = self.clock(), None, done
        try:
            handle = self.executor.start(self.spec)
        except CannotStart as exc:
            with self._lock:
                self.failure, self.ended_at = str(exc), self.clock()
                self._machine.to(S.FATAL)
            done.set()
            return self.failure
        self._follow(handle, done)
        return None

    def resume(self, record: ProcessRecord, elapsed: float = 0.0) -> bool:
        """Follow a process an earlier dashboard started, found again by the executor
        (a Ray job by its submission id); False if it is gone. ``elapsed``: seconds
        it has run already, taken off its timeout."""
        handle = self.executor.reattach(record)
        if handle is None:
            return False
        done = threading.Event()
        with self._lock:
            self._machine.to(S.STARTING)
            self.exit_code, self.stop_reason, self.failure = None, None, None
            self.started_at, self.ended_at, self.done = self.clock(), None, done
        self._follow(handle, done, elapsed)
        return True

    def _follow(self, handle: Handle, done: threading.Event, elapsed: float = 0.0) -> None:
        with self._lock:
            self.handle, self.record = handle, handle.record
            stop_asked = self._machine.state is S.STOPPING  # while the executor was starting it
            if not stop_asked:
                self._machine.to(S.RUNNING)
        threading.Thread(target=self._read, args=(handle, done), name=f"{self.spec.name}-events", daemon=True).start()
        if self.spec.timeout is not None:
            threading.Thread(
                target=self._time_out, args=(handle, done, elapsed), name=f"{self.spec.name}-timeout", daemon=True
            ).start()
        if stop_asked:
            self.executor.stop(handle, self.grace)

    def stop(self, reason: StopReason, grace: float | None = None) -> bool:
        """Stop it (in the background: SIGTERM, SIGKILL after the grace); a service
        backing off is stopped at once. False if there is nothing to stop (it has
        ended, or is already being stopped)."""
        with self._lock:
            state = self._machine.state
            if state is S.BACKOFF:
                self._machine.to(S.STOPPED)
                self.stop_reason = reason
                return True
            if state not in (S.STARTING, S.RUNNING):
                return False
            self._machine.to(S.STOPPING)
            self.stop_reason = reason
            handle = self.handle
        if handle is not None:  # None: still starting; start() stops it once started
            self.executor.stop(handle, self.grace if grace is None else grace)
        return True

    def backoff(self) -> None:
        """Wait for the next attempt (a service after an exit or a failed start)."""
        with self._lock:
            self._machine.to(S.BACKOFF)

    def wait(self, timeout: float | None = None) -> bool:
        return self.done.wait(timeout)

    def usage(self) -> Usage:
        """CPU % and RSS of its whole tree while it runs, as the executor measures them."""
        handle = self.handle
        if handle is None or self._machine.state not in LIVE:
            return None, None
        return self.executor.usage(handle)

    # -- inside ----------------------------------------------------------------------
    def _read(self, handle: Handle, done: threading.Event) -> None:
        code: int | None = None
        try:
            for event in self.executor.events(handle):
                if isinstance(event, LogChunk):
                    try:
                        self.log.write(event.data)
                    except ValueError:  # closed: its owner is done with it
                        pass
                elif isinstance(event, ProgressLine) and self._on_progress is not None:
                    try:
                        self._on_progress(event.data)
                    except Exception:  # a line it cannot take is lost, not the process
                        log.exception("%s: a progress line could not be taken", self.spec.name)
                elif isinstance(event, Exited):
                    code = event.code
        except Exception:  # a broken stream must not leave it "running" for ever
            log.exception("%s: reading its events failed", self.spec.name)
        with self._lock:
            self.exit_code, self.ended_at = code, self.clock()
            self._machine.to(S.STOPPED if self._machine.state is S.STOPPING else S.EXITED)
        done.set()
        if self._on_exit is not None:
            self._on_exit()

    def _time_out(self, handle: Handle, done: threading.Event, elapsed: float = 0.0) -> None:
        assert self.spec.timeout is not None
        if not done.wait(max(0.0, self.spec.timeout - elapsed)) and self.handle is handle:
            self.stop(StopReason.TIMEOUT)
