"""Driving one workflow run, on a thread of its own.

- a job starts each step once the steps it ``depends_on`` have succeeded, in
  config order, at most ``max_parallel`` at once; a failed step skips every step
  that needs it (directly or not), the others go on; the run ends succeeded,
  failed, or stopped.
- a service runs its one step and restarts it by its policy with exponential
  back-off (see :mod:`dashboard_core.workflows.service`); its log stays open
  across restarts, each restart marked by a line ``--- restart N after exit X ---``,
  so one capped log (head and tail kept) covers the whole run.

Each step is a supervised process (:mod:`dashboard_core.processes`): its
timeout, its stop with grace and its state machine are the core's. The driver
changes memory under the supervisor's guard, then, outside it, starts processes,
flushes the run's outbox to the store and publishes events.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from dashboard_core.config import Config
from dashboard_core.models import Severity, StepStatus, WorkflowStatus
from dashboard_core.processes.board import HEARTBEAT_SECONDS, Guard
from dashboard_core.processes.capped_log import CappedLog
from dashboard_core.processes.executor import Executor
from dashboard_core.processes.log_tail import restart_line
from dashboard_core.processes.placed import PlacedExecutors
from dashboard_core.processes.spec import CannotStart, ProcessSpec
from dashboard_core.processes.supervised import StopReason, SupervisedProcess
from dashboard_core.processes.words import exit_words
from dashboard_core.store import StoreError
from dashboard_core.workflows.history import WorkflowHistory
from dashboard_core.workflows.params import environment, substitute
from dashboard_core.workflows.service import backoff_delay, should_restart, stable_after
from dashboard_core.workflows.state import RunState, StepState
from dashboard_core.workflows.steps import (
    close_logs,
    exit_verdict,
    put_end,
    ready_steps,
    run_verdict,
    set_step,
    stop_reason,
)

log = logging.getLogger(__name__)

DRAIN_SECONDS = 2.0  # an escaped descendant may hold the pipe open: don't wait on it longer
Outcome = tuple[WorkflowStatus, str] | None  # None: the supervisor was abandoned meanwhile
Publish = Callable[..., None]  # (run, message, severity, old, new, **data)


class RunDriver:
    def __init__(
        self,
        config: Config,
        history: WorkflowHistory,
        executor: Executor,
        guard: Guard,
        *,
        publish: Publish,
        forget: Callable[[RunState], None],
        clock: Callable[[], float],
        poll: float,
        stopping: threading.Event,
        halted: threading.Event,
        step_started: list[Callable[[int, str], None]] | None = None,
    ) -> None:
        self.config = config
        self.history = history
        self.executor = executor
        self.placed = PlacedExecutors(config, executor)  # a step with executor = "ray" gets its own
        self.guard = guard
        self.publish = publish
        self.forget = forget
        self.clock = clock
        self.poll = poll
        self.stopping = stopping
        self.halted = halted
        self.step_started = step_started if step_started is not None else []

    def drive(self, run: RunState, resumed: bool = False) -> None:
        started = f"Run {run.id} of {run.workflow.name} started ({run.trigger})"
        if resumed:
            started = f"Run {run.id} of {run.workflow.name} followed again after a restart of the dashboard"
        self.publish(run, started, Severity.INFO, None, WorkflowStatus.RUNNING.value)
        try:
            outcome = self._service(run) if run.workflow.service else self._job(run)
        except Exception as exc:  # a bug must not leave a run "running" forever
            log.exception("Workflow run %s of %s: the supervisor failed", run.id, run.workflow.name)
            why = f"the dashboard's supervisor failed: {exc!r}"
            with self.guard:
                procs = [s.proc for s in run.steps.values() if s.proc is not None]
                for step in run.steps.values():
                    if step.status is StepStatus.RUNNING:
                        set_step(self.history, run, step, StepStatus.FAILED, why, self.clock())
            for proc in procs:
                proc.stop(StopReason.INTERRUPT, 0)
            outcome = (WorkflowStatus.FAILED, why)
        if outcome is not None:
            self.finish(run, *outcome)

    def flush(self, run: RunState) -> bool:
        """Close the logs of finished job steps and save what changed; False if the store refused."""
        close_logs(run, finished_only=True)
        return run.outbox.flush()

    def stop_processes(self, procs: list[SupervisedProcess], reason: WorkflowStatus) -> None:
        for proc in procs:
            proc.stop(stop_reason(reason))

    # -- jobs and services ---------------------------------------------------------
    def _job(self, run: RunState) -> Outcome:
        if not self._run_steps(run):
            return None
        with self.guard:
            return run_verdict(run)

    def _service(self, run: RunState) -> Outcome:
        wf = run.workflow
        step = next(iter(run.steps.values()))
        while True:
            if not self._run_steps(run):
                return None
            with self.guard:
                if run.stop_reason is not None or step.status not in (StepStatus.SUCCEEDED, StepStatus.FAILED):
                    return run_verdict(run)
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
                after = exit_words(step.exit_code) if step.exit_code is not None else "a failed start"
                exited = step.message
                step.next_restart_at = self.clock() + delay
                if step.proc is not None:
                    step.proc.backoff()
                message = f"{exited}; restart {n} of at most {wf.max_restarts} in {delay:g} s"
                set_step(self.history, run, step, StepStatus.BACKING_OFF, message, self.clock(), ended=False)
            self.flush(run)
            self.publish(
                run,
                f"Run {run.id} of {wf.name}: the service ended ({exited}); restart {n} of at most "
                f"{wf.max_restarts} in {delay:g} s",
                Severity.WARNING,
                StepStatus.RUNNING.value,
                StepStatus.BACKING_OFF.value,
                step=step.name,
                restarts=n,
            )
            outcome = self._back_off(run, step, delay, exited)
            if outcome is not None or self.halted.is_set():
                return outcome
            if step.log is not None:
                _write(step.log, restart_line(n, after))

    def _back_off(self, run: RunState, step: StepState, delay: float, exited: str) -> Outcome:
        """Wait out the back-off (a stop ends it at once); the run's outcome if it was stopped."""
        deadline = time.monotonic() + delay
        while run.stop_reason is None and not self.halted.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            run.wake.wait(min(remaining, HEARTBEAT_SECONDS))
            run.wake.clear()
            self._heartbeat(run)
        if self.halted.is_set():
            return None
        with self.guard:
            step.next_restart_at = None
            if run.stop_reason is None:
                step.status = StepStatus.PENDING
                return None
            stopped = run.stop_reason is WorkflowStatus.STOPPED
            if step.proc is not None:
                step.proc.stop(stop_reason(run.stop_reason))  # backing off: nothing runs, nothing to kill
            status = StepStatus.STOPPED if stopped else StepStatus.INTERRUPTED
            message = f"{exited}; {'stopped' if stopped else 'interrupted'} while waiting to restart"
            set_step(self.history, run, step, status, message, self.clock())
            outcome = run_verdict(run)
        self.flush(run)
        return outcome

    def _run_steps(self, run: RunState) -> bool:
        """Start steps as the steps they need succeed, until none runs and none can
        start. False if the supervisor was abandoned meanwhile."""
        while True:
            run.wake.clear()  # before looking: a later exit wakes the next wait
            if self.halted.is_set():
                return False
            with self.guard:
                if run.left:  # left to its Ray jobs at a stop of the dashboard: the next start follows it
                    return False
                for step in run.steps.values():
                    proc = step.proc
                    if step.status is StepStatus.RUNNING and proc is not None and proc.done.is_set():
                        step.exit_code = proc.exit_code
                        set_step(self.history, run, step, *exit_verdict(step), self.clock())
                ready = ready_steps(run) if run.stop_reason is None else []
                running = any(s.status is StepStatus.RUNNING for s in run.steps.values())
            self.flush(run)
            for step in ready:
                self._launch(run, step)
            if not running:
                return True
            self._heartbeat(run)
            if not ready:
                run.wake.wait(self.poll)

    def _launch(self, run: RunState, step: StepState) -> None:
        """Start one step (marked running by :func:`ready_steps`), outside the guard."""
        cfg = step.config
        with self.guard:
            step.started_at, step.ended_at, step.exit_code = self.clock(), None, None
            step.began = time.monotonic()  # a failed start has been up for no time
        if step.log is None:
            path = run.folder / f"{cfg.name}.log"
            try:
                run.folder.mkdir(parents=True, exist_ok=True)
                opened = CappedLog(path, self.config.workflow.log_max_bytes)
            except OSError as exc:
                self._launched(run, step, f"cannot open its log file: {exc.strerror or exc}")
                return
            with self.guard:
                step.log, step.log_path = opened, path
        assert step.log is not None
        if step.proc is None:
            try:
                proc = self.process(run, step, step.log)
            except CannotStart as exc:  # executor = "ray" without Ray installed
                _write(step.log, f"{exc}\n")
                self._launched(run, step, str(exc))
                return
            with self.guard:
                step.proc = proc
        reason = step.proc.start()
        if reason is not None:
            _write(step.log, reason + "\n")
        self._launched(run, step, reason)

    def process(self, run: RunState, step: StepState, log_sink: CappedLog) -> SupervisedProcess:
        """The step's supervised process (not started), on its executor: this host's, or
        its Ray executor (raises :class:`CannotStart` when Ray is not installed)."""
        cfg = step.config
        spec = ProcessSpec.of(
            substitute(cfg.argv, run.params),
            self.config.resolve(cfg.cwd),
            {**environment(run.params), **cfg.env},
            timeout=cfg.timeout_seconds,
            drain=DRAIN_SECONDS,
            name="workflow-step",
        )
        executor = self.placed.placed(f"{run.workflow.name}/{cfg.name}", cfg)
        return SupervisedProcess(
            spec, executor, log_sink, grace=run.workflow.grace_seconds, on_exit=run.wake.set, clock=self.clock
        )

    def _launched(self, run: RunState, step: StepState, failure: str | None) -> None:
        with self.guard:
            if failure is not None:
                step.exit_code = None
                set_step(self.history, run, step, StepStatus.FAILED, failure, self.clock())
            else:
                set_step(self.history, run, step, StepStatus.RUNNING, "running", self.clock(), ended=False)
            asked = run.stop_reason
        if failure is None and asked is not None and step.proc is not None:
            step.proc.stop(stop_reason(asked))  # a stop came while it started
        self.flush(run)
        if failure is None:
            pid = step.proc.pid if step.proc is not None else None
            log.info("Workflow run %s of %s: step %s started (pid %s)", run.id, run.workflow.name, step.name, pid)
            for listener in self.step_started:  # e.g. the run-trees sampler: a first sample of a short step
                try:
                    listener(run.id, step.name)
                except Exception:  # noqa: BLE001 - a listener's bug is never the step's
                    log.exception("A step-start listener failed")

    # -- the end -------------------------------------------------------------------
    def finish(self, run: RunState, status: WorkflowStatus, message: str) -> None:
        with self.guard:
            for step in run.steps.values():
                if step.status in (StepStatus.PENDING, StepStatus.BACKING_OFF):  # defensive: nothing is left waiting
                    set_step(self.history, run, step, StepStatus.SKIPPED, "skipped: the run ended first", self.clock())
            run.status, run.message, run.ended_at = status, message, self.clock()
            put_end(self.history, run, self.clock())
        close_logs(run)
        saved = run.outbox.flush()
        log.info("Workflow run %s of %s %s: %s", run.id, run.workflow.name, status, message)
        # While the store cannot be written (a full disk) the run stays here, shown from
        # memory, and its end is saved (and told) as soon as the store takes it.
        while not saved and not self.stopping.is_set() and not self.halted.is_set():
            run.wake.wait(1.0)
            saved = run.outbox.flush()
        finished = f"Run {run.id} of {run.workflow.name} {status}: {message}"
        self.publish(run, finished, _FINISH_SEVERITY[status], WorkflowStatus.RUNNING.value, status.value)
        self.forget(run)

    def _heartbeat(self, run: RunState) -> None:
        if run.heartbeat.due():
            try:
                self.history.update_run(run.id, updated_at=self.clock())
            except StoreError:
                pass  # the store said why; the run goes on
            run.heartbeat.beat()


_FINISH_SEVERITY = {
    WorkflowStatus.SUCCEEDED: Severity.INFO,
    WorkflowStatus.STOPPED: Severity.INFO,
    WorkflowStatus.FAILED: Severity.WARNING,
    WorkflowStatus.INTERRUPTED: Severity.WARNING,
}


def _write(log_file: CappedLog | None, text: str) -> None:
    if log_file is None:
        return
    try:
        log_file.write(text.encode())
    except ValueError:  # closed
        pass
