"""Workflows and services: runs, steps, parameters, requests and answers of the API."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dashboard_core.models.testing import Trigger


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STOPPED = "stopped"
    SKIPPED = "skipped"  # never ran: a step it needs failed, or the run was stopped first
    INTERRUPTED = "interrupted"  # the dashboard stopped while it ran
    BACKING_OFF = "backing off"  # a service waiting to be restarted

    @property
    def finished(self) -> bool:
        return self not in (StepStatus.PENDING, StepStatus.RUNNING, StepStatus.BACKING_OFF)


class WorkflowStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STOPPED = "stopped"
    INTERRUPTED = "interrupted"

    @property
    def finished(self) -> bool:
        return self is not WorkflowStatus.RUNNING


class StepInfo(BaseModel):
    name: str
    status: StepStatus
    depends_on: list[str] = Field(default_factory=list)
    message: str = Field("", description="What happened, in words.")
    exit_code: int | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_seconds: float | None = None
    restarts: int = Field(0, description="Services: restarts so far in a row.")
    next_restart_at: datetime | None = Field(None, description="Services backing off: when the next start is due.")
    cpu_percent: float | None = Field(None, description="Running: CPU of its process tree, % of one core.")
    rss: int | None = Field(None, description="Running: resident memory of its process tree, bytes.")
    log_path: str | None = None
    log_tail: str | None = Field(
        None, description="The newest whole lines of output, of a service's current attempt (in a run's detail only)."
    )
    log_tail_cut: bool | None = Field(
        None, description="Earlier output is not in log_tail (cut to size, or earlier attempts): the whole log has it."
    )


class WorkflowRunInfo(BaseModel):
    id: int
    workflow: str
    trigger: Trigger
    params: dict[str, str | int | float | bool] = Field(default_factory=dict)
    status: WorkflowStatus
    message: str = ""
    started_at: datetime
    ended_at: datetime | None = None
    duration_seconds: float | None = None
    steps: list[StepInfo] = Field(default_factory=list)


class ParamInfo(BaseModel):
    name: str
    type: Literal["str", "int", "float", "bool"]
    default: str | int | float | bool | None = None
    choices: list[str | int | float] | None = None
    min: float | None = Field(None, description="int and float: the smallest value allowed.")
    max: float | None = Field(None, description="int and float: the largest value allowed.")
    required: bool = False
    description: str = ""


class WorkflowInfo(BaseModel):
    name: str
    description: str
    service: bool
    concurrent: bool
    params: list[ParamInfo]
    steps: list[StepInfo] = Field(description="The steps as configured (status pending), with depends_on.")
    restart: Literal["never", "on-failure", "always"] | None = Field(None, description="Services: the restart policy.")
    autostart: bool = False
    active_runs: list[WorkflowRunInfo] = Field(default_factory=list)
    last_run: WorkflowRunInfo | None = Field(None, description="The newest finished run, if any.")


class WorkflowList(BaseModel):
    workflows: list[WorkflowInfo]
    active: list[WorkflowRunInfo] = Field(description="Runs going on now, oldest first.")


class WorkflowStartRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workflow: str = Field(min_length=1, max_length=200, description="A workflow's name from dashboard.toml.")
    params: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict, max_length=100, description="Parameter values; checked against their declared types."
    )


class WorkflowStartResponse(BaseModel):
    success: Literal[True] = True
    run_id: str
    status: WorkflowStatus
    message: str
