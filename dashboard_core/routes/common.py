"""What every group of API routes shares: the Runtime dependency and error bodies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.responses import Response

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


RuntimeDep = Annotated[Runtime, Depends(_runtime)]


def not_found(what: str) -> dict[int | str, dict[str, object]]:
    return {404: {"model": ErrorResponse, "description": what}}


def download(body: bytes, media_type: str, filename: str) -> Response:
    """A response the browser saves as ``filename``."""
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
