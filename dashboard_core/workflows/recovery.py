"""After a crash: workflow runs the store calls running belong to a dashboard
that is gone. Each is marked interrupted (its running steps interrupted, its
pending ones skipped), with the words every component uses, what its steps left
running is killed (found again by pid and start time), and an event says so."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dashboard_core.models import Severity, StepStatus, WorkflowStatus
from dashboard_core.processes.executor import Executor
from dashboard_core.processes.recovery import interrupted_during, kill_leftover, recover_each
from dashboard_core.processes.spec import ProcessRecord
from dashboard_core.workflows.history import WorkflowHistory

Tell = Callable[[str, str, Severity, dict[str, object]], None]  # source, message, severity, data


def recover_runs(
    history: WorkflowHistory,
    executor: Executor,
    tell: Tell,
    now: float,
    *,
    resume: Callable[[Any], bool] = lambda _row: False,
    stop_job: Callable[[str], bool] = lambda _ref: False,
) -> None:
    """``resume``: follow a run's Ray jobs again instead (True if it did); ``stop_job``:
    stop the Ray job of a step of an interrupted run, by its submission id (True if it ran)."""

    def settle(row: Any) -> str:
        last_seen = row["updated_at"] or row["started_at"]
        killed = _recover_steps(history, executor, row["id"], last_seen, stop_job)
        message = interrupted_during(last_seen, now, killed)
        history.update_run(
            row["id"], status=WorkflowStatus.INTERRUPTED, message=message, ended_at=last_seen, updated_at=now
        )
        return message

    def told(row: Any, message: str) -> None:
        tell(
            row["workflow"],
            f"Run {row['id']} of {row['workflow']} {message}",
            Severity.WARNING,
            {"run_id": row["id"], "from": WorkflowStatus.RUNNING.value, "to": WorkflowStatus.INTERRUPTED.value},
        )

    rows = [row for row in history.unfinished() if not resume(row)]  # runs on Ray go on
    recover_each(rows, settle, told, lambda row: f"Workflow run {row['id']} of {row['workflow']}")


def _recover_steps(
    history: WorkflowHistory, executor: Executor, run_id: int, last_seen: float, stop_job: Callable[[str], bool]
) -> bool:
    """Mark a dead run's running steps interrupted (killing what they left) and its
    pending ones skipped; True if processes were killed."""
    killed = False
    for s in history.step_rows(run_id):
        status = StepStatus(s["status"])
        if status in (StepStatus.RUNNING, StepStatus.BACKING_OFF):
            if s["process_ref"]:  # a job on Ray
                killed = stop_job(s["process_ref"]) or killed
            elif kill_leftover(executor, ProcessRecord(s["pid"], s["pid_created"])):
                killed = True
            history.update_step(
                run_id,
                s["step"],
                status=StepStatus.INTERRUPTED,
                message="interrupted: the dashboard stopped while it ran",
                ended_at=max(last_seen, s["started_at"] or last_seen),
            )
        elif status is StepStatus.PENDING:
            history.update_step(
                run_id, s["step"], status=StepStatus.SKIPPED, message="skipped: the dashboard stopped before it ran"
            )
    return killed
