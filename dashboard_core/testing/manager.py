"""Every test run of this server process, from the click to the history.

The Runtime owns one :class:`SuiteManager`. A run is recorded in the store the
moment it is asked for, waits in a queue while ``testing.max_concurrent`` runs
are busy, and is saved while it runs (counts and each finished test), so a
closed browser tab, a rerun of the page or a crash of the dashboard never loses
what was recorded. One run per suite at a time: asking again returns the run
that is already queued or running. On start-up, runs the store still calls
queued or running are marked interrupted and any process they left is killed.
"""

from __future__ import annotations

import logging
import statistics
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil

from dashboard_core.config import Config, SuiteConfig
from dashboard_core.models import (
    CaseInfo,
    FlakyTest,
    RunCounts,
    RunDetail,
    RunInfo,
    RunPage,
    RunStatus,
    SuiteInfo,
    Trigger,
)
from dashboard_core.store import Store, StoreError
from dashboard_core.testing.capped_log import read_tail
from dashboard_core.testing.history import RunFilter, RunHistory
from dashboard_core.testing.junit import JunitError, counts_of, parse_junit
from dashboard_core.testing.progress import CaseResult
from dashboard_core.testing.reports import flaky_tests, results_order
from dashboard_core.testing.runner import SuiteRun, kill_tree
from dashboard_core.testing.suites import command_preview, run_spec

log = logging.getLogger(__name__)

ETA_RUNS = 5  # earlier full runs whose median duration predicts the next
HEARTBEAT_SECONDS = 2.0  # how often a running run's "last seen" is saved
LOG_TAIL_CHARS = 6000


class SuiteError(Exception):
    """A request the manager refuses; ``str()`` is the sentence for the user,
    ``http_status`` the API's answer."""

    http_status = 409


class UnknownSuite(SuiteError):
    http_status = 404

    def __init__(self, name: str, known: Sequence[str]) -> None:
        names = ", ".join(known) or "none are configured"
        super().__init__(f"There is no test suite named {name!r}. Known suites: {names}.")


class UnknownRun(SuiteError):
    http_status = 404

    def __init__(self, run_id: int) -> None:
        super().__init__(f"There is no test run with id {run_id}.")


class RunAlreadyFinished(SuiteError):
    def __init__(self, run: RunInfo) -> None:
        self.run = run
        super().__init__(f"Run {run.id} of {run.suite!r} has already finished ({run.status}); nothing to cancel.")


class CannotRerun(SuiteError):
    pass


class NoLogFile(SuiteError):
    http_status = 404


class ShuttingDown(SuiteError):
    http_status = 503


class CannotSave(SuiteError):
    """The store cannot take the write an action needs (a full disk)."""

    http_status = 503


@dataclass(frozen=True, slots=True)
class StartResult:
    run: RunInfo
    created: bool  # False: the suite was already queued or running, and this is that run


@dataclass(eq=False)
class _Active:
    id: int
    suite: SuiteConfig
    trigger: Trigger
    queued_at: datetime
    selection: list[str] | None
    rerun_of: int | None
    expected: float | None  # seconds, from earlier runs
    run: SuiteRun | None = None  # None while queued
    last_beat: float = 0.0
    rootdir_saved: bool = False
    saved_counts: RunCounts | None = field(default=None)


def eta_seconds(expected: float | None, elapsed: float, done: int, collected: int | None) -> float | None:
    """Seconds left: earlier runs' typical duration minus the time spent, or,
    without history (or once past it), the pace so far over the tests left."""
    if expected is not None and elapsed < expected:
        return expected - elapsed
    if collected and done:
        return max(0.0, elapsed / done * (collected - done))
    return None


