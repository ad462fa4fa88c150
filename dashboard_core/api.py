"""The REST API, mounted at ``/api`` next to the UI: thin handlers over the Runtime.

Every error body is an :class:`ErrorResponse` (``success: false`` and a
sentence). Docs at ``/api/docs`` use Swagger assets shipped in a package, so
they work on a closed network.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException

from dashboard_core import NAME, __version__
from dashboard_core.metrics.export import csv_filename
from dashboard_core.models import (
    ApiInfo,
    EndpointInfo,
    ErrorResponse,
    FieldInfo,
    HealthResponse,
    LatestSample,
    Overview,
    ProcessInfo,
)
from dashboard_core.routes import events as events_routes
from dashboard_core.routes import health as health_routes
from dashboard_core.routes import prometheus as prometheus_routes
from dashboard_core.routes import testing as testing_routes
from dashboard_core.routes import workflows as workflows_routes
from dashboard_core.routes.common import ERRORS as _ERRORS
from dashboard_core.routes.common import CsvWindow, RuntimeDep, Viewer, csv_download, document_error_bodies
from dashboard_core.runtime import Runtime
from dashboard_core.store import StoreError
from dashboard_core.testing.manager import SuiteError
from dashboard_core.workflows.supervisor import WorkflowError

RuntimeGetter = Callable[[], Runtime | None]

HISTORY_CSV = "/metrics/history.csv"


def history_csv_link(start: datetime, end: datetime) -> str:
    """A page-relative link to the CSV of a window, for an ``<a download>``:
    the server streams the file, so no copy is held per browser session."""
    query = urlencode({"start": _iso(start), "end": _iso(end)})
    return f"api{HISTORY_CSV}?{query}"


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def create_api(get_runtime: RuntimeGetter) -> FastAPI:
    api = FastAPIOffline(
        title=f"{NAME} API",
        version=__version__,
        description="Host metrics, history export and the dashboard's own health.",
    )

    api.state.get_runtime = get_runtime

    @api.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        body = ErrorResponse(message=str(exc.detail))
        return JSONResponse(body.model_dump(), status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @api.exception_handler(SuiteError)
    @api.exception_handler(WorkflowError)
    async def _refused(_request: Request, exc: SuiteError | WorkflowError) -> JSONResponse:
        """The manager's and supervisor's refusals carry their status and sentence (and lines)."""
        body = ErrorResponse(message=str(exc), errors=list(getattr(exc, "errors", []) or []))
        return JSONResponse(body.model_dump(), status_code=exc.http_status)

    @api.exception_handler(StoreError)
    async def _store_failed(_request: Request, exc: StoreError) -> JSONResponse:
        """The store cannot take a write (a full disk): 503 with why, not a bare 500."""
        message = f"The dashboard cannot save this: {exc}. What it already holds is kept; retry once it can write."
        return JSONResponse(ErrorResponse(message=message).model_dump(), status_code=503)

    @api.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        body = ErrorResponse(message="The request is not valid.", errors=errors)
        return JSONResponse(body.model_dump(), status_code=422)

    @api.get("/", response_model=ApiInfo, summary="API name, version and endpoints")
    def info(request: Request) -> ApiInfo:
        root = request.scope.get("root_path", "")
        endpoints = [
            EndpointInfo(method=m, path=f"{root}{route.path}", summary=route.summary or "")
            for route in api.routes
            if getattr(route, "include_in_schema", False)
            for m in sorted(getattr(route, "methods", []) or [])
        ]
        return ApiInfo(name=f"{NAME} API", version=__version__, docs=f"{root}/docs", endpoints=endpoints)

    @api.get("/health", response_model=HealthResponse, summary="Is the dashboard up and sampling?")
    async def health() -> HealthResponse:
        """On the event loop, not in the thread pool: it only reads flags, and a
        thread handoff under busy page threads (the GIL) made it wait ~100 ms."""
        rt = get_runtime()
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

    @api.get(
        "/dashboard/overview",
        response_model=Overview,
        responses=_ERRORS,
        summary="Components, agents, safety, test suites, host and the last events, at a glance",
    )
    def overview(rt: RuntimeDep, who: Viewer) -> Overview:
        return rt.overview(who)

    @api.get(
        "/metrics/fields",
        response_model=list[FieldInfo],
        responses=_ERRORS,
        summary="Every metric: name, unit, meaning, gauge or rate",
    )
    def fields(rt: RuntimeDep) -> list[FieldInfo]:
        return [
            FieldInfo(name=f.name, unit=f.unit, description=f.description, kind=f.kind, label=f.label)
            for f in rt.fields
        ]

    @api.get(
        "/metrics/latest",
        response_model=LatestSample,
        responses={**_ERRORS, 404: {"model": ErrorResponse, "description": "No sample yet"}},
        summary="The newest sample",
    )
    def latest(rt: RuntimeDep) -> LatestSample:
        sample = rt.latest()
        if sample is None:
            raise HTTPException(404, "No sample has been taken yet; retry in a second.")
        return sample

    @api.get(
        HISTORY_CSV,
        response_class=Response,
        responses={
            **_ERRORS,
            200: {
                "content": {"text/csv": {}},
                "description": "ISO 8601 UTC timestamps, one column per metric. The X-Resolution header says what "
                "the rows are: `full` (every sample) or a tier of the store (`10s`, `1m`: timestamps are bucket "
                "starts, values means, then `column:min` and `column:max` columns when the tier keeps them).",
            },
            413: {"model": ErrorResponse, "description": "The window holds more rows than csv_max_rows"},
        },
        summary="Metric history as CSV",
    )
    def history_csv(rt: RuntimeDep, win: CsvWindow) -> Response:
        read = rt.read_history(win, extremes=True)
        frame = read.csv_frame()
        limit = rt.config.api.csv_max_rows
        if len(frame) > limit:
            raise HTTPException(
                413, f"The window holds {len(frame):,} rows, more than csv_max_rows ({limit:,}); ask for a shorter one."
            )
        return csv_download(frame, csv_filename("metrics", win.start, win.end), {"X-Resolution": read.token})

    @api.get(
        "/metrics/processes",
        response_model=list[ProcessInfo],
        responses=_ERRORS,
        summary="Top processes by CPU or memory",
    )
    def processes(
        rt: RuntimeDep,
        by: Literal["cpu", "memory"] = "cpu",
        n: Annotated[int, Query(ge=1, le=500)] = 10,
    ) -> list[ProcessInfo]:
        return rt.top_processes(by, n)

    testing_routes.add(api)
    health_routes.add(api)
    events_routes.add(api)
    workflows_routes.add(api)
    prometheus_routes.add(api)
    document_error_bodies(api)
    return api
