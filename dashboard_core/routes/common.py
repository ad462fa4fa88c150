"""What every group of API routes shares: the Runtime dependency and error bodies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.responses import Response

from dashboard_core.auth.middleware import PRINCIPAL
from dashboard_core.auth.principals import OPEN, Principal
from dashboard_core.models import ErrorResponse
from dashboard_core.runtime import Runtime

ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorResponse, "description": "Bad input"},
    503: {"model": ErrorResponse, "description": "The dashboard is still starting"},
}


def _runtime(request: Request) -> Runtime:
    rt = request.app.state.get_runtime()
    if rt is None:
        raise HTTPException(503, "The dashboard runtime is not running yet; retry in a moment.")
    return rt


RuntimeDep = Annotated[Runtime, Depends(_runtime)]


def principal_of(request: Request) -> Principal:
    """Who asks: set by the auth middleware; the open principal when none is configured."""
    return request.scope.get(PRINCIPAL, OPEN)


def _require(role: str) -> Callable[[Request], Principal]:
    def check(request: Request) -> Principal:
        who = principal_of(request)
        if not who.can(role):
            raise HTTPException(403, f"{who.label} may not do this: it needs the {role} role or above.")
        return who

    return check


def client_of(request: Request) -> str:
    return request.client.host if request.client else "?"


Viewer = Annotated[Principal, Depends(principal_of)]
Operator = Annotated[Principal, Depends(_require("operator"))]
Admin = Annotated[Principal, Depends(_require("admin"))]
FORBIDDEN: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorResponse, "description": "Not logged in (authentication is configured)"},
    403: {"model": ErrorResponse, "description": "The role may not do this"},
}


def not_found(what: str) -> dict[int | str, dict[str, object]]:
    return {404: {"model": ErrorResponse, "description": what}}


def download(body: bytes, media_type: str, filename: str) -> Response:
    """A response the browser saves as ``filename``."""
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
