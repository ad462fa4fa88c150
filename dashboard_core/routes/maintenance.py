"""Maintenance windows: each with the occurrence in force now and the next one."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from dashboard_core.models.maintenance import MaintenanceWindow
from dashboard_core.routes.common import ERRORS, RuntimeDep
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