class SuiteManager:
    def __init__(self, config: Config, store: Store, *, poll: float = 0.2) -> None:
        self.config = config
        self.history = RunHistory(store)
        self.runs_dir = config.data_dir / "runs"
        self.poll = poll
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._active: dict[int, _Active] = {}
        self._queue: deque[int] = deque()
        self._thread: threading.Thread | None = None
        self.listeners: list[Callable[[RunInfo], None]] = []  # told when a run starts or finishes

    # -- lifecycle -------------------------------------------------------------
    def start(self, *, recover: bool = True) -> None:
        """``recover=False`` when another process (a running dashboard) may own the store's runs."""
        if recover:
            self.recover()
        self._thread = threading.Thread(target=self._supervise, name="suite-manager", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Interrupt what runs (killing its processes) and record it; queued runs too."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self._lock:
            running = [a for a in self._active.values() if a.run is not None]
            for a in running:
                a.run.interrupt()  # type: ignore[union-attr]
        for a in running:
            a.run.wait(self.config.testing.cancel_grace_seconds + 5)  # type: ignore[union-attr]
        with self._lock:
            for a in running:
                try:
                    self._finish(a)
                except StoreError:  # the store said why; the next start marks it interrupted
                    self._active.pop(a.id, None)
            now = datetime.now(UTC)
            for run_id in list(self._queue):
                try:
                    self.history.update(
                        run_id,
                        status=RunStatus.INTERRUPTED,
                        message="interrupted: the dashboard stopped before this run started",
                        ended_at=now,
                    )
                except StoreError:
                    pass  # still "queued" in the store: the next start marks it interrupted
                self._active.pop(run_id, None)
            self._queue.clear()
            self._changed.notify_all()

    def recover(self) -> None:
        """Runs the store calls queued or running belong to a dashboard that is gone:
        mark them interrupted, kill what they left running, and tell the listeners."""
        now = datetime.now(UTC)
        for row in self.history.unfinished():
            last_seen = row["updated_at"] or row["queued_at"]
            if row["status"] == RunStatus.QUEUED.value:
                message = "interrupted: the dashboard stopped before this run started"
            else:
                message = (
                    f"interrupted: the dashboard stopped during this run (last seen running at "
                    f"{_clock(last_seen)} UTC, noticed at start-up at {_clock(now.timestamp())} UTC)"
                )
                if _kill_leftover(row["pid"], row["pid_created"]):
                    message += "; the processes it left behind were killed"
            try:
                self.history.update(row["id"], status=RunStatus.INTERRUPTED, message=message, ended_at=last_seen)
            except StoreError as exc:  # the next start tries again
                log.error("Run %s of %s: cannot record that it was interrupted: %s", row["id"], row["suite"], exc)
                continue
            log.warning("Run %s of %s: %s", row["id"], row["suite"], message)
            self._tell_stored(row["id"])  # an event, as for a run that ends while the dashboard runs

    # -- asking ----------------------------------------------------------------
    def run_suite(self, name: str, trigger: Trigger, *, rerun_failed_of: int | None = None) -> StartResult:
        """Queue a run of the suite, or return the one already queued or running."""
        suite = self._known(name)
        selection = self._failed_of(suite, rerun_failed_of) if rerun_failed_of is not None else None
        with self._lock:
            existing = next((a for a in self._active.values() if a.suite.name == name), None)
            if existing is not None:
                return StartResult(self._live(existing), created=False)
            if self._stopping.is_set():
                raise ShuttingDown("The dashboard is shutting down; no new runs start.")
            now = datetime.now(UTC)
            preview = command_preview(suite, self.config)
            try:
                run_id = self.history.insert(name, trigger, now, preview, rerun_failed_of, selection)
            except StoreError as exc:  # a run that cannot be recorded is not started
                raise CannotSave(f"The run of {name!r} was not started: {exc}. Free space and try again.") from None
            active = _Active(
                run_id, suite, trigger, now, selection, rerun_failed_of, None if selection else self._expected(name)
            )
            self._active[run_id] = active
            self._queue.append(run_id)
            self._dispatch()
            self._changed.notify_all()
            return StartResult(self._live(active), created=True)

    def cancel(self, run_id: int) -> RunInfo:
        with self._lock:
            active = self._active.get(run_id)
            if active is None:
                finished = self.history.get(run_id)
                if finished is None:
                    raise UnknownRun(run_id)
                raise RunAlreadyFinished(finished)
            if active.run is None:  # still queued
                try:  # saved first: a cancel the store cannot record leaves the run queued
                    self.history.update(
                        run_id,
                        status=RunStatus.CANCELLED,
                        message="cancelled before it started",
                        ended_at=datetime.now(UTC),
                    )
                except StoreError as exc:
                    raise CannotSave(f"Run {run_id} was not cancelled: {exc}. Free space and try again.") from None
                self._queue.remove(run_id)
                del self._active[run_id]
                self._changed.notify_all()
                return self._stored(run_id)
            active.run.cancel()
            return self._live(active)

    def wait(self, run_id: int, timeout: float | None = None) -> RunInfo:
        """Block until the run has finished (or the timeout passed); its state then."""
        with self._changed:
            self._changed.wait_for(lambda: run_id not in self._active, timeout)
        return self.run(run_id)

    # -- reading ---------------------------------------------------------------
    def suites(self) -> list[SuiteInfo]:
        with self._lock:
            active = {a.suite.name: self._live(a) for a in self._active.values()}
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
        with self._lock:
            running = [self._live(a) for a in self._active.values() if a.run is not None]
            queued = [self._live(self._active[i]) for i in self._queue]
        return running + queued

    def run(self, run_id: int) -> RunInfo:
        with self._lock:
            active = self._active.get(run_id)
            if active is not None:
                return self._live(active)
        return self._stored(run_id)

    def detail(self, run_id: int) -> RunDetail:
        with self._lock:
            active = self._active.get(run_id)
            if active is not None:
                info = self._live(active)
                if active.run is None:
                    return RunDetail(**info.model_dump())
                cases = results_order([_case_info(c) for c in active.run.snapshot().cases])
                return RunDetail(**info.model_dump(), cases=cases, log_tail=active.run.log.tail_text(LOG_TAIL_CHARS))
        info = self._stored(run_id)
        tail = read_tail(Path(info.log_path), LOG_TAIL_CHARS) if info.log_path else ""
        return RunDetail(**info.model_dump(), cases=results_order(self.history.cases(run_id)), log_tail=tail)

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
        with self._lock:  # live figures for the runs that are still going
            items = [self._live(self._active[r.id]) if r.id in self._active else r for r in items]
        return RunPage(total=total, limit=limit, offset=offset, items=items)

    def recent(self, suite: str, n: int) -> list[RunInfo]:
        """The suite's last ``n`` finished runs, newest first."""
        self._known(suite)
        return self.history.recent_finished(suite, n)

    def flaky(self, suite: str, n: int | None = None) -> list[FlakyTest]:
        """Tests whose outcome flipped between pass and fail in the suite's last ``n`` runs."""
        runs = self.recent(suite, n or self.config.testing.flaky_window)
        return flaky_tests(runs, self.history.outcomes([r.id for r in runs]))

    def _known(self, suite: str) -> SuiteConfig:
        found = self.config.suite(suite)
        if found is None:
            raise UnknownSuite(suite, [s.name for s in self.config.suites])
        return found

    def log_file(self, run_id: int) -> Path:
        info = self.run(run_id)
        if not info.log_path or not Path(info.log_path).is_file():
            raise NoLogFile(f"Run {run_id} has no log file (it never started, or its folder was removed).")
        return Path(info.log_path)

    # -- inside ----------------------------------------------------------------
    def _stored(self, run_id: int) -> RunInfo:
        info = self.history.get(run_id)
        if info is None:
            raise UnknownRun(run_id)
        return info

    def _live(self, a: _Active) -> RunInfo:
        """What a run looks like right now, from memory (call with the lock held)."""
        base = dict(
            id=a.id,
            suite=a.suite.name,
            trigger=a.trigger,
            queued_at=a.queued_at,
            rerun_of=a.rerun_of,
            selected=len(a.selection) if a.selection is not None else None,
        )
        if a.run is None:
            position = list(self._queue).index(a.id) + 1 if a.id in self._queue else None
            return RunInfo(
                **base,
                status=RunStatus.QUEUED,
                message=f"waiting for a free slot ({self.config.testing.concurrency} runs at once)",
                queue_position=position,
            )
        run = a.run
        snap = run.snapshot(with_cases=False)
        started = run.started_at or a.queued_at
        finished = run.wait(0)
        elapsed = ((run.ended_at if finished and run.ended_at else datetime.now(UTC)) - started).total_seconds()
        message = run.message or ("stopping…" if run.stopping else "running")
        return RunInfo(
            **base,
            status=run.status,
            message=message,
            started_at=run.started_at,
            ended_at=run.ended_at,
            duration_seconds=elapsed,
            exit_code=run.exit_code,
            counts=snap.counts,
            current_test=snap.current,
            eta_seconds=None if finished else eta_seconds(a.expected, elapsed, snap.counts.done, snap.counts.collected),
            log_path=str(run.log_path),
        )

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
        root = earlier["rootdir"]
        return [f"{root}/{nodeid}" if root else nodeid for nodeid in failed]

    def _supervise(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self.poll)
            self._wake.clear()
            if self._stopping.is_set():
                break
            try:
                self._tick()
            except Exception:  # a bad write must not stop every future run
                log.exception("The test-suite manager failed a step; it goes on")

    def _tick(self) -> None:
        with self._lock:
            changed = False
            for a in [a for a in self._active.values() if a.run is not None]:
                try:
                    if a.run.wait(0):  # type: ignore[union-attr]
                        self._finish(a)
                        changed = True
                    else:
                        self._save_progress(a)
                except StoreError:
                    # The store logged why once and the Overview says so. A finished run
                    # stays here, shown from memory, until its results can be saved.
                    pass
            if self._dispatch():
                changed = True
            if changed:
                self._changed.notify_all()

    def _dispatch(self) -> bool:
        """Start queued runs while there are free slots; True if any started."""
        if self._stopping.is_set():
            return False
        started = False
        busy = sum(1 for a in self._active.values() if a.run is not None)
        while self._queue and busy < self.config.testing.concurrency:
            self._launch(self._active[self._queue.popleft()])
            busy += 1
            started = True
        return started

    def _launch(self, a: _Active) -> None:
        workdir = self.runs_dir / str(a.id)
        try:
            spec = run_spec(a.suite, self.config, workdir, a.selection)
            a.run = SuiteRun(
                spec, grace=self.config.testing.cancel_grace_seconds, poll=self.poll, on_done=self._wake.set
            )
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self._record_failure(a, f"cannot prepare the run's folder {workdir}: {reason}")
            return
        a.run.start()
        pid, created = a.run.pid, None
        if pid is not None:
            try:
                created = psutil.Process(pid).create_time()
            except psutil.Error:
                pass
        try:
            self.history.update(
                a.id,
                status=a.run.status,
                started_at=a.run.started_at,
                updated_at=datetime.now(UTC),
                log_path=str(a.run.log_path),
                argv=list(spec.argv),
                pid=pid,
                pid_created=created,
            )
        except StoreError:
            pass  # it runs anyway; its progress and results are saved once the store can write
        log.info("Run %s of %s started (%s, pid %s)", a.id, a.suite.name, a.trigger, pid)
        self._tell(a)

    def _record_failure(self, a: _Active, message: str) -> None:
        now = datetime.now(UTC)
        self._active.pop(a.id, None)
        try:
            self.history.update(a.id, status=RunStatus.ERROR, message=message, started_at=now, ended_at=now)
        except StoreError as exc:
            log.error("Run %s of %s: %s (not recorded: %s)", a.id, a.suite.name, message, exc)
            return
        log.error("Run %s of %s: %s", a.id, a.suite.name, message)
        self._tell_stored(a.id)

    def _save_progress(self, a: _Active) -> None:
        run = a.run
        assert run is not None
        changed = run.take_changed()
        if changed:
            self.history.save_cases(a.id, [_case_info(c) for c in changed])
        snap = run.snapshot(with_cases=False)
        now = datetime.now(UTC)
        beat_due = now.timestamp() - a.last_beat >= HEARTBEAT_SECONDS
        if snap.counts != a.saved_counts or beat_due:
            values: dict[str, object] = {"counts": snap.counts, "updated_at": now}
            if snap.rootdir and not a.rootdir_saved:
                values["rootdir"] = snap.rootdir
                a.rootdir_saved = True
            self.history.update(a.id, **values)
            a.saved_counts, a.last_beat = snap.counts, now.timestamp()

    def _finish(self, a: _Active) -> None:
        run = a.run
        assert run is not None
        snap = run.snapshot()
        cases = [_case_info(c) for c in snap.cases]
        counts, status, message = snap.counts, run.status, run.message
        if a.suite.kind == "command":
            cases, counts, status, message = _junit_results(run, status, message)
        if cases:
            self.history.save_cases(a.id, cases)
        self.history.update(
            a.id,
            status=status,
            message=message,
            started_at=run.started_at,  # again: the save at its start may have failed (a full disk)
            log_path=str(run.log_path),
            ended_at=run.ended_at or datetime.now(UTC),
            updated_at=datetime.now(UTC),
            exit_code=run.exit_code,
            counts=counts,
            rootdir=snap.rootdir,
        )
        self._active.pop(a.id, None)
        log.info("Run %s of %s finished: %s (%s)", a.id, a.suite.name, status, message)
        self._tell_stored(a.id)

    def _tell(self, a: _Active) -> None:
        info = self._live(a)
        for listener in self.listeners:
            listener(info)

    def _tell_stored(self, run_id: int) -> None:
        if self.listeners:
            info = self._stored(run_id)
            for listener in self.listeners:
                listener(info)


def _case_info(c: CaseResult) -> CaseInfo:
    return CaseInfo(
        nodeid=c.nodeid,
        outcome=c.outcome,
        duration=c.duration,
        message=c.message,
        traceback=c.traceback,
        ordinal=c.ordinal,
    )


def _junit_results(
    run: SuiteRun, status: RunStatus, message: str
) -> tuple[list[CaseInfo], RunCounts, RunStatus, str]:
    """A command suite's cases and counts from its JUnit XML, and the verdict on both."""
    path = run.spec.junit_xml
    if path is None:
        return [], RunCounts(), status, message
    try:
        results = parse_junit(path)
    except JunitError as exc:
        if status is RunStatus.PASSED:
            status = RunStatus.ERROR
        return [], RunCounts(), status, f"{message}; {exc}"
    cases = [_case_info(c) for c in results]
    counts = RunCounts.of(counts_of(results), collected=len(cases), done=len(cases))
    if status is RunStatus.PASSED and (counts.failed or counts.errors):
        status, message = RunStatus.FAILED, f"{message}, but its JUnit XML reports failures"
    return cases, counts, status, message


def _kill_leftover(pid: int | None, created: float | None) -> bool:
    """Kill a run's process tree left by a dashboard that died, if it still runs.
    The start time guards against a recycled pid."""
    if not pid or created is None:
        return False
    try:
        proc = psutil.Process(pid)
        if abs(proc.create_time() - created) > 0.01 or proc.status() == psutil.STATUS_ZOMBIE:
            return False
    except psutil.Error:
        return False
    kill_tree(pid, grace=2.0)
    return True


def _clock(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")

