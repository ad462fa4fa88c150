"""What every group of API routes shares: the Runtime dependency and error bodies."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import Response

from dashboard_core.app.caller import Caller
from dashboard_core.auth.middleware import PRINCIPAL
from dashboard_core.auth.principals import OPEN, Principal
from dashboard_core.metrics.export import frame_to_csv
from dashboard_core.metrics.windows import Window, WindowError, resolve_window
from dashboard_core.models import ErrorResponse
from dashboard_core.runtime import Runtime

if TYPE_CHECKING:  # the API is built at start-up; pandas loads with the first CSV
    import pandas as pd

# FastAPI's ``responses=``: extra documented answers by status code.
Responses = dict[int | str, dict[str, object]]
ERRORS: Responses = {
    400: {"model": ErrorResponse, "description": "Bad input"},
    503: {"model": ErrorResponse, "description": "The dashboard is still starting"},
}


def _runtime(request: Request) -> Runtime:
    get_runtime: Callable[[], Runtime | None] = request.app.state.get_runtime  # set by create_api
    rt = get_runtime()
    if rt is None:
        raise HTTPException(503, "The dashboard runtime is not running yet; retry in a moment.")
    return rt


RuntimeDep = Annotated[Runtime, Depends(_runtime)]


def principal_of(request: Request) -> Principal:
    """Who asks: set by the auth middleware; the open principal when none is configured."""
    principal: Principal = request.scope.get(PRINCIPAL, OPEN)
    return principal


def client_of(request: Request) -> str:
    return request.client.host if request.client else "?"


def caller_of(request: Request) -> Caller:
    """Who asks and from where, for the application layer (which checks roles and audits)."""
    return Caller(principal_of(request), client_of(request))


Viewer = Annotated[Principal, Depends(principal_of)]
CallerDep = Annotated[Caller, Depends(caller_of)]
FORBIDDEN: Responses = {
    401: {"model": ErrorResponse, "description": "Not logged in (authentication is configured)"},
    403: {"model": ErrorResponse, "description": "The role may not do this"},
}


# What the server's middleware (dashboard_core.auth.middleware) answers before a
# route runs; the liveness probe /health skips authentication.
_MIDDLEWARE: dict[str, str] = {
    "400": "Bad input, or a Host header the server does not serve (server.allowedHosts)",
    "401": "Not logged in and no API token (when users or tokens are configured)",
    "403": "The role may not do this, or an agent token outside its heartbeat",
}
_TOO_LARGE = "The body is larger than auth.max_body_bytes"
_PUBLIC = {"/health"}


def document_error_bodies(api: FastAPI) -> None:
    """Make the OpenAPI document say what the exception handlers guarantee: every
    4xx and 5xx body is an :class:`ErrorResponse`. Without this FastAPI documents a
    422 as its own ``HTTPValidationError`` (``detail``), which the API never sends,
    and an error declared without a model as an untyped body. Also lists what the
    middleware in front answers (host check, 401, 403, 413 for a large body)."""
    build = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is not None:
            return api.openapi_schema
        doc = build()  # cached by FastAPI in api.openapi_schema; completed here in place
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        schemas.setdefault(
            "ErrorResponse", ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
        )
        for path, operations in doc.get("paths", {}).items():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for code, description in _MIDDLEWARE.items():
                    if code == "400" or path not in _PUBLIC:
                        responses.setdefault(code, {"description": description})
                if "requestBody" in operation:
                    responses.setdefault("413", {"description": _TOO_LARGE})
                for code, response in responses.items():
                    if code[:1] in ("4", "5"):
                        response["content"] = {
                            "application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}
                        }
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        _integer_bounds(doc)
        return doc

    api.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the document


_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")


def _integer_bounds(node: Any) -> None:
    """Write whole-number bounds as integers again. FastAPI's OpenAPI models type
    them as floats, so the request bodies' ``le=2**62`` read 4.611686018427388e+18,
    and a client comparing as floats took 2**62 + 95 for a valid id (the API says
    422). Exact for the bounds the models use (small numbers and 2**62)."""
    if isinstance(node, dict):
        for key in _BOUNDS if "type" in node else ():  # a schema, not an example
            value = node.get(key)
            if isinstance(value, float) and value.is_integer():
                node[key] = int(value)
        for child in node.values():
            _integer_bounds(child)
    elif isinstance(node, list):
        for child in node:
            _integer_bounds(child)


def not_found(what: str) -> Responses:
    return {404: {"model": ErrorResponse, "description": what}}


def download(body: bytes, media_type: str, filename: str, headers: dict[str, str] | None = None) -> Response:
    """A response the browser saves as ``filename``."""
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', **(headers or {})}
    return Response(body, media_type=media_type, headers=headers)


def csv_download(frame: pd.DataFrame, filename: str, headers: dict[str, str] | None = None) -> Response:
    """A metric frame as a CSV file, its row count in ``X-Rows``."""
    headers = {"X-Rows": str(len(frame)), **(headers or {})}
    return download(frame_to_csv(frame), "text/csv; charset=utf-8", filename, headers)


def _query_window(
    window: Annotated[str | None, Query(description="A span ending now (or at end): 5m, 15m, 1h, 6h, 24h, 7d")] = None,
    start: Annotated[str | None, Query(description="ISO 8601 start (UTC if no offset)")] = None,
    end: Annotated[str | None, Query(description="ISO 8601 end (UTC if no offset); default now")] = None,
) -> Window:
    """The span a request asks for (a CSV export, the marks): ``window``, or ``start``/``end``; the last 15 minutes if neither.
    An empty value (``?start=``, as a form with a blank field sends it) counts as not given."""
    window, start, end = window or None, start or None, end or None
    try:
        return resolve_window(window if (window or start) else "15m", start, end)
    except WindowError as exc:
        raise HTTPException(400, str(exc)) from None


QueryWindow = Annotated[Window, Depends(_query_window)]
