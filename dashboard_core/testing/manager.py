"""Every test run of this server process, from the click to the history.

The Runtime owns one :class:`SuiteManager`. A run is recorded in the store the
moment it is asked for, waits in a queue while ``testing.max_concurrent`` runs
are busy, and is saved while it runs (counts and each finished test), so a
closed browser tab, a rerun of the page or a crash of the dashboard never loses
what was recorded. One run per suite at a time: asking again returns the run
that is already queued or running. On start-up, runs the store still calls
queued or running are marked interrupted and any process they left is killed.

Each run is a supervised process (:mod:`dashboard_core.processes`) on the
manager's executor; the board, the outbox (retry on a full disk), the heartbeat
and the recovery are the ones the workflow supervisor uses too. The guard is
held only to read or change memory: store writes, process starts, JUnit parsing
and listener calls happen outside it.
"""

from __future__ import annotations

import logging
import statistics
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dashboard_core.config import Config, SuiteConfig
from dashboard_core.models import FlakyTest, RunDetail, RunInfo, RunPage, RunStatus, SuiteInfo, Trigger
from dashboard_core.processes.board import Board
from dashboard_core.processes.capped_log import read_tail
from dashboard_core.processes.executor import Executor
from dashboard_core.processes.local import LocalExecutor
from dashboard_core.processes.log_tail import LogTail
from dashboard_core.processes.recovery import interrupted_during, kill_leftover, recover_each
from dashboard_core.processes.spec import ProcessRecord
from dashboard_core.store import Store, StoreError
from dashboard_core.testing.case_query import CasePage, CaseQueryBase
from dashboard_core.testing.engine import NOT_STARTED, RunEngine
from dashboard_core.testing.errors import (
    CannotRerun,
    CannotSave,
    NoLogFile,
    RunAlreadyFinished,
    ShuttingDown,
    SuiteError,
    UnknownRun,
    UnknownSuite,
)
from dashboard_core.testing.history import RunFilter, RunHistory
from dashboard_core.testing.live import ActiveRun, case_info, eta_seconds
from dashboard_core.testing.quarantine import Quarantine
from dashboard_core.testing.reattach import leave_to_their_jobs, resume_run
from dashboard_core.testing.reports import results_order
from dashboard_core.testing.suites import command_preview
from dashboard_core.testing.verdicts import suite_verdicts

__all__ = [  # the errors and helpers callers import from here
    "CannotRerun",
    "CannotSave",
    "NoLogFile",
    "RunAlreadyFinished",
    "ShuttingDown",
    "StartResult",
    "SuiteError",
    "SuiteManager",
    "UnknownRun",
    "UnknownSuite",
    "eta_seconds",
]

log = logging.getLogger(__name__)

ETA_RUNS = 5  # earlier full runs whose median duration predicts the next
LOG_TAIL_BYTES = 6000


@dataclass(frozen=True, slots=True)
class StartResult:
    run: RunInfo
    created: bool  # False: the suite was already queued or running, and this is that run


