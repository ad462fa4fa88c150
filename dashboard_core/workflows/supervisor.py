"""Every workflow run of this server process, from the start to the history.

The Runtime owns one :class:`WorkflowSupervisor`. A run is recorded in the store
the moment it starts (status running, its steps pending) and each change of a
step or of the run is saved as it happens, so a closed tab, a rerun of a page or
a crash of the dashboard never loses what was recorded. Each run is driven by a
thread of its own:

- a job starts each step once the steps it ``depends_on`` have succeeded, in
  config order, at most ``max_parallel`` at once; a failed step skips every step
  that needs it (directly or not), the others go on; the run ends succeeded,
  failed, or stopped.
- a service runs its one step and restarts it by its policy with exponential
  back-off (see :mod:`dashboard_core.workflows.service`); its log stays open
  across restarts, each restart marked by a line ``--- restart N after exit X ---``,
  so one capped log (head and tail kept) covers the whole run.

Steps run with argv lists (never a shell), in their own session; stop sends
SIGTERM to each running step's tree and SIGKILL after the workflow's grace. On
start-up, runs the store still calls running are marked interrupted and any
process they left is killed (checked by pid and create time); then autostart
services start again.

Readers (pages, the API) call from other threads: state lives under one lock,
and the live figures of a running step (CPU %, RSS of its whole process tree)
are read on demand, cached about a second.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from dashboard_core.config import Config, StepConfig, WorkflowConfig
from dashboard_core.dag import dependents
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
from dashboard_core.store import Store, StoreError
from dashboard_core.testing.capped_log import CappedLog, read_tail
from dashboard_core.testing.manager import _clock, _kill_leftover
from dashboard_core.testing.runner import exit_code_words
from dashboard_core.workflows.history import WorkflowHistory
from dashboard_core.workflows.params import ParamError, Value, environment, substitute
from dashboard_core.workflows.params import resolve as resolve_params
from dashboard_core.workflows.service import backoff_delay, should_restart, stable_after
from dashboard_core.workflows.step import StepProcess

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 2.0  # how often a running run's "last seen" is saved
LOG_TAIL_CHARS = 4000
STOP_MARGIN_SECONDS = 2.0  # beyond the grace: for the last output to be read and the run recorded


# -- errors --------------------------------------------------------------------------
class WorkflowError(Exception):
    """A request the supervisor refuses; ``str()`` is the sentence for the user,
    ``http_status`` the API's answer."""

    http_status = 409


class UnknownWorkflow(WorkflowError):
    http_status = 404

    def __init__(self, name: str, known: Sequence[str]) -> None:
        self.name = name
        names = ", ".join(known) or "none are configured"
        super().__init__(f"There is no workflow named {name!r}. Known workflows: {names}.")


class UnknownWorkflowRun(WorkflowError):
    http_status = 404

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        super().__init__(f"There is no workflow run with id {run_id}.")


class AlreadyRunning(WorkflowError):
    def __init__(self, workflow: str, run_id: int) -> None:
        self.workflow, self.run_id = workflow, run_id
        super().__init__(
            f"{workflow!r} is already running (run {run_id}). Stop that run first, "
            f"or set concurrent = true for {workflow!r} to allow runs side by side."
        )


class BadParams(WorkflowError):
    http_status = 422

    def __init__(self, workflow: str, errors: Sequence[str]) -> None:
        self.workflow = workflow
        self.errors = list(errors)
        super().__init__(f"The parameters of {workflow!r} are not valid: {'; '.join(self.errors)}.")


class NotRunning(WorkflowError):
    def __init__(self, run: WorkflowRunInfo) -> None:
        self.run = run
        super().__init__(
            f"Run {run.id} of {run.workflow!r} has already finished ({run.status}); there is nothing to stop."
        )


class UnknownStep(WorkflowError):
    http_status = 404

    def __init__(self, run: WorkflowRunInfo, step: str) -> None:
        self.run, self.step = run, step
        names = ", ".join(s.name for s in run.steps) or "none"
        super().__init__(f"Run {run.id} of {run.workflow!r} has no step named {step!r}. Its steps: {names}.")


class NoStepLog(WorkflowError):
    http_status = 404


class ShuttingDown(WorkflowError):
    http_status = 503


