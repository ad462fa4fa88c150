"""Every workflow run of this server process, from the start to the history.

The Runtime owns one :class:`WorkflowSupervisor`. A run is recorded in the store
the moment it starts (status running, its steps pending) and each change of a
step or of the run is saved as it happens, so a closed tab, a rerun of a page or
a crash of the dashboard never loses what was recorded. Each run is driven by a
thread of its own (:mod:`dashboard_core.workflows.driver`); each step is a
supervised process (:mod:`dashboard_core.processes`) on the supervisor's
executor: argv lists (never a shell), their own session; stop sends SIGTERM to
each running step's tree and SIGKILL after the workflow's grace. On start-up,
runs the store still calls running are marked interrupted and any process they
left is killed (checked by pid and create time); then autostart services start
again.

Readers (pages, the API) call from other threads: state lives under one guard,
held only to read or change memory (store writes, process starts and events
happen outside it), and the live figures of a running step (CPU %, RSS of its
whole process tree) are read on demand, cached about a second.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dashboard_core.config import Config, WorkflowConfig
from dashboard_core.events import EventLog
from dashboard_core.models import (
    EventKind,
    ParamInfo,
    Severity,
    StepInfo,
    StepStatus,
    Trigger,
    WorkflowInfo,
    WorkflowList,
    WorkflowRunInfo,
    WorkflowStatus,
)
from dashboard_core.processes.board import Board
from dashboard_core.processes.capped_log import read_tail
from dashboard_core.processes.executor import Executor
from dashboard_core.processes.local import LocalExecutor
from dashboard_core.processes.log_tail import LogTail
from dashboard_core.store import Store, StoreError
from dashboard_core.workflows.driver import RunDriver
from dashboard_core.workflows.errors import (
    AlreadyRunning,
    BadParams,
    CannotSave,
    NoStepLog,
    NotRunning,
    ShuttingDown,
    UnknownStep,
    UnknownWorkflow,
    UnknownWorkflowRun,
    WorkflowError,
)
from dashboard_core.workflows.history import WorkflowHistory
from dashboard_core.workflows.params import ParamError
from dashboard_core.workflows.params import resolve as resolve_params
from dashboard_core.workflows.ray_resume import leave_to_their_jobs, recover_or_resume
from dashboard_core.workflows.state import LOG_TAIL_BYTES, RunState, StepState, live_run
from dashboard_core.workflows.steps import close_logs, interrupt_unfinished, put_end, request_stop

__all__ = [  # the errors callers import from here
    "AlreadyRunning",
    "BadParams",
    "CannotSave",
    "NoStepLog",
    "NotRunning",
    "ShuttingDown",
    "UnknownStep",
    "UnknownWorkflow",
    "UnknownWorkflowRun",
    "WorkflowError",
    "WorkflowSupervisor",
]

log = logging.getLogger(__name__)

STOP_MARGIN_SECONDS = 2.0  # beyond the grace: for the last output to be read and the run recorded


class WorkflowSupervisor:
    def __init__(
        self,
        config: Config,
        store: Store,
        events: EventLog,
        *,
        clock: Callable[[], float] = time.time,
        poll: float = 0.2,
        executor: Executor | None = None,
    ) -> None:
        self.config = config
        self.events = events
        self.clock = clock
        self.poll = poll
        self.executor: Executor = executor or LocalExecutor()
        self.history = WorkflowHistory(store, self._depends_on)
        self.folder = config.data_dir / "workflows"
        self.board: Board[RunState] = Board()
        self.guard = self.board.guard
        self._recording: set[str] = set()  # workflows whose new run is being recorded
        self._halted = threading.Event()  # drivers walk away, touching nothing (tests: a crash)
        self.step_listeners: list[Callable[[int, str], None]] = []  # told (run id, step) when a step's process starts
        self.driver = RunDriver(
            config,
            self.history,
            self.executor,
            self.guard,
            publish=self._publish,
            forget=lambda run: self.board.remove(run.id),
            clock=clock,
            poll=poll,
            stopping=self.board.stopping,
            halted=self._halted,
            step_started=self.step_listeners,
        )

    # -- lifecycle -----------------------------------------------------------------
    def start(self, *, recover: bool = True) -> None:
        """Recover what a previous dashboard left running, then start autostart services.
        ``recover=False`` when another process (a running dashboard) may own the store's runs."""
        if recover:
            self.recover()
        for wf in self.config.workflows:
            if wf.service and wf.autostart:
                try:
                    self.start_run(wf.name, {}, Trigger.SYSTEM)
                except WorkflowError as exc:
                    log.error("Autostart of workflow %s failed: %s", wf.name, exc)
                    self._publish_safely(wf.name, f"Autostart of {wf.name} failed: {exc}", Severity.WARNING, {})

    def stop(self) -> None:
        """Interrupt every active run (SIGTERM, SIGKILL after its grace) and record it;
        returns within the longest grace plus a couple of seconds."""
        self.board.stopping.set()
        leave_to_their_jobs(self.board, self._halted)  # runs on Ray go on: the next start follows them
        with self.guard:
            runs = list(self.board.active.values())
            halted = self._halted.is_set()
            procs = (
                []
                if halted
                else [request_stop(self.history, r, WorkflowStatus.INTERRUPTED, self.clock()) for r in runs]
            )
        if halted:  # abandoned: leave the processes and the store alone
            for run in runs:
                close_logs(run)
            return
        for some in procs:
            self.driver.stop_processes(some, WorkflowStatus.INTERRUPTED)
        grace = max((r.workflow.grace_seconds for r in runs), default=0.0)
        deadline = time.monotonic() + grace + STOP_MARGIN_SECONDS
        for run in runs:
            if run.thread is not None:
                run.thread.join(max(0.0, deadline - time.monotonic()))
        with self.guard:
            late = [r for r in runs if r.id in self.board.active]  # drivers that did not finish in time
            for run in late:
                if not run.status.finished:
                    log.error("Run %s of %s did not stop in time; recorded as interrupted", run.id, run.workflow.name)
                    interrupt_unfinished(self.history, run, self.clock())
                put_end(self.history, run, self.clock())
        for run in late:
            close_logs(run)
            run.outbox.flush()  # if the store cannot take it, the next start marks the run interrupted
            self.board.remove(run.id)
        self.guard.notify()

    def recover(self) -> None:
        """Runs the store calls running belong to a dashboard that is gone: those left to Ray
        jobs are followed again, the others interrupted and what they left killed (ray_resume)."""
        recover_or_resume(self.config, self.history, self.driver, self.board, self.folder, self._publish_safely)

    # -- asking --------------------------------------------------------------------
    def start_run(
        self, name: str, params: Mapping[str, object] | None = None, trigger: Trigger = Trigger.API
    ) -> WorkflowRunInfo:
        """Start a run of the workflow; raises :class:`BadParams`, :class:`AlreadyRunning`."""
        wf = self._known(name)
        try:
            values = resolve_params(wf, params or {})
        except ParamError as exc:
            raise BadParams(wf.name, exc.errors) from None
        with self.guard:
            while True:
                if self.board.stopping.is_set():
                    raise ShuttingDown("The dashboard is shutting down; no new workflow runs start.")
                if wf.concurrent:
                    break
                existing = next(
                    (r for r in self.board.active.values() if r.workflow.name == wf.name and not r.status.finished),
                    None,
                )
                if existing is not None:
                    raise AlreadyRunning(wf.name, existing.id)
                if wf.name not in self._recording:
                    self._recording.add(wf.name)
                    break
                self.guard.changed.wait()  # another start is recording a run of it: that one wins
        now = self.clock()
        try:
            run_id = self.history.insert(wf.name, trigger, values, now, [s.name for s in wf.steps])
        except BaseException as exc:
            with self.guard:
                self._recording.discard(wf.name)
                self.guard.changed.notify_all()
            if isinstance(exc, StoreError):  # a run that cannot be recorded is not started
                raise CannotSave(f"{wf.name!r} was not started: {exc}. Free space and try again.") from None
            raise
        steps = {s.name: StepState(s) for s in wf.steps}
        run = RunState(run_id, wf, trigger, values, now, self.folder / str(run_id), steps)
        run.thread = threading.Thread(target=self.driver.drive, args=(run,), name=f"workflow-{run_id}", daemon=True)
        with self.guard:  # registered as the reservation ends: a start waiting on it sees this run
            self._recording.discard(wf.name)
            stopping = self.board.stopping.is_set()  # stop() came while it was recorded: it does not run
            if not stopping:
                self.board.active[run_id] = run
            self.guard.changed.notify_all()
        if stopping:
            self._never_ran(run)
            raise ShuttingDown("The dashboard is shutting down; no new workflow runs start.")
        run.thread.start()
        log.info("Workflow run %s of %s started (%s)", run_id, wf.name, trigger)
        with self.guard:
            return live_run(run, self.clock())

    def stop_run(self, run_id: int) -> WorkflowRunInfo:
        """Stop a run: SIGTERM each running step's tree, SIGKILL after the grace; pending
        steps are skipped. Waits (at most the grace and a little) for it to end."""
        with self.guard:
            run = self.board.active.get(run_id)
            procs = request_stop(self.history, run, WorkflowStatus.STOPPED, self.clock()) if run is not None else []
        if run is None:
            raise NotRunning(self._stored(run_id))
        self.driver.stop_processes(procs, WorkflowStatus.STOPPED)
        return self.wait(run_id, run.workflow.grace_seconds + STOP_MARGIN_SECONDS)

    def restart_run(self, run_id: int, trigger: Trigger = Trigger.API) -> WorkflowRunInfo:
        """Stop the run if it still runs, then start its workflow with the same parameters."""
        info = self.run(run_id)
        if not info.status.finished:
            try:
                info = self.stop_run(run_id)
            except NotRunning:
                info = self.run(run_id)
        return self.start_run(info.workflow, info.params, trigger)

    def wait(self, run_id: int, timeout: float | None = None) -> WorkflowRunInfo:
        """Block until the run has finished (or the timeout passed); its state then."""
        self.board.wait_gone(run_id, timeout)
        return self.run(run_id)

    # -- reading -------------------------------------------------------------------
    def workflows(self) -> WorkflowList:
        active = self.active()
        last_runs = self.history.last_finished([wf.name for wf in self.config.workflows])
        infos = []
        for wf in self.config.workflows:
            infos.append(
                WorkflowInfo(
                    name=wf.name,
                    description=wf.description,
                    service=wf.service,
                    concurrent=wf.concurrent,
                    params=[
                        ParamInfo(
                            name=p.name,
                            type=p.type,
                            default=p.default,
                            choices=p.choices,
                            min=p.min,
                            max=p.max,
                            required=p.required,
                            description=p.description,
                        )
                        for p in wf.params
                    ],
                    steps=[StepInfo(name=s.name, status=StepStatus.PENDING, depends_on=s.depends_on) for s in wf.steps],
                    restart=wf.restart if wf.service else None,
                    autostart=wf.autostart,
                    active_runs=[r for r in active if r.workflow == wf.name],
                    last_run=last_runs.get(wf.name),
                )
            )
        return WorkflowList(workflows=infos, active=active)

    def run(self, run_id: int) -> WorkflowRunInfo:
        """One run, live while it goes on (CPU % and RSS of each running step's tree)."""
        with self.guard:
            run = self.board.active.get(run_id)
            if run is not None:
                return live_run(run, self.clock())
        return self._stored(run_id)

    def detail(self, run_id: int) -> WorkflowRunInfo:
        """:meth:`run` plus each step's newest output (``log_tail``)."""
        with self.guard:
            run = self.board.active.get(run_id)
            if run is not None:
                return live_run(run, self.clock(), tails=True)
        info = self._stored(run_id)
        for step in info.steps:
            tail = read_tail(Path(step.log_path), LOG_TAIL_BYTES) if step.log_path else LogTail()
            step.log_tail, step.log_tail_cut = tail.text, tail.earlier
        return info

    def runs(self, workflow: str | None = None, limit: int = 50, offset: int = 0) -> tuple[int, list[WorkflowRunInfo]]:
        """Runs newest first (all workflows, or one), and how many there are in all."""
        if workflow is not None:
            self._known(workflow)
        total, items = self.history.page(workflow, limit, offset)
        with self.guard:  # live figures for the runs that are still going
            active = self.board.active
            items = [live_run(active[r.id], self.clock()) if r.id in active else r for r in items]
        return total, items

    def active(self) -> list[WorkflowRunInfo]:
        """Runs going on now, oldest first."""
        with self.guard:
            return [live_run(r, self.clock()) for r in sorted(self.board.active.values(), key=lambda r: r.id)]

    def step_log(self, run_id: int, step: str) -> Path:
        """The step's log file (while a long step runs it holds the head; the tail is
        added when the step ends)."""
        info = self.run(run_id)
        found = next((s for s in info.steps if s.name == step), None)
        if found is None:
            raise UnknownStep(info, step)
        if not found.log_path or not Path(found.log_path).is_file():
            raise NoStepLog(
                f"Step {step!r} of run {run_id} has no log file (it never started, or its folder was removed)."
            )
        return Path(found.log_path)

    # -- helpers -------------------------------------------------------------------
    def _never_ran(self, run: RunState) -> None:
        """Record a run the dashboard's stop overtook as interrupted (best effort)."""
        with self.guard:
            request_stop(self.history, run, WorkflowStatus.INTERRUPTED, self.clock())
            interrupt_unfinished(self.history, run, self.clock())
            put_end(self.history, run, self.clock())
        run.outbox.flush()  # if the store cannot take it, the next start marks the run interrupted

    def _abandon(self) -> None:
        """Walk away from every run as a dead dashboard would: the drivers stop, the
        processes go on, the store keeps saying "running". For tests of recovery."""
        self._halted.set()
        runs = self.board.items()
        for run in runs:
            run.wake.set()
        for run in runs:
            if run.thread is not None:
                run.thread.join(10)

    def _known(self, name: str) -> WorkflowConfig:
        wf = self.config.workflow_config(name)
        if wf is None:
            raise UnknownWorkflow(name, [w.name for w in self.config.workflows])
        return wf

    def _depends_on(self, workflow: str) -> dict[str, list[str]]:
        wf = self.config.workflow_config(workflow)
        return {s.name: s.depends_on for s in wf.steps} if wf is not None else {}

    def _stored(self, run_id: int) -> WorkflowRunInfo:
        info = self.history.get(run_id, now=self.clock())
        if info is None:
            raise UnknownWorkflowRun(run_id)
        return info

    def _publish(self, run: RunState, message: str, severity: Severity, old: str | None, new: str, **data: Any) -> None:
        """An event about the run: ``data`` has its id, the state it left and the one it entered."""
        payload: dict[str, object] = {"run_id": run.id, "from": old, "to": new, "trigger": run.trigger.value, **data}
        self._publish_safely(run.workflow.name, message, severity, payload)

    def _publish_safely(self, source: str, message: str, severity: Severity, data: dict[str, object]) -> None:
        try:
            self.events.publish(EventKind.WORKFLOW, source, message, severity=severity, data=data)
        except Exception:  # the event log is a witness, never a reason for a run to fail
            log.exception("Cannot record the event %r", message)
