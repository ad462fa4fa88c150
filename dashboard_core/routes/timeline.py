"""The time axis over HTTP: the marks (runs, restarts, alerts, state changes,
annotations) that overlap a window, for any chart to draw."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from dashboard_core.routes.common import ERRORS, QueryWindow, RuntimeDep, Viewer
from dashboard_core.routes.tags import Tag
from dashboard_core.timeline.marks import MarkKind, MarkPage, marks_between

router = APIRouter(tags=[Tag.EVENTS])


@router.get(
    "/timeline/marks",
    response_model=MarkPage,
    responses=ERRORS,
    summary="What happened in a window (runs, restarts, alerts, state changes, annotations), oldest first",
)
def marks(
    rt: RuntimeDep,
    _who: Viewer,
    window: QueryWindow,
    kind: Annotated[list[MarkKind] | None, Query(description="Only these kinds (all when left out)")] = None,
) -> MarkPage:
    return marks_between(rt.store, window.start, window.end, kind, datetime.now(UTC))
