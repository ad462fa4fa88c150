"""The API itself and the dashboard at a glance: the endpoint list, the liveness probe, the overview."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request

from dashboard_core import NAME, __version__
from dashboard_core.app import queries
from dashboard_core.models import ApiInfo, EndpointInfo, HealthResponse, Overview
from dashboard_core.routes.common import ERRORS, CallerDep, RuntimeDep
from dashboard_core.routes.tags import Tag

router = APIRouter(tags=[Tag.DASHBOARD])


@router.get("/", response_model=ApiInfo, summary="API name, version and endpoints")
def info(request: Request) -> ApiInfo:
    root = request.scope.get("root_path", "")
    paths = request.app.openapi()["paths"]  # the documented operations, in the routers' order
    endpoints = [
        EndpointInfo(method=method.upper(), path=f"{root}{path}", summary=operation.get("summary") or "")
        for path, operations in paths.items()
        for method, operation in sorted(operations.items())
    ]
    return ApiInfo(name=f"{NAME} API", version=__version__, docs=f"{root}/docs", endpoints=endpoints)


@router.get("/health", response_model=HealthResponse, summary="Is the dashboard up and sampling?")
async def health(request: Request) -> HealthResponse:
    """On the event loop, not in the thread pool: it only reads flags, and a
    thread handoff under busy page threads (the GIL) made it wait ~100 ms."""
    rt = request.app.state.get_runtime()
    now = datetime.now(UTC)
    if rt is None:
        return HealthResponse(success=False, message="starting: the runtime is not running yet", timestamp=now)
    if not rt.sampler.alive:
        return HealthResponse(success=False, message="degraded: the metric sampler is not running", timestamp=now)
    problems = []
    failing = rt.sampler.status.failing_sources
    if failing:
        problems.append(f"these metric sources fail: {', '.join(sorted(failing))}")
    store = rt.store.write_failure
    if store is not None:  # the reason only: this probe is open to anyone, so no path
        problems.append(f"the store cannot be written ({store.reason}), new records are not saved")
    message = "ok, but " + "; ".join(problems) if problems else "ok"
    return HealthResponse(success=True, message=message, timestamp=now)


@router.get(
    "/dashboard/overview",
    response_model=Overview,
    responses=ERRORS,
    summary="Components, agents, safety, test suites, host and the last events, at a glance",
)
def overview(rt: RuntimeDep, caller: CallerDep) -> Overview:
    return queries.overview(rt, caller)
