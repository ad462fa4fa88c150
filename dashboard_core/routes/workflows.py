"""Workflow routes: list, start (with parameters), stop, restart, a run with its
steps and log tails, history, and each step's log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import FileResponse

from dashboard_core.app import actions
from dashboard_core.app.run_story import workflow_run_story
from dashboard_core.models import (
    ErrorResponse,
    Trigger,
    WorkflowList,
    WorkflowRunInfo,
    WorkflowStartRequest,
    WorkflowStartResponse,
)
from dashboard_core.models.resources import RunResources
from dashboard_core.routes.common import ERRORS, FORBIDDEN, CallerDep, Responses, RuntimeDep, not_found
from dashboard_core.routes.tags import Tag

WorkflowRunId = Annotated[int, Path(ge=1, le=2**62, description="A workflow run's id")]
StepName = Annotated[str, Path(max_length=200, description="A step's name")]
_NOT_FOUND = not_found("No such workflow, run or step")
_CONFLICT: Responses = {
    409: {"model": ErrorResponse, "description": "Already running (and not concurrent), or not running any more"}
}
_BAD_PARAMS: Responses = {422: {"model": ErrorResponse, "description": "A bad body or parameter; errors name each"}}


router = APIRouter(tags=[Tag.WORKFLOWS])


@router.get(
    "/dashboard/workflows",
    response_model=WorkflowList,
    responses=ERRORS,
    summary="Workflows as configured (parameters, steps) and the runs going on now",
)
def workflows(rt: RuntimeDep) -> WorkflowList:
    return rt.workflows.workflows()


@router.post(
    "/dashboard/workflows/start",
    response_model=WorkflowStartResponse,
    responses={**ERRORS, **FORBIDDEN, **_NOT_FOUND, **_CONFLICT, **_BAD_PARAMS},
    summary="Start a workflow with parameters",
)
def start(rt: RuntimeDep, body: WorkflowStartRequest, caller: CallerDep) -> WorkflowStartResponse:
    run = actions.start_workflow(rt, caller, body.workflow, body.params, Trigger.API)
    return WorkflowStartResponse(
        run_id=str(run.id), status=run.status, message=f"Run {run.id} of {run.workflow!r} started."
    )


@router.post(
    "/dashboard/workflows/{run_id}/stop",
    response_model=WorkflowRunInfo,
    responses={**ERRORS, **FORBIDDEN, **_NOT_FOUND, **_CONFLICT},
    summary="Stop a run: SIGTERM to each running step's process group, SIGKILL after the grace period",
)
def stop(rt: RuntimeDep, run_id: WorkflowRunId, caller: CallerDep) -> WorkflowRunInfo:
    return actions.stop_workflow(rt, caller, run_id)


@router.post(
    "/dashboard/workflows/{run_id}/restart",
    response_model=WorkflowRunInfo,
    responses={**ERRORS, **FORBIDDEN, **_NOT_FOUND, **_CONFLICT},
    summary="Stop a run (if it still runs) and start the workflow again with the same parameters",
)
def restart(rt: RuntimeDep, run_id: WorkflowRunId, caller: CallerDep) -> WorkflowRunInfo:
    return actions.restart_workflow(rt, caller, run_id, Trigger.API)


@router.get(
    "/workflows/runs",
    response_model=list[WorkflowRunInfo],
    responses={**ERRORS, **not_found("No such workflow")},
    summary="Workflow runs, newest first",
)
def runs(
    rt: RuntimeDep,
    workflow: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> list[WorkflowRunInfo]:
    return rt.workflows.runs(workflow=workflow, limit=limit, offset=offset)[1]


@router.get(
    "/workflows/runs/{run_id}",
    response_model=WorkflowRunInfo,
    responses={**ERRORS, **_NOT_FOUND},
    summary="One run with its steps (status, exit code, times, CPU and memory) and their log tails",
)
def run(rt: RuntimeDep, run_id: WorkflowRunId) -> WorkflowRunInfo:
    return rt.workflows.detail(run_id)


@router.get(
    "/workflows/runs/{run_id}/steps/{step}/log",
    response_class=FileResponse,
    responses={**ERRORS, **_NOT_FOUND, 200: {"content": {"text/plain": {}}}},
    summary="A step's whole log (capped: head and tail)",
)
def step_log(rt: RuntimeDep, run_id: WorkflowRunId, step: StepName) -> FileResponse:
    path = rt.workflows.step_log(run_id, step)
    name = f"{rt.workflows.run(run_id).workflow}_run-{run_id}_{step}.log"
    return FileResponse(path, media_type="text/plain; charset=utf-8", filename=name)


@router.get(
    "/workflows/runs/{run_id}/resources",
    response_model=RunResources,
    responses={**ERRORS, **_NOT_FOUND},
    summary="The run's steps' process trees over time (CPU, memory) and the host's CPU and memory meanwhile",
)
def run_resources(rt: RuntimeDep, run_id: WorkflowRunId) -> RunResources:
    return workflow_run_story(rt, run_id)
