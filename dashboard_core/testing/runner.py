"""One test-suite run: a supervised process (:mod:`dashboard_core.processes`),
watched to the end.

The command is an argv list (never a shell). Output goes to a capped log;
progress comes as a stream of JSON lines the dashboard plugin writes to the
channel the executor gives the run (never a file the dashboard opens), folded
into :class:`~dashboard_core.testing.progress.Progress` as it arrives. Cancel
and timeout stop the whole process tree (SIGTERM, SIGKILL after the grace). A
command that cannot start is a failed run with the reason, never an exception
in the dashboard.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dashboard_core.models import RunCounts, RunStatus
from dashboard_core.processes.capped_log import CappedLog
from dashboard_core.processes.executor import Executor
from dashboard_core.processes.local import LocalExecutor
from dashboard_core.processes.spec import ProcessRecord, ProcessSpec
from dashboard_core.processes.states import ProcessState
from dashboard_core.processes.supervised import StopReason, SupervisedProcess
from dashboard_core.processes.words import exit_words
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
    if is_pytest and code is not None and code in PYTEST_EXIT_CODES:
        return f"exit {code}: {PYTEST_EXIT_CODES[code]}"
    return exit_words(code)


PACKAGE_DIR = Path(__file__).resolve().parents[1]


@dataclass(frozen=True, slots=True)
class RunSpec:
    argv: Sequence[str]
    cwd: Path
    workdir: Path  # where this run's log goes
    env: dict[str, str] = field(default_factory=dict)
    timeout: float | None = None
    log_max_bytes: int = 5_000_000
    is_pytest: bool = True  # progress lines come from the dashboard plugin
    junit_xml: Path | None = None  # command suites: where their results are read from
    import_dir: Path | None = None  # pytest suites: made to hold only a link to dashboard_core

    def process(self) -> ProcessSpec:
        return ProcessSpec.of(
            self.argv, self.cwd, self.env, timeout=self.timeout, progress=self.is_pytest, name="suite"
        )


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A consistent copy of a run's live progress, safe to read from any thread."""

    counts: RunCounts
    current: str | None
    rootdir: str | None
    cases: list[CaseResult]


_STOPPED = {
    StopReason.CANCEL: RunStatus.CANCELLED,
    StopReason.INTERRUPT: RunStatus.INTERRUPTED,
    StopReason.TIMEOUT: RunStatus.TIMED_OUT,
}
_STOP_WORDS = {
    RunStatus.CANCELLED: "cancelled",
    RunStatus.INTERRUPTED: "interrupted: the dashboard stopped during this run",
}


def link_package(folder: Path) -> None:
    """Make ``folder`` hold a link named ``dashboard_core`` to this package: on a run's
    import path it lets the run load the plugin and nothing else of the dashboard's."""
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "dashboard_core"
    if not link.is_symlink():
        link.symlink_to(PACKAGE_DIR, target_is_directory=True)


class SuiteRun:
    """Start with :meth:`start`; read ``status`` and ``message``, and the live
    progress through :meth:`snapshot`. ``on_done`` is called once it has finished;
    ``on_record`` with each progress record as it arrives (on the reading thread)."""

    def __init__(
        self,
        spec: RunSpec,
        *,
        grace: float = 5.0,
        executor: Executor | None = None,
        on_done: Callable[[], None] | None = None,
        on_record: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.spec = spec
        self.grace = grace
        self.status = RunStatus.QUEUED
        self.progress = Progress()
        self.message = ""
        self.exit_code: int | None = None
        self.started_at: datetime | None = None
        self.ended_at: datetime | None = None
        self.bad_lines = 0  # progress lines that were not JSON objects
        spec.workdir.mkdir(parents=True, exist_ok=True)
        if spec.import_dir is not None:
            link_package(spec.import_dir)
        self.log_path = spec.workdir / "output.log"
        self.log = CappedLog(self.log_path, spec.log_max_bytes)
        self.process = SupervisedProcess(
            spec.process(),
            executor or LocalExecutor(),
            self.log,
            grace=grace,
            on_progress=self._progress_line,
            on_exit=self._exited,
        )
        self._done = threading.Event()
        self._progress_lock = threading.Lock()
        self._changed: set[str] = set()  # node ids changed since take_changed()
        self._on_done = on_done
        self._on_record = on_record

    # -- control ---------------------------------------------------------------
    def start(self) -> None:
        self.started_at = datetime.now(UTC)
        self.status = RunStatus.RUNNING  # before the start: a quick exit finishes it at once
        reason = self.process.start()
        if reason is not None:
            self._finish(RunStatus.ERROR, reason)

    def resume(self, record: ProcessRecord, started_at: datetime) -> bool:
        """Follow the process of a run an earlier dashboard started (a Ray job, by its
        submission id): its output and progress are read again from their start.
        False if the executor cannot find it any more."""
        self.started_at = started_at
        self.status = RunStatus.RUNNING
        elapsed = (datetime.now(UTC) - started_at).total_seconds()
        return self.process.resume(record, elapsed)  # its timeout counts from its start

    def cancel(self) -> bool:
        """Stop the run; False if it had already finished or is being stopped."""
        return self._stop(StopReason.CANCEL)

    def interrupt(self) -> bool:
        """Stop the run because the dashboard itself stops."""
        return self._stop(StopReason.INTERRUPT)

    @property
    def stopping(self) -> bool:
        return self.process.state is ProcessState.STOPPING

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
        return self.process.pid

    # -- inside ----------------------------------------------------------------
    def _stop(self, reason: StopReason) -> bool:
        if self.status.finished:
            return False
        return self.process.stop(reason)

    def _progress_line(self, line: bytes) -> None:
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            self.bad_lines += 1
            return
        with self._progress_lock:
            self.progress.apply(record)
            nodeid = record.get("nodeid")
            if nodeid in self.progress.cases:
                self._changed.add(nodeid)
        if self._on_record is not None:
            self._on_record(record)

    def _exited(self) -> None:
        process = self.process
        self.exit_code = code = process.exit_code
        words = exit_code_words(code, self.spec.is_pytest)
        if process.stop_reason is not None:
            status = _STOPPED[process.stop_reason]
            what = _STOP_WORDS.get(status) or f"timed out after {self.spec.timeout:g} s"
            message = f"{what} ({words})"
        elif code == 0:
            status, message = RunStatus.PASSED, words
        elif code is None:
            status, message = RunStatus.ERROR, "its end was not seen (no exit code)"
        elif code < 0:  # a signal from outside the dashboard
            status, message = RunStatus.ERROR, f"{words}, not by the dashboard"
        elif self.spec.is_pytest and code in (2, 3, 4, 5):
            status, message = RunStatus.ERROR, words
        else:
            status, message = RunStatus.FAILED, words
        self._finish(status, message)

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
