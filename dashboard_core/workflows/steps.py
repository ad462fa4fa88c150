"""The steps of a run, changed in memory under the supervisor's guard: which
steps may start, what a step's exit means, a stop, the run's verdict. Every
change is queued in the run's outbox; the caller flushes it after the guard."""

from __future__ import annotations

from dashboard_core.dag import dependents
from dashboard_core.models import StepStatus, WorkflowStatus
from dashboard_core.processes.supervised import StopReason, SupervisedProcess
from dashboard_core.processes.words import exit_words
from dashboard_core.workflows.history import WorkflowHistory
from dashboard_core.workflows.state import RunState, StepState

STARTING = "starting"


def set_step(
    history: WorkflowHistory,
    run: RunState,
    step: StepState,
    status: StepStatus,
    message: str,
    now: float,
    *,
    ended: bool = True,
) -> None:
    """Change a step's state, queue its save, and skip what needs a step that failed."""
    step.status, step.message = status, message
    if ended:
        step.ended_at = now
    values = step.values(ended)
    run.outbox.put(("step", step.name), lambda: history.update_step(run.id, step.name, **values))
    if status in (StepStatus.FAILED, StepStatus.STOPPED, StepStatus.INTERRUPTED):
        verb = "failed" if status is StepStatus.FAILED else f"was {status.value}"
        needing = dependents(run.graph, step.name)
        for other in run.steps.values():
            if other.name in needing and other.status is StepStatus.PENDING:
                set_step(history, run, other, StepStatus.SKIPPED, f"skipped: {step.name!r} {verb}", now, ended=False)


def ready_steps(run: RunState) -> list[StepState]:
    """Pending steps whose needs all succeeded, in config order, up to max_parallel;
    marked running (starting) so that nothing else takes them meanwhile."""
    busy = sum(1 for s in run.steps.values() if s.status is StepStatus.RUNNING)
    ready = []
    for step in run.steps.values():
        if busy >= run.workflow.max_parallel:
            break
        needs = step.config.depends_on
        if step.status is StepStatus.PENDING and all(run.steps[n].status is StepStatus.SUCCEEDED for n in needs):
            step.status, step.message = StepStatus.RUNNING, STARTING
            ready.append(step)
            busy += 1
    return ready


def exit_verdict(step: StepState) -> tuple[StepStatus, str]:
    """What a step's exit means: its code, or why the supervisor stopped it."""
    proc = step.proc
    assert proc is not None
    words = exit_words(proc.exit_code)
    if proc.stop_reason is StopReason.TIMEOUT:
        return StepStatus.FAILED, f"timed out after {step.config.timeout_seconds:g} s"
    if proc.stop_reason is StopReason.CANCEL:
        return StepStatus.STOPPED, f"{words} (stopped)"
    if proc.stop_reason is StopReason.INTERRUPT:
        return StepStatus.INTERRUPTED, f"interrupted: the dashboard stopped ({words})"
    if proc.exit_code == 0:
        return StepStatus.SUCCEEDED, words
    return StepStatus.FAILED, words


def stop_reason(reason: WorkflowStatus) -> StopReason:
    return StopReason.CANCEL if reason is WorkflowStatus.STOPPED else StopReason.INTERRUPT


def request_stop(
    history: WorkflowHistory, run: RunState, reason: WorkflowStatus, now: float
) -> list[SupervisedProcess]:
    """Mark the run stopping and skip its pending steps; the processes to stop
    (the caller stops them, after the guard: ``proc.stop(stop_reason(reason))``)."""
    if run.stop_reason is not None or run.status.finished:
        return []
    run.stop_reason = reason
    procs = []
    for step in run.steps.values():
        if step.status is StepStatus.RUNNING and step.proc is not None:
            procs.append(step.proc)  # one still starting is stopped by its launcher
        elif step.status is StepStatus.PENDING:
            words = "the run was stopped" if reason is WorkflowStatus.STOPPED else "the dashboard stopped"
            set_step(history, run, step, StepStatus.SKIPPED, f"skipped: {words}", now, ended=False)
    run.wake.set()
    return procs


def run_verdict(run: RunState) -> tuple[WorkflowStatus, str]:
    if run.stop_reason is WorkflowStatus.STOPPED:
        return WorkflowStatus.STOPPED, "stopped"
    if run.stop_reason is WorkflowStatus.INTERRUPTED:
        return WorkflowStatus.INTERRUPTED, "interrupted: the dashboard stopped"
    failed = [s for s in run.steps.values() if s.status is StepStatus.FAILED]
    if failed:
        return WorkflowStatus.FAILED, "; ".join(f"step {s.name!r} failed: {s.message}" for s in failed)
    n = len(run.steps)
    return WorkflowStatus.SUCCEEDED, "the step succeeded" if n == 1 else f"all {n} steps succeeded"


def interrupt_unfinished(history: WorkflowHistory, run: RunState, now: float) -> None:
    """A run whose driver did not end in time: recorded as interrupted from memory."""
    for step in run.steps.values():
        if not step.status.finished:
            set_step(history, run, step, StepStatus.INTERRUPTED, "interrupted: the dashboard stopped", now)
    run.status, run.message, run.ended_at = WorkflowStatus.INTERRUPTED, "interrupted: the dashboard stopped", now


def put_end(history: WorkflowHistory, run: RunState, now: float) -> None:
    """Queue the save of the run's end (after its steps' saves)."""
    status, message, ended = run.status, run.message, run.ended_at
    run.outbox.put(
        ("run", run.id),
        lambda: history.update_run(run.id, status=status, message=message, ended_at=ended, updated_at=now),
    )


def close_logs(run: RunState, finished_only: bool = False) -> None:
    """Close step logs (the file gets its tail): a job's finished steps', or all."""
    for step in run.steps.values():
        if step.log is not None and (not finished_only or (step.status.finished and not run.workflow.service)):
            step.log.close()
