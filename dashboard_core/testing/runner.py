"""One test-suite run: a subprocess in its own process group, watched to the end.

The command is an argv list (never a shell). Output goes to a capped log;
progress is read from the dashboard plugin's events while pytest writes them.
Cancel and timeout send SIGTERM to the whole group, then SIGKILL after a grace period, and also kill any descendant that left the group,
so no process of the run survives. A command that cannot start is a failed run
with the reason, never an exception in the dashboard.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import psutil

from dashboard_core.models import RunCounts, RunStatus
from dashboard_core.testing.capped_log import CappedLog
from dashboard_core.testing.jsonlines import JsonLinesTail
from dashboard_core.testing.progress import CaseResult, Progress

PYTEST_EXIT_CODES = {
    0: "all tests passed",
    1: "tests failed",
    2: "interrupted",
    3: "internal error",
    4: "usage error",
    5: "no tests collected",
}


def exit_code_words(code: int | None, is_pytest: bool = True) -> str:
    if code is None:
        return "not finished"
    if code < 0:
        return (
            f"killed by {signal.Signals(-code).name}"
            if -code in signal.Signals._value2member_map_
            else f"signal {-code}"
        )
    if is_pytest and code in PYTEST_EXIT_CODES:
        return f"exit {code}: {PYTEST_EXIT_CODES[code]}"
    return f"exit {code}"


@dataclass(frozen=True, slots=True)
class RunSpec:
    argv: Sequence[str]
    cwd: Path
    workdir: Path  # where this run's log and events go
    env: dict[str, str] = field(default_factory=dict)
    timeout: float | None = None
    log_max_bytes: int = 5_000_000
    is_pytest: bool = True
    junit_xml: Path | None = None  # command suites: where their results are read from


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A consistent copy of a run's live progress, safe to read from any thread."""

    counts: RunCounts
    current: str | None
    rootdir: str | None
    cases: list[CaseResult]


_STOP_WORDS = {
    RunStatus.CANCELLED: "cancelled",
    RunStatus.INTERRUPTED: "interrupted: the dashboard stopped during this run",
}


