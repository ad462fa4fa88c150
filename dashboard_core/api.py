"""The REST API, mounted at ``/api`` next to the UI: one router per area (``routes/``),
thin handlers over the application layer and the Runtime.

Every error body is an :class:`ErrorResponse` (``success: false`` and a
sentence). Docs at ``/api/docs`` (Swagger UI) and ``/api/redoc`` use assets shipped
in a package and fetch nothing from outside (``api_docs.py``), so they work on a
closed network; the operations are grouped by area (one OpenAPI tag each, ``routes/tags.py``).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match

from dashboard_core import NAME, __version__
from dashboard_core.api_docs import SWAGGER_PARAMETERS, add_redoc
from dashboard_core.app.caller import Refusal, as_refusal
from dashboard_core.models import ErrorResponse
from dashboard_core.routes import annotations as annotation_routes  # the name `annotations` is __future__'s
from dashboard_core.routes import dashboard, events, health, live, metrics, prometheus, testing, timeline, workflows
from dashboard_core.routes import maintenance as maintenance_routes
from dashboard_core.routes import prom_rules as prom_rules_routes
from dashboard_core.routes import quarantine as quarantine_routes
from dashboard_core.routes import ray as ray_routes
from dashboard_core.routes import silences as silence_routes
from dashboard_core.routes import test_cases as test_case_routes
from dashboard_core.routes.common import document_error_bodies
from dashboard_core.routes.tags import DESCRIPTIONS, OPENAPI_TAGS
from dashboard_core.runtime import Runtime
from dashboard_core.store import StoreError
from dashboard_core.testing.manager import SuiteError
from dashboard_core.workflows.supervisor import WorkflowError

RuntimeGetter = Callable[[], Runtime | None]
ROUTERS = (
    dashboard,
    metrics,
    live,
    testing,
    health,
    events,
    timeline,
    annotation_routes,
    workflows,
    prometheus,
    quarantine_routes,
    test_case_routes,  # a page of a run's cases
    prom_rules_routes,  # the metric rules as a Prometheus rules file
    silence_routes,  # silences and acknowledgements
    maintenance_routes,
    ray_routes,  # the Ray cluster
)
DESCRIPTION = "Everything the dashboard shows and does, for scripts and other programs, by area:\n\n" + "\n".join(
    f"- **{tag.value}**: {text}" for tag, text in DESCRIPTIONS.items()
)


def flat_routes(app: FastAPI | APIRouter) -> list[BaseRoute]:
    """Every route of the app, those of its routers too: FastAPI 0.165 keeps an included
    router as one route of its own (none here has a prefix, so the paths are as written)."""
    found: list[BaseRoute] = []
    for route in app.routes:
        inner = getattr(route, "original_router", None)
        found.extend(flat_routes(inner) if isinstance(inner, APIRouter) else [route])
    return found


def allowed_methods(app: FastAPI, request: Request) -> str:
    """Every method the request's path answers, for a 405's ``Allow``: Starlette names only
    the first route's, and a path may have several (``GET`` and ``POST /api/annotations``)."""
    methods: set[str] = set()
    for route in flat_routes(app):
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return ", ".join(sorted(methods))


def create_api(get_runtime: RuntimeGetter) -> FastAPI:
    api = FastAPIOffline(
        title=f"{NAME} API",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=OPENAPI_TAGS,
        redoc_url=None,  # add_redoc: the same page without a logo from a CDN
        swagger_ui_parameters=SWAGGER_PARAMETERS,
    )
    add_redoc(api)
    api.state.get_runtime = get_runtime

    @api.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        body = ErrorResponse(message=str(exc.detail))
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": allowed_methods(api, request)}
        return JSONResponse(body.model_dump(), status_code=exc.status_code, headers=headers)

    @api.exception_handler(Refusal)
    async def _refused(_request: Request, exc: Refusal) -> JSONResponse:
        """The application layer's one refusal: its status, its sentence, its lines."""
        return JSONResponse(ErrorResponse(message=exc.message, errors=exc.errors).model_dump(), status_code=exc.status)

    @api.exception_handler(SuiteError)
    @api.exception_handler(WorkflowError)
    @api.exception_handler(StoreError)
    async def _domain(request: Request, exc: Exception) -> JSONResponse:
        """A read the domain refuses (an unknown run, a full store): the Refusal it stands for."""
        refusal = as_refusal(exc)
        if refusal is None:
            raise exc
        return await _refused(request, refusal)

    @api.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        body = ErrorResponse(message="The request is not valid.", errors=errors)
        return JSONResponse(body.model_dump(), status_code=422)

    for module in ROUTERS:
        api.include_router(module.router)
    document_error_bodies(api)
    return api