class CannotSave(WorkflowError):
    """The store cannot take the write an action needs (a full disk)."""

    http_status = 503


# -- what is going on, in memory -----------------------------------------------------
_STOP, _INTERRUPT, _TIMEOUT = "stop", "interrupt", "timeout"  # why the supervisor killed a step


@dataclass(eq=False)
class _Step:
    config: StepConfig
    status: StepStatus = StepStatus.PENDING
    message: str = ""
    exit_code: int | None = None
    started_at: float | None = None  # epoch seconds: this attempt's start
    ended_at: float | None = None
    restarts: int = 0
    next_restart_at: float | None = None
    log: CappedLog | None = None  # open while the step (a service: the run) goes on
    log_path: Path | None = None
    proc: StepProcess | None = None
    kill_reason: str | None = None
    deadline: float | None = None  # monotonic: when its timeout strikes
    began: float = 0.0  # monotonic: this attempt's start, for a service's uptime

    @property
    def name(self) -> str:
        return self.config.name


@dataclass(eq=False)
class _Run:
    id: int
    workflow: WorkflowConfig
    trigger: Trigger
    params: dict[str, Value]
    started_at: float
    folder: Path
    steps: dict[str, _Step]
    status: WorkflowStatus = WorkflowStatus.RUNNING
    message: str = ""
    ended_at: float | None = None
    stop_reason: WorkflowStatus | None = None  # STOPPED (asked) or INTERRUPTED (the dashboard stops)
    wake: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    last_beat: float = 0.0
    unsaved: dict[str, dict[str, object]] = field(default_factory=dict)  # step -> its last save, which failed

    @property
    def graph(self) -> dict[str, list[str]]:
        return {s.name: s.depends_on for s in self.workflow.steps}


_FINISH_SEVERITY = {
    WorkflowStatus.SUCCEEDED: Severity.INFO,
    WorkflowStatus.STOPPED: Severity.INFO,
    WorkflowStatus.FAILED: Severity.WARNING,
    WorkflowStatus.INTERRUPTED: Severity.WARNING,
}