class SuiteRun:
    """Start with :meth:`start`; read ``status`` and ``message``, and the live
    progress through :meth:`snapshot`. ``on_done`` is called once it has finished."""

    def __init__(
        self,
        spec: RunSpec,
        *,
        grace: float = 5.0,
        poll: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
        on_done: Callable[[], None] | None = None,
    ) -> None:
        self.spec = spec
        self.grace = grace
        self.poll = poll
        self.clock = clock
        self.status = RunStatus.QUEUED
        self.progress = Progress()
        self.message = ""
        self.exit_code: int | None = None
        self.started_at: datetime | None = None
        self.ended_at: datetime | None = None
        spec.workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = spec.workdir / "output.log"
        self.events = spec.workdir / "events.jsonl"  # written by the pytest plugin
        self.log = CappedLog(self.log_path, spec.log_max_bytes)
        self._proc: subprocess.Popen[bytes] | None = None
        self._pump: threading.Thread | None = None
        self._stop_reason: RunStatus | None = None
        self._done = threading.Event()
        self._exited = threading.Event()  # set the moment the process has exited
        self._lock = threading.Lock()
        self._progress_lock = threading.Lock()
        self._changed: set[str] = set()  # node ids changed since take_changed()
        self._on_done = on_done

    # -- control ---------------------------------------------------------------
    def start(self) -> None:
        self.started_at = datetime.now(UTC)
        env = {**os.environ, **self.spec.env}
        try:
            self._proc = subprocess.Popen(
                list(self.spec.argv),
                cwd=self.spec.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: cancel kills it whole
            )
        except OSError as exc:
            self._finish(RunStatus.ERROR, _cannot_start(self.spec, exc))
            return
        self.status = RunStatus.RUNNING
        self._pump = threading.Thread(target=self._pump_output, name="suite-output", daemon=True)
        self._pump.start()
        threading.Thread(target=self._wait_exit, name="suite-exit", daemon=True).start()
        threading.Thread(target=self._watch, name="suite-watch", daemon=True).start()

    def cancel(self) -> bool:
        """Stop the run; False if it had already finished or is being stopped."""
        return self._stop(RunStatus.CANCELLED)

    def interrupt(self) -> bool:
        """Stop the run because the dashboard itself stops."""
        return self._stop(RunStatus.INTERRUPTED)

    @property
    def stopping(self) -> bool:
        return self._stop_reason is not None and not self._done.is_set()

    def snapshot(self, with_cases: bool = True) -> Snapshot:
        with self._progress_lock:
            p = self.progress
            cases = [replace(c) for c in p.cases.values()] if with_cases else []
            return Snapshot(p.run_counts(), p.current, p.rootdir, cases)

    def take_changed(self) -> list[CaseResult]:
        """Copies of the cases that changed since the last call (to persist them)."""
        with self._progress_lock:
            changed = [replace(self.progress.cases[n]) for n in self._changed if n in self.progress.cases]
            self._changed.clear()
            return changed

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    # -- inside ----------------------------------------------------------------
    def _pump_output(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        with self._proc.stdout as out:
            for chunk in iter(lambda: out.read1(65536), b""):
                self.log.write(chunk)
                if len(chunk) < 4096:  # a trickle (pytest flushes a dot per test): let it gather,
                    self._exited.wait(0.05)  # but never past the exit; heavy output is read at once

    def _wait_exit(self) -> None:
        assert self._proc is not None
        self._proc.wait()  # a blocking waitpid: returns the moment the process exits
        self._exited.set()

    def _watch(self) -> None:
        assert self._proc is not None
        tails = [JsonLinesTail(self.events)]
        deadline = self.clock() + self.spec.timeout if self.spec.timeout else None
        while True:
            self._read(tails)
            if deadline is not None and self.clock() >= deadline:
                self._stop(RunStatus.TIMED_OUT)
            if self._exited.wait(self.poll):  # Popen.wait(timeout) polls, up to 50 ms late
                break
        self._proc.wait()  # reaped by _wait_exit: returns at once
        # A descendant that escaped the kill may hold the pipe open: don't wait forever.
        if self._pump is not None:
            self._pump.join(timeout=self.grace)
        self._read(tails)
        self.exit_code = self._proc.returncode
        words = exit_code_words(self.exit_code, self.spec.is_pytest)
        if self._stop_reason is not None:
            status = self._stop_reason
            what = _STOP_WORDS.get(status) or f"timed out after {self.spec.timeout:g} s"
            message = f"{what} ({words})"
        elif self.exit_code == 0:
            status, message = RunStatus.PASSED, words
        elif self.exit_code < 0:  # a signal from outside the dashboard
            status, message = RunStatus.ERROR, f"{words}, not by the dashboard"
        elif self.spec.is_pytest and self.exit_code in (2, 3, 4, 5):
            status, message = RunStatus.ERROR, words
        else:
            status, message = RunStatus.FAILED, words
        self._finish(status, message)

    def _read(self, tails: list[JsonLinesTail]) -> None:
        records = [record for tail in tails for record in tail.read_new()]
        if not records:
            return
        with self._progress_lock:
            for record in records:
                self.progress.apply(record)
                nodeid = record.get("nodeid")
                if nodeid in self.progress.cases:
                    self._changed.add(nodeid)

    def _stop(self, reason: RunStatus) -> bool:
        with self._lock:
            if self.status.finished or self._proc is None or self._stop_reason is not None:
                return False
            self._stop_reason = reason
        # The exit waiter holds Popen's wait lock, so ask it, not proc.poll().
        threading.Thread(
            target=kill_tree, args=(self._proc.pid, self.grace, self._exited.is_set), name="suite-stop", daemon=True
        ).start()
        return True

    def _finish(self, status: RunStatus, message: str) -> None:
        self.log.close()
        self.ended_at = datetime.now(UTC)
        self.message = message
        with self._progress_lock:
            self.progress.current = None
        self.status = status
        self._done.set()
        if self._on_done is not None:
            self._on_done()


def kill_tree(pid: int, grace: float, exited: Callable[[], bool] | None = None) -> None:
    """SIGTERM the process group led by ``pid``, SIGKILL what is left after
    ``grace`` seconds, including descendants that moved to a group of their own.

    ``exited`` tells (and reaps) the leader when it is our child; otherwise psutil does.
    """
    try:
        leader = psutil.Process(pid)
        family = leader.children(recursive=True)
    except psutil.NoSuchProcess:
        leader, family = None, []
    if exited is None:
        exited = lambda: leader is None or not _alive(leader)  # noqa: E731
    _signal_group(pid, signal.SIGTERM)
    for p in family:
        _signal(p, signal.SIGTERM)
    deadline = time.monotonic() + grace
    alive = [p for p in family if _alive(p)]
    while (not exited() or alive) and time.monotonic() < deadline:
        time.sleep(0.05)  # polling the processes' exit, with a deadline
        alive = [p for p in alive if _alive(p)]
    _signal_group(pid, signal.SIGKILL)
    for p in family:
        _signal(p, signal.SIGKILL)


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _signal(proc: psutil.Process, sig: signal.Signals) -> None:
    try:
        proc.send_signal(sig)
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        pass


def _cannot_start(spec: RunSpec, exc: OSError) -> str:
    if not Path(spec.cwd).is_dir():
        return f"cannot start: the working directory {spec.cwd} does not exist or is not a directory"
    if isinstance(exc, FileNotFoundError):
        return f"cannot start: the program {spec.argv[0]!r} was not found ({exc.strerror})"
    if isinstance(exc, PermissionError):
        return f"cannot start: the program {spec.argv[0]!r} is not executable ({exc.strerror})"
    return f"cannot start {spec.argv[0]!r}: {exc}"
