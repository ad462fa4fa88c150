"""Maintenance windows: each with the occurrence in force now and the next one; one-off
windows planned and removed by operators."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response

from dashboard_core.app.maintenance_actions import end_window, plan_window
from dashboard_core.models import ErrorResponse
from dashboard_core.models.maintenance import MaintenanceRequest, MaintenanceWindow
from dashboard_core.routes.common import ERRORS, FORBIDDEN, CallerDep, RuntimeDep, not_found
from dashboard_core.routes.tags import Tag

router = APIRouter()


@router.get(
    "/maintenance",
    tags=[Tag.SAFETY],
    response_model=list[MaintenanceWindow],
    responses=ERRORS,
    summary="Maintenance windows from the config: what each covers, the one in force now and the next",
)
def maintenance(rt: RuntimeDep) -> list[MaintenanceWindow]:
    return rt.health.maintenance.views(datetime.now(UTC))


@router.post(
    "/maintenance",
    tags=[Tag.SAFETY],
    response_model=MaintenanceWindow,
    status_code=201,
    responses={
        **ERRORS,
        **FORBIDDEN,
        409: {"model": ErrorResponse, "description": "A window by that name exists"},
        422: {"model": ErrorResponse, "description": "A bad window: unknown names, an end before its start or now"},
    },
    summary="Plan a one-off maintenance window (operators; audited; kept across restarts)",
)
def plan(rt: RuntimeDep, body: MaintenanceRequest, caller: CallerDep) -> MaintenanceWindow:
    return plan_window(rt, caller, body)


@router.delete(
    "/maintenance/{name}",
    tags=[Tag.SAFETY],
    status_code=204,
    responses={
        **ERRORS,
        **FORBIDDEN,
        **not_found("No window by that name was planned over the API"),
        409: {"model": ErrorResponse, "description": "The window is in dashboard.toml, or over already"},
    },
    summary="Remove a maintenance window planned over the API that has not begun, or end one in force now "
    "(what it covered stays out of uptime; operators; audited)",
)
def remove(rt: RuntimeDep, name: Annotated[str, Path(max_length=64)], caller: CallerDep) -> Response:
    end_window(rt, caller, name)
    return Response(status_code=204)
