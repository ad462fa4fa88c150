"""The working part of the suite manager: it starts queued runs while slots are
free (each started outside the guard), saves the progress of running runs, and
saves, forgets and tells each finished run. It runs on the manager's thread
(and on the asking thread, for a start that finds a free slot)."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime

from dashboard_core.config import Config
from dashboard_core.models import RunInfo, RunStatus
from dashboard_core.processes.board import Board
from dashboard_core.processes.executor import Executor
from dashboard_core.processes.spec import CannotStart
from dashboard_core.store import StoreError
from dashboard_core.testing import environment
from dashboard_core.testing.executors import SuiteExecutors
from dashboard_core.testing.history import RunHistory
from dashboard_core.testing.live import ActiveRun, case_info, final_results, live_info
from dashboard_core.testing.quarantine import Quarantine
from dashboard_core.testing.runner import RunSpec, SuiteRun
from dashboard_core.testing.suites import run_spec

log = logging.getLogger(__name__)

NOT_STARTED = "interrupted: the dashboard stopped before this run started"


class RunEngine:
    def __init__(
        self,
        config: Config,
        history: RunHistory,
        executor: Executor,
        board: Board[ActiveRun],
        *,
        listeners: list[Callable[[RunInfo], None]],
        poll: float,
    ) -> None:
        self.config = config
        self.history = history
        self.executor = executor
        self.executors = SuiteExecutors(config, executor)  # a suite on Ray gets its own
        self.board = board
        self.guard = board.guard
        self.listeners = listeners
        self.poll = poll
        self.runs_dir = config.data_dir / "runs"
        self.queue: deque[int] = deque()  # run ids, in order
        self.wake = threading.Event()
        self.passes = 0  # how many times supervise() woke up

    def live(self, a: ActiveRun) -> RunInfo:
        """What a run looks like right now, from memory (call with the guard held)."""
        position = list(self.queue).index(a.id) + 1 if a.id in self.queue else None
        return live_info(a, position, self.config.testing.concurrency)

    def supervise(self) -> None:
        """Pass over the runs every ``poll`` seconds while there are any; with none, sleep
        until woken (a run's end, a stop): an idle dashboard's manager costs nothing."""
        while not self.board.stopping.is_set():
            self.wake.wait(self.poll if self.board.active else None)
            self.wake.clear()
            self.passes += 1
            if self.board.stopping.is_set():
                break
            try:
                self._tick()
            except Exception:  # a bad write must not stop every future run
                log.exception("The test-suite manager failed a step; it goes on")

    def _tick(self) -> None:
        for a in self.board.items():
            if a.run is None:
                continue
            try:
                if a.run.wait(0):
                    self.finish(a)  # until saved, a finished run stays here, shown from memory
                else:
                    self.save_progress(a)
            except StoreError:
                pass  # the store logged why once and the Overview says so
        self.dispatch()

    def dispatch(self) -> None:
        """Start queued runs while there are free slots (each started outside the guard)."""
        while True:
            with self.guard:
                busy = sum(1 for a in self.board.active.values() if a.run is not None or a.starting)
                if self.board.stopping.is_set() or busy >= self.config.testing.concurrency:
                    return
                a = next((self.board.active[i] for i in self.queue if not self.board.active[i].cancelling), None)
                if a is None:
                    return
                self.queue.remove(a.id)
                a.starting = True
            self._launch(a)

    def _launch(self, a: ActiveRun) -> None:
        workdir = self.runs_dir / str(a.id)
        try:
            spec = run_spec(a.suite, self.config, workdir, a.selection)
            run = self.suite_run(a, spec)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self._record_failure(a, f"cannot prepare the run's folder {workdir}: {reason}")
            return
        except CannotStart as exc:
            self._record_failure(a, str(exc))
            return
        git = environment.git_state(spec.cwd)  # the commit the run starts from, before it writes anything
        run.start()
        with self.guard:
            a.run, a.starting = run, False
            self.guard.changed.notify_all()
        if a.cancel_asked:
            run.cancel()
        record = run.process.record
        try:
            self.history.update(
                a.id,
                status=run.status,
                started_at=run.started_at,
                updated_at=datetime.now(UTC),
                log_path=str(run.log_path),
                argv=list(spec.argv),
                pid=record.pid if record else None,
                pid_created=record.created if record else None,
                process_ref=record.ref if record else None,
                **environment.git_columns(git),
            )
        except StoreError:
            pass  # it runs anyway; its progress and results are saved once the store can write
        log.info("Run %s of %s started (%s, pid %s)", a.id, a.suite.name, a.trigger, run.pid)
        self._tell(a)

    def suite_run(self, a: ActiveRun, spec: RunSpec) -> SuiteRun:
        """The run of ``a`` on its suite's executor (not started)."""
        return SuiteRun(
            spec,
            grace=self.config.testing.cancel_grace_seconds,
            executor=self.executors.for_suite(a.suite),
            on_done=self.wake.set,
            on_record=environment.recorder(self.history.store, a.id),  # the suite's Python and packages
        )

    def _record_failure(self, a: ActiveRun, message: str) -> None:
        now = datetime.now(UTC)
        self.board.remove(a.id)
        try:
            self.history.update(a.id, status=RunStatus.ERROR, message=message, started_at=now, ended_at=now)
        except StoreError as exc:
            log.error("Run %s of %s: %s (not recorded: %s)", a.id, a.suite.name, message, exc)
            return
        log.error("Run %s of %s: %s", a.id, a.suite.name, message)
        self.tell_stored(a.id)

    def interrupt_queued(self, run_id: int) -> None:
        try:
            self.history.update(run_id, status=RunStatus.INTERRUPTED, message=NOT_STARTED, ended_at=datetime.now(UTC))
        except StoreError:
            pass  # still "queued" in the store: the next start marks it interrupted

    def save_progress(self, a: ActiveRun) -> None:
        run = a.run
        assert run is not None
        changed = run.take_changed()
        if changed:
            self.history.save_cases(a.id, [case_info(c) for c in changed])
        snap = run.snapshot(with_cases=False)
        if snap.counts != a.saved_counts or a.heartbeat.due():
            values: dict[str, object] = {"counts": snap.counts, "updated_at": datetime.now(UTC)}
            if snap.rootdir and not a.rootdir_saved:
                values["rootdir"] = snap.rootdir
                a.rootdir_saved = True
            self.history.update(a.id, **values)
            a.saved_counts = snap.counts
            a.heartbeat.beat()

    def finish(self, a: ActiveRun) -> bool:
        """Save the finished run (once the store takes it), forget it and tell; False if not saved yet."""
        if a.final is None:
            final = final_results(a, self._quarantined(a))  # reads a command suite's JUnit XML
            with self.guard:
                a.final = final
            if final.cases:
                a.outbox.put("cases", lambda: self.history.save_cases(a.id, final.cases))
            a.outbox.put("end", lambda: self.history.update(a.id, **final.values))
        if not a.outbox.flush():
            return False
        self.board.remove(a.id)
        log.info("Run %s of %s finished: %s (%s)", a.id, a.suite.name, a.final.status, a.final.message)
        self.tell_stored(a.id)
        return True

    def _quarantined(self, a: ActiveRun) -> frozenset[str]:
        """The suite's tests in quarantine; none if the store cannot say (a failure then fails the run)."""
        try:
            return Quarantine(self.history.store).nodeids(a.suite.name)
        except StoreError:
            log.warning(
                "Run %s of %s: the quarantine could not be read; none of its failures is let off", a.id, a.suite.name
            )
            return frozenset()

    def _tell(self, a: ActiveRun) -> None:
        with self.guard:
            info = self.live(a)
        for listener in self.listeners:
            listener(info)

    def tell_stored(self, run_id: int) -> None:
        info = self.history.get(run_id) if self.listeners else None
        if info is not None:
            for listener in self.listeners:
                listener(info)
