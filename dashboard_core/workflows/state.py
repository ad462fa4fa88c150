"""A workflow run the supervisor has going on, as memory holds it, and how it
looks now (:func:`live_run`). Changed and read under the supervisor's guard;
store writes go through the run's outbox, outside it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dashboard_core.config import StepConfig, WorkflowConfig
from dashboard_core.models import StepInfo, StepStatus, Trigger, WorkflowRunInfo, WorkflowStatus
from dashboard_core.processes.board import Heartbeat, Outbox
from dashboard_core.processes.capped_log import CappedLog, read_tail
from dashboard_core.processes.log_tail import LogTail
from dashboard_core.processes.supervised import SupervisedProcess
from dashboard_core.units import from_epoch
from dashboard_core.workflows.params import Value

LOG_TAIL_BYTES = 4000


@dataclass(eq=False)
class StepState:
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
    proc: SupervisedProcess | None = None  # one for all of a service's attempts
    began: float = 0.0  # monotonic: this attempt's start, for a service's uptime

    @property
    def name(self) -> str:
        return self.config.name

    def values(self, ended: bool) -> dict[str, Any]:
        """The columns of its row, as they are now."""
        record = self.proc.record if self.proc is not None else None
        return dict(
            status=self.status,
            message=self.message,
            exit_code=self.exit_code,
            started_at=self.started_at,
            ended_at=self.ended_at if ended or self.status is StepStatus.BACKING_OFF else None,
            restarts=self.restarts,
            log_path=str(self.log_path) if self.log_path else None,
            pid=record.pid if record is not None else None,
            pid_created=record.created if record is not None else None,
            process_ref=record.ref if record is not None else None,
        )


@dataclass(eq=False)
class RunState:
    id: int
    workflow: WorkflowConfig
    trigger: Trigger
    params: dict[str, Value]
    started_at: float
    folder: Path
    steps: dict[str, StepState]
    status: WorkflowStatus = WorkflowStatus.RUNNING
    message: str = ""
    ended_at: float | None = None
    stop_reason: WorkflowStatus | None = None  # STOPPED (asked) or INTERRUPTED (the dashboard stops)
    wake: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    heartbeat: Heartbeat = field(default_factory=Heartbeat)
    outbox: Outbox = field(default_factory=Outbox)  # its writes, kept while the store refuses them
    left: bool = False  # left to its Ray jobs at a stop of the dashboard (ray_resume): its driver walks away

    @property
    def graph(self) -> dict[str, list[str]]:
        return {s.name: s.depends_on for s in self.workflow.steps}


def live_run(run: RunState, now: float, tails: bool = False) -> WorkflowRunInfo:
    """What a run looks like now, from memory (call with the guard held): CPU % and
    RSS of each running step's tree, and with ``tails`` each step's newest output."""
    steps = []
    for step in run.steps.values():
        cpu = rss = None
        if step.status is StepStatus.RUNNING and step.proc is not None:
            cpu, rss = step.proc.usage()
        end = step.ended_at if step.ended_at is not None else now
        tail = None
        if tails:
            if step.log is not None:
                tail = step.log.tail(LOG_TAIL_BYTES)
            else:
                tail = read_tail(step.log_path, LOG_TAIL_BYTES) if step.log_path else LogTail()
        steps.append(
            StepInfo(
                name=step.name,
                status=step.status,
                depends_on=step.config.depends_on,
                message=step.message,
                exit_code=step.exit_code,
                started_at=from_epoch(step.started_at),
                ended_at=from_epoch(step.ended_at),
                duration_seconds=max(0.0, end - step.started_at) if step.started_at is not None else None,
                restarts=step.restarts,
                next_restart_at=from_epoch(step.next_restart_at),
                cpu_percent=cpu,
                rss=rss,
                log_path=str(step.log_path) if step.log_path else None,
                log_tail=tail.text if tail is not None else None,
                log_tail_cut=tail.earlier if tail is not None else None,
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
        started_at=datetime.fromtimestamp(run.started_at, UTC),
        ended_at=from_epoch(run.ended_at),
        duration_seconds=max(0.0, end - run.started_at),
        steps=steps,
    )