class SuiteManager:
    def __init__(self, config: Config, store: Store, *, poll: float = 0.2, executor: Executor | None = None) -> None:
        self.config = config
        self.history = RunHistory(store)
        self.executor: Executor = executor or LocalExecutor()
        self.board: Board[ActiveRun] = Board()
        self.guard = self.board.guard
        self.listeners: list[Callable[[RunInfo], None]] = []  # told when a run starts or finishes
        self.engine = RunEngine(config, self.history, self.executor, self.board, listeners=self.listeners, poll=poll)
        self._recording: set[str] = set()  # suites whose new run is being recorded
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------
    def start(self, *, recover: bool = True) -> None:
        """``recover=False`` when another process (a running dashboard) may own the store's runs."""
        if recover:
            self.recover()
        self._thread = threading.Thread(target=self.engine.supervise, name="suite-manager", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Interrupt what runs (killing its processes) and record it; queued runs too.
        A run on Ray is left to its job, still "running" in the store: the next start follows it again."""
        self.board.stopping.set()
        self.engine.wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.guard.wait_for(lambda: not any(a.starting for a in self.board.active.values()), 10)
        with self.guard:
            running = [a for a in self.board.active.values() if a.run is not None]
            queued = list(self.engine.queue)
            self.engine.queue.clear()
        running = leave_to_their_jobs(self.engine, running)
        for a in running:
            a.run.interrupt()  # type: ignore[union-attr]
        for a in running:
            a.run.wait(self.config.testing.cancel_grace_seconds + 5)  # type: ignore[union-attr]
        for a in running:
            if not self.engine.finish(a):  # the store said why; the next start marks it interrupted
                self.board.remove(a.id)
        for run_id in queued:
            self.engine.interrupt_queued(run_id)
            self.board.remove(run_id)

    def recover(self) -> None:
        """Runs the store calls queued or running belong to a dashboard that is gone:
        mark them interrupted, kill what they left running, and tell the listeners;
        a run whose Ray job still runs is followed again instead."""
        now = datetime.now(UTC).timestamp()

        def settle(row: Any) -> str:
            last_seen = row["updated_at"] or row["queued_at"]
            if row["status"] == RunStatus.QUEUED.value:
                message = NOT_STARTED
            else:
                killed = kill_leftover(self.executor, ProcessRecord(row["pid"], row["pid_created"]))
                message = interrupted_during(last_seen, now, killed)
            self.history.update(row["id"], status=RunStatus.INTERRUPTED, message=message, ended_at=last_seen)
            return message

        recover_each(
            [row for row in self.history.unfinished() if not resume_run(self.engine, row)],  # Ray jobs go on
            settle,
            lambda row, _message: self.engine.tell_stored(row["id"]),  # an event, as for a run that ends now
            lambda row: f"Run {row['id']} of {row['suite']}",
        )

    # -- asking ----------------------------------------------------------------
    def run_suite(self, name: str, trigger: Trigger, *, rerun_failed_of: int | None = None) -> StartResult:
        """Queue a run of the suite, or return the one already queued or running."""
        suite = self._known(name)
        selection = self._failed_of(suite, rerun_failed_of) if rerun_failed_of is not None else None
        expected = None if selection else self._expected(name)
        preview = command_preview(suite, self.config)
        with self.guard:
            while True:
                existing = next((a for a in self.board.active.values() if a.suite.name == name), None)
                if existing is not None:
                    return StartResult(self.engine.live(existing), created=False)
                if self.board.stopping.is_set():
                    raise ShuttingDown("The dashboard is shutting down; no new runs start.")
                if name not in self._recording:
                    break
                self.guard.changed.wait()  # another request is recording a run of this suite: that one it is
            self._recording.add(name)
        now = datetime.now(UTC)
        try:
            run_id = self.history.insert(name, trigger, now, preview, rerun_failed_of, selection)
        except BaseException as exc:
            with self.guard:
                self._recording.discard(name)
                self.guard.changed.notify_all()
            if isinstance(exc, StoreError):  # a run that cannot be recorded is not started
                raise CannotSave(f"The run of {name!r} was not started: {exc}. Free space and try again.") from None
            raise
        active = ActiveRun(run_id, suite, trigger, now, selection, rerun_failed_of, expected)
        with self.guard:  # queued as the reservation ends: a request waiting on it sees this run
            self._recording.discard(name)
            stopping = self.board.stopping.is_set()
            if not stopping:
                self.board.active[run_id] = active
                self.engine.queue.append(run_id)
            self.guard.changed.notify_all()
        self.engine.wake.set()  # an idle manager's thread sleeps until there is a run to watch
        if stopping:
            self.engine.interrupt_queued(run_id)
            raise ShuttingDown("The dashboard is shutting down; no new runs start.")
        self.engine.dispatch()
        with self.guard:
            return StartResult(self.engine.live(active), created=True)

    def cancel(self, run_id: int) -> RunInfo:
        with self.guard:
            a = self.board.active.get(run_id)
            queued = a is not None and a.run is None and not a.starting and not a.cancelling
            if a is not None and queued:
                a.cancelling = True  # not started meanwhile
            elif a is not None and a.run is None:
                a.cancel_asked = a.starting
                return self.engine.live(a)
        if a is None:
            finished = self.history.get(run_id)
            if finished is None:
                raise UnknownRun(run_id)
            raise RunAlreadyFinished(finished)
        if not queued:
            a.run.cancel()  # type: ignore[union-attr]
            with self.guard:
                return self.engine.live(a)
        try:  # saved first: a cancel the store cannot record leaves the run queued
            self.history.update(
                run_id, status=RunStatus.CANCELLED, message="cancelled before it started", ended_at=datetime.now(UTC)
            )
        except StoreError as exc:
            with self.guard:
                a.cancelling = False
            self.engine.wake.set()
            raise CannotSave(f"Run {run_id} was not cancelled: {exc}. Free space and try again.") from None
        with self.guard:
            if run_id in self.engine.queue:
                self.engine.queue.remove(run_id)
            self.board.active.pop(run_id, None)
            self.guard.changed.notify_all()
        return self._stored(run_id)

    def wait(self, run_id: int, timeout: float | None = None) -> RunInfo:
        """Block until the run has finished (or the timeout passed); its state then."""
        self.board.wait_gone(run_id, timeout)
        return self.run(run_id)

    # -- reading ---------------------------------------------------------------
    def suites(self) -> list[SuiteInfo]:
        with self.guard:
            active = {a.suite.name: self.engine.live(a) for a in self.board.active.values()}
        infos = []
        for s in self.config.suites:
            last = self.history.recent_finished(s.name, 1)
            if last and last[0].selected is not None:
                full = self.history.recent_finished(s.name, 1, full_only=True)
            else:
                full = last
            infos.append(
                SuiteInfo(
                    name=s.name,
                    description=s.description,
                    kind=s.kind,
                    command=command_preview(s, self.config),
                    cwd=str(self.config.resolve(s.cwd)),
                    timeout_seconds=s.timeout_seconds,
                    workers=s.workers,
                    active_run=active.get(s.name),
                    last_run=last[0] if last else None,
                    last_full_run=full[0] if full else None,
                )
            )
        return infos

    def active(self) -> list[RunInfo]:
        """Running runs first, then the queue in order."""
        with self.guard:
            running = [self.engine.live(a) for a in self.board.active.values() if a.id not in self.engine.queue]
            queued = [self.engine.live(self.board.active[i]) for i in self.engine.queue]
        return running + queued

    def run(self, run_id: int) -> RunInfo:
        with self.guard:
            active = self.board.active.get(run_id)
            if active is not None:
                return self.engine.live(active)
        return self._stored(run_id)

    def detail(self, run_id: int) -> RunDetail:
        with self.guard:
            active = self.board.active.get(run_id)
            info = self.engine.live(active) if active is not None else None
        if active is not None and info is not None:
            if active.run is None:
                return RunDetail(**info.model_dump())
            cases = results_order([case_info(c) for c in active.run.snapshot().cases])
            tail = active.run.log.tail(LOG_TAIL_BYTES)
            return RunDetail(**info.model_dump(), cases=cases, log_tail=tail.text, log_tail_cut=tail.earlier)
        info = self._stored(run_id)
        tail = read_tail(Path(info.log_path), LOG_TAIL_BYTES) if info.log_path else LogTail()
        cases = results_order(self.history.cases(run_id))
        return RunDetail(**info.model_dump(), cases=cases, log_tail=tail.text, log_tail_cut=tail.earlier)

    def case_page(self, run_id: int, query: CaseQueryBase) -> CasePage:
        """A page of a run's cases, filtered and sorted in the store (a running run's
        are saved there as they finish); raises :class:`UnknownRun`."""
        self.run(run_id)
        return self.history.case_page(run_id, query)

    def log_tail(self, run_id: int) -> LogTail:
        """The newest lines of a run's output (from memory while it runs)."""
        with self.guard:
            active = self.board.active.get(run_id)
        if active is not None and active.run is not None:
            return active.run.log.tail(LOG_TAIL_BYTES)
        info = self.run(run_id)
        return read_tail(Path(info.log_path), LOG_TAIL_BYTES) if info.log_path else LogTail()

    def runs(
        self,
        *,
        suite: str | None = None,
        status: RunStatus | None = None,
        trigger: Trigger | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> RunPage:
        total, items = self.history.page(RunFilter(suite, status, trigger), limit, offset)
        with self.guard:  # live figures for the runs that are still going
            items = [self.engine.live(self.board.active[r.id]) if r.id in self.board.active else r for r in items]
        return RunPage(total=total, limit=limit, offset=offset, items=items)

    def recent(self, suite: str, n: int) -> list[RunInfo]:
        """The suite's last ``n`` finished runs, newest first."""
        self._known(suite)
        return self.history.recent_finished(suite, n)

    def flaky(self, suite: str, n: int | None = None) -> list[FlakyTest]:
        """The flaky, broken and recovered tests of the suite's last ``n`` runs (default
        ``testing.flaky_window``), those in quarantine marked."""
        runs = self.recent(suite, n or self.config.testing.flaky_window)
        attempts = self.history.attempts([r.id for r in runs])
        held = Quarantine(self.history.store).entries(suite)
        return suite_verdicts(runs, attempts, self.config.testing.flaky_recovery_runs, held)

    def log_file(self, run_id: int) -> Path:
        info = self.run(run_id)
        if not info.log_path or not Path(info.log_path).is_file():
            raise NoLogFile(f"Run {run_id} has no log file (it never started, or its folder was removed).")
        return Path(info.log_path)

    # -- inside ----------------------------------------------------------------
    def _known(self, suite: str) -> SuiteConfig:
        found = self.config.suite(suite)
        if found is None:
            raise UnknownSuite(suite, [s.name for s in self.config.suites])
        return found

    def _stored(self, run_id: int) -> RunInfo:
        info = self.history.get(run_id)
        if info is None:
            raise UnknownRun(run_id)
        return info

    def _expected(self, suite: str) -> float | None:
        durations = [
            r.duration_seconds
            for r in self.history.recent_finished(suite, ETA_RUNS, full_only=True)
            if r.duration_seconds is not None and r.status in (RunStatus.PASSED, RunStatus.FAILED)
        ]
        return statistics.median(durations) if durations else None

    def _failed_of(self, suite: SuiteConfig, run_id: int) -> list[str]:
        """Absolute node ids of the tests that failed or errored in an earlier run."""
        earlier = self.history.row(run_id)
        if earlier is None:
            raise UnknownRun(run_id)
        if earlier["suite"] != suite.name:
            raise CannotRerun(f"Run {run_id} is a run of {earlier['suite']!r}, not of {suite.name!r}.")
        if suite.kind != "pytest":
            raise CannotRerun(f"{suite.name!r} is a command suite: only pytest suites can re-run single tests.")
        if not RunStatus(earlier["status"]).finished:
            raise CannotRerun(f"Run {run_id} has not finished yet.")
        failed = [c.nodeid for c in self.history.cases(run_id) if c.outcome in ("failed", "error")]
        if not failed:
            raise CannotRerun(f"Run {run_id} has no failed tests to re-run.")
        if suite.executor == "ray":  # its rootdir was the job's upload, gone: ids relative to the new one
            return failed
        root = earlier["rootdir"]
        return [f"{root}/{nodeid}" if root else nodeid for nodeid in failed]