class WorkflowSupervisor:
    def __init__(
        self,
        config: Config,
        store: Store,
        events: EventLog,
        *,
        clock: Callable[[], float] = time.time,
        poll: float = 0.2,
    ) -> None:
        self.config = config
        self.events = events
        self.clock = clock
        self.poll = poll
        self.history = WorkflowHistory(store, self._depends_on)
        self.folder = config.data_dir / "workflows"
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._active: dict[int, _Run] = {}
        self._stopping = threading.Event()
        self._halted = threading.Event()  # drivers walk away, touching nothing (tests: a crash)

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
        self._stopping.set()
        with self._lock:
            runs = list(self._active.values())
            if self._halted.is_set():  # abandoned: leave the processes and the store alone
                for run in runs:
                    _close_logs(run)
                return
            for run in runs:
                self._request_stop(run, WorkflowStatus.INTERRUPTED)
        grace = max((r.workflow.grace_seconds for r in runs), default=0.0)
        deadline = time.monotonic() + grace + STOP_MARGIN_SECONDS
        for run in runs:
            if run.thread is not None:
                run.thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            for run in [r for r in runs if r.id in self._active]:  # a driver that did not finish in time
                if not run.status.finished:
                    log.error("Run %s of %s did not stop in time; recorded as interrupted", run.id, run.workflow.name)
                    for step in run.steps.values():
                        if not step.status.finished:
                            self._set_step(run, step, StepStatus.INTERRUPTED, "interrupted: the dashboard stopped")
                    _close_logs(run)
                    run.status, run.message, run.ended_at = (
                        WorkflowStatus.INTERRUPTED,
                        "interrupted: the dashboard stopped",
                        self.clock(),
                    )
                self._save_end(run)  # if the store cannot take it, the next start marks the run interrupted
                del self._active[run.id]
            self._changed.notify_all()

    def recover(self) -> None:
        """Runs the store calls running belong to a dashboard that is gone: mark them
        interrupted (running steps interrupted, pending ones skipped) and kill what
        they left running, if the pid and its create time still match."""
        now = self.clock()
        for row in self.history.unfinished():
            last_seen = row["updated_at"] or row["started_at"]
            try:
                killed = self._recover_steps(row["id"], last_seen)
                message = (
                    f"interrupted: the dashboard stopped during this run (last seen running at "
                    f"{_clock(last_seen)} UTC, noticed at start-up at {_clock(now)} UTC)"
                )
                if killed:
                    message += "; the processes it left behind were killed"
                self.history.update_run(
                    row["id"], status=WorkflowStatus.INTERRUPTED, message=message, ended_at=last_seen, updated_at=now
                )
            except StoreError as exc:  # a full disk: the next start tries again
                log.error(
                    "Workflow run %s of %s: cannot record that it was interrupted: %s", row["id"], row["workflow"], exc
                )
                continue
            log.warning("Workflow run %s of %s: %s", row["id"], row["workflow"], message)
            self._publish_safely(
                row["workflow"],
                f"Run {row['id']} of {row['workflow']} {message}",
                Severity.WARNING,
                {"run_id": row["id"], "from": WorkflowStatus.RUNNING.value, "to": WorkflowStatus.INTERRUPTED.value},
            )

    def _recover_steps(self, run_id: int, last_seen: float) -> bool:
        """Mark a dead run's running steps interrupted (killing what they left) and its
        pending ones skipped; True if processes were killed."""
        killed = False
        for s in self.history.step_rows(run_id):
            status = StepStatus(s["status"])
            if status in (StepStatus.RUNNING, StepStatus.BACKING_OFF):
                if _kill_leftover(s["pid"], s["pid_created"]):
                    killed = True
                self.history.update_step(
                    run_id,
                    s["step"],
                    status=StepStatus.INTERRUPTED,
                    message="interrupted: the dashboard stopped while it ran",
                    ended_at=max(last_seen, s["started_at"] or last_seen),
                )
            elif status is StepStatus.PENDING:
                self.history.update_step(
                    run_id,
                    s["step"],
                    status=StepStatus.SKIPPED,
                    message="skipped: the dashboard stopped before it ran",
                )
        return killed

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
        with self._lock:
            if self._stopping.is_set():
                raise ShuttingDown("The dashboard is shutting down; no new workflow runs start.")
            if not wf.concurrent:
                existing = next(
                    (r for r in self._active.values() if r.workflow.name == wf.name and not r.status.finished), None
                )
                if existing is not None:
                    raise AlreadyRunning(wf.name, existing.id)
            now = self.clock()
            try:
                run_id = self.history.insert(wf.name, trigger, values, now, [s.name for s in wf.steps])
            except StoreError as exc:  # a run that cannot be recorded is not started
                raise CannotSave(f"{wf.name!r} was not started: {exc}. Free space and try again.") from None
            run = _Run(
                id=run_id,
                workflow=wf,
                trigger=trigger,
                params=values,
                started_at=now,
                folder=self.folder / str(run_id),
                steps={s.name: _Step(s) for s in wf.steps},
                last_beat=time.monotonic(),
            )
            self._active[run_id] = run
            run.thread = threading.Thread(target=self._drive, args=(run,), name=f"workflow-{run_id}", daemon=True)
            run.thread.start()
            log.info("Workflow run %s of %s started (%s)", run_id, wf.name, trigger)
            self._changed.notify_all()
            return self._live(run)

    def stop_run(self, run_id: int) -> WorkflowRunInfo:
        """Stop a run: SIGTERM each running step's tree, SIGKILL after the grace; pending
        steps are skipped. Waits (at most the grace and a little) for it to end."""
        with self._lock:
            run = self._active.get(run_id)
            if run is None:
                raise NotRunning(self._stored(run_id))
            self._request_stop(run, WorkflowStatus.STOPPED)
            grace = run.workflow.grace_seconds
        return self.wait(run_id, grace + STOP_MARGIN_SECONDS)

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
        with self._changed:
            self._changed.wait_for(lambda: run_id not in self._active, timeout)
        return self.run(run_id)

    # -- reading -------------------------------------------------------------------
    def workflows(self) -> WorkflowList:
        with self._lock:
            active = [self._live(r) for r in sorted(self._active.values(), key=lambda r: r.id)]
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
        with self._lock:
            run = self._active.get(run_id)
            if run is not None:
                return self._live(run)
        return self._stored(run_id)

    def detail(self, run_id: int) -> WorkflowRunInfo:
        """:meth:`run` plus each step's newest output (``log_tail``)."""
        with self._lock:
            run = self._active.get(run_id)
            if run is not None:
                return self._live(run, tails=True)
        info = self._stored(run_id)
        for step in info.steps:
            step.log_tail = read_tail(Path(step.log_path), LOG_TAIL_CHARS) if step.log_path else ""
        return info

    def runs(self, workflow: str | None = None, limit: int = 50, offset: int = 0) -> tuple[int, list[WorkflowRunInfo]]:
        """Runs newest first (all workflows, or one), and how many there are in all."""
        if workflow is not None:
            self._known(workflow)
        total, items = self.history.page(workflow, limit, offset)
        with self._lock:  # live figures for the runs that are still going
            items = [self._live(self._active[r.id]) if r.id in self._active else r for r in items]
        return total, items

    def active(self) -> list[WorkflowRunInfo]:
        """Runs going on now, oldest first."""
        with self._lock:
            return [self._live(r) for r in sorted(self._active.values(), key=lambda r: r.id)]

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

    # -- driving a run (its own thread) --------------------------------------------
    def _drive(self, run: _Run) -> None:
        started = f"Run {run.id} of {run.workflow.name} started ({run.trigger})"
        self._publish(run, started, Severity.INFO, None, WorkflowStatus.RUNNING.value)
        try:
            outcome = self._drive_service(run) if run.workflow.service else self._drive_job(run)
        except Exception as exc:  # a bug must not leave a run "running" forever
            log.exception("Workflow run %s of %s: the supervisor failed", run.id, run.workflow.name)
            why = f"the dashboard's supervisor failed: {exc!r}"
            with self._lock:
                for step in run.steps.values():
                    if step.proc is not None and not step.proc.done.is_set():
                        step.proc.kill(0)
                    if step.status is StepStatus.RUNNING:
                        self._set_step(run, step, StepStatus.FAILED, why)
            outcome = (WorkflowStatus.FAILED, why)
        if outcome is not None:
            self._finish(run, *outcome)

    def _drive_job(self, run: _Run) -> tuple[WorkflowStatus, str] | None:
        if not self._run_steps(run):
            return None
        with self._lock:
            return self._verdict(run)

    def _drive_service(self, run: _Run) -> tuple[WorkflowStatus, str] | None:
        wf = run.workflow
        step = next(iter(run.steps.values()))
        while True:
            if not self._run_steps(run):
                return None
            with self._lock:
                if run.stop_reason is not None or step.status not in (StepStatus.SUCCEEDED, StepStatus.FAILED):
                    return self._verdict(run)
                succeeded = step.status is StepStatus.SUCCEEDED
                if not should_restart(wf, succeeded):
                    status = WorkflowStatus.SUCCEEDED if succeeded else WorkflowStatus.FAILED
                    return status, f"the service ended: {step.message}"
                if time.monotonic() - step.began >= stable_after(wf):
                    step.restarts = 0  # it stayed up long enough: this is not a crash loop
                if step.restarts >= wf.max_restarts:
                    return WorkflowStatus.FAILED, f"gave up after {step.restarts} restarts (last: {step.message})"
                step.restarts += 1
                n, delay = step.restarts, backoff_delay(wf, step.restarts)
                after = exit_code_words(step.exit_code, False) if step.exit_code is not None else "a failed start"
                exited = step.message
                step.next_restart_at = self.clock() + delay
                self._set_step(
                    run,
                    step,
                    StepStatus.BACKING_OFF,
                    f"{exited}; restart {n} of at most {wf.max_restarts} in {delay:g} s",
                    ended=False,
                )
            self._publish(
                run,
                f"Run {run.id} of {wf.name}: the service ended ({exited}); restart {n} of at most "
                f"{wf.max_restarts} in {delay:g} s",
                Severity.WARNING,
                StepStatus.RUNNING.value,
                StepStatus.BACKING_OFF.value,
                step=step.name,
                restarts=n,
            )
            deadline = time.monotonic() + delay
            while run.stop_reason is None and not self._halted.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                run.wake.wait(min(remaining, HEARTBEAT_SECONDS))
                run.wake.clear()
                with self._lock:
                    self._heartbeat(run)
            if self._halted.is_set():
                return None
            with self._lock:
                step.next_restart_at = None
                if run.stop_reason is not None:  # stopped while it waited: at once
                    stopped = run.stop_reason is WorkflowStatus.STOPPED
                    self._set_step(
                        run,
                        step,
                        StepStatus.STOPPED if stopped else StepStatus.INTERRUPTED,
                        f"{exited}; {'stopped' if stopped else 'interrupted'} while waiting to restart",
                    )
                    return self._verdict(run)
                step.status = StepStatus.PENDING
                if step.log is not None:
                    _write(step.log, f"--- restart {n} after {after} ---\n")

    def _run_steps(self, run: _Run) -> bool:
        """Start steps as the steps they need succeed, until none runs and none can
        start. False if the supervisor was abandoned meanwhile."""
        while True:
            run.wake.clear()  # before looking: a later exit wakes the next wait
            if self._halted.is_set():
                return False
            with self._lock:
                for step in run.steps.values():
                    if step.status is StepStatus.RUNNING and step.proc is not None and step.proc.done.is_set():
                        self._step_exited(run, step)
                now = time.monotonic()
                for step in run.steps.values():
                    if (
                        step.status is StepStatus.RUNNING
                        and step.deadline is not None
                        and now >= step.deadline
                        and step.kill_reason is None
                        and step.proc is not None
                    ):
                        if step.proc.kill(run.workflow.grace_seconds):  # False: it has just exited by itself
                            step.kill_reason = _TIMEOUT
                if run.stop_reason is None:
                    self._launch_ready(run)
                running = [s for s in run.steps.values() if s.status is StepStatus.RUNNING]
                if not running:
                    return True
                self._heartbeat(run)
                deadlines = [s.deadline - now for s in running if s.deadline is not None and s.deadline > now]
                wait = max(0.01, min([self.poll, *deadlines]))
            run.wake.wait(wait)

    def _launch_ready(self, run: _Run) -> None:
        """Start pending steps whose needs all succeeded, in config order, up to max_parallel."""
        busy = sum(1 for s in run.steps.values() if s.status is StepStatus.RUNNING)
        for step in run.steps.values():
            if busy >= run.workflow.max_parallel:
                return
            needs = step.config.depends_on
            if step.status is StepStatus.PENDING and all(run.steps[n].status is StepStatus.SUCCEEDED for n in needs):
                self._launch(run, step)
                if step.status is StepStatus.RUNNING:
                    busy += 1

    def _launch(self, run: _Run, step: _Step) -> None:
        cfg = step.config
        step.started_at, step.ended_at, step.exit_code, step.kill_reason = self.clock(), None, None, None
        step.began, step.proc = time.monotonic(), None  # a failed start has been up for no time
        if step.log is None:
            step.log_path = run.folder / f"{cfg.name}.log"
            try:
                run.folder.mkdir(parents=True, exist_ok=True)
                step.log = CappedLog(step.log_path, self.config.workflow.log_max_bytes)
            except OSError as exc:
                step.log_path = None
                self._set_step(run, step, StepStatus.FAILED, f"cannot open its log file: {exc.strerror or exc}")
                return
        argv = substitute(cfg.argv, run.params)
        env = {**os.environ, **environment(run.params), **cfg.env}
        proc = StepProcess(argv, self.config.resolve(cfg.cwd), env, step.log, on_done=run.wake.set)
        reason = proc.start()
        if reason is not None:
            _write(step.log, reason + "\n")
            self._set_step(run, step, StepStatus.FAILED, reason)
            return
        step.proc = proc
        step.deadline = step.began + cfg.timeout_seconds if cfg.timeout_seconds else None
        self._set_step(run, step, StepStatus.RUNNING, "running", ended=False)
        log.info("Workflow run %s of %s: step %s started (pid %s)", run.id, run.workflow.name, cfg.name, proc.pid)

    def _step_exited(self, run: _Run, step: _Step) -> None:
        assert step.proc is not None
        code = step.proc.returncode
        step.exit_code = code
        words = exit_code_words(code, False)
        if step.kill_reason == _TIMEOUT:
            status, message = StepStatus.FAILED, f"timed out after {step.config.timeout_seconds:g} s"
        elif step.kill_reason == _STOP:
            status, message = StepStatus.STOPPED, f"{words} (stopped)"
        elif step.kill_reason == _INTERRUPT:
            status, message = StepStatus.INTERRUPTED, f"interrupted: the dashboard stopped ({words})"
        elif code == 0:
            status, message = StepStatus.SUCCEEDED, words
        else:
            status, message = StepStatus.FAILED, words
        self._set_step(run, step, status, message)

    def _set_step(self, run: _Run, step: _Step, status: StepStatus, message: str, *, ended: bool = True) -> None:
        """Change a step's state, save it, and skip what needs a step that failed."""
        step.status, step.message = status, message
        if ended:
            step.ended_at = self.clock()
        proc = step.proc
        values: dict[str, object] = dict(
            status=status,
            message=message,
            exit_code=step.exit_code,
            started_at=step.started_at,
            ended_at=step.ended_at if ended or status is StepStatus.BACKING_OFF else None,
            restarts=step.restarts,
            log_path=str(step.log_path) if step.log_path else None,
            pid=proc.pid if proc is not None else None,
            pid_created=proc.created if proc is not None else None,
        )
        try:
            self.history.update_step(run.id, step.name, **values)
            run.unsaved.pop(step.name, None)
        except StoreError:  # a full disk: the run goes on from memory; saved again when it ends
            run.unsaved[step.name] = values
        if status.finished and not run.workflow.service and step.log is not None:
            step.log.close()  # the file gets its tail now
        if status in (StepStatus.FAILED, StepStatus.STOPPED, StepStatus.INTERRUPTED):
            verb = "failed" if status is StepStatus.FAILED else f"was {status.value}"
            needing = dependents(run.graph, step.name)
            for other in run.steps.values():
                if other.name in needing and other.status is StepStatus.PENDING:
                    self._set_step(run, other, StepStatus.SKIPPED, f"skipped: {step.name!r} {verb}", ended=False)

    def _request_stop(self, run: _Run, reason: WorkflowStatus) -> None:
        """Kill each running step's tree (in the background) and skip pending steps."""
        if run.stop_reason is not None or run.status.finished:
            return
        run.stop_reason = reason
        why = _STOP if reason is WorkflowStatus.STOPPED else _INTERRUPT
        for step in run.steps.values():
            if step.status is StepStatus.RUNNING and step.proc is not None:
                if step.proc.kill(run.workflow.grace_seconds):  # False: it exited, or a timeout is killing it
                    step.kill_reason = why
            elif step.status is StepStatus.PENDING:
                words = "the run was stopped" if reason is WorkflowStatus.STOPPED else "the dashboard stopped"
                self._set_step(run, step, StepStatus.SKIPPED, f"skipped: {words}", ended=False)
        run.wake.set()

    def _verdict(self, run: _Run) -> tuple[WorkflowStatus, str]:
        if run.stop_reason is WorkflowStatus.STOPPED:
            return WorkflowStatus.STOPPED, "stopped"
        if run.stop_reason is WorkflowStatus.INTERRUPTED:
            return WorkflowStatus.INTERRUPTED, "interrupted: the dashboard stopped"
        failed = [s for s in run.steps.values() if s.status is StepStatus.FAILED]
        if failed:
            return WorkflowStatus.FAILED, "; ".join(f"step {s.name!r} failed: {s.message}" for s in failed)
        n = len(run.steps)
        return WorkflowStatus.SUCCEEDED, "the step succeeded" if n == 1 else f"all {n} steps succeeded"

    def _finish(self, run: _Run, status: WorkflowStatus, message: str) -> None:
        with self._lock:
            for step in run.steps.values():
                if step.status in (StepStatus.PENDING, StepStatus.BACKING_OFF):  # defensive: nothing is left waiting
                    self._set_step(run, step, StepStatus.SKIPPED, "skipped: the run ended first", ended=False)
            _close_logs(run)
            run.status, run.message, run.ended_at = status, message, self.clock()
            saved = self._save_end(run)
            log.info("Workflow run %s of %s %s: %s", run.id, run.workflow.name, status, message)
        # While the store cannot be written (a full disk) the run stays here, shown from
        # memory, and its end is saved (and told) as soon as the store takes it.
        while not saved and not self._stopping.is_set() and not self._halted.is_set():
            run.wake.wait(1.0)
            with self._lock:
                saved = self._save_end(run)
        finished = f"Run {run.id} of {run.workflow.name} {status}: {message}"
        self._publish(run, finished, _FINISH_SEVERITY[status], WorkflowStatus.RUNNING.value, status.value)
        with self._lock:
            self._active.pop(run.id, None)
            self._changed.notify_all()

    def _save_end(self, run: _Run) -> bool:
        """Save the run's end, and the steps whose last save failed; False if the store cannot take it."""
        try:
            for name, values in list(run.unsaved.items()):
                self.history.update_step(run.id, name, **values)
                del run.unsaved[name]
            self.history.update_run(
                run.id, status=run.status, message=run.message, ended_at=run.ended_at, updated_at=self.clock()
            )
        except StoreError:
            return False
        return True

    def _heartbeat(self, run: _Run) -> None:
        if time.monotonic() - run.last_beat >= HEARTBEAT_SECONDS:
            try:
                self.history.update_run(run.id, updated_at=self.clock())
            except StoreError:
                pass  # the store said why; the run goes on
            run.last_beat = time.monotonic()

    # -- helpers -------------------------------------------------------------------
    def _abandon(self) -> None:
        """Walk away from every run as a dead dashboard would: the drivers stop, the
        processes go on, the store keeps saying "running". For tests of recovery."""
        self._halted.set()
        with self._lock:
            runs = list(self._active.values())
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

    def _live(self, run: _Run, tails: bool = False) -> WorkflowRunInfo:
        """What a run looks like now, from memory (call with the lock held)."""
        now = self.clock()
        steps = []
        for step in run.steps.values():
            cpu = rss = None
            if step.status is StepStatus.RUNNING and step.proc is not None:
                cpu, rss = step.proc.usage()
            end = step.ended_at if step.ended_at is not None else now
            tail = None
            if tails:
                if step.log is not None:
                    tail = step.log.tail_text(LOG_TAIL_CHARS)
                else:
                    tail = read_tail(step.log_path, LOG_TAIL_CHARS) if step.log_path else ""
            steps.append(
                StepInfo(
                    name=step.name,
                    status=step.status,
                    depends_on=step.config.depends_on,
                    message=step.message,
                    exit_code=step.exit_code,
                    started_at=_dt(step.started_at),
                    ended_at=_dt(step.ended_at),
                    duration_seconds=max(0.0, end - step.started_at) if step.started_at is not None else None,
                    restarts=step.restarts,
                    next_restart_at=_dt(step.next_restart_at),
                    cpu_percent=cpu,
                    rss=rss,
                    log_path=str(step.log_path) if step.log_path else None,
                    log_tail=tail,
                )
            )
        if run.status.finished:
            message = run.message
        else:
            message = "stopping…" if run.stop_reason is not None else "running"
        end = run.ended_at if run.ended_at is not None else now
        return WorkflowRunInfo(
            id=run.id,
            workflow=run.workflow.name,
            trigger=run.trigger,
            params=dict(run.params),
            status=run.status,
            message=message,
            started_at=_dt(run.started_at),
            ended_at=_dt(run.ended_at),
            duration_seconds=max(0.0, end - run.started_at),
            steps=steps,
        )

    def _publish(self, run: _Run, message: str, severity: Severity, old: str | None, new: str, **data: object) -> None:
        """An event about the run: ``data`` has its id, the state it left and the one it entered."""
        payload: dict[str, object] = {"run_id": run.id, "from": old, "to": new, "trigger": run.trigger.value, **data}
        self._publish_safely(run.workflow.name, message, severity, payload)

    def _publish_safely(self, source: str, message: str, severity: Severity, data: dict[str, object]) -> None:
        try:
            self.events.publish(EventKind.WORKFLOW, source, message, severity=severity, data=data)
        except Exception:  # the event log is a witness, never a reason for a run to fail
            log.exception("Cannot record the event %r", message)


def _dt(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def _write(log_file: CappedLog, text: str) -> None:
    try:
        log_file.write(text.encode())
    except ValueError:  # closed
        pass


def _close_logs(run: _Run) -> None:
    for step in run.steps.values():
        if step.log is not None:
            step.log.close()
